// The engine against a real server: transactions, DDL, fingerprints and the journal.
#include "db_fixture.hpp"
#include "installer/engine/migrator.hpp"
#include "installer/util/error.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sstream>

using namespace installer;
using namespace installer::testing;

namespace {

ExitCode migrate_code(EngineSession& s, const Catalog& catalog, std::string* message = nullptr) {
  try {
    Migrator(*s.ctx, catalog).migrate({});
  } catch (const UserError& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return exit_ok;
}

long count(const ScratchDatabase& db, const std::string& sql) { return std::stol(*db.query(sql)[0][0]); }

long user_tables(const ScratchDatabase& db) {
  return count(db, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = 'public'");
}

/// A base update and a four-step update whose step `failing` (1-based) fails at its
/// second statement; step 2 runs outside the transaction when mixed.
void write_four_steps(UpdateTree& tree, int failing, bool mixed) {
  tree.write("1.0/001_base.up.sql", "CREATE TABLE base (id int PRIMARY KEY, name text);\nINSERT INTO base VALUES (1, 'a');\n");
  tree.write("1.0/001_base.down.sql", "DROP TABLE IF EXISTS base;\n");
  std::string bad = "SELECT 1 / 0;\n";
  auto step = [&](int k, const std::string& up) { return up + (k == failing ? bad : ""); };
  tree.write("2.0/update.toml", std::string("requires = \"1.0\"\n") + (mixed ? "[steps.002_index]\ntransaction = false\n" : ""));
  tree.write("2.0/001_table.up.sql", step(1, "CREATE TABLE t1 (id int PRIMARY KEY, base_id int REFERENCES base(id));\n"));
  tree.write("2.0/001_table.down.sql", "DROP TABLE IF EXISTS t1;\n");
  tree.write("2.0/002_index.up.sql",
             step(2, mixed ? "CREATE INDEX CONCURRENTLY IF NOT EXISTS base_name_idx ON base (name);\n"
                           : "CREATE INDEX base_name_idx ON base (name);\n"));
  tree.write("2.0/002_index.down.sql", mixed ? "DROP INDEX CONCURRENTLY IF EXISTS base_name_idx;\n"
                                             : "DROP INDEX IF EXISTS base_name_idx;\n");
  tree.write("2.0/003_column.up.sql", step(3, "ALTER TABLE base ADD COLUMN score int NOT NULL DEFAULT 0;\n"));
  tree.write("2.0/003_column.down.sql", "ALTER TABLE base DROP COLUMN IF EXISTS score;\n");
  tree.write("2.0/004_view.up.sql", step(4, "CREATE VIEW scores AS SELECT id, score FROM base;\n"));
  tree.write("2.0/004_view.down.sql", "DROP VIEW IF EXISTS scores;\n");
}

}  // namespace

TEST_CASE("a failure in step k of n leaves the schema exactly as before, for every k") {
  for (bool mixed : {false, true}) {
    for (int k = 1; k <= 4; ++k) {
      CAPTURE(mixed);
      CAPTURE(k);
      ScratchDatabase scratch;
      UpdateTree tree;
      write_four_steps(tree, k, mixed);
      EngineSession s(scratch);
      Catalog catalog = tree.load(Engine::postgres);
      Catalog base_only;
      base_only.updates.push_back(catalog.updates[0]);
      REQUIRE(migrate_code(s, base_only) == exit_ok);
      Fingerprint before = s.fingerprint();
      long tables_before = user_tables(scratch);

      std::string message;
      CHECK(migrate_code(s, catalog, &message) == exit_update_failed);
      CHECK(s.fingerprint() == before);
      CHECK(user_tables(scratch) == tables_before);
      CHECK(count(scratch, "SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 0);
      CHECK(message.find("[22012]") != std::string::npos);
      CHECK(message.find("verified") != std::string::npos);
      auto rows = scratch.query("SELECT state, error_step, error_sqlstate FROM installer.updates WHERE update_id = '2.0'");
      REQUIRE(rows.size() == 1);
      CHECK(*rows[0][0] == "failed");
      CHECK(*rows[0][1] == std::vector<std::string>{"001_table", "002_index", "003_column", "004_view"}[k - 1]);
      CHECK(*rows[0][2] == "22012");
      // Nothing is left half-done in the journal either.
      CHECK(count(scratch, "SELECT count(*) FROM installer.updates WHERE state IN ('applying', 'reverting')") == 0);
    }
  }
}

TEST_CASE("an update without failures commits its steps and journal rows together") {
  ScratchDatabase scratch;
  UpdateTree tree;
  write_four_steps(tree, 0, false);
  EngineSession s(scratch);
  REQUIRE(migrate_code(s, tree.load(Engine::postgres)) == exit_ok);
  CHECK(count(scratch, "SELECT count(*) FROM installer.updates WHERE state = 'applied'") == 2);
  auto steps = scratch.query(
      "SELECT s.name, s.state, s.down_script, length(s.up_checksum), s.statements_total FROM installer.steps s "
      "JOIN installer.updates u USING (attempt_id) WHERE u.update_id = '2.0' ORDER BY position");
  REQUIRE(steps.size() == 4);
  CHECK(*steps[0][0] == "001_table");
  CHECK(*steps[0][1] == "applied");
  CHECK(*steps[0][2] == "DROP TABLE IF EXISTS t1;\n");
  CHECK(*steps[0][3] == "64");
  auto update = scratch.query("SELECT host, installer_version, fingerprint_before <> fingerprint_after, finished_at IS NOT NULL "
                              "FROM installer.updates WHERE update_id = '2.0'");
  CHECK(*update[0][0] == "test-host");
  CHECK(*update[0][1] == INSTALLER_VERSION);
  CHECK(*update[0][2] == "t");
  CHECK(*update[0][3] == "t");
  CHECK(count(scratch, "SELECT format_version FROM installer.journal_format") == kJournalFormat);
}

TEST_CASE("a failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index, which the revert removes") {
  ScratchDatabase scratch;
  UpdateTree tree;
  tree.write("1/001_t.up.sql", "CREATE TABLE t (v int);\nINSERT INTO t VALUES (1), (1);\n");
  tree.write("1/001_t.down.sql", "DROP TABLE IF EXISTS t;\n");
  tree.write("2/update.toml", "[steps.001_unique]\ntransaction = false\n");
  tree.write("2/001_unique.up.sql", "CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v);\n");
  tree.write("2/001_unique.down.sql", "DROP INDEX CONCURRENTLY IF EXISTS t_v_key;\n");
  EngineSession s(scratch);
  Catalog catalog = tree.load(Engine::postgres);
  Catalog first;
  first.updates.push_back(catalog.updates[0]);
  REQUIRE(migrate_code(s, first) == exit_ok);
  Fingerprint before = s.fingerprint();
  std::string message;
  CHECK(migrate_code(s, catalog, &message) == exit_update_failed);
  CHECK(message.find("[23505]") != std::string::npos);
  CHECK(s.fingerprint() == before);
  CHECK(count(scratch, "SELECT count(*) FROM pg_class WHERE relname = 't_v_key'") == 0);
  auto step = scratch.query("SELECT state FROM installer.steps WHERE name = '001_unique'");
  CHECK(*step[0][0] == "reverted");
}

TEST_CASE("real-world SQL: routines, triggers, generated columns, types and policies apply and revert exactly") {
  ScratchDatabase scratch;
  UpdateTree tree;
  tree.write("1/001_types.up.sql", R"SQL(
-- enum, domain and a table using both; a generated column
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TABLE person (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  current_mood mood DEFAULT 'ok',
  age positive,
  name_upper text GENERATED ALWAYS AS (upper(name)) STORED
);
CREATE SEQUENCE ticket_seq START 100 INCREMENT 5;
)SQL");
  tree.write("1/001_types.down.sql",
             "DROP SEQUENCE IF EXISTS ticket_seq;\nDROP TABLE IF EXISTS person;\nDROP DOMAIN IF EXISTS positive;\n"
             "DROP TYPE IF EXISTS mood;\n");
  tree.write("1/002_routines.up.sql", R"SQL(
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  -- a semicolon; inside a comment inside a body
  NEW.name := trim(NEW.name);
  IF NEW.name = '' THEN
    RAISE EXCEPTION 'empty name; refused';
  END IF;
  RETURN NEW;
END;
$body$;
CREATE TRIGGER person_touch BEFORE INSERT OR UPDATE ON person FOR EACH ROW EXECUTE FUNCTION touch();
CREATE FUNCTION add_one(x integer) RETURNS integer LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
  SELECT x + 1;
END;
CREATE PROCEDURE bump(n integer) LANGUAGE plpgsql AS $$ BEGIN PERFORM n; END; $$;
ALTER TABLE person ENABLE ROW LEVEL SECURITY;
CREATE POLICY person_self ON person USING (name = current_user);
COMMENT ON TABLE person IS 'people; with a semicolon';
INSERT INTO person (name, age) VALUES ('  ada  ', 36);
)SQL");
  tree.write("1/002_routines.down.sql", R"SQL(
DELETE FROM person;
DROP POLICY IF EXISTS person_self ON person;
ALTER TABLE person DISABLE ROW LEVEL SECURITY;
DROP PROCEDURE IF EXISTS bump(integer);
DROP FUNCTION IF EXISTS add_one(integer);
DROP TRIGGER IF EXISTS person_touch ON person;
DROP FUNCTION IF EXISTS touch();
COMMENT ON TABLE person IS NULL;
)SQL");
  EngineSession s(scratch);
  Fingerprint empty = s.fingerprint();
  REQUIRE(migrate_code(s, tree.load(Engine::postgres)) == exit_ok);
  CHECK(*scratch.query("SELECT name || '/' || name_upper || '/' || add_one(1) FROM person")[0][0] == "ada/ADA/2");
  CHECK(s.fingerprint() != empty);

  std::ostringstream out;
  Catalog none;
  Migrator(*s.ctx, none).remove_update("1", false, out);
  CHECK(out.str().find("verified") != std::string::npos);
  CHECK(s.fingerprint() == empty);
  CHECK(user_tables(scratch) == 0);
}

TEST_CASE("the fingerprint sees every kind of schema change the verification relies on") {
  ScratchDatabase scratch;
  auto db = scratch.connect();
  db->execute("CREATE TABLE f (id int PRIMARY KEY, v text DEFAULT 'x', w int)");
  db->execute("CREATE VIEW fv AS SELECT id FROM f");
  db->execute("CREATE FUNCTION ff() RETURNS int LANGUAGE sql AS 'SELECT 1'");
  Fingerprint base = db->fingerprint("installer");
  const std::vector<std::pair<std::string, std::string>> changes = {
      {"ALTER TABLE f ALTER COLUMN v SET DEFAULT 'y'", "ALTER TABLE f ALTER COLUMN v SET DEFAULT 'x'"},
      {"ALTER TABLE f ALTER COLUMN w SET NOT NULL", "ALTER TABLE f ALTER COLUMN w DROP NOT NULL"},
      {"ALTER TABLE f ALTER COLUMN w TYPE bigint", "ALTER TABLE f ALTER COLUMN w TYPE int"},
      {"CREATE INDEX f_w ON f (w)", "DROP INDEX f_w"},
      {"ALTER TABLE f ADD CONSTRAINT f_w_pos CHECK (w > 0)", "ALTER TABLE f DROP CONSTRAINT f_w_pos"},
      {"CREATE OR REPLACE VIEW fv AS SELECT id, 1 AS one FROM f", "DROP VIEW fv; CREATE VIEW fv AS SELECT id FROM f"},
      {"CREATE OR REPLACE FUNCTION ff() RETURNS int LANGUAGE sql AS 'SELECT 2'",
       "CREATE OR REPLACE FUNCTION ff() RETURNS int LANGUAGE sql AS 'SELECT 1'"},
      {"CREATE SEQUENCE fs", "DROP SEQUENCE fs"},
      {"CREATE SCHEMA other", "DROP SCHEMA other"},
  };
  for (const auto& [change, undo] : changes) {
    CAPTURE(change);
    db->execute(change);
    CHECK(db->fingerprint("installer") != base);
    for (const auto& part : split_sql(undo, SqlDialect::postgres)) db->execute(part.text);
    CHECK(db->fingerprint("installer") == base);
  }
  // The journal's own schema is not part of it.
  db->execute("CREATE SCHEMA installer");
  db->execute("CREATE TABLE installer.x (id int)");
  CHECK(db->fingerprint("installer") == base);
}

TEST_CASE("--remove-update works from the journal alone, with the update's files gone") {
  ScratchDatabase scratch;
  UpdateTree tree;
  write_four_steps(tree, 0, true);
  EngineSession s(scratch);
  REQUIRE(migrate_code(s, tree.load(Engine::postgres)) == exit_ok);
  tree.remove("2.0");
  std::ostringstream out;
  Catalog none;
  Migrator(*s.ctx, none).remove_update("2.0", false, out);
  CHECK(out.str().find("verified") != std::string::npos);
  CHECK(count(scratch, "SELECT count(*) FROM pg_class WHERE relname IN ('t1', 'base_name_idx', 'scores')") == 0);
  CHECK(count(scratch, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'score'") == 0);
}

TEST_CASE("a down script that does not restore the schema fails loudly with exit 79") {
  ScratchDatabase scratch;
  UpdateTree tree;
  tree.write("1/001_a.up.sql", "CREATE TABLE a (id int);\nCREATE INDEX a_id ON a (id);\n");
  tree.write("1/001_a.down.sql", "DROP INDEX a_id;\n");  // forgets the table
  EngineSession s(scratch);
  REQUIRE(migrate_code(s, tree.load(Engine::postgres)) == exit_ok);
  std::ostringstream out;
  Catalog none;
  try {
    Migrator(*s.ctx, none).remove_update("1", false, out);
    FAIL("expected the verification to fail");
  } catch (const UserError& e) {
    CHECK(e.code() == exit_revert_failed);
    CHECK(std::string(e.what()).find("table: 0 before, 1 now") != std::string::npos);
    CHECK(std::string(e.what()).find("not what it was before") != std::string::npos);
  }
  CHECK(*scratch.query("SELECT state FROM installer.updates ORDER BY attempt_id DESC LIMIT 1")[0][0] == "revert_failed");
}

TEST_CASE("a SET in one update's script does not leak into the next update") {
  ScratchDatabase scratch;
  UpdateTree tree;
  // pg_dump-style scripts empty the search_path; without a reset the next update's
  // unqualified CREATE TABLE would fail with "no schema has been selected".
  tree.write("1/001_a.up.sql", "SELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE public.a (id int);\n");
  tree.write("1/001_a.down.sql", "DROP TABLE IF EXISTS public.a;\n");
  tree.write("2/001_b.up.sql", "CREATE TABLE b (id int);\n");
  tree.write("2/001_b.down.sql", "DROP TABLE IF EXISTS b;\n");
  EngineSession s(scratch);
  CHECK(migrate_code(s, tree.load(Engine::postgres)) == exit_ok);
  CHECK(count(scratch, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'b'") == 1);
}
