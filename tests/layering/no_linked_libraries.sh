#!/bin/sh
# The program opens the database client libraries and libarchive when it first needs them
# (installer/util/shared_library.hpp): linked, every start would map them and the dozen
# libraries they pull in, engine or not, bundle or not.
#
#   tests/layering/no_linked_libraries.sh PROGRAM
set -eu
needed="$(readelf -d "$1" | grep NEEDED)"
if printf '%s\n' "$needed" | grep -E 'libpq|libmariadb|libarchive' >&2; then
    echo "$1 is linked against the libraries above: they are meant to be opened on first use" >&2
    exit 1
fi
