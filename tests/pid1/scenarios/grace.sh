# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034
# PID1_NEEDS=db: the installer migrates the main scratch database before it starts the application
PID1_NEEDS=db

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

scenario_cases() {
    case_ "5  SIGTERM escalates to SIGKILL after --grace 1s: exit 137" sc_grace
}
