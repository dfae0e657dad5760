# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034
# PID1_NEEDS=db: scratch database of the main engine
PID1_NEEDS=db

# 13. SIGTERM right after the update phase, before the application starts: it must
# either stop the start (exit 143) or reach the application. The helper copies the
# installer's stderr and sends SIGTERM a precise delay after the last update-phase line;
# the delays sweep across the moment the stop watcher hands over to the supervisor.
sc_term_at_handover() {
    local d=$W/handover i delay reader how
    mkdir -p "$d/updates"
    scratch_db "$MAIN_ENGINE" handover || return
    UPDATES=$d/updates
    i=0
    for delay in 0 250 500 750 1000 1500 2000 2500 3000 4000 5000 6500 8000 12000 20000 40000; do
        i=$((i + 1))
        mkdir -p "$d/updates/4000.$i.0"
        echo "CREATE TABLE pid1_handover_$i (id int);" >"$d/updates/4000.$i.0/001_t.up.sql"
        echo "DROP TABLE IF EXISTS pid1_handover_$i;" >"$d/updates/4000.$i.0/001_t.down.sql"
        rm -f "$d/fifo" "$d/t0" "$d/a.ready" "$d/a.rec"
        mkfifo "$d/fifo"
        ERR_TO=$d/fifo
        launch sub "handover-$i" -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --die TERM --max-life 8000 || return
        ERR_TO=
        "$HELPER" trigger "$d/fifo" "$LOG" "done: applied" "$IPID" TERM "$delay" "$d/t0" &
        reader=$!
        if ! poll_until 10000 "the update phase to end" files_exist "$d/t0"; then
            stop_now
            wait "$reader"
            return
        fi
        if wait_exit_quiet 1500; then
            how="stopped before the start"
            [[ -e $d/a.ready ]] && how="forwarded to the application"
            expect_rc 143 "SIGTERM ${delay}us after the update phase"
            [[ $CUR_FAIL == 0 ]] && HANDOVER_SEEN+=("${delay}us:$how")
        else
            if [[ -e $d/a.ready ]] && ! rec_has "$d/a.rec" TERM; then
                fail "SIGTERM sent ${delay}us after 'done: applied' was swallowed: the application started and never got it"
            else
                fail "the installer was still running 1.5s after SIGTERM (sent ${delay}us after 'done: applied')"
            fi
            kill -TERM "$IPID"
            wait_exit 5000
        fi
        wait "$reader"
        [[ $CUR_FAIL == 0 ]] || return
    done
    echo "    outcomes: ${HANDOVER_SEEN[*]}"
}
HANDOVER_SEEN=()
wait_exit_quiet() {  # like wait_exit, but a timeout is not yet a failure
    local start
    start=$(us)
    while alive "$LPID"; do
        (($(us) - start > $1 * 1000)) && return 1
        nap 0.005
    done
    EXIT_US=$(us)
    wait "$LPID"
    RC=$?
}

scenario_cases() {
    case_ "13 SIGTERM at the handover from update phase to application" sc_term_at_handover
}
