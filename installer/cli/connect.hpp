#pragma once
#include "installer/cli/settings.hpp"
#include "installer/db/database.hpp"

#include <atomic>
#include <memory>

namespace installer {

/// Opens the configured database. Throws UserError: exit_config when none is
/// configured or the engine is not supported, exit_noperm when the credentials are
/// refused, exit_unavailable when no server answers. Messages show the URL redacted.
std::unique_ptr<Database> connect_database(const Settings& settings);

/// Like connect_database, but while the server is unreachable retries with exponential
/// back-off up to settings.wait_timeout, logging at most one line every few seconds.
/// Refused credentials are not retried.
std::unique_ptr<Database> wait_for_database(const Settings& settings, const std::atomic<int>* stop = nullptr);

/// Whether this run may create its database (an administrator's URL and a database name).
bool may_create_database(const Settings& settings);
/// With an administrator's URL configured, creates the database named in the main URL
/// when it does not exist yet (several replicas may race: "already exists" is fine).
void ensure_database_exists(const Settings& settings, const std::atomic<int>* stop = nullptr);

}  // namespace installer
