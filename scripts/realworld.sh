#!/usr/bin/env bash
# The installer against a real project's migration history, on a throwaway server.
#
#   scripts/realworld.sh SOURCE ENGINE [--layout L] [--name NAME] [--results FILE]
#                        [--repo OWNER/NAME] [--commit SHA] [--extensions EXT,...]
#
# SOURCE is a local copy of the project's migration folder for ENGINE (postgres|mariadb);
# scripts/realworld/convert.py turns it into installer updates (one update per migration, one
# step each, statements exactly as the project wrote them). --extensions (PostgreSQL): the
# extensions the project has the DBA create beforehand (CREATE EXTENSION on every fresh
# database, before anything else). Then, each on a fresh database:
#
#   expected            the reference schemas, built with the plain client: psql -1 -f FILE per
#                       up script (without -1 for steps outside a transaction); on MariaDB each
#                       file goes to the server as ONE multi-statement query, as Go/Java/Python
#                       migration tools send it (mariadb --delimiter=TOKEN, the token appended),
#                       so the server's own parser splits it. Its total time is the plain figure.
#   apply               installer migrate applies everything; its dump must equal the reference
#   remove-all          installer migrate --fingerprint-limit 0 (so that every update has its
#                       fingerprint), then installer --remove-update ID for every update, newest
#                       first; the first non-zero exit stops it (on 79 an outside dump tells
#                       whether the history's own down leaves something behind); at the end the
#                       dump must equal the empty database's
#   reapply             installer migrate on that database again; must equal the reference (when
#                       remove-all stopped at update K: on a fresh database, everything applied,
#                       updates K+1.. removed newest first and applied again)
#   fail-end-of-middle  the middle update's last step gets SELECT * FROM realworld_injected_failure;
#                       appended: exit 70, and the schema of the updates before it
#   fail-mid-step       the same statement inserted in the middle of a step with 3 or more
#                       statements (scripts/realworld/harness.py says which): exit 70, and the
#                       schema of the updates before it
#   sweep:MODE          a measurement, not a check (it does not count in the summary): where that
#                       step runs statement by statement (MariaDB; PostgreSQL transaction = false),
#                       the failure at up to REALWORLD_SWEEP (default 6) positions spread over it,
#                       with each way of reverting a partly applied step
#                       (INSTALLER_TEST_PARTIAL_REVERT=exact, tolerant-down, strict-down): how many
#                       positions end with exit 70 and the schema of the updates before it
#
# One line per check: PASS, FAIL, REFUSED (the installer refused the update files: exit 65),
# DOWN-INCOMPLETE (remove-all: the installer stopped with exit 79 at an update whose own down
# script leaves something behind, as an outside dump confirms), SERVER (the history does not
# run on this server: the plain client fails, and the installer fails, reverts and verifies at
# the same update) or SKIP (not applicable or not reachable), with figures or the reason; a failed comparison is followed by the
# first lines of the unified diff. Then a summary line. --results FILE appends one JSON line per
# check (scripts/realworld/report.py turns them into docs/realworld.md).
#
# Dumps: pg_dump --schema-only --no-owner --no-privileges --exclude-schema=installer;
# mariadb-dump --no-data --routines --triggers --events --skip-comments --skip-dump-date without
# the installer_* tables; normalised as harness.py documents (comments and blank lines dropped,
# AUTO_INCREMENT=N removed, column lines sorted inside each CREATE TABLE).
#
# The installer: $INSTALLER_BIN, else a copy of $ROOT/build/installer taken at start (the build
# directory may be rebuilt meanwhile). Every command runs under timeout: REALWORLD_TIMEOUT
# (seconds per installer command, default 1800), REALWORLD_SQL_TIMEOUT (per plain-client file
# or dump, default 600). REALWORLD_KEEP=1 keeps the work directory (updates, logs, dumps) for a
# look afterwards. Exit status: 0 when every check passed, 1 otherwise, 64 on bad usage.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
rw="$here/realworld"
# Settings of the caller's environment (INSTALLER_*) must not change what installer does;
# keep the two that are ours.
_bin_from_env="${INSTALLER_BIN:-}"
_server_tmp="${INSTALLER_SERVER_TMP:-}"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"
forget_installer_settings
[[ -n "$_server_tmp" ]] && export INSTALLER_SERVER_TMP="$_server_tmp"

