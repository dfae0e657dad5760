#!/usr/bin/env bash
# PID 1 overhead of `installer -- CMD` next to tini and dumb-init, measured in one run,
# with ratios against tini from the same run:
#
#   1. memory of the supervising process while its child sleeps: VmHWM (peak RSS) from
#      /proc/<pid>/status after the signal rounds below and an idle dwell; installer in
#      its steady state (a second start on a database where nothing is left to apply),
#      also with --health-listen 127.0.0.1:0 (health server on, probed a few times);
#   2. signal forwarding latency: CLOCK_MONOTONIC just before kill(supervisor, SIGUSR1)
#      to CLOCK_MONOTONIC at entry of the child's handler; median and p99 of N signals,
#      each sent only after the previous one was acknowledged (bounded waits, no sleeps);
#   3. startup: CLOCK_MONOTONIC just before execve(supervisor) to the child's main();
#      for installer this is a "no-op start": connect, take the lock, find nothing to do.
#
# Each supervisor runs as PID 1 of fresh PID and mount namespaces (as in a container),
# unless that is not permitted; the child and the driver are small C programs in
# bench/pid1/, compiled into a temporary directory. A benchmark, not a test: no
# thresholds; it exits 0 when it measured.
#
# Database: INSTALLER_BENCH_DB_URL (postgresql://... to an existing database; the run
# uses a journal schema of its own there and drops it at the end, with psql). Unset:
# a throwaway PostgreSQL is started (scripts/lib.sh) and stopped at the end.
# Installer binary: INSTALLER_BENCH_BIN, else build/installer (built when missing).
# Knobs: BENCH_SIGNALS (200), BENCH_STARTS (50), BENCH_ROUNDS (5: the supervisors take
#        turns, each round a fresh process per supervisor with its share of the signals
#        and starts; samples are pooled), BENCH_DWELL_MS (2000), BENCH_TIMEOUT_MS (10000,
#        every bounded wait), BENCH_PIDNS (1; 0 = supervisors as plain processes),
#        BENCH_KEEP (0; 1 keeps the temporary directory with logs and raw samples).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
forget_installer_settings
cd "$ROOT"

signals="${BENCH_SIGNALS:-200}"
starts="${BENCH_STARTS:-50}"
rounds="${BENCH_ROUNDS:-5}"
dwell_ms="${BENCH_DWELL_MS:-2000}"
timeout_ms="${BENCH_TIMEOUT_MS:-10000}"
pidns="${BENCH_PIDNS:-1}"
for _v in signals starts rounds dwell_ms timeout_ms pidns; do
    [[ "${!_v}" =~ ^[0-9]+$ ]] || { echo "pid1.sh: $_v must be a number: '${!_v}'" >&2; exit 64; }
done
((rounds >= 1 && signals >= rounds && starts >= rounds)) || {
    echo "pid1.sh: need BENCH_ROUNDS >= 1 and BENCH_SIGNALS, BENCH_STARTS >= BENCH_ROUNDS" >&2
    exit 64
}

# ------------------------------------------------------------------ setup

work=""
journal_schema="installer_bench_pid1_$$_${RANDOM}"
db_url=""
created_journal=0

cleanup() {
    local rc=$?
    if [[ "$created_journal" -eq 1 && -n "$db_url" && -n "${INSTALLER_BENCH_DB_URL:-}" ]]; then
        if command -v psql >/dev/null 2>&1; then
            psql "$db_url" -qAtX -v ON_ERROR_STOP=1 \
                -c "DROP SCHEMA IF EXISTS \"$journal_schema\" CASCADE" >/dev/null 2>&1 ||
                log "could not drop the journal schema $journal_schema (if it was created): drop it by hand"
        else
            log "psql not found: drop the journal schema $journal_schema by hand"
        fi
    fi
    stop_servers
    if [[ -n "$work" && "${BENCH_KEEP:-0}" == 1 ]]; then
        log "kept $work (logs, raw samples, smaps)"
    elif [[ -n "$work" ]]; then
        rm -rf "$work"
    fi
    return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for _tool in tini dumb-init; do
    command -v "$_tool" >/dev/null 2>&1 || ensure_packages "$_tool"
done
command -v cc >/dev/null 2>&1 || ensure_packages build-essential
tini_bin="$(command -v tini)"
dumb_init_bin="$(command -v dumb-init)"

installer_bin="${INSTALLER_BENCH_BIN:-$ROOT/build/installer}"
if [[ ! -x "$installer_bin" ]]; then
    if [[ -n "${INSTALLER_BENCH_BIN:-}" ]]; then
        echo "pid1.sh: INSTALLER_BENCH_BIN=$installer_bin is not an executable" >&2
        exit 66
    fi
    log "build/installer is missing: building it"
    ensure_packages "${INSTALLER_PACKAGES[@]}"
    build_installer "$ROOT/build" >&2
fi
installer_bin="$(cd "$(dirname "$installer_bin")" && pwd -P)/$(basename "$installer_bin")"

if [[ -n "${INSTALLER_BENCH_DB_URL:-}" ]]; then
    case "$INSTALLER_BENCH_DB_URL" in
        postgresql://* | postgres://*) ;;
        *) echo "pid1.sh: INSTALLER_BENCH_DB_URL must be a postgresql:// URL" >&2; exit 64 ;;
    esac
    db_url="$INSTALLER_BENCH_DB_URL"
