#!/usr/bin/env bash
# Runs the crash-safety and concurrency suites (tests/crash/) on PostgreSQL and MariaDB
# with every kill point and both fault actions (INSTALLER_CRASH_FULL=1), collects the
# report line each kill point, concurrency run and wait test writes, and regenerates
# docs/reliability.md from it.
#
#   scripts/reliability.sh                 build, start throwaway servers, run, write the doc
#   scripts/reliability.sh --no-doc        the same, but only print where the report is
#
# Environment:
#   INSTALLER_TEST_PG_URL / INSTALLER_TEST_MARIADB_URL
#                                  use these servers instead of starting throwaway ones;
#                                  then the "PostgreSQL restarted mid-update" test is
#                                  skipped (it restarts only a server this script started)
#   INSTALLER_RELIABILITY_BUILD    build directory (default: build-reliability)
#   INSTALLER_CRASH_ROUNDS         rounds of each 16-installer run (default here: 5)
#
# Exit status: 0 when every test passed, 1 otherwise; the doc is written either way, and
# says what failed.
set -euo pipefail
self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")"

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

write_doc=1
for arg in "$@"; do
    case "$arg" in
    --no-doc) write_doc=0 ;;
    -h | --help)
        sed -n '2,19p' "$self" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        log "unknown argument: $arg (see --help)"
        exit 64
        ;;
    esac
done

t_start=$SECONDS
log "ensuring packages"
ensure_packages "${INSTALLER_PACKAGES[@]}" jq

build_dir="${INSTALLER_RELIABILITY_BUILD:-$ROOT/build-reliability}"
build_installer "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINSTALLER_WERROR=ON >/dev/null

work="$(mktemp -d /tmp/installer-reliability.XXXXXX)"
report="$work/report.jsonl"
: >"$report"

own_servers=0
if [[ -z "${INSTALLER_TEST_PG_URL:-}" || -z "${INSTALLER_TEST_MARIADB_URL:-}" ]]; then
    own_servers=1
    trap_stop_servers
    # Only start what the environment does not give.
    if [[ -z "${INSTALLER_TEST_PG_URL:-}" ]]; then
        unset PG_DIR
        start_postgres
        # This server is ours alone: the restart test may restart it.
        export INSTALLER_TEST_PG_RESTART_DIR="$PG_DIR"
    fi
    if [[ -z "${INSTALLER_TEST_MARIADB_URL:-}" ]]; then
        unset MARIADB_DIR
        start_mariadb
    fi
fi

export INSTALLER_RELIABILITY_REPORT="$report"
export INSTALLER_CRASH_FULL=1
export INSTALLER_CRASH_ROUNDS="${INSTALLER_CRASH_ROUNDS:-5}"

failed=0
declare -A suite_seconds suite_status
for engine in postgres mariadb; do
    log "crash-safety and concurrency suites on $engine (every kill point; this takes a few minutes)"
    t0=$SECONDS
    rc=0
    "$build_dir/installer_crash_tests" --engine="$engine" --duration=true >"$work/$engine.log" 2>&1 || rc=$?
    suite_seconds[$engine]=$((SECONDS - t0))
    suite_status[$engine]=$rc
    grep -E '^\[(postgres|mariadb)\]|^\[doctest\] (test cases|Status)' "$work/$engine.log" >&2 || true
    if [[ "$rc" -ne 0 ]]; then
        failed=1
        log "$engine: exit $rc; failing test cases:"
        awk '/^TEST CASE:/ { sub(/^TEST CASE: */, ""); tc = $0 } / ERROR: / && tc != "" { print tc }' \
            "$work/$engine.log" | sort -u >&2 || true
    fi
done

# The test cases with a failed assertion in a doctest console log (with --duration every
# test case gets a header, so the header alone says nothing).
failing_test_cases() {
    awk '/^TEST CASE:/ { sub(/^TEST CASE: */, ""); tc = $0 } / ERROR: / && tc != "" { print tc }' "$1" | sort -u
}

