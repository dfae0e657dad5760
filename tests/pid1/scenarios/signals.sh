# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034
# PID1_NEEDS=db: the installer migrates the main scratch database before it starts the application
PID1_NEEDS=db

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

scenario_cases() {
    case_ "3a every signal forwarded (USR1 USR2 WINCH CONT HUP INT QUIT TSTP, TERM), PID 1" sc_signals ns
    case_ "3b every signal forwarded, subreaper" sc_signals sub
}
