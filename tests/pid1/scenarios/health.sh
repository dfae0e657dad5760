# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034,SC2317
# PID1_NEEDS=db: scratch databases of the main engine
PID1_NEEDS=db

# 9. The health endpoint through the phases: updating, running, stopping (with --stop-delay).
sc_health() {
    local d=$W/health t0 t_term appns
    mkdir -p "$d"
    scratch_db "$MAIN_ENGINE" health || return
    UPDATES=$U_TRIVIAL:$U_SLOW
    launch ns health --health-listen 127.0.0.1:0 --stop-delay 2s -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --die TERM --max-life 20000 || return
    wait_hport || { stop_now; return; }
    # updating
    if poll_until 10000 "/status: phase updating with update 2100.1.0" status_updating 2100.1.0; then
        [[ $(jget update.step) == 001_slow ]] || fail "/status update.step is '$(jget update.step)', expected 001_slow"
        [[ $(jget update.statements) == 3 ]] || fail "/status update.statements is '$(jget update.statements)', expected 3"
        expect_http /livez 200
        expect_http /readyz 503 updating
        expect_http /healthz 503 '{"status":"updating"}'
    fi
    # running
    ready_ok() { http /readyz && [[ $HTTP_STATUS == 200 ]]; }
    if poll_until 10000 "/readyz 200 once the application runs" ready_ok; then
        expect_http /healthz 200 '{"status":"ok"}'
        expect_http /livez 200
        http /status
        [[ $(jget phase) == running ]] || fail "/status phase is '$(jget phase)', expected running"
        poll_until 3000 "the application to start" files_exist "$d/a.ready"
        appns=$(<"$d/a.ready")
        [[ $(jget application.pid) == "$appns" ]] || fail "/status application.pid is '$(jget application.pid)', expected $appns"
        [[ -z $(jget update.id) ]] || fail "/status still shows an update while running"
    fi
    # stopping: /readyz 503 at once, SIGTERM to the application only after the delay
    t0=$(us)
    kill -TERM "$IPID"
    stopping() { http /readyz && [[ $HTTP_STATUS == 503 && $HTTP_BODY == stopping ]]; }
    if poll_until 1000 "/readyz 503 stopping right after SIGTERM" stopping; then
        rec_has "$d/a.rec" TERM && fail "the application already had SIGTERM when /readyz started answering 503 (--stop-delay 2s)"
        expect_http /livez 200
        expect_http /healthz 503 '{"status":"stopping"}'
    fi
    wait_exit 6000 || return
    expect_rc 143
    t_term=$(rec_time "$d/a.rec" TERM)
    [[ -n $t_term ]] || { fail "the application never got SIGTERM"; return; }
    expect_elapsed "$t0" "$t_term" 2000 3000 "from SIGTERM to the installer until the application got it (--stop-delay 2s)"
    expect_elapsed "$t0" "$EXIT_US" 2000 4000 "from SIGTERM to the exit (--stop-delay 2s)"
}

# 9b. A failing update: reverting, then failed (/livez 503) until the process exits 70.
sc_health_failed() {
    local d=$W/failed w
    mkdir -p "$d"
    scratch_db "$MAIN_ENGINE" failed || return
    UPDATES=$U_FAIL
    launch ns failed --health-listen 127.0.0.1:0 -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --max-life 20000 || return
    wait_hport || { stop_now; return; }
    w=$d/watch
    "$HELPER" watch 127.0.0.1 "$HPORT" "$w" 15000
    wait_exit 10000 || return
    expect_rc 70 "an update failed and was reverted"
    [[ -e $d/a.ready ]] && fail "the application was started after a failed update"
    echo "    phases seen: $(tr '\n' ';' <"$w")"
    grep -q '^status reverting' "$w" || fail "/status never showed phase reverting during the 1s revert"
    grep -q '^readyz 503 reverting' "$w" || fail "/readyz never answered 503 reverting during the revert"
    grep -q '^readyz 200' "$w" && fail "/readyz answered 200 although the application never ran"
    grep '^livez 503' "$w" | grep -qv '^livez 503 failed$' && fail "/livez answered 503 for something else than failed"
    grep -q '^livez 200' "$w" || fail "/livez never answered 200 before the failure"
    if grep -q -e '^status failed' -e 'failed$' "$w"; then
        grep -q '^status failed last_error=0' "$w" && fail "/status in phase failed has no last_error"
        grep -q '^livez 503 failed' "$w" || note "phase failed seen, but no /livez answer in that window"
    else
        note "phase failed not observed: it lasts only until the process exits (at most ~100 ms)"
    fi
    [[ $(tables_count "$MAIN_ENGINE" "$DBNAME" pid1_failed) == 0 ]] || fail "the failed update's table still exists"
}

scenario_cases() {
    case_ "9a health endpoint: updating, running, stopping (--stop-delay 2s)" sc_health
    case_ "9b health endpoint: reverting, failed; exit 70" sc_health_failed
}
