#!/usr/bin/env bash
# Adoption of databases that the REAL dbmate and Sqitch migrated (docs/adopt.md), on every
# server scripts/test.sh started (INSTALLER_TEST_PG_URL, INSTALLER_TEST_MARIADB_URL).
#   tests/tools/real_tools.sh INSTALLER_BINARY
#
# For each engine and each tool: our own two migrations in the tool's layout; the tool
# applies the first; then `installer migrate` refuses (65), `migrate --adopt` journals the
# first as adopted and applies the second, a second `migrate` does nothing, and
# `--remove-update` of the second drops its table.
#
# The tools come from package registries only:
#   dbmate: npm install --prefix DIR dbmate   (DIR/node_modules/.bin on PATH, or DBMATE=path)
#   Sqitch: apt-get install sqitch libdbd-pg-perl libdbd-mysql-perl   (SQITCH=path)
# A tool that is missing is skipped with a message; with no tool or no server: exit 77.
set -euo pipefail

installer="${1:?usage: real_tools.sh INSTALLER_BINARY}"
[[ -x "$installer" ]] || {
    echo "real-tools: $installer is not an executable" >&2
    exit 1
}
installer="$(cd "$(dirname "$installer")" && pwd)/$(basename "$installer")"

pg_url="${INSTALLER_TEST_PG_URL:-}"
maria_url="${INSTALLER_TEST_MARIADB_URL:-}"
# Nothing of the caller's may steer the installer or the tools.
while IFS= read -r name; do
    unset "$name"
done < <(compgen -e | grep -E '^(INSTALLER_|DBMATE_|SQITCH_|DATABASE_URL$|PG[A-Z]+$|MYSQL_)' || true)

limit=120 # seconds any one command may take
log() { printf 'real-tools: %s\n' "$*" >&2; }

# ---------------------------------------------------------------- tools

dbmate_bin="${DBMATE:-$(command -v dbmate || true)}"
sqitch_bin="${SQITCH:-$(command -v sqitch || true)}"
tools=()
if [[ -n "$dbmate_bin" && -x "$dbmate_bin" ]]; then
    tools+=(dbmate)
    log "dbmate: $dbmate_bin ($(timeout "$limit" "$dbmate_bin" --version 2>&1 | head -n 1))"
else
    log "dbmate not found (npm install --prefix DIR dbmate; put DIR/node_modules/.bin on PATH): its cases are skipped"
fi
if [[ -n "$sqitch_bin" && -x "$sqitch_bin" ]]; then
    tools+=(sqitch)
    log "sqitch: $sqitch_bin ($(timeout "$limit" "$sqitch_bin" --version 2>&1 | head -n 1))"
else
    log "sqitch not found (apt-get install sqitch libdbd-pg-perl libdbd-mysql-perl): its cases are skipped"
fi

engines=()
[[ -n "$pg_url" ]] && engines+=(postgres)
[[ -n "$maria_url" ]] && engines+=(mariadb)
if [[ "${#engines[@]}" -eq 0 ]]; then
    log "no INSTALLER_TEST_PG_URL or INSTALLER_TEST_MARIADB_URL: skipped"
    exit 77
fi
if [[ "${#tools[@]}" -eq 0 ]]; then
    log "neither dbmate nor sqitch is installed: skipped"
    exit 77
fi

# ---------------------------------------------------------------- URLs and secrets

# parse_url URL: sets u_auth (as written) u_user u_pass (decoded) u_host u_port u_query.
urldecode() {
    local s="${1//+/ }"
    printf '%b' "${s//%/\\x}"
}
parse_url() {
    local re='^([a-z]+)://(([^:@/]*)(:([^@]*))?@)?(\[[^]]+\]|[^:/?]+)(:([0-9]+))?(/[^?]*)?(\?(.*))?$'
    [[ "$1" =~ $re ]] || return 1
    u_auth="${BASH_REMATCH[2]%@}"
    u_user="$(urldecode "${BASH_REMATCH[3]}")"
    u_pass="$(urldecode "${BASH_REMATCH[5]}")"
    u_host="${BASH_REMATCH[6]}"
    u_port="${BASH_REMATCH[8]}"
    u_query="${BASH_REMATCH[11]}"
}

