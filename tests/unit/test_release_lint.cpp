// The release warnings installer plan and installer verify print: what each one catches,
// what it must leave alone (the update's own new objects), and allow = [...].
#include "catalog_fixture.hpp"

#include "installer/catalog/problems.hpp"
#include "installer/catalog/release_lint.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace installer;
using installer::unit_fixture::TempDir;

namespace {

std::vector<std::string> codes_at(const std::vector<ReleaseWarning>& warnings) {
  std::vector<std::string> out;
  for (const auto& w : warnings) out.push_back(w.code + "@" + w.step + ":" + std::to_string(w.line));
  return out;
}

std::vector<ReleaseWarning> lint(const TempDir& dir, Engine engine) {
  return release_warnings(load_catalog({dir.path()}, engine), engine);
}

}  // namespace

TEST_CASE("release warnings: an update's own new table is never a customer's data") {
  TempDir dir;
  dir.step("1", "001_new", "CREATE TABLE t (id INT);\nCREATE INDEX t_i ON t (id);\nALTER TABLE t ADD c INT NOT NULL;\n",
           "DROP TABLE IF EXISTS t;\n");
  CHECK(lint(dir, Engine::postgres).empty());
  CHECK(lint(dir, Engine::mariadb).empty());
}

TEST_CASE("release warnings: every IF EXISTS MariaDB's ALTER TABLE takes counts") {
  TempDir dir;
  dir.step("1", "001_t", "CREATE TABLE t (id INT);\n", "DROP TABLE IF EXISTS t;\n");
  dir.step("2", "001_fk", "ALTER TABLE t ADD COLUMN c INT, ADD INDEX i (c);\n",
           "ALTER TABLE t\n  DROP FOREIGN KEY IF EXISTS fk,\n  DROP INDEX IF EXISTS i,\n  DROP COLUMN IF EXISTS c;\n"
           "DROP INDEX IF EXISTS i ON t;\n");
  CHECK(lint(dir, Engine::mariadb).empty());
}

TEST_CASE("release warnings on a table the update did not create, with file and line") {
  TempDir dir;
  dir.step("1", "001_t", "CREATE TABLE t (id INT, old_note TEXT, n NUMERIC(10,2));\n", "DROP TABLE IF EXISTS t;\n");
  dir.step("2", "001_change",
           "ALTER TABLE t ADD COLUMN flag INT NOT NULL;\n"
           "ALTER TABLE t ADD COLUMN ok INT NOT NULL DEFAULT 0, DROP COLUMN old_note;\n"
           "CREATE INDEX t_flag ON t (flag);\n",
           "DROP INDEX t_flag;\nALTER TABLE t DROP COLUMN ok, DROP COLUMN flag;\nDROP TABLE t;\n");
  auto pg = lint(dir, Engine::postgres);
  CHECK(codes_at(pg) == std::vector<std::string>{"not-null-without-default@001_change:1", "destructive-up@001_change:2",
                                                 "index-without-concurrently@001_change:3",
                                                 "down-drops-data@001_change:3"});
  CHECK(pg[0].file == (dir / "2/001_change.up.sql").string());
  CHECK(pg[0].to_string().find(":1: warning[not-null-without-default]: adds t.flag NOT NULL without a default") !=
        std::string::npos);
  // MariaDB: every step may stop half-way, so every DROP in a down needs IF EXISTS (both
  // of the ALTER's, and the table's; "DROP INDEX t_flag" without ON is not MariaDB's).
  auto maria = lint(dir, Engine::mariadb);
  CHECK(std::count_if(maria.begin(), maria.end(), [](auto& w) { return w.code == "drop-without-if-exists"; }) == 3);
  CHECK(std::none_of(maria.begin(), maria.end(), [](auto& w) { return w.code == "index-without-concurrently"; }));
}

TEST_CASE("release warnings: type changes, a routine called by its own down, DROP TABLE in an up") {
  TempDir dir;
  dir.step("1", "001_t", "CREATE TABLE t (id INT, v INT);\nCREATE TABLE old (id INT);\n",
           "DROP TABLE IF EXISTS t, old;\n");
  dir.write("2/001_x.mariadb.up.sql", "ALTER TABLE t MODIFY COLUMN v BIGINT;\nDROP TABLE old;\n"
                                      "CREATE PROCEDURE cleanup() BEGIN DELETE FROM t; END;\n");
  dir.write("2/001_x.mariadb.down.sql", "CALL cleanup();\nDROP PROCEDURE IF EXISTS cleanup;\n");
  dir.write("2/001_x.postgres.up.sql", "ALTER TABLE t ALTER COLUMN v TYPE BIGINT;\n");
  dir.write("2/001_x.postgres.down.sql", "ALTER TABLE t ALTER COLUMN v TYPE INT;\n");
  CHECK(codes_at(lint(dir, Engine::mariadb)) ==
        std::vector<std::string>{"destructive-up@001_x:1", "destructive-up@001_x:2", "call-in-down@001_x:1"});
  CHECK(codes_at(lint(dir, Engine::postgres)) == std::vector<std::string>{"destructive-up@001_x:1"});
}

TEST_CASE("allow = [\"CODE: reason\"] in update.toml marks a warning allowed; a bad entry is a catalog problem") {
  TempDir dir;
  dir.step("1", "001_t", "CREATE TABLE t (id INT, v INT);\n", "DROP TABLE IF EXISTS t;\n");
  dir.step("2", "001_drop", "ALTER TABLE t DROP COLUMN v;\n", "ALTER TABLE t ADD COLUMN v INT;\n");
  dir.write("2/update.toml", "[steps.001_drop]\nallow = [\"destructive-up: v was never read\"]\n");
  auto warnings = lint(dir, Engine::postgres);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].allowed());
  CHECK(warnings[0].allowed_because == "v was never read");

  for (const auto& [entry, expected] : std::vector<std::pair<std::string, std::string>>{
           {"\"destructive-up\"", "each 'allow' entry is \"CODE: reason\""},
           {"\"destructive: it is fine\"", "unknown warning 'destructive' in 'allow' (known: call-in-down"},
           {"1", "each 'allow' entry is \"CODE: reason\""}}) {
    dir.write("2/update.toml", "[steps.001_drop]\nallow = [" + entry + "]\n");
    try {
      load_catalog({dir.path()}, Engine::postgres);
      FAIL("accepted allow = [" << entry << "]");
    } catch (const CatalogError& e) {
      CHECK(std::string(e.what()).find("update.toml:2: " + expected) != std::string::npos);
    }
  }
}
