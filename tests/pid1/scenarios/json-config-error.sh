# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034
# PID1_NEEDS=none: a bad --grace is reported before the installer connects anywhere
PID1_NEEDS=none

# 11b. With --log-format json even a configuration error is a JSON line. Nothing listens
# at the database URL: an installer that went on to connect would wait for it, and the
# run would not end within the 5s the case gives it.
sc_json_config_error() {
    DBURL=$NO_DB_URL UPDATES=$U_TRIVIAL
    launch ns json-config --log-format json --grace bogus -- true || return
    wait_exit 5000 && expect_rc 78
    local out
    out=$("$HELPER" jsonl "$LOG" 2>&1) || fail "with --log-format json a bad --grace is reported as plain text:"$'\n'"$out"
}

scenario_cases() {
    case_ "11b --log-format json: a configuration error is a JSON line too" sc_json_config_error
}
