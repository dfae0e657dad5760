# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034
# PID1_NEEDS=db: the installer migrates the main scratch database before it looks for the program
PID1_NEEDS=db

# 4. Exit codes.
sc_exit_codes() {
    local d=$W/codes
    mkdir -p "$d/dir" "$d/bin"
    printf '#!/bin/sh\nexit 0\n' >"$d/noexec.sh"
    chmod 644 "$d/noexec.sh"
    printf 'this is not a program\n' >"$d/noshebang"
    chmod 755 "$d/noshebang"
    printf '#!/bin/sh\nexit 0\n' >"$d/bin/pid1-noexec"
    chmod 644 "$d/bin/pid1-noexec"
    use_main || return
    run_for_code ns 0 exit0 -- sh -c 'exit 0'
    run_for_code ns 3 exit3 -- sh -c 'exit 3'
    run_for_code ns 255 exit255 -- sh -c 'exit 255'
    run_for_code ns 137 sigkill -- sh -c 'kill -KILL $$'
    run_for_code ns 143 sigterm -- sh -c 'kill -TERM $$'
    run_for_code ns 127 missing-path -- "$d/no/such/program"
    log_has "$LOG" "$d/no/such/program" || fail "the 127 message does not name the program"
    run_for_code ns 127 missing-name -- pid1-no-such-command
    log_has "$LOG" "pid1-no-such-command" || fail "the 127 message does not name the command"
    run_for_code ns 126 not-executable -- "$d/noexec.sh"
    log_has "$LOG" "noexec.sh" || fail "the 126 message does not name the file"
    run_for_code ns 126 directory -- "$d/dir"
    run_for_code ns 126 no-shebang -- "$d/noshebang"
    EXTRA_ENV=(PATH="$d/bin:$PATH")
    run_for_code ns 126 not-executable-on-path -- pid1-noexec
    EXTRA_ENV=()
    run_for_code sub 3 sub-exit3 -- sh -c 'exit 3'
    run_for_code sub 137 sub-sigkill -- sh -c 'kill -KILL $$'
    run_for_code sub 127 sub-missing -- pid1-no-such-command
}

scenario_cases() {
    case_ "4  exit codes 0 3 255 137 143 127 126" sc_exit_codes
}
