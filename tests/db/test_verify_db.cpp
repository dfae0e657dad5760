// installer verify as a vendor's CI runs it: on scratch databases of the server under
// test, with the updates of the example product and ones built here to fail each check.
#include "db_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <cstdlib>

#include <fstream>
#include <sstream>

using namespace installer;
using namespace installer::testing;
using nlohmann::json;

namespace {

/// Whether the installer verify that named a scratch database still runs: the name
/// carries its pid, and ctest runs other suites' verify on the same server meanwhile.
bool made_by_running_process(const std::string& name) {
  const std::string prefix = "installer_verify_";
  if (name.rfind(prefix, 0) != 0) return false;
  const auto pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
  return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) == 0;
}

/// The databases installer verify made on the server and has not dropped (yet).
std::vector<std::string> all_scratch_databases() {
  auto admin = open_database(admin_session_url_for_tests());
  std::vector<std::string> names;
  const char* sql = on_postgres() ? "SELECT datname FROM pg_database WHERE datname LIKE 'installer\\_verify%'"
                                  : "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE "
                                    "'installer\\_verify%'";
  for (const auto& row : admin->query(sql)) names.push_back(row[0].value_or(""));
  return names;
}

/// The databases an installer verify that has ended made on the server and did not drop.
std::vector<std::string> scratch_databases() {
  std::vector<std::string> left;
  for (auto& name : all_scratch_databases())
    if (!made_by_running_process(name)) left.push_back(std::move(name));
  return left;
}

bool has_scratch_database_of(int pid) {
  const std::string prefix = fmt::format("installer_verify_{}_", pid);
  for (const auto& name : all_scratch_databases())
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

RunResult verify(const std::vector<std::string>& dirs, std::vector<std::string> extra = {},
                 std::map<std::string, std::string> env = {}) {
  std::vector<std::string> args{"verify", "--scratch-url", server().admin_url};
  for (const auto& d : dirs) args.insert(args.end(), {"--updates", d});
  args.insert(args.end(), extra.begin(), extra.end());
  return run_installer(args, env);
}

/// One update that creates a table, and a second whose down forgets the index its second
/// step adds (the table is older than the update, so dropping nothing else hides it).
void write_forgotten_index(UpdateTree& tree) {
  tree.write("2025.01.0/001_t.up.sql", "CREATE TABLE vt (id INT PRIMARY KEY, note VARCHAR(20));\n");
  tree.write("2025.01.0/001_t.down.sql", "DROP TABLE IF EXISTS vt;\n");
  tree.write("2025.02.0/001_col.up.sql", "ALTER TABLE vt ADD COLUMN extra INT;\n");
  tree.write("2025.02.0/001_col.down.sql", "ALTER TABLE vt DROP COLUMN extra;\n");
  tree.write("2025.02.0/002_idx.up.sql", "CREATE INDEX vt_note_idx ON vt (note);\n");
  tree.write("2025.02.0/002_idx.down.sql", "SELECT 1;\n");
}

}  // namespace

TEST_CASE("verify passes on the example product and the demo's next release, and leaves no database behind") {
  RunResult r = verify({source_dir() + "/migrations", source_dir() + "/demo/updates-next"}, {"--json"});
  INFO(r.all());
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["ok"] == true);
  CHECK(j["summary"]["failed"] == 0);
  int round_trips = 0, partials = 0;
  for (const auto& c : j["checks"]) {
    CHECK(c["passed"] == true);
    round_trips += c["check"] == "round-trip";
    partials += c["check"] == "partial-failure";
  }
  CHECK(round_trips == 4);
  // MariaDB: every statement of every step; PostgreSQL: 2024.03.0 commits its steps apart.
  CHECK(partials >= (on_postgres() ? 3 : 10));
  CHECK(scratch_databases().empty());
}

TEST_CASE("a down script that misses one index: exit 1, naming the update, the step and the index") {
  UpdateTree tree;
  write_forgotten_index(tree);
  std::string junit = (tree.root() / "verify.xml").string();
  RunResult r = verify({tree.root().string()}, {"--junit", junit});
  INFO(r.all());
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("FAILED " + engine_word() + " round-trip: 2025.02.0 round trip") != std::string::npos);
  CHECK(r.out.find("vt_note_idx: present, was absent") != std::string::npos);
  CHECK(r.out.find("[step 002_idx: its up script names it]") != std::string::npos);
  CHECK(r.out.find("2025.01.0") == std::string::npos);  // the first update is fine
  std::string xml = read_file(junit);
  CHECK(xml.find("<testcase classname=\"" + engine_word() + ".round-trip\" name=\"2025.02.0 round trip\"") !=
        std::string::npos);
  CHECK(xml.find("<failure message=\"after its revert the schema differs") != std::string::npos);
  CHECK(scratch_databases().empty());
}

