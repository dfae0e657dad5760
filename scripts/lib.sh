# shellcheck shell=bash
# Shared helpers for scripts/test.sh and scripts/demo.sh.
#
# Source it; do not execute it. It does not change the caller's shell options
# and every function works under `set -euo pipefail`.
#
# Functions:
#   log MSG...                 print "==> MSG" to stderr
#   ensure_packages PKG...     apt-get install only the missing packages
#   build_installer DIR [ARG...]  configure + build the project into DIR
#   free_port                  print a free TCP port on 127.0.0.1
#   start_postgres / stop_postgres   throwaway PostgreSQL server
#   start_mariadb  / stop_mariadb    throwaway MariaDB server
#   stop_servers               stop both (use it in an EXIT/INT/TERM trap)
#   trap_stop_servers          install that trap for the calling shell
#
# Variables:
#   ROOT                   repository root (from this file's location)
#   INSTALLER_SERVER_TMP   where the throwaway servers' directories go (default /tmp;
#                          bench/run.sh uses /dev/shm so that disk noise stays out of its figures)
#   INSTALLER_PACKAGES     Debian packages needed to build and test

if [[ -n "${_INSTALLER_LIB_SH:-}" ]]; then
    return 0
fi
_INSTALLER_LIB_SH=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
export ROOT

# shellcheck disable=SC2034  # used by the scripts that source this file
INSTALLER_PACKAGES=(
    build-essential
    cmake
    pkg-config
    libpq-dev
    libtomlplusplus-dev
    libcli11-dev
    doctest-dev
    nlohmann-json3-dev
    libfmt-dev
    libboost-filesystem-dev
    libmariadb-dev
    libssl-dev
    libarchive-dev
    zlib1g-dev
    postgresql
    postgresql-client
    mariadb-server
    mariadb-client
    util-linux
    procps
    ca-certificates
    openssl
    curl
    tini
    dumb-init
    python3
    # tests/tools/real_tools.sh: databases the real Sqitch migrated (dbmate comes from npm)
    sqitch
    libdbd-pg-perl
    libdbd-mysql-perl
    # scripts/lint.sh (scripts/test.sh runs it) and scripts/package.sh's check of the .deb
    clang-format
    clang-tidy
    shellcheck
    lintian
)

log() {
    printf '==> %s\n' "$*" >&2
}

# Benchmarks: settings from the caller's environment (INSTALLER_*, but the benchmark's
# own INSTALLER_BENCH_*) must not change what installer does.
forget_installer_settings() {
    local var
    while IFS= read -r var; do
        case "$var" in INSTALLER_BENCH_*) ;; *) unset "$var" ;; esac
    done < <(compgen -e | grep '^INSTALLER_' || true)
}

# Run a command as root: directly when we are root, else through sudo -n.
_as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        log "need root to run: $*"
        return 1
    fi
}

# Run a command, output to a log file; on failure show the tail of the log.
_quiet() {
    local logfile rc=0
    logfile="$(mktemp /tmp/installer-cmd.XXXXXX.log)"
    "$@" </dev/null >"$logfile" 2>&1 || rc=$?
    if [[ "$rc" -ne 0 ]]; then
        log "command failed (exit $rc): $*"
        tail -n 60 "$logfile" >&2 || true
    fi
    rm -f "$logfile"
    return "$rc"
}

_pkg_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        _pkg_installed "$pkg" || missing+=("$pkg")
    done
    if [[ "${#missing[@]}" -eq 0 ]]; then
        return 0
    fi
    log "installing ${#missing[@]} missing package(s): ${missing[*]}"
    if [[ -z "${_INSTALLER_APT_UPDATED:-}" ]]; then
        _quiet _as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get -o DPkg::Lock::Timeout=300 update || return 1
        _INSTALLER_APT_UPDATED=1
    fi
    _quiet _as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        install -y --no-install-recommends "${missing[@]}" || return 1
    for pkg in "${missing[@]}"; do
        if ! _pkg_installed "$pkg"; then
            log "package $pkg is still not installed"
            return 1
        fi
    done
}

