# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034,SC2317
# PID1_NEEDS=db: the installer migrates the main scratch database before it starts the application
PID1_NEEDS=db

# 1. Orphans: the application abandons 20 grandchildren (double fork); each checks it was
# re-parented to the installer (PID 1 / the subreaper) and exits. Then nothing may be
# left under the installer but the application: no zombie, while the application runs.
sc_orphans() {
    local mode=$1 d=$W/orphans-$1 i p want bad=0 app
    mkdir -p "$d"
    use_main || return
    launch "$mode" "orphans-$mode" -- "$HELPER" orphans 20 "$d" --ready "$d/app.ready" --exit-on TERM --max-life 20000 || return
    if ! poll_until 10000 "the application to abandon 20 grandchildren" files_exist "$d/app.ready" "$d"/orphan.{0..19}; then
        stop_now
        return
    fi
    want=1
    [[ $mode == sub ]] && want=$IPID
    for i in {0..19}; do
        read -r p <"$d/orphan.$i"
        [[ $p == "$want" ]] || { bad=$((bad + 1)); note "orphan $i was re-parented to pid $p"; }
    done
    ((bad == 0)) || fail "$bad of 20 orphans were not re-parented to the installer (pid $want in its namespace)"
    app=$(host_pid_of "$(<"$d/app.ready")") || { fail "cannot find the application under the installer"; stop_now; return; }
    only_app_left() { local t; t=$(descendants "$IPID" | tr '\n' ' '); [[ ${t% } == "$app" ]]; }
    if ! poll_until 3000 "every orphan reaped (nothing but the application left under the installer)" only_app_left; then
        echo "    left under the installer:"
        describe_tree
    fi
    alive "$app" || fail "the application is not running any more"
    kill -TERM "$IPID"
    wait_exit 5000 && expect_rc 0
}

scenario_cases() {
    case_ "1a orphans reaped, PID 1" sc_orphans ns
    case_ "1b orphans reaped, subreaper (not PID 1)" sc_orphans sub
}
