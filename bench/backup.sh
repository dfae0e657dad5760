#!/usr/bin/env bash
# The cost of --backup-dir: the dump the installer takes before an update and `installer
# restore FILE --yes`, next to the engine's own tools run by hand with the same options on
# the same database, on throwaway PostgreSQL and MariaDB servers (scripts/lib.sh):
#
#   dump      by hand: pg_dump --format=custom; mariadb-dump --single-transaction --routines
#             --triggers --events --hex-blob. installer: `installer migrate --backup-dir`
#             with one pending update that creates an empty table (its apply is a few ms of
#             the figure)
#   restore   by hand: drop and create the database, then pg_restore --no-owner --exit-on-error,
#             or the mariadb client reading the dump. installer: `installer restore FILE --yes`
#             (checksum, lock, drop, create, load, journal the restore)
#
# The database is BENCH_BACKUP_MB of rows (text that compresses about as well as real
# data), measured as the server reports its size. Each figure is the median of
# BENCH_BACKUP_RUNS runs; the ratio is the installer's time over the time by hand in the
# same run. A benchmark, not a test: it asserts nothing. It writes its figures as JSON to
# bench/backup-results.json and the table into docs/backup.md unless --no-doc.
#
#   bench/backup.sh [--no-doc]
#
# Knobs: BENCH_BACKUP_MB (1024), BENCH_BACKUP_RUNS (1), BENCH_ENGINES ("postgres mariadb"),
# INSTALLER_BENCH_BUILD (build directory, default build-bench, a Release build),
# INSTALLER_SERVER_TMP (where the servers keep their files; default /dev/shm).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
forget_installer_settings
write_doc=1
case "${1:-}" in
"") ;;
--no-doc) write_doc=0 ;;
-h | --help)
    sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "bench/backup.sh: unknown argument '$1' (try --help)" >&2
    exit 64
    ;;
esac
cd "$ROOT"

megabytes="${BENCH_BACKUP_MB:-1024}"
runs="${BENCH_BACKUP_RUNS:-1}"
engines="${BENCH_ENGINES:-postgres mariadb}"
build_dir="$ROOT/${INSTALLER_BENCH_BUILD:-build-bench}"
installer="$build_dir/installer"

log "ensuring packages"
ensure_packages "${INSTALLER_PACKAGES[@]}" time
build_installer "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null

work="$(mktemp -d /tmp/installer-backup-bench.XXXXXX)"
cleanup() {
    stop_servers || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [[ -z "${INSTALLER_SERVER_TMP:-}" && -d /dev/shm && -w /dev/shm ]]; then
    export INSTALLER_SERVER_TMP=/dev/shm
fi
start_postgres
start_mariadb

pg_base="${INSTALLER_TEST_PG_URL%/*}"
maria_base="${INSTALLER_TEST_MARIADB_URL%/}"
# The clients read the password from the environment, never from their command line.
password_of() { sed -E 's#^[a-z]+://[^:]*:([^@]*)@.*#\1#' <<<"$1"; }
MYSQL_PWD="$(password_of "$maria_base")" PGPASSWORD="$(password_of "$pg_base")"
export MYSQL_PWD PGPASSWORD
maria() { mariadb -h 127.0.0.1 -P "$MARIADB_PORT" -u root "$@"; }
pg() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

# Rows of about 250 bytes: an id, a number and text of hex digits, which compresses about
# as well as real data does (2-3x), unlike a repeated constant.
rows=$((megabytes * 1024 * 1024 / 250))
fill() { # fill ENGINE DB: rows into the table update 0.9 made
    if [[ "$1" == postgres ]]; then
        pg -d "$2" -c "INSERT INTO filler SELECT g, g % 1000, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) ||
                       md5((g * 17)::text) || md5((g * 19)::text) || md5((g * 23)::text) FROM generate_series(1, $rows) g" \
            -c "VACUUM ANALYZE filler"
    else
        maria "$2" -e "INSERT INTO filler SELECT seq, seq % 1000, CONCAT(md5(seq), md5(seq * 7), md5(seq * 13),
                              md5(seq * 17), md5(seq * 19), md5(seq * 23)) FROM seq_1_to_$rows;
                       ANALYZE TABLE filler"
    fi
}
size_of() { # size_of ENGINE DB: bytes, as the server counts them
    if [[ "$1" == postgres ]]; then
        pg -d "$2" -At -c "SELECT pg_database_size('$2')"
    else
        maria -N -e "SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema = '$2'"
    fi
}
recreate() { # recreate ENGINE DB
    if [[ "$1" == postgres ]]; then
        pg -d postgres -c "DROP DATABASE IF EXISTS $2" -c "CREATE DATABASE $2"
    else
        maria -e "DROP DATABASE IF EXISTS $2; CREATE DATABASE $2"
    fi
}
url_of() { [[ "$1" == postgres ]] && echo "$pg_base/$2?sslmode=disable" || echo "$maria_base/$2"; }

