// Settings precedence (flag > INSTALLER_* variable or its _FILE > config file > default),
// validation that names the source of a bad value, and secrecy of passwords in errors.
#include "catalog_fixture.hpp"
#include "installer/cli/settings.hpp"
#include "installer/util/duration.hpp"
#include "installer/util/error.hpp"
#include "installer/util/redact.hpp"
#include "unit_support.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

using namespace installer;
using installer::unit_fixture::TempDir;
using installer::unit_support::contains;
using installer::unit_support::SecretsReset;
using namespace std::chrono_literals;

namespace {

/// The message of the UserError resolve_settings throws (which must be a config error).
std::string error_of(const CliValues& cli, const Environment& env) {
  try {
    resolve_settings(cli, env);
  } catch (const UserError& e) {
    CHECK(e.code() == exit_config);
    return e.what();
  }
  FAIL("resolve_settings accepted a bad configuration");
  return {};
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

TEST_CASE("settings: defaults when nothing is configured") {
  SecretsReset reset;
  Settings s = resolve_settings({}, {});
  CHECK_FALSE(s.has_connection);
  CHECK(s.update_dirs.empty());
  CHECK(s.journal_schema == "installer");
  CHECK(s.lock_timeout == 10min);
  CHECK(s.connect_timeout == 10s);
  CHECK_FALSE(s.auto_remove_unknown);
  CHECK(s.log_level == "info");
  CHECK(s.connection.engine == Engine::postgres);
  CHECK(s.connection.host == "127.0.0.1");
  CHECK_FALSE(s.connection.port.has_value());
  CHECK(s.connection.password.empty());
  CHECK_FALSE(s.connection.tls.has_value());
}

TEST_CASE("settings: flag > variable > variable_FILE > config file > default") {
  SecretsReset reset;
  TempDir tmp;
  auto config = tmp.write("installer.conf", "lock-timeout = 1m\nlog-level = warn\njournal-schema = from_config\n");
  auto file = tmp.write("timeout", "45s\n");

  CHECK(resolve_settings({}, {}).lock_timeout == 10min);
  CHECK(resolve_settings({}, {{"INSTALLER_CONFIG", config.string()}}).lock_timeout == 1min);
  CHECK(resolve_settings({}, {{"INSTALLER_CONFIG", config.string()}, {"INSTALLER_LOCK_TIMEOUT_FILE", file.string()}})
            .lock_timeout == 45s);
  CHECK(resolve_settings({}, {{"INSTALLER_CONFIG", config.string()}, {"INSTALLER_LOCK_TIMEOUT", "2m"}}).lock_timeout ==
        2min);
  CHECK(resolve_settings({{"lock-timeout", "3m"}},
                         {{"INSTALLER_CONFIG", config.string()}, {"INSTALLER_LOCK_TIMEOUT", "2m"}})
            .lock_timeout == 3min);
  CHECK(resolve_settings({{"lock-timeout", "3m"}},
                         {{"INSTALLER_CONFIG", config.string()}, {"INSTALLER_LOCK_TIMEOUT_FILE", file.string()}})
            .lock_timeout == 3min);

  // Each key is resolved on its own: the other config values still apply.
  Settings mixed = resolve_settings({{"log-level", "debug"}},
                                    {{"INSTALLER_CONFIG", config.string()}, {"INSTALLER_LOCK_TIMEOUT", "2m"}});
  CHECK(mixed.log_level == "debug");
  CHECK(mixed.lock_timeout == 2min);
  CHECK(mixed.journal_schema == "from_config");
}

TEST_CASE("settings: the password from flag, variable, its _FILE or the config file") {
  SecretsReset reset;
  TempDir tmp;
  auto config = tmp.write("installer.conf", "db-password = from-config\n");
  auto file = tmp.write("password", "from-file\n");
  Environment env = {{"INSTALLER_CONFIG", config.string()}};
  CHECK(resolve_settings({}, env).connection.password == "from-config");
  env["INSTALLER_DB_PASSWORD_FILE"] = file.string();
  CHECK(resolve_settings({}, env).connection.password == "from-file");
  CHECK(resolve_settings({{"db-password", "from-flag"}}, env).connection.password == "from-flag");
  env.erase("INSTALLER_DB_PASSWORD_FILE");
  env["INSTALLER_DB_PASSWORD"] = "from-variable";
  CHECK(resolve_settings({}, env).connection.password == "from-variable");
}

TEST_CASE("settings: a variable and its _FILE together are an error") {
  SecretsReset reset;
  TempDir tmp;
  auto file = tmp.write("password", "secret-in-file\n");
  std::string message = error_of({}, {{"INSTALLER_DB_PASSWORD", "secret-in-variable"},
                                      {"INSTALLER_DB_PASSWORD_FILE", file.string()}});
  CHECK(message == "both INSTALLER_DB_PASSWORD and INSTALLER_DB_PASSWORD_FILE are set; set only one");
  CHECK_FALSE(contains(message, "secret-in"));

  auto level = tmp.write("level", "debug\n");
  CHECK(error_of({}, {{"INSTALLER_LOG_LEVEL", "warn"}, {"INSTALLER_LOG_LEVEL_FILE", level.string()}}) ==
        "both INSTALLER_LOG_LEVEL and INSTALLER_LOG_LEVEL_FILE are set; set only one");
}

TEST_CASE("settings: _FILE values lose their trailing newline only") {
  SecretsReset reset;
  TempDir tmp;
  auto check = [&](const std::string& content, const std::string& expected) {
    auto file = tmp.write("password", content);
    CHECK(resolve_settings({}, {{"INSTALLER_DB_PASSWORD_FILE", file.string()}}).connection.password == expected);
  };
  check("s3cret-pw\n", "s3cret-pw");
  check("s3cret-pw", "s3cret-pw");
  check("s3cret-pw\r\n", "s3cret-pw");
  check("s3cret-pw\n\n", "s3cret-pw");
  check(" spaced pw \n", " spaced pw ");
  check("two\nlines\n", "two\nlines");

  auto updates = tmp.write("updates", "/opt/a:/opt/b\n");
  CHECK(resolve_settings({}, {{"INSTALLER_UPDATES_FILE", updates.string()}}).update_dirs ==
        std::vector<std::string>{"/opt/a", "/opt/b"});
}

TEST_CASE("settings: an unreadable _FILE names the variable and the path") {
  SecretsReset reset;
  TempDir tmp;
  std::string path = (tmp / "missing-password").string();
  std::string message = error_of({}, {{"INSTALLER_DB_PASSWORD_FILE", path}});
  CHECK(starts_with(message, "INSTALLER_DB_PASSWORD_FILE: cannot read " + path + ": "));
}

TEST_CASE("settings: config file syntax") {
  SecretsReset reset;
  TempDir tmp;
  auto config = tmp.write("installer.conf", "# installer settings\n"
                                            "\n"
                                            "   # an indented comment\n"
                                            "db-url = postgresql://app@db.internal:5433/shop?sslmode=require\n"
                                            "db_password = \"pa#ss = word\"\n"
                                            "journal_schema='vendor_journal'\n"
                                            "  updates   =   /opt/updates:/srv/updates  \n"
                                            "auto-remove-unknown = yes\r\n"
                                            "db-tls-ca =\n");
  Settings s = resolve_settings({}, {{"INSTALLER_CONFIG", config.string()}});
  CHECK(s.has_connection);
  CHECK(s.connection.host == "db.internal");
  CHECK(s.connection.port == 5433);
  CHECK(s.connection.user == "app");
  CHECK(s.connection.database == "shop");
  CHECK(s.connection.tls == TlsMode::require);
  CHECK(s.connection.password == "pa#ss = word");
  CHECK(s.journal_schema == "vendor_journal");
  CHECK(s.update_dirs == std::vector<std::string>{"/opt/updates", "/srv/updates"});
  CHECK(s.auto_remove_unknown);
  CHECK(s.connection.tls_ca_file.empty());
}

TEST_CASE("settings: --config wins over INSTALLER_CONFIG") {
  SecretsReset reset;
  TempDir tmp;
  auto from_flag = tmp.write("flag.conf", "log-level = debug\n");
  auto from_env = tmp.write("env.conf", "log-level = error\njournal-schema = env_schema\n");
  Settings s = resolve_settings({{"config", from_flag.string()}}, {{"INSTALLER_CONFIG", from_env.string()}});
  CHECK(s.log_level == "debug");
  CHECK(s.journal_schema == "installer");  // env.conf was not read at all
  CHECK(resolve_settings({}, {{"INSTALLER_CONFIG", from_env.string()}}).log_level == "error");
}

TEST_CASE("settings: a missing config file names the path and where it came from") {
  SecretsReset reset;
  TempDir tmp;
  std::string path = (tmp / "nope.conf").string();
  CHECK(starts_with(error_of({{"config", path}}, {}), "config file " + path + " (from --config): cannot read: "));
  CHECK(starts_with(error_of({}, {{"INSTALLER_CONFIG", path}}),
                    "config file " + path + " (from INSTALLER_CONFIG): cannot read: "));
}

TEST_CASE("settings: config file errors name file:line") {
  SecretsReset reset;
  TempDir tmp;
  auto unknown = tmp.write("unknown.conf", "# fine\nlog-level = info\ncolour = blue\n");
  std::string message = error_of({}, {{"INSTALLER_CONFIG", unknown.string()}});
  CHECK(starts_with(message, unknown.string() + ":3: unknown key 'colour' (known: db-url, "));
  CHECK(contains(message, "log-level"));

  auto no_equals = tmp.write("noeq.conf", "log-level = info\nlog-level debug\n");
  CHECK(error_of({}, {{"INSTALLER_CONFIG", no_equals.string()}}) == no_equals.string() + ":2: expected key=value");

  // "config" itself is not a key of the file.
  auto nested = tmp.write("nested.conf", "config = other.conf\n");
  CHECK(
      starts_with(error_of({}, {{"INSTALLER_CONFIG", nested.string()}}), nested.string() + ":1: unknown key 'config'"));
}

TEST_CASE("settings: bad durations name their source") {
  SecretsReset reset;
  TempDir tmp;
  auto config = tmp.write("installer.conf", "# durations\nlock-timeout = soon\n");
  auto file = tmp.write("connect", "5 minutes\n");
  CHECK(error_of({{"lock-timeout", "soon"}}, {}) ==
        "--lock-timeout: lock-timeout: 'soon' is not a duration (examples: 30s, 1500ms, 2m)");
  CHECK(
      starts_with(error_of({}, {{"INSTALLER_LOCK_TIMEOUT", "10 m"}}), "INSTALLER_LOCK_TIMEOUT: lock-timeout: '10 m'"));
  CHECK(
      starts_with(error_of({}, {{"INSTALLER_CONFIG", config.string()}}), config.string() + ":2: lock-timeout: 'soon'"));
  CHECK(starts_with(error_of({}, {{"INSTALLER_CONNECT_TIMEOUT_FILE", file.string()}}),
                    "INSTALLER_CONNECT_TIMEOUT_FILE: connect-timeout: '5 minutes'"));
}

TEST_CASE("settings: durations") {
  SecretsReset reset;
  Settings s = resolve_settings({{"lock-timeout", "1500ms"}, {"connect-timeout", "2m"}}, {});
  CHECK(s.lock_timeout == 1500ms);
  CHECK(s.connect_timeout == 120s);
  CHECK(resolve_settings({}, {{"INSTALLER_CONNECT_TIMEOUT", "45"}}).connect_timeout == 45s);
}

TEST_CASE("settings: a duration past 1000 days is refused, naming the setting") {
  SecretsReset reset;
  CHECK(error_of({{"grace", "99999999h"}}, {}) ==
        "--grace: grace: '99999999h' is longer than the longest duration allowed, 24000h (1000 days)");
  CHECK(starts_with(error_of({}, {{"INSTALLER_STOP_DELAY", "24001h"}}),
                    "INSTALLER_STOP_DELAY: stop-delay: '24001h' is longer"));
  CHECK(starts_with(error_of({{"lock-timeout", "86400001s"}}, {}),
                    "--lock-timeout: lock-timeout: '86400001s' is longer"));
  CHECK(
      starts_with(error_of({{"wait-timeout", "1440001m"}}, {}), "--wait-timeout: wait-timeout: '1440001m' is longer"));
  CHECK(starts_with(error_of({{"progress-interval", "86400000001ms"}}, {}),
                    "--progress-interval: progress-interval: '86400000001ms'"));
  CHECK(starts_with(error_of({{"connect-timeout", "99999999999999999999999999"}}, {}),
                    "--connect-timeout: connect-timeout: '99999999999999999999999999' is longer"));
  Settings s = resolve_settings({{"grace", "24000h"}, {"stop-delay", "86400000s"}, {"lock-timeout", "1440000m"}}, {});
  CHECK(s.grace == std::chrono::hours(24'000));
  CHECK(s.stop_delay == std::chrono::hours(24'000));
  CHECK(s.lock_timeout == std::chrono::hours(24'000));
}

TEST_CASE("parse_duration: the maximum in every unit, and one past it") {
  CHECK(parse_duration("24000h") == max_duration);
  CHECK(parse_duration("1440000m") == max_duration);
  CHECK(parse_duration("86400000") == max_duration);
  CHECK(parse_duration("86400000000ms") == max_duration);
  CHECK(parse_duration("000000000000000000000000030s") == 30s);  // leading zeros are not length
  for (const char* past : {"24001h", "1440001m", "86400001", "86400000001ms", "99999999h", "999999999999h",
                           "9223372036854775808ms", "99999999999999999999999999s"}) {
    INFO(past);
    const std::string expected = "'" + std::string(past) + "' is longer than the longest duration allowed, 24000h";
    CHECK_THROWS_WITH_AS(parse_duration(past), doctest::Contains(expected.c_str()), std::invalid_argument);
  }
}

TEST_CASE("deadline_after: saturates instead of wrapping into the past") {
  using Clock = std::chrono::steady_clock;
  auto now = Clock::now();
  CHECK(deadline_after(now, 1500ms) == now + 1500ms);
  CHECK(deadline_after(now, max_duration) == now + max_duration);
  CHECK(deadline_after(now, std::chrono::milliseconds::max()) == Clock::time_point::max());
  CHECK(deadline_after(Clock::time_point::max() - 1ms, 2ms) == Clock::time_point::max());
}

TEST_CASE("settings: booleans") {
  SecretsReset reset;
  for (const char* yes : {"1", "true", "TRUE", "yes", "Yes", "on"}) {
    INFO(yes);
    CHECK(resolve_settings({{"auto-remove-unknown", yes}}, {}).auto_remove_unknown);
  }
  for (const char* no : {"0", "false", "False", "no", "off", ""}) {
    INFO("'", no, "'");
    CHECK_FALSE(resolve_settings({}, {{"INSTALLER_AUTO_REMOVE_UNKNOWN", no}}).auto_remove_unknown);
  }
  TempDir tmp;
  auto config = tmp.write("installer.conf", "\n\nauto-remove-unknown = maybe\n");
  CHECK(error_of({{"auto-remove-unknown", "maybe"}}, {}) ==
        "--auto-remove-unknown: auto-remove-unknown must be true or false, not 'maybe'");
  CHECK(starts_with(error_of({}, {{"INSTALLER_AUTO_REMOVE_UNKNOWN", "2"}}), "INSTALLER_AUTO_REMOVE_UNKNOWN: "));
  CHECK(starts_with(error_of({}, {{"INSTALLER_CONFIG", config.string()}}),
                    config.string() + ":3: auto-remove-unknown must"));
}

TEST_CASE("settings: ports") {
  SecretsReset reset;
  CHECK(resolve_settings({{"db-port", "6543"}}, {}).connection.port == 6543);
  CHECK(resolve_settings({}, {{"INSTALLER_DB_PORT", "1"}}).connection.port == 1);
  CHECK(resolve_settings({}, {{"INSTALLER_DB_PORT", "65535"}}).connection.port == 65535);
  for (const char* bad : {"abc", "0", "65536", "54x", "-1", "", "5432 ", "99999999999"}) {
    INFO("'", bad, "'");
    CHECK(error_of({{"db-port", bad}}, {}) == std::string("--db-port: '") + bad + "' is not a port number");
    CHECK(starts_with(error_of({}, {{"INSTALLER_DB_PORT", bad}}), "INSTALLER_DB_PORT: '"));
  }
  TempDir tmp;
  auto config = tmp.write("installer.conf", "db-port = 5432x\n");
  CHECK(error_of({}, {{"INSTALLER_CONFIG", config.string()}}) == config.string() + ":1: '5432x' is not a port number");
}

TEST_CASE("settings: other values are validated with their source") {
  SecretsReset reset;
  CHECK(error_of({{"log-level", "verbose"}}, {}) == "--log-level: log level must be debug, info, warn or error");
  CHECK(starts_with(error_of({}, {{"INSTALLER_DB_ENGINE", "oracle"}}), "INSTALLER_DB_ENGINE: unknown engine 'oracle'"));
  CHECK(starts_with(error_of({{"db-tls", "sometimes"}}, {}), "--db-tls: "));
  CHECK(contains(error_of({{"db-tls", "sometimes"}}, {}), "unknown TLS mode 'sometimes'"));
  CHECK(starts_with(error_of({{"journal-schema", ""}}, {}),
                    "--journal-schema: the journal schema name must have 1 to 63"));
  CHECK(starts_with(error_of({}, {{"INSTALLER_JOURNAL_SCHEMA", std::string(64, 's')}}), "INSTALLER_JOURNAL_SCHEMA: "));
  CHECK(resolve_settings({{"journal-schema", std::string(63, 's')}}, {}).journal_schema == std::string(63, 's'));
  CHECK(starts_with(error_of({{"db-url", "oracle://db/x"}}, {}), "--db-url: database URL scheme 'oracle'"));
  for (const char* level : {"debug", "info", "warn", "error"})
    CHECK(resolve_settings({}, {{"INSTALLER_LOG_LEVEL", level}}).log_level == level);
}

TEST_CASE("settings: error messages never contain the password") {
  SecretsReset reset;
  const std::string password = "Hunter2-s3cr3t";  // URL-safe, so it appears as is in URLs
  TempDir tmp;
  auto password_file = tmp.write("password", password + "\n");
  auto config_with_password = tmp.write("pw.conf", "db-password = \"" + password + "\"\nlock-timeout = never\n");
  auto config_with_url = tmp.write("url.conf", "db-url = postgresql://app:" + password + "@db:port/x\n");
  const std::string url = "postgresql://app:" + password + "@db/app";

  std::vector<std::pair<CliValues, Environment>> cases = {
      {{{"db-password", password}, {"db-port", "x"}}, {}},
      {{}, {{"INSTALLER_DB_PASSWORD", password}, {"INSTALLER_LOCK_TIMEOUT", "x"}}},
      {{}, {{"INSTALLER_DB_PASSWORD", password}, {"INSTALLER_DB_PASSWORD_FILE", password_file.string()}}},
      {{}, {{"INSTALLER_DB_PASSWORD_FILE", password_file.string()}, {"INSTALLER_AUTO_REMOVE_UNKNOWN", "x"}}},
      {{}, {{"INSTALLER_CONFIG", config_with_password.string()}}},
      {{{"db-url", url}, {"db-engine", "x"}}, {}},
      {{{"db-url", url}, {"db-tls", "x"}}, {}},
      {{}, {{"INSTALLER_DB_URL", url}, {"INSTALLER_LOG_LEVEL", "x"}}},
      {{{"db-url", "postgresql://app:" + password + "@db:99999/app"}}, {}},
      {{{"db-url", "postgresql://app:" + password + "@db:54x/app"}}, {}},
      {{{"db-url", "postgresql://app:" + password + "%zz@db/app"}}, {}},
      {{{"db-url", "postgresql://app:" + password + "@db/app?sslmode=bogus"}}, {}},
      {{{"db-url", "postgresql://app@db/app?password=" + password}}, {}},
      {{{"db-url", "postgres-x://app:" + password + "@db/app"}}, {}},
      {{{"db-url", "app:" + password + "@db/app"}}, {}},
      {{}, {{"INSTALLER_CONFIG", config_with_url.string()}}},
      {{}, {{"INSTALLER_DB_URL", "postgresql://app:" + password + "@[::1/app"}}},
  };
  for (const auto& [cli, env] : cases) {
    std::string message = error_of(cli, env);
    INFO(message);
    CHECK_FALSE(contains(message, password));
    CHECK(message.size() > 10);
  }
}

TEST_CASE("settings: secrets are registered for redaction") {
  SecretsReset reset;
  TempDir tmp;
  auto file = tmp.write("password", "file-secret-1\n");
  auto config = tmp.write("installer.conf", "db-password = 'config-secret-2'\n");
  resolve_settings({{"db-password", "flag-secret-3"}}, {{"INSTALLER_CONFIG", config.string()}});
  resolve_settings({}, {{"INSTALLER_DB_PASSWORD_FILE", file.string()}});
  resolve_settings({}, {{"INSTALLER_DB_URL", "postgresql://app:url-secret-4@db/app"}});
  CHECK(redact("file-secret-1 config-secret-2 flag-secret-3") == "*** *** ***");
  CHECK(redact("postgresql://app:url-secret-4@db/app") == "***");
  CHECK(redact("password url-secret-4") == "password ***");
  CHECK(redact("nothing secret here") == "nothing secret here");
}

TEST_CASE("settings: update directories are ':'-separated") {
  SecretsReset reset;
  CHECK(resolve_settings({{"updates", "a:b::c:"}}, {}).update_dirs == std::vector<std::string>{"a", "b", "c"});
  CHECK(resolve_settings({}, {{"INSTALLER_UPDATES", "/opt/u:/var/u"}}).update_dirs ==
        std::vector<std::string>{"/opt/u", "/var/u"});
  CHECK(resolve_settings({{"updates", "/cli"}}, {{"INSTALLER_UPDATES", "/opt/u:/var/u"}}).update_dirs ==
        std::vector<std::string>{"/cli"});
  CHECK(resolve_settings({{"updates", ":"}}, {}).update_dirs.empty());
}

TEST_CASE("settings: database parts override the URL's") {
  SecretsReset reset;
  CliValues cli = {{"db-url", "postgresql://app:pw-from-url@db.example:5433/appdb?sslmode=require&application_name=x"}};
  Settings url_only = resolve_settings(cli, {});
  CHECK(url_only.has_connection);
  CHECK(url_only.connection.host == "db.example");
  CHECK(url_only.connection.port == 5433);
  CHECK(url_only.connection.user == "app");
  CHECK(url_only.connection.password == "pw-from-url");
  CHECK(url_only.connection.database == "appdb");
  CHECK(url_only.connection.tls == TlsMode::require);
  CHECK(url_only.connection.options.at("application_name") == "x");

  cli["db-host"] = "other.example";
  cli["db-port"] = "6000";
  cli["db-user"] = "admin";
  cli["db-password"] = "pw-from-flag";
  cli["db-name"] = "otherdb";
  cli["db-tls"] = "verify-full";
  cli["db-tls-ca"] = "/etc/ssl/ca.pem";
  Settings parts = resolve_settings(cli, {});
  CHECK(parts.connection.host == "other.example");
  CHECK(parts.connection.port == 6000);
  CHECK(parts.connection.user == "admin");
  CHECK(parts.connection.password == "pw-from-flag");
  CHECK(parts.connection.database == "otherdb");
  CHECK(parts.connection.tls == TlsMode::verify_full);
  CHECK(parts.connection.tls_ca_file == "/etc/ssl/ca.pem");
  CHECK(parts.connection.engine == Engine::postgres);
  CHECK(parts.connection.options.at("application_name") == "x");
}

TEST_CASE("settings: a database given by parts only") {
  SecretsReset reset;
  Settings host_only = resolve_settings({}, {{"INSTALLER_DB_HOST", "db"}});
  CHECK(host_only.has_connection);
  CHECK(host_only.connection.host == "db");
  CHECK(resolve_settings({}, {{"INSTALLER_DB_NAME", "shop"}}).has_connection);
  CHECK_FALSE(resolve_settings({}, {{"INSTALLER_DB_USER", "app"}}).has_connection);

  Settings maria = resolve_settings({{"db-engine", "mariadb"}, {"db-host", "m"}}, {});
  CHECK(maria.connection.engine == Engine::mariadb);
  CHECK(maria.connection.effective_port() == 3306);
  CHECK(resolve_settings({{"db-engine", "mysql"}}, {}).connection.engine == Engine::mysql);
  CHECK(resolve_settings({{"db-engine", "postgresql"}}, {}).connection.engine == Engine::postgres);
  // db-engine overrides the URL's scheme.
  CHECK(resolve_settings({{"db-url", "postgresql://db/x"}, {"db-engine", "mariadb"}}, {}).connection.engine ==
        Engine::mariadb);
}

TEST_CASE("settings: process_environment keeps only INSTALLER_ variables") {
  SecretsReset reset;
  ::setenv("INSTALLER_UNIT_TEST_PROBE", "a=b", 1);
  ::setenv("NOT_INSTALLER_UNIT_TEST_PROBE", "x", 1);
  Environment env = process_environment();
  ::unsetenv("INSTALLER_UNIT_TEST_PROBE");
  ::unsetenv("NOT_INSTALLER_UNIT_TEST_PROBE");
  CHECK(env.at("INSTALLER_UNIT_TEST_PROBE") == "a=b");
  CHECK(env.count("NOT_INSTALLER_UNIT_TEST_PROBE") == 0);
  CHECK(env.count("PATH") == 0);
}

TEST_CASE("settings: every key has a variable named after it") {
  for (const auto& k : setting_keys()) {
    std::string expected = "INSTALLER_";
    for (const char* c = k.name; *c; ++c) expected += *c == '-' ? '_' : static_cast<char>(std::toupper(*c));
    CHECK(std::string(k.env) == expected);
  }
}

TEST_CASE("settings: a malformed config line is not echoed, since it may hold a password") {
  SecretsReset reset;
  installer::unit_fixture::TempDir dir;
  auto path = dir.write("installer.conf", "db-url: postgresql://app:Hunter2-s3cr3t@db/app?sslmode=require\n");
  std::string message = error_of({}, {{"INSTALLER_CONFIG", path.string()}});
  CHECK(contains(message, path.string() + ":1:"));
  CHECK_FALSE(contains(message, "Hunter2"));
  CHECK_FALSE(contains(redact(message), "Hunter2"));
}

TEST_CASE("settings: a URL that fails to parse does not leak the password into the error") {
  SecretsReset reset;
  for (const char* url : {"postgresql://app:hunter2/x@db:port/app", "postgresql://app:Hunt?er2@db:54x/app"}) {
    CAPTURE(url);
    std::string message = error_of({}, {{"INSTALLER_DB_URL", url}});
    CHECK_FALSE(contains(message, "hunter2"));
    CHECK_FALSE(contains(message, "Hunt"));
  }
}
