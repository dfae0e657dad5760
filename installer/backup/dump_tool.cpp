#include "installer/backup/dump_tool.hpp"

#include "installer/os/child_process.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

namespace fs = boost::filesystem;

namespace installer {
namespace {

/// `tool --version`'s first number: "pg_dump (PostgreSQL) 15.10 (Debian …)" -> 15; 0 when it
/// does not run.
int tool_major_version(const std::string& tool) {
  ProgramRun probe;
  probe.argv = {tool, "--version"};
  probe.grace = std::chrono::milliseconds(1000);
  ProgramResult result = run_program(probe);
  if (result.code != 0) return 0;
  size_t digit = result.output.find_first_of("0123456789", result.output.find(')'));
  return digit == std::string::npos ? 0 : std::atoi(result.output.c_str() + digit);
}

/// `tool` (pg_dump, pg_restore) on PATH first, then every version Debian installs side by side.
std::vector<std::string> postgres_tool_candidates(const std::string& tool) {
  std::vector<std::string> found;
  if (auto on_path = find_program(tool); !on_path.empty()) found.push_back(on_path);
  std::vector<std::string> versioned;
  boost::system::error_code ec;
  for (fs::directory_iterator it("/usr/lib/postgresql", ec), end; !ec && it != end; it.increment(ec))
    if (fs::exists(it->path() / "bin" / tool, ec)) versioned.push_back((it->path() / "bin" / tool).string());
  std::sort(versioned.begin(), versioned.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a > b;
  });
  found.insert(found.end(), versioned.begin(), versioned.end());
  return found;
}

/// The tool of the server's major version, else the oldest newer one: an older one cannot
/// read the server's catalog.
std::string choose_postgres_tool(const std::string& name, int server_major) {
  std::string newer;
  int newer_major = 0, newest_seen = 0;
  for (const auto& tool : postgres_tool_candidates(name)) {
    int major = tool_major_version(tool);
    if (major == server_major) return tool;
    if (major > server_major && (newer.empty() || major < newer_major)) newer = tool, newer_major = major;
    newest_seen = std::max(newest_seen, major);
  }
  if (!newer.empty()) return newer;
  if (newest_seen == 0)
    throw BackupError(fmt::format("{} is not installed: install postgresql-client-{} (the installer's package "
                                  "recommends postgresql-client)",
                                  name, server_major));
  throw BackupError(fmt::format("{} {} is older than the server (PostgreSQL {}) and cannot work with it: install "
                                "postgresql-client-{}",
                                name, newest_seen, server_major, server_major));
}

std::map<std::string, std::string> postgres_environment(const ConnectionSpec& c) {
  std::map<std::string, std::string> env = {{"PGHOST", c.host},         {"PGPORT", std::to_string(c.effective_port())},
                                            {"PGUSER", c.user},         {"PGDATABASE", c.database},
                                            {"PGPASSWORD", c.password}, {"PGCONNECT_TIMEOUT", "10"}};
  if (c.tls) env["PGSSLMODE"] = tls_mode_name(*c.tls);
  if (!c.tls_ca_file.empty()) env["PGSSLROOTCERT"] = c.tls_ca_file;
  return env;
}

/// The client's connection options; the password is in the 0600 `secret_file` it reads first.
std::vector<std::string> mariadb_client_arguments(const std::string& tool, const ConnectionSpec& c,
                                                  const std::string& secret_file) {
  // --defaults-extra-file must come first.
  std::vector<std::string> argv = {tool, "--defaults-extra-file=" + secret_file, "--host=" + c.host,
                                   "--port=" + std::to_string(c.effective_port()), "--user=" + c.user};
  if (c.tls && (*c.tls == TlsMode::require || *c.tls == TlsMode::verify_ca || *c.tls == TlsMode::verify_full))
    argv.push_back("--ssl");
  if (!c.tls_ca_file.empty()) argv.push_back("--ssl-ca=" + c.tls_ca_file);
  if (c.tls && (*c.tls == TlsMode::verify_ca || *c.tls == TlsMode::verify_full))
    argv.push_back("--ssl-verify-server-cert");
  return argv;
}

std::string mariadb_tool(const char* name, const char* older_name) {
  std::string tool = find_program(name);
  if (tool.empty()) tool = find_program(older_name);
  if (tool.empty())
    throw BackupError(
        fmt::format("{} is not installed: install mariadb-client (the installer's package recommends it)", name));
  return tool;
}

/// An option file value, quoted as MariaDB's option files read it.
std::string option_file_quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out + "\"";
}

/// A 0600 file that only this process's user can read, holding the password.
std::string write_secret_option_file(const std::string& password) {
  char path[] = "/tmp/installer-dump-XXXXXX";
  int fd = ::mkstemp(path);  // mode 0600
  if (fd < 0)
    throw BackupError(fmt::format("cannot create a file for the dump tool's password: {}", std::strerror(errno)));
  std::string text = "[client]\npassword=" + option_file_quoted(password) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) {
    ::unlink(path);
    throw BackupError("cannot write the file for the dump tool's password");
  }
  return path;
}

ProgramRun postgres_dump(const ConnectionSpec& c, int server_major) {
  ProgramRun run;
  run.argv = {choose_postgres_tool("pg_dump", server_major), "--format=custom", "--no-password"};
  run.extra_env = postgres_environment(c);
  return run;
}

ProgramRun mariadb_dump(const ConnectionSpec& c, std::string& secret_file) {
  std::string tool = mariadb_tool("mariadb-dump", "mysqldump");
  secret_file = write_secret_option_file(c.password);
  ProgramRun run;
  run.argv = mariadb_client_arguments(tool, c, secret_file);
  for (const char* option : {"--single-transaction", "--routines", "--triggers", "--events", "--hex-blob"})
    run.argv.emplace_back(option);
  run.argv.push_back(c.database);
  return run;
}

}  // namespace

int server_major_version(Database& db) {
  auto rows = db.query(db.engine() == Engine::postgres ? "SHOW server_version_num" : "SELECT VERSION()");
  std::string text = rows.empty() || !rows[0][0] ? "" : *rows[0][0];
  int number = std::atoi(text.c_str());
  return db.engine() == Engine::postgres ? number / 10000 : number;
}

ProgramRun dump_command(const ConnectionSpec& connection, int server_major, std::string& secret_file) {
  return connection.engine == Engine::postgres ? postgres_dump(connection, server_major)
                                               : mariadb_dump(connection, secret_file);
}

std::string describe_dump_tool(const ProgramRun& run) { return run.argv.empty() ? "" : run.argv[0]; }

ProgramRun restore_command(const ConnectionSpec& connection, int server_major, const std::string& dump,
                           std::string& secret_file) {
  ProgramRun run;
  if (connection.engine == Engine::postgres) {
    // Owners and grants as the dump has them would need the roles of the server it came
    // from; the configured user owns what it restores, as it owned what was dumped.
    run.argv = {choose_postgres_tool("pg_restore", server_major),
                "--no-password",
                "--exit-on-error",
                "--no-owner",
                "--dbname=" + connection.database,
                dump};
    run.extra_env = postgres_environment(connection);
    return run;
  }
  secret_file = write_secret_option_file(connection.password);
  run.argv = mariadb_client_arguments(mariadb_tool("mariadb", "mysql"), connection, secret_file);
  run.argv.push_back(connection.database);  // the dump itself comes on stdin
  return run;
}

}  // namespace installer