# ensure_dbmate DIR: dbmate from the npm registry into DIR (npm install --prefix), for
# tests/tools/real_tools.sh and bench/run.sh; prints the path of its native binary (not
# npm's Node.js wrapper, which would add Node's start to every call). npm comes from
# Debian when no Node.js is installed yet (one that is, say NodeSource's, has its own).
ensure_dbmate() {
    local dir="${1:?usage: ensure_dbmate DIR}" bin
    bin="$(find "$dir/node_modules/@dbmate" -path '*/bin/dbmate' -type f 2>/dev/null | head -n 1)"
    if [[ -z "$bin" ]]; then
        command -v npm >/dev/null || ensure_packages npm || return 1
        log "installing dbmate from the npm registry into $dir"
        mkdir -p "$dir"
        _quiet timeout 600 npm install --prefix "$dir" --no-audit --no-fund --loglevel=error dbmate || return 1
        bin="$(find "$dir/node_modules/@dbmate" -path '*/bin/dbmate' -type f 2>/dev/null | head -n 1)"
    fi
    if [[ -z "$bin" ]] || ! "$bin" --version >/dev/null 2>&1; then
        log "dbmate from npm does not run (${bin:-no binary under $dir/node_modules/@dbmate})"
        return 1
    fi
    # Absolute: the caller may run it from another directory (ctest runs in the build's).
    printf '%s\n' "$(realpath "$bin")"
}

# build_installer BUILD_DIR [extra cmake args...]
# Extra args come after the default build type, so -DCMAKE_BUILD_TYPE=X wins.
build_installer() {
    local build_dir="${1:?usage: build_installer BUILD_DIR [cmake args...]}"
    shift
    log "configuring $build_dir ($*)"
    cmake -S "$ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
    log "building $build_dir"
    cmake --build "$build_dir" -j"$(nproc)"
}

# A port is in use if something accepts a connection on it.
_port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints a free TCP port on 127.0.0.1, picked at random below the kernel's
# ephemeral range (default 32768-60999) so outgoing connections rarely race us.
free_port() {
    local lo=20000 hi=32767 eph_lo tries p
    if read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null &&
        [[ "$eph_lo" =~ ^[0-9]+$ ]] && ((eph_lo - 1 > lo + 1000)); then
        hi=$((eph_lo - 1))
    fi
    for ((tries = 0; tries < 200; tries++)); do
        p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
        if ! _port_in_use "$p"; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    log "free_port: no free port found in $lo-$hi"
    return 1
}

_random_password() {
    local pw=""
    while [[ "${#pw}" -lt 24 ]]; do
        pw+="$(head -c 256 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9' || true)"
    done
    printf '%s\n' "${pw:0:24}"
}

# Runs "$@" until it succeeds or TIMEOUT seconds have passed; 0.2 s between tries.
_wait_until() {
    local timeout="$1"
    shift
    local deadline=$((SECONDS + timeout))
    while ! "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            return 1
        fi
        sleep 0.2
    done
}

_now_ms() {
    local t
    t="$(date +%s%N)"
    printf '%s\n' "$((t / 1000000))"
}

# ---------------------------------------------------------------- PostgreSQL

_pg_bindir() {
    local d
    d="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
        sort -V | tail -n 1)"
    if [[ -z "$d" || ! -x "$d/initdb" ]]; then
        log "no PostgreSQL server found under /usr/lib/postgresql/*/bin"
        return 1
    fi
    printf '%s\n' "$d"
}

_as_postgres() {
    runuser -u postgres -- "$@"
}

# _make_test_certs DIR OWNER: a throwaway CA, a server certificate for 127.0.0.1 and
# localhost signed by it, and an unrelated CA that must NOT verify the server.
# Writes DIR/ca.pem, DIR/server.pem, DIR/server-key.pem, DIR/other-ca.pem.
_make_test_certs() {
    local dir="$1" owner="$2"
    (
        cd "$dir" || exit 1
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=installer test CA" \
            -keyout ca-key.pem -out ca.pem &&
            openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
                -keyout server-key.pem -out server.csr &&
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext &&
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
                -extfile server.ext -out server.pem &&
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=some other CA" \
                -keyout other-ca-key.pem -out other-ca.pem
    ) >/dev/null 2>&1 || { log "could not create test TLS certificates"; return 1; }
    chmod 0644 "$dir/ca.pem" "$dir/other-ca.pem" "$dir/server.pem"
    chown "$owner" "$dir/server-key.pem" "$dir/server.pem"
}