else
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || ensure_packages postgresql postgresql-client
    start_postgres
    db_url="$INSTALLER_TEST_PG_URL"
    unset INSTALLER_TEST_PG_URL INSTALLER_TEST_PG_TLS_CA INSTALLER_TEST_PG_OTHER_CA
fi

work="$(mktemp -d /tmp/installer-bench-pid1.XXXXXX)"
log "compiling the child and the driver into $work"
cc -O2 -Wall -Wextra -o "$work/child" "$ROOT/bench/pid1/child.c"
cc -O2 -Wall -Wextra -o "$work/driver" "$ROOT/bench/pid1/driver.c"
child="$work/child"
fifo="$work/fifo"
driver="$work/driver"

# One trivial update, applied by a first start; the measured starts find nothing to do.
mkdir -p "$work/updates/0001"
printf 'SELECT 1;\n' >"$work/updates/0001/001_noop.up.sql"
printf -- '-- nothing to undo\n' >"$work/updates/0001/001_noop.down.sql"

# installer's configuration, given only to installer's own runs (the driver's -e).
installer_env=("INSTALLER_DB_URL=$db_url" "INSTALLER_JOURNAL_SCHEMA=$journal_schema")
installer_args=(--updates "$work/updates")
inst_e=()
for _kv in "${installer_env[@]}"; do inst_e+=(-e "$_kv"); done

log "first start: applying the trivial update (journal schema $journal_schema)"
created_journal=1
if ! env "${installer_env[@]}" "$installer_bin" "${installer_args[@]}" -- /bin/true >"$work/first.log" 2>&1; then
    cat "$work/first.log" >&2
    echo "pid1.sh: the first installer start failed" >&2
    exit 1
fi
if ! grep -q 'applied update 0001' "$work/first.log"; then
    log "warning: the first start's log does not say 'applied update 0001':"
    cat "$work/first.log" >&2
fi

# A GET that must answer 200: run by the driver against the health server (port from the log).
cat >"$work/probe.sh" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
port="$(sed -n 's/.*health endpoint on [^ ]*:\([0-9][0-9]*\) .*/\1/p' "$1" | tail -n 1)"
[[ -n "$port" ]] || { echo "probe: no health endpoint in $1" >&2; exit 1; }
for path in /readyz /livez /healthz /status /readyz /readyz; do
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
    response="$(timeout 5 cat <&3)"
    exec 3>&-
    [[ "$response" == "HTTP/1.1 200"* ]] || { echo "probe: $path: ${response%%$'\r'*}" >&2; exit 1; }
done
EOF

pidns_flag=()
[[ "$pidns" -eq 1 ]] || pidns_flag=(-P)

declare -A R=()  # R[name.mode.key.round] = value, from the driver's key=value line

# measure NAME MODE ROUND [driver options...] -- COMMAND...
measure() {
    local name="$1" mode="$2" round="$3" out kv
    shift 3
    if ! out="$("$driver" "$mode" -f "$fifo" -l "$work/$name.$mode.log" -t "$timeout_ms" \
        -R "$work/$name.$mode.raw" "$@")"; then
        echo "pid1.sh: measuring $name ($mode, round $round) failed; the end of its log:" >&2
        tail -n 20 "$work/$name.$mode.log" >&2 || true
        exit 1
    fi
    for kv in $out; do
        R["$name.$mode.${kv%%=*}.$round"]="${kv#*=}"
    done
}

# Splits TOTAL into ROUNDS parts that add up to it: part ROUND (1-based).
share() { echo $(( $1 / $3 + ($2 <= $1 % $3 ? 1 : 0) )); }

sup_tini=("$tini_bin" -s -- "$child" "$fifo")
sup_dumb=("$dumb_init_bin" -- "$child" "$fifo")
sup_inst=("$installer_bin" "${installer_args[@]}" -- "$child" "$fifo")
sup_inst_h=("$installer_bin" "${installer_args[@]}" --health-listen 127.0.0.1:0 -- "$child" "$fifo")