TEST_CASE("the static checks name file and line; allow silences one with its reason; --strict fails on the rest") {
  UpdateTree tree;
  write_forgotten_index(tree);
  tree.write("2025.02.0/002_idx.down.sql", "DROP INDEX IF EXISTS vt_note_idx" + by_engine("", " ON vt") + ";\n");
  tree.write("2025.03.0/001_drop.up.sql", "ALTER TABLE vt DROP COLUMN extra;\n");
  tree.write("2025.03.0/001_drop.down.sql", "ALTER TABLE vt ADD COLUMN extra INT;\n");
  RunResult warned = verify({tree.root().string()});
  INFO(warned.all());
  CHECK(warned.exit_code == 0);
  std::string drop_file = (tree.root() / "2025.03.0/001_drop.up.sql").string();
  CHECK(warned.out.find(drop_file + ":1: warning[destructive-up]: drops column vt.extra") != std::string::npos);
  RunResult strict = verify({tree.root().string()}, {"--strict"});
  CHECK(strict.exit_code == 1);
  CHECK(strict.out.find("(--strict: they fail the run)") != std::string::npos);

  tree.write("2025.03.0/update.toml", "[steps.001_drop]\nallow = [\"destructive-up: the notes moved to vt_notes\"]\n");
  if (on_postgres())
    tree.write("2025.02.0/update.toml", "[steps.002_idx]\nallow = [\"index-without-concurrently: vt is small\"]\n");
  else tree.write("2025.02.0/update.toml", "[steps.001_col]\nallow = [\"drop-without-if-exists: one statement\"]\n");
  RunResult allowed = verify({tree.root().string()}, {"--strict"});
  INFO(allowed.all());
  CHECK(allowed.exit_code == 0);
  CHECK(allowed.out.find("allowed[destructive-up]: drops column vt.extra") != std::string::npos);
  CHECK(allowed.out.find("(allowed: the notes moved to vt_notes)") != std::string::npos);

  // The same warnings in installer plan, for the updates it would apply.
  ScratchDatabase db;
  RunResult plan = run_installer({"plan"},
                                 {{"INSTALLER_DB_URL", db.url()}, {"INSTALLER_UPDATES", tree.root().string()}});
  CHECK(plan.exit_code == 0);
  CHECK(plan.out.find("warnings (docs/verify.md") != std::string::npos);
  CHECK(plan.out.find(drop_file + ":1: allowed[destructive-up]") != std::string::npos);

  tree.write("2025.03.0/update.toml", "[steps.001_drop]\nallow = [\"destructive-up\"]\n");
  RunResult no_reason = verify({tree.root().string()});
  CHECK(no_reason.exit_code == 65);
  CHECK(no_reason.err.find("update.toml:2: each 'allow' entry is \"CODE: reason\"") != std::string::npos);
  CHECK(scratch_databases().empty());
}

TEST_CASE("a step of three statements whose down assumes all three ran: exact undo passes; the down alone fails at "
          "statement 2" *
          doctest::test_suite(kMariadbOnly)) {
  UpdateTree tree;
  tree.write("2025.01.0/001_three.up.sql",
             "CREATE TABLE va (id INT PRIMARY KEY);\nCREATE TABLE vb (id INT PRIMARY KEY);\n"
             "ALTER TABLE va ADD COLUMN c INT;\n");
  tree.write("2025.01.0/001_three.down.sql", "ALTER TABLE va DROP COLUMN c;\nDROP TABLE vb;\nDROP TABLE va;\n");
  RunResult exact = verify({tree.root().string()}, {"--json"});
  INFO(exact.all());
  CHECK(exact.exit_code == 0);
  json j = json::parse(exact.out);
  std::vector<std::string> partial;
  for (const auto& c : j["checks"])
    if (c["check"] == "partial-failure") partial.push_back(c["name"]);
  CHECK(partial == std::vector<std::string>{"2025.01.0 step 001_three fails at statement 1 of 3",
                                            "2025.01.0 step 001_three fails at statement 2 of 3",
                                            "2025.01.0 step 001_three fails at statement 3 of 3"});
  // The warnings say why the down alone would not do.
  CHECK(j["warnings"].size() == 3);
  CHECK(j["warnings"][1]["code"] == "drop-without-if-exists");
  CHECK(j["warnings"][1]["line"] == 2);

  // Without the exact undo (the installer before it, or a statement it cannot invert),
  // the down script meets the half-applied step.
  RunResult down = verify({tree.root().string()}, {}, {{"INSTALLER_TEST_PARTIAL_REVERT", "strict-down"}});
  CHECK(down.exit_code == 1);
  CHECK(down.out.find("FAILED mariadb partial-failure: 2025.01.0 step 001_three fails at statement 2 of 3") !=
        std::string::npos);
  CHECK(down.out.find("ALTER TABLE va DROP COLUMN c\n    the database said: [1091/42000]") != std::string::npos);
  CHECK(down.out.find("fails at statement 1 of 3") == std::string::npos);
  CHECK(scratch_databases().empty());
}

