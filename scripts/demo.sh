#!/usr/bin/env bash
# The installer in action on a throwaway PostgreSQL (default) or MariaDB server
# (--engine mariadb), from a fresh Debian 12 machine: installs what is missing, builds,
# starts the server on loopback, then
#   1. applies the example product's updates (migrations/),
#   2. tries a deliberately broken update, which is reverted and verified,
#   3. shows status and history, applies the fixed update, removes it again,
#   4. runs the sample application under the installer as PID 1 would, queries the
#      health endpoint, and stops it with SIGTERM.
# The server is stopped at the end, also on failure.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

engine=postgres
while [[ $# -gt 0 ]]; do
    case "$1" in
        --engine) engine="${2:-}"; shift 2 ;;
        --engine=*) engine="${1#--engine=}"; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "usage: scripts/demo.sh [--engine postgres|mariadb]" >&2; exit 64 ;;
    esac
done
case "$engine" in
    postgres|postgresql) engine=postgres ;;
    mariadb|mysql) engine=mariadb ;;
    *) echo "demo.sh: unknown engine '$engine' (postgres or mariadb)" >&2; exit 64 ;;
esac

step() { printf '\n\033[1m### %s\033[0m\n' "$*"; }
show() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }

log "ensuring packages"
ensure_packages "${INSTALLER_PACKAGES[@]}"
build_installer "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
export PATH="$ROOT/build:$PATH"

trap_stop_servers
if [[ "$engine" == postgres ]]; then
    start_postgres
    export INSTALLER_DB_URL="$INSTALLER_TEST_PG_URL"
else
    start_mariadb
    mariadb --socket="$MARIADB_DIR/mysqld.sock" -uroot -p"$MARIADB_PASSWORD" -e "CREATE DATABASE shop"
    export INSTALLER_DB_URL="${INSTALLER_TEST_MARIADB_URL}shop"
fi
export INSTALLER_UPDATES="$ROOT/migrations"
cd "$ROOT"

step "What would be applied (installer plan)"
show installer plan

step "Install and update (installer migrate)"
show installer migrate
show installer status

step "A broken update: it fails at its third step and is reverted"
set +e
INSTALLER_UPDATES="migrations:demo/updates-failing" show installer migrate
code=$?
set -e
echo "exit code: $code (70: the update failed and was reverted, schema verified)"
[[ $code -eq 70 ]] || { echo "demo: expected exit code 70" >&2; exit 1; }

step "The database is exactly as before the broken update"
show installer status
show installer history

step "The fixed update, then removing it again with the down scripts from the journal"
INSTALLER_UPDATES="migrations:demo/updates-next" show installer migrate
show installer --remove-update 2024.04.0 --dry-run
show installer --remove-update 2024.04.0
show installer status

step "Container start: update (nothing left to do), then run the application as PID 1"
health_port="$(free_port)"
installer --health-listen "127.0.0.1:$health_port" -- demo/app.sh &
installer_pid=$!
ready=0
for _ in $(seq 1 100); do  # bounded: at most about 10 s
    if curl -sf "http://127.0.0.1:$health_port/readyz" >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.1
done
[[ $ready -eq 1 ]] || { echo "demo: the application did not become ready" >&2; exit 1; }
show curl -s "http://127.0.0.1:$health_port/healthz"; echo
show curl -s "http://127.0.0.1:$health_port/status"
echo "stopping the container: SIGTERM to the installer (PID $installer_pid), which forwards it"
kill -TERM "$installer_pid"
set +e
wait "$installer_pid"
code=$?
set -e
echo "installer exited with the application's code: $code"

step "Done: the throwaway server is stopped now"