start_postgres() {
    if [[ -n "${PG_DIR:-}" && -d "${PG_DIR:-}" ]]; then
        log "PostgreSQL already running on port ${PG_PORT:-?} (PG_DIR=$PG_DIR)"
        return 0
    fi
    local bindir dir data pw port attempt t0 started=0
    t0="$(_now_ms)"
    bindir="$(_pg_bindir)" || return 1
    dir="$(mktemp -d "${INSTALLER_SERVER_TMP:-/tmp}/installer-pg.XXXXXX")"
    # Export the dir right away so stop_postgres can clean up a half start.
    PG_DIR="$dir"
    export PG_DIR
    _PG_BINDIR="$bindir"
    data="$dir/data"
    pw="$(_random_password)"
    chown postgres:postgres "$dir"
    chmod 0700 "$dir"
    (umask 077 && printf '%s\n' "$pw" >"$dir/pwfile")
    chown postgres:postgres "$dir/pwfile"

    if ! _quiet _as_postgres "$bindir/initdb" -D "$data" -U postgres \
        --auth=scram-sha-256 --pwfile="$dir/pwfile" \
        --encoding=UTF8 --locale=C.UTF-8; then
        log "initdb with locale C.UTF-8 failed; retrying with locale C"
        rm -rf "$data"
        if ! _quiet _as_postgres "$bindir/initdb" -D "$data" -U postgres \
            --auth=scram-sha-256 --pwfile="$dir/pwfile" \
            --encoding=UTF8 --locale=C; then
            log "initdb failed"
            stop_postgres
            return 1
        fi
    fi
    rm -f "$dir/pwfile"
    _make_test_certs "$dir" postgres:postgres || { stop_postgres; return 1; }

    cat >>"$data/postgresql.conf" <<EOF

# --- throwaway test server (scripts/lib.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
ssl = on
ssl_cert_file = '$dir/server.pem'
ssl_key_file = '$dir/server-key.pem'
EOF

    for ((attempt = 1; attempt <= 5; attempt++)); do
        port="$(free_port)" || break
        : >"$dir/server.log"
        chown postgres:postgres "$dir/server.log"
        if _as_postgres "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" \
            -o "-p $port" -w -t 30 start </dev/null >/dev/null 2>&1; then
            started=1
            break
        fi
        # pg_ctl -w may have given up on a server that is still coming up.
        _as_postgres "$bindir/pg_ctl" -D "$data" -m immediate -t 10 stop \
            </dev/null >/dev/null 2>&1 || true
        if grep -qiE 'could not (bind|create listen)|address already in use' \
            "$dir/server.log"; then
            log "PostgreSQL: port $port was taken (attempt $attempt/5)"
            continue
        fi
        break
    done
    if [[ "$started" -ne 1 ]]; then
        log "PostgreSQL failed to start; server log:"
        cat "$dir/server.log" >&2 || true
        stop_postgres
        return 1
    fi

    if ! _wait_until 30 "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; then
        log "PostgreSQL did not become ready within 30 s; server log:"
        cat "$dir/server.log" >&2 || true
        stop_postgres
        return 1
    fi

    PG_PORT="$port"
    PG_PASSWORD="$pw"
    INSTALLER_TEST_PG_URL="postgresql://postgres:$pw@127.0.0.1:$port/postgres"
    # The server speaks TLS with a certificate from a throwaway CA (tests of sslmode).
    INSTALLER_TEST_PG_TLS_CA="$dir/ca.pem"
    INSTALLER_TEST_PG_OTHER_CA="$dir/other-ca.pem"
    export PG_PORT PG_PASSWORD PG_DIR INSTALLER_TEST_PG_URL INSTALLER_TEST_PG_TLS_CA INSTALLER_TEST_PG_OTHER_CA
    log "PostgreSQL ready on 127.0.0.1:$port in $(($(_now_ms) - t0)) ms (dir $dir)"
}