TEST_CASE("--from: an update edited after its release applies to an empty database, not on top of the old one") {
  UpdateTree old_release, new_release;
  for (UpdateTree* tree : {&old_release, &new_release}) {
    tree->write("2025.01.0/001_t.down.sql", "DROP TABLE IF EXISTS vt;\n");
    tree->write("2025.01.0/001_t.up.sql", "CREATE TABLE vt (id INT PRIMARY KEY);\n");
  }
  new_release.write("2025.01.0/001_t.up.sql", "CREATE TABLE vt (id INT PRIMARY KEY, name VARCHAR(20));\n");
  new_release.write("2025.02.0/001_i.up.sql", "CREATE INDEX vt_name_idx ON vt (name);\n");
  new_release.write("2025.02.0/001_i.down.sql", "DROP INDEX IF EXISTS vt_name_idx" + by_engine("", " ON vt") + ";\n");
  RunResult alone = verify({new_release.root().string()});
  CHECK(alone.exit_code == 0);
  RunResult upgrade = verify({new_release.root().string()}, {"--from", old_release.root().string()});
  INFO(upgrade.all());
  CHECK(upgrade.exit_code == 1);
  CHECK(upgrade.out.find("upgrade-path: upgrade from 2025.01.0 to 2025.02.0") != std::string::npos);
  CHECK(upgrade.out.find("this release's updates did not apply on top of the previous release") != std::string::npos);
  CHECK(upgrade.out.find("001_t.up.sql: changed since update 2025.01.0 was applied") != std::string::npos);

  // Shipped unchanged, the upgrade and the downgrade both hold.
  old_release.write("2025.01.0/001_t.up.sql", "CREATE TABLE vt (id INT PRIMARY KEY, name VARCHAR(20));\n");
  RunResult fixed = verify({new_release.root().string()}, {"--from", old_release.root().string(), "--json"});
  INFO(fixed.all());
  CHECK(fixed.exit_code == 0);
  std::vector<std::string> paths;
  json checks = json::parse(fixed.out)["checks"];
  for (const auto& c : checks)
    if (c["check"] == "upgrade-path") paths.push_back(c["name"]);
  CHECK(paths ==
        std::vector<std::string>{"upgrade from 2025.01.0 to 2025.02.0", "downgrade from 2025.02.0 to 2025.01.0"});
  CHECK(scratch_databases().empty());
}

TEST_CASE("SIGTERM in the middle of a check: exit 143 at once, every scratch database dropped") {
  UpdateTree tree;
  tree.write("2025.01.0/001_s.up.sql",
             "CREATE TABLE vs (id INT PRIMARY KEY);\n" + by_engine("SELECT pg_sleep(30);\n", "DO SLEEP(30);\n"));
  tree.write("2025.01.0/001_s.down.sql", "DROP TABLE IF EXISTS vs;\n");
  Background run({"verify", "--scratch-url", server().admin_url, "--updates", tree.root().string()}, {});
  // The sleep runs once a scratch database holds the table.
  REQUIRE(wait_until([&run] { return has_scratch_database_of(run.pid()); }, std::chrono::seconds(20)));
  kill(run.pid(), SIGTERM);
  RunResult r = run.wait(std::chrono::seconds(20));
  INFO(r.all());
  CHECK(r.exit_code == 143);
  CHECK(r.out.find("verify: stopped by signal 15") != std::string::npos);
  CHECK(r.out.find("FAILED") == std::string::npos);  // a check cut short is not reported as failed
  CHECK(scratch_databases().empty());
}

TEST_CASE("verify refuses a scratch URL that names an existing database not its own, and changes nothing in it") {
  ScratchDatabase db;
  db.execute("CREATE TABLE precious (id INT)");
  auto before = db.objects();
  RunResult r = run_installer({"verify", "--scratch-url", db.url(), "--updates", source_dir() + "/migrations"});
  CHECK(r.exit_code == 78);
  CHECK(r.err.find("names database '" + db.name() + "', which exists and is not one of installer verify's") !=
        std::string::npos);
  CHECK(db.objects() == before);
  CHECK_FALSE(db.journal_exists());
  CHECK(scratch_databases().empty());
}
