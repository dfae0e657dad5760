# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034
# PID1_NEEDS=db: scratch databases on each engine that is configured
PID1_NEEDS=db

# 8e, 8f. A stop signal while waiting for another installer's migration lock must end the
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

scenario_cases() {
    case_ "8e SIGTERM while waiting for the migration lock (postgres)" sc_stop_waiting_for_lock postgres
    case_ "8f SIGTERM while waiting for the migration lock (mariadb)" sc_stop_waiting_for_lock mariadb
}
