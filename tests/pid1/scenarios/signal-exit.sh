# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034
# PID1_NEEDS=db: the installer migrates the main scratch database before it starts the application
PID1_NEEDS=db

# 3c-3f. Terminating signals: the installer exits 128+N when the application dies of N.
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

scenario_cases() {
    case_ "3c SIGINT kills the application: exit 130" sc_signal_exit INT 130
    case_ "3d SIGHUP kills the application: exit 129" sc_signal_exit HUP 129
    case_ "3e SIGQUIT kills the application: exit 131" sc_signal_exit QUIT 131
    case_ "3f SIGUSR1 to an application without a handler: exit 138" sc_signal_default_action
}