declare -A E_AUTH E_USER E_PASS E_HOST E_PORT E_QUERY
secrets=()
for engine in "${engines[@]}"; do
    if [[ "$engine" == postgres ]]; then url="$pg_url"; else url="$maria_url"; fi
    parse_url "$url" || {
        log "$engine: the URL is not scheme://user:password@host:port/db"
        exit 1
    }
    E_AUTH[$engine]="$u_auth"
    E_USER[$engine]="$u_user"
    E_PASS[$engine]="$u_pass"
    E_HOST[$engine]="$u_host"
    E_PORT[$engine]="${u_port:-$([[ "$engine" == postgres ]] && echo 5432 || echo 3306)}"
    E_QUERY[$engine]="$u_query"
    [[ -n "$u_pass" ]] && secrets+=("$u_pass")
    [[ "$u_auth" == *:* ]] && secrets+=("${u_auth#*:}")
done

# redact: stdin to stdout with every password replaced by ***.
redact() {
    local joined
    joined="$(printf '%s\n' "${secrets[@]+"${secrets[@]}"}")"
    RT_SECRETS="$joined" awk 'BEGIN { n = split(ENVIRON["RT_SECRETS"], s, "\n") }
        { for (i = 1; i <= n; i++) if (s[i] != "") { while ((p = index($0, s[i])) > 0)
              $0 = substr($0, 1, p - 1) "***" substr($0, p + length(s[i])) } print }'
}

# ---------------------------------------------------------------- workspace and cleanup

work="$(mktemp -d "${TMPDIR:-/tmp}/real-tools.XXXXXX")"
run_id="adopt_tools_$$"
created_dbs=()       # engine:database
sqitch_projects=()   # projects written into MariaDB's shared sqitch registry
sqitch_registry_was_there=1

# sql ENGINE DATABASE STATEMENT: runs it with the engine's client, rows on stdout.
sql() {
    local engine="$1" db="$2" statement="$3"
    if [[ "$engine" == postgres ]]; then
        PGPASSWORD="${E_PASS[$engine]}" PGCONNECT_TIMEOUT=10 timeout "$limit" \
            psql -X -q -At -v ON_ERROR_STOP=1 -h "${E_HOST[$engine]}" -p "${E_PORT[$engine]}" \
            -U "${E_USER[$engine]}" -d "$db" -c "$statement"
    else
        MYSQL_PWD="${E_PASS[$engine]}" timeout "$limit" \
            mariadb --no-defaults --protocol=TCP --connect-timeout=10 -N -B -h "${E_HOST[$engine]}" \
            -P "${E_PORT[$engine]}" -u "${E_USER[$engine]}" ${db:+"$db"} -e "$statement"
    fi
}
admin_db() { [[ "$1" == postgres ]] && echo postgres || echo ""; }

cleanup() {
    local entry engine db project
    set +e
    for entry in "${created_dbs[@]+"${created_dbs[@]}"}"; do
        engine="${entry%%:*}" db="${entry#*:}"
        if [[ "$engine" == postgres ]]; then
            sql postgres postgres "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
        else
            sql mariadb "" "DROP DATABASE IF EXISTS \`$db\`" >/dev/null 2>&1
        fi
    done
    # MariaDB's Sqitch registry is one database for the whole server: take our project's
    # rows out again, and the registry itself when this run created it and it is now empty.
    for project in "${sqitch_projects[@]+"${sqitch_projects[@]}"}"; do
        sql mariadb "" "DELETE FROM sqitch.dependencies WHERE change_id IN
                            (SELECT change_id FROM sqitch.changes WHERE project = '$project');
                        DELETE FROM sqitch.tags WHERE project = '$project';
                        DELETE FROM sqitch.changes WHERE project = '$project';
                        DELETE FROM sqitch.events WHERE project = '$project';
                        DELETE FROM sqitch.projects WHERE project = '$project'" >/dev/null 2>&1
    done
    if [[ "${#sqitch_projects[@]}" -gt 0 && "$sqitch_registry_was_there" -eq 0 ]] &&
        [[ "$(sql mariadb "" "SELECT COUNT(*) FROM sqitch.projects" 2>/dev/null)" == 0 ]]; then
        sql mariadb "" "DROP DATABASE IF EXISTS sqitch" >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- running things

# run NAME CMD...: CMD's stdout in $work/NAME.out, stderr in $work/NAME.err, exit status in rc.
rc=0
run() {
    local name="$1"
    shift
    rc=0
    timeout --kill-after=10 "$limit" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null || rc=$?
}
show() { # show NAME: what the command of that name printed, without passwords
    local f
    for f in "$work/$1.out" "$work/$1.err"; do
        [[ -s "$f" ]] && redact <"$f" | sed 's/^/    | /' >&2
    done
    return 0
}

case_name=""
failures=0
passed=0
fail() { # fail MESSAGE [NAME]: reports the case as failed, with the output of NAME
    log "not ok - $case_name: $1"
    [[ -n "${2:-}" ]] && show "$2"
    return 1
}

# table_exists ENGINE DATABASE TABLE: 0 yes, 1 no, 2 could not tell
table_exists() {
    local n
    if [[ "$1" == postgres ]]; then
        n="$(sql "$1" "$2" "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = '$3'")" || return 2
    else
        n="$(sql "$1" "" "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$2' AND table_name = '$3'")" || return 2
    fi
    [[ "$n" == 1 ]]
}
expect_table() { # expect_table ENGINE DATABASE TABLE yes|no WHEN
    local got=yes
    table_exists "$1" "$2" "$3" || { [[ $? -eq 1 ]] && got=no || got=unknown; }
    [[ "$got" == "$4" ]] || fail "$5: table $3 exists: expected $4, got $got"
}

# installer ARGS...: the installer against the case's database and folder.
run_installer() {
    local name="$1"
    shift
    run "$name" env INSTALLER_DB_URL="$db_url" INSTALLER_UPDATES="$updates" \
        INSTALLER_WAIT_TIMEOUT=10s INSTALLER_LOCK_TIMEOUT=30s "$installer" "$@"
}

# has_row NAME ID STATE: a line of the report NAME names ID and STATE.
has_row() {
    awk -v id="$2" -v state="$3" '{ a = 0; b = 0; for (i = 1; i <= NF; i++) { if ($i == id) a = 1; if ($i == state) b = 1 }
        if (a && b) found = 1 } END { exit !found }' "$work/$1.out"
}

