#!/usr/bin/env python3
"""The files clang-tidy should read so that it checks every source named on stdin once.

    git ls-files installer | grep .cpp$ | scripts/lint_units.py ROOT COMPILE_COMMANDS_JSON

A source the compile database compiles itself is printed as it is; the sources a unity
build groups are covered by the generated file that includes them, printed once. Exits 1,
naming them, when some source is compiled by no entry at all (clang-tidy would guess its
flags, or skip it), so a source cannot silently escape the check.
"""
import json
import os
import re
import sys


def main() -> int:
    root, database = sys.argv[1], sys.argv[2]
    wanted = {os.path.normpath(os.path.join(root, line.strip())) for line in sys.stdin if line.strip()}
    include = re.compile(r'^#include "([^"]+)"', re.M)
    chosen, covered = [], set()
    with open(database, encoding="utf-8") as f:
        entries = json.load(f)
    for entry in entries:
        path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
        if path in wanted and path not in covered:
            chosen.append(path)
            covered.add(path)
        elif "/Unity/unity_" in path and os.path.exists(path):
            with open(path, encoding="utf-8") as unit:
                included = {os.path.normpath(p) for p in include.findall(unit.read())} & wanted
            if included and not included <= covered and path not in chosen:
                chosen.append(path)
                covered |= included
    missing = sorted(wanted - covered)
    for path in missing:
        print(f"lint_units.py: no entry of {database} compiles {os.path.relpath(path, root)}", file=sys.stderr)
    print("\n".join(chosen))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
