#!/usr/bin/env bash
# Black-box scenarios for the installer's PID-1 supervisor (docs/supervisor.md).
#
#   tests/pid1/run.sh INSTALLER [PID1_HELPER]
#
# Runs the built installer in a PID namespace of its own (`unshare --pid --fork
# --mount-proc`, where it is PID 1) and, for a few scenarios, as an ordinary child of this
# script (where it makes itself a child subreaper), with tests/pid1/helper.cpp as the
# application. Needs root and the database servers scripts/test.sh starts:
#   INSTALLER_TEST_PG_URL        postgresql://USER:PW@HOST:PORT/DB
#   INSTALLER_TEST_MARIADB_URL   mariadb://USER:PW@HOST:PORT/
# Without either (or without root, unshare, or the psql / mariadb clients) it exits 77,
# which ctest reports as skipped. The engine-neutral scenarios run on PostgreSQL when it
# is there, else on MariaDB; the per-engine ones run on each engine that is configured.
# Every scenario gets its own scratch database(s), all dropped at the end.
#
# No sleeps as synchronisation: every wait polls for a condition with a deadline. The
# only fixed delays are deliberate signal timings (scenario 13 sends SIGTERM a swept
# number of microseconds after a log line) and the bounded window in which a signal must
# NOT arrive (scenario 6b).
#
# Under a sanitizer build, installer runs in a PID namespace get abort_on_error=0 appended
# to ASAN_OPTIONS/UBSAN_OPTIONS: as PID 1 an abort() does not end the process (see
# NS_ASAN below), so a report would otherwise turn into a hang. LeakSanitizer works as
# PID 1 and stays on.
#
# Scenarios marked KNOWN BUG reproduce bugs reported against installer/ and fail until
# they are fixed; PID1_SKIP_KNOWN_BUGS=1 skips them. PID1_ONLY=REGEX runs only the
# scenarios whose title matches; PID1_KEEP=1 keeps the work directory.
#
# The output ends with the line "N passed, M failed".
set -u -o pipefail
export LC_ALL=C
ulimit -c 0  # SIGQUIT scenarios must not leave core files behind

