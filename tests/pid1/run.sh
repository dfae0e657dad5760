#!/usr/bin/env bash
# Black-box scenarios for the installer's PID-1 supervisor (docs/supervisor.md).
#
#   tests/pid1/run.sh INSTALLER [PID1_HELPER] [SCENARIO...]
#   tests/pid1/run.sh --list
#
# Runs every scenario of tests/pid1/scenarios/ (or only those named: `orphans`,
# `signals`, ...; the file name without .sh), each in a bash process of its own, and prints
# PASS, FAIL or SKIP with its time for each, then "N passed, M failed, K skipped".
# A scenario runs the built installer in a PID namespace of its own (`unshare --pid
# --fork --mount-proc`, where it is PID 1) or as an ordinary child (where it makes itself
# a child subreaper), with tests/pid1/helper.cpp as the application (built here with g++
# when PID1_HELPER is not given or is "").
#
# Needs root and unshare; without them it exits 77 (ctest: skipped). Scenarios whose
# installer must reach a database (PID1_NEEDS=db in the file) use the servers
# scripts/test.sh starts:
#   INSTALLER_TEST_PG_URL        postgresql://USER:PW@HOST:PORT/DB
#   INSTALLER_TEST_MARIADB_URL   mariadb://USER:PW@HOST:PORT/
# and are skipped without either (or without the psql / mariadb client); the others
# (PID1_NEEDS=none) run anyway. The engine-neutral cases run on PostgreSQL when it is
# there, else on MariaDB; the per-engine ones on each engine that is configured.
# tests/pid1/lib.sh is the harness and says how a scenario file is written.
#
# Exit: 0 when every scenario that ran passed, 1 when one failed, 77 when none could run.
# PID1_ONLY=REGEX runs only the cases whose title matches; PID1_KEEP=1 keeps the work
# directories.
set -u -o pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SCENARIOS=$HERE/scenarios

usage() {
    echo "usage: tests/pid1/run.sh INSTALLER [PID1_HELPER] [SCENARIO...]; tests/pid1/run.sh --list" >&2
    exit 2
}
all_names() {
    local f
    for f in "$SCENARIOS"/*.sh; do basename "$f" .sh; done
}
if [[ ${1:-} == --list ]]; then
    all_names
    exit 0
fi
[[ $# -ge 1 && $1 != -* ]] || usage
INSTALLER=$1
HELPER=${2:-}
shift $(($# >= 2 ? 2 : 1))

NAMES=("$@")
if [[ ${#NAMES[@]} -eq 0 ]]; then
    mapfile -t NAMES < <(all_names)
fi
for name in "${NAMES[@]}"; do
    name=${name%.sh}
    [[ -f $SCENARIOS/${name##*/}.sh ]] || { echo "no scenario '$name' (tests/pid1/run.sh --list names them)"; exit 2; }
done

# Everything below can only say "skipped": nothing ran.
cannot_run() {
    echo "SKIP (every scenario): $*"
    echo "0 passed, 0 failed, ${#NAMES[@]} skipped"
    exit 77
}
[[ -x $INSTALLER ]] || { echo "no installer binary at $INSTALLER"; echo "0 passed, 1 failed"; exit 1; }
INSTALLER=$(readlink -f "$INSTALLER")
[[ $(id -u) == 0 ]] || cannot_run "needs root (PID namespaces, --user)"
unshare --pid --fork --mount-proc true 2>/dev/null || cannot_run "cannot create a PID namespace (unshare --pid --fork --mount-proc)"

WORK=$(mktemp -d /tmp/installer-pid1.XXXXXX)
chmod 755 "$WORK"  # the --user cases write below it as nobody
# shellcheck disable=SC2317  # run by the trap
cleanup() {
    if [[ ${PID1_KEEP:-0} == 1 ]]; then echo "work directories kept under $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z $HELPER ]]; then
    HELPER=$WORK/pid1_helper
    g++ -std=c++17 -O1 -o "$HELPER" "$HERE/helper.cpp" || cannot_run "cannot build tests/pid1/helper.cpp (g++, nlohmann-json3-dev)"
fi
HELPER=$(readlink -f "$HELPER")

us() { echo "${EPOCHREALTIME/./}"; }
secs() { local t=$((($2 - $1) / 1000)); echo "$((t / 1000)).$(printf '%03d' $((t % 1000)))s"; }

engines=()
[[ -n ${INSTALLER_TEST_PG_URL:-} ]] && engines+=(postgres)
[[ -n ${INSTALLER_TEST_MARIADB_URL:-} ]] && engines+=(mariadb)
echo "pid1 scenarios: $INSTALLER; engines: ${engines[*]:-none (the database scenarios are skipped)}; ${#NAMES[@]} scenario(s)"

suite_start=$(us)
passed=0 failed=0 skipped=0
summary=()
for name in "${NAMES[@]}"; do
    name=${name%.sh}
    name=${name##*/}
    echo
    echo "==== $name"
    start=$(us)
    # Its own process, in the foreground (as the scenarios ran before: a background job
    # would start with SIGINT and SIGQUIT ignored): its own work directory, scratch
    # databases and traps.
    PID1_INSTALLER=$INSTALLER PID1_HELPER=$HELPER PID1_WORK=$WORK \
        bash -c 'source "$1" && pid1_run_file "$2"' pid1 "$HERE/lib.sh" "$SCENARIOS/$name.sh" \
        </dev/null 2>&1 | tee "$WORK/$name.log"
    rc=${PIPESTATUS[0]}
    t=$(secs "$start" "$(us)")
    case $rc in
    0) line="PASS  $name ($t)" passed=$((passed + 1)) ;;
    77)
        why=$(grep -m1 '^skip  (every case' "$WORK/$name.log" | sed 's/^skip  (every case of [^)]*): //')
        line="SKIP  $name ($t)${why:+: $why}" skipped=$((skipped + 1))
        ;;
    *) line="FAIL  $name ($t)" failed=$((failed + 1)) ;;
    esac
    echo "$line"
    summary+=("$line")
done

echo
echo "==== summary"
printf '%s\n' "${summary[@]}"
echo "total $(secs "$suite_start" "$(us)")"
echo "$passed passed, $failed failed, $skipped skipped"
((failed > 0)) && exit 1
((passed > 0)) || exit 77
exit 0