usage() {
    sed -n "2,45p" "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

source_dir="" engine="" layout="auto" name="" results="" repo="" commit="" extensions=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --layout) layout="${2:?--layout needs a value}"; shift 2 ;;
    --name) name="${2:?--name needs a value}"; shift 2 ;;
    --results) results="${2:?--results needs a file}"; shift 2 ;;
    --repo) repo="${2:?}"; shift 2 ;;
    --commit) commit="${2:?}"; shift 2 ;;
    --extensions) extensions="${2:?}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "realworld.sh: unknown option '$1' (try --help)" >&2; exit 64 ;;
    *)
        if [[ -z "$source_dir" ]]; then source_dir="$1"
        elif [[ -z "$engine" ]]; then engine="$1"
        else echo "realworld.sh: unexpected argument '$1'" >&2; exit 64
        fi
        shift
        ;;
    esac
done
if [[ -z "$source_dir" || -z "$engine" ]]; then
    echo "usage: scripts/realworld.sh SOURCE ENGINE [--layout L] [--name NAME] [--results FILE]" >&2
    exit 64
fi
case "$engine" in postgres | mariadb) ;; *) echo "realworld.sh: ENGINE must be postgres or mariadb" >&2; exit 64 ;; esac
[[ -d "$source_dir" ]] || { echo "realworld.sh: $source_dir is not a directory" >&2; exit 64; }
source_dir="$(cd "$source_dir" && pwd -P)"
[[ -n "$name" ]] || name="$(basename "$source_dir")"
if [[ -n "$results" ]]; then
    mkdir -p "$(dirname "$results")"
    touch "$results"
    results="$(cd "$(dirname "$results")" && pwd -P)/$(basename "$results")"
fi

T_INST="${REALWORLD_TIMEOUT:-1800}"
T_SQL="${REALWORLD_SQL_TIMEOUT:-600}"

work="$(mktemp -d /tmp/realworld.XXXXXX)"
cleanup() {
    stop_servers
    if [[ -n "${REALWORLD_KEEP:-}" ]]; then
        log "kept $work (REALWORLD_KEEP)"
    else
        rm -rf "$work"
    fi
}
trap_stop_servers
trap cleanup EXIT
trap 'cleanup; trap - EXIT; exit 130' INT
trap 'cleanup; trap - EXIT; exit 143' TERM

if [[ -n "$_bin_from_env" ]]; then
    bin="$_bin_from_env"
else
    cp "$ROOT/build/installer" "$work/installer"
    bin="$work/installer"
fi
[[ -x "$bin" ]] || { echo "realworld.sh: no installer binary at $bin" >&2; exit 69; }
inst_version="$("$bin" --version 2>/dev/null | head -n1 || true)"

py() { python3 "$@"; }

# ------------------------------------------------------------------ conversion
updates="$work/updates"
summary="$work/summary.json"
if ! py "$rw/convert.py" "$source_dir" "$updates" --engine "$engine" --layout "$layout" \
    --summary "$summary" >"$work/convert.log" 2>&1; then
    cat "$work/convert.log" >&2
    echo "FAIL     convert             conversion failed"
    exit 1