INSTALLER=${1:?usage: run.sh INSTALLER [PID1_HELPER]}
HELPER=${2:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
INSTALLER=$(readlink -f "$INSTALLER")
SUITE_START=${EPOCHREALTIME/./}

skip_all() {
    echo "SKIP (every scenario): $*"
    echo "0 passed, 0 failed"
    exit 77
}

[[ -x $INSTALLER ]] || { echo "no installer binary at $INSTALLER"; echo "0 passed, 1 failed"; exit 1; }
PG_URL=${INSTALLER_TEST_PG_URL:-}
MARIA_URL=${INSTALLER_TEST_MARIADB_URL:-}
[[ -n $PG_URL || -n $MARIA_URL ]] || skip_all "neither INSTALLER_TEST_PG_URL nor INSTALLER_TEST_MARIADB_URL is set (scripts/test.sh sets them)"
[[ $(id -u) == 0 ]] || skip_all "needs root (PID namespaces, --user)"
unshare --pid --fork --mount-proc true 2>/dev/null || skip_all "cannot create a PID namespace (unshare --pid --fork --mount-proc)"
if [[ -n $PG_URL ]] && ! command -v psql >/dev/null; then skip_all "psql (postgresql-client) is missing"; fi
MARIA_CLIENT=
if [[ -n $MARIA_URL ]]; then
    MARIA_CLIENT=$(command -v mariadb || command -v mysql) || skip_all "the mariadb client is missing"
fi

W=$(mktemp -d /tmp/installer-pid1.XXXXXX)
chmod 755 "$W"
mkfifo "$W/.nap"
exec {NAPFD}<>"$W/.nap"  # read -t on a pipe nobody writes: a pause without a fork

if [[ -z $HELPER ]]; then
    HELPER=$W/pid1_helper
    g++ -std=c++17 -O1 -o "$HELPER" "$HERE/helper.cpp" || skip_all "cannot build tests/pid1/helper.cpp (g++, nlohmann-json3-dev)"
fi
HELPER=$(readlink -f "$HELPER")

TAG=pid1_$$_$RANDOM
PG_DBS=() MARIA_DBS=() ALL_PIDS=()

cleanup() {
    local p
    # Only what is still running and is ours (an installer or the unshare around one).
    for p in "${ALL_PIDS[@]}"; do
        alive "$p" && tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF -- "$INSTALLER" && kill -KILL "$p" 2>/dev/null
    done
    wait 2>/dev/null
    for p in "${PG_DBS[@]}"; do pg_admin -c "DROP DATABASE IF EXISTS \"$p\"" >/dev/null 2>&1 ||
        pg_admin -c "DROP DATABASE IF EXISTS \"$p\" WITH (FORCE)" >/dev/null 2>&1; done
    for p in "${MARIA_DBS[@]}"; do maria_admin -e "DROP DATABASE IF EXISTS \`$p\`" >/dev/null 2>&1; done
    if [[ ${PID1_KEEP:-0} == 1 ]]; then echo "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- small tools

nap() { read -r -t "$1" -u "$NAPFD" _ || true; }
us() { echo "${EPOCHREALTIME/./}"; }
ms_between() { echo $((($2 - $1) / 1000)); }  # two us() stamps -> milliseconds

# poll_until MS DESCRIPTION COMMAND...: true as soon as COMMAND succeeds; a failure
# of the scenario when MS pass first.
poll_until() {
    local limit=$1 what=$2 start
    shift 2
    start=$(us)
    until "$@"; do
        if (($(us) - start > limit * 1000)); then
            fail "timed out after ${limit}ms waiting for $what"
            return 1
        fi
        nap 0.01
    done
}
# holds_for MS COMMAND...: true when COMMAND stays true for MS (a bounded negative check).
holds_for() {
    local limit=$1 start
    shift
    start=$(us)
    while (($(us) - start < limit * 1000)); do
        "$@" || return 1
        nap 0.01
    done
}
files_exist() { local f; for f in "$@"; do [[ -e $f ]] || return 1; done; }
log_has() { grep -q -- "$2" "$1" 2>/dev/null; }
rec_has() { grep -q "^$2 " "$1" 2>/dev/null; }
rec_time() { awk -v s="$2" '$1 == s { print $2; exit }' "$1" 2>/dev/null; }
rec_sender() { awk -v s="$2" '$1 == s { print $3; exit }' "$1" 2>/dev/null; }

# /proc/PID/stat, split after the command name (which may hold spaces).
stat_fields() { local s; { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1; echo "${s##*) }"; }
alive() { local f; f=$(stat_fields "$1") || return 1; [[ ${f:0:1} != Z ]]; }
state_of() { local f; f=$(stat_fields "$1") || { echo gone; return; }; echo "${f:0:1}"; }
pgrp_of() { local f; f=$(stat_fields "$1") || return 1; set -- $f; echo "$3"; }
# The children of a process: from /proc/PID/task/*/children (every thread's: orphans may
# be re-parented to any thread of the installer), or by scanning /proc where the kernel
# lacks that file (CONFIG_PROC_CHILDREN).
if [[ -e /proc/$$/task/$$/children ]]; then
    children() {
        local f out=
        for f in /proc/"$1"/task/*/children; do [[ -r $f ]] && out+=" $(<"$f")"; done 2>/dev/null
        echo $out
    }
else
    children() {
        local f s out=
        for f in /proc/[0-9]*/stat; do
            { read -r s <"$f"; } 2>/dev/null || continue
            s=${s##*) }
            set -- "$1" $s
            [[ $3 == "$1" ]] && { f=${f#/proc/}; out+=" ${f%/stat}"; }
        done
        echo $out
    }
fi
descendants() { local c; for c in $(children "$1"); do echo "$c"; descendants "$c"; done; }
describe_tree() {
    local c
    for c in $(descendants "$IPID"); do
        echo "      pid $c state $(state_of "$c") $(tr '\0' ' ' 2>/dev/null <"/proc/$c/cmdline" | cut -c1-80)"
    done
}
# The pid, as seen from here, of the descendant of the installer whose own pid (in its
# namespace) is $1.
host_pid_of() {
    local c l
    if [[ $MODE == sub ]]; then echo "$1"; return; fi
    for c in $(descendants "$IPID"); do
        l=$(grep '^NSpid:' "/proc/$c/status" 2>/dev/null) || continue
        [[ ${l##*[[:space:]]} == "$1" ]] && { echo "$c"; return; }
    done
    return 1
}

# ---------------------------------------------------------------- databases

pg_admin() { psql "$PG_URL" -v ON_ERROR_STOP=1 -qAt "$@"; }
if [[ -n $PG_URL ]]; then
    [[ $PG_URL =~ ^([a-z]+://[^/?]*)(/[^?]*)?(\?.*)?$ ]] || skip_all "cannot parse INSTALLER_TEST_PG_URL"
    PG_BASE=${BASH_REMATCH[1]} PG_QUERY=${BASH_REMATCH[3]}
fi
pg_url_for() { echo "$PG_BASE/$1$PG_QUERY"; }

if [[ -n $MARIA_URL ]]; then
    [[ $MARIA_URL =~ ^([a-z]+)://(([^:@/]*)(:([^@/]*))?@)?([^:/?]+)(:([0-9]+))?(/[^?]*)?(\?.*)?$ ]] ||
        skip_all "cannot parse INSTALLER_TEST_MARIADB_URL"
    M_SCHEME=${BASH_REMATCH[1]} M_USER=${BASH_REMATCH[3]} M_PW=${BASH_REMATCH[5]}
    M_HOST=${BASH_REMATCH[6]} M_PORT=${BASH_REMATCH[8]:-3306} M_QUERY=${BASH_REMATCH[10]}
    M_AUTH=${MARIA_URL#*://}
    M_AUTH=${M_AUTH%%@*}
    M_PW_PLAIN=$(printf '%b' "${M_PW//%/\\x}")
fi
maria_admin() {
    MYSQL_PWD=$M_PW_PLAIN "$MARIA_CLIENT" --protocol=tcp -h "$M_HOST" -P "$M_PORT" -u "$(printf '%b' "${M_USER//%/\\x}")" -N -B "$@"
}
maria_url_for() { echo "$M_SCHEME://$M_AUTH@$M_HOST:$M_PORT/$1$M_QUERY"; }

# scratch_db ENGINE NAME: creates a database and sets DBURL to it.
scratch_db() {
    local db=${TAG}_$2
    if [[ $1 == postgres ]]; then
        pg_admin -c "CREATE DATABASE \"$db\"" >/dev/null || { fail "cannot create database $db"; return 1; }
        PG_DBS+=("$db")
        DBURL=$(pg_url_for "$db")
    else
        maria_admin -e "CREATE DATABASE \`$db\`" >/dev/null || { fail "cannot create database $db"; return 1; }
        MARIA_DBS+=("$db")
        DBURL=$(maria_url_for "$db")
    fi
    DBNAME=$db
}
# tables_like ENGINE DB NAME...: how many of the named tables exist.
tables_count() {
    local engine=$1 db=$2 list
    shift 2
    list=$(printf "'%s'," "$@")
    list=${list%,}
    if [[ $engine == postgres ]]; then
        psql "$(pg_url_for "$db")" -qAt -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ($list)"
    else
        maria_admin -e "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$db' AND table_name IN ($list)"
    fi
}

MAIN_ENGINE=postgres
[[ -z $PG_URL ]] && MAIN_ENGINE=mariadb
engine_configured() {
    case $1 in
    postgres) [[ -n $PG_URL ]] || { skip "INSTALLER_TEST_PG_URL is not set"; return 1; } ;;
    mariadb) [[ -n $MARIA_URL ]] || { skip "INSTALLER_TEST_MARIADB_URL is not set"; return 1; } ;;
    esac
}
ENGINES=()
[[ -n $PG_URL ]] && ENGINES+=(postgres)
[[ -n $MARIA_URL ]] && ENGINES+=(mariadb)

# ---------------------------------------------------------------- update directories

# write_step DIR NAME UP_POSTGRES UP_MARIADB DOWN_POSTGRES DOWN_MARIADB
write_step() {
    mkdir -p "$1"
    printf '%s\n' "$3" >"$1/$2.postgres.up.sql"
    printf '%s\n' "$4" >"$1/$2.mariadb.up.sql"
    printf '%s\n' "$5" >"$1/$2.postgres.down.sql"
    printf '%s\n' "$6" >"$1/$2.mariadb.down.sql"
}
U_TRIVIAL=$W/u-trivial U_SLOW=$W/u-slow U_CANCEL=$W/u-cancel U_FAIL=$W/u-fail
mkdir -p "$U_TRIVIAL/2000.1.0"
echo 'CREATE TABLE pid1_trivial (id int);' >"$U_TRIVIAL/2000.1.0/001_trivial.up.sql"
echo 'DROP TABLE IF EXISTS pid1_trivial;' >"$U_TRIVIAL/2000.1.0/001_trivial.down.sql"
# Three statements: a table, two seconds of sleep, another table.
write_step "$U_SLOW/2100.1.0" 001_slow \
    $'CREATE TABLE pid1_first (id int);\nSELECT pg_sleep(2);\nCREATE TABLE pid1_second (id int);' \
    $'CREATE TABLE pid1_first (id int);\nDO SLEEP(2);\nCREATE TABLE pid1_second (id int);' \
    $'DROP TABLE IF EXISTS pid1_second;\nDROP TABLE IF EXISTS pid1_first;' \
    $'DROP TABLE IF EXISTS pid1_second;\nDROP TABLE IF EXISTS pid1_first;'
# The same with a statement far longer than any grace period: it must be cancelled.
write_step "$U_CANCEL/2200.1.0" 001_very_slow \
    $'CREATE TABLE pid1_first (id int);\nSELECT pg_sleep(60);\nCREATE TABLE pid1_second (id int);' \
    $'CREATE TABLE pid1_first (id int);\nDO SLEEP(60);\nCREATE TABLE pid1_second (id int);' \
    $'DROP TABLE IF EXISTS pid1_second;\nDROP TABLE IF EXISTS pid1_first;' \
    $'DROP TABLE IF EXISTS pid1_second;\nDROP TABLE IF EXISTS pid1_first;'
# A failing update whose revert takes a second (so "reverting" can be watched): step 001
# commits on its own and its down script sleeps; step 002 divides by zero.
write_step "$U_FAIL/2300.1.0" 001_make \
    'CREATE TABLE pid1_failed (id int);' 'CREATE TABLE pid1_failed (id int);' \
    $'SELECT pg_sleep(1);\nDROP TABLE IF EXISTS pid1_failed;' $'DO SLEEP(1);\nDROP TABLE IF EXISTS pid1_failed;'
write_step "$U_FAIL/2300.1.0" 002_fail 'SELECT 1/0;' \
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'pid1 scenario: this update fails';" 'SELECT 1;' 'SELECT 1;'
printf '[steps.001_make]\ntransaction = false\n' >"$U_FAIL/2300.1.0/update.toml"

# ---------------------------------------------------------------- the installer

MAIN_DB_URL=
# use_main: the shared database with the trivial update (applied by its first run).
use_main() {
    if [[ -z $MAIN_DB_URL ]]; then
        scratch_db "$MAIN_ENGINE" main || return 1
        MAIN_DB_URL=$DBURL
    fi
    DBURL=$MAIN_DB_URL UPDATES=$U_TRIVIAL
}

# A sanitizer build that aborts as PID 1 of a namespace does not die (the kernel ignores
# the signals init raises at itself without a handler): abort() spins. There a sanitizer
# report ends the process with exit code 1 instead; it is still reported, and still fails.
NS_ASAN=()
[[ -n ${ASAN_OPTIONS:-} ]] && NS_ASAN=(ASAN_OPTIONS="$ASAN_OPTIONS:abort_on_error=0")
[[ -n ${UBSAN_OPTIONS:-} ]] && NS_ASAN+=(UBSAN_OPTIONS="$UBSAN_OPTIONS:abort_on_error=0")

# launch ns|sub NAME INSTALLER-ARGS... : starts the installer in the background with
# INSTALLER_DB_URL=$DBURL and INSTALLER_UPDATES=$UPDATES (plus EXTRA_ENV), stdin from
# /dev/null, stdout to $W/NAME.out, stderr to $W/NAME.err (or to $ERR_TO when set).
# Sets MODE, LPID (what this shell started), IPID (the installer itself, as seen from
# here: in "ns" mode the child of unshare), LOG.
launch() {
    MODE=$1
    local name=$2 err
    shift 2
    LOG=$W/$name.err
    err=${ERR_TO:-$LOG}
    CUR_LOGS+=("$LOG")
    local -a pre=(env INSTALLER_DB_URL="$DBURL" INSTALLER_UPDATES="$UPDATES" INSTALLER_CONNECT_TIMEOUT=10s
        INSTALLER_LOCK_TIMEOUT=60s "${EXTRA_ENV[@]}")
    [[ $MODE == ns ]] && pre+=("${NS_ASAN[@]}")
    if [[ $MODE == ns ]]; then
        "${pre[@]}" unshare --pid --fork --mount-proc "${WRAP[@]}" "$INSTALLER" "$@" </dev/null >"$W/$name.out" 2>"$err" &
        LPID=$!
        ALL_PIDS+=("$LPID")
        IPID=
        local comm want
        want=$(basename "$INSTALLER")
        want=${want:0:15}
        local start
        start=$(us)
        while :; do
            for IPID in $(children "$LPID"); do
                { read -r comm <"/proc/$IPID/comm"; } 2>/dev/null && [[ $comm == "$want" ]] && break 2
            done
            IPID=
            # Gone already (an error before anything started): wait_exit has its code.
            alive "$LPID" || { IPID=$LPID; return 0; }
            if (($(us) - start > 5000000)); then
                fail "the installer did not start in its PID namespace"
                IPID=$LPID
                return 1
            fi
            nap 0.005
        done
        ALL_PIDS+=("$IPID")
    else
        "${pre[@]}" "${WRAP[@]}" "$INSTALLER" "$@" </dev/null >"$W/$name.out" 2>"$err" &
        LPID=$!
        IPID=$LPID
        ALL_PIDS+=("$LPID")
    fi
}
EXTRA_ENV=() WRAP=()  # WRAP: a command that execs the installer (setpriv)

# wait_exit MS: waits (bounded) for the installer to exit; sets RC and EXIT_US (when
# this shell saw it gone). On timeout: a failure, the installer is killed, RC=timeout.
wait_exit() {
    local limit=$1 start
    start=$(us)
    while alive "$LPID"; do
        if (($(us) - start > limit * 1000)); then
            fail "the installer was still running ${limit}ms later; killed it"
            describe_tree
            kill -KILL "$IPID" "$LPID" 2>/dev/null
            wait "$LPID" 2>/dev/null
            RC=timeout
            EXIT_US=$(us)
            return 1
        fi
        nap 0.005
    done
    EXIT_US=$(us)
    wait "$LPID"
    RC=$?
}
expect_rc() { [[ $RC == "$1" ]] || fail "exit code $RC, expected $1${2:+ ($2)}"; }
# elapsed_between FROM_US TO_US MIN_MS MAX_MS WHAT
expect_elapsed() {
    local ms
    ms=$(ms_between "$1" "$2")
    ((ms >= $3 && ms <= $4)) || fail "$5 took ${ms}ms, expected ${3}..${4}ms"
    ELAPSED_MS=$ms
}
# stop_now: ends a scenario that went wrong, bounded.
stop_now() {
    kill -TERM "$IPID" 2>/dev/null
    wait_exit 3000 >/dev/null
}

# ---------------------------------------------------------------- health endpoint

get_hport() { HPORT=$(grep -o 'health endpoint on 127.0.0.1:[0-9]*' "$LOG" 2>/dev/null | head -1 | grep -o '[0-9]*$'); [[ -n $HPORT ]]; }
wait_hport() { poll_until 10000 "the health endpoint's address in the log" get_hport; }
# http PATH: sets HTTP_STATUS and HTTP_BODY (trailing newlines dropped).
http() {
    local out
    out=$("$HELPER" http 127.0.0.1 "$HPORT" "$1" 2000) || { HTTP_STATUS=none HTTP_BODY=; return 1; }
    HTTP_STATUS=${out%%$'\n'*}
    HTTP_BODY=${out#*$'\n'}
}
jget() { "$HELPER" jget "$1" <<<"$HTTP_BODY" 2>/dev/null; }
# status_updating ID: /status says the update ID runs and its first statement is done.
status_updating() {
    http /status || return 1
    [[ $(jget phase) == updating && $(jget update.id) == "$1" ]] || return 1
    local done
    done=$(jget update.statements_done)
    [[ $done =~ ^[0-9]+$ ]] && ((done >= 1))
}
expect_http() {  # PATH STATUS [BODY]
    http "$1"
    [[ $HTTP_STATUS == "$2" ]] || fail "GET $1: $HTTP_STATUS, expected $2 (body: $HTTP_BODY)"
    [[ $# -lt 3 || $HTTP_BODY == "$3" ]] || fail "GET $1: body '$HTTP_BODY', expected '$3'"
}

# ---------------------------------------------------------------- scenario bookkeeping

PASSED=0 FAILED=0 SKIPPED=0
FAILED_TITLES=()
fail() {
    CUR_FAIL=1
    echo "    FAIL: $*"
}
note() { echo "    note: $*"; }
skip() { CUR_SKIP=$*; }

# scenario TITLE KNOWN_BUG FUNCTION ARGS...: KNOWN_BUG is "" or the bug's one-line summary.
scenario() {
    local title=$1 known=$2 start t
    shift 2
    if [[ -n ${PID1_ONLY:-} && ! $title =~ $PID1_ONLY ]]; then return; fi
    if [[ -n $known && ${PID1_SKIP_KNOWN_BUGS:-0} == 1 ]]; then
        echo "skip  $title (KNOWN BUG, PID1_SKIP_KNOWN_BUGS=1)"
        SKIPPED=$((SKIPPED + 1))
        return
    fi
    CUR_FAIL=0 CUR_SKIP= CUR_LOGS=() EXTRA_ENV=() WRAP=() ERR_TO=
    echo "----  $title${known:+   [KNOWN BUG: $known]}"
    start=$(us)
    "$@"
    t=$(ms_between "$start" "$(us)")
    t="$((t / 1000)).$(printf '%03d' $((t % 1000)))s"
    if [[ -n $CUR_SKIP && $CUR_FAIL == 0 ]]; then
        echo "skip  $title: $CUR_SKIP"
        SKIPPED=$((SKIPPED + 1))
    elif [[ $CUR_FAIL == 0 ]]; then
        echo "ok    $title ($t)"
        PASSED=$((PASSED + 1))
    else
        local f
        for f in "${CUR_LOGS[@]}"; do
            [[ -s $f ]] || continue
            echo "    --- installer stderr ($(basename "$f")), last lines:"
            tail -n 15 "$f" | sed 's/^/      /'
        done
        echo "FAIL  $title ($t)${known:+   [KNOWN BUG: $known]}"
        FAILED=$((FAILED + 1))
        FAILED_TITLES+=("$title${known:+ [KNOWN BUG]}")
    fi
}

# ================================================================ scenarios

# 1. Orphans: the application abandons 20 grandchildren (double fork); each checks it was
# re-parented to the installer (PID 1 / the subreaper) and exits. Then nothing may be
# left under the installer but the application: no zombie, while the application runs.
sc_orphans() {
    local mode=$1 d=$W/orphans-$1 i p want bad=0 app
    mkdir -p "$d"
    use_main || return
    launch "$mode" "orphans-$mode" -- "$HELPER" orphans 20 "$d" --ready "$d/app.ready" --exit-on TERM --max-life 20000 || return
    if ! poll_until 10000 "the application to abandon 20 grandchildren" files_exist "$d/app.ready" "$d"/orphan.{0..19}; then
        stop_now
        return
    fi
    want=1
    [[ $mode == sub ]] && want=$IPID
    for i in {0..19}; do
        read -r p <"$d/orphan.$i"
        [[ $p == "$want" ]] || { bad=$((bad + 1)); note "orphan $i was re-parented to pid $p"; }
    done
    ((bad == 0)) || fail "$bad of 20 orphans were not re-parented to the installer (pid $want in its namespace)"
    app=$(host_pid_of "$(<"$d/app.ready")") || { fail "cannot find the application under the installer"; stop_now; return; }
    only_app_left() { local t; t=$(descendants "$IPID" | tr '\n' ' '); [[ ${t% } == "$app" ]]; }
    if ! poll_until 3000 "every orphan reaped (nothing but the application left under the installer)" only_app_left; then
        echo "    left under the installer:"
        describe_tree
    fi
    alive "$app" || fail "the application is not running any more"
    kill -TERM "$IPID"
    wait_exit 5000 && expect_rc 0
}

# 2a. Leftovers get SIGTERM and time to finish: the application exits 5 while a background
# grandchild traps TERM, records it and needs 300ms more to finish; --grace 5s.
sc_drain_finish() {
    local d=$W/drain-finish t_term t_fin
    mkdir -p "$d"
    use_main || return
    launch ns drain-finish --grace 5s -- sh -c '"$0" sigrec "$1/g.rec" --ready "$1/g.ready" --finish-after 300 --max-life 20000 &
        "$0" waitfile "$1/g.ready" 5000 || exit 99; exit 5' "$HELPER" "$d" || return
    wait_exit 8000 || return
    expect_rc 5 "the application's code, not the leftover's"
    t_term=$(rec_time "$d/g.rec" TERM)
    t_fin=$(rec_time "$d/g.rec" finished)
    [[ -n $t_term ]] || { fail "the leftover grandchild never got SIGTERM"; return; }
    [[ -n $t_fin ]] || { fail "the leftover grandchild was not given the time to finish (no 'finished' record)"; return; }
    ((EXIT_US >= t_fin)) || fail "the installer exited before the leftover finished"
    expect_elapsed "$t_term" "$EXIT_US" 300 2500 "from the leftover's SIGTERM to the installer's exit (it needs 300ms; --grace is 5s)"
    log_has "$LOG" "other process" || fail "no log line about the process left behind"
}

# 2b. A leftover that ignores SIGTERM is SIGKILLed once --grace 1s is over.
sc_drain_kill() {
    local mode=$1 d=$W/drain-kill-$1 t0 g
    mkdir -p "$d"
    use_main || return
    launch "$mode" "drain-kill-$mode" --grace 1s -- sh -c '"$0" sigrec "$1/g.rec" --ready "$1/g.ready" --ignore TERM --max-life 20000 &
        "$0" waitfile "$1/g.ready" 5000 || exit 99; exit 6' "$HELPER" "$d" || return
    poll_until 10000 "the grandchild to start" files_exist "$d/g.ready" || { stop_now; return; }
    t0=$(us)
    wait_exit 5000 || return
    expect_rc 6
    expect_elapsed "$t0" "$EXIT_US" 900 3000 "from the application's exit to the installer's (--grace 1s for the leftover)"
    if [[ $mode == sub ]]; then
        g=$(<"$d/g.ready")
        alive "$g" && fail "the leftover (pid $g) that ignores SIGTERM is still running after the installer exited"
    fi
}

# 3. Every catchable signal reaches the application, sent by the installer.
sc_signals() {
    local mode=$1 d=$W/signals-$1 s sender want
    mkdir -p "$d"
    use_main || return
    launch "$mode" "signals-$mode" -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --die TERM --max-life 20000 || return
    poll_until 10000 "the application to start" files_exist "$d/a.ready" || { stop_now; return; }
    want=1
    [[ $mode == sub ]] && want=$IPID
    for s in USR1 USR2 WINCH CONT HUP INT QUIT TSTP; do
        kill -s "$s" "$IPID"
        if poll_until 2000 "SIG$s to reach the application" rec_has "$d/a.rec" "$s"; then
            sender=$(rec_sender "$d/a.rec" "$s")
            [[ $sender == "$want" ]] || fail "SIG$s came from pid $sender, not from the installer ($want)"
        fi
    done
    kill -TERM "$IPID"
    wait_exit 5000 || return
    expect_rc 143 "the application died of SIGTERM"
    rec_has "$d/a.rec" TERM || fail "the application did not record SIGTERM"
}

# 3b. Terminating signals: the installer exits 128+N when the application dies of N.
sc_signal_exit() {
    local s=$1 code=$2 d=$W/sigexit-$1
    mkdir -p "$d"
    use_main || return
    launch ns "sigexit-$s" -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --die "$s" --max-life 20000 || return
    poll_until 10000 "the application to start" files_exist "$d/a.ready" || { stop_now; return; }
    kill -s "$s" "$IPID"
    wait_exit 5000 || return
    expect_rc "$code" "died of SIG$s"
    rec_has "$d/a.rec" "$s" || fail "the application did not record SIG$s"
}
sc_signal_default_action() {  # SIGUSR1 to an application that does not handle it
    use_main || return
    launch ns usr1-default -- sleep 30 || return
    poll_until 5000 "sleep to run" has_sleep_child || { stop_now; return; }
    kill -USR1 "$IPID"
    wait_exit 5000 && expect_rc 138 "sleep died of SIGUSR1"
}
has_sleep_child() {
    local c comm
    for c in $(children "$IPID"); do
        { read -r comm <"/proc/$c/comm"; } 2>/dev/null && [[ $comm == sleep ]] && return 0
    done
    return 1
}

# 4. Exit codes.
run_for_code() {  # MODE EXPECTED NAME [EXTRA-INSTALLER-ARGS] -- CMD...
    local mode=$1 want=$2 name=$3
    shift 3
    launch "$mode" "code-$name" "$@" || return
    wait_exit 5000 || return
    expect_rc "$want" "$name"
}
sc_exit_codes() {
    local d=$W/codes
    mkdir -p "$d/dir" "$d/bin"
    printf '#!/bin/sh\nexit 0\n' >"$d/noexec.sh"
    chmod 644 "$d/noexec.sh"
    printf 'this is not a program\n' >"$d/noshebang"
    chmod 755 "$d/noshebang"
    printf '#!/bin/sh\nexit 0\n' >"$d/bin/pid1-noexec"
    chmod 644 "$d/bin/pid1-noexec"
    use_main || return
    run_for_code ns 0 exit0 -- sh -c 'exit 0'
    run_for_code ns 3 exit3 -- sh -c 'exit 3'
    run_for_code ns 255 exit255 -- sh -c 'exit 255'
    run_for_code ns 137 sigkill -- sh -c 'kill -KILL $$'
    run_for_code ns 143 sigterm -- sh -c 'kill -TERM $$'
    run_for_code ns 127 missing-path -- "$d/no/such/program"
    log_has "$LOG" "$d/no/such/program" || fail "the 127 message does not name the program"
    run_for_code ns 127 missing-name -- pid1-no-such-command
    log_has "$LOG" "pid1-no-such-command" || fail "the 127 message does not name the command"
    run_for_code ns 126 not-executable -- "$d/noexec.sh"
    log_has "$LOG" "noexec.sh" || fail "the 126 message does not name the file"
    run_for_code ns 126 directory -- "$d/dir"
    run_for_code ns 126 no-shebang -- "$d/noshebang"
    EXTRA_ENV=(PATH="$d/bin:$PATH")
    run_for_code ns 126 not-executable-on-path -- pid1-noexec
    EXTRA_ENV=()
    run_for_code sub 3 sub-exit3 -- sh -c 'exit 3'
    run_for_code sub 137 sub-sigkill -- sh -c 'kill -KILL $$'
    run_for_code sub 127 sub-missing -- pid1-no-such-command
}

# 5. SIGTERM escalates to SIGKILL after --grace.
sc_grace() {
    local d=$W/grace t0
    mkdir -p "$d"
    use_main || return
    launch ns grace --grace 1s -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --ignore TERM --max-life 20000 || return
    poll_until 10000 "the application to start" files_exist "$d/a.ready" || { stop_now; return; }
    t0=$(us)
    kill -TERM "$IPID"
    wait_exit 6000 || return
    expect_rc 137 "SIGKILL after the grace period"
    expect_elapsed "$t0" "$EXIT_US" 1000 3000 "from SIGTERM to the exit (--grace 1s)"
    log_has "$LOG" "grace period" || fail "no log line about the escalation"
}

# 6. --process-group: SIGTERM reaches the application's own child too; without it only
# the application. The application holds its exit until told, so the grandchild's TERM
# can only have come through the group, not from the leftover drain.
sc_process_group() {
    local with=$1 d=$W/pgroup-$1 app pg ipg
    mkdir -p "$d"
    use_main || return
    local -a opt=()
    [[ $with == with ]] && opt=(--process-group)
    launch ns "pgroup-$with" "${opt[@]}" -- sh -c '"$0" sigrec "$1/g.rec" --ready "$1/g.ready" --exit-on TERM --max-life 20000 &
        "$0" waitfile "$1/g.ready" 5000 || exit 99
        exec "$0" sigrec "$1/a.rec" --ready "$1/a.ready" --hold-until "$1/release" --max-life 20000' "$HELPER" "$d" || return
    poll_until 10000 "the application and its child to start" files_exist "$d/a.ready" "$d/g.ready" || { stop_now; return; }
    app=$(host_pid_of "$(<"$d/a.ready")") || { fail "cannot find the application"; stop_now; return; }
    pg=$(pgrp_of "$app")
    ipg=$(pgrp_of "$IPID")
    if [[ $with == with ]]; then
        [[ $pg == "$app" ]] || fail "with --process-group the application should lead its own group (pgid $pg, pid $app)"
    else
        [[ $pg == "$ipg" ]] || fail "without --process-group the application should stay in the installer's group ($pg vs $ipg)"
    fi
    kill -TERM "$IPID"
    poll_until 3000 "SIGTERM to reach the application" rec_has "$d/a.rec" TERM
    if [[ $with == with ]]; then
        poll_until 3000 "SIGTERM to reach the application's child through the process group" rec_has "$d/g.rec" TERM
    else
        no_term() { ! rec_has "$d/g.rec" TERM; }
        holds_for 500 no_term || fail "without --process-group the application's child got SIGTERM while the application still ran"
    fi
    touch "$d/release"
    wait_exit 5000 || return
    expect_rc 0
    [[ $with == without ]] && ! rec_has "$d/g.rec" TERM && fail "the leftover child never got SIGTERM after the application exited"
    return 0
}

# 7. --user: the application runs with the user's uid, gid, groups and HOME.
sc_user() {
    local d=$W/user entry uid gid home groups ngid got want
    mkdir -p "$d"
    chmod 1777 "$d"
    use_main || return
    entry=$(getent passwd nobody) || { skip "no user nobody in this image"; return; }
    IFS=: read -r _ _ uid gid _ home _ <<<"$entry"
    groups=$(id -G nobody)
    local prog='printf "%s|%s|%s|%s|%s|%s\n" "$(id -u)" "$(id -g)" "$(id -G)" "$HOME" "$USER" "$LOGNAME" >"$0"'
    # The installer itself gets supplementary groups nobody does not have: they must not
    # reach the application.
    command -v setpriv >/dev/null && WRAP=(setpriv --groups 1,2,3 --)
    run_for_code ns 0 user-nobody --user nobody -- sh -c "$prog" "$d/nobody"
    want="$uid|$gid|$groups|$home|nobody|nobody"
    got=$(cat "$d/nobody" 2>/dev/null)
    [[ $got == "$want" ]] || fail "--user nobody: uid|gid|groups|HOME|USER|LOGNAME = '$got', expected '$want'"
    if ngid=$(getent group nogroup | cut -d: -f3) && [[ -n $ngid ]]; then
        run_for_code ns 0 user-nobody-nogroup --user nobody:nogroup -- sh -c "$prog" "$d/nogroup"
        want="$uid|$ngid|$(id -G nobody | sed "s/^$gid\$/$ngid/")|$home|nobody|nobody"
        got=$(cat "$d/nogroup" 2>/dev/null)
        [[ $got == "$want" ]] || fail "--user nobody:nogroup: '$got', expected '$want'"
    fi
    if ! getent passwd 4242 >/dev/null && ! getent group 4343 >/dev/null; then
        run_for_code ns 0 user-numeric --user 4242:4343 -- sh -c "$prog" "$d/numeric"
        want="4242|4343|4343|/|4242|4242"
        got=$(cat "$d/numeric" 2>/dev/null)
        [[ $got == "$want" ]] || fail "--user 4242:4343 (no passwd entry): '$got', expected '$want'"
    fi
    run_for_code ns 78 user-missing --user pid1-no-such-user -- touch "$d/ran-missing-user"
    log_has "$LOG" "pid1-no-such-user" || fail "the error does not name the user"
    [[ -e $d/ran-missing-user ]] && fail "the application ran although the user does not exist"
    log_has "$LOG" "found 1 update" && fail "the installer went on to the update phase before reporting the missing user"
    run_for_code ns 78 group-missing --user nobody:pid1-no-such-group -- touch "$d/ran-missing-group"
    log_has "$LOG" "pid1-no-such-group" || fail "the error does not name the group"
    [[ -e $d/ran-missing-group ]] && fail "the application ran although the group does not exist"
    return 0
}

# 8. A stop signal during an update: it stops after the statement in flight (or cancels
# it after half the grace period), reverts, and the application never starts.
check_reverted() {  # ENGINE SIGNAL-NUMBER UPDATE-ID
    local n states
    n=$(tables_count "$1" "$DBNAME" pid1_first pid1_second)
    [[ $n == 0 ]] || fail "$n of the update's tables still exist after the revert"
    states=$(env INSTALLER_DB_URL="$DBURL" "$INSTALLER" history --json 2>>"$W/history.err" | "$HELPER" attempts "$3")
    [[ -n $states ]] || { fail "the journal has no attempt of $3"; return; }
    grep -q '^applied' <<<"$states" && fail "the journal says $3 was applied: $states"
    grep -q "^failed.*signal $2" <<<"$states" || fail "the journal shows no failed attempt stopped by signal $2: $states"
}
sc_stop_during_update() {
    local engine=$1 d=$W/stop-$1 t0
    mkdir -p "$d"
    engine_configured "$engine" || return
    scratch_db "$engine" "stop_$engine" || return
    UPDATES=$U_SLOW
    launch ns "stop-$engine" --health-listen 127.0.0.1:0 -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --max-life 20000 || return
    wait_hport || { stop_now; return; }
    poll_until 10000 "/status: update 2100.1.0 running, its first statement done" status_updating 2100.1.0 || { stop_now; return; }
    t0=$(us)
    kill -TERM "$IPID"
    wait_exit 10000 || return
    expect_rc 143 "stopped by SIGTERM during the update"
    expect_elapsed "$t0" "$EXIT_US" 0 4500 "from SIGTERM to the exit (the 2s statement in flight finishes, then the revert)"
    [[ -e $d/a.ready ]] && fail "the application was started after a stop during the update"
    check_reverted "$engine" 15 2100.1.0
}
sc_cancel_during_update() {
    local engine=$1 sig=$2 code=$3 d=$W/cancel-$1 t0
    mkdir -p "$d"
    engine_configured "$engine" || return
    scratch_db "$engine" "cancel_$engine" || return
    UPDATES=$U_CANCEL
    launch ns "cancel-$engine" --grace 1s --health-listen 127.0.0.1:0 -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --max-life 20000 || return
    wait_hport || { stop_now; return; }
    poll_until 10000 "/status: update 2200.1.0 running, its first statement done" status_updating 2200.1.0 || { stop_now; return; }
    t0=$(us)
    kill -s "$sig" "$IPID"
    wait_exit 8000 || return
    expect_rc "$code" "stopped by SIG$sig during a 60s statement"
    expect_elapsed "$t0" "$EXIT_US" 400 3000 "from SIG$sig to the exit (the statement is cancelled after half of --grace 1s)"
    log_has "$LOG" "cancelling it" || fail "no log line about cancelling the statement"
    [[ -e $d/a.ready ]] && fail "the application was started after a stop during the update"
    check_reverted "$engine" $((code - 128)) 2200.1.0
}

# 8c. A stop signal while waiting for another installer's migration lock must end the
# wait: exit 128+N within the grace period, nothing changed, no application.
sc_stop_waiting_for_lock() {
    local engine=$1 d=$W/lock-$1 t0 hl hi hlog
    mkdir -p "$d"
    engine_configured "$engine" || return
    scratch_db "$engine" "lock_$engine" || return
    UPDATES=$U_CANCEL
    launch sub "lock-holder-$engine" --grace 1s --health-listen 127.0.0.1:0 -- true || return
    hl=$LPID hi=$IPID hlog=$LOG
    wait_hport || { stop_now; return; }
    poll_until 10000 "the first installer to hold the lock and run the long update" status_updating 2200.1.0 || { stop_now; return; }
    launch sub "lock-waiter-$engine" --grace 1s -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --max-life 20000 || return
    if poll_until 10000 "the second installer to wait for the lock" log_has "$LOG" "holds the migration lock"; then
        t0=$(us)
        kill -TERM "$IPID"
        if wait_exit 3000; then
            expect_rc 143 "SIGTERM while waiting for the lock"
            expect_elapsed "$t0" "$EXIT_US" 0 2000 "from SIGTERM to the exit while waiting for the lock (--grace 1s)"
        fi
        [[ -e $d/a.ready ]] && fail "the application was started"
    else
        stop_now
    fi
    LPID=$hl IPID=$hi LOG=$hlog
    kill -TERM "$IPID"
    wait_exit 8000
}

# 8g. A stop signal while waiting for the database to answer (back-off before the first
# connection) must end the wait: exit 128+N promptly, no application.
sc_stop_waiting_for_db() {
    local d=$W/dbwait t0
    mkdir -p "$d"
    # Nothing listens on port 1: every connection attempt is refused at once.
    if [[ $MAIN_ENGINE == postgres ]]; then DBURL=postgresql://app:unused-secret-8g@127.0.0.1:1/app; else DBURL=mariadb://app:unused-secret-8g@127.0.0.1:1/app; fi
    UPDATES=$U_TRIVIAL
    launch ns dbwait --grace 1s --health-listen 127.0.0.1:0 -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --max-life 20000 || return
    wait_hport || { stop_now; return; }
    waiting_for_db() { http /readyz && [[ $HTTP_BODY == waiting-for-db ]] && log_has "$LOG" "waiting for the database"; }
    poll_until 10000 "/readyz 503 waiting-for-db and the log line about the wait" waiting_for_db || { stop_now; return; }
    t0=$(us)
    kill -TERM "$IPID"
    if wait_exit 3000; then
        expect_rc 143 "SIGTERM while waiting for the database"
        expect_elapsed "$t0" "$EXIT_US" 0 2000 "from SIGTERM to the exit while waiting for the database"
    fi
    [[ -e $d/a.ready ]] && fail "the application was started"
    return 0
}

# 9. The health endpoint through the phases: updating, running, stopping (with --stop-delay).
sc_health() {
    local d=$W/health t0 t_term appns
    mkdir -p "$d"
    scratch_db "$MAIN_ENGINE" health || return
    UPDATES=$U_TRIVIAL:$U_SLOW
    launch ns health --health-listen 127.0.0.1:0 --stop-delay 2s -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --die TERM --max-life 20000 || return
    wait_hport || { stop_now; return; }
    # updating
    if poll_until 10000 "/status: phase updating with update 2100.1.0" status_updating 2100.1.0; then
        [[ $(jget update.step) == 001_slow ]] || fail "/status update.step is '$(jget update.step)', expected 001_slow"
        [[ $(jget update.statements) == 3 ]] || fail "/status update.statements is '$(jget update.statements)', expected 3"
        expect_http /livez 200
        expect_http /readyz 503 updating
        expect_http /healthz 503 '{"status":"updating"}'
    fi
    # running
    ready_ok() { http /readyz && [[ $HTTP_STATUS == 200 ]]; }
    if poll_until 10000 "/readyz 200 once the application runs" ready_ok; then
        expect_http /healthz 200 '{"status":"ok"}'
        expect_http /livez 200
        http /status
        [[ $(jget phase) == running ]] || fail "/status phase is '$(jget phase)', expected running"
        poll_until 3000 "the application to start" files_exist "$d/a.ready"
        appns=$(<"$d/a.ready")
        [[ $(jget application.pid) == "$appns" ]] || fail "/status application.pid is '$(jget application.pid)', expected $appns"
        [[ -z $(jget update.id) ]] || fail "/status still shows an update while running"
    fi
    # stopping: /readyz 503 at once, SIGTERM to the application only after the delay
    t0=$(us)
    kill -TERM "$IPID"
    stopping() { http /readyz && [[ $HTTP_STATUS == 503 && $HTTP_BODY == stopping ]]; }
    if poll_until 1000 "/readyz 503 stopping right after SIGTERM" stopping; then
        rec_has "$d/a.rec" TERM && fail "the application already had SIGTERM when /readyz started answering 503 (--stop-delay 2s)"
        expect_http /livez 200
        expect_http /healthz 503 '{"status":"stopping"}'
    fi
    wait_exit 6000 || return
    expect_rc 143
    t_term=$(rec_time "$d/a.rec" TERM)
    [[ -n $t_term ]] || { fail "the application never got SIGTERM"; return; }
    expect_elapsed "$t0" "$t_term" 2000 3000 "from SIGTERM to the installer until the application got it (--stop-delay 2s)"
    expect_elapsed "$t0" "$EXIT_US" 2000 4000 "from SIGTERM to the exit (--stop-delay 2s)"
}

# 9b. A failing update: reverting, then failed (/livez 503) until the process exits 70.
sc_health_failed() {
    local d=$W/failed w
    mkdir -p "$d"
    scratch_db "$MAIN_ENGINE" failed || return
    UPDATES=$U_FAIL
    launch ns failed --health-listen 127.0.0.1:0 -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --max-life 20000 || return
    wait_hport || { stop_now; return; }
    w=$d/watch
    "$HELPER" watch 127.0.0.1 "$HPORT" "$w" 15000
    wait_exit 10000 || return
    expect_rc 70 "an update failed and was reverted"
    [[ -e $d/a.ready ]] && fail "the application was started after a failed update"
    echo "    phases seen: $(tr '\n' ';' <"$w")"
    grep -q '^status reverting' "$w" || fail "/status never showed phase reverting during the 1s revert"
    grep -q '^readyz 503 reverting' "$w" || fail "/readyz never answered 503 reverting during the revert"
    grep -q '^readyz 200' "$w" && fail "/readyz answered 200 although the application never ran"
    grep '^livez 503' "$w" | grep -qv '^livez 503 failed$' && fail "/livez answered 503 for something else than failed"
    grep -q '^livez 200' "$w" || fail "/livez never answered 200 before the failure"
    if grep -q -e '^status failed' -e 'failed$' "$w"; then
        grep -q '^status failed last_error=0' "$w" && fail "/status in phase failed has no last_error"
        grep -q '^livez 503 failed' "$w" || note "phase failed seen, but no /livez answer in that window"
    else
        note "phase failed not observed: it lasts only until the process exits (at most ~100 ms)"
    fi
    [[ $(tables_count "$MAIN_ENGINE" "$DBNAME" pid1_failed) == 0 ]] || fail "the failed update's table still exists"
}

# 10. --stop-delay: SIGTERM reaches the application only after the delay.
sc_stop_delay() {
    local d=$W/stop-delay t0 t_term
    mkdir -p "$d"
    use_main || return
    launch sub stop-delay --stop-delay 1s -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --die TERM --max-life 20000 || return
    poll_until 10000 "the application to start" files_exist "$d/a.ready" || { stop_now; return; }
    t0=$(us)
    kill -TERM "$IPID"
    wait_exit 5000 || return
    expect_rc 143
    t_term=$(rec_time "$d/a.rec" TERM)
    [[ -n $t_term ]] || { fail "the application never got SIGTERM"; return; }
    expect_elapsed "$t0" "$t_term" 1000 2000 "from SIGTERM until the application got it (--stop-delay 1s)"
    expect_elapsed "$t0" "$EXIT_US" 1000 3000 "from SIGTERM to the exit"
    [[ $(rec_sender "$d/a.rec" TERM) == "$IPID" ]] || fail "SIGTERM came from pid $(rec_sender "$d/a.rec" TERM), not the installer"
}
# 10b. An application that exits by itself during the delay: the installer exits at once.
sc_stop_delay_app_exits() {
    local d=$W/stop-delay-exit t0
    mkdir -p "$d"
    use_main || return
    launch sub stop-delay-exit --stop-delay 5s -- sh -c 'touch "$1/ready"; "$0" waitfile "$1/go" 20000; exit 7' "$HELPER" "$d" || return
    poll_until 10000 "the application to start" files_exist "$d/ready" || { stop_now; return; }
    kill -TERM "$IPID"
    poll_until 3000 "the installer to hold SIGTERM back" log_has "$LOG" "holding it back" || { stop_now; return; }
    t0=$(us)
    touch "$d/go"
    wait_exit 4000 || return
    expect_rc 7 "the application's own code"
    expect_elapsed "$t0" "$EXIT_US" 0 1500 "from the application's exit to the installer's (during a 5s stop delay)"
}

# 11. --log-format json: every stderr line is one JSON object with ts, level, msg.
sc_json_logs() {
    local d=$W/json out
    mkdir -p "$d"
    scratch_db "$MAIN_ENGINE" json || return
    UPDATES=$U_TRIVIAL
    launch ns json --log-format json --log-level debug --health-listen 127.0.0.1:0 -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --die TERM --max-life 20000 || return
    poll_until 10000 "the application to start" files_exist "$d/a.ready" || { stop_now; return; }
    kill -USR1 "$IPID"
    poll_until 2000 "SIGUSR1 to reach the application" rec_has "$d/a.rec" USR1
    kill -TERM "$IPID"
    wait_exit 5000 || return
    expect_rc 143
    out=$("$HELPER" jsonl "$LOG" 2>&1) || fail "stderr is not JSON lines:"$'\n'"$out"
    grep -q '"msg":"applied update 2000.1.0' "$LOG" || fail "no JSON line for the applied update"
    grep '"msg":"started ' "$LOG" | grep -q '"pid":' || fail "the 'started' line has no pid field"
    # an error before anything starts
    launch ns json-user --log-format json --user pid1-no-such-user -- true || return
    wait_exit 5000 && expect_rc 78
    out=$("$HELPER" jsonl "$LOG" 2>&1) || fail "the --user error is not a JSON line:"$'\n'"$out"
}
sc_json_config_error() {
    use_main || return
    launch ns json-config --log-format json --grace bogus -- true || return
    wait_exit 5000 && expect_rc 78
    local out
    out=$("$HELPER" jsonl "$LOG" 2>&1) || fail "with --log-format json a bad --grace is reported as plain text:"$'\n'"$out"
}

# 12. No descriptor of the installer's (database session, health listener, status pipe)
# leaks into the application: it has exactly what the installer itself was given.
sc_fd_leak() {
    local d=$W/fds extra missing
    mkdir -p "$d"
    use_main || return
    "$HELPER" fds "$d/baseline" --max-life 0 </dev/null >"$d/baseline.out" 2>"$d/baseline.err"
    launch ns fds --health-listen 127.0.0.1:0 -- "$HELPER" fds "$d/app" --exit-on TERM --max-life 20000 || return
    poll_until 10000 "the application to list its descriptors" files_exist "$d/app" || { stop_now; return; }
    extra=$(awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen)' "$d/baseline" "$d/app")
    missing=$(awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen)' "$d/app" "$d/baseline")
    [[ -z $extra ]] || fail "descriptors leaked into the application: $(tr '\n' ';' <<<"$extra")"
    [[ -z $missing ]] || fail "descriptors the installer was given are missing in the application: $(tr '\n' ';' <<<"$missing")"
    kill -TERM "$IPID"
    wait_exit 5000 && expect_rc 0
}

# 13. SIGTERM right after the update phase, before the application starts: it must
# either stop the start (exit 143) or reach the application. The helper copies the
# installer's stderr and sends SIGTERM a precise delay after the last update-phase line;
# the delays sweep across the moment the stop watcher hands over to the supervisor.
sc_term_at_handover() {
    local d=$W/handover i delay reader how
    mkdir -p "$d/updates"
    scratch_db "$MAIN_ENGINE" handover || return
    UPDATES=$d/updates
    i=0
    for delay in 0 250 500 750 1000 1500 2000 2500 3000 4000 5000 6500 8000 12000 20000 40000; do
        i=$((i + 1))
        mkdir -p "$d/updates/4000.$i.0"
        echo "CREATE TABLE pid1_handover_$i (id int);" >"$d/updates/4000.$i.0/001_t.up.sql"
        echo "DROP TABLE IF EXISTS pid1_handover_$i;" >"$d/updates/4000.$i.0/001_t.down.sql"
        rm -f "$d/fifo" "$d/t0" "$d/a.ready" "$d/a.rec"
        mkfifo "$d/fifo"
        ERR_TO=$d/fifo
        launch sub "handover-$i" -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --die TERM --max-life 8000 || return
        ERR_TO=
        "$HELPER" trigger "$d/fifo" "$LOG" "done: applied" "$IPID" TERM "$delay" "$d/t0" &
        reader=$!
        if ! poll_until 10000 "the update phase to end" files_exist "$d/t0"; then
            stop_now
            wait "$reader"
            return
        fi
        if wait_exit_quiet 1500; then
            how="stopped before the start"
            [[ -e $d/a.ready ]] && how="forwarded to the application"
            expect_rc 143 "SIGTERM ${delay}us after the update phase"
            [[ $CUR_FAIL == 0 ]] && HANDOVER_SEEN+=("${delay}us:$how")
        else
            if [[ -e $d/a.ready ]] && ! rec_has "$d/a.rec" TERM; then
                fail "SIGTERM sent ${delay}us after 'done: applied' was swallowed: the application started and never got it"
            else
                fail "the installer was still running 1.5s after SIGTERM (sent ${delay}us after 'done: applied')"
            fi
            kill -TERM "$IPID"
            wait_exit 5000
        fi
        wait "$reader"
        [[ $CUR_FAIL == 0 ]] || return
    done
    echo "    outcomes: ${HANDOVER_SEEN[*]}"
}
HANDOVER_SEEN=()
wait_exit_quiet() {  # like wait_exit, but a timeout is not yet a failure
    local start
    start=$(us)
    while alive "$LPID"; do
        (($(us) - start > $1 * 1000)) && return 1
        nap 0.005
    done
    EXIT_US=$(us)
    wait "$LPID"
    RC=$?
}

# 14. PID 1 in a PID namespace whose /proc is not its own (unshare --pid without
# --mount-proc): the application exits, nothing else runs in the namespace, so the
# installer must exit with the application's code. It runs nested in an outer namespace
# with a /proc of its own: the inner installer reads the outer one, where the outer PID
# 1's children (a sentinel, `timeout`) have parent pid 1, the installer's own pid; the
# pids it would signal are looked up in its own namespace, so nothing outside the test
# can be hit.
sc_foreign_proc() {
    local d=$W/foreign start rc
    mkdir -p "$d"
    use_main || return
    start=$(us)
    env INSTALLER_DB_URL="$DBURL" INSTALLER_UPDATES="$UPDATES" "${NS_ASAN[@]}" timeout -s KILL 20 \
        unshare --pid --fork --mount-proc bash -c '
            "$1" sigrec "$2/sentinel.rec" --ready "$2/sentinel.ready" --max-life 15000 &
            "$1" waitfile "$2/sentinel.ready" 5000
            timeout -s KILL 4 unshare --pid --fork "$3" --grace 1s -- sh -c "exit 4"
            echo $? >"$2/rc"
            kill -KILL $! 2>/dev/null' _ "$HELPER" "$d" "$INSTALLER" </dev/null >"$d/out" 2>"$W/foreign.err"
    CUR_LOGS+=("$W/foreign.err")
    rc=$(cat "$d/rc" 2>/dev/null)
    RC=$rc
    expect_rc 4 "137 means it hung until killed"
    expect_elapsed "$start" "$(us)" 0 3000 "the run"
}

# ================================================================ run them

echo "pid1 scenarios: $INSTALLER (main engine $MAIN_ENGINE; engines: ${ENGINES[*]}); work directory $W"

scenario "1a orphans reaped, PID 1" "" sc_orphans ns
scenario "1b orphans reaped, subreaper (not PID 1)" "" sc_orphans sub
scenario "2a leftovers get SIGTERM and time to finish (--grace 5s)" "" sc_drain_finish
scenario "2b leftover ignoring SIGTERM is killed after --grace 1s, PID 1" "" sc_drain_kill ns
scenario "2c leftover ignoring SIGTERM is killed after --grace 1s, subreaper" "" sc_drain_kill sub
scenario "3a every signal forwarded (USR1 USR2 WINCH CONT HUP INT QUIT TSTP, TERM), PID 1" "" sc_signals ns
scenario "3b every signal forwarded, subreaper" "" sc_signals sub
scenario "3c SIGINT kills the application: exit 130" "" sc_signal_exit INT 130
scenario "3d SIGHUP kills the application: exit 129" "" sc_signal_exit HUP 129
scenario "3e SIGQUIT kills the application: exit 131" "" sc_signal_exit QUIT 131
scenario "3f SIGUSR1 to an application without a handler: exit 138" "" sc_signal_default_action
scenario "4  exit codes 0 3 255 137 143 127 126" "" sc_exit_codes
scenario "5  SIGTERM escalates to SIGKILL after --grace 1s: exit 137" "" sc_grace
scenario "6a --process-group: SIGTERM reaches the application's child" "" sc_process_group with
scenario "6b without --process-group: SIGTERM reaches only the application" "" sc_process_group without
scenario "7  --user: uid, gid, groups, HOME; unknown user or group exits 78" "" sc_user
scenario "8a SIGTERM during an update reverts it (postgres)" "" sc_stop_during_update postgres
scenario "8b SIGTERM during an update reverts it (mariadb)" "" sc_stop_during_update mariadb
scenario "8c SIGTERM cancels a long statement after grace/2 and reverts (postgres)" "" sc_cancel_during_update postgres TERM 143
scenario "8d SIGINT cancels a long statement after grace/2 and reverts (mariadb)" "" sc_cancel_during_update mariadb INT 130
scenario "8e SIGTERM while waiting for the migration lock (postgres)" "" sc_stop_waiting_for_lock postgres
scenario "8f SIGTERM while waiting for the migration lock (mariadb)" "" sc_stop_waiting_for_lock mariadb
scenario "8g SIGTERM while waiting for the database to answer" "" sc_stop_waiting_for_db
scenario "9a health endpoint: updating, running, stopping (--stop-delay 2s)" "" sc_health
scenario "9b health endpoint: reverting, failed; exit 70" "" sc_health_failed
scenario "10a --stop-delay 1s holds SIGTERM back" "" sc_stop_delay
scenario "10b application exiting during the stop delay ends the run at once" "" sc_stop_delay_app_exits
scenario "11a --log-format json: every stderr line is a JSON object" "" sc_json_logs
scenario "11b --log-format json: a configuration error is a JSON line too" "" sc_json_config_error
scenario "12 no installer descriptor leaks into the application" "" sc_fd_leak
scenario "13 SIGTERM at the handover from update phase to application" "" sc_term_at_handover
scenario "14 PID 1 with a /proc that is not its namespace's" "" sc_foreign_proc

total=$(ms_between "$SUITE_START" "$(us)")
echo
if ((FAILED > 0)); then
    echo "failed:"
    printf '  %s\n' "${FAILED_TITLES[@]}"
fi
echo "total $((total / 1000)).$(printf '%03d' $((total % 1000)))s; $SKIPPED skipped"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
