// The install phase against real servers: install hooks run once per database, a
// failing hook stops the run and shows its output, the database is created when
// missing, and a template's secret never reaches the output.
#include "db_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>
#include <sstream>

using namespace installer;
using namespace installer::testing;

namespace {

std::map<std::string, std::string> env_with(const ScratchDatabase& db, const UpdateTree& tree) {
  return {{"INSTALLER_DB_URL", db.url()},
          {"INSTALLER_UPDATES", (tree.root() / "updates").string()},
          {"INSTALLER_INSTALL_HOOKS", (tree.root() / "install.d").string()}};
}

long lines_in(const boost::filesystem::path& p) {
  std::ifstream in(p.string());
  long n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

void write_update(UpdateTree& tree) {
  tree.write("updates/1/001_a.up.sql", "CREATE TABLE a (id int);\n");
  tree.write("updates/1/001_a.down.sql", "DROP TABLE IF EXISTS a;\n");
}

}  // namespace

TEST_CASE("install hooks run once per database, in name order, across restarts") {
  ScratchDatabase db;
  UpdateTree tree;
  write_update(tree);
  std::string marker = (tree.root() / "ran.log").string();
  tree.write("install.d/01-seed.sql", "CREATE TABLE seed (id int);\nINSERT INTO seed VALUES (1);\n");
  tree.write("install.d/02-program.sh",
             fmt::format("#!/bin/sh\necho \"program $0\" >> {}\necho hello from the hook\n", marker));
  tree.write("install.d/README", "not a hook\n");
  auto env = env_with(db, tree);
  for (int start = 1; start <= 3; ++start) {
    CAPTURE(start);
    RunResult r = run_installer({"migrate"}, env);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  CHECK(lines_in(marker) == 1);
  CHECK(db.count("SELECT count(*) FROM seed") == 1);
  auto hooks = db.query("SELECT name, state, kind FROM " + journal("installs") + " ORDER BY install_id");
  REQUIRE(hooks.size() == 2);
  CHECK(*hooks[0][0] == "01-seed.sql");
  CHECK(*hooks[0][2] == "sql");
  CHECK(*hooks[1][0] == "02-program.sh");
  CHECK(*hooks[1][1] == "done");
  RunResult status = run_installer({"status", "--json"}, env);
  CHECK(status.out.find("\"02-program.sh\"") != std::string::npos);
}

TEST_CASE("a failing install hook stops the run, shows its output, and runs again at the next start") {
  ScratchDatabase db;
  UpdateTree tree;
  write_update(tree);
  tree.write("install.d/01-check.sh", "#!/bin/sh\necho 'license file missing: /etc/product/license' >&2\nexit 3\n");
  auto env = env_with(db, tree);
  RunResult failed = run_installer({"migrate"}, env);
  CHECK(failed.exit_code == 72);
  CHECK(failed.err.find("license file missing: /etc/product/license") != std::string::npos);
  CHECK(failed.err.find("exited with code 3") != std::string::npos);
  CHECK_FALSE(db.table_exists("a"));  // updates come after the install phase
  CHECK(db.count("SELECT count(*) FROM " + journal("installs") + " WHERE state = 'failed'") == 1);
  RunResult status = run_installer({"status"}, env);
  CHECK(status.out.find("install hook 01-check.sh failed") != std::string::npos);

  tree.write("install.d/01-check.sh", "#!/bin/sh\necho license ok\n");
  RunResult fixed = run_installer({"migrate"}, env);
  INFO(fixed.err);
  CHECK(fixed.exit_code == 0);
  CHECK(db.table_exists("a"));
  CHECK(db.count("SELECT count(*) FROM " + journal("installs") + " WHERE state = 'done'") == 1);
}

TEST_CASE("a failing SQL install hook leaves nothing behind on PostgreSQL and is reported with its line" *
          doctest::test_suite("postgres-only")) {
  ScratchDatabase db;
  UpdateTree tree;
  write_update(tree);
  tree.write("install.d/01-seed.sql", "CREATE TABLE seed (id int);\nINSERT INTO nowhere VALUES (1);\n");
  RunResult r = run_installer({"migrate"}, env_with(db, tree));
  CHECK(r.exit_code == 72);
  CHECK(r.err.find("01-seed.sql:2") != std::string::npos);
  CHECK_FALSE(db.table_exists("seed"));  // the hook's transaction was rolled back
}

namespace {

/// The server's administrator session, in a database that is always there.
std::unique_ptr<Database> admin_session() {
  const std::string& url = server().admin_url;
  return open_database(url.find("mariadb") == 0 ? url + "mysql" : url);
}

/// A database that does not exist yet, beside a scratch one (whose connection parameters
/// it borrows), and the environment of a run that may create it through the
/// administrator's URL.
struct MissingDatabase {
  ScratchDatabase beside;
  ConnectionSpec spec = parse_connection_url(beside.url());
  std::string name;
  std::string url;
  explicit MissingDatabase(const std::string& suffix)
      : name(beside.name() + suffix),
        url(fmt::format("{}://{}:{}@{}:{}/{}", url_scheme(), spec.user, spec.password, spec.host, spec.effective_port(),
                        name)) {}
  std::map<std::string, std::string> env(const UpdateTree& tree) const {
    return {{"INSTALLER_DB_URL", url},
            {"INSTALLER_DB_ADMIN_URL", server().admin_url},
            {"INSTALLER_UPDATES", (tree.root() / "updates").string()}};
  }
};

}  // namespace

TEST_CASE("the database is created when it is missing and an administrator's URL is given") {
  MissingDatabase missing("_new");
  UpdateTree tree;
  write_update(tree);
  RunResult r = run_installer({"migrate"}, missing.env(tree));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("created database " + missing.name) != std::string::npos);
  CHECK(r.all().find(missing.spec.password) == std::string::npos);
  auto created = open_database(missing.url);
  CHECK(created->table_exists(on_postgres() ? "public" : "", "a"));
  admin_session()->execute(on_postgres() ? "DROP DATABASE " + missing.name + " WITH (FORCE)"
                                         : "DROP DATABASE " + missing.name);
}

// Creating the database is a change: the connection opened while the updates are read
// (cli/early_connection.hpp) is not opened when there is one to create.
TEST_CASE("refused updates leave a missing database uncreated, also with an administrator's URL") {
  MissingDatabase missing("_never");
  UpdateTree tree;
  write_update(tree);
  tree.write("updates/2.0/001_orphan.up.sql", "CREATE TABLE orphan (id int);\n");  // no down script
  RunResult r = run_installer({"migrate"}, missing.env(tree));
  INFO(r.err);
  CHECK(r.exit_code == 65);
  CHECK(r.err.find("001_orphan.up.sql") != std::string::npos);
  CHECK(r.err.find("created database") == std::string::npos);
  auto rows = admin_session()->query(on_postgres() ? "SELECT 1 FROM pg_database WHERE datname = '" + missing.name + "'"
                                                   : "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '" +
                                                         missing.name + "'");
  CHECK(rows.empty());
}

TEST_CASE("a template's secret from a _FILE never reaches the output, also at debug level") {
  ScratchDatabase db;
  UpdateTree tree;
  write_update(tree);
  tree.write("templates/app.properties.tmpl", "password=${APP_DB_PASSWORD}\nmissing=${NOT_SET_ANYWHERE}\n");
  tree.write("secret", "Tr0ub4dor-and-3\n");
  std::map<std::string, std::string> env{{"INSTALLER_DB_URL", db.url()},
                                         {"INSTALLER_UPDATES", (tree.root() / "updates").string()},
                                         {"INSTALLER_TEMPLATES", (tree.root() / "templates").string()},
                                         {"INSTALLER_CONFIG_DIR", (tree.root() / "conf").string()},
                                         {"APP_DB_PASSWORD_FILE", (tree.root() / "secret").string()},
                                         {"INSTALLER_LOG_LEVEL", "debug"}};
  RunResult missing = run_installer({"migrate"}, env);
  CHECK(missing.exit_code == 78);
  CHECK(missing.err.find("app.properties.tmpl:2: ${NOT_SET_ANYWHERE} is not set") != std::string::npos);
  CHECK(missing.all().find("Tr0ub4dor") == std::string::npos);
  CHECK_FALSE(boost::filesystem::exists(tree.root() / "conf/app.properties"));

  tree.write("templates/app.properties.tmpl", "password=${APP_DB_PASSWORD}\n");
  RunResult ok = run_installer({"migrate"}, env);
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.all().find("Tr0ub4dor") == std::string::npos);
  std::ifstream in((tree.root() / "conf/app.properties").string());
  std::stringstream b;
  b << in.rdbuf();
  CHECK(b.str() == "password=Tr0ub4dor-and-3\n");
}