fi
read -r n_updates n_steps n_empty_up n_empty_down n_missing n_notx layout_used < <(
    py -c 'import json,sys; s=json.load(open(sys.argv[1]))
print(s["updates"], s["steps"], s["empty_up"], s["empty_down"], s["down_missing"], s["no_transaction"], s["layout"])' "$summary")
py "$rw/harness.py" plan "$summary" >"$work/plan.tsv"
eval "$(py "$rw/harness.py" choose "$summary" --engine "$engine")"
# shellcheck disable=SC2154  # set by the eval above
{ : "$end_seq" "$end_id" "$mid_seq" "$mid_id" "$mid_step" "$mid_n" "$mid_after"; }

echo "realworld $name on $engine: $source_dir"
echo "  layout $layout_used: $n_updates updates, $n_steps steps, $n_empty_up empty up scripts," \
    "$n_empty_down empty down scripts ($n_missing missing in the source, written empty)," \
    "$n_notx steps outside a transaction; $inst_version"
sed -n 's/^  note: /  note: /p' "$work/convert.log"
[[ -n "$extensions" ]] && echo "  every database gets the extensions $extensions first (the project's installation guide)"

# ------------------------------------------------------------------ server and helpers
log "starting a throwaway $engine server"
if [[ "$engine" == postgres ]]; then
    start_postgres >"$work/server.log" 2>&1 || { cat "$work/server.log" >&2; exit 69; }
else
    start_mariadb >"$work/server.log" 2>&1 || { cat "$work/server.log" >&2; exit 69; }
fi

if [[ "$engine" == postgres ]]; then
    client_name=psql
    _psql() { PGPASSWORD="$PG_PASSWORD" timeout "$T_SQL" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
    db_create() {
        local x
        _psql -d postgres -c "CREATE DATABASE \"$1\"" >/dev/null || return 1
        for x in ${extensions//,/ }; do
            _psql -d "$1" -c "CREATE EXTENSION IF NOT EXISTS \"$x\"" >/dev/null || return 1
        done
    }
    db_url() { printf 'postgresql://postgres:%s@127.0.0.1:%s/%s' "$PG_PASSWORD" "$PG_PORT" "$1"; }
    # plain_file DB FILE TRANSACTION(1|0) ERRFILE
    plain_file() {
        local one=()
        [[ "$3" == 1 ]] && one=(-1)
        _psql -d "$1" "${one[@]}" -f "$2" >/dev/null 2>"$4"
    }
    dump_raw() {
        PGPASSWORD="$PG_PASSWORD" timeout "$T_SQL" pg_dump -h 127.0.0.1 -p "$PG_PORT" -U postgres \
            --schema-only --no-owner --no-privileges --exclude-schema=installer "$1"
    }
else
    client_name=mariadb
    _my() {
        MYSQL_PWD="$MARIADB_PASSWORD" timeout "$T_SQL" mariadb --no-defaults --protocol=TCP -h127.0.0.1 \
            -P"$MARIADB_PORT" -uroot --default-character-set=utf8mb4 "$@"
    }
    db_create() { _my -e "CREATE DATABASE \`$1\` CHARACTER SET utf8mb4" >/dev/null; }
    db_url() { printf 'mariadb://root:%s@127.0.0.1:%s/%s' "$MARIADB_PASSWORD" "$MARIADB_PORT" "$1"; }
    plain_file() {
        # One multi-statement query per file: the client sends everything up to TOKEN at once
        # (it sets CLIENT_MULTI_STATEMENTS) and the server splits it. --comments: comments go
        # to the server too (routine bodies keep them, as when a tool sends the file).
        local tok="@@RWEOF@@" k=0
        while grep -qF -- "$tok" "$2"; do k=$((k + 1)); tok="@@RWEOF$k@@"; done
        { cat "$2"; printf '\n%s\n' "$tok"; } |
            _my --batch --comments --delimiter="$tok" "$1" >/dev/null 2>"$4"
    }
    dump_raw() {
        local db="$1" t ignore=()
        for t in installer_updates installer_steps installer_journal_format installer_installs; do
            ignore+=("--ignore-table=$db.$t")
        done
        while IFS= read -r t; do
            [[ -n "$t" ]] && ignore+=("--ignore-table=$db.$t")
        done < <(_my -N -B -e "SELECT table_name FROM information_schema.tables
                 WHERE table_schema = '$db' AND table_name LIKE 'installer\\_%'")
        MYSQL_PWD="$MARIADB_PASSWORD" timeout "$T_SQL" mariadb-dump --no-defaults --protocol=TCP \
            -h127.0.0.1 -P"$MARIADB_PORT" -uroot --no-data --routines --triggers --events \
            --skip-comments --skip-dump-date "${ignore[@]}" "$db"
    }
fi

dump() { # dump DB OUT: the normalised dump
    local raw="$2.raw"
    dump_raw "$1" >"$raw" 2>"$2.err" || { echo "dump of $1 failed: $(head -c 300 "$2.err")" >&2; return 1; }
    py "$rw/harness.py" normalize --engine "$engine" --db "$1" <"$raw" >"$2"
}

secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# run_installer DB UPDATES LOG ARGS...: sets rc and ms
run_installer() {
    local db="$1" dir="$2" logf="$3" t0
    shift 3
    t0="$(_now_ms)"
    rc=0
    # Every incremental snapshot is compared with a full read (docs/snapshots.md), except
    # in the timed apply, whose figure is the installer's own.
    INSTALLER_DB_URL="$(db_url "$db")" INSTALLER_UPDATES="$dir" INSTALLER_WAIT_TIMEOUT=10s \
        INSTALLER_LOCK_TIMEOUT=60s INSTALLER_TEST_PARTIAL_REVERT="${partial_mode:-exact}" \
        INSTALLER_TEST_CHECK_SNAPSHOTS="${check_snapshots:-1}" \
        timeout "$T_INST" "$bin" "$@" </dev/null >"$logf" 2>&1 || rc=$?
    ms=$(($(_now_ms) - t0))
    if [[ "$rc" -eq 124 ]]; then
        echo "timed out after ${T_INST}s" >>"$logf"
    fi
}

first_error() { py "$rw/harness.py" first-error "$1"; }

# compare A B: 0 when equal; else the first 30 lines of the diff in $work/last.diff
compare() {
    if diff -u --label expected --label actual "$1" "$2" >"$work/last.diff"; then
        return 0
    fi
    return 1
}
show_diff() { head -n 30 "$work/last.diff" | sed 's/^/    /'; }
diff_excerpt() { head -n 12 "$work/last.diff" | tail -n +3 | cut -c1-160 | paste -sd'|' - | sed 's/|/ \/ /g'; }

n_pass=0 n_fail=0 n_refused=0 n_skip=0 n_history=0
plain_ms=0
# emit CHECK STATUS SECONDS TEXT [DETAIL]: one line on stdout, one JSON line in --results
emit() {
    local check="$1" status="$2" seconds="$3" text="$4" detail="${5:-$4}"
    printf '%-8s %-19s %s\n' "$status" "$check" "$text"
    case "$status" in
    PASS) n_pass=$((n_pass + 1)) ;;
    FAIL) n_fail=$((n_fail + 1)) ;;
    REFUSED) n_refused=$((n_refused + 1)) ;;
    DOWN-INCOMPLETE | SERVER) n_history=$((n_history + 1)) ;;
    MEASURE) ;;
    *) n_skip=$((n_skip + 1)) ;;
    esac
    if [[ -n "$results" ]]; then
        py "$rw/harness.py" record --results "$results" project="$name" engine="$engine" check="$check" \
            status="$status" updates="$n_updates" steps="$n_steps" empty_up="$n_empty_up" \
            empty_down="$n_empty_down" down_missing="$n_missing" no_transaction="$n_notx" \
            seconds="$seconds" plain_seconds="$(secs "$plain_ms")" client_start_seconds="$(secs "${start_ms:-0}")" layout="$layout_used" \
            repo="$repo" commit="$commit" installer="$inst_version" detail="$detail"
    fi
}

