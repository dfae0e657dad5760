# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034
# PID1_NEEDS=none: the user and group are looked up before the installer connects; it is
# pointed at a port where nothing listens, so one that went on would wait and time out
PID1_NEEDS=none

# 7b. --user with a user or group that does not exist: a configuration error (78) before
# the update phase, and the application never runs.
sc_user_unknown() {
    local d=$W/user
    mkdir -p "$d"
    chmod 1777 "$d"
    DBURL=$NO_DB_URL UPDATES=$U_TRIVIAL
    getent passwd nobody >/dev/null || { skip "no user nobody in this image"; return; }
    run_for_code ns 78 user-missing --user pid1-no-such-user -- touch "$d/ran-missing-user"
    log_has "$LOG" "pid1-no-such-user" || fail "the error does not name the user"
    [[ -e $d/ran-missing-user ]] && fail "the application ran although the user does not exist"
    log_has "$LOG" "found 1 update" && fail "the installer went on to the update phase before reporting the missing user"
    run_for_code ns 78 group-missing --user nobody:pid1-no-such-group -- touch "$d/ran-missing-group"
    log_has "$LOG" "pid1-no-such-group" || fail "the error does not name the group"
    [[ -e $d/ran-missing-group ]] && fail "the application ran although the group does not exist"
    return 0
}

scenario_cases() {
    case_ "7b --user: unknown user or group exits 78" sc_user_unknown
}
