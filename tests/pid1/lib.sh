# shellcheck shell=bash
# The harness of the PID-1 scenarios (tests/pid1/run.sh runs them; docs/supervisor.md is
# what they check). Sourced by the process run.sh starts for one scenario file, never by
# hand:
#
#   PID1_INSTALLER=... PID1_HELPER=... PID1_WORK=DIR bash -c \
#       'source tests/pid1/lib.sh; pid1_run_file tests/pid1/scenarios/NAME.sh'
#
# A scenario file (tests/pid1/scenarios/NAME.sh) sets PID1_NEEDS and defines
# scenario_cases, which runs its cases with `case_ TITLE FUNCTION ARGS...`:
#
#   PID1_NEEDS=db     the installer must reach a database: the main engine's scratch
#                     database (use_main, scratch_db); skipped without
#                     INSTALLER_TEST_PG_URL / INSTALLER_TEST_MARIADB_URL
#   PID1_NEEDS=none   runs without any database server (the installer stops before it
#                     connects, or is pointed at a port where nothing listens)
#
# What the harness gives a case:
#   launch ns|sub NAME ARGS...   the installer in a PID namespace of its own (ns: it is PID
#                                1) or as a child of this shell (sub: a child subreaper)
#   wait_exit MS, expect_rc, expect_elapsed, poll_until, holds_for, stop_now
#   fail MSG, note MSG, skip REASON
#   use_main, scratch_db ENGINE NAME, tables_count, engine_configured ENGINE
#   the health endpoint: wait_hport, http, jget, expect_http, status_updating
#   U_TRIVIAL, U_SLOW, U_CANCEL, U_FAIL: update directories; W: the work directory;
#   NO_DB_URL: a database URL of MAIN_ENGINE where nothing listens
#
# The process exits 0 when every case that ran passed, 1 when one failed, 77 when none
# ran (all skipped). Every case gets its own scratch database(s), all dropped at the end.
#
# No sleeps as synchronisation: every wait polls for a condition with a deadline. The
# only fixed delays are deliberate signal timings (term-at-handover sends SIGTERM a swept
# number of microseconds after a log line) and the bounded window in which a signal must
# NOT arrive (process-group, 6b).
#
# Under a sanitizer build, installer runs in a PID namespace get abort_on_error=0 appended
# to ASAN_OPTIONS/UBSAN_OPTIONS: as PID 1 an abort() does not end the process (see
# NS_ASAN below), so a report would otherwise turn into a hang. LeakSanitizer works as
# PID 1 and stays on.

# The variables set here are read by the scenario files.
# shellcheck disable=SC2034

set -u -o pipefail
export LC_ALL=C
ulimit -c 0  # SIGQUIT scenarios must not leave core files behind