# Plain-client application of updates FROM..TO (by sequence number) to DB.
# Sets plain_err (empty on success), plain_fail_seq; adds the time to the variable named by $4.
# Dumps after update P into $work/dump.pP for every P in the array need_dump.
declare -A need_dump=()
plain_apply() {
    local db="$1" from="$2" to="$3" timevar="$4" seq id step up tx _n cur="" t0 e
    plain_err="" plain_fail_seq=0
    while IFS=$'\t' read -r seq id step up tx _n; do
        ((seq < from)) && continue
        ((seq > to)) && break
        if [[ -n "$cur" && "$seq" != "$cur" && -n "${need_dump[$cur]:-}" && ! -f "$work/dump.p$cur" ]]; then
            dump "$db" "$work/dump.p$cur"
        fi
        cur="$seq"
        t0="$(_now_ms)"
        if ! plain_file "$db" "$up" "$tx" "$work/plain.err"; then
            e="$(grep -m1 -E 'ERROR|error' "$work/plain.err" || head -n1 "$work/plain.err")"
            plain_err="update $seq/$n_updates $id ($step): ${e:0:400}"
            plain_fail_seq="$seq"
            printf -v "$timevar" '%s' $((${!timevar} + $(_now_ms) - t0))
            return 1
        fi
        printf -v "$timevar" '%s' $((${!timevar} + $(_now_ms) - t0))
    done <"$work/plan.tsv"
    if [[ -n "$cur" && -n "${need_dump[$cur]:-}" && ! -f "$work/dump.p$cur" ]]; then
        dump "$db" "$work/dump.p$cur"
    fi
    return 0
}