# ---------------------------------------------------------------- our migrations

up_users='CREATE TABLE rt_users (id int PRIMARY KEY, name varchar(100) NOT NULL);'
down_users='DROP TABLE rt_users;'
up_orders='CREATE TABLE rt_orders (id int PRIMARY KEY, user_id int NOT NULL, FOREIGN KEY (user_id) REFERENCES rt_users (id));'
down_orders='DROP TABLE rt_orders;'

dbmate_file() { # dbmate_file PATH UP DOWN
    printf -- '-- migrate:up\n%s\n\n-- migrate:down\n%s\n' "$2" "$3" >"$1"
}

sqitch_project() { # sqitch_project DIR PROJECT ENGINE
    local dir="$1" project="$2" engine="$3"
    mkdir -p "$dir/deploy" "$dir/revert" "$dir/verify"
    cat >"$dir/sqitch.plan" <<EOF
%syntax-version=1.0.0
%project=$project

rt_users 2024-01-01T00:00:00Z Real Tools <real-tools@example.com> # the users
rt_orders [rt_users] 2024-01-02T00:00:00Z Real Tools <real-tools@example.com> # their orders
EOF
    printf -- '-- Deploy %s:rt_users to %s\n\nBEGIN;\n\n%s\n\nCOMMIT;\n' "$project" "$engine" "$up_users" >"$dir/deploy/rt_users.sql"
    printf -- '-- Revert %s:rt_users from %s\n\nBEGIN;\n\n%s\n\nCOMMIT;\n' "$project" "$engine" "$down_users" >"$dir/revert/rt_users.sql"
    printf -- '-- Verify %s:rt_users on %s\n\nSELECT id, name FROM rt_users WHERE 1 = 0;\n' "$project" "$engine" >"$dir/verify/rt_users.sql"
    printf -- '-- Deploy %s:rt_orders to %s\n\nBEGIN;\n\n%s\n\nCOMMIT;\n' "$project" "$engine" "$up_orders" >"$dir/deploy/rt_orders.sql"
    printf -- '-- Revert %s:rt_orders from %s\n\nBEGIN;\n\n%s\n\nCOMMIT;\n' "$project" "$engine" "$down_orders" >"$dir/revert/rt_orders.sql"
    printf -- '-- Verify %s:rt_orders on %s\n\nSELECT id, user_id FROM rt_orders WHERE 1 = 0;\n' "$project" "$engine" >"$dir/verify/rt_orders.sql"
}

# ---------------------------------------------------------------- one case

