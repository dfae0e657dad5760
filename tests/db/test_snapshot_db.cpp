// Snapshots read from the real catalogs, on both engines: each kind of object is seen
// added, changed and removed under its own name; the journal never appears; a scoped read
// is the full one's part for those tables; object_counts() moves with the snapshot; and
// two reads of an unchanged schema are equal.
#include "db_fixture.hpp"
#include "installer/db/transaction.hpp"
#include "installer/journal/journal_tables.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace installer;
using namespace installer::testing;

namespace {

using Change = ObjectDifference::Change;

/// A scratch database with a session, and the journal left out as the engine leaves it out.
struct SnapshotSession {
  ScratchDatabase scratch;
  std::unique_ptr<Database> db = scratch.connect();
  ExcludedObjects journal = journal_objects(db->dialect(), "installer");

  Snapshot take(const SnapshotScope& scope = SnapshotScope::all()) { return db->snapshot(journal, scope); }
  void run(const std::vector<std::string>& statements) {
    for (const auto& s : statements) db->execute(s);
  }
};

/// One change of one object: what it needs first, the statements that change it, and the
/// only difference the snapshots before and after may show.
struct ObjectChange {
  std::vector<std::string> setup;
  std::vector<std::string> change;
  std::string kind;
  std::string name;
  Change expected;
};

/// Runs the change between two snapshots; returns the one difference when there is
/// exactly the expected one (a failed CHECK otherwise, listing what differed).
std::optional<ObjectDifference> check_change(SnapshotSession& s, const ObjectChange& c) {
  CAPTURE(c.change.front());
  s.run(c.setup);
  Snapshot before = s.take();
  s.run(c.change);
  auto differences = s.take().differences_from(before);
  INFO(fmt::format("{}", fmt::join(describe_differences(differences, 20), "\n")));
  REQUIRE(differences.size() == 1);
  const ObjectDifference& d = differences.front();
  CHECK(d.kind == c.kind);
  CHECK(d.name == c.name);
  CHECK(d.change == c.expected);
  // A schema is all name: its definition is empty.
  if (c.kind != "schema") CHECK((d.before.empty()) == (c.expected == Change::added));
  if (c.kind != "schema") CHECK((d.after.empty()) == (c.expected == Change::removed));
  return d;
}

std::map<std::string, long> counts_by_kind(const Snapshot& snapshot) {
  std::map<std::string, long> out;
  for (const auto& o : snapshot.objects()) ++out[o.kind];
  return out;
}

/// A schema with some of every kind of object the engine's snapshot describes.
std::vector<std::string> some_of_everything() {
  if (on_postgres())
    return {
        "CREATE SCHEMA app",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE DOMAIN posint AS integer NOT NULL DEFAULT 1 CHECK (VALUE > 0)",
        "CREATE TYPE pair AS (a int, b text)",
        "CREATE TABLE orders (id serial PRIMARY KEY, status text NOT NULL DEFAULT 'new', qty posint, m mood, "
        "g int GENERATED ALWAYS AS (id * 2) STORED, name text COLLATE \"C\")",
        "CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id int REFERENCES orders (id) "
        "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, note varchar(20), CONSTRAINT items_note_chk CHECK "
        "(length(note) > 0))",
        "CREATE UNIQUE INDEX items_note_idx ON items (lower(note)) WHERE note IS NOT NULL",
        "CREATE VIEW v_orders AS SELECT id, status FROM orders WHERE status <> 'x' WITH CASCADED CHECK OPTION",
        "CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM orders",
        "CREATE SEQUENCE app.free_seq START 10 INCREMENT 5 CACHE 3 CYCLE",
        "CREATE FUNCTION add_one(a int, b text DEFAULT 'x') RETURNS int LANGUAGE sql IMMUTABLE STRICT "
        "AS $$ SELECT a + 1 $$",
        "CREATE FUNCTION twice(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a * 2; END",
        "CREATE PROCEDURE touch(x int) LANGUAGE plpgsql SECURITY DEFINER SET search_path = public "
        "AS $$ BEGIN PERFORM x; END $$",
        "CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "CREATE TRIGGER orders_trg BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION trg()",
        "ALTER TABLE orders ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY orders_pol ON orders FOR SELECT USING (status <> 'hidden')",
        "CREATE RULE items_rule AS ON DELETE TO items DO INSTEAD NOTHING",
        "CREATE TABLE parted (id int, k int) PARTITION BY RANGE (k)",
        "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10)",
        "CREATE INDEX parted_id_idx ON parted (id)",
    };
  return {
      "CREATE TABLE orders (id int AUTO_INCREMENT PRIMARY KEY, status varchar(20) NOT NULL DEFAULT 'new', "
      "qty int unsigned, note text CHARACTER SET latin1 COLLATE latin1_bin COMMENT 'a note', g int AS (qty * 2) "
      "STORED, KEY orders_status_idx (status(5), qty DESC)) COMMENT = 'the orders'",
      "CREATE TABLE items (id bigint PRIMARY KEY, order_id int, name varchar(30), UNIQUE KEY items_name_uq (name), "
      "CONSTRAINT items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE, "
      "CONSTRAINT items_name_chk CHECK (length(name) > 0))",
      "CREATE VIEW v_orders AS SELECT id, status FROM orders WHERE status <> 'x' WITH CASCADED CHECK OPTION",
      "CREATE FUNCTION add_one(a int, b varchar(10)) RETURNS int DETERMINISTIC NO SQL RETURN a + 1",
      "CREATE PROCEDURE touch(IN x int, OUT y int) MODIFIES SQL DATA SQL SECURITY INVOKER BEGIN SET y = x; END",
      "CREATE TRIGGER orders_trg BEFORE INSERT ON orders FOR EACH ROW SET NEW.status = lower(NEW.status)",
      "CREATE EVENT cleanup ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM orders WHERE id < 0",
      "CREATE SEQUENCE seq1 START WITH 5",
  };
}

/// The journal's tables, made as the journal makes them.
void create_journal(Database& db) {
  SqlJournal journal(db, "installer");
  journal.ensure();
}

}  // namespace

