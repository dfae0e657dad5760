// A password with every character that escaping, quoting or URL encoding treats specially,
// fed through every channel the installer writes to: logs in both formats, every report
// in both formats, --remove-update --dry-run, an install hook's journaled output and the
// journal's text columns. None may show it, raw or in any escaped form.
#include "adversarial.hpp"
#include "http_probe.hpp"

#include <fmt/format.h>

#include <boost/filesystem.hpp>

#include <fstream>
#include <iterator>
#include <random>

#include <signal.h>

using namespace installer;
using namespace installer::adversarial;

namespace {

const std::string kPassword = "p@ss:w/o?r#d%25&'\"\\ $!`;*()[]{}<>|^~=+,\t\xc3\xa9\xe2\x82\xac-end";

std::string percent_encoded(const std::string& s) {
  std::string out;
  for (unsigned char c : s)
    out += std::isalnum(c) || c == '-' || c == '_' || c == '.' ? std::string(1, static_cast<char>(c))
                                                               : fmt::format("%{:02X}", c);
  return out;
}
/// The engine's usual literal: quotes doubled on PostgreSQL, backslash escapes on MariaDB.
std::string sql_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (testing::on_postgres()) out += c == '\'' ? std::string("''") : std::string(1, c);
    else out += (c == '\'' || c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  }
  return out + "'";
}
std::string shell_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// A user of the scratch database whose password is kPassword, dropped at the end.
class SecretUser {
 public:
  /// With `creates_databases`, the user may also create and drop databases (installer
  /// verify's scratch server).
  explicit SecretUser(const ScratchDatabase& db, bool creates_databases = false)
      : name_("adv_secret_" + db.name().substr(3)) {
    auto admin = testing::open_database(testing::admin_session_url_for_tests());
    if (testing::on_postgres()) {
      admin->execute(fmt::format("CREATE ROLE {} LOGIN {} PASSWORD {}", name_, creates_databases ? "CREATEDB" : "",
                                 sql_literal(kPassword)));
      admin->execute(fmt::format("ALTER DATABASE {} OWNER TO {}", db.name(), name_));
      db.execute(fmt::format("ALTER SCHEMA public OWNER TO {}", name_));
    } else {
      admin->execute(fmt::format("CREATE USER '{}'@'%' IDENTIFIED BY {}", name_, sql_literal(kPassword)));
      admin->execute(fmt::format("GRANT ALL ON `{}`.* TO '{}'@'%'", db.name(), name_));
      if (creates_databases) admin->execute(fmt::format("GRANT ALL ON `installer\\_verify%`.* TO '{}'@'%'", name_));
    }
    auto admin_url = parse_connection_url(db.url());
    url_ = fmt::format("{}://{}:{}@{}:{}/{}", testing::url_scheme(), name_, percent_encoded(kPassword), admin_url.host,
                       admin_url.effective_port(), db.name());
    server_url_ = fmt::format("{}://{}:{}@{}:{}/", testing::url_scheme(), name_, percent_encoded(kPassword),
                              admin_url.host, admin_url.effective_port());
  }
  ~SecretUser() {
    try {
      auto admin = testing::open_database(testing::admin_session_url_for_tests());
      admin->execute(testing::on_postgres() ? "DROP ROLE IF EXISTS " + name_
                                            : "DROP USER IF EXISTS '" + name_ + "'@'%'");
    } catch (...) {
    }
  }
  const std::string& url() const { return url_; }
  /// The server's URL, naming no database.
  const std::string& server_url() const { return server_url_; }

 private:
  std::string name_, url_, server_url_;
};

/// Every form the password may take on its way out.
std::vector<std::string> forms_of_the_password() {
  std::string json, doubled, backslashed;
  for (char c : kPassword) {
    if (c == '"' || c == '\\') json += '\\';
    if (c == '\t') json += "\\t";
    else json += c;
    doubled += c == '\'' ? std::string("''") : std::string(1, c);
    if (c == '\'' || c == '"' || c == '\\') backslashed += '\\';
    backslashed += c;
  }
  // A start of it is a leak too: excerpts cut statements short.
  return {kPassword, percent_encoded(kPassword), json, doubled, backslashed, "p@ss:w/o?r#d", "<>|^~=+,"};
}

void check_nothing_shows(const std::string& channel, const std::string& text) {
  INFO("channel: ", channel);
  INFO(text);
  for (const auto& form : forms_of_the_password()) CHECK(text.find(form) == std::string::npos);
}

/// An update whose failing statement's error echoes the password, and whose text holds it
/// escaped.
void write_failure_echoing_password(UpdateTree& tree, const std::string& folder) {
  tree.write(folder + "/001_fail.up.sql",
             testing::on_postgres() ? "SELECT " + sql_literal(kPassword) + "::int;\n"
                                    : "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = " + sql_literal(kPassword) + ";\n");
  tree.write(folder + "/001_fail.down.sql", "SELECT 1;\n");
}

}  // namespace