# apply_first_with_dbmate ENGINE DB: writes $updates (dbmate's db/migrations) with the first
# migration, has dbmate apply it, then adds the second. Sets first_id, second_id.
apply_first_with_dbmate() {
    local engine="$1" db="$2" tool_url sslmode=""
    updates="$case_dir/db/migrations"
    mkdir -p "$updates"
    dbmate_file "$updates/20240101000001_rt_users.sql" "$up_users" "$down_users"
    if [[ "$engine" == postgres ]]; then
        [[ "${E_QUERY[$engine]}" =~ (^|&)sslmode=(require|verify-ca|verify-full)(&|$) ]] && sslmode="${BASH_REMATCH[2]}"
        tool_url="postgres://${E_AUTH[$engine]}@${E_HOST[$engine]}:${E_PORT[$engine]}/$db?sslmode=${sslmode:-disable}"
    else
        tool_url="mysql://${E_AUTH[$engine]}@${E_HOST[$engine]}:${E_PORT[$engine]}/$db"
    fi
    # In the case's directory: dbmate reads ./.env, and none of the caller's.
    run dbmate-up env -C "$case_dir" DATABASE_URL="$tool_url" "$dbmate_bin" --no-dump-schema \
        --migrations-dir "$updates" up
    [[ "$rc" -eq 0 ]] || { fail "dbmate up exited $rc" dbmate-up; return 1; }
    log "  dbmate applied the first migration:"
    show dbmate-up
    dbmate_file "$updates/20240101000002_rt_orders.sql" "$up_orders" "$down_orders"
    first_id=20240101000001_rt_users
    second_id=20240101000002_rt_orders
}

# apply_first_with_sqitch ENGINE DB: writes $updates (a Sqitch project with both changes)
# and has Sqitch deploy (and verify) the first only.
apply_first_with_sqitch() {
    local engine="$1" db="$2" target project="${run_id}_$1"
    updates="$case_dir/project"
    sqitch_project "$updates" "$project" "$engine"
    if [[ "$engine" == postgres ]]; then
        perl -MDBD::Pg -e 1 2>/dev/null || { fail "sqitch needs DBD::Pg: apt-get install libdbd-pg-perl"; return 1; }
        command -v psql >/dev/null || { fail "sqitch needs psql: apt-get install postgresql-client"; return 1; }
        target="db:pg://${E_AUTH[$engine]%%:*}@${E_HOST[$engine]}:${E_PORT[$engine]}/$db"
    else
        perl -MDBD::mysql -e 1 2>/dev/null || { fail "sqitch needs DBD::mysql: apt-get install libdbd-mysql-perl"; return 1; }
        command -v mysql >/dev/null || { fail "sqitch needs the mysql client: apt-get install mariadb-client"; return 1; }
        target="db:mysql://${E_AUTH[$engine]%%:*}@${E_HOST[$engine]}:${E_PORT[$engine]}/$db"
        # The registry is the server's `sqitch` database, shared by every database on it.
        if [[ "$(sql mariadb "" "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'sqitch'")" == 0 ]]; then
            sqitch_registry_was_there=0
        elif [[ "$(sql mariadb "" "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'sqitch' AND table_name = 'projects'")" == 0 ]]; then
            log "  the server's sqitch database: $(sql mariadb "" "SELECT GROUP_CONCAT(table_name) FROM information_schema.tables WHERE table_schema = 'sqitch'" | redact)"
            fail "this server has a database \`sqitch\` that is not a Sqitch registry (no sqitch.projects: a bare one, such as an interrupted run of tests/db/test_adopt_db.cpp leaves): Sqitch cannot deploy with its default registry"
            return 1
        fi
        sqitch_projects+=("$project")
    fi
    local home="$case_dir/home"
    mkdir -p "$home"
    run sqitch-deploy env HOME="$home" SQITCH_CONFIG="$updates/sqitch.conf" \
        SQITCH_USER_CONFIG="$home/sqitch.conf" SQITCH_SYSTEM_CONFIG="$home/system-sqitch.conf" \
        SQITCH_FULLNAME="Real Tools" SQITCH_EMAIL="real-tools@example.com" \
        SQITCH_PASSWORD="${E_PASS[$engine]}" \
        "$sqitch_bin" --chdir "$updates" deploy --target "$target" --to rt_users --verify
    [[ "$rc" -eq 0 ]] || { fail "sqitch deploy exited $rc" sqitch-deploy; return 1; }
    log "  sqitch deployed the first change:"
    show sqitch-deploy
    first_id=rt_users
    second_id=rt_orders
}