TEST_CASE("snapshot: each kind of PostgreSQL object is seen under its own name" * doctest::test_suite(kPostgresOnly)) {
  SnapshotSession s;
  s.run({"CREATE TABLE orders (id int PRIMARY KEY, qty int)", "CREATE TYPE mood AS ENUM ('sad', 'ok')",
         "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)"});
  const std::vector<ObjectChange> changes = {
      {{}, {"CREATE SCHEMA app"}, "schema", "app", Change::added},
      {{}, {"CREATE TABLE no_columns ()"}, "table", "public.no_columns", Change::added},
      {{}, {"ALTER TABLE orders ENABLE ROW LEVEL SECURITY"}, "table", "public.orders", Change::changed},
      {{},
       {"ALTER TABLE orders ADD CONSTRAINT orders_qty_check CHECK (qty > 0)"},
       "constraint",
       "public.orders.orders_qty_check",
       Change::added},
      {{}, {"CREATE INDEX orders_qty_idx ON orders (qty)"}, "index", "public.orders_qty_idx", Change::added},
      {{}, {"DROP INDEX orders_qty_idx"}, "index", "public.orders_qty_idx", Change::removed},
      {{"CREATE VIEW v_orders AS SELECT id FROM orders WHERE qty > 0"},
       {"CREATE OR REPLACE VIEW v_orders AS SELECT id FROM orders WHERE qty > 1"},
       "view",
       "public.v_orders",
       Change::changed},
      {{"CREATE SEQUENCE s"}, {"ALTER SEQUENCE s INCREMENT 5"}, "sequence", "public.s", Change::changed},
      {{"CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'SELECT a + 1'"},
       {"CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'SELECT a + 2'"},
       "function",
       "public.f(a integer)",
       Change::changed},
      {{}, {"CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'"}, "procedure", "public.p()", Change::added},
      {{"CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"},
       {"CREATE TRIGGER orders_trg BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION trg()"},
       "trigger",
       "public.orders.orders_trg",
       Change::added},
      {{}, {"ALTER TABLE orders DISABLE TRIGGER orders_trg"}, "trigger", "public.orders.orders_trg", Change::changed},
      {{}, {"ALTER TYPE mood ADD VALUE 'happy'"}, "type", "public.mood", Change::changed},
      {{}, {"ALTER DOMAIN posint SET DEFAULT 5"}, "type", "public.posint", Change::changed},
      {{},
       {"ALTER DOMAIN posint ADD CONSTRAINT posint_small CHECK (VALUE < 100)"},
       "constraint",
       "public.posint.posint_small",
       Change::added},
      {{},
       {"CREATE POLICY orders_pol ON orders FOR SELECT USING (qty > 0)"},
       "policy",
       "public.orders.orders_pol",
       Change::added},
      {{},
       {"CREATE RULE orders_rule AS ON DELETE TO orders DO INSTEAD NOTHING"},
       "rule",
       "public.orders.orders_rule",
       Change::added},
  };
  for (const auto& c : changes) check_change(s, c);
}

