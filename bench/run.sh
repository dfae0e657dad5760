#!/usr/bin/env bash
# installer next to the database's own floor and to dbmate and Sqitch, in one run, on
# throwaway PostgreSQL and MariaDB servers (scripts/lib.sh), with the same SQL for all:
#
#   apply     N small migrations (create a table, an index, insert a row); the floor is
#             the same SQL through the engine's client in one go (psql -1 -f; mariadb <);
#             installer also with snapshots around the run's edges only (--fingerprint-limit
#             1), against its default of a verified snapshot around every update
#   revert    all N: installer removes them in one run (an image without them, with
#             --auto-remove-unknown); dbmate rolls back one per call, as it only can;
#             sqitch revert; the floor runs the down scripts through the client
#   no-op     a start with N applied and nothing to do: installer migrate, installer run
#             -- /bin/true (exec to the child's exit), dbmate up, sqitch deploy; the floor
#             is the client connecting and running SELECT 1; beside it, reading every file
#             of the N updates and nothing else (bench/floor/read_updates.c, 4 threads)
#   catalog   reading, hashing and checking BENCH_FILES step files (installer plan on an
#             empty database, dbmate status, sqitch status); the floor is cat | sha256sum
#   start     the program starting and exiting (--version); the floor is /bin/true
#   scale     once per size: histories of BENCH_SCALE_UPDATES updates (first install, a
#             no-op start, removing them all) and schemas of BENCH_SCALE_TABLES tables made by
#             updates of 500 tables each (installing them, a no-op start, installer diff
#             reading the schema whole against its snapshot); installer, and the floor
#             (statement by statement) for the history's install
#
# Each figure is the median of BENCH_RUNS runs, each on a fresh database; the ratio is
# against the floor measured in the same run. Peak RSS is the largest over the runs
# (for dbmate's rollbacks, of one call). A benchmark, not a test: it asserts nothing and
# exits 0 when it measured. It writes its figures as JSON (the raw samples, the machine and
# the versions) to bench/results.json or the --json file, prints the tables, and renders
# docs/performance.md from the JSON with bench/render.py unless --no-doc (then, without
# --json, the JSON is not kept either).
#
#   bench/run.sh [--no-doc] [--json FILE]
#
# Knobs: BENCH_N (1000), BENCH_RUNS (3), BENCH_NOOP_REPEAT (5: the no-op starts and the
# start and exit of every tool but Sqitch, which take milliseconds, are measured that many
# times in each run, so that their medians hold against this machine's noise),
# BENCH_SQITCH_RUNS (1: Sqitch starts a client
# process per change and is measured in the first run only), BENCH_FILES (10000), BENCH_ENGINES
# ("postgres mariadb"), BENCH_TOOLS ("floor installer dbmate sqitch"), BENCH_SCALE_UPDATES
# (histories of "1250 2500 5000" updates; "" for none), BENCH_SCALE_TABLES (schemas of "2500
# 5000 10000" tables; "" for none),
# INSTALLER_BENCH_BUILD (build directory, default build-bench, a Release build),
# BENCH_CACHE (where dbmate is installed from npm; default ~/.cache/installer-bench),
# INSTALLER_SERVER_TMP (where the servers keep their files; default /dev/shm).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
forget_installer_settings
write_doc=1
json=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --no-doc) write_doc=0 ;;
    --json)
        json="${2:?--json needs a file}"
        shift
        ;;
    --json=*) json="${1#--json=}" ;;
    -h | --help)
        sed -n '2,45p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "bench/run.sh: unknown argument '$1' (try --help)" >&2
        exit 64
        ;;
    esac
    shift