stop_postgres() {
    local dir="${PG_DIR:-}" bindir="${_PG_BINDIR:-}" pid
    if [[ -n "$dir" && -d "$dir" ]]; then
        if [[ -z "$bindir" ]]; then
            bindir="$(_pg_bindir 2>/dev/null)" || bindir=""
        fi
        if [[ -f "$dir/data/postmaster.pid" ]]; then
            log "stopping PostgreSQL (port ${PG_PORT:-?})"
            if [[ -n "$bindir" ]] &&
                ! _as_postgres "$bindir/pg_ctl" -D "$dir/data" -m fast -t 30 -w stop \
                    </dev/null >/dev/null 2>&1; then
                log "PostgreSQL fast shutdown failed; trying immediate"
                _as_postgres "$bindir/pg_ctl" -D "$dir/data" -m immediate -t 10 -w stop \
                    </dev/null >/dev/null 2>&1 || true
            fi
            if [[ -f "$dir/data/postmaster.pid" ]]; then
                pid="$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)"
                if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
                    log "PostgreSQL did not stop; killing postmaster $pid"
                    kill -KILL "$pid" 2>/dev/null || true
                    _wait_until 10 _pid_gone "$pid" || true
                fi
            fi
        fi
        rm -rf "$dir"
    fi
    unset PG_PORT PG_PASSWORD PG_DIR INSTALLER_TEST_PG_URL _PG_BINDIR
    return 0
}

_pid_gone() {
    ! kill -0 "$1" 2>/dev/null
}

# ------------------------------------------------------------------- MariaDB

_mariadbd_bin() {
    local b
    for b in "$(command -v mariadbd 2>/dev/null || true)" /usr/sbin/mariadbd /usr/sbin/mysqld; do
        if [[ -n "$b" && -x "$b" ]]; then
            printf '%s\n' "$b"
            return 0
        fi
    done
    log "mariadbd not found"
    return 1
}

_mariadb_ping() {
    mariadb-admin --no-defaults --socket="$1" --connect-timeout=2 -uroot ping
}

start_mariadb() {
    if [[ -n "${MARIADB_DIR:-}" && -d "${MARIADB_DIR:-}" ]]; then
        log "MariaDB already running on port ${MARIADB_PORT:-?} (MARIADB_DIR=$MARIADB_DIR)"
        return 0
    fi
    local mariadbd dir data sock pw port attempt pid t0 started=0 deadline
    t0="$(_now_ms)"
    mariadbd="$(_mariadbd_bin)" || return 1
    dir="$(mktemp -d "${INSTALLER_SERVER_TMP:-/tmp}/installer-mariadb.XXXXXX")"
    MARIADB_DIR="$dir"
    export MARIADB_DIR
    data="$dir/data"
    sock="$dir/mysqld.sock"
    # Its own tmpdir: internal temporary tables live there, out of reach of other servers
    # and of whatever cleans /tmp (a crash-suite run once lost one: "Error on delete").
    mkdir -p "$data" "$dir/tmp"
    chown -R mysql:mysql "$dir"
    chmod 0700 "$dir"

    if ! _quiet mariadb-install-db --no-defaults --datadir="$data" --user=mysql \
        --auth-root-authentication-method=normal --skip-test-db; then
        log "mariadb-install-db failed"
        stop_mariadb
        return 1
    fi

    _make_test_certs "$dir" mysql:mysql || { stop_mariadb; return 1; }

    for ((attempt = 1; attempt <= 5; attempt++)); do
        port="$(free_port)" || break
        : >"$dir/error.log"
        chown mysql:mysql "$dir/error.log"
        "$mariadbd" --no-defaults --datadir="$data" --port="$port" \
            --bind-address=127.0.0.1 --socket="$sock" --pid-file="$dir/mariadbd.pid" \
            --log-error="$dir/error.log" --user=mysql --skip-name-resolve \
            --innodb-flush-log-at-trx-commit=0 --max-connections=200 --tmpdir="$dir/tmp" \
            --ssl-cert="$dir/server.pem" --ssl-key="$dir/server-key.pem" --ssl-ca="$dir/ca.pem" \
            </dev/null >>"$dir/mariadbd.out" 2>&1 &
        pid=$!
        _MARIADB_PID="$pid"
        deadline=$((SECONDS + 60))
        while ((SECONDS < deadline)); do
            if _mariadb_ping "$sock" >/dev/null 2>&1; then
                started=1
                break
            fi
            if ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            sleep 0.2
        done
        [[ "$started" -eq 1 ]] && break
        if kill -0 "$pid" 2>/dev/null; then
            log "MariaDB did not answer within 60 s"
            break
        fi
        wait "$pid" 2>/dev/null || true
        _MARIADB_PID=""
        if grep -qiE 'address already in use|bind on tcp/ip port' "$dir/error.log"; then
            log "MariaDB: port $port was taken (attempt $attempt/5)"
            continue
        fi
        break
    done
    if [[ "$started" -ne 1 ]]; then
        log "MariaDB failed to start; error log:"
        cat "$dir/error.log" "$dir/mariadbd.out" >&2 2>/dev/null || true
        stop_mariadb
        return 1
    fi

    pw="$(_random_password)"
    if ! _quiet mariadb --no-defaults --socket="$sock" -uroot -e "
        ALTER USER 'root'@'localhost' IDENTIFIED BY '$pw';
        CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '$pw';
        ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$pw';
        GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
        CREATE USER IF NOT EXISTS 'root'@'::1' IDENTIFIED BY '$pw';
        ALTER USER 'root'@'::1' IDENTIFIED BY '$pw';
        GRANT ALL PRIVILEGES ON *.* TO 'root'@'::1' WITH GRANT OPTION;
        CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '$pw';
        ALTER USER 'root'@'%' IDENTIFIED BY '$pw';
        GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
        FLUSH PRIVILEGES;"; then
        log "MariaDB: setting the root password failed"
        stop_mariadb
        return 1
    fi
    MARIADB_PORT="$port"
    MARIADB_PASSWORD="$pw"
    if ! _wait_until 10 env MYSQL_PWD="$pw" mariadb --no-defaults --protocol=TCP \
        -h127.0.0.1 -P"$port" -uroot --connect-timeout=2 -e 'SELECT 1'; then
        log "MariaDB: TCP login on 127.0.0.1:$port with the password failed"
        stop_mariadb
        return 1
    fi

    INSTALLER_TEST_MARIADB_URL="mariadb://root:$pw@127.0.0.1:$port/"
    INSTALLER_TEST_MARIADB_TLS_CA="$dir/ca.pem"
    INSTALLER_TEST_MARIADB_OTHER_CA="$dir/other-ca.pem"
    export MARIADB_PORT MARIADB_PASSWORD MARIADB_DIR INSTALLER_TEST_MARIADB_URL \
        INSTALLER_TEST_MARIADB_TLS_CA INSTALLER_TEST_MARIADB_OTHER_CA
    log "MariaDB ready on 127.0.0.1:$port in $(($(_now_ms) - t0)) ms (dir $dir)"
}