TEST_CASE("snapshot: a PostgreSQL extension is one row, its own functions, types and operators left to it" *
          doctest::test_suite(kPostgresOnly)) {
  SnapshotSession s;
  auto available = s.db->query("SELECT name FROM pg_available_extensions WHERE name IN ('pg_trgm', 'hstore') "
                               "ORDER BY name DESC");
  if (available.empty()) {
    MESSAGE("neither pg_trgm nor hstore is available: the extension case is skipped");
    return;
  }
  const std::string extension = available.front().at(0).value_or("");
  auto d = check_change(s, {{}, {"CREATE EXTENSION " + extension}, "extension", extension, Change::added});
  if (d) CHECK(d->after.find(" in public") != std::string::npos);
}

TEST_CASE("snapshot: a PostgreSQL column's definition reads like its DDL, before and after" *
          doctest::test_suite(kPostgresOnly)) {
  SnapshotSession s;
  s.run({"CREATE TABLE orders (id int PRIMARY KEY)"});
  auto added = check_change(s, {{},
                                {"ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new'"},
                                "column",
                                "public.orders.status",
                                Change::added});
  REQUIRE(added);
  CHECK(added->after == "text NOT NULL DEFAULT 'new'::text");
  // The wording of the change may differ; the object and its definition are what is shown.
  const std::string line = describe_difference(*added);
  CHECK(line.rfind("column public.orders.status: ", 0) == 0);
  CHECK(line.find("(text NOT NULL DEFAULT 'new'::text)") != std::string::npos);
  CHECK(describe_differences({*added}, 10) == std::vector<std::string>{line});

  auto changed = check_change(s, {{},
                                  {"ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'old'"},
                                  "column",
                                  "public.orders.status",
                                  Change::changed});
  REQUIRE(changed);
  CHECK(changed->before == "text NOT NULL DEFAULT 'new'::text");
  CHECK(changed->after == "text NOT NULL DEFAULT 'old'::text");
  const std::string shown = describe_difference(*changed);
  CHECK(shown.find("'new'") != std::string::npos);
  CHECK(shown.find("'old'") != std::string::npos);

  // An identity's sequence belongs to the column's table: it comes and goes with the column.
  Snapshot before = s.take();
  s.run({"ALTER TABLE orders ADD COLUMN n bigint GENERATED BY DEFAULT AS IDENTITY"});
  Snapshot after = s.take();
  auto differences = after.differences_from(before);
  REQUIRE(differences.size() == 2);
  CHECK(differences[0].name == "public.orders.n");
  CHECK(differences[0].after == "bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY");
  CHECK(differences[1].kind == "sequence");
  const SchemaObject* sequence = after.find("sequence", differences[1].name);
  REQUIRE(sequence != nullptr);
  CHECK(sequence->table == "orders");
}