TEST_CASE("a password with every special character reaches no log, report, dry run, hook output or journal text") {
  ScratchDatabase db;
  SecretUser user(db);
  UpdateTree tree;
  write_base_update(tree, "updates/1.0");
  // A down script that quotes the password, for the dry run's output.
  tree.write("updates/1.5/001_quote.up.sql", "SELECT 1;\n");
  tree.write("updates/1.5/001_quote.down.sql", "SELECT " + sql_literal(kPassword) + ";\n");
  write_failure_echoing_password(tree, "updates/2.0");
  // An install hook that prints it.
  tree.write("hooks/010_print.sh", "#!/bin/sh\nprintf '%s\\n' " + shell_literal(kPassword) + "\n");
  boost::filesystem::permissions(tree.root() / "hooks/010_print.sh", boost::filesystem::perms(0755));

  std::map<std::string, std::string> env{{"INSTALLER_DB_URL", user.url()},
                                         {"INSTALLER_UPDATES", tree.root().string() + "/updates"},
                                         {"INSTALLER_INSTALL_HOOKS", tree.root().string() + "/hooks"}};
  for (const char* format : {"human", "json"}) {
    auto run = testing::run_installer({"migrate", "--log-format", format}, env);
    INFO(run.err);
    CHECK(run.exit_code == 70);
    CHECK(run.err.find("2.0") != std::string::npos);
    check_nothing_shows(std::string("migrate, ") + format + " log", run.all());
  }
  for (std::vector<std::string> report : {std::vector<std::string>{"status"},
                                          {"status", "--json"},
                                          {"plan"},
                                          {"plan", "--json"},
                                          {"history"},
                                          {"history", "--json"}}) {
    auto r = testing::run_installer(report, env);
    CHECK(r.exit_code == 0);
    check_nothing_shows(fmt::format("{}", fmt::join(report, " ")), r.all());
  }
  auto dry = testing::run_installer({"--remove-update", "1.5", "--dry-run"}, env);
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find("SELECT") != std::string::npos);
  check_nothing_shows("--remove-update --dry-run", dry.all());

  // The journal's text, as any SQL client sees it: every column of every journal table but
  // the down scripts, which are stored as written so that a revert runs them unchanged.
  for (const char* table : {"updates", "steps", "journal_format", "installs", "undo"}) {
    std::string all;
    for (const auto& row : db.query("SELECT * FROM " + testing::journal(table)))
      for (const auto& value : row) all += value.value_or("") + "\n";
    if (std::string(table) == "steps")
      for (const auto& row : db.query("SELECT down_script FROM " + testing::journal("steps")))
        for (size_t at; row[0] && !row[0]->empty() && (at = all.find(*row[0])) != std::string::npos;)
          all.erase(at, row[0]->size());
    check_nothing_shows(std::string("journal table ") + table, all);
  }
  CHECK(db.count("SELECT count(*) FROM " + testing::journal("installs")) == 1);

  // /status of a running application, after the failed update left the journal.
  tree.remove("updates/2.0");
  testing::Background run({"run", "--health-listen", "127.0.0.1:0", "--", "sleep", "30"}, env);
  int port = start_running(run);
  Answer status = get(port, "/status");
  CHECK(status.status == 200);
  CHECK(status.body.find("\"application\"") != std::string::npos);
  check_nothing_shows("/status", status.body);
  kill(run.pid(), SIGTERM);
  CHECK(run.wait(std::chrono::seconds(30)).exit_code == 143);
}

TEST_CASE("installer verify on a scratch server whose password has every special character: no report holds it") {
  ScratchDatabase db;
  SecretUser user(db, /*creates_databases=*/true);
  UpdateTree tree;
  write_base_update(tree, "1.0");
  // A down that leaves the table behind, and an up whose error echoes the password.
  tree.write("1.5/001_keep.up.sql", "CREATE TABLE adv_kept (id INT);\n");
  tree.write("1.5/001_keep.down.sql", "SELECT " + sql_literal(kPassword) + ";\n");
  write_failure_echoing_password(tree, "2.0");
  std::string junit = (tree.root() / "verify.xml").string();
  for (std::vector<std::string> args : {std::vector<std::string>{}, {"--json"}, {"--log-format", "json"}}) {
    std::vector<std::string> command{"verify",  "--updates", tree.root().string(), "--scratch-url", user.server_url(),
                                     "--junit", junit};
    command.insert(command.end(), args.begin(), args.end());
    auto r = testing::run_installer(command);
    INFO(r.all());
    CHECK(r.exit_code == 1);
    CHECK(r.all().find("adv_kept") != std::string::npos);
    check_nothing_shows(fmt::format("verify {}", fmt::join(args, " ")), r.all());
    std::string xml = testing::bytes_of(junit);
    CHECK(xml.find("<failure") != std::string::npos);
    check_nothing_shows("verify --junit", xml);
  }
  // Given through the environment instead, the same.
  auto r = testing::run_installer({"verify", "--updates", tree.root().string()},
                                  {{"INSTALLER_VERIFY_SCRATCH_URL", user.server_url()}});
  CHECK(r.exit_code == 1);
  check_nothing_shows("verify, INSTALLER_VERIFY_SCRATCH_URL", r.all());
}