# --------------------------------------------------------------------- versions
pg_version() {
    if [[ -n "${INSTALLER_TEST_PG_URL:-}" ]] && command -v psql >/dev/null 2>&1; then
        psql "$INSTALLER_TEST_PG_URL" -Atc 'SHOW server_version' 2>/dev/null || true
    fi
}
mariadb_version() {
    local url="${INSTALLER_TEST_MARIADB_URL:-}" rest user pw hostport
    [[ -n "$url" ]] || return 0
    rest="${url#*://}"
    user="${rest%%:*}"
    rest="${rest#*:}"
    pw="${rest%%@*}"
    hostport="${rest#*@}"
    hostport="${hostport%%/*}"
    MYSQL_PWD="$pw" mariadb --no-defaults --protocol=TCP -h"${hostport%%:*}" -P"${hostport##*:}" -u"$user" \
        -N -e 'SELECT VERSION()' 2>/dev/null || true
}
pkg_version() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null || printf 'n/a'
}

# --------------------------------------------------------------------- the doc
count() { jq -s "$1" "$report"; }

kill_point_table() {
    # engine → rows: path | scenario | action | tried | recovered
    jq -rs --arg e "$1" '
      [ .[] | select(.kind == "kill-point" and .engine == $e) ]
      | group_by([.path, .scenario, .action])[]
      | "| \(.[0].path) | \(.[0].scenario) | \(.[0].action) | \(length) | \(map(select(.recovered)) | length) |"
    ' "$report"
}

kill_point_matrix() {
    # One row per kill point, one column per path and action: ✓ recovered, ✗ not.
    jq -rs --arg e "$1" '
      [ .[] | select(.kind == "kill-point" and .engine == $e) ] as $all
      | ($all | map("\(.path) \(.action)") | unique) as $cols
      | "| kill point | " + ($cols | join(" | ")) + " |",
        "| --- |" + ($cols | map(" :-: |") | join("")),
        ( $all | group_by([.phase, .step, .point])
          | sort_by(.[0].phase != "apply", .[0].step,
                    (.[0].point | if . == "before" then 0 elif . == "after" then 1000 elif . == "commit" then 1001
                                  elif startswith("undo=") then 2000 + (ltrimstr("undo=") | tonumber)
                                  else (ltrimstr("statement=") | tonumber) end))[]
          | . as $g
          | "| `\($g[0].phase):\($g[0].update):\($g[0].step):\($g[0].point)` | "
            + ($cols | map(. as $c | ($g | map(select("\(.path) \(.action)" == $c)))
                              | if length == 0 then "" elif all(.recovered) then "✓" else "✗" end)
                     | join(" | ")) + " |" )
    ' "$report"
}

other_faults() {
    jq -rs --arg e "$1" '
      {
        "reply-lost": "the server ran a statement of the update, its reply was lost (TCP proxy cut), for every statement",
        "commit-in-doubt": "COMMIT ran, its reply was lost: the journal says whether it went through",
        "session-killed": "pg_terminate_backend / KILL CONNECTION from outside during a slow statement",
        "session-lost-thrice": "the session lost on every pass: exit 69 after three passes, the next start recovers",
        "double-fault": "a second kill during the recovery of the first, then one plain start",
        "remove-update-killed": "--remove-update killed (SIGKILL) in a down statement; run again, or the next migrate",
        "journal-creation-cut": "the connection lost between the journal tables CREATE statements (first start)",
        "server-restart": "PostgreSQL restarted (pg_ctl restart -m fast) during an update"
      } as $describe
      | [ .[] | select(.engine == $e and $describe[.kind] != null) ]
      | group_by(.kind)[]
      | "| \($describe[.[0].kind]) | \(length) | \(map(select(.recovered)) | length) |"
    ' "$report"
}