done
[[ -z "$json" || "$json" == /* ]] || json="$PWD/$json"
cd "$ROOT"

n="${BENCH_N:-1000}"
runs="${BENCH_RUNS:-3}"
sqitch_runs="${BENCH_SQITCH_RUNS:-1}"
files="${BENCH_FILES:-10000}"
noop_repeat="${BENCH_NOOP_REPEAT:-5}"
scale_updates="${BENCH_SCALE_UPDATES-1250 2500 5000}"
scale_tables="${BENCH_SCALE_TABLES-2500 5000 10000}"
engines="${BENCH_ENGINES:-postgres mariadb}"
tools="${BENCH_TOOLS:-floor installer dbmate sqitch}"
build_dir="$ROOT/${INSTALLER_BENCH_BUILD:-build-bench}"
cache="${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/installer-bench}"
installer="$build_dir/installer"
uses() { [[ " $tools " == *" $1 "* ]]; }

log "ensuring packages"
ensure_packages "${INSTALLER_PACKAGES[@]}" time sqitch libdbd-pg-perl libdbd-mysql-perl
if uses dbmate; then
    dbmate="$(ensure_dbmate "$cache")" || { echo "bench/run.sh: dbmate was not installed" >&2; exit 69; }
fi
build_installer "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null

work="$(mktemp -d /tmp/installer-bench.XXXXXX)"
cleanup() {
    stop_servers || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [[ -z "$json" ]]; then
    json=$([[ "$write_doc" -eq 1 ]] && echo "$ROOT/bench/results.json" || echo "$work/results.json")
fi
# The servers' files in memory where there is a tmpfs: on this kind of virtual disk the
# time to create and delete the files of 1000 tables varied by 2x from run to run, for
# every tool alike, and drowned the differences between them.
if [[ -z "${INSTALLER_SERVER_TMP:-}" && -d /dev/shm && -w /dev/shm ]]; then
    export INSTALLER_SERVER_TMP=/dev/shm
fi
start_postgres
start_mariadb
# What reading the update files costs before any program logic (the no-op rows).
cc -O2 -Wall -Wextra -pthread -o "$work/read_updates" "$ROOT/bench/floor/read_updates.c"

# ---------------------------------------------------------------- workloads
# create_sql ENGINE I / drop_sql ENGINE I: migration I's up and down.
create_sql() {
    if [[ "$1" == postgres ]]; then
        echo "CREATE TABLE t$2 (id serial PRIMARY KEY, name text NOT NULL DEFAULT 'x', created timestamptz DEFAULT now());"
    else
        echo "CREATE TABLE t$2 (id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL DEFAULT 'x', created timestamp DEFAULT current_timestamp);"
    fi
    echo "CREATE INDEX t$2_name ON t$2 (name);"
    echo "INSERT INTO t$2 (name) VALUES ('a');"
}
drop_sql() { echo "DROP TABLE t$2;"; }

# sqitch_project DIR ENGINE: an empty plan and the configuration; changes are appended.
sqitch_project() {
    printf '%%syntax-version=1.0.0\n%%project=bench\n\n' >"$1/sqitch.plan"
    printf '[core]\n\tengine = %s\n\tplan_file = sqitch.plan\n\ttop_dir = .\n[user]\n\tname = bench\n\temail = bench@example.com\n' \
        "$2" >"$1/sqitch.conf"
}

generate() {
    local engine="$1" dir="$work/$1" i id sqitch_engine
    sqitch_engine=$([[ "$engine" == postgres ]] && echo pg || echo mysql)
    mkdir -p "$dir/updates" "$dir/empty" "$dir/dbmate/db/migrations" "$dir/sqitch/deploy" "$dir/sqitch/revert"
    : >"$dir/up.sql"
    sqitch_project "$dir/sqitch" "$sqitch_engine"
    for ((i = 1; i <= n; i++)); do
        id=$(printf 'u%05d' "$i")
        mkdir -p "$dir/updates/$id"
        echo "version = \"1.$i\"" >"$dir/updates/$id/update.toml"
        create_sql "$engine" "$i" >"$dir/updates/$id/001_t.up.sql"
        drop_sql "$engine" "$i" >"$dir/updates/$id/001_t.down.sql"
        create_sql "$engine" "$i" >>"$dir/up.sql"
        { echo "-- migrate:up"; create_sql "$engine" "$i"; echo "-- migrate:down"; drop_sql "$engine" "$i"; } \
            >"$dir/dbmate/db/migrations/$(printf '%014d' "$i")_t$i.sql"
        { echo "BEGIN;"; create_sql "$engine" "$i"; echo "COMMIT;"; } >"$dir/sqitch/deploy/t$i.sql"
        { echo "BEGIN;"; drop_sql "$engine" "$i"; echo "COMMIT;"; } >"$dir/sqitch/revert/t$i.sql"
        echo "t$i 2024-01-01T00:00:00Z bench <bench@example.com> # t$i" >>"$dir/sqitch/sqitch.plan"
    done
    for ((i = n; i >= 1; i--)); do drop_sql "$engine" "$i"; done >"$dir/down.sql"
}

generate_catalog() {
    local dir="$work/catalog" per=5 updates i s id
    updates=$(((files + 2 * per - 1) / (2 * per)))
    mkdir -p "$dir/updates" "$dir/dbmate/db/migrations" "$dir/sqitch/deploy" "$dir/sqitch/revert"
    sqitch_project "$dir/sqitch" pg
    for ((i = 1; i <= updates; i++)); do
        id=$(printf 'u%05d' "$i")
        mkdir -p "$dir/updates/$id"
        echo "version = \"1.$i\"" >"$dir/updates/$id/update.toml"
        for ((s = 1; s <= per; s++)); do
            create_sql postgres "${i}_$s" >"$dir/updates/$id/00${s}_t.up.sql"
            drop_sql postgres "${i}_$s" >"$dir/updates/$id/00${s}_t.down.sql"
            { echo "-- migrate:up"; create_sql postgres "${i}_$s"; echo "-- migrate:down"; drop_sql postgres "${i}_$s"; } \
                >"$dir/dbmate/db/migrations/$(printf '%08d%02d' "$i" "$s")_t.sql"
            create_sql postgres "${i}_$s" >"$dir/sqitch/deploy/t${i}_$s.sql"
            drop_sql postgres "${i}_$s" >"$dir/sqitch/revert/t${i}_$s.sql"
            echo "t${i}_$s 2024-01-01T00:00:00Z bench <bench@example.com> # t${i}_$s" >>"$dir/sqitch/sqitch.plan"
        done
    done
    catalog_files=$(find "$dir/updates" -name '*.sql' | wc -l)
}

# ---------------------------------------------------------------- servers
pg_base="${INSTALLER_TEST_PG_URL%/*}"
maria_base="${INSTALLER_TEST_MARIADB_URL%/}"
maria_password="$(sed -E 's#^[a-z]+://[^:]*:([^@]*)@.*#\1#' <<<"$maria_base")"
maria_port="${maria_base##*:}"
# The clients read the password from the environment, not from their command line (which
# any process can read in /proc) nor from a bash -c string.
export MYSQL_PWD="$maria_password"
maria() { mariadb -h 127.0.0.1 -P "$maria_port" -u root "$@"; }

url_for() { # url_for ENGINE TOOL DB
    if [[ "$1" == postgres ]]; then
        # TLS off for every tool alike: the handshake would dominate the no-op start.
        case "$2" in
        dbmate) echo "postgres://${pg_base#*://}/$3?sslmode=disable" ;;
        sqitch) echo "db:pg://${pg_base#*://}/$3?sslmode=disable" ;;
        *) echo "$pg_base/$3?sslmode=disable" ;;
        esac
    else
        case "$2" in
        dbmate) echo "mysql://${maria_base#*://}/$3" ;;
        sqitch) echo "db:mysql://${maria_base#*://}/$3" ;;
        *) echo "$maria_base/$3" ;;
        esac
    fi
}
create_db() {
    if [[ "$1" == postgres ]]; then
        psql -X -q "$pg_base/postgres" -c "CREATE DATABASE $2"
    else
        maria -e "CREATE DATABASE $2"
    fi
}
drop_db() {
    if [[ "$1" == postgres ]]; then
        psql -X -q "$pg_base/postgres" -c "DROP DATABASE IF EXISTS $2"
    else
        maria -e "DROP DATABASE IF EXISTS $2; DROP DATABASE IF EXISTS sqitch_$2"
    fi
}
count_tables() {
    if [[ "$1" == postgres ]]; then
        psql -X -At "$pg_base/$2" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename ~ '^t[0-9]+$'"
    else
        maria -N -e "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$2' AND TABLE_NAME REGEXP '^t[0-9]+$'"
    fi
}

# ---------------------------------------------------------------- measuring
declare -A samples peak
# measure KEY CMD...: wall milliseconds appended to samples[KEY], peak RSS (KiB) to peak[KEY].
measure() {
    local key="$1" t0 t1 rss
    shift
    # EPOCHREALTIME, not $(date): a fork on each side would add milliseconds to every figure.
    t0=${EPOCHREALTIME/./}
    if ! /usr/bin/time -f '%M' -o "$work/rss" "$@" >"$work/last.log" 2>&1; then
        echo "bench/run.sh: '$key' failed (its output follows)" >&2
        tail -n 20 "$work/last.log" >&2
        exit 1
    fi
    t1=${EPOCHREALTIME/./}
    rss=$(tail -n1 "$work/rss")
    samples[$key]="${samples[$key]:-} $(((t1 - t0) / 1000))"
    ((rss > ${peak[$key]:-0})) && peak[$key]=$rss
    return 0
}
# expect_tables ENGINE DB COUNT WHAT: a run that did not do its work is not a figure.
expect_tables() {
    local got
    got=$(count_tables "$1" "$2")
    if [[ "$got" != "$3" ]]; then
        echo "bench/run.sh: $4 left $got tables in $2, expected $3" >&2
        exit 1
    fi
}
# dbmate rolls back one migration per call. (The single quotes are meant: bash -c expands.)
# shellcheck disable=SC2016
dbmate_rollbacks=(bash -c 'for ((i = 0; i < $3; i++)); do "$0" --url "$1" --migrations-dir "$2" --no-dump-schema rollback >/dev/null || exit 1; done')
# maria_script PORT DB FILE: the client runs FILE (the password comes from MYSQL_PWD).
# shellcheck disable=SC2016
maria_script=(bash -c 'mariadb -h 127.0.0.1 -P "$0" -u root "$1" <"$2"')
median() {
    tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {if (NR == 0) print ""; else if (NR % 2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'
}

# noop_phases ENGINE URL DIR: when each part of a no-op start ended, in ms from the
# process's start, from the installer's own debug log (its timestamps have ms resolution):
# the connection and the lock (taken meanwhile on a thread of its own, which then reads
# the journal), the catalog read, and the end of both: nothing to do.
noop_phases() {
    local t0=${EPOCHREALTIME/./}
    "$installer" migrate --db-url "$2" --updates "$3" --log-level debug --log-format json \
        2>"$work/phases.log" >/dev/null || return 0
    python3 - "$1" "$t0" "$work/phases.log" >>"$work/phases.tsv" <<'PY'
import datetime, json, sys
engine, t0 = sys.argv[1], int(sys.argv[2]) / 1e6
marks = (("found ", "catalog read"), ("connected to ", "connected"), ("migration lock acquired", "locked"),
         ("database is up to date", "journal read: nothing to do"))
for line in open(sys.argv[3], encoding="utf-8"):
    entry = json.loads(line)
    when = datetime.datetime.strptime(entry["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
    ms = round((when.replace(tzinfo=datetime.timezone.utc).timestamp() - t0) * 1000)
    for prefix, phase in marks:
        if entry["msg"].startswith(prefix):
            print(f"{engine}\t{phase}\t{ms}")
PY
}

run_engine() {
    local engine="$1" r k db dir="$work/$1" url
    for ((r = 1; r <= runs; r++)); do
        log "$engine: run $r of $runs"
        if uses floor; then
            db="bench_floor_$r"
            create_db "$engine" "$db"
            if [[ "$engine" == postgres ]]; then
                measure "$engine apply floor" psql -X -q -1 -v ON_ERROR_STOP=1 "$(url_for "$engine" floor "$db")" -f "$dir/up.sql"
                for ((k = 0; k < noop_repeat; k++)); do
                    measure "$engine noop floor" psql -X -q "$(url_for "$engine" floor "$db")" -c 'SELECT 1'
                done
                measure "$engine revert floor" psql -X -q -1 -v ON_ERROR_STOP=1 "$(url_for "$engine" floor "$db")" -f "$dir/down.sql"
            else
                measure "$engine apply floor" "${maria_script[@]}" "$maria_port" "$db" "$dir/up.sql"
                for ((k = 0; k < noop_repeat; k++)); do
                    measure "$engine noop floor" mariadb -h 127.0.0.1 -P "$maria_port" -u root "$db" -e 'SELECT 1'
                done
                measure "$engine revert floor" "${maria_script[@]}" "$maria_port" "$db" "$dir/down.sql"
            fi
            expect_tables "$engine" "$db" 0 "the floor's revert"
            drop_db "$engine" "$db"
        fi
        if uses installer; then
            db="bench_installer_$r"
            create_db "$engine" "$db"
            url="$(url_for "$engine" installer "$db")"
            measure "$engine apply installer" "$installer" migrate --db-url "$url" --updates "$dir/updates"
            expect_tables "$engine" "$db" "$n" "installer migrate"
            for ((k = 0; k < noop_repeat; k++)); do
                measure "$engine noop installer" "$installer" migrate --db-url "$url" --updates "$dir/updates"
                measure "$engine noop installer-run" "$installer" run --db-url "$url" --updates "$dir/updates" -- /bin/true
                uses floor && measure "$engine noop read-floor" "$work/read_updates" "$dir/updates"
                noop_phases "$engine" "$url" "$dir/updates"
            done
            measure "$engine revert installer" "$installer" migrate --db-url "$url" --updates "$dir/empty" --auto-remove-unknown
            expect_tables "$engine" "$db" 0 "installer's removal"
            drop_db "$engine" "$db"
            # The same apply with snapshots around the run's first and last update only:
            # what verifying every update costs.
            db="bench_installer_edges_$r"
            create_db "$engine" "$db"
            url="$(url_for "$engine" installer "$db")"
            measure "$engine apply installer-edges" "$installer" migrate --db-url "$url" --updates "$dir/updates" \
                --fingerprint-limit 1
            expect_tables "$engine" "$db" "$n" "installer migrate --fingerprint-limit 1"
            drop_db "$engine" "$db"
        fi
        if uses dbmate; then
            db="bench_dbmate_$r"
            create_db "$engine" "$db"
            url="$(url_for "$engine" dbmate "$db")"
            measure "$engine apply dbmate" "$dbmate" --url "$url" --migrations-dir "$dir/dbmate/db/migrations" --no-dump-schema up
            expect_tables "$engine" "$db" "$n" "dbmate up"
            for ((k = 0; k < noop_repeat; k++)); do
                measure "$engine noop dbmate" "$dbmate" --url "$url" --migrations-dir "$dir/dbmate/db/migrations" --no-dump-schema up
            done
            measure "$engine revert dbmate" "${dbmate_rollbacks[@]}" "$dbmate" "$url" "$dir/dbmate/db/migrations" "$n"
            expect_tables "$engine" "$db" 0 "dbmate rollback"
            drop_db "$engine" "$db"
        fi
        if uses sqitch && ((r <= sqitch_runs)); then
            db="bench_sqitch_$r"
            create_db "$engine" "$db"
            url="$(url_for "$engine" sqitch "$db")"
            local registry=()
            [[ "$engine" == mariadb ]] && registry=(--registry "sqitch_$db")
            measure "$engine apply sqitch" sqitch -C "$dir/sqitch" deploy "${registry[@]}" "$url"
            expect_tables "$engine" "$db" "$n" "sqitch deploy"
            measure "$engine noop sqitch" sqitch -C "$dir/sqitch" deploy "${registry[@]}" "$url"
            measure "$engine revert sqitch" sqitch -C "$dir/sqitch" revert -y "${registry[@]}" "$url"
            expect_tables "$engine" "$db" 0 "sqitch revert"
            drop_db "$engine" "$db"
        fi
    done
}

# ---------------------------------------------------------------- scale
# generate_history ENGINE SIZE DIR: SIZE updates of the workload's shape, for installer
# and the floor.
generate_history() {
    local engine="$1" size="$2" dir="$3" i id
    mkdir -p "$dir/updates" "$dir/empty"
    : >"$dir/up.sql"
    for ((i = 1; i <= size; i++)); do
        printf -v id 'u%05d' "$i"
        mkdir -p "$dir/updates/$id"
        echo "version = \"1.$i\"" >"$dir/updates/$id/update.toml"
        create_sql "$engine" "$i" >"$dir/updates/$id/001_t.up.sql"
        drop_sql "$engine" "$i" >"$dir/updates/$id/001_t.down.sql"
        create_sql "$engine" "$i" >>"$dir/up.sql"
    done
}

# generate_wide ENGINE TABLES DIR: updates of 500 tables each (and their indexes), TABLES in
# all: one transaction creating thousands of tables would need more of PostgreSQL's lock
# table (max_locks_per_transaction) than a default server has.
generate_wide() {
    local engine="$1" tables="$2" dir="$3" first last i id
    for ((first = 1; first <= tables; first += 500)); do
        last=$((first + 499 < tables ? first + 499 : tables))
        printf -v id 'w%05d' "$first"
        mkdir -p "$dir/updates/$id"
        echo "version = \"$first\"" >"$dir/updates/$id/update.toml"
        for ((i = first; i <= last; i++)); do create_sql "$engine" "$i"; done >"$dir/updates/$id/001_tables.up.sql"
        for ((i = last; i >= first; i--)); do drop_sql "$engine" "$i"; done >"$dir/updates/$id/001_tables.down.sql"
    done
}

# One run at each size (the curve is the figure, not the spread; the no-op starts, which
# last milliseconds, BENCH_NOOP_REPEAT times): a long history installed
# on an empty database, started again with nothing to do, and removed whole; a wide
# schema installed by one update, started again, and compared with its snapshot.
run_scale() {
    local engine="$1" size db dir url
    for size in $scale_updates; do
        dir="$work/scale-$engine-$size"
        log "$engine: a history of $size updates"
        generate_history "$engine" "$size" "$dir"
        if uses floor; then
            db="bench_scale_floor_$size"
            create_db "$engine" "$db"
            if [[ "$engine" == postgres ]]; then
                # Not in one transaction (-1): thousands of tables would fill the lock table.
                measure "$engine history-$size install floor" psql -X -q -v ON_ERROR_STOP=1 "$(url_for "$engine" floor "$db")" -f "$dir/up.sql"
            else
                measure "$engine history-$size install floor" "${maria_script[@]}" "$maria_port" "$db" "$dir/up.sql"
            fi
            drop_db "$engine" "$db"
        fi
        db="bench_scale_history_$size"
        create_db "$engine" "$db"
        url="$(url_for "$engine" installer "$db")"
        measure "$engine history-$size install installer" "$installer" migrate --db-url "$url" --updates "$dir/updates"
        expect_tables "$engine" "$db" "$size" "installer migrate of $size updates"
        # Milliseconds, where one sample is as noisy as the no-op rows above.
        for ((k = 0; k < noop_repeat; k++)); do
            measure "$engine history-$size noop installer" "$installer" migrate --db-url "$url" --updates "$dir/updates"
        done
        measure "$engine history-$size remove installer" "$installer" migrate --db-url "$url" --updates "$dir/empty" \
            --auto-remove-unknown
        expect_tables "$engine" "$db" 0 "installer's removal of $size updates"
        drop_db "$engine" "$db"
        rm -rf "$dir"
    done
    for size in $scale_tables; do
        dir="$work/wide-$engine-$size"
        log "$engine: a schema of $size tables"
        generate_wide "$engine" "$size" "$dir"
        db="bench_scale_wide_$size"
        create_db "$engine" "$db"
        url="$(url_for "$engine" installer "$db")"
        measure "$engine schema-$size install installer" "$installer" migrate --db-url "$url" --updates "$dir/updates"
        expect_tables "$engine" "$db" "$size" "the updates creating $size tables"
        for ((k = 0; k < noop_repeat; k++)); do
            measure "$engine schema-$size noop installer" "$installer" migrate --db-url "$url" --updates "$dir/updates"
        done
        measure "$engine schema-$size snapshot installer" "$installer" diff --db-url "$url" --updates "$dir/updates"
        drop_db "$engine" "$db"
        rm -rf "$dir"
    done
}

run_catalog() {
    local dir="$work/catalog" r k db
    for ((r = 1; r <= runs; r++)); do
        for ((k = 0; k < noop_repeat; k++)); do
            uses floor && measure "start floor" /bin/true
            uses installer && measure "start installer" "$installer" --version
            uses dbmate && measure "start dbmate" "$dbmate" --version
        done
        uses sqitch && measure "start sqitch" sqitch --version
        log "catalog scan: run $r of $runs"
        db="bench_catalog_$r"
        # shellcheck disable=SC2016
        uses floor && measure "postgres catalog floor" bash -c 'find "$0" -type f -print0 | sort -z | xargs -0 cat | sha256sum' "$dir/updates"
        create_db postgres "$db"
        uses installer && measure "postgres catalog installer" "$installer" plan --db-url "$(url_for postgres installer "$db")" --updates "$dir/updates"
        uses dbmate && measure "postgres catalog dbmate" "$dbmate" --url "$(url_for postgres dbmate "$db")" --migrations-dir "$dir/dbmate/db/migrations" status
        # sqitch status exits 1 when nothing is deployed yet, which is the case here.
        # shellcheck disable=SC2016
        uses sqitch && measure "postgres catalog sqitch" bash -c 'sqitch -C "$0" status "$1"; [[ $? -le 1 ]]' "$dir/sqitch" "$(url_for postgres sqitch "$db")"
        drop_db postgres "$db"
    done
}

for engine in $engines; do
    log "generating $n migrations for $engine"
    generate "$engine"
done
log "generating about $files step files for the catalog scan"
generate_catalog

for engine in $engines; do run_engine "$engine"; done
run_catalog
for engine in $engines; do run_scale "$engine"; done

# ---------------------------------------------------------------- report
# The figures go to a JSON file (raw samples, peak RSS, machine and versions);
# bench/render.py computes the medians, ratios and targets from it and writes the page.
pg_version=$(psql -X -At "$pg_base/postgres" -c 'SHOW server_version')
maria_version=$(maria -N -e 'SELECT VERSION()')
for key in "${!samples[@]}"; do
    printf '%s\t%s\t%s\n' "$key" "${samples[$key]}" "${peak[$key]:-}"
done >"$work/samples.tsv"
mkdir -p "$(dirname "$json")"
BENCH_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')" \
    BENCH_CPUS="$(nproc)" \
    BENCH_CPU_MODEL="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
    BENCH_MEM_KIB="$(awk '/MemTotal/ { print $2 }' /proc/meminfo)" \
    BENCH_OS="$(. /etc/os-release && echo "$PRETTY_NAME")" \
    BENCH_V_INSTALLER="$("$installer" --version | head -n1)" \
    BENCH_V_POSTGRES="$pg_version" BENCH_V_MARIADB="$maria_version" \
    BENCH_V_DBMATE="$(if uses dbmate; then "$dbmate" --version | awk '{print $3}'; fi)" \
    BENCH_V_SQITCH="$(if uses sqitch; then sqitch --version; fi)" \
    BENCH_SERVER_TMP="${INSTALLER_SERVER_TMP:-/tmp}" \
    BENCH_LIBS="$(ldd "$installer" | wc -l)" \
    BENCH_CATALOG_FILES="$catalog_files" BENCH_N="$n" BENCH_RUNS="$runs" BENCH_SQITCH_RUNS="$sqitch_runs" \
    BENCH_FILES="$files" BENCH_ENGINES="$engines" BENCH_TOOLS="$tools" \
    BENCH_SCALE_UPDATES="$scale_updates" BENCH_SCALE_TABLES="$scale_tables" BENCH_NOOP_REPEAT="$noop_repeat" \
    BENCH_COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || true)" \
    python3 - "$work/samples.tsv" "$json" "$work/phases.tsv" <<'PY'
import json, os, sys
e = os.environ
samples, peak, phases = {}, {}, {}
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        key, values, rss = line.rstrip("\n").split("\t")
        samples[key] = [int(v) for v in values.split()]
        if rss:
            peak[key] = int(rss)
if os.path.exists(sys.argv[3]):
    with open(sys.argv[3], encoding="utf-8") as f:
        for line in f:
            engine, phase, ms = line.rstrip("\n").split("\t")
            phases.setdefault(engine, {}).setdefault(phase, []).append(int(ms))
data = {
    "source": "bench/run.sh" + (" at " + e["BENCH_COMMIT"] if e["BENCH_COMMIT"] else ""),
    "date": e["BENCH_DATE"],
    "machine": {"cpus": int(e["BENCH_CPUS"]), "cpu_model": e["BENCH_CPU_MODEL"],
                "mem_kib": int(e["BENCH_MEM_KIB"]), "os": e["BENCH_OS"]},
    "versions": {"installer": e["BENCH_V_INSTALLER"], "postgres": e["BENCH_V_POSTGRES"],
                 "mariadb": e["BENCH_V_MARIADB"], "dbmate": e["BENCH_V_DBMATE"] or None,
                 "sqitch": e["BENCH_V_SQITCH"] or None},
    "server_tmp": e["BENCH_SERVER_TMP"],
    "n": int(e["BENCH_N"]), "runs": int(e["BENCH_RUNS"]), "sqitch_runs": int(e["BENCH_SQITCH_RUNS"]),
    "files": int(e["BENCH_FILES"]), "catalog_files": int(e["BENCH_CATALOG_FILES"]),
    "engines": e["BENCH_ENGINES"].split(), "tools": e["BENCH_TOOLS"].split(),
    "noop_repeat": int(e["BENCH_NOOP_REPEAT"]),
    "scale_updates": [int(v) for v in e["BENCH_SCALE_UPDATES"].split()],
    "scale_tables": [int(v) for v in e["BENCH_SCALE_TABLES"].split()],
    "installer_shared_libraries": int(e["BENCH_LIBS"]),
    "samples": dict(sorted(samples.items())), "peak_rss_kib": dict(sorted(peak.items())),
    "noop_phases_ms": phases,
}
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(data, f, indent=2, ensure_ascii=False)
    f.write("\n")
PY
python3 "$ROOT/bench/render.py" "$json" --summary
[[ "$json" == "$work/"* ]] || log "wrote $json"

[[ "$write_doc" -eq 1 ]] || exit 0
python3 "$ROOT/bench/render.py" "$json" -o "$ROOT/docs/performance.md"
log "wrote docs/performance.md (bench/render.py $json)"
