# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# The sh -c programs are single-quoted on purpose: "$0" and "$1" are theirs.
# shellcheck disable=SC2034,SC2016
# PID1_NEEDS=db: the installer migrates the main scratch database before it starts the application
PID1_NEEDS=db

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

scenario_cases() {
    case_ "10a --stop-delay 1s holds SIGTERM back" sc_stop_delay
    case_ "10b application exiting during the stop delay ends the run at once" sc_stop_delay_app_exits
}
