#pragma once
#include "installer/cli/session.hpp"
#include "installer/cli/settings.hpp"

#include <atomic>

namespace installer {

/// With --backup-dir, makes the session's first change of the run wait for a backup
/// (docs/backup.md): a failed one stops the run with exit 73, or with
/// --backup-required=false is a warning; a stop signal during it ends the run.
void arm_backup(const Settings& s, Session& session, const std::atomic<int>* stop);

}  // namespace installer
