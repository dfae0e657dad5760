#pragma once
#include "installer/cli/arguments.hpp"
#include "installer/cli/settings.hpp"

namespace installer {

/// installer verify: the release check on scratch databases (docs/verify.md). Exit 0
/// when every check holds, 1 when one fails, 65 for invalid update files, 128+N when
/// stopped by signal N (its scratch databases dropped all the same).
int do_verify(const Settings& settings, const Arguments& args);

}  // namespace installer
