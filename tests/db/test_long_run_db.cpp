// Long runs (a first install of a long history): every update is snapshotted before and
// after, so a down script that leaves something behind is named at its own update, and
// removing a run verifies each removal. --fingerprint-limit is a cost cap, off by
// default; with it set, what could not be compared is never reported as verified.
#include "db_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace installer;
using namespace installer::testing;

namespace {

/// Updates 1..count, each creating table tN; update `leaky` also creates what `extra`
/// holds, which its down script forgets.
void write_updates(UpdateTree& tree, int count, int leaky = 0, const std::string& extra = "") {
  for (int n = 1; n <= count; ++n) {
    std::string up = fmt::format("CREATE TABLE t{} (id int PRIMARY KEY);\n", n);
    if (n == leaky) up += extra;
    tree.write(fmt::format("{}/001_t.up.sql", n), up);
    tree.write(fmt::format("{}/001_t.down.sql", n), fmt::format("DROP TABLE t{};\n", n));
  }
}

std::map<std::string, std::string> env_for(const ScratchDatabase& db, const UpdateTree& tree,
                                           const std::string& limit) {
  auto env = installer::testing::env_for(db, tree);
  env["INSTALLER_FINGERPRINT_LIMIT"] = limit;
  return env;
}

/// Two objects the leaky update leaves behind: extensions on PostgreSQL, procedures on
/// MariaDB (which has no extensions).
std::string two_leftovers() {
  return by_engine("CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE EXTENSION IF NOT EXISTS hstore;\n",
                   "CREATE PROCEDURE leftover_a() SELECT 1;\nCREATE PROCEDURE leftover_b() SELECT 2;\n");
}
std::vector<std::string> leftover_lines() {
  if (on_postgres()) return {"extension hstore: present, was absent", "extension pg_trgm: present, was absent"};
  return {"procedure leftover_a: present, was absent", "procedure leftover_b: present, was absent"};
}

}  // namespace

TEST_CASE("a down that leaves two objects behind in the middle of a 50-update first run is caught at its update") {
  ScratchDatabase db;
  UpdateTree tree;
  write_updates(tree, 50, /*leaky=*/25, two_leftovers());
  RunResult applied = run_installer({"migrate"}, env_for(db, tree));
  INFO(applied.err);
  REQUIRE(applied.exit_code == 0);
  for (int n = 1; n <= 50; ++n) {
    CAPTURE(n);
    long long attempt = db.latest_attempt(std::to_string(n));
    CHECK(db.attempt_field(attempt, "fingerprint_before").rfind("snapshot:", 0) == 0);
    CHECK(db.attempt_field(attempt, "fingerprint_after").rfind("snapshot:", 0) == 0);
  }

  // An image with updates 1..24 only, told to remove what it does not know: 50 down to
  // 26 go, each compared with its own snapshot; 25 is named with both of its leftovers.
  UpdateTree older;
  write_updates(older, 24);
  auto env = env_for(db, older);
  env["INSTALLER_AUTO_REMOVE_UNKNOWN"] = "true";
  RunResult removed = run_installer({"migrate"}, env);
  INFO(removed.err);
  CHECK(removed.exit_code == 79);
  for (const auto& line : leftover_lines()) CHECK(removed.err.find(line) != std::string::npos);
  CHECK(removed.err.find("update 25") != std::string::npos);
  CHECK(db.journal_attempts("removed") == 25);
  CHECK(db.journal_attempts("revert_failed", "25") == 1);
  CHECK(db.journal_attempts("applied") == 24);
  for (int n = 26; n <= 50; ++n) CHECK_FALSE(db.table_exists(fmt::format("t{}", n)));
}

TEST_CASE("removing updates one by one verifies each against its own snapshot") {
  ScratchDatabase db;
  UpdateTree tree;
  write_updates(tree, 20, /*leaky=*/10, "CREATE TABLE t10extra (id int);\n");
  auto env = env_for(db, tree);
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  for (int n = 20; n > 10; --n) {
    RunResult removed = run_installer({"--remove-update", std::to_string(n)}, env);
    INFO(removed.all());
    CHECK(removed.exit_code == 0);
    CHECK(removed.out.find("schema verified equal to its snapshot ") != std::string::npos);
  }
  RunResult leaky = run_installer({"--remove-update", "10"}, env);
  INFO(leaky.all());
  CHECK(leaky.exit_code == 79);
  CHECK(leaky.err.find(by_engine("table public.t10extra: present, was absent",
                                 "table t10extra: present, was absent")) != std::string::npos);
  CHECK(db.journal_attempts("revert_failed", "10") == 1);
}

TEST_CASE("removing a long run reads the schema in full once, whatever was recorded before each update") {
  // With --fingerprint-limit 1 the updates in the middle have no snapshot before them:
  // their removals compare nothing, but each still leaves the schema known, so the next
  // removal re-reads only the tables its downs name (once, each removal read it all).
  ScratchDatabase db;
  UpdateTree tree;
  write_updates(tree, 12);
  REQUIRE(run_installer({"migrate"}, env_for(db, tree, "1")).exit_code == 0);
  UpdateTree empty;
  auto env = env_for(db, empty);
  env["INSTALLER_AUTO_REMOVE_UNKNOWN"] = "true";
  env["INSTALLER_LOG_LEVEL"] = "debug";
  RunResult removed = run_installer({"migrate"}, env);
  INFO(removed.all());
  REQUIRE(removed.exit_code == 0);
  CHECK(db.journal_attempts("removed") == 12);
  CHECK(removed.all().find("snapshots after the removals of this run: 11 read incrementally, 1 in full") !=
        std::string::npos);
}

TEST_CASE("with --fingerprint-limit, a failure that could not be compared is not reported as verified") {
  ScratchDatabase db;
  UpdateTree tree;
  write_updates(tree, 5);
  tree.write("3/001_t.up.sql", "CREATE TABLE t3 (id int PRIMARY KEY);\nSELECT * FROM no_such_table;\n");
  RunResult failed = run_installer({"migrate"}, env_for(db, tree, "2"));
  INFO(failed.err);
  CHECK(failed.err.find("5 updates to apply, more than --fingerprint-limit 2") != std::string::npos);
  CHECK(failed.exit_code == 79);
  CHECK(failed.err.find("the schema was NOT compared") != std::string::npos);
  CHECK(failed.err.find("nothing needs repair") == std::string::npos);
  CHECK_FALSE(db.table_exists("t3"));

  // Removing an update that has no snapshot before it says it was not compared.
  UpdateTree good;
  write_updates(good, 5);
  auto env = env_for(db, good, "2");
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  CHECK(db.attempt_field(db.latest_attempt("4"), "fingerprint_before").empty());
  REQUIRE(run_installer({"--remove-update", "5"}, env).exit_code == 0);
  RunResult middle = run_installer({"--remove-update", "4"}, env);
  INFO(middle.all());
  CHECK(middle.exit_code == 0);
  CHECK(middle.out.find("the schema was not compared: no snapshot was recorded before it") != std::string::npos);
}
