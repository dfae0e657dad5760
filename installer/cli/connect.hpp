#pragma once
#include "installer/cli/settings.hpp"
#include "installer/db/database.hpp"

#include <memory>

namespace installer {

/// Opens the configured database. Throws UserError: exit_config when none is
/// configured or the engine is not supported, exit_noperm when the credentials are
/// refused, exit_unavailable when no server answers. Messages show the URL redacted.
std::unique_ptr<Database> connect_database(const Settings& settings);

}  // namespace installer