INSTALLER=${PID1_INSTALLER:?set by tests/pid1/run.sh}
HELPER=${PID1_HELPER:?set by tests/pid1/run.sh}
PG_URL=${INSTALLER_TEST_PG_URL:-}
MARIA_URL=${INSTALLER_TEST_MARIADB_URL:-}
MARIA_CLIENT=
PG_DBS=() MARIA_DBS=() ALL_PIDS=()
PASSED=0 FAILED=0 SKIPPED=0

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
# The fields of /proc/PID/stat and the lists of pids below are split into words on purpose.
# shellcheck disable=SC2086
pgrp_of() { local f; f=$(stat_fields "$1") || return 1; set -- $f; echo "$3"; }
# The children of a process: from /proc/PID/task/*/children (every thread's: orphans may
# be re-parented to any thread of the installer), or by scanning /proc where the kernel
# lacks that file (CONFIG_PROC_CHILDREN).
if [[ -e /proc/$$/task/$$/children ]]; then
    # shellcheck disable=SC2086
    children() {
        local f out=
        for f in /proc/"$1"/task/*/children; do [[ -r $f ]] && out+=" $(<"$f")"; done 2>/dev/null
        echo $out
    }
else
    # shellcheck disable=SC2086
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

# The engine of the engine-neutral cases: PostgreSQL when it is configured, else MariaDB
# (PostgreSQL too when neither is: the database-free cases only need a URL's scheme).
MAIN_ENGINE=postgres
[[ -z $PG_URL && -n $MARIA_URL ]] && MAIN_ENGINE=mariadb
ENGINES=()
[[ -n $PG_URL ]] && ENGINES+=(postgres)
[[ -n $MARIA_URL ]] && ENGINES+=(mariadb)
# A database URL of MAIN_ENGINE where nothing listens (port 1): every connection attempt is
# refused at once, and no server is needed.
if [[ $MAIN_ENGINE == postgres ]]; then NO_DB_URL=postgresql://app:unused-secret-8g@127.0.0.1:1/app; else NO_DB_URL=mariadb://app:unused-secret-8g@127.0.0.1:1/app; fi

# setup_databases: for a file that needs a database; skips the whole file (exit 77) when
# none is configured or its client is missing.
setup_databases() {
    [[ -n $PG_URL || -n $MARIA_URL ]] || skip_all "needs a database: neither INSTALLER_TEST_PG_URL nor INSTALLER_TEST_MARIADB_URL is set (scripts/test.sh sets them)"
    if [[ -n $PG_URL ]]; then
        command -v psql >/dev/null || skip_all "psql (postgresql-client) is missing"
        [[ $PG_URL =~ ^([a-z]+://[^/?]*)(/[^?]*)?(\?.*)?$ ]] || skip_all "cannot parse INSTALLER_TEST_PG_URL"
        PG_BASE=${BASH_REMATCH[1]} PG_QUERY=${BASH_REMATCH[3]}
    fi
    if [[ -n $MARIA_URL ]]; then
        MARIA_CLIENT=$(command -v mariadb || command -v mysql) || skip_all "the mariadb client is missing"
        [[ $MARIA_URL =~ ^([a-z]+)://(([^:@/]*)(:([^@/]*))?@)?([^:/?]+)(:([0-9]+))?(/[^?]*)?(\?.*)?$ ]] ||
            skip_all "cannot parse INSTALLER_TEST_MARIADB_URL"
        M_SCHEME=${BASH_REMATCH[1]} M_USER=${BASH_REMATCH[3]} M_PW=${BASH_REMATCH[5]}
        M_HOST=${BASH_REMATCH[6]} M_PORT=${BASH_REMATCH[8]:-3306} M_QUERY=${BASH_REMATCH[10]}
        M_AUTH=${MARIA_URL#*://}
        M_AUTH=${M_AUTH%%@*}
        M_PW_PLAIN=$(printf '%b' "${M_PW//%/\\x}")
    fi
}
pg_admin() { psql "$PG_URL" -v ON_ERROR_STOP=1 -qAt "$@"; }
pg_url_for() { echo "$PG_BASE/$1$PG_QUERY"; }
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
# tables_count ENGINE DB NAME...: how many of the named tables exist.
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
engine_configured() {
    case $1 in
    postgres) [[ -n $PG_URL ]] || { skip "INSTALLER_TEST_PG_URL is not set"; return 1; } ;;
    mariadb) [[ -n $MARIA_URL ]] || { skip "INSTALLER_TEST_MARIADB_URL is not set"; return 1; } ;;
    esac
}

# ---------------------------------------------------------------- update directories

# write_step DIR NAME UP_POSTGRES UP_MARIADB DOWN_POSTGRES DOWN_MARIADB
write_step() {
    mkdir -p "$1"
    printf '%s\n' "$3" >"$1/$2.postgres.up.sql"
    printf '%s\n' "$4" >"$1/$2.mariadb.up.sql"
    printf '%s\n' "$5" >"$1/$2.postgres.down.sql"
    printf '%s\n' "$6" >"$1/$2.mariadb.down.sql"
}
# make_update_dirs: the update directories the cases share, in $W.
make_update_dirs() {
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
}

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
    local n_done
    n_done=$(jget update.statements_done)
    [[ $n_done =~ ^[0-9]+$ ]] && ((n_done >= 1))
}
expect_http() {  # PATH STATUS [BODY]
    http "$1"
    [[ $HTTP_STATUS == "$2" ]] || fail "GET $1: $HTTP_STATUS, expected $2 (body: $HTTP_BODY)"
    [[ $# -lt 3 || $HTTP_BODY == "$3" ]] || fail "GET $1: body '$HTTP_BODY', expected '$3'"
}

# run_for_code MODE EXPECTED NAME [INSTALLER-ARGS] -- CMD...: one run of the installer
# that must end by itself with EXPECTED.
run_for_code() {
    local mode=$1 want=$2 name=$3
    shift 3
    launch "$mode" "code-$name" "$@" || return
    wait_exit 5000 || return
    expect_rc "$want" "$name"
}

# ---------------------------------------------------------------- case bookkeeping

fail() {
    CUR_FAIL=1
    echo "    FAIL: $*"
}
note() { echo "    note: $*"; }
skip() { CUR_SKIP=$*; }
# skip_all REASON: the whole file cannot run here.
skip_all() {
    echo "skip  (every case of $PID1_FILE_NAME): $*"
    exit 77
}

# case_ TITLE FUNCTION ARGS...: one case of a scenario file. PID1_ONLY=REGEX runs only
# the cases whose title matches.
case_() {
    local title=$1 start t
    shift
    if [[ -n ${PID1_ONLY:-} && ! $title =~ $PID1_ONLY ]]; then return; fi
    CUR_FAIL=0 CUR_SKIP='' CUR_LOGS=() EXTRA_ENV=() WRAP=() ERR_TO=''
    echo "----  $title"
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
        echo "FAIL  $title ($t)"
        FAILED=$((FAILED + 1))
    fi
}

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

# pid1_run_file FILE: runs the cases of one scenario file; exits 0 (every case that ran
# passed), 1 (one failed) or 77 (none ran).
pid1_run_file() {
    local file=$1
    PID1_FILE_NAME=$(basename "$file" .sh)
    PID1_NEEDS=
    # shellcheck source=/dev/null
    source "$file" || { echo "FAIL  cannot read $file"; exit 1; }
    case $PID1_NEEDS in
    db) setup_databases ;;
    none) ;;
    *) echo "FAIL  $file sets PID1_NEEDS to '$PID1_NEEDS', not db or none"; exit 1 ;;
    esac
    W=$(mktemp -d "${PID1_WORK:-/tmp}/$PID1_FILE_NAME.XXXXXX") || exit 1
    chmod 755 "$W"
    TAG=pid1_$$_$RANDOM
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    mkfifo "$W/.nap"
    exec {NAPFD}<>"$W/.nap"  # read -t on a pipe nobody writes: a pause without a fork
    make_update_dirs
    scenario_cases
    ((FAILED > 0)) && exit 1
    ((PASSED + SKIPPED > 0)) || skip_all "no case matches PID1_ONLY=${PID1_ONLY:-}"
    ((PASSED > 0)) || exit 77
    exit 0
}
