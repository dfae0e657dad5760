# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# shellcheck disable=SC2034
# PID1_NEEDS=db: the installer migrates the main scratch database before it starts the application
PID1_NEEDS=db

# 12. No descriptor of the installer's (database session, health listener, status pipe)
# leaks into the application: it has exactly what the installer itself was given.
sc_fd_leak() {
    local d=$W/fds extra missing
    mkdir -p "$d"
    use_main || return
    "$HELPER" fds "$d/baseline" --max-life 0 </dev/null >"$d/baseline.out" 2>"$d/baseline.err"
    launch ns fds --health-listen 127.0.0.1:0 -- "$HELPER" fds "$d/app" --exit-on TERM --max-life 20000 || return
    poll_until 10000 "the application to list its descriptors" files_exist "$d/app" || { stop_now; return; }
    extra=$(awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen)' "$d/baseline" "$d/app")
    missing=$(awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen)' "$d/app" "$d/baseline")
    [[ -z $extra ]] || fail "descriptors leaked into the application: $(tr '\n' ';' <<<"$extra")"
    [[ -z $missing ]] || fail "descriptors the installer was given are missing in the application: $(tr '\n' ';' <<<"$missing")"
    kill -TERM "$IPID"
    wait_exit 5000 && expect_rc 0
}

scenario_cases() {
    case_ "12 no installer descriptor leaks into the application" sc_fd_leak
}
