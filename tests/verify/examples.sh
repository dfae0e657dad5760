#!/usr/bin/env bash
# installer verify on the example product's updates and the demo's, on every server
# scripts/test.sh started: the next release passes, the deliberately broken one fails
# its round trip, and neither leaves a scratch database behind.
#   tests/verify/examples.sh INSTALLER_BINARY
set -euo pipefail
installer="${1:?usage: examples.sh INSTALLER_BINARY}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
urls=()
for url in "${INSTALLER_TEST_PG_URL:-}" "${INSTALLER_TEST_MARIADB_URL:-}"; do
    [[ -n "$url" ]] && urls+=(--scratch-url "$url")
done
if [[ "${#urls[@]}" -eq 0 ]]; then
    echo "no INSTALLER_TEST_PG_URL or INSTALLER_TEST_MARIADB_URL: skipped" >&2
    exit 77
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

fail() {
    echo "verify-examples: $*" >&2
    exit 1
}

cd "$root"
"$installer" verify --updates migrations --updates demo/updates-next "${urls[@]}" \
    --junit "$out/next.xml" >"$out/next.txt" || {
    cat "$out/next.txt" >&2
    fail "verify failed on migrations/ + demo/updates-next"
}
cat "$out/next.txt"
grep -q ' 0 failed' "$out/next.txt" || fail "no summary line"
grep -q '<testsuites name="installer verify"' "$out/next.xml" || fail "no JUnit XML"

code=0
"$installer" verify --updates migrations --updates demo/updates-failing "${urls[@]}" >"$out/failing.txt" || code=$?
cat "$out/failing.txt"
[[ "$code" -eq 1 ]] || fail "expected exit 1 on demo/updates-failing, got $code"
grep -q 'round-trip: 2024.04.0 round trip' "$out/failing.txt" || fail "the failing update is not named"
echo "verify-examples: ok"
