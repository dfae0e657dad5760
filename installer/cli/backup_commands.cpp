#include "installer/cli/backup_commands.hpp"

#include "installer/backup/backup_store.hpp"
#include "installer/backup/dump_tool.hpp"
#include "installer/cli/connect.hpp"
#include "installer/cli/migration_lock.hpp"
#include "installer/cli/session.hpp"
#include "installer/util/error.hpp"
#include "installer/util/file_reading.hpp"
#include "installer/util/log.hpp"
#include "installer/util/redact.hpp"
#include "installer/util/sha256.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>

namespace fs = boost::filesystem;

namespace installer {
namespace {

/// The dump's checksum, once the file is known to match the .sha256 written beside it.
std::string checked_checksum(const std::string& file) {
  boost::system::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw UserError(exit_data, fmt::format("{}: not a backup file", file));
  std::string why;
  auto line = read_regular_file(checksum_path(file).string(), 4096, why);
  if (!line || line->size() < 64)
    throw UserError(exit_data, fmt::format("{}: its checksum file {} cannot be read ({}): not restored", file,
                                           checksum_path(file).string(), line ? "too short" : why));
  auto actual_or = sha256_of_file(file, why);
  if (!actual_or) throw UserError(exit_data, fmt::format("cannot read {}: {}", file, why));
  const std::string& actual = *actual_or;
  if (line->substr(0, 64) != actual)
    throw UserError(exit_data, fmt::format("{}: the checksum does not match {} (sha256 {} against {}): the file is "
                                           "damaged or not the backup that was taken; not restored",
                                           file, checksum_path(file).string(), actual, line->substr(0, 64)));
  return actual;
}

/// Which engine wrote the dump, by its first bytes.
Engine engine_of_dump(const std::string& file) {
  std::string why;
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  char head[16] = {};
  ssize_t n = fd >= 0 ? ::read(fd, head, sizeof head) : -1;
  if (fd >= 0) ::close(fd);
  std::string start(head, n > 0 ? static_cast<size_t>(n) : 0);
  if (start.compare(0, 5, "PGDMP") == 0) return Engine::postgres;
  // mariadb-dump since 10.11.8 starts with its sandbox-mode comment, "/*M!999999\- …".
  for (const char* opening : {"-- ", "/*!", "/*M!"})
    if (start.compare(0, std::strlen(opening), opening) == 0) return Engine::mariadb;
  throw UserError(exit_data, fmt::format("{}: neither a pg_dump custom-format file nor a mariadb-dump file", file));
}

/// Drops and recreates the configured database through the administrator's URL (or, without
/// one, the configured user on the server's maintenance database).
void recreate_database(const Settings& s) {
  Settings admin = s;
  if (s.admin) admin.connection = *s.admin;
  admin.connection.database = s.admin && !s.admin->database.empty() ? s.admin->database
                                                                    : default_admin_database(s.connection.engine);
  auto db = connect_database(admin);
  const std::string& name = s.connection.database;
  db->drop_database(name);
  db->create_database_if_missing(name, s.connection.user == admin.connection.user ? "" : s.connection.user);
}

void load_dump(const Settings& s, const std::string& file, int server_major) {
  std::string secret_file;
  ProgramRun run = restore_command(s.connection, server_major, file, secret_file);
  struct Remove {
    std::string path;
    ~Remove() {
      if (!path.empty()) ::unlink(path.c_str());
    }
  } remove{secret_file};
  int input = -1;
  if (s.connection.engine != Engine::postgres) {
    input = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (input < 0) throw UserError(exit_data, fmt::format("cannot read {}: {}", file, std::strerror(errno)));
    run.stdin_fd = input;
  }
  log::info("restore: loading {} with {}", file, describe_dump_tool(run));
  ProgramResult result = run_program(run);
  if (input >= 0) ::close(input);
  if (result.code != 0)
    throw UserError(exit_cantcreat,
                    fmt::format("{} exited with code {} while restoring {}: {}\n  the database {} is incomplete: run "
                                "installer restore again once the cause is fixed",
                                describe_dump_tool(run), result.code, file, redact(result.output),
                                s.connection.database));
}

}  // namespace

int do_backups(const Settings& s, bool json) {
  if (s.backup_dir.empty())
    throw UserError(exit_config, "installer backups lists --backup-dir (INSTALLER_BACKUP_DIR): none is configured");
  auto backups = list_backups(s.backup_dir, s.has_connection ? s.connection.database : "");
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& b : backups)
      out.push_back({{"file", b.path.string()},
                     {"database", b.database},
                     {"taken_at", b.taken_at},
                     {"before", b.before},
                     {"bytes", b.bytes},
                     {"sha256", b.sha256}});
    std::cout << out.dump(2) << "\n";
    return exit_ok;
  }
  if (backups.empty()) {
    std::cout << "no backups in " << s.backup_dir << "\n";
    return exit_ok;
  }
  std::cout << fmt::format("  {:<17} {:<24} {:>14}  {:<12}  {}\n", "TAKEN (UTC)", "BEFORE", "BYTES", "SHA256", "FILE");
  for (const auto& b : backups)
    std::cout << fmt::format("  {:<17} {:<24} {:>14}  {:<12}  {}\n", b.taken_at, b.before, b.bytes,
                             b.sha256.empty() ? "(missing)" : b.sha256.substr(0, 12), b.path.string());
  return exit_ok;
}

int do_restore(const Settings& s, const std::string& file, bool yes) {
  if (!s.has_connection) connect_database(s);  // reports the missing configuration
  std::string sha256 = checked_checksum(file);
  if (engine_of_dump(file) != s.connection.engine)
    throw UserError(exit_data, fmt::format("{} is a dump of another engine than the configured database's", file));
  if (!yes)
    throw UserError(exit_usage, fmt::format("installer restore drops the database {} and recreates it from {}: add "
                                            "--yes to do it",
                                            s.connection.database, file));
  int server_major = 0;
  {
    // Refused while another installer works on the database; MariaDB's lock is the
    // server's and is held to the end, PostgreSQL's goes with the database dropped.
    Session session = open_session(s);
    Settings at_once = s;
    at_once.lock_timeout = std::chrono::milliseconds(0);
    std::optional<MigrationLock> lock;
    try {
      lock.emplace(*session.db, at_once);
    } catch (const UserError& busy) {
      if (busy.code() != exit_tempfail) throw;
      throw UserError(exit_tempfail, fmt::format("another installer holds the migration lock on {}, so the restore "
                                                 "was refused and nothing was changed: run it again once that "
                                                 "installer has finished",
                                                 s.connection.database));
    }
    server_major = server_major_version(*session.db);
    log::info("restore: dropping and recreating database {}", s.connection.database);
    recreate_database(s);
    load_dump(s, file, server_major);
  }
  Session restored = open_session(s);
  restored.journal->ensure();
  restored.journal->record_restore({file, sha256, "", restored.ctx->host, INSTALLER_VERSION, operator_identity()});
  std::cout << fmt::format("restored database {} from {}: its journal is the one of the backup, so installer status "
                           "shows the state before the update it was taken before\n",
                           s.connection.database, file);
  return exit_ok;
}

}  // namespace installer