latency_one() {  # NAME ROUND N
    local name="$1" round="$2" n="$3"
    local o=(-n "$n" -d "$dwell_ms" -S "$work/$name.smaps")
    case "$name" in
        direct) measure direct latency "$round" "${o[@]}" -P -- "$child" "$fifo" ;;
        tini) measure tini latency "$round" "${o[@]}" "${pidns_flag[@]}" -- "${sup_tini[@]}" ;;
        dumb-init) measure dumb-init latency "$round" "${o[@]}" "${pidns_flag[@]}" -- "${sup_dumb[@]}" ;;
        installer) measure installer latency "$round" "${o[@]}" "${pidns_flag[@]}" "${inst_e[@]}" -- "${sup_inst[@]}" ;;
        installer-health)
            measure installer-health latency "$round" "${o[@]}" "${pidns_flag[@]}" "${inst_e[@]}" \
                -H "bash '$work/probe.sh' '$work/installer-health.latency.log'" -- "${sup_inst_h[@]}" ;;
    esac
}

startup_one() {  # NAME ROUND N
    local name="$1" round="$2" n="$3"
    case "$name" in
        direct) measure direct startup "$round" -n "$n" -P -- "$child" "$fifo" ;;
        tini) measure tini startup "$round" -n "$n" "${pidns_flag[@]}" -- "${sup_tini[@]}" ;;
        dumb-init) measure dumb-init startup "$round" -n "$n" "${pidns_flag[@]}" -- "${sup_dumb[@]}" ;;
        installer) measure installer startup "$round" -n "$n" "${pidns_flag[@]}" "${inst_e[@]}" -- "${sup_inst[@]}" ;;
    esac
}

