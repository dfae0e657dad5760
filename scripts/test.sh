#!/usr/bin/env bash
# Builds the project (normal + ASan/UBSan) and runs ctest against throwaway
# PostgreSQL and MariaDB servers. Works on a fresh Debian 12 machine as root
# and in CI (no stdin).
#
#   scripts/test.sh [ctest args...]     e.g. scripts/test.sh -R unit
#
# After the normal build, scripts/lint.sh (format, clang-tidy, shellcheck) runs in the
# background at the lowest CPU priority, in the gaps the sanitizer build and the tests leave;
# its result counts like a test's (log: build/lint.log).
#
# Environment:
#   INSTALLER_SKIP_ASAN=1   skip the sanitizer build and its ctest run
#   INSTALLER_SKIP_LINT=1   skip scripts/lint.sh
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

t_start=$SECONDS
skip_asan="${INSTALLER_SKIP_ASAN:-0}"
[[ "$skip_asan" == "0" || -z "$skip_asan" ]] && skip_asan=0 || skip_asan=1

log "ensuring packages"
ensure_packages "${INSTALLER_PACKAGES[@]}"

build_installer "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINSTALLER_WERROR=ON
lint_pid=""
if [[ "${INSTALLER_SKIP_LINT:-0}" == "0" || -z "${INSTALLER_SKIP_LINT:-}" ]]; then
    log "lint: scripts/lint.sh in the background (build/lint.log)"
    nice -n 19 "$ROOT/scripts/lint.sh" --build "$ROOT/build" >"$ROOT/build/lint.log" 2>&1 &
    lint_pid=$!
fi
if [[ "$skip_asan" -eq 0 ]]; then
    build_installer "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug -DINSTALLER_WERROR=ON \
        -DINSTALLER_SANITIZE=ON
else
    log "INSTALLER_SKIP_ASAN set: skipping the sanitizer build"
fi

trap_stop_servers
start_postgres
start_mariadb

failed=0
log "ctest: build/"
ctest --test-dir "$ROOT/build" --output-on-failure --no-tests=error -j2 "$@" || failed=1

if [[ "$skip_asan" -eq 0 ]]; then
    log "ctest: build-asan/ (ASan + UBSan)"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir "$ROOT/build-asan" --output-on-failure --no-tests=error -j2 "$@" || failed=1
fi

stop_servers
if [[ -n "$lint_pid" ]]; then
    t_lint=$SECONDS
    if wait "$lint_pid"; then
        log "lint: clean (waited $((SECONDS - t_lint)) s for it)"
    else
        grep -E '^==> lint: ' "$ROOT/build/lint.log" >&2 || tail -n 40 "$ROOT/build/lint.log" >&2
        log "lint FAILED (waited $((SECONDS - t_lint)) s for it); details: build/lint.log"
        failed=1
    fi
fi
if [[ "$failed" -ne 0 ]]; then
    log "FAILED: some tests failed ($((SECONDS - t_start)) s)"
    exit 1
fi
"$ROOT/scripts/package.sh" >/dev/null # the .deb: Release build, cpack, run the packaged binary
log "all tests passed ($((SECONDS - t_start)) s)"
