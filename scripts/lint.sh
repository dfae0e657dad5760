#!/usr/bin/env bash
# Static checks: formatting, clang-tidy and shellcheck. Exits 1 when any finds something
# and names the parts that failed; 2 when a part could not run at all.
#
#   scripts/lint.sh [--build DIR] [format] [tidy] [shell]    (no part named: all three)
#
#   format  clang-format --dry-run --Werror over the C and C++ files of installer/, tests/
#           and bench/, with .clang-format
#   tidy    clang-tidy with .clang-tidy over the sources of installer/ (not the tests), with
#           the compile database of the build directory (compile_commands.json, which every
#           configure writes), on all cores; each finding once, then a count per check
#   shell   shellcheck -x over every shell script of the repository
#
# Options:
#   --build DIR   build directory for tidy (default: build/, or INSTALLER_LINT_BUILD)
#   -j N          parallel clang-tidy processes (default: nproc)
#
# Needs clang-format, clang-tidy and shellcheck (Debian packages of the same names, in
# scripts/lib.sh's INSTALLER_PACKAGES). scripts/test.sh runs it after its normal build.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

build_dir="${INSTALLER_LINT_BUILD:-$ROOT/build}"
jobs="$(nproc)"
parts=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) build_dir="${2:?--build needs a directory}"; shift 2 ;;
        --build=*) build_dir="${1#--build=}"; shift ;;
        -j) jobs="${2:?-j needs a number}"; shift 2 ;;
        -j*) jobs="${1#-j}"; shift ;;
        format | tidy | shell) parts+=("$1"); shift ;;
        -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: scripts/lint.sh [--build DIR] [-j N] [format] [tidy] [shell]" >&2; exit 64 ;;
    esac
done
[[ "${#parts[@]}" -gt 0 ]] || parts=(format tidy shell)

# Tracked files when this is a git checkout (untracked scratch files are not linted),
# else every file under the given folders.
list_files() { # list_files FOLDER...
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$ROOT" ls-files -- "$@"
    else
        find "$@" -type f | sed 's#^\./##' | sort
    fi
}

need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    log "lint: $1 is not installed (apt-get install $2)"
    return 1
}

lint_format() {
    need clang-format clang-format || return 2
    local files=() out
    mapfile -t files < <(list_files installer tests bench | grep -E '\.(c|cc|cpp|h|hpp)$')
    out="$(printf '%s\0' "${files[@]}" | xargs -0 -r clang-format --dry-run --Werror 2>&1)" && return 0
    # One "FILE:LINE:COL: error: code should be clang-formatted" per place.
    grep -oE '^[^:]+:[0-9]+:[0-9]+: error: code should be clang-formatted' <<<"$out" |
        cut -d: -f1 | sort | uniq -c | sort -rn | sed 's/^/    /' >&2 || printf '%s\n' "$out" >&2
    log "lint: format: $(grep -c 'code should be clang-formatted' <<<"$out" || true) places in" \
        "$(grep -oE '^[^:]+:[0-9]+:[0-9]+: error: code should' <<<"$out" | cut -d: -f1 | sort -u | wc -l)" \
        "files differ from .clang-format (clang-format -i FILE applies it)"
    return 1
}

lint_tidy() {
    need clang-tidy clang-tidy || return 2
    if [[ ! -f "$build_dir/compile_commands.json" ]]; then
        log "lint: tidy: no $build_dir/compile_commands.json (configure first: cmake -S . -B $build_dir)"
        return 2
    fi
    local files=() out rc=0 findings units
    # The configuration by name: a unity build's generated files are outside the source
    # tree, where clang-tidy would not find .clang-tidy. They include .cpp files on purpose.
    local tidy=(clang-tidy -p "$build_dir" --config-file="$ROOT/.clang-tidy" --quiet)
    grep -q '/Unity/unity_' "$build_dir/compile_commands.json" && tidy+=(--checks=-bugprone-suspicious-include)
    # A unity build compiles generated files that each include several sources: clang-tidy
    # reads those (a finding in an included source is reported against that source, which
    # the header filter matches), parsing the common headers once per group, not per source.
    units="$(list_files installer | grep -E '\.cpp$' |
        python3 "$ROOT/scripts/lint_units.py" "$ROOT" "$build_dir/compile_commands.json")" || {
        log "lint: tidy: $build_dir/compile_commands.json does not compile every source of installer/"
        return 2
    }
    mapfile -t files <<<"$units"
    # clang-tidy exits non-zero only on errors (a file that does not compile); findings
    # are warnings, counted from the output. --quiet drops the "N warnings generated" noise.
    out="$(printf '%s\0' "${files[@]}" |
        xargs -0 -r -P "$jobs" -n 1 "${tidy[@]}" 2>&1)" || rc=$?
    # A header's finding comes once per file that includes it: keep each one once.
    # Headers are reached through build/layers/include/LAYER/installer/LAYER/: name them as
    # installer/LAYER/, as the sources do.
    findings="$(grep -E '^/[^:]+:[0-9]+:[0-9]+: (warning|error): .* \[[a-zA-Z0-9.,-]+\]$' <<<"$out" |
        sed -E "s#^$ROOT/##; s#^.*/layers/include/[a-z]+/installer/#installer/#" | sort -u || true)"
    if [[ -z "$findings" && "$rc" -eq 0 ]]; then
        return 0
    fi
    if [[ -n "$findings" ]]; then
        printf '%s\n' "$findings" >&2
        log "lint: tidy: $(wc -l <<<"$findings") findings:"
        sed -E 's/.*\[([^]]+)\]$/\1/' <<<"$findings" | sort | uniq -c | sort -rn | sed 's/^/    /' >&2
        return 1
    fi
    printf '%s\n' "$out" | tail -n 40 >&2
    log "lint: tidy: clang-tidy failed (exit $rc) without a finding: does the build directory match the sources?"
    return 2
}

lint_shell() {
    need shellcheck shellcheck || return 2
    local scripts=() f
    while IFS= read -r f; do
        if [[ "$f" == *.sh ]] || head -n 1 "$f" 2>/dev/null | grep -qE '^#!.*\b(ba|da)?sh\b'; then
            scripts+=("$f")
        fi
    done < <(list_files . | grep -vE '\.(c|cc|cpp|h|hpp|sql|md|py|toml|json|jsonl|ya?ml|txt)$')
    # From the root: the scripts' "# shellcheck source=scripts/lib.sh" are relative to it.
    shellcheck -x "${scripts[@]}" >&2 && return 0
    log "lint: shell: shellcheck found problems (in ${#scripts[@]} scripts checked)"
    return 1
}

failed=() broken=()
for part in "${parts[@]}"; do
    t0=$SECONDS
    rc=0
    "lint_$part" || rc=$?
    case "$rc" in
        0) log "lint: $part: clean ($((SECONDS - t0)) s)" ;;
        1) failed+=("$part") ;;
        *) broken+=("$part") ;;
    esac
done
if [[ "${#broken[@]}" -gt 0 ]]; then
    log "lint: could not run: ${broken[*]}${failed[*]:+; found problems: ${failed[*]}}"
    exit 2
fi
if [[ "${#failed[@]}" -gt 0 ]]; then
    log "lint: FAILED: ${failed[*]} (run scripts/lint.sh ${failed[*]} for that part alone)"
    exit 1
fi
log "lint: all clean: ${parts[*]}"
