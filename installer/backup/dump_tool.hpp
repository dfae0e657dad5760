#pragma once
#include "installer/db/connection_url.hpp"
#include "installer/db/database.hpp"
#include "installer/os/program_run.hpp"

#include <stdexcept>
#include <string>

namespace installer {

/// The dump tool is missing, too old for the server, or failed.
class BackupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The server's major version as the dump tools count them (PostgreSQL 15, MariaDB 10).
int server_major_version(Database& db);

/// The engine's dump tool for `connection`, ready to run with its output to a file: for
/// PostgreSQL the pg_dump whose major version is the server's (else the newest one that is
/// newer), -Fc; for MariaDB mariadb-dump --single-transaction --routines --triggers
/// --events. The password reaches the tool through its environment (PGPASSWORD) or a 0600
/// option file (MariaDB), never its command line; `secret_file` is that file's path, to
/// remove once the tool has run. Throws BackupError when no usable tool is installed.
ProgramRun dump_command(const ConnectionSpec& connection, int server_major, std::string& secret_file);

/// Which tool `run` runs, for messages.
std::string describe_dump_tool(const ProgramRun& run);

/// The tool that loads `dump` into the (empty) database of `connection`: pg_restore of the
/// server's version, or the mariadb client reading the dump on its stdin (the caller opens
/// it). The password reaches it as dump_command()'s does.
ProgramRun restore_command(const ConnectionSpec& connection, int server_major, const std::string& dump,
                           std::string& secret_file);

}  // namespace installer
