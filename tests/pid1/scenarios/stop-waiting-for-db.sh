# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034,SC2317
# PID1_NEEDS=none: the installer is pointed at a port where nothing listens
PID1_NEEDS=none

# 8g. A stop signal while waiting for the database to answer (back-off before the first
# connection) must end the wait: exit 128+N promptly, no application.
sc_stop_waiting_for_db() {
    local d=$W/dbwait t0
    mkdir -p "$d"
    # Nothing listens on port 1: every connection attempt is refused at once.
    DBURL=$NO_DB_URL
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

scenario_cases() {
    case_ "8g SIGTERM while waiting for the database to answer" sc_stop_waiting_for_db
}
