// The schema snapshots a release ships for adoption (docs/adopt.md): the file's round
// trip and its checksum, which entries may be used, and what is tolerated between two
// server releases.
#include "catalog_fixture.hpp"

#include "installer/adopt/release_snapshots.hpp"
#include "installer/util/error.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using namespace installer;
using installer::unit_fixture::TempDir;

namespace {

Snapshot schema(std::vector<SchemaObject> objects) { return Snapshot(std::move(objects)); }

const SchemaObject kUsers{"table", "public.users", "TABLE", "users"};
const SchemaObject kEmail{"column", "public.users.email", "text NOT NULL DEFAULT ''::text", "users"};
const SchemaObject kOrders{"table", "public.orders", "TABLE", "orders"};

ReleaseSnapshots two_updates(const Catalog& catalog) {
  ReleaseSnapshots s;
  s.engine = Engine::postgres;
  s.server_version = "15.5 (Debian 15.5-0+deb12u1)";
  s.server_release = server_release(Engine::postgres, s.server_version);
  s.installer_version = "test";
  s.entries.push_back({catalog.updates[0].id, catalog.updates[0].checksum, schema({kUsers, kEmail})});
  s.entries.push_back({catalog.updates[1].id, catalog.updates[1].checksum, schema({kUsers, kEmail, kOrders})});
  return s;
}

Catalog two_update_catalog(TempDir& dir) {
  dir.write("2024.01.0/001_users.up.sql", "CREATE TABLE users (email text NOT NULL DEFAULT '');\n");
  dir.write("2024.01.0/001_users.down.sql", "DROP TABLE users;\n");
  dir.write("2024.02.0/001_orders.up.sql", "CREATE TABLE orders (id int);\n");
  dir.write("2024.02.0/001_orders.down.sql", "DROP TABLE orders;\n");
  return load_catalog({dir.path()}, Engine::postgres);
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("release snapshots: written and read back the same, bytes JSON cannot hold included") {
  TempDir dir;
  Catalog catalog = two_update_catalog(dir);
  ReleaseSnapshots written = two_updates(catalog);
  // A comment in Latin-1: not UTF-8, kept byte for byte.
  written.entries[1].schema = schema({kUsers, kEmail, kOrders, {"comment", "public.orders", "caf\xe9\t\\", "orders"}});
  write_release_snapshots(dir.path() / release_snapshots_file_name(Engine::postgres), written);
  auto read_back = read_release_snapshots({dir.path()}, Engine::postgres);
  REQUIRE(read_back);
  REQUIRE(read_back->entries.size() == 2);
  CHECK(read_back->entries[0].schema == written.entries[0].schema);
  CHECK(read_back->entries[1].schema == written.entries[1].schema);
  CHECK(read_back->server_release == "PostgreSQL 15");
  CHECK(!read_release_snapshots({dir.path()}, Engine::mariadb));  // the other engine's file is not there
}

TEST_CASE("release snapshots: an edited file is refused, naming it") {
  TempDir dir;
  Catalog catalog = two_update_catalog(dir);
  auto file = dir.path() / release_snapshots_file_name(Engine::postgres);
  write_release_snapshots(file, two_updates(catalog));
  std::string text = read(file.string());
  SUBCASE("a definition changed") {
    text.replace(text.find("NOT NULL"), 8, "NULL    ");
    dir.write(file.filename().string(), text);
    CHECK_THROWS_WITH_AS(read_release_snapshots({dir.path()}, Engine::postgres),
                         doctest::Contains("checksum does not match"), UserError);
  }
  SUBCASE("not JSON") {
    dir.write(file.filename().string(), text.substr(0, text.size() / 2));
    const std::string expected = file.string() + ": not a file installer verify --record wrote";
    CHECK_THROWS_WITH_AS(read_release_snapshots({dir.path()}, Engine::postgres), doctest::Contains(expected.c_str()),
                         UserError);
  }
}

TEST_CASE("release snapshots: the newest exact match wins; an update whose content changed ends what is usable") {
  TempDir dir;
  Catalog catalog = two_update_catalog(dir);
  ReleaseSnapshots s = two_updates(catalog);
  SnapshotMatch at_second = match_release_snapshots(s, catalog, schema({kUsers, kEmail, kOrders}), s.server_release);
  REQUIRE(at_second.exact);
  CHECK(at_second.exact->update_id == "2024.02.0");

  SnapshotMatch none = match_release_snapshots(s, catalog, schema({kUsers, kOrders}), s.server_release);
  CHECK(!none.exact);
  REQUIRE(none.closest);
  CHECK(none.closest->update_id == "2024.02.0");
  REQUIRE(none.differences.size() == 1);
  CHECK(none.differences[0].name == "public.users.email");

  s.entries[1].checksum = "0000";
  SnapshotMatch stale = match_release_snapshots(s, catalog, schema({kUsers, kEmail, kOrders}), s.server_release);
  CHECK(!stale.exact);
  CHECK(stale.usable == 1);
  CHECK(stale.stale_from == "2024.02.0");
}

TEST_CASE("release snapshots: another server release's spelling is tolerated, nothing else") {
  TempDir dir;
  Catalog catalog = two_update_catalog(dir);
  ReleaseSnapshots s = two_updates(catalog);
  SchemaObject respelled = kEmail;
  respelled.definition = "text NOT NULL DEFAULT ''";
  Snapshot now = schema({kUsers, respelled, kOrders});

  SnapshotMatch same_release = match_release_snapshots(s, catalog, now, "PostgreSQL 15");
  CHECK(!same_release.exact);

  SnapshotMatch other_release = match_release_snapshots(s, catalog, now, "PostgreSQL 16");
  REQUIRE(other_release.exact);
  CHECK(other_release.tolerated == 1);

  SchemaObject changed = kEmail;
  changed.definition = "text NULL";
  CHECK(!match_release_snapshots(s, catalog, schema({kUsers, changed, kOrders}), "PostgreSQL 16").exact);
}

TEST_CASE("release-neutral definitions and release lines") {
  CHECK(release_neutral_definition(Engine::mariadb, "int(11)  NOT NULL DEFAULT NULL") == "int not null");
  CHECK(release_neutral_definition(Engine::mariadb, "datetime DEFAULT current_timestamp() ON UPDATE now()") ==
        "datetime default current_timestamp on update current_timestamp");
  CHECK(release_neutral_definition(Engine::mariadb, "varchar(10) CHARACTER SET utf8mb3") ==
        "varchar(10) character set utf8");
  CHECK(release_neutral_definition(Engine::postgres, "CHECK ((price >= (0)::numeric))") == "check price >= 0");
  CHECK(release_neutral_definition(Engine::postgres, "'a'::character varying") == "'a'");
  CHECK(server_release(Engine::postgres, "15.5 (Debian 15.5-0+deb12u1)") == "PostgreSQL 15");
  CHECK(server_release(Engine::postgres, "9.6.24") == "PostgreSQL 9.6");
  CHECK(server_release(Engine::mariadb, "10.11.6-MariaDB-0+deb12u1") == "MariaDB 10.11");
  CHECK(server_release(Engine::mysql, "8.0.35") == "MySQL 8.0");
}
