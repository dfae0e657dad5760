// Other tools' migration folders read as update directories (docs/adopt.md): the mapping
// of names, versions and directions, each tool's markers, and what is refused.
#include "catalog_fixture.hpp"

#include "installer/catalog/catalog.hpp"
#include "installer/catalog/problems.hpp"

#include <doctest/doctest.h>

using namespace installer;
using installer::unit_fixture::TempDir;

namespace {

std::string problems_of(const TempDir& dir, Engine engine = Engine::postgres, const FormatChoice& formats = {}) {
  try {
    load_catalog({dir.path()}, engine, formats);
  } catch (const CatalogError& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> statement_texts(const ScriptFile& script) {
  std::vector<std::string> out;
  for (const auto& s : script.statements) out.push_back(s.text);
  return out;
}

}  // namespace

TEST_CASE("golang-migrate: VERSION_TITLE.up/.down.sql, numeric order, up-only allowed but not removable") {
  TempDir dir;
  dir.write("10_later.up.sql", "CREATE TABLE b (id int);\n");
  dir.write("10_later.down.sql", "DROP TABLE b;\n");
  dir.write("9_first.up.sql", "CREATE TABLE a (id int);\n");
  dir.write("README.md", "not a migration");
  Catalog c = load_catalog({dir.path()}, Engine::postgres);
  REQUIRE(c.updates.size() == 2);
  CHECK(c.updates[0].id == "9_first");
  CHECK(c.updates[1].id == "10_later");
  CHECK(c.updates[1].origin.format == UpdatesFormat::golang_migrate);
  CHECK(c.updates[1].origin.key == "10");
  CHECK(c.updates[1].removable());
  CHECK(!c.updates[0].removable());
  CHECK(c.updates[0].steps.at(0).down.checksum.empty());
}

TEST_CASE("dbmate: sections by marker, transaction:false, lines keep their numbers, empty down runs nothing") {
  TempDir dir;
  dir.write("20240101000001_users.sql",
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (c);\n\n-- migrate:down\n");
  dir.write("20240101000002.sql", "-- migrate:up\nSELECT 1;\nSELECT 2;\n-- migrate:down\nSELECT 3;\n");
  Catalog c = load_catalog({dir.path()}, Engine::postgres);
  REQUIRE(c.updates.size() == 2);
  const Step& first = c.updates[0].steps.at(0);
  CHECK(c.updates[0].origin.key == "20240101000001");
  CHECK(!first.transactional);
  CHECK(first.has_down);
  CHECK(first.down.statements.empty());
  const Step& second = c.updates[1].steps.at(0);
  CHECK(statement_texts(second.up) == std::vector<std::string>{"SELECT 1", "SELECT 2"});
  CHECK(second.up.statements.at(1).line == 3);
  CHECK(statement_texts(second.down) == std::vector<std::string>{"SELECT 3"});
  CHECK(second.down.statements.at(0).line == 5);
}

TEST_CASE("goose: StatementBegin/End kept whole, NO TRANSACTION, no Down means not removable") {
  TempDir dir;
  dir.write("00001_proc.sql",
            "-- +goose Up\n-- +goose StatementBegin\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END;\n"
            "-- +goose StatementEnd\nCREATE TABLE t (id int);\n-- +goose Down\n-- +goose StatementBegin\n"
            "DROP PROCEDURE p;\n-- +goose StatementEnd\nDROP TABLE t;\n");
  dir.write("00002_up_only.sql", "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE u (id int);\n");
  Catalog c = load_catalog({dir.path()}, Engine::mariadb);
  REQUIRE(c.updates.size() == 2);
  const Step& proc = c.updates[0].steps.at(0);
  CHECK(statement_texts(proc.up) ==
        std::vector<std::string>{"CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", "CREATE TABLE t (id int)"});
  CHECK(proc.up.statements.at(0).line == 3);
  CHECK(statement_texts(proc.down) == std::vector<std::string>{"DROP PROCEDURE p", "DROP TABLE t"});
  CHECK(!c.updates[1].steps.at(0).transactional);
  CHECK(!c.updates[1].removable());
}

TEST_CASE("goose: what the installer cannot run as written is refused, naming file and line") {
  TempDir dir;
  dir.write("00001_a.sql", "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n");
  dir.write("00002_b.go", "package migrations\n");
  dir.write("00003_c.sql", "-- +goose Up\n-- +goose ENVSUB ON\nSELECT '${X}';\n");
  std::string p = problems_of(dir, Engine::postgres, {UpdatesFormat::goose, {}});
  CHECK(p.find("00001_a.sql:2: StatementBegin without a StatementEnd") != std::string::npos);
  CHECK(p.find("00002_b.go: a goose migration in Go") != std::string::npos);
  CHECK(p.find("00003_c.sql:2: -- +goose ENVSUB is not supported") != std::string::npos);
}

TEST_CASE("flyway: V and U files by version, 1_1 is 1.1, executeInTransaction=false, R__ refused") {
  TempDir dir;
  dir.write("V1__init.sql", "CREATE TABLE a (id int);\n");
  dir.write("U1__init.sql", "DROP TABLE a;\n");
  dir.write("V1_1__add_index.sql", "CREATE INDEX CONCURRENTLY i ON a (id);\n");
  dir.write("V1_1__add_index.sql.conf", "executeInTransaction=false\n");
  Catalog c = load_catalog({dir.path()}, Engine::postgres);
  REQUIRE(c.updates.size() == 2);
  CHECK(c.updates[0].id == "V1__init");
  CHECK(c.updates[0].removable());
  CHECK(c.updates[1].origin.key == "1.1");
  CHECK(c.updates[1].description == "add index");
  CHECK(!c.updates[1].steps.at(0).transactional);
  CHECK(!c.updates[1].removable());
  dir.write("R__views.sql", "CREATE VIEW v AS SELECT 1;\n");
  CHECK(problems_of(dir).find("R__views.sql: a Flyway repeatable migration") != std::string::npos);
}

TEST_CASE("sqitch: the plan's order, BEGIN/COMMIT lines left to the installer, reworked changes refused") {
  TempDir dir;
  dir.write("sqitch.plan", "%syntax-version=1.0.0\n%project=shop\n\nusers 2024-01-01T00:00:00Z A <a@b> # u\n"
                           "@v1 2024-01-01T00:00:01Z A <a@b>\nemail [users] 2024-01-02T00:00:00Z A <a@b>\n");
  dir.write("deploy/users.sql", "-- Deploy shop:users\nBEGIN;\nCREATE TABLE users (id int);\nCOMMIT;\n");
  dir.write("revert/users.sql", "BEGIN;\nDROP TABLE users;\nCOMMIT;\n");
  dir.write("deploy/email.sql", "ALTER TABLE users ADD COLUMN email text;\n");
  Catalog c = load_catalog({dir.path()}, Engine::postgres);
  REQUIRE(c.updates.size() == 2);
  CHECK(c.updates[0].id == "users");
  CHECK(c.updates[0].origin.project == "shop");
  CHECK(statement_texts(c.updates[0].steps.at(0).up) == std::vector<std::string>{"CREATE TABLE users (id int)"});
  CHECK(c.updates[0].steps.at(0).up.statements.at(0).line == 3);
  CHECK(statement_texts(c.updates[0].steps.at(0).down) == std::vector<std::string>{"DROP TABLE users"});
  CHECK(c.updates[1].id == "email");
  CHECK(!c.updates[1].removable());
  dir.write("sqitch.plan", "%project=shop\nusers 2024 A <a@b>\nusers 2025 A <a@b>\n");
  CHECK(problems_of(dir).find("sqitch.plan:3: change 'users' is reworked") != std::string::npos);
}

TEST_CASE("formats: detected per directory, ambiguity names --updates-format, ids lose what a shell reads") {
  TempDir dir;
  dir.write("1_a.up.sql", "SELECT 1;\n");
  dir.write("V2__b.sql", "SELECT 2;\n");
  std::string p = problems_of(dir);
  CHECK(p.find("golang-migrate and flyway") != std::string::npos);
  CHECK(p.find("--updates-format") != std::string::npos);
  FormatChoice flyway_only{UpdatesFormat::flyway, {}};
  CHECK(problems_of(dir, Engine::postgres, flyway_only).find("1_a.up.sql: not a Flyway migration name") !=
        std::string::npos);

  TempDir odd;
  odd.write("3_drop $(rm -rf) `x`.up.sql", "SELECT 1;\n");
  Catalog c = load_catalog({odd.path()}, Engine::postgres);
  REQUIRE(c.updates.size() == 1);
  CHECK(c.updates[0].id == "3_drop___rm_-rf___x_");
  CHECK(c.updates[0].steps.at(0).name == "3_drop___rm_-rf___x_");
}
