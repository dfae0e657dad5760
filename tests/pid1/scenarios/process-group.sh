# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# The sh -c programs are single-quoted on purpose: "$0" and "$1" are theirs.
# shellcheck disable=SC2034,SC2317,SC2016
# PID1_NEEDS=db: the installer migrates the main scratch database before it starts the application
PID1_NEEDS=db

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

scenario_cases() {
    case_ "6a --process-group: SIGTERM reaches the application's child" sc_process_group with
    case_ "6b without --process-group: SIGTERM reaches only the application" sc_process_group without
}
