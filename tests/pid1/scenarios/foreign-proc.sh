# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# The sh -c programs are single-quoted on purpose: "$0" and "$1" are theirs.
# shellcheck disable=SC2034,SC2016
# PID1_NEEDS=db: the installer migrates the main scratch database before it starts the application
PID1_NEEDS=db

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

scenario_cases() {
    case_ "14 PID 1 with a /proc that is not its namespace's" sc_foreign_proc
}