# Rounds interleave the supervisors (in a rotating order) so that drifts of the machine
# (frequency, other load) spread over all of them instead of favouring one.
lat_names=(tini dumb-init installer installer-health direct)
start_names=(tini dumb-init installer direct)
log "signal latency: $signals signals per supervisor in $rounds rounds (10 warm-up each), memory after a ${dwell_ms} ms dwell"
for ((round = 1; round <= rounds; round++)); do
    k=${#lat_names[@]}
    for ((j = 0; j < k; j++)); do
        latency_one "${lat_names[(j + round - 1) % k]}" "$round" "$(share "$signals" "$round" "$rounds")"
    done
done
log "startup: $starts starts per supervisor in $rounds rounds (2 warm-up each)"
for ((round = 1; round <= rounds; round++)); do
    k=${#start_names[@]}
    for ((j = 0; j < k; j++)); do
        startup_one "${start_names[(j + round - 1) % k]}" "$round" "$(share "$starts" "$round" "$rounds")"
    done
done

# The measured installer starts must have been steady state: nothing applied.
for _log in "$work"/installer*.log; do
    if grep -q 'applying update' "$_log"; then
        log "warning: $(basename "$_log") shows an update being applied: not a steady-state start"
    fi
done

# ------------------------------------------------------------------ aggregation

# stats FILE: "median p99 min max" of the pooled samples (nearest-rank p99).
stats() {
    sort -g "$1" | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- - - -"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        r = int((99 * NR + 99) / 100)
        print m, v[r], v[1], v[NR] }'
}
# maxof NAME MODE KEY: the largest value of KEY over the rounds ("-" if none).
maxof() {
    local r v best=""
    for ((r = 1; r <= rounds; r++)); do
        v="${R[$1.$2.$3.$r]:-}"
        [[ -n "$v" ]] || continue
        if [[ -z "$best" ]] || awk -v a="$v" -v b="$best" 'BEGIN { exit !(a > b) }'; then best="$v"; fi
    done
    echo "${best:--}"
}
# spread NAME MODE: "lowest..highest" of the per-round medians, in microseconds.
spread() {
    local r v lo="" hi=""
    for ((r = 1; r <= rounds; r++)); do
        v="${R[$1.$2.median_us.$r]:-}"
        [[ -n "$v" ]] || continue
        lo="$(awk -v a="$v" -v b="$lo" 'BEGIN { print (b == "" || a < b) ? a : b }')"
        hi="$(awk -v a="$v" -v b="$hi" 'BEGIN { print (b == "" || a > b) ? a : b }')"
    done
    echo "${lo:--}..${hi:--}"
}
# smaps_sum FILE: "Pss private" (kB) of the process whose smaps FILE is.
smaps_sum() {
    awk '/^Pss:/ { p += $2 } /^Private_(Clean|Dirty):/ { u += $2 } END { print p + 0, u + 0 }' "$1" 2>/dev/null ||
        echo "- -"
}

declare -A S=()  # S[name.mode] = "median p99 min max"
for name in "${lat_names[@]}"; do S[$name.latency]="$(stats "$work/$name.latency.raw")"; done
for name in "${start_names[@]}"; do S[$name.startup]="$(stats "$work/$name.startup.raw")"; done
field() { local a; read -ra a <<<"${S[$1]}"; echo "${a[$2]}"; }

# median FILE COLUMN: the median of one column of numbers.
median() {
    awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# Phases of installer's no-op starts, from its log lines (wall clock, ms resolution):
# "found N update(s)" -> "... nothing to do" (connect, lock, read the journal) ->
# "started CMD (pid N)" (what happens between deciding and spawning). One line per start.
awk '
    function ms(ts,   t) { split(substr(ts, 12, 12), t, ":"); return (t[1] * 3600 + t[2] * 60 + t[3]) * 1000 }
    / found [0-9]+ updates? in / { f = ms($1); d = -1; next }
    /nothing to do/ { if (f != "") d = ms($1); next }
    / started .* \(pid [0-9]+\)/ { if (f != "" && d >= 0) print d - f, ms($1) - d; f = ""; d = -1 }
' "$work/installer.startup.log" >"$work/installer.phases" 2>/dev/null || : >"$work/installer.phases"

# ------------------------------------------------------------------ report

# fmt NUMBER DECIMALS; ratio A B (A/B as x.xx, "-" when either is missing); ms MICROSECONDS
fmt() { awk -v v="$1" -v d="$2" 'BEGIN { if (v == "" || v == "-") print "-"; else printf "%.*f\n", d, v }'; }
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}
ms() { awk -v v="$1" 'BEGIN { if (v == "" || v == "-") print "-"; else printf "%.2f\n", v / 1000 }'; }

cpu="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)"
[[ -n "$cpu" ]] || cpu="$(uname -m)"
os="$(. /etc/os-release 2>/dev/null && printf '%s' "${PRETTY_NAME:-}")" || os=""
built="$(date -u -r "$installer_bin" '+%Y-%m-%d %H:%M UTC' 2>/dev/null || true)"
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$installer_bin")/CMakeCache.txt" 2>/dev/null || true)"
pg_version="-" pg_tls="TLS unknown"
if command -v psql >/dev/null 2>&1; then
    pg_version="$(psql "$db_url" -qAtX -c 'SHOW server_version' 2>/dev/null || echo -)"
    case "$(psql "$db_url" -qAtX -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' 2>/dev/null)" in
        t) pg_tls="over TLS" ;;
        f) pg_tls="without TLS" ;;
    esac
fi
db_where="$(printf '%s' "$db_url" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*).*#\2#')"
if [[ "${R[tini.latency.pidns.1]:-0}" == 1 ]]; then
    mode="each supervisor is PID 1 of new PID and mount namespaces (as in a container)"
else
    mode="the supervisors run as ordinary processes (child subreapers), not as PID 1"
fi

echo
echo "PID 1 supervisors: installer vs tini vs dumb-init, one run; x tini = ratio to tini measured in this run"
echo "machine:  $(nproc) CPUs, $cpu, kernel $(uname -r), ${os:-unknown OS}"
echo "versions: $("$tini_bin" --version 2>&1 | head -n 1), $("$dumb_init_bin" --version 2>&1 | head -n 1),"
echo "          $("$installer_bin" --version 2>&1 | head -n 1) ($installer_bin${build_type:+, $build_type}${built:+, built $built})"
echo "database: PostgreSQL $pg_version at $db_where, connected $pg_tls (libpq's default sslmode)"
echo "mode:     $mode; $rounds interleaved rounds"
echo

echo "1. Memory of the supervising process, kB, while the child sleeps: /proc/PID/status after the"
echo "   signals below and ${dwell_ms} ms idle (largest over the $rounds starts); Pss and private from smaps"
printf '   %-27s %7s %7s %7s %7s %7s %7s %7s %7s\n' supervisor VmHWM "x tini" VmRSS RssAnon RssFile Pss private threads
mem_row() {
    local label="$1" n="$2" pss_priv
    read -r -a pss_priv <<<"$(smaps_sum "$work/$n.smaps")"
    printf '   %-27s %7s %7s %7s %7s %7s %7s %7s %7s\n' "$label" "$(maxof "$n" latency hwm_kb)" \
        "$(ratio "$(maxof "$n" latency hwm_kb)" "$(maxof tini latency hwm_kb)")" "$(maxof "$n" latency rss_kb)" \
        "$(maxof "$n" latency anon_kb)" "$(maxof "$n" latency file_kb)" "${pss_priv[0]:--}" "${pss_priv[1]:--}" \
        "$(maxof "$n" latency threads)"
}
mem_row tini tini
mem_row dumb-init dumb-init
mem_row installer installer
mem_row "installer --health-listen" installer-health
mem_row "(the child alone)" direct
echo "   (installer --health-listen: /readyz /livez /healthz /status were each fetched before the reading)"
echo

