# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# The sh -c programs are single-quoted on purpose: "$0" and "$1" are theirs.
# shellcheck disable=SC2034,SC2016
# PID1_NEEDS=db: the installer migrates the main scratch database before it starts the application
PID1_NEEDS=db

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

scenario_cases() {
    case_ "2a leftovers get SIGTERM and time to finish (--grace 5s)" sc_drain_finish
    case_ "2b leftover ignoring SIGTERM is killed after --grace 1s, PID 1" sc_drain_kill ns
    case_ "2c leftover ignoring SIGTERM is killed after --grace 1s, subreaper" sc_drain_kill sub
}
