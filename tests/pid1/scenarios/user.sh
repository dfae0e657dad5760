# shellcheck shell=bash
# A scenario file, sourced by tests/pid1/lib.sh: what it sets (PID1_NEEDS, DBURL, UPDATES...)
# is read there, and the functions it passes to poll_until are called there.
# The sh -c programs are single-quoted on purpose: "$0" and "$1" are theirs.
# shellcheck disable=SC2034,SC2016
# PID1_NEEDS=db: the installer migrates the main scratch database before it starts the application
PID1_NEEDS=db

# 7a. --user: the application runs with the user's uid, gid, groups and HOME.
sc_user() {
    local d=$W/user entry uid gid home groups ngid got want
    mkdir -p "$d"
    chmod 1777 "$d"
    use_main || return
    entry=$(getent passwd nobody) || { skip "no user nobody in this image"; return; }
    IFS=: read -r _ _ uid gid _ home _ <<<"$entry"
    groups=$(id -G nobody)
    local prog='printf "%s|%s|%s|%s|%s|%s\n" "$(id -u)" "$(id -g)" "$(id -G)" "$HOME" "$USER" "$LOGNAME" >"$0"'
    # The installer itself gets supplementary groups nobody does not have: they must not
    # reach the application.
    # shellcheck disable=SC2054  # 1,2,3 is one argument of setpriv
    command -v setpriv >/dev/null && WRAP=(setpriv --groups 1,2,3 --)
    run_for_code ns 0 user-nobody --user nobody -- sh -c "$prog" "$d/nobody"
    want="$uid|$gid|$groups|$home|nobody|nobody"
    got=$(cat "$d/nobody" 2>/dev/null)
    [[ $got == "$want" ]] || fail "--user nobody: uid|gid|groups|HOME|USER|LOGNAME = '$got', expected '$want'"
    if ngid=$(getent group nogroup | cut -d: -f3) && [[ -n $ngid ]]; then
        run_for_code ns 0 user-nobody-nogroup --user nobody:nogroup -- sh -c "$prog" "$d/nogroup"
        want="$uid|$ngid|$(id -G nobody | sed "s/^$gid\$/$ngid/")|$home|nobody|nobody"
        got=$(cat "$d/nogroup" 2>/dev/null)
        [[ $got == "$want" ]] || fail "--user nobody:nogroup: '$got', expected '$want'"
    fi
    if ! getent passwd 4242 >/dev/null && ! getent group 4343 >/dev/null; then
        run_for_code ns 0 user-numeric --user 4242:4343 -- sh -c "$prog" "$d/numeric"
        want="4242|4343|4343|/|4242|4242"
        got=$(cat "$d/numeric" 2>/dev/null)
        [[ $got == "$want" ]] || fail "--user 4242:4343 (no passwd entry): '$got', expected '$want'"
    fi
    return 0
}

scenario_cases() {
    case_ "7a --user: uid, gid, groups, HOME" sc_user
}