# ref P: the path of the reference dump after update P (building it on demand); 1 if impossible
ref() {
    local p="$1" db _t=0
    if [[ -f "$work/dump.p$p" ]]; then
        printf '%s\n' "$work/dump.p$p"
        return 0
    fi
    if ((expected_fail_seq > 0 && p >= expected_fail_seq)); then
        return 1
    fi
    # runs in a command substitution: the dump file is what survives
    db="rw_ref$p"
    db_create "$db" || return 1
    need_dump[$p]=1
    plain_apply "$db" 1 "$p" _t >/dev/null || return 1
    [[ -f "$work/dump.p$p" ]] || dump "$db" "$work/dump.p$p"
    printf '%s\n' "$work/dump.p$p"
}

# the update named in the installer's first error ("update ID failed ...")
failed_update() { sed -n 's/^update \([^ ]*\) failed.*/\1/p' <<<"$1" | head -n1; }

# The plain client's own start (a process, a connection) per file, measured on an empty
# database: reported beside the plain figure, never subtracted from it.
client_start_ms() {
    local t0 k
    t0="$(_now_ms)"
    for k in 1 2 3 4 5; do
        printf 'SELECT 1;\n' >"$work/select1.sql"
        plain_file rw_empty "$work/select1.sql" 1 "$work/select1.err" || true
    done
    echo $((($(_now_ms) - t0) / 5))
}

# ------------------------------------------------------------------ statement counts
# Not a check: where installer plan's statement counts differ from our rough splitter's.
db_create rw_plan
rc=0
INSTALLER_DB_URL="$(db_url rw_plan)" INSTALLER_UPDATES="$updates" timeout "$T_INST" "$bin" plan --json \
    </dev/null >"$work/plan.json" 2>"$work/log.plan" || rc=$?
if [[ "$rc" -eq 0 ]]; then
    counts="$(py "$rw/harness.py" plan-compare "$summary" "$work/plan.json")"
else
    counts="statement counts: installer plan exited $rc: $(first_error "$work/log.plan")"
fi
echo "  note: $counts"
if [[ -n "$results" ]]; then
    py "$rw/harness.py" record --results "$results" project="$name" engine="$engine" check=splitter \
        status=INFO installer="$inst_version" detail="$counts"
fi

# ------------------------------------------------------------------ expected
db_create rw_empty
dump rw_empty "$work/dump.empty"
cp "$work/dump.empty" "$work/dump.p0"
need_dump[$n_updates]=1
need_dump[$((end_seq - 1))]=1
((mid_seq > 0)) && need_dump[$((mid_seq - 1))]=1
db_create rw_expected
expected_fail_seq=0
start_ms="$(client_start_ms)"
if plain_apply rw_expected 1 "$n_updates" plain_ms; then
    emit expected PASS "$(secs "$plain_ms")" \
        "$n_updates updates, $n_steps steps applied with $client_name in $(secs "$plain_ms")s (one file per $client_name run; a run of SELECT 1 takes $(secs "$start_ms")s)"
else
    expected_fail_seq="$plain_fail_seq"
    emit expected SERVER "$(secs "$plain_ms")" "$client_name failed at $plain_err"
fi

no_ref_text() { echo "no reference schema: $client_name failed at update $expected_fail_seq"; }

# check_full_schema CHECK DB MS WHAT: DB, after every update, against the reference, as one
# PASS or FAIL line for CHECK ("WHAT, schema equals the reference").
check_full_schema() {
    local check="$1" db="$2" ms="$3" what="$4" r
    if ! r="$(ref "$n_updates")"; then
        emit "$check" FAIL "$(secs "$ms")" "$what; $(no_ref_text)"
        return
    fi
    dump "$db" "$work/dump.$check"
    if compare "$r" "$work/dump.$check"; then
        emit "$check" PASS "$(secs "$ms")" "$what, schema equals the reference"
    else
        emit "$check" FAIL "$(secs "$ms")" "$what, but the schema differs from the reference" \
            "$what, but the schema differs from the reference: $(diff_excerpt)"
        show_diff
    fi
}
expected_fail_id="$(awk -F'\t' -v s="$expected_fail_seq" '$1 == s { print $2; exit }' "$work/plan.tsv")"
# Whether the installer's run (its log) failed, reverted and verified, exactly where the plain
# client fails: then the history does not run on this server, whoever sends it.
fails_where_plain_fails() {
    ((expected_fail_seq > 0)) && [[ "$rc" -eq 70 && "$(failed_update "$(first_error "$1")")" == "$expected_fail_id" ]]
}