TEST_CASE("snapshot: each kind of MariaDB object is seen under its own name" * doctest::test_suite(kMariadbOnly)) {
  SnapshotSession s;
  s.run({"CREATE TABLE orders (id int PRIMARY KEY, qty int)"});
  const std::vector<ObjectChange> changes = {
      {{}, {"ALTER TABLE orders COMMENT = 'the orders'"}, "table", "orders", Change::changed},
      {{}, {"CREATE INDEX orders_qty_idx ON orders (qty)"}, "index", "orders.orders_qty_idx", Change::added},
      {{}, {"DROP INDEX orders_qty_idx ON orders"}, "index", "orders.orders_qty_idx", Change::removed},
      {{},
       {"ALTER TABLE orders ADD CONSTRAINT orders_qty_check CHECK (qty > 0)"},
       "constraint",
       "orders.orders_qty_check",
       Change::added},
      {{"CREATE VIEW v_orders AS SELECT id FROM orders WHERE qty > 0"},
       {"CREATE OR REPLACE VIEW v_orders AS SELECT id FROM orders WHERE qty > 1"},
       "view",
       "v_orders",
       Change::changed},
      {{}, {"CREATE FUNCTION f(a int) RETURNS int DETERMINISTIC RETURN a + 1"}, "function", "f", Change::added},
      {{},
       {"DROP FUNCTION f", "CREATE FUNCTION f(a int) RETURNS int DETERMINISTIC RETURN a + 2"},
       "function",
       "f",
       Change::changed},
      {{"CREATE PROCEDURE p() SELECT 1"}, {"DROP PROCEDURE p"}, "procedure", "p", Change::removed},
      {{},
       {"CREATE TRIGGER orders_trg BEFORE INSERT ON orders FOR EACH ROW SET NEW.qty = 1"},
       "trigger",
       "orders.orders_trg",
       Change::added},
      {{},
       {"CREATE EVENT cleanup ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM orders"},
       "event",
       "cleanup",
       Change::added},
      {{}, {"ALTER EVENT cleanup ON SCHEDULE EVERY 2 DAY"}, "event", "cleanup", Change::changed},
  };
  for (const auto& c : changes) check_change(s, c);
}

TEST_CASE("snapshot: a MariaDB column's definition reads like its DDL, before and after" *
          doctest::test_suite(kMariadbOnly)) {
  SnapshotSession s;
  s.run({"CREATE TABLE orders (id int PRIMARY KEY)"});
  auto added = check_change(s, {{},
                                {"ALTER TABLE orders ADD COLUMN status varchar(20) NOT NULL DEFAULT 'new'"},
                                "column",
                                "orders.status",
                                Change::added});
  REQUIRE(added);
  CHECK(added->after == "varchar(20) NOT NULL DEFAULT 'new'");
  auto changed = check_change(
      s,
      {{}, {"ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'old'"}, "column", "orders.status", Change::changed});
  REQUIRE(changed);
  CHECK(changed->before == "varchar(20) NOT NULL DEFAULT 'new'");
  CHECK(changed->after == "varchar(20) NOT NULL DEFAULT 'old'");
  auto collated = check_change(s, {{},
                                   {"ALTER TABLE orders MODIFY status varchar(20) CHARACTER SET utf8mb4 COLLATE "
                                    "utf8mb4_bin NOT NULL DEFAULT 'old'"},
                                   "column",
                                   "orders.status",
                                   Change::changed});
  REQUIRE(collated);
  CHECK(collated->after == "varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT 'old'");
}

