#include "installer/cli/settings.hpp"

#include "installer/util/duration.hpp"
#include "installer/util/error.hpp"
#include "installer/util/file_reading.hpp"
#include "installer/util/redact.hpp"
#include "installer/util/secret_file.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace installer {

const std::vector<SettingKey>& setting_keys() {
  static const std::vector<SettingKey> keys = {
      {"db-url", "INSTALLER_DB_URL", true, "database URL: postgresql://USER:PASSWORD@HOST:PORT/DB?sslmode=..."},
      {"db-engine", "INSTALLER_DB_ENGINE", false, "postgres, mariadb or mysql, when the database is given by parts"},
      {"db-host", "INSTALLER_DB_HOST", false, "database host (overrides the URL's)"},
      {"db-port", "INSTALLER_DB_PORT", false, "database port (overrides the URL's)"},
      {"db-user", "INSTALLER_DB_USER", false, "database user (overrides the URL's)"},
      {"db-password", "INSTALLER_DB_PASSWORD", true, "database password (prefer INSTALLER_DB_PASSWORD_FILE)"},
      {"db-name", "INSTALLER_DB_NAME", false, "database name (overrides the URL's)"},
      {"db-tls", "INSTALLER_DB_TLS", false, "TLS: disable, prefer, require, verify-ca, verify-full"},
      {"db-tls-ca", "INSTALLER_DB_TLS_CA", false, "CA certificate file to verify the server against"},
      {"db-admin-url", "INSTALLER_DB_ADMIN_URL", true,
       "administrator's URL (same engine and server): creates the database when it does not exist"},
      {"verify-scratch-url", "INSTALLER_VERIFY_SCRATCH_URL", true,
       "installer verify: servers (URLs, space-separated) where it creates and drops scratch databases"},
      {"updates", "INSTALLER_UPDATES", false, "update directories, ':'-separated (flag repeatable)"},
      {"updates-format", "INSTALLER_UPDATES_FORMAT", false,
       "the update directories' format, when not detected: FORMAT, or DIR=FORMAT (space-separated); installer, "
       "golang-migrate, dbmate, goose, flyway or sqitch"},
      {"trusted-keys", "INSTALLER_TRUSTED_KEYS", false,
       "public keys (a file, or a directory of *.pub files): every update must be signed by one of them"},
      {"adopt", "INSTALLER_ADOPT", false,
       "adopt a database that has tables but no journal: from another tool's history table, or by its schema"},
      {"templates", "INSTALLER_TEMPLATES", false,
       "configuration templates (${VAR}, ${VAR:-default}) rendered at start"},
      {"config-dir", "INSTALLER_CONFIG_DIR", false, "where rendered templates and default configuration files go"},
      {"defaults", "INSTALLER_DEFAULTS", false, "default configuration files, installed once and kept current"},
      {"install-hooks", "INSTALLER_INSTALL_HOOKS", false, "install.d: .sql files and programs run once per database"},
      {"journal-schema", "INSTALLER_JOURNAL_SCHEMA", false,
       "the journal's schema (MariaDB: prefix of its tables in the database)"},
      {"lock-timeout", "INSTALLER_LOCK_TIMEOUT", false,
       "how long to wait for another installer's lock (e.g. 30s, 10m)"},
      {"connect-timeout", "INSTALLER_CONNECT_TIMEOUT", false, "how long one connection attempt may take"},
      {"wait-timeout", "INSTALLER_WAIT_TIMEOUT", false,
       "how long migrate and run wait for an unreachable database, retrying with back-off (0: do not wait)"},
      {"auto-remove-unknown", "INSTALLER_AUTO_REMOVE_UNKNOWN", false,
       "remove applied updates missing from the update directories instead of refusing to start"},
      {"backup-dir", "INSTALLER_BACKUP_DIR", false,
       "dump the database here (pg_dump, mariadb-dump) before a run's first update or removal; off by default"},
      {"backup-keep", "INSTALLER_BACKUP_KEEP", false,
       "how many backups of the database --backup-dir keeps (default 3)"},
      {"backup-required", "INSTALLER_BACKUP_REQUIRED", false,
       "false: a backup that fails is a warning and the run goes on; true (default): it stops the run, exit 73"},
      {"backup-only-destructive", "INSTALLER_BACKUP_ONLY_DESTRUCTIVE", false,
       "back up only when an update to apply drops or rewrites something (installer verify's static checks)"},
      {"fingerprint-limit", "INSTALLER_FINGERPRINT_LIMIT", false,
       "a cost cap: a run applying more updates fingerprints the schema around its first and last only (default 0: around every update)"},
      {"log-level", "INSTALLER_LOG_LEVEL", false, "debug, info, warn or error"},
      {"log-format", "INSTALLER_LOG_FORMAT", false, "human (default) or json, one object per line"},
      {"health-listen", "INSTALLER_HEALTH_LISTEN", false, "serve /livez /readyz /healthz /status on ADDR:PORT"},
      {"grace", "INSTALLER_GRACE", false,
       "time from SIGTERM to SIGKILL, for the application and what it leaves behind"},
      {"stop-delay", "INSTALLER_STOP_DELAY", false, "hold a received SIGTERM back this long so load balancers drain"},
      {"process-group", "INSTALLER_PROCESS_GROUP", false, "forward signals to the application's whole process group"},
      {"user", "INSTALLER_USER", false, "run the application as NAME[:GROUP]"},
      {"progress-interval", "INSTALLER_PROGRESS_INTERVAL", false, "how often a long update logs its progress"},
  };
  return keys;
}

