# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034
# PID1_NEEDS=db: scratch databases on each engine that is configured
PID1_NEEDS=db

# 8. A stop signal during an update: it stops after the statement in flight (or cancels
# it after half the grace period), reverts, and the application never starts.
check_reverted() {  # ENGINE SIGNAL-NUMBER UPDATE-ID
    local n states
    n=$(tables_count "$1" "$DBNAME" pid1_first pid1_second)
    [[ $n == 0 ]] || fail "$n of the update's tables still exist after the revert"
    states=$(env INSTALLER_DB_URL="$DBURL" "$INSTALLER" history --json 2>>"$W/history.err" | "$HELPER" attempts "$3")
    [[ -n $states ]] || { fail "the journal has no attempt of $3"; return; }
    grep -q '^applied' <<<"$states" && fail "the journal says $3 was applied: $states"
    grep -q "^failed.*signal $2" <<<"$states" || fail "the journal shows no failed attempt stopped by signal $2: $states"
}
sc_stop_during_update() {
    local engine=$1 d=$W/stop-$1 t0
    mkdir -p "$d"
    engine_configured "$engine" || return
    scratch_db "$engine" "stop_$engine" || return
    UPDATES=$U_SLOW
    launch ns "stop-$engine" --health-listen 127.0.0.1:0 -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --max-life 20000 || return
    wait_hport || { stop_now; return; }
    poll_until 10000 "/status: update 2100.1.0 running, its first statement done" status_updating 2100.1.0 || { stop_now; return; }
    t0=$(us)
    kill -TERM "$IPID"
    wait_exit 10000 || return
    expect_rc 143 "stopped by SIGTERM during the update"
    expect_elapsed "$t0" "$EXIT_US" 0 4500 "from SIGTERM to the exit (the 2s statement in flight finishes, then the revert)"
    [[ -e $d/a.ready ]] && fail "the application was started after a stop during the update"
    check_reverted "$engine" 15 2100.1.0
}
sc_cancel_during_update() {
    local engine=$1 sig=$2 code=$3 d=$W/cancel-$1 t0
    mkdir -p "$d"
    engine_configured "$engine" || return
    scratch_db "$engine" "cancel_$engine" || return
    UPDATES=$U_CANCEL
    launch ns "cancel-$engine" --grace 1s --health-listen 127.0.0.1:0 -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --max-life 20000 || return
    wait_hport || { stop_now; return; }
    poll_until 10000 "/status: update 2200.1.0 running, its first statement done" status_updating 2200.1.0 || { stop_now; return; }
    t0=$(us)
    kill -s "$sig" "$IPID"
    wait_exit 8000 || return
    expect_rc "$code" "stopped by SIG$sig during a 60s statement"
    expect_elapsed "$t0" "$EXIT_US" 400 3000 "from SIG$sig to the exit (the statement is cancelled after half of --grace 1s)"
    log_has "$LOG" "cancelling it" || fail "no log line about cancelling the statement"
    [[ -e $d/a.ready ]] && fail "the application was started after a stop during the update"
    check_reverted "$engine" $((code - 128)) 2200.1.0
}

scenario_cases() {
    case_ "8a SIGTERM during an update reverts it (postgres)" sc_stop_during_update postgres
    case_ "8b SIGTERM during an update reverts it (mariadb)" sc_stop_during_update mariadb
    case_ "8c SIGTERM cancels a long statement after grace/2 and reverts (postgres)" sc_cancel_during_update postgres TERM 143
    case_ "8d SIGINT cancels a long statement after grace/2 and reverts (mariadb)" sc_cancel_during_update mariadb INT 130
}