TEST_CASE("snapshot: the journal's own tables and schema never appear") {
  SnapshotSession s;
  s.run(some_of_everything());
  const Snapshot without = s.take();
  create_journal(*s.db);
  if (on_postgres()) s.run({"CREATE TABLE installer.extra (id int PRIMARY KEY)"});
  else s.run({"CREATE INDEX installer_updates_extra ON installer_updates (update_id)"});
  const Snapshot with = s.take();
  CHECK(with.differences_from(without).empty());
  const auto journal_tables = journal_tables_on_engine();
  for (const auto& o : with.objects()) {
    CAPTURE(o.name);
    CHECK(std::find(journal_tables.begin(), journal_tables.end(), o.table) == journal_tables.end());
    CHECK(o.name.rfind(on_postgres() ? "installer." : "installer_", 0) != 0);
    CHECK(o.name != "installer");
  }
  // Asked for by name, they are still not there.
  auto scoped = s.take(SnapshotScope::of_tables(journal_tables));
  for (const auto& o : scoped.objects()) CHECK(o.table.empty());
}

TEST_CASE("snapshot: two reads of an unchanged schema are equal, from one session and from another") {
  SnapshotSession s;
  s.run(some_of_everything());
  create_journal(*s.db);
  const Snapshot first = s.take();
  CHECK(first.objects().size() > 30);
  const Snapshot second = s.take();
  INFO(fmt::format("{}", fmt::join(describe_differences(second.differences_from(first), 20), "\n")));
  CHECK(second == first);
  CHECK(second.digest() == first.digest());
  auto other = s.scratch.connect();
  const Snapshot third = other->snapshot(s.journal, SnapshotScope::all());
  INFO(fmt::format("{}", fmt::join(describe_differences(third.differences_from(first), 20), "\n")));
  CHECK(third == first);
}

TEST_CASE("snapshot: a scoped read is the full read's objects of those tables and every table-less object") {
  SnapshotSession s;
  s.run(some_of_everything());
  // Names differ from a table's only in case: a read of `orders` takes that table only,
  // as the catalog spells it (the schema tracker asks for the spellings a statement's
  // name may stand for), and neither's columns are taken for the other's.
  s.run({"CREATE TABLE " + s.db->quote_identifier("Orders") + " (id int PRIMARY KEY, note varchar(10))"});
  create_journal(*s.db);
  const Snapshot full = s.take();
  const std::string qualified = (on_postgres() ? "public." : "") + std::string("Orders");
  CHECK(full.find("column", qualified + ".note") != nullptr);
  CHECK(full.find("column", qualified + ".status") == nullptr);
  for (const std::vector<std::string>& tables : std::vector<std::vector<std::string>>{
           {"orders"}, {"Orders"}, {"orders", "Orders"}, {"items", "v_orders"}, {"ORDERS"}, {}, {"no_such_table"}}) {
    CAPTURE(tables.size() > 0 ? tables.front() : std::string("(none)"));
    std::vector<SchemaObject> expected;
    for (const auto& o : full.objects())
      if (o.table.empty() || std::find(tables.begin(), tables.end(), o.table) != tables.end()) expected.push_back(o);
    const Snapshot scoped = s.take(SnapshotScope::of_tables(tables));
    INFO(fmt::format("{}", fmt::join(describe_differences(scoped.differences_from(Snapshot(expected)), 20), "\n")));
    CHECK(scoped == Snapshot(expected));
    // Without the objects of no table, the tables' objects alone.
    std::vector<SchemaObject> of_tables;
    for (const auto& o : expected)
      if (!o.table.empty()) of_tables.push_back(o);
    const Snapshot tables_only = s.take(SnapshotScope::of_tables(tables, false));
    INFO(fmt::format("{}",
                     fmt::join(describe_differences(tables_only.differences_from(Snapshot(of_tables)), 20), "\n")));
    CHECK(tables_only == Snapshot(of_tables));
  }
  if (on_postgres()) {
    // A partitioned table's read includes its partitions, which an ALTER of it changes too.
    const Snapshot parted = s.take(SnapshotScope::of_tables({"parted"}));
    CHECK(parted.find("table", "public.parted_1") != nullptr);
    CHECK(parted.find("index", "public.parted_1_id_idx") != nullptr);
    // A serial column's sequence belongs to its table.
    CHECK(s.take(SnapshotScope::of_tables({"orders"})).find("sequence", "public.orders_id_seq") != nullptr);
  }
}