Environment process_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string name = entry.substr(0, eq);
    if (name.rfind("INSTALLER_", 0) == 0) env[name] = entry.substr(eq + 1);
  }
  return env;
}

namespace {

struct Source {
  std::string value;
  std::string origin;  ///< "--db-url", "INSTALLER_DB_URL", "/etc/installer.conf:3", "default"
};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

const SettingKey* find_key(const std::string& name) {
  std::string normal = name;
  for (char& c : normal)
    if (c == '_') c = '-';
  for (const auto& k : setting_keys())
    if (normal == k.name) return &k;
  return nullptr;
}

std::map<std::string, Source> read_config_file(const std::string& path, const std::string& origin) {
  auto fail = [&](const std::string& why) {
    return UserError(exit_config, fmt::format("config file {} (from {}): cannot read: {}", path, origin, why));
  };
  std::string why;
  auto text = read_regular_file(path, kMaxConfigFileBytes, why);
  if (!text) throw fail(why);
  std::istringstream in(*text);
  std::map<std::string, Source> values;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    auto eq = text.find('=');
    if (eq == std::string::npos) throw UserError(exit_config, fmt::format("{}:{}: expected key=value", path, number));
    std::string key = trim(text.substr(0, eq));
    // The line is not echoed: a mistyped line may well hold a password.
    bool plausible_key = !key.empty() && key.size() <= 40 &&
                         key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                             std::string::npos;
    if (!plausible_key)
      throw UserError(exit_config, fmt::format("{}:{}: expected key=value with a key of letters, digits, '-' and '_'",
                                               path, number));
    const SettingKey* k = find_key(key);
    if (!k) {
      std::string known;
      for (const auto& s : setting_keys()) known += (known.empty() ? "" : ", ") + std::string(s.name);
      throw UserError(exit_config, fmt::format("{}:{}: unknown key '{}' (known: {})", path, number, key, known));
    }
    std::string value = trim(text.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    if (k->secret) register_secret(value);
    values[k->name] = {value, fmt::format("{}:{}", path, number)};
  }
  if (in.bad()) throw fail(std::strerror(errno));
  return values;
}

bool parse_bool(const Source& s, const char* key) {
  std::string v = s.value;
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off" || v.empty()) return false;
  throw UserError(exit_config, fmt::format("{}: {} must be true or false, not '{}'", s.origin, key, s.value));
}

std::chrono::milliseconds duration_of(const Source& s, const char* key) {
  try {
    return parse_duration(s.value);
  } catch (const std::invalid_argument& e) {
    throw UserError(exit_config, fmt::format("{}: {}: {}", s.origin, key, e.what()));
  }
}

using Chosen = std::map<std::string, Source>;  ///< key name -> the value that wins, and where it came from

const Source* find_source(const Chosen& chosen, const char* name) {
  auto it = chosen.find(name);
  return it == chosen.end() ? nullptr : &it->second;
}

/// Secrets are registered before anything can fail, so no message can show them.
void register_given_secrets(const CliValues& cli, const Environment& env) {
  for (const auto& k : setting_keys()) {
    if (!k.secret) continue;
    if (auto it = env.find(k.env); it != env.end()) register_secret(it->second);
    if (auto it = cli.find(k.name); it != cli.end()) register_secret(it->second);
  }
}

/// The config file named by --config or INSTALLER_CONFIG, the lowest layer but the defaults.
Chosen config_file_values(const CliValues& cli, const Environment& env) {
  std::string path, origin;
  if (auto it = cli.find("config"); it != cli.end()) path = it->second, origin = "--config";
  else if (auto e = env.find("INSTALLER_CONFIG"); e != env.end()) path = e->second, origin = "INSTALLER_CONFIG";
  return path.empty() ? Chosen{} : read_config_file(path, origin);
}

/// The environment (a variable, or its _FILE) over the config file, a flag over both.
void apply_environment_and_flags(Chosen& chosen, const CliValues& cli, const Environment& env) {
  for (const auto& k : setting_keys()) {
    std::string file_var = std::string(k.env) + "_FILE";
    auto direct = env.find(k.env);
    auto file = env.find(file_var);
    if (direct != env.end() && file != env.end())
      throw UserError(exit_config, fmt::format("both {} and {} are set; set only one", k.env, file_var));
    if (direct != env.end()) chosen[k.name] = {direct->second, k.env};
    if (file != env.end()) {
      std::string value = read_secret_file(file->second, file_var);
      if (k.secret) register_secret(value);
      chosen[k.name] = {value, file_var};
    }
    if (auto it = cli.find(k.name); it != cli.end()) chosen[k.name] = {it->second, std::string("--") + k.name};
  }
}

ConnectionSpec url_of(const Source& s) {
  try {
    ConnectionSpec spec = parse_connection_url(s.value);
    register_secret(spec.password);
    return spec;
  } catch (const std::invalid_argument& e) {
    throw UserError(exit_config, fmt::format("{}: {}", s.origin, e.what()));
  }
}

Engine engine_of(const Source& s) {
  if (s.value == "postgres" || s.value == "postgresql") return Engine::postgres;
  if (s.value == "mariadb") return Engine::mariadb;
  if (s.value == "mysql") return Engine::mysql;
  throw UserError(exit_config, fmt::format("{}: unknown engine '{}' (postgres, mariadb, mysql)", s.origin, s.value));
}

int port_of(const Source& s) {
  try {
    size_t used = 0;
    int port = std::stoi(s.value, &used);
    if (used != s.value.size() || port < 1 || port > 65535) throw std::invalid_argument("range");
    return port;
  } catch (const std::exception&) {
    throw UserError(exit_config, fmt::format("{}: '{}' is not a port number", s.origin, s.value));
  }
}

std::optional<TlsMode> tls_of(const Source& s) {
  try {
    return parse_connection_url("postgresql://h/?sslmode=" + s.value).tls;
  } catch (const std::invalid_argument& e) {
    throw UserError(exit_config, fmt::format("{}: {}", s.origin, e.what()));
  }
}

/// A whole number from `low` to `high`; `what` says in the message what it counts.
int whole_number_of(const Source& s, const char* key, long low, long high, const char* what) {
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(s.value.c_str(), &end, 10);
  if (s.value.empty() || *end != '\0' || errno != 0 || n < low || n > high)
    throw UserError(exit_config, fmt::format("{}: {} must be a whole number of {} from {} to {} (got '{}')", s.origin,
                                             key, what, low, high, s.value));
  return static_cast<int>(n);
}

/// The URL first, then the parts that override it.
void resolve_connection(const Chosen& chosen, Settings& s) {
  auto get = [&](const char* name) { return find_source(chosen, name); };
  if (const Source* url = get("db-url")) {
    s.connection = url_of(*url);
    s.has_connection = true;
  }
  if (const Source* v = get("db-engine")) s.connection.engine = engine_of(*v);
  if (const Source* v = get("db-host")) s.connection.host = v->value, s.has_connection = true;
  if (const Source* v = get("db-port")) s.connection.port = port_of(*v);
  if (const Source* v = get("db-user")) s.connection.user = v->value;
  if (const Source* v = get("db-password")) {
    s.connection.password = v->value;
    register_secret(v->value);
  }
  if (const Source* v = get("db-name")) s.connection.database = v->value, s.has_connection = true;
  if (const Source* v = get("db-tls")) s.connection.tls = tls_of(*v);
  if (const Source* v = get("db-tls-ca")) s.connection.tls_ca_file = v->value;
}

/// FORMAT for every directory, DIR=FORMAT for one; several separated by spaces.
FormatChoice formats_of(const Source& v) {
  FormatChoice choice;
  std::stringstream words(v.value);
  for (std::string word; words >> word;) {
    size_t eq = word.rfind('=');
    std::string name = eq == std::string::npos ? word : word.substr(eq + 1);
    auto format = parse_updates_format(name);
    if (!format)
      throw UserError(exit_config, fmt::format("{}: unknown updates format '{}' (known: {})", v.origin, name,
                                               updates_format_names()));
    if (eq == std::string::npos) choice.all = *format;
    else choice.by_directory[word.substr(0, eq)] = *format;
  }
  return choice;
}

void resolve_updates_and_journal(const Chosen& chosen, Settings& s) {
  auto get = [&](const char* name) { return find_source(chosen, name); };
  if (const Source* v = get("updates")) {
    std::stringstream parts(v->value);
    std::string dir;
    while (std::getline(parts, dir, ':'))
      if (!dir.empty()) s.update_dirs.push_back(dir);
  }
  if (const Source* v = get("updates-format")) s.update_formats = formats_of(*v);
  if (const Source* v = get("trusted-keys"); v && !v->value.empty()) {
    try {
      s.trusted_keys = load_trusted_keys(v->value);
    } catch (const SigningError& e) {
      throw UserError(exit_config, fmt::format("{}: {}", v->origin, e.what()));
    }
  }
  if (const Source* v = get("journal-schema")) {
    if (v->value.empty() || v->value.size() > 63)
      throw UserError(exit_config, fmt::format("{}: the journal schema name must have 1 to 63 characters", v->origin));
    s.journal_schema = v->value;
  }
  if (const Source* v = get("verify-scratch-url")) {
    std::stringstream urls(v->value);
    for (std::string url; urls >> url;) s.verify_scratch.push_back(url_of({url, v->origin}));
  }
  if (const Source* v = get("lock-timeout")) s.lock_timeout = duration_of(*v, "lock-timeout");
  if (const Source* v = get("connect-timeout"))
    s.connect_timeout = std::chrono::duration_cast<std::chrono::seconds>(duration_of(*v, "connect-timeout"));
  if (const Source* v = get("db-admin-url")) {
    s.admin = url_of(*v);
    if (s.has_connection && s.admin->engine != s.connection.engine)
      throw UserError(exit_config,
                      fmt::format("{}: the administrator's URL must be for the same engine as the database",
                                  v->origin));
  }
}

void resolve_install(const Chosen& chosen, Settings& s) {
  auto get = [&](const char* name) { return find_source(chosen, name); };
  if (const Source* v = get("templates")) s.templates_dir = v->value;
  if (const Source* v = get("config-dir")) s.config_dir = v->value;
  if (const Source* v = get("defaults")) s.defaults_dir = v->value;
  if (const Source* v = get("install-hooks")) s.hooks_dir = v->value;
  if ((!s.templates_dir.empty() || !s.defaults_dir.empty()) && s.config_dir.empty())
    throw UserError(exit_config,
                    "templates and defaults need a config directory: set --config-dir (INSTALLER_CONFIG_DIR)");
}

void resolve_migrate_options(const Chosen& chosen, Settings& s) {
  auto get = [&](const char* name) { return find_source(chosen, name); };
  if (const Source* v = get("wait-timeout")) s.wait_timeout = duration_of(*v, "wait-timeout");
  if (const Source* v = get("auto-remove-unknown")) s.auto_remove_unknown = parse_bool(*v, "auto-remove-unknown");
  if (const Source* v = get("adopt")) s.adopt = parse_bool(*v, "adopt");
  if (const Source* v = get("fingerprint-limit"))
    s.fingerprint_limit = whole_number_of(*v, "fingerprint-limit", 0, 1000000, "updates");
  if (const Source* v = get("backup-dir")) s.backup_dir = v->value;
  if (const Source* v = get("backup-required")) s.backup_required = parse_bool(*v, "backup-required");
  if (const Source* v = get("backup-only-destructive"))
    s.backup_only_destructive = parse_bool(*v, "backup-only-destructive");
  if (const Source* v = get("backup-keep")) s.backup_keep = whole_number_of(*v, "backup-keep", 1, 1000, "backups");
}

/// Logging, the health endpoint and the application's supervision.
void resolve_process(const Chosen& chosen, Settings& s) {
  auto get = [&](const char* name) { return find_source(chosen, name); };
  if (const Source* v = get("log-format")) {
    if (v->value != "human" && v->value != "json")
      throw UserError(exit_config, fmt::format("{}: log format must be human or json", v->origin));
    s.log_format = v->value;
  }
  if (const Source* v = get("health-listen")) s.health_listen = v->value;
  if (const Source* v = get("grace")) s.grace = duration_of(*v, "grace");
  if (const Source* v = get("stop-delay")) s.stop_delay = duration_of(*v, "stop-delay");
  if (const Source* v = get("process-group")) s.process_group = parse_bool(*v, "process-group");
  if (const Source* v = get("user")) s.user = v->value;
  if (const Source* v = get("progress-interval")) {
    s.progress_interval = duration_of(*v, "progress-interval");
    if (s.progress_interval.count() <= 0)
      throw UserError(exit_config, fmt::format("{}: progress-interval must be more than 0", v->origin));
  }
  if (const Source* v = get("log-level")) {
    if (v->value != "debug" && v->value != "info" && v->value != "warn" && v->value != "error")
      throw UserError(exit_config, fmt::format("{}: log level must be debug, info, warn or error", v->origin));
    s.log_level = v->value;
  }
}

}  // namespace

Settings resolve_settings(const CliValues& cli, const Environment& env) {
  register_given_secrets(cli, env);
  Chosen chosen = config_file_values(cli, env);
  apply_environment_and_flags(chosen, cli, env);
  Settings s;
  // In this order, which decides the one reported of several bad values.
  resolve_connection(chosen, s);
  resolve_updates_and_journal(chosen, s);
  resolve_install(chosen, s);
  resolve_migrate_options(chosen, s);
  resolve_process(chosen, s);
  return s;
}

}  // namespace installer