if [[ "$write_doc" -eq 1 ]]; then
    doc="$ROOT/docs/reliability.md"
    installer_version="$("$build_dir/installer" --version 2>/dev/null || echo '?')"
    {
        echo "# Reliability: kill points, lost sessions, concurrency"
        echo
        echo "Generated by \`scripts/reliability.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); run it again to regenerate"
        echo "this page. It runs the suites of \`tests/crash/\` (also part of \`scripts/test.sh\`, as the ctest"
        echo "tests \`crash-postgres\` and \`crash-mariadb\`, with fewer session kills) against throwaway servers,"
        echo "with every kill point and both fault actions (\`INSTALLER_CRASH_FULL=1\`)."
        echo
        echo "## How each kill point is tried"
        echo
        echo "The real \`installer\` binary applies update 2.0 (four steps of two or three statements each, down"
        echo "scripts with \`IF EXISTS\`, on top of update 1.0) with \`INSTALLER_TEST_FAULT=PHASE:UPDATE:STEP:POINT:ACTION\`."
        echo "\`kill\` makes it SIGKILL itself there (the run must end with 137); \`kill-session\` makes the server"
        echo "kill its database session there (the run must reconnect and finish by itself: exit 0, or 70 when"
        echo "the update fails on purpose). Then the installer is started once more without the fault, and"
        echo "must exit as expected with a consistent journal (no attempt left \`applying\`/\`reverting\`, exactly"
        echo "one applied attempt per applied update with all its steps applied, no duplicate step rows) and"
        echo "the schema's fingerprint equal to the one before or after the update, with the object inventory"
        echo "to match. Nobody repairs anything in between: \"recovered\" means all of that held."
        echo
        echo "- **apply**: a fault while applying the valid update; the restart applies it (fingerprint after)."
        echo "- **revert**: update 2.0 gets a fifth step that fails on purpose; a fault while its committed steps"
        echo "  are reverted; the restart finishes the revert, tries the update again, and exits 70"
        echo "  (fingerprint before)."
        echo "- Paths: on PostgreSQL **non-atomic** (step 003 has \`transaction = false\`: \`CREATE INDEX"
        echo "  CONCURRENTLY\`, journaled statement by statement) and **atomic** (every step in the update's"
        echo "  transaction); on MariaDB **statement-by-statement** (every DDL commits by itself)."
        echo
        echo "## Summary"
        echo
        echo "| engine | kill points tried | recovered automatically | other faults tried | recovered | suite exit | suite time |"
        echo "| --- | --: | --: | --: | --: | --: | --: |"
        for engine in postgres mariadb; do
            tried="$(count "[.[] | select(.kind == \"kill-point\" and .engine == \"$engine\")] | length")"
            ok="$(count "[.[] | select(.kind == \"kill-point\" and .engine == \"$engine\" and .recovered)] | length")"
            otried="$(count "[.[] | select(.engine == \"$engine\" and (.kind | IN(\"reply-lost\", \"commit-in-doubt\", \"session-killed\", \"session-lost-thrice\", \"double-fault\", \"remove-update-killed\", \"journal-creation-cut\", \"server-restart\")))] | length")"
            ook="$(count "[.[] | select(.engine == \"$engine\" and .recovered and (.kind | IN(\"reply-lost\", \"commit-in-doubt\", \"session-killed\", \"session-lost-thrice\", \"double-fault\", \"remove-update-killed\", \"journal-creation-cut\", \"server-restart\")))] | length")"
            echo "| $engine | $tried | $ok | $otried | $ook | ${suite_status[$engine]} | ${suite_seconds[$engine]} s |"
        done
        echo
        not_recovered="$(jq -rs '.[] | select(.recovered == false or .ok == false)
            | "- \(.engine), \(.kind)"
              + (if .path then " (\(.path))" else "" end)
              + (if .phase then ": `\(.phase):\(.update):\(.step):\(.point):\(.action)`"
                 elif .exits then ": \(.exits)" elif .what then ": \(.what)" elif .first then ": \(.first), then \(.second)"
                 else "" end)
              + (if ((.failures // []) | length) > 0 then " (\(.failures | join("; ")))" else "" end)' "$report")"
        if [[ -z "$not_recovered" ]]; then
            echo "Every kill point and every other fault was recovered automatically."
        else
            echo "Not recovered automatically:"
            echo
            echo "$not_recovered"
        fi
        echo
        failing_cases=""
        for engine in postgres mariadb; do
            while IFS= read -r name; do
                [[ -n "$name" ]] && failing_cases+="- $engine: $name"$'\n'
            done < <(failing_test_cases "$work/$engine.log")
        done
        if [[ -n "$failing_cases" ]]; then
            echo "Test cases that failed (the logs are in the script's output directory):"
            echo
            printf '%s' "$failing_cases"
            echo
        fi
        for engine in postgres mariadb; do
            echo "## $engine"
            echo
            echo "### Kill points"
            echo
            echo "| path | scenario | action | tried | recovered |"
            echo "| --- | --- | --- | --: | --: |"
            kill_point_table "$engine"
            echo
            echo "Every kill point (✓ recovered automatically, ✗ not):"
            echo
            kill_point_matrix "$engine"
            echo
            echo "### Lost sessions, lost replies, second crashes"
            echo
            echo "| fault | tried | recovered |"
            echo "| --- | --: | --: |"
            other_faults "$engine"
            echo
            echo "### Concurrency"
            echo
            echo "| run | round | installers | exit codes | 1.0 applied by | 2.0 applied by | found nothing to do | waited for the lock | time |"
            echo "| --- | --: | --: | --- | --: | --: | --: | --: | --: |"
            jq -rs --arg e "$engine" '.[] | select(.engine == $e and .kind == "concurrency")
                | "| 16 at once | \(.round) | \(.processes) | \(.exits) | \(.applied_1_0_by) | \(.applied_2_0_by) | \(.nothing_to_do) | \(.waited_for_lock) | \(.ms) ms |"' "$report"
            jq -rs --arg e "$engine" '.[] | select(.engine == $e and .kind == "concurrency-create-database")
                | "| 16 at once, database missing (--db-admin-url) | \(.round) | \(.processes) | \(.exits) | | \(.applied_2_0_by) | | | |"' "$report"
            echo
            jq -rs --arg e "$engine" '.[] | select(.engine == $e and .kind == "lock-holder-killed")
                | "Lock holder killed (kill -9) during a 2 s statement while another installer waited with `--lock-timeout 120s`: the waiter took over after \(.takeover_ms) ms (the dead holder'"'"'s statement runs to its end on the server, which then drops the session and its lock), recovered the unfinished attempt and was done \(.done_ms) ms after the kill (exit \(.waiter_exit); fingerprint \(.fingerprint))."' "$report"
            echo
            echo "### Database not there yet"
            echo
            echo "| case | exit | time | \"waiting for the database\" lines |"
            echo "| --- | --: | --: | --: |"
            jq -rs --arg e "$engine" '.[] | select(.engine == $e and .kind == "wait")
                | "| \(.what) | \(.exit) | \(.ms) ms | \(.log_lines // "") |"' "$report"
            echo
        done
        echo "## What these tests do not cover"
        echo
        echo "- \`installer --remove-update\`: \`INSTALLER_TEST_FAULT\` is not wired into it (only \`migrate\` and \`run\`"
        echo "  pass the fault point to the engine), so it is killed from outside, during a slow down statement,"
        echo "  instead of at every point. Its revert is the code the \"revert\" kill points exercise."
        echo "- \`kill-session\` at \`commit\` kills the session before the COMMIT reaches the server, so that"
        echo "  commit never happens; a COMMIT that does go through with its reply lost is produced by a TCP"
        echo "  proxy (PostgreSQL, \"commit in doubt\" above)."
        echo "- A server restart is tried on PostgreSQL only, and only when this script started the server."
        echo "- A connection that silently stops carrying packets (no FIN or RST: a dropped NAT entry, a"
        echo "  partition) is not tried: the installer sets no read timeout or TCP keepalive of its own, so it"
        echo "  would wait for the operating system's keepalive (hours), holding the migration lock on the"
        echo "  server the whole time."
        echo "- MariaDB: InnoDB's instant ADD/DROP COLUMN keeps dropped columns hidden in the table, so a table"
        echo "  that goes through a few dozen apply/revert cycles of the same ADD COLUMN eventually refuses it"
        echo "  (\"Row size too large\", 1118) until it is rebuilt. The suite rebuilds its table between cases"
        echo "  (\`ALTER TABLE accounts FORCE\`); a crash-looping installer on a real database would not."
        echo
        echo "## Machine and versions"
        echo
        echo "- $installer_version, built $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- . ':!docs/reliability.md' 2>/dev/null || echo ' (with uncommitted changes)')"
        echo "- PostgreSQL server $(pg_version), libpq $(pkg_version libpq-dev)"
        echo "- MariaDB server $(mariadb_version), Connector/C $(pkg_version libmariadb-dev)"
        echo "- $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), $(uname -m)"
        echo "- $(nproc) CPU(s): $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM"
        echo "- compiler: $(c++ --version | head -n 1)"
        echo "- servers: $([[ "$own_servers" -eq 1 ]] && echo 'started by the script (scripts/lib.sh)' || echo 'given by the environment')"
        echo "- total time: $((SECONDS - t_start)) s"
    } >"$doc"
    log "wrote $doc"
fi

log "report lines: $report ($(wc -l <"$report") lines); logs: $work/{postgres,mariadb}.log"
if [[ "$failed" -ne 0 ]]; then
    log "FAILED: some tests failed ($((SECONDS - t_start)) s)"
    exit 1
fi
log "all crash-safety and concurrency tests passed ($((SECONDS - t_start)) s)"