TEST_CASE("snapshot: object_counts() moves as the snapshot's counts move when objects are created and dropped") {
  SnapshotSession s;
  create_journal(*s.db);
  const auto counters_before = s.db->object_counts(s.journal);
  if (!on_postgres()) {
    // Nothing but the statements themselves changes a MariaDB schema: no counters.
    CHECK(counters_before.empty());
    return;
  }
  const auto listed_before = counts_by_kind(s.take());
  s.run(some_of_everything());
  const auto counters_after = s.db->object_counts(s.journal);
  const auto listed_after = counts_by_kind(s.take());
  auto count = [](const std::map<std::string, long>& m, const std::string& kind) {
    auto it = m.find(kind);
    return it == m.end() ? 0L : it->second;
  };
  REQUIRE(counters_after.size() == counters_before.size());
  for (const auto& [kind, now] : counters_after) {
    CAPTURE(kind);
    CHECK(now - count(counters_before, kind) == count(listed_after, kind) - count(listed_before, kind));
  }
  // Every kind the snapshot lists is counted.
  for (const auto& [kind, n] : listed_after) {
    CAPTURE(kind);
    CHECK(counters_after.count(kind) == 1);
  }
}

TEST_CASE("snapshot: the counters of catalog changes are read inside a transaction, and only there") {
  SnapshotSession s;
  CHECK_FALSE(s.db->catalog_counters().has_value());
  if (!on_postgres()) return;
  std::optional<CatalogCounters> begin, table, routine;
  {
    Transaction transaction(*s.db);  // rolled back at the end of the block
    begin = s.db->catalog_counters();
    s.db->execute("CREATE TABLE counted (id int)");
    table = s.db->catalog_counters();
    s.db->execute("CREATE FUNCTION counted_f() RETURNS int LANGUAGE sql AS 'SELECT 1'");
    routine = s.db->catalog_counters();
  }
  REQUIRE(begin.has_value());
  REQUIRE(table.has_value());
  REQUIRE(routine.has_value());
  CHECK(table->transaction == begin->transaction);
  CHECK(table->rows.at("table") > begin->rows.at("table"));
  CHECK(table->rows.at("routine") == begin->rows.at("routine"));
  CHECK(routine->rows.at("routine") > table->rows.at("routine"));
  CHECK(routine->rows.at("schema") == begin->rows.at("schema"));
}

TEST_CASE("snapshot: names with quotes, tabs, newlines and non-ASCII bytes survive the catalog and the text form") {
  SnapshotSession s;
  const std::string table = "we\"ird 'tab\there\nünï";
  const std::string column = "c\\ol`ü";
  s.run({"CREATE TABLE " + s.db->quote_identifier(table) + " (" + s.db->quote_identifier(column) + " int)"});
  const Snapshot snapshot = s.take();
  const std::string qualified = (on_postgres() ? "public." : "") + table;
  const SchemaObject* found = snapshot.find("table", qualified);
  REQUIRE(found != nullptr);
  CHECK(found->table == table);
  CHECK(snapshot.find("column", qualified + "." + column) != nullptr);
  const Snapshot parsed = Snapshot::parse(snapshot.serialize());
  CHECK(parsed == snapshot);
  CHECK(parsed.digest() == snapshot.digest());
  CHECK(s.take(SnapshotScope::of_tables({table})).find("column", qualified + "." + column) != nullptr);
}