stop_mariadb() {
    local dir="${MARIADB_DIR:-}" pid="${_MARIADB_PID:-}"
    if [[ -n "$dir" && -d "$dir" ]]; then
        if [[ -z "$pid" && -f "$dir/mariadbd.pid" ]]; then
            pid="$(head -n 1 "$dir/mariadbd.pid" 2>/dev/null || true)"
        fi
        if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
            log "stopping MariaDB (port ${MARIADB_PORT:-?})"
            # Password set: use it; still the empty one if start failed midway.
            MYSQL_PWD="${MARIADB_PASSWORD:-}" timeout 30 mariadb-admin --no-defaults \
                --socket="$dir/mysqld.sock" --connect-timeout=2 -uroot \
                --shutdown-timeout=25 shutdown </dev/null >/dev/null 2>&1 || true
            if ! _wait_until 30 _pid_gone "$pid"; then
                log "MariaDB did not shut down; sending TERM to $pid"
                kill -TERM "$pid" 2>/dev/null || true
                if ! _wait_until 30 _pid_gone "$pid"; then
                    log "MariaDB still running; sending KILL to $pid"
                    kill -KILL "$pid" 2>/dev/null || true
                    _wait_until 10 _pid_gone "$pid" || true
                fi
            fi
        fi
        # Reap it if it is our child (no-op otherwise).
        if [[ "$pid" =~ ^[0-9]+$ ]]; then
            wait "$pid" 2>/dev/null || true
        fi
        rm -rf "$dir"
    fi
    unset MARIADB_PORT MARIADB_PASSWORD MARIADB_DIR INSTALLER_TEST_MARIADB_URL _MARIADB_PID
    return 0
}

# ------------------------------------------------------------------- both

stop_servers() {
    stop_postgres || true
    stop_mariadb || true
}

# Installs traps so the servers stop on normal exit, on failure and on
# Ctrl-C / TERM; the script's exit status is kept.
trap_stop_servers() {
    trap 'stop_servers' EXIT
    trap 'stop_servers; trap - EXIT; exit 130' INT
    trap 'stop_servers; trap - EXIT; exit 143' TERM
}
