// Which tables an update's statements change: what the incremental snapshot after an
// update re-reads, and when it must read everything.
#include "fake_database.hpp"
#include "installer/engine/schema_compare.hpp"
#include "installer/engine/schema_tracker.hpp"

#include <doctest/doctest.h>

using namespace installer;
using namespace installer::testing;

namespace {

std::optional<std::vector<std::string>> tables_of(const std::string& up, SqlDialect dialect = SqlDialect::postgres) {
  auto changed = objects_changed_by(make_update("u", "1", {{"001_s", up, ""}}), dialect);
  if (!changed) return std::nullopt;
  return changed->tables;
}

bool names_table_less(const std::string& up, SqlDialect dialect = SqlDialect::postgres) {
  auto changed = objects_changed_by(make_update("u", "1", {{"001_s", up, ""}}), dialect);
  REQUIRE(changed.has_value());
  return changed->table_less;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("the tables an update's statements name are the ones re-read") {
  CHECK(tables_of("CREATE TABLE orders (id int); CREATE INDEX orders_idx ON orders (id);") ==
        Names{"orders", "orders_idx"});
  CHECK(tables_of("ALTER TABLE shop.Orders ADD COLUMN status text; DROP INDEX old_idx;") == Names{"orders"});
  // An index, trigger or sequence named without its table: the snapshot before says whose.
  auto dropped = objects_changed_by(make_update("u", "1", {{"001_s", "DROP INDEX old_idx; DROP SEQUENCE s;", ""}}),
                                    SqlDialect::postgres);
  REQUIRE(dropped.has_value());
  CHECK(dropped->owned == Names{"old_idx", "s"});
  CHECK(dropped->tables.empty());
  CHECK(tables_of("CREATE TRIGGER t BEFORE UPDATE OF a, b ON items FOR EACH ROW EXECUTE FUNCTION f();") ==
        Names{"items", "t"});
  CHECK(tables_of("INSERT INTO settings VALUES (1); UPDATE settings SET v = 2; SET search_path = app;") == Names{});
  CHECK(tables_of("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'; DROP VIEW v;") == Names{"v"});
  CHECK(tables_of("CREATE TABLE `Orders` (id int)", SqlDialect::mariadb) == Names{"Orders"});
}

TEST_CASE("objects of no table are read again only when a statement names a routine or an event") {
  // A routine's body changed by a statement that names no routine is left to the
  // server's counters (PostgreSQL) or impossible (MariaDB: no DDL in a trigger or a
  // stored function): what these reads skip.
  CHECK_FALSE(names_table_less("CREATE TABLE orders (id int); CREATE INDEX i ON orders (id); INSERT INTO orders "
                               "VALUES (1);"));
  CHECK_FALSE(names_table_less("ALTER TABLE orders ADD COLUMN status text; DROP VIEW v; CREATE SEQUENCE s;"));
  CHECK(names_table_less("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';"));
  CHECK(names_table_less("DROP PROCEDURE p;"));
  CHECK(names_table_less("CREATE TABLE t (id int); CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS "
                         "'SELECT 1';"));
  CHECK(names_table_less("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t", SqlDialect::mariadb));
  CHECK(names_table_less("DROP PROCEDURE IF EXISTS p", SqlDialect::mariadb));
}

TEST_CASE("a statement whose effect its words do not tell makes the whole schema be read") {
  for (const char* up :
       {"DO $$ BEGIN EXECUTE 'CREATE TABLE x (id int)'; END $$;", "CALL make_tables();", "ALTER TABLE a RENAME TO b;",
        "ALTER TABLE a RENAME COLUMN x TO y;", "DROP TABLE a CASCADE;", "CREATE EXTENSION pg_trgm;",
        "CREATE TYPE mood AS ENUM ('a');", "CREATE SCHEMA app;", "SELECT create_hypertable('metrics', 'time');",
        "COMMENT ON TABLE a IS 'x';", "GRANT SELECT ON a TO reader;"}) {
    CAPTURE(up);
    CHECK_FALSE(tables_of(up).has_value());
  }
  CHECK_FALSE(tables_of("RENAME TABLE a TO b", SqlDialect::mariadb).has_value());
  // A MariaDB stored function cannot change the schema; a plain SELECT cannot either.
  CHECK(tables_of("SELECT my_function(1)", SqlDialect::mariadb) == Names{});
  CHECK(tables_of("SELECT 1") == Names{});
}

TEST_CASE("the tracker's snapshot after an update equals a full read") {
  FakeDatabase db;
  FakeJournal journal(db);
  EngineContext ctx{db, journal, "installer", "test-host"};
  SchemaTracker tracker(ctx);
  Snapshot before = db.snapshot({}, SnapshotScope::all());
  db.execute("create base");
  Snapshot after = tracker.after(make_update("u", "1", {{"001_s", "create base", "drop base"}}), before);
  CHECK(after == db.snapshot({}, SnapshotScope::all()));
  CHECK(tracker.counts().full == 1);  // the fake's language is no SQL the tracker can read
}

TEST_CASE("a schema whose digest is the recorded one is equal without reading the recorded snapshot") {
  // A removal of many updates compares once per update: reading each recorded snapshot
  // back (a chain of deltas to decode) cost more than the removal itself.
  FakeDatabase db;
  FakeJournal journal(db);
  EngineContext ctx{db, journal, "installer", "test-host"};
  db.execute("create base");
  Snapshot now = db.snapshot({}, SnapshotScope::all());
  const std::string recorded = record_schema(ctx, now);
  db.state().snapshots.clear();  // what a load would read is gone: only the digest can say
  SchemaComparison same = compare_schema(ctx, recorded, now);
  CHECK(same.result == SchemaComparison::Result::equal);
  CHECK(same.recorded_digest == now.short_digest());
  db.execute("create other");
  CHECK(compare_schema(ctx, recorded, db.snapshot({}, SnapshotScope::all())).result ==
        SchemaComparison::Result::unreadable);
}
