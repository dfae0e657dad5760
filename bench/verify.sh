#!/usr/bin/env bash
# installer verify on the largest real histories of the real-history harness
# (scripts/realworld/projects.txt), against installer migrate of the same history in the
# same run: what the release check costs beside the install it proves.
#
#   bench/verify.sh [NAME:ENGINE ...]      (default: kratos:postgres authelia:mariadb, the
#                                           largest that apply whole on each engine here)
#
# For each: the project's folder exported from its bare mirror (/work/.mirror, as
# scripts/realworld/fetch-and-run.sh has it), converted by scripts/realworld/convert.py,
# then on a throwaway server: installer migrate on a fresh database (the baseline), and
# installer verify on the same server. Prints updates, checks made (round trips, partial
# failures), what failed (the histories' own downs: docs/realworld.md), both times and
# their ratio. A benchmark, not a test: it exits 0 when it measured.
#   Knobs: BENCH_MIRRORS (/work/.mirror), INSTALLER_BENCH_BUILD (build).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
forget_installer_settings
mirrors="${BENCH_MIRRORS:-/work/.mirror}"
bin="$ROOT/${INSTALLER_BENCH_BUILD:-build}/installer"
[[ -x "$bin" ]] || { echo "bench/verify.sh: build the installer first ($bin)" >&2; exit 69; }
targets=("$@")
[[ "${#targets[@]}" -gt 0 ]] || targets=(kratos:postgres authelia:mariadb)

work="$(mktemp -d /tmp/bench-verify.XXXXXX)"
trap_stop_servers
trap 'stop_servers; rm -rf "$work"' EXIT

# export NAME ENGINE DEST: the converted updates of that history in DEST
export_history() {
    local name="$1" engine="$2" dest="$3" line repo commit layout path field
    line="$(awk -v n="$name" '$1 == n' "$ROOT/scripts/realworld/projects.txt")"
    [[ -n "$line" ]] || { echo "no project $name in projects.txt" >&2; return 1; }
    read -r _ repo commit layout _ <<<"$line"
    for field in $line; do [[ "$field" == "$engine="* ]] && path="${field#*=}"; done
    [[ -n "${path:-}" ]] || { echo "$name has no $engine history" >&2; return 1; }
    mkdir -p "$work/src"
    git -C "$mirrors/${repo/\//+}/repo" archive "$commit" "$path" | tar -x -C "$work/src"
    python3 "$ROOT/scripts/realworld/convert.py" "$work/src/$path" "$dest" --engine "$engine" \
        --layout "$layout" >"$work/convert.log" 2>&1 || { cat "$work/convert.log" >&2; return 1; }
}

printf '%-10s %-8s %7s %7s %9s %9s %10s %10s %7s\n' history engine updates checks partials failed \
    "migrate s" "verify s" ratio
for target in "${targets[@]}"; do
    name="${target%%:*}" engine="${target#*:}"
    rm -rf "$work/src" "$work/updates"
    export_history "$name" "$engine" "$work/updates"
    stop_servers >/dev/null 2>&1 || true
    if [[ "$engine" == postgres ]]; then
        start_postgres >"$work/server.log" 2>&1
        server="$INSTALLER_TEST_PG_URL" db="${INSTALLER_TEST_PG_URL%/postgres}/bench_migrate"
    else
        start_mariadb >"$work/server.log" 2>&1
        server="$INSTALLER_TEST_MARIADB_URL" db="${INSTALLER_TEST_MARIADB_URL}bench_migrate"
    fi
    t0="$(_now_ms)"
    INSTALLER_DB_ADMIN_URL="$server" INSTALLER_DB_URL="$db" INSTALLER_UPDATES="$work/updates" \
        "$bin" migrate >"$work/migrate.log" 2>&1 || { tail -n 20 "$work/migrate.log" >&2; exit 1; }
    migrate_ms=$(($(_now_ms) - t0))
    t0="$(_now_ms)"
    rc=0
    "$bin" verify --updates "$work/updates" --scratch-url "$server" --json >"$work/verify.json" \
        2>"$work/verify.log" || rc=$?
    verify_ms=$(($(_now_ms) - t0))
    [[ "$rc" -le 1 ]] || { tail -n 20 "$work/verify.log" >&2; exit 1; }
    python3 - "$work/verify.json" "$name" "$engine" "$migrate_ms" "$verify_ms" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
name, engine, migrate_ms, verify_ms = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
checks = report["checks"]
updates = sum(1 for c in checks if c["check"] == "round-trip" and c["name"].endswith(" round trip"))
partials = sum(1 for c in checks if c["check"] == "partial-failure")
failed = sum(1 for c in checks if not c["passed"])
print(f"{name:<10} {engine:<8} {updates:7} {len(checks):7} {partials:9} {failed:9} {migrate_ms / 1000:10.2f} "
      f"{verify_ms / 1000:10.2f} {verify_ms / max(migrate_ms, 1):6.1f}x")
PY
done
