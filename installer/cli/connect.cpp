#include "installer/cli/connect.hpp"

#include "installer/db/db_error.hpp"
#include "installer/mariadb/maria_database.hpp"
#include "installer/postgres/pg_database.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"

#include "installer/util/duration.hpp"

#include <fmt/format.h>

#include <thread>

namespace installer {

std::unique_ptr<Database> connect_database(const Settings& settings) {
  if (!settings.has_connection)
    throw UserError(exit_config,
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

void ensure_database_exists(const Settings& settings, const std::atomic<int>* stop) {
  if (!settings.admin || settings.connection.database.empty()) return;
  Settings admin = settings;
  admin.connection = *settings.admin;
  if (admin.connection.database.empty())
    admin.connection.database = admin.connection.engine == Engine::postgres ? "postgres" : "mysql";
  auto db = wait_for_database(admin, stop);
  const std::string& name = settings.connection.database;
  if (db->engine() == Engine::postgres) {
    // Owned by the application's user, or it could not create its own tables there
    // (PostgreSQL 15 no longer lets everyone create in the public schema).
    std::string owner = settings.connection.user.empty() || settings.connection.user == admin.connection.user
                            ? ""
                            : " OWNER " + db->quote_identifier(settings.connection.user);
    // Replicas starting together race here. The loser sees "already exists" (42P04) or,
    // mid-creation, a duplicate key in pg_database (23505): the database is there. Two
    // creations copying template1 at once fail with 55006: try again, bounded.
    auto pause = std::chrono::milliseconds(50);
    for (int attempt = 1;; ++attempt) {
      if (!db->query("SELECT 1 FROM pg_database WHERE datname = ?", {name}).empty()) return;
      try {
        db->execute("CREATE DATABASE " + db->quote_identifier(name) + owner);
        break;
      } catch (const DbError& e) {
        if (e.sqlstate() == "42P04" || e.sqlstate() == "23505") return;
        if (e.sqlstate() != "55006" || attempt >= 40) throw;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(1000));
      }
    }
  } else {
    if (!db->query("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", {name}).empty()) return;
    db->execute("CREATE DATABASE IF NOT EXISTS " + db->quote_identifier(name));
  }
  log::info("created database {} (it did not exist)", name);
}

std::unique_ptr<Database> wait_for_database(const Settings& settings, const std::atomic<int>* stop) {
  using Clock = std::chrono::steady_clock;
  auto started = Clock::now();
  auto deadline = started + settings.wait_timeout;
  auto pause = std::chrono::milliseconds(100);
  auto next_log = started;
  int attempts = 0;
  while (true) {
    ++attempts;
    try {
      auto db = connect_database(settings);
      if (attempts > 1)
        log::info("the database answered after {} attempts ({})", attempts,
                  format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started)));
      return db;
    } catch (const UserError& e) {
      if (e.code() != exit_unavailable) throw;  // refused credentials, bad configuration: retrying cannot help
      auto now = Clock::now();
      if (now >= deadline) {
        if (attempts == 1) throw;
        throw UserError(exit_unavailable,
                        fmt::format("the database did not answer within the wait timeout ({}, {} attempts); last "
                                    "error: {}",
                                    format_duration(settings.wait_timeout), attempts, e.what()));
      }
      if (now >= next_log) {
        log::warn("waiting for the database (attempt {}, up to {}): {}", attempts,
                  format_duration(settings.wait_timeout), e.what());
        next_log = now + std::chrono::seconds(5);
      }
      // Slept in short slices so a stop signal ends the wait promptly.
      auto wake = now + std::min<Clock::duration>(pause, deadline - now);
      while (Clock::now() < wake) {
        if (stop && stop->load() != 0)
          throw UserError(static_cast<ExitCode>(128 + stop->load()),
                          "stopped by a signal while waiting for the database: nothing was changed");
        std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(50), wake - Clock::now()));
      }
      pause = std::min(pause * 2, std::chrono::milliseconds(5000));
    }
  }
}

}  // namespace installer