# ------------------------------------------------------------------ apply
db_create rw_apply
check_snapshots=0 run_installer rw_apply "$updates" "$work/log.apply" migrate
apply_ms="$ms"
ratio="$(awk -v a="$apply_ms" -v b="$plain_ms" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
fig="$n_updates updates in $(secs "$apply_ms")s ($client_name $(secs "$plain_ms")s, $ratio)"
if [[ "$rc" -eq 65 ]]; then
    emit apply REFUSED "$(secs "$apply_ms")" "exit 65: $(first_error "$work/log.apply")"
elif fails_where_plain_fails "$work/log.apply"; then
    emit apply SERVER "$(secs "$apply_ms")" "exit 70 where $client_name fails (reverted and verified): $(first_error "$work/log.apply")"
elif [[ "$rc" -ne 0 ]]; then
    emit apply FAIL "$(secs "$apply_ms")" "exit $rc: $(first_error "$work/log.apply")"
else
    check_full_schema apply rw_apply "$apply_ms" "$fig"
fi

# ------------------------------------------------------------------ remove-all, reapply
db_create rw_remove
run_installer rw_remove "$updates" "$work/log.remove-setup" migrate --fingerprint-limit 0
removed_all=0
remove_setup_rc="$rc"
if fails_where_plain_fails "$work/log.remove-setup"; then
    emit remove-all SKIP 0 "not reachable: $client_name itself fails at update $expected_fail_seq, and so does the setup"
elif [[ "$rc" -ne 0 ]]; then
    st=FAIL
    [[ "$rc" -eq 65 ]] && st=REFUSED
    emit remove-all "$st" 0 "setup (migrate --fingerprint-limit 0) exit $rc: $(first_error "$work/log.remove-setup")"
else
    remove_ms=0 stopped=""
    mapfile -t ids < <(cut -f1,2 "$work/plan.tsv" | uniq | tac)
    for line in "${ids[@]}"; do
        seq="${line%%$'\t'*}"
        id="${line#*$'\t'}"
        run_installer rw_remove "$updates" "$work/log.remove.$seq" --remove-update "$id"
        remove_ms=$((remove_ms + ms))
        if [[ "$rc" -ne 0 ]]; then
            stopped="$seq"
            break
        fi
    done
    if [[ -z "$stopped" ]]; then
        removed_all=1
        dump rw_remove "$work/dump.removed"
        if compare "$work/dump.empty" "$work/dump.removed"; then
            emit remove-all PASS "$(secs "$remove_ms")" \
                "$n_updates updates removed in $(secs "$remove_ms")s, schema equals the empty database's"
        else
            emit remove-all FAIL "$(secs "$remove_ms")" \
                "$n_updates updates removed (all exit 0) but the schema differs from the empty database's" \
                "all $n_updates removals exited 0 but the schema differs from the empty database's: $(diff_excerpt)"
            show_diff
        fi
    else
        err="$(first_error "$work/log.remove.$seq")"
        text="stopped at update $seq/$n_updates $id ($((n_updates - seq)) removed before it): exit $rc: $err"
        st=FAIL
        [[ "$rc" -eq 65 ]] && st=REFUSED
        if [[ "$rc" -eq 79 ]]; then
            dump rw_remove "$work/dump.stop"
            if r="$(ref $((seq - 1)))"; then
                if compare "$r" "$work/dump.stop"; then
                    verdict="outside dump: the schema equals the one before update $seq, so its down did restore what pg_dump/mariadb-dump show (the installer's check sees more)"
                    emit remove-all "$st" "$(secs "$remove_ms")" "$text" "$text; $verdict"
                    echo "    $verdict"
                else
                    verdict="outside dump: the schema differs from the one before update $seq, so the project's own down leaves something behind"
                    emit remove-all DOWN-INCOMPLETE "$(secs "$remove_ms")" "$text" "$text; $verdict: $(diff_excerpt)"
                    echo "    $verdict:"
                    show_diff
                fi
            else
                emit remove-all "$st" "$(secs "$remove_ms")" "$text" "$text; outside dump not compared: $(no_ref_text)"
            fi
        else
            emit remove-all "$st" "$(secs "$remove_ms")" "$text"
        fi
    fi
