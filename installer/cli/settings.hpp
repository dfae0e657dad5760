#pragma once
#include "installer/catalog/updates_format.hpp"
#include "installer/db/connection_url.hpp"
#include "installer/signing/key_files.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace installer {

/// Everything configurable, after precedence is applied:
/// command line > INSTALLER_* environment (or INSTALLER_*_FILE) > config file > defaults.
struct Settings {
  ConnectionSpec connection;
  bool has_connection = false;  ///< a URL or at least a host/database was configured
  std::vector<std::string> update_dirs;
  FormatChoice update_formats;  ///< --updates-format; detected per directory by default
  bool adopt = false;           ///< --adopt: a database without a journal is adopted (docs/adopt.md)
  TrustedKeys trusted_keys;     ///< --trusted-keys: every update must be signed by one (docs/update-format.md)
  std::string journal_schema = "installer";
  std::chrono::milliseconds lock_timeout = std::chrono::minutes(10);
  std::chrono::seconds connect_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds wait_timeout = std::chrono::seconds(60);  ///< for the database to come up
  bool auto_remove_unknown = false;
  int fingerprint_limit = 0;    ///< see MigrateOptions::fingerprint_limit
  std::string backup_dir;       ///< --backup-dir: a dump before a run's first change (docs/backup.md); "" = off
  int backup_keep = 3;          ///< --backup-keep: backups of the database kept
  bool backup_required = true;  ///< --backup-required=false: a failed backup is a warning, not exit 73
  bool backup_only_destructive = false;  ///< --backup-only-destructive: only before drops and rewrites
  std::string log_level = "info";
  std::string log_format = "human";

  // Install phase
  std::optional<ConnectionSpec> admin;         ///< creates the database when it is missing
  std::vector<ConnectionSpec> verify_scratch;  ///< installer verify's servers (default: admin)
  std::string templates_dir, config_dir, defaults_dir, hooks_dir;

  // Running the application (PID 1)
  std::string health_listen;  ///< "" = no health endpoint
  std::chrono::milliseconds grace = std::chrono::seconds(10);
  std::chrono::milliseconds stop_delay = std::chrono::seconds(0);
  bool process_group = false;
  std::string user;  ///< NAME[:GROUP] for the application
  std::chrono::milliseconds progress_interval = std::chrono::seconds(30);
};

/// One configuration key: its config-file name, environment variable and flag.
struct SettingKey {
  const char* name;  ///< as in the config file, e.g. "db-url"
  const char* env;   ///< e.g. "INSTALLER_DB_URL"; INSTALLER_DB_URL_FILE is read too
  bool secret;
  const char* help;
};

/// The keys in documentation order.
const std::vector<SettingKey>& setting_keys();

/// Values given on the command line, by key name; repeated --updates are joined with ':'.
using CliValues = std::map<std::string, std::string>;
using Environment = std::map<std::string, std::string>;

/// The process environment as a map (only INSTALLER_* variables).
Environment process_environment();

/// Applies precedence and validates. Throws UserError(exit_config) naming the source
/// (flag, variable, or file:line) of a bad value; never includes a secret's value.
Settings resolve_settings(const CliValues& cli, const Environment& env);

}  // namespace installer
