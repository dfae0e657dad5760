# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034
# PID1_NEEDS=db: the installer migrates the main scratch database before it starts the application
PID1_NEEDS=db

# 11a. --log-format json: every stderr line is one JSON object with ts, level, msg.
sc_json_logs() {
    local d=$W/json out
    mkdir -p "$d"
    scratch_db "$MAIN_ENGINE" json || return
    UPDATES=$U_TRIVIAL
    launch ns json --log-format json --log-level debug --health-listen 127.0.0.1:0 -- "$HELPER" sigrec "$d/a.rec" --ready "$d/a.ready" --die TERM --max-life 20000 || return
    poll_until 10000 "the application to start" files_exist "$d/a.ready" || { stop_now; return; }
    kill -USR1 "$IPID"
    poll_until 2000 "SIGUSR1 to reach the application" rec_has "$d/a.rec" USR1
    kill -TERM "$IPID"
    wait_exit 5000 || return
    expect_rc 143
    out=$("$HELPER" jsonl "$LOG" 2>&1) || fail "stderr is not JSON lines:"$'\n'"$out"
    grep -q '"msg":"applied update 2000.1.0' "$LOG" || fail "no JSON line for the applied update"
    grep '"msg":"started ' "$LOG" | grep -q '"pid":' || fail "the 'started' line has no pid field"
    # an error before anything starts
    launch ns json-user --log-format json --user pid1-no-such-user -- true || return
    wait_exit 5000 && expect_rc 78
    out=$("$HELPER" jsonl "$LOG" 2>&1) || fail "the --user error is not a JSON line:"$'\n'"$out"
}

scenario_cases() {
    case_ "11a --log-format json: every stderr line is a JSON object" sc_json_logs
}