echo "2. Signal forwarding latency, us: CLOCK_MONOTONIC before kill(supervisor, SIGUSR1) -> at entry of the"
echo "   child's handler; $signals signals per supervisor, each after the previous one was acknowledged"
printf '   %-27s %8s %7s %8s %7s %8s %8s  %s\n' supervisor median "x tini" p99 "x tini" min max "round medians"
lat_row() {
    local label="$1" n="$2"
    printf '   %-27s %8s %7s %8s %7s %8s %8s  %s\n' "$label" \
        "$(fmt "$(field "$n.latency" 0)" 1)" "$(ratio "$(field "$n.latency" 0)" "$(field tini.latency 0)")" \
        "$(fmt "$(field "$n.latency" 1)" 1)" "$(ratio "$(field "$n.latency" 1)" "$(field tini.latency 1)")" \
        "$(fmt "$(field "$n.latency" 2)" 1)" "$(fmt "$(field "$n.latency" 3)" 1)" "$(spread "$n" latency)"
}
lat_row tini tini
lat_row dumb-init dumb-init
lat_row installer installer
lat_row "installer --health-listen" installer-health
lat_row "(kill the child directly)" direct
echo

echo "3. Startup, ms: CLOCK_MONOTONIC just before execve(supervisor) -> at the child's main();"
echo "   $starts starts per supervisor, each stopped with SIGTERM before the next"
printf '   %-27s %8s %7s %8s %8s %8s\n' supervisor median "x tini" p99 min max
start_row() {
    local label="$1" n="$2"
    printf '   %-27s %8s %7s %8s %8s %8s\n' "$label" \
        "$(ms "$(field "$n.startup" 0)")" "$(ratio "$(field "$n.startup" 0)" "$(field tini.startup 0)")" \
        "$(ms "$(field "$n.startup" 1)")" "$(ms "$(field "$n.startup" 2)")" "$(ms "$(field "$n.startup" 3)")"
}
start_row tini tini
start_row dumb-init dumb-init
start_row "installer (no-op start)" installer
start_row "(exec the child directly)" direct
if [[ -s "$work/installer.phases" ]]; then
    echo "   installer's no-op start from its log (median, ms): found the updates -> 'nothing to do'" \
        "$(median "$work/installer.phases" 1); 'nothing to do' -> 'started' $(median "$work/installer.phases" 2)" \
        "($(wc -l <"$work/installer.phases") starts, warm-up included)"
fi
for n in tini dumb-init installer; do
    bad=0
    for ((r = 1; r <= rounds; r++)); do bad=$((bad + ${R[$n.startup.bad_exits.$r]:-0})); done
    if [[ "$bad" -ne 0 ]]; then echo "   note: $n did not exit 0 after SIGTERM in $bad of its starts"; fi
done
echo

# Where installer's resident memory is: RSS per mapping, largest first.
for n in installer installer-health; do
    [[ -s "$work/$n.smaps" ]] || continue
    echo "   RSS of $n by mapping, kB (resident / of it anonymous / private), largest first:"
    awk '
        /^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "[anonymous]"; next }
        /^Rss:/ { rss[name] += $2 }
        /^Anonymous:/ { anon[name] += $2 }
        /^Private_(Clean|Dirty):/ { priv[name] += $2 }
        END { for (n in rss) if (rss[n] > 0) printf "%d %d %d %s\n", rss[n], anon[n], priv[n], n }
    ' "$work/$n.smaps" | sort -rn | head -n 8 | while read -r rss anon priv name; do
        printf '     %7s %7s %7s  %s\n' "$rss" "$anon" "$priv" "${name##*/}"
    done
    awk '
        /^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : ""; if (name ~ /\.so(\.|$)/) so[name] = 1; next }
        /^Rss:/ { if (name ~ /\.so(\.|$)/) lib += $2 }
        END { n = 0; for (k in so) n++; printf "     %d shared objects mapped, %d kB of the RSS\n", n, lib }
    ' "$work/$n.smaps"
done