dump_by_hand() { # dump_by_hand ENGINE DB FILE
    if [[ "$1" == postgres ]]; then
        pg_dump --format=custom --no-password -h 127.0.0.1 -p "$PG_PORT" -U postgres -f "$3" "$2"
    else
        mariadb-dump -h 127.0.0.1 -P "$MARIADB_PORT" -u root --single-transaction --routines --triggers --events \
            --hex-blob "$2" >"$3"
    fi
}
restore_by_hand() { # restore_by_hand ENGINE DB FILE
    recreate "$1" "$2"
    if [[ "$1" == postgres ]]; then
        pg_restore --no-password --exit-on-error --no-owner -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$2" "$3"
    else
        maria "$2" <"$3"
    fi
}

# timed NAME COMMAND...: appends "seconds peak_kib" of one run to $work/NAME.
timed() {
    local name="$1" out
    shift
    out="$work/time.txt"
    # /usr/bin/time runs programs: a shell function goes through a bash that defines it.
    if declare -F "$1" >/dev/null; then
        set -- bash -c "$(declare -f pg maria recreate dump_by_hand restore_by_hand); \"\$@\"" bench "$@"
    fi
    /usr/bin/time -f '%e %M' -o "$out" "$@" >/dev/null 2>"$work/$name.err" || {
        echo "bench/backup.sh: $name failed:" >&2
        cat "$work/$name.err" >&2
        exit 1
    }
    cat "$out" >>"$work/$name"
}

measure() { # measure ENGINE RUN
    local engine="$1" db="bk$2" updates="$work/updates-$1-$2" backups="$work/backups-$1-$2"
    local installer_env=(env INSTALLER_DB_URL="$(url_of "$engine" "$db")" INSTALLER_UPDATES="$updates")
    log "$engine: filling $db with ${megabytes} MB"
    recreate "$engine" "$db"
    # The database is the installer's: an update made the table the rows go into.
    mkdir -p "$updates/0.9" "$backups"
    echo "CREATE TABLE filler (id bigint PRIMARY KEY, n int NOT NULL, body text NOT NULL);" >"$updates/0.9/001_t.up.sql"
    echo "DROP TABLE filler;" >"$updates/0.9/001_t.down.sql"
    "${installer_env[@]}" "$installer" migrate 2>/dev/null
    fill "$engine" "$db" >/dev/null
    size_of "$engine" "$db" >>"$work/$engine.size"
    mkdir -p "$updates/1.0"
    echo "CREATE TABLE after_backup (id INT PRIMARY KEY);" >"$updates/1.0/001_t.up.sql"
    echo "DROP TABLE after_backup;" >"$updates/1.0/001_t.down.sql"

    log "$engine: dump by hand, then by the installer"
    timed "$engine.dump.hand" dump_by_hand "$engine" "$db" "$work/hand.dump"
    stat -c %s "$work/hand.dump" >>"$work/$engine.dumpsize"
    rm -f "$work/hand.dump"
    timed "$engine.dump.installer" "${installer_env[@]}" INSTALLER_BACKUP_DIR="$backups" "$installer" migrate
    local dump
    dump="$(find "$backups" -name '*.dump' | head -n 1)"

    log "$engine: restore by hand, then by the installer"
    timed "$engine.restore.hand" restore_by_hand "$engine" "$db" "$dump"
    timed "$engine.restore.installer" "${installer_env[@]}" "$installer" restore "$dump" --yes
    recreate "$engine" "$db"
    rm -rf "$backups"
}