run_case() {
    local engine="$1" tool="$2" db="${run_id}_${1}_${2}" history_before history_after
    case_name="$engine/$tool"
    case_dir="$work/$engine-$tool"
    mkdir -p "$case_dir"
    log "$case_name: database $db"

    if [[ "$engine" == postgres ]]; then
        sql postgres postgres "CREATE DATABASE \"$db\"" >/dev/null || { fail "CREATE DATABASE failed"; return 1; }
    else
        sql mariadb "" "CREATE DATABASE \`$db\`" >/dev/null || { fail "CREATE DATABASE failed"; return 1; }
    fi
    created_dbs+=("$engine:$db")
    local query="${E_QUERY[$engine]}"
    db_url="$([[ "$engine" == postgres ]] && echo postgresql || echo mariadb)://${E_AUTH[$engine]}@${E_HOST[$engine]}:${E_PORT[$engine]}/$db${query:+?$query}"

    "apply_first_with_$tool" "$engine" "$db" || return 1
    expect_table "$engine" "$db" rt_users yes "after $tool" || return 1
    expect_table "$engine" "$db" rt_orders no "after $tool" || return 1

    run_installer refused migrate
    [[ "$rc" -eq 65 ]] || { fail "migrate without --adopt exited $rc, expected 65" refused; return 1; }
    grep -q -- '--adopt' "$work/refused.err" || { fail "the refusal does not name --adopt" refused; return 1; }
    expect_table "$engine" "$db" rt_orders no "after the refused migrate" || return 1

    run_installer adopt migrate --adopt
    [[ "$rc" -eq 0 ]] || { fail "migrate --adopt exited $rc" adopt; return 1; }
    grep -q '1 update journaled as adopted' "$work/adopt.err" ||
        { fail "migrate --adopt did not journal exactly 1 update as adopted" adopt; return 1; }
    log "  installer migrate --adopt:"
    show adopt
    expect_table "$engine" "$db" rt_orders yes "after migrate --adopt" || return 1

    run_installer status status
    [[ "$rc" -eq 0 ]] || { fail "status exited $rc" status; return 1; }
    has_row status "$first_id" adopted || { fail "status does not show $first_id as adopted" status; return 1; }
    has_row status "$second_id" applied || { fail "status does not show $second_id as applied" status; return 1; }
    run_installer history1 history
    [[ "$rc" -eq 0 ]] || { fail "history exited $rc" history1; return 1; }
    has_row history1 "$first_id" adopted || { fail "history does not show $first_id as adopted" history1; return 1; }
    history_before="$(cat "$work/history1.out")"

    run_installer again migrate
    [[ "$rc" -eq 0 ]] || { fail "the second migrate exited $rc" again; return 1; }
    grep -q 'nothing to do' "$work/again.err" || { fail "the second migrate did something" again; return 1; }
    run_installer history2 history
    history_after="$(cat "$work/history2.out")"
    [[ "$history_before" == "$history_after" ]] ||
        { fail "the second migrate changed the history" history2; return 1; }

    run_installer remove --remove-update "$second_id"
    [[ "$rc" -eq 0 ]] || { fail "--remove-update $second_id exited $rc" remove; return 1; }
    expect_table "$engine" "$db" rt_orders no "after --remove-update $second_id" || return 1
    expect_table "$engine" "$db" rt_users yes "after --remove-update $second_id" || return 1
    run_installer status2 status
    has_row status2 "$first_id" adopted || { fail "after the removal, status does not show $first_id as adopted" status2; return 1; }
    log "ok - $case_name"
}

# ---------------------------------------------------------------- all cases

clients_ok() {
    if [[ "$1" == postgres ]]; then command -v psql >/dev/null; else command -v mariadb >/dev/null; fi
}
ran=0
for engine in "${engines[@]}"; do
    if ! clients_ok "$engine"; then
        log "$engine: no $([[ "$engine" == postgres ]] && echo psql || echo mariadb) client: skipped"
        continue
    fi
    for tool in "${tools[@]}"; do
        ran=$((ran + 1))
        if run_case "$engine" "$tool"; then
            passed=$((passed + 1))
        else
            failures=$((failures + 1))
        fi
    done
done
if [[ "$ran" -eq 0 ]]; then
    log "nothing could run: skipped"
    exit 77
fi
log "$passed passed, $failures failed"
[[ "$failures" -eq 0 ]]
