#pragma once
#include "installer/cli/settings.hpp"

#include <string>

namespace installer {

/// installer backups [--json]: the backups in --backup-dir, oldest first.
int do_backups(const Settings& s, bool json);

/// installer restore FILE --yes: checks the checksum, refuses while another installer holds
/// the lock, drops and recreates the configured database, loads the dump into it, and
/// journals the restore in the journal the dump brought back.
int do_restore(const Settings& s, const std::string& file, bool yes);

}  // namespace installer