for engine in $engines; do
    for ((run = 1; run <= runs; run++)); do measure "$engine" "$run"; done
done

json_out="$work/backup-results.json"
python3 - "$work" "$json_out" "$megabytes" "$engines" <<'EOF'
import json, os, platform, statistics, subprocess, sys
work, out, megabytes, engines = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split()
def samples(name):
    with open(os.path.join(work, name)) as f:
        return [line.split() for line in f if line.strip()]
def version(cmd):
    return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
figures = {"megabytes": megabytes, "machine": f"{platform.machine()}, {os.cpu_count()} cores", "engines": {}}
figures["versions"] = {"pg_dump": version(["pg_dump", "--version"]), "mariadb-dump": version(["mariadb-dump", "--version"])}
for engine in engines:
    e = {"database_bytes": [int(x[0]) for x in samples(f"{engine}.size")],
         "dump_bytes": [int(x[0]) for x in samples(f"{engine}.dumpsize")]}
    for step in ("dump", "restore"):
        for who in ("hand", "installer"):
            rows = samples(f"{engine}.{step}.{who}")
            e[f"{step}_{who}"] = {"seconds": [float(r[0]) for r in rows], "peak_kib": [int(r[1]) for r in rows]}
    figures["engines"][engine] = e
with open(out, "w") as f:
    json.dump(figures, f, indent=2)
EOF
table="$(python3 - "$json_out" <<'EOF'
import json, statistics, sys
f = json.load(open(sys.argv[1]))
print(f"Measured by `bench/backup.sh` on {f['machine']}: a database of {f['megabytes']} MB of rows; "
      f"{f['versions']['pg_dump']}, {f['versions']['mariadb-dump']}; median of "
      f"{len(next(iter(f['engines'].values()))['dump_hand']['seconds'])} run(s).\n")
print("| engine | database | dump file | step | by hand | installer | ratio | installer peak RSS (with the tool) |")
print("|---|---|---|---|---|---|---|---|")
for engine, e in f["engines"].items():
    size = statistics.median(e["database_bytes"]) / 2**20
    dump = statistics.median(e["dump_bytes"]) / 2**20
    for step in ("dump", "restore"):
        hand = statistics.median(e[f"{step}_hand"]["seconds"])
        inst = statistics.median(e[f"{step}_installer"]["seconds"])
        rss = max(e[f"{step}_installer"]["peak_kib"]) / 1024
        print(f"| {engine} | {size:.0f} MB | {dump:.0f} MB | {step} | {hand:.1f} s | {inst:.1f} s | "
              f"{inst / hand:.2f}x | {rss:.1f} MB |")
EOF
)"
echo
echo "$table"
if [[ "$write_doc" -eq 1 ]]; then
    cp "$json_out" "$ROOT/bench/backup-results.json"
    python3 - "$ROOT/docs/backup.md" "$table" <<'EOF'
import re, sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- bench/backup.sh: begin -->", "<!-- bench/backup.sh: end -->"
if begin not in text:
    sys.exit(f"{path} has no '{begin}' marker")
head, rest = text.split(begin, 1)
tail = rest.split(end, 1)[1]
open(path, "w").write(f"{head}{begin}\n{table}\n{end}{tail}")
EOF
    log "wrote bench/backup-results.json and the table in docs/backup.md"
fi