fi

if [[ "$removed_all" -eq 1 || "$remove_setup_rc" -eq 65 ]]; then
    run_installer rw_remove "$updates" "$work/log.reapply" migrate
    if [[ "$rc" -eq 65 ]]; then
        emit reapply REFUSED "$(secs "$ms")" "exit 65: $(first_error "$work/log.reapply")"
    elif [[ "$rc" -ne 0 ]]; then
        emit reapply FAIL "$(secs "$ms")" "exit $rc: $(first_error "$work/log.reapply")"
    else
        check_full_schema reapply rw_remove "$ms" "$n_updates updates applied again in $(secs "$ms")s"
    fi
elif [[ "$remove_setup_rc" -ne 0 ]]; then
    emit reapply SKIP 0 "not run: the setup of remove-all failed (exit $remove_setup_rc)"
elif ((stopped >= n_updates)); then
    emit reapply SKIP 0 "not run: remove-all stopped at the newest update, $stopped"
else
    # The round trip of the part of the history whose downs are complete: on a fresh database,
    # everything applied, the updates after the one remove-all stopped at removed newest
    # first, then applied again.
    db_create rw_reapply
    run_installer rw_reapply "$updates" "$work/log.reapply-setup" migrate
    part_ms=0 part_rc=0
    for line in "${ids[@]}"; do
        seq="${line%%$'\t'*}"
        ((seq <= stopped)) && break
        run_installer rw_reapply "$updates" "$work/log.reapply-remove.$seq" --remove-update "${line#*$'\t'}"
        part_ms=$((part_ms + ms))
        [[ "$rc" -eq 0 ]] || { part_rc="$rc"; break; }
    done
    what="updates $((stopped + 1))..$n_updates (those after the one remove-all stopped at) removed and applied again"
    if [[ "$part_rc" -ne 0 ]]; then
        emit reapply FAIL "$(secs "$part_ms")" "$what: removing update $seq exited $part_rc"
    else
        run_installer rw_reapply "$updates" "$work/log.reapply" migrate
        if [[ "$rc" -ne 0 ]]; then
            emit reapply FAIL "$(secs "$ms")" "$what: exit $rc: $(first_error "$work/log.reapply")"
        else
            check_full_schema reapply rw_reapply "$ms" "$what"
        fi
    fi
fi

# ------------------------------------------------------------------ failure injection
# fail_check CHECK MODE SEQ ID
fail_check() {
    local check="$1" mode="$2" seq="$3" id="$4" db="rw_$2" what err fu r
    if ((expected_fail_seq > 0 && expected_fail_seq <= seq)); then
        emit "$check" SKIP 0 "not reachable: $client_name itself fails at update $expected_fail_seq, before or at update $seq"
        return
    fi
    what="$(py "$rw/harness.py" inject "$summary" "$updates" "$work/updates-$mode" --mode "$mode" --engine "$engine")"
    db_create "$db"
    run_installer "$db" "$work/updates-$mode" "$work/log.$mode" migrate
    err="$(first_error "$work/log.$mode")"
    if [[ "$rc" -eq 65 ]]; then
        emit "$check" REFUSED "$(secs "$ms")" "exit 65: $err" "$what; exit 65: $err"
        return
    fi
    if [[ "$rc" -eq 0 ]]; then
        emit "$check" FAIL "$(secs "$ms")" "exit 0: the injected failure was not detected ($what)"
        return
    fi
    fu="$(failed_update "$err")"
    if [[ -n "$fu" && "$fu" != "$id" ]]; then
        emit "$check" FAIL "$(secs "$ms")" "exit $rc at update $fu, before the injected one ($id): $err" \
            "$what; exit $rc at update $fu, before the injected one: $err"
        return
    fi
    if [[ "$rc" -eq 79 ]] && r="$(ref $((seq - 1)))"; then
        # the revert needs attention: what an outside dump says is left over
        dump "$db" "$work/dump.$mode"
        if compare "$r" "$work/dump.$mode"; then
            emit "$check" FAIL "$(secs "$ms")" "exit 79 (expected 70): $err" \
                "$what; exit 79 (expected 70): $err; outside dump: equals the schema after $((seq - 1)) updates"
            echo "    outside dump: equals the schema after $((seq - 1)) updates"
        else
            emit "$check" FAIL "$(secs "$ms")" "exit 79 (expected 70): $err" \
                "$what; exit 79 (expected 70): $err; outside dump differs from the schema after $((seq - 1)) updates: $(diff_excerpt)"
            echo "    outside dump differs from the schema after $((seq - 1)) updates:"
            show_diff
        fi
        return
    fi
    if [[ "$rc" -ne 70 ]]; then
        emit "$check" FAIL "$(secs "$ms")" "exit $rc (expected 70): $err" "$what; exit $rc (expected 70): $err"
        return
    fi
    if ! r="$(ref $((seq - 1)))"; then
        emit "$check" FAIL "$(secs "$ms")" "exit 70; $(no_ref_text)" "$what; exit 70; $(no_ref_text)"
        return
    fi
    dump "$db" "$work/dump.$mode"
    if compare "$r" "$work/dump.$mode"; then
        emit "$check" PASS "$(secs "$ms")" "exit 70 at update $seq/$n_updates, schema equals the one after $((seq - 1)) updates" \
            "$what; exit 70, schema equals the one after $((seq - 1)) updates"
    else
        emit "$check" FAIL "$(secs "$ms")" "exit 70 at update $seq/$n_updates, but the schema differs from the one after $((seq - 1)) updates" \
            "$what; exit 70 but the schema differs from the one after $((seq - 1)) updates: $(diff_excerpt); the installer said: $err"
        echo "    the installer said: $err"
        show_diff
    fi
}

