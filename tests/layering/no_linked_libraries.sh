#!/bin/sh
# The program opens the database client libraries, libarchive and libcrypto when it first
# needs them (installer/util/shared_library.hpp): linked, every start would map them and the
# dozen libraries they pull in, engine or not, bundle or not. It links no C++ shared library
# either (Boost.Filesystem, fmt and toml++ are compiled in, and the C++ runtime with them),
# because each cost the loader thousands of symbol lookups at every start. A sanitized build
# keeps the shared C++ runtime (the sanitizers' runtimes expect it): pass --sanitized.
#
#   tests/layering/no_linked_libraries.sh PROGRAM [--sanitized]
set -eu
forbidden='libpq|libmariadb|libarchive|libcrypto|libssl|libfmt|libboost|libtomlplusplus'
[ "${2:-}" = --sanitized ] || forbidden="$forbidden|libstdc\\+\\+|libgcc_s"
needed="$(readelf -d "$1" | grep NEEDED)"
if printf '%s\n' "$needed" | grep -E "$forbidden" >&2; then
    echo "$1 is linked against the libraries above: they are meant to be opened on first use or compiled in" >&2
    exit 1
fi
