#!/usr/bin/env bash
# Builds the project (normal + ASan/UBSan) and runs ctest against throwaway
# PostgreSQL and MariaDB servers. Works on a fresh Debian 12 machine as root
# and in CI (no stdin).
#
#   scripts/test.sh                         everything: both builds, both engines, the .deb (CI)
#   scripts/test.sh --engine postgres       only that server: its suites and the engine-free ones
#   scripts/test.sh --engine mariadb
#   scripts/test.sh --quick                 an answer in about two minutes: the normal build
#                                           only, PostgreSQL only: the unit tests, the
#                                           PostgreSQL tests of tests/db and tests/tls, the
#                                           engine-free ones (pid1-*, layering, realworld);
#                                           not the crash and adversarial suites (minutes
#                                           each), no sanitizer build, no .deb, no
#                                           clang-tidy
#   scripts/test.sh [OPTIONS] -- CTEST-ARGS e.g. scripts/test.sh --quick -- -R pid1
#   scripts/test.sh CTEST-ARGS              the older form, still understood: scripts/test.sh -R unit
#
# CTEST-ARGS go to every ctest run as they are; an -E of theirs is combined with the one
# --engine/--quick adds (a test left out by either is left out).
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

usage() {
    sed -n '/^#   scripts\/test.sh/,/^#   INSTALLER_SKIP_ASAN/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 64
}

quick=0 engine=""
ctest_args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
    --quick) quick=1 ;;
    --engine)
        [[ $# -ge 2 ]] || usage
        engine="$2"
        shift
        ;;
    --engine=*) engine="${1#--engine=}" ;;
    -h | --help) usage ;;
    --)
        shift
        ctest_args+=("$@")
        break
        ;;
    *) ctest_args+=("$1") ;;
    esac
    shift
done
case "$engine" in
"" | postgres | mariadb) ;;
*)
    log "--engine: '$engine' is not postgres or mariadb"
    exit 64
    ;;
esac
if [[ "$quick" -eq 1 ]]; then
    [[ -z "$engine" || "$engine" == postgres ]] || {
        log "--quick runs PostgreSQL only; for MariaDB use --engine mariadb"
        exit 64
    }
    engine=postgres
fi

# The tests to leave out: the other engine's (their names end in it); with --quick the
# crash and adversarial suites too (two minutes and more each; without --quick they run).
exclude=""
case "$engine" in
postgres) exclude="mariadb$" ;;
mariadb) exclude="postgres$" ;;
esac
[[ "$quick" -eq 1 ]] && exclude="$exclude|^crash-|^adversarial-"
# An -E among CTEST-ARGS joins ours: ctest would keep only the last one.
if [[ -n "$exclude" ]]; then
    rest=()
    for ((i = 0; i < ${#ctest_args[@]}; i++)); do
        a="${ctest_args[i]}"
        case "$a" in
        -E | --exclude-regex)
            exclude="$exclude|${ctest_args[i + 1]:-}"
            i=$((i + 1))
            ;;
        --exclude-regex=*) exclude="$exclude|${a#--exclude-regex=}" ;;
        *) rest+=("$a") ;;
        esac
    done
    ctest_args=("${rest[@]}" -E "$exclude")
fi

t_start=$SECONDS
skip_asan="${INSTALLER_SKIP_ASAN:-0}"
[[ "$skip_asan" == "0" || -z "$skip_asan" ]] && skip_asan=0 || skip_asan=1
[[ "$quick" -eq 1 ]] && skip_asan=1

log "ensuring packages"
ensure_packages "${INSTALLER_PACKAGES[@]}"
# The real dbmate for the real-tools test; without it that test runs Sqitch's cases only,
# but in CI a missing dbmate is a failure, not a quiet gap.
if DBMATE="$(ensure_dbmate "$ROOT/build/tools")"; then
    export DBMATE
elif [[ "${CI:-}" == true ]]; then
    log "FAILED: could not install dbmate from npm (the real-tools test needs it)"
    exit 1
else
    log "dbmate could not be installed from npm: the real-tools test skips its cases"
fi

# Unity builds: one compiler run per group of sources, not per source; on two cores the
# two builds take about half as long.
build_installer "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINSTALLER_WERROR=ON -DCMAKE_UNITY_BUILD=ON
lint_pid=""
if [[ "${INSTALLER_SKIP_LINT:-0}" == "0" || -z "${INSTALLER_SKIP_LINT:-}" ]]; then
    log "lint: scripts/lint.sh in the background (build/lint.log)"
    lint_parts=()
    [[ "$quick" -eq 1 ]] && lint_parts=(format shell) # clang-tidy needs minutes of CPU
    nice -n 19 "$ROOT/scripts/lint.sh" --build "$ROOT/build" "${lint_parts[@]}" >"$ROOT/build/lint.log" 2>&1 &
    lint_pid=$!
fi
if [[ "$skip_asan" -eq 0 ]]; then
    build_installer "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug -DINSTALLER_WERROR=ON -DCMAKE_UNITY_BUILD=ON \
        -DINSTALLER_SANITIZE=ON
elif [[ "$quick" -eq 1 ]]; then
    log "--quick: no sanitizer build"
else
    log "INSTALLER_SKIP_ASAN set: skipping the sanitizer build"
fi

trap_stop_servers
[[ "$engine" != mariadb ]] && start_postgres
[[ "$engine" != postgres ]] && start_mariadb

# Three at a time on two cores: the server tests wait on the servers and on the processes
# they kill more than they compute (measured: 115 s at -j3 against 159 s at -j2).
failed=0
log "ctest: build/${engine:+ ($engine only)}${ctest_args[*]:+, ctest ${ctest_args[*]}}"
ctest --test-dir "$ROOT/build" --output-on-failure --no-tests=error -j3 "${ctest_args[@]}" || failed=1

if [[ "$skip_asan" -eq 0 ]]; then
    log "ctest: build-asan/ (ASan + UBSan)"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir "$ROOT/build-asan" --output-on-failure --no-tests=error -j3 "${ctest_args[@]}" || failed=1
fi

stop_servers
if [[ -n "$lint_pid" ]]; then
    t_lint=$SECONDS
    if wait "$lint_pid"; then
        log "lint: clean (waited $((SECONDS - t_lint)) s for it)"
    else
        # The findings themselves, not just the summary: CI keeps only this output.
        tail -n 200 "$ROOT/build/lint.log" >&2
        log "lint FAILED (waited $((SECONDS - t_lint)) s for it); details: build/lint.log"
        failed=1
    fi
fi
if [[ "$failed" -ne 0 ]]; then
    log "FAILED: some tests failed ($((SECONDS - t_start)) s)"
    exit 1
fi
if [[ "$quick" -eq 1 ]]; then
    log "--quick: no package build"
else
    "$ROOT/scripts/package.sh" >/dev/null # the .deb: Release build, cpack, run the packaged binary
fi
log "all tests passed ($((SECONDS - t_start)) s)"