fail_check fail-end-of-middle end "$end_seq" "$end_id"
if ((mid_seq > 0)); then
    fail_check fail-mid-step mid "$mid_seq" "$mid_id"
else
    emit fail-mid-step SKIP 0 "no step has 3 or more statements"
fi

# ------------------------------------------------------------------ measurement: partial reverts
# sweep_one MODE K: rc 0 when a failure after statement K of the mid step, reverted the MODE
# way, ends with exit 70 and the schema of the updates before it.
sweep_one() {
    local mode="$1" k="$2" dir="$work/updates-sweep" db="rw_sweep_${1//-/_}_$2" r
    py "$rw/harness.py" inject "$summary" "$updates" "$dir" --mode mid --engine "$engine" --after "$k" >/dev/null
    db_create "$db"
    partial_mode="$mode" run_installer "$db" "$dir" "$work/log.sweep.$mode.$k" migrate
    [[ "$rc" -eq 70 ]] || return 1
    r="$(ref $((mid_seq - 1)))" || return 1
    dump "$db" "$work/dump.sweep"
    compare "$r" "$work/dump.sweep"
}

mid_outside_tx="$(awk -F'\t' -v s="$mid_seq" -v n="$mid_step" '$1 == s && $3 == n { print $5 }' "$work/plan.tsv")"
if ((mid_seq > 0)) && ((expected_fail_seq == 0 || expected_fail_seq > mid_seq)) &&
    [[ "$engine" == mariadb || "$mid_outside_tx" == 0 ]]; then
    sweep_max="${REALWORLD_SWEEP:-6}"
    # After statement 1 .. n-1: all of them, or sweep_max spread evenly from first to last.
    positions=()
    if ((mid_n - 1 <= sweep_max)); then
        for ((k = 1; k < mid_n; k++)); do positions+=("$k"); done
    else
        for ((j = 0; j < sweep_max; j++)); do positions+=($((1 + j * (mid_n - 2) / (sweep_max - 1)))); done
    fi
    for mode in exact tolerant-down strict-down; do
        ok=0 bad=""
        for k in "${positions[@]}"; do
            if sweep_one "$mode" "$k"; then ok=$((ok + 1)); else bad+="${bad:+, }$k (exit $rc)"; fi
        done
        emit "sweep:$mode" MEASURE 0 \
            "$ok/${#positions[@]} failure positions in update $mid_seq's $mid_step ($mid_n statements) restored${bad:+; not after statement $bad}"
    done
fi

echo "SUMMARY  $name $engine: $n_pass passed, $n_fail failed, $n_refused refused, $n_history stopped by the history itself (an incomplete down, or SQL this server does not run), $n_skip skipped;" \
    "apply $(secs "$apply_ms")s against $client_name $(secs "$plain_ms")s"
[[ "$n_fail" -eq 0 && "$n_refused" -eq 0 ]]
