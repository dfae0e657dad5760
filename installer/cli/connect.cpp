#include "installer/cli/connect.hpp"

#include "installer/db/connect_retry.hpp"
#include "installer/db/db_error.hpp"
#include "installer/mariadb/maria_database.hpp"
#include "installer/postgres/pg_database.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"

#include <fmt/format.h>

namespace installer {

std::unique_ptr<Database> connect_database(const Settings& settings) {
  if (!settings.has_connection)
    throw UserError(
        exit_config,
        "no database configured: set INSTALLER_DB_URL (postgresql://USER:PASSWORD@HOST:PORT/DB) or --db-url");
  const ConnectionSpec& spec = settings.connection;
  try {
    auto db = spec.engine == Engine::postgres ? open_postgres(spec, settings.connect_timeout)
                                              : open_mariadb(spec, settings.connect_timeout);
    log::debug("connected to {}", spec.redacted_url());
    return db;
  } catch (const DbError& e) {
    if (e.failure() == DbFailure::auth)
      throw UserError(exit_noperm, fmt::format("the database refused the credentials for {}: {}\n  check the user and "
                                               "password (INSTALLER_DB_URL or INSTALLER_DB_PASSWORD_FILE)",
                                               spec.redacted_url(), e.what()));
    throw UserError(exit_unavailable, fmt::format("cannot connect to {}: {}", spec.redacted_url(), e.what()));
  }
}

bool may_create_database(const Settings& settings) { return settings.admin && !settings.connection.database.empty(); }

void ensure_database_exists(const Settings& settings, const std::atomic<int>* stop) {
  if (!may_create_database(settings)) return;
  Settings admin = settings;
  admin.connection = *settings.admin;
  if (admin.connection.database.empty()) admin.connection.database = default_admin_database(admin.connection.engine);
  auto db = wait_for_database(admin, stop);
  const std::string& name = settings.connection.database;
  const std::string& user = settings.connection.user;
  if (db->create_database_if_missing(name, user == admin.connection.user ? "" : user))
    log::info("created database {} (it did not exist)", name);
}

std::unique_ptr<Database> wait_for_database(const Settings& settings, const std::atomic<int>* stop) {
  return connect_with_retry([&settings] { return connect_database(settings); }, settings.wait_timeout, stop);
}

}  // namespace installer
