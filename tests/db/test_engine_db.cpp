// The engine against a real server: transactions, DDL, fingerprints and the journal.
// Every test runs on PostgreSQL and on MariaDB (see main.cpp) unless its suite says
// otherwise; SQL that differs between the engines comes as .postgres./.mariadb. step
// files, the product's own mechanism.
#include "db_fixture.hpp"
#include "installer/db/db_error.hpp"
#include "installer/engine/migrator.hpp"
#include "installer/journal/journal_tables.hpp"
#include "installer/util/error.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sstream>

using namespace installer;
using namespace installer::testing;

namespace {

Catalog only_first(const Catalog& catalog) {
  Catalog first;
  first.updates.push_back(catalog.updates.at(0));
  return first;
}

/// A base update and a four-step update whose step `failing` (1-based) fails at its
/// second statement (division by zero: SQLSTATE 22012 on both engines); step 2 runs
/// outside the transaction when mixed (which only changes anything on PostgreSQL).
void write_four_steps(UpdateTree& tree, int failing, bool mixed) {
  tree.write("1.0/001_base.up.sql",
             "CREATE TABLE base (id int PRIMARY KEY, name varchar(100));\nINSERT INTO base VALUES (1, 'a');\n");
  tree.write("1.0/001_base.down.sql", "DROP TABLE IF EXISTS base;\n");
  std::string bad = "INSERT INTO base (id) VALUES (1 / 0);\n";
  auto step = [&](int k, const std::string& up) { return up + (k == failing ? bad : ""); };
  tree.write("2.0/update.toml",
             std::string("requires = \"1.0\"\n") + (mixed ? "[steps.002_index]\ntransaction = false\n" : ""));
  tree.write("2.0/001_table.up.sql",
             step(1, "CREATE TABLE t1 (id int PRIMARY KEY, base_id int REFERENCES base(id));\n"));
  tree.write("2.0/001_table.down.sql", "DROP TABLE IF EXISTS t1;\n");
  tree.write("2.0/002_index.postgres.up.sql",
             step(2, mixed ? "CREATE INDEX CONCURRENTLY IF NOT EXISTS base_name_idx ON base (name);\n"
                           : "CREATE INDEX base_name_idx ON base (name);\n"));
  tree.write("2.0/002_index.postgres.down.sql",
             mixed ? "DROP INDEX CONCURRENTLY IF EXISTS base_name_idx;\n" : "DROP INDEX IF EXISTS base_name_idx;\n");
  tree.write("2.0/002_index.mariadb.up.sql", step(2, "CREATE INDEX base_name_idx ON base (name);\n"));
  tree.write("2.0/002_index.mariadb.down.sql", "DROP INDEX IF EXISTS base_name_idx ON base;\n");
  tree.write("2.0/003_column.up.sql", step(3, "ALTER TABLE base ADD COLUMN score int NOT NULL DEFAULT 0;\n"));
  tree.write("2.0/003_column.down.sql", "ALTER TABLE base DROP COLUMN IF EXISTS score;\n");
  tree.write("2.0/004_view.up.sql", step(4, "CREATE VIEW scores AS SELECT id, score FROM base;\n"));
  tree.write("2.0/004_view.down.sql", "DROP VIEW IF EXISTS scores;\n");
}

const std::vector<std::string> kFourSteps = {"001_table", "002_index", "003_column", "004_view"};

}  // namespace

TEST_CASE("a failure in step k of n leaves the schema exactly as before, for every k") {
  // transaction = false for one step is a PostgreSQL matter: on MariaDB every step
  // already runs statement by statement, so the mixed variant would repeat the plain one.
  std::vector<bool> variants = on_postgres() ? std::vector<bool>{false, true} : std::vector<bool>{false};
  for (bool mixed : variants) {
    for (int k = 1; k <= 4; ++k) {
      CAPTURE(mixed);
      CAPTURE(k);
      ScratchDatabase scratch;
      UpdateTree tree;
      write_four_steps(tree, k, mixed);
      EngineSession s(scratch);
      Catalog catalog = tree.load();
      REQUIRE(migrate_code(s, only_first(catalog)) == exit_ok);
      Fingerprint before = s.fingerprint();
      auto objects_before = scratch.objects();

      std::string message;
      CHECK(migrate_code(s, catalog, &message) == exit_update_failed);
      CHECK(s.fingerprint() == before);
      CHECK(scratch.objects() == objects_before);
      if (on_postgres()) CHECK(scratch.count("SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 0);
      CHECK(message.find("[" + sqlstate("22012", "1365/22012") + "]") != std::string::npos);
      CHECK(message.find("verified") != std::string::npos);
      auto rows = scratch.query("SELECT state, error_step, error_sqlstate, attempt_id FROM " + journal("updates") +
                                " WHERE update_id = '2.0'");
      REQUIRE(rows.size() == 1);
      CHECK(*rows[0][0] == "failed");
      CHECK(*rows[0][1] == kFourSteps[k - 1]);
      CHECK(*rows[0][2] == sqlstate("22012", "1365/22012"));
      // Nothing is left half-done in the journal either.
      CHECK(scratch.count("SELECT count(*) FROM " + journal("updates") + " WHERE state IN ('applying', 'reverting')") ==
            0);

      // How it was undone differs by nature: one transaction rolled back on PostgreSQL
      // (no down script ran), down scripts newest first on MariaDB.
      auto steps = journal_steps(scratch, std::stoll(*rows[0][3]));
      if (on_postgres() && !mixed) {
        CHECK(message.find("transaction was rolled back") != std::string::npos);
        // The steps before k, rolled back with it; step k itself may be journaled as
        // 'failed' (docs/journal.md) or not at all; the steps after it never ran.
        CHECK(steps.size() >= static_cast<size_t>(k - 1));
        CHECK(steps.size() <= static_cast<size_t>(k));
        for (const auto& step : steps) {
          CAPTURE(step.name);
          CHECK(step.state == (step.position < k ? "rolled_back" : "failed"));
          CHECK(step.down_statements_done == 0);
        }
      } else if (!on_postgres()) {
        CHECK(message.find("was reverted from the journal, newest first") != std::string::npos);
        REQUIRE(steps.size() == static_cast<size_t>(k));  // steps after k never started
        for (const auto& step : steps) {
          CAPTURE(step.name);
          CHECK(step.state == "reverted");  // step k had committed its first statement
          CHECK(step.statements_done == (step.position == k ? 1 : step.statements_total));
          // Step k is undone from its undo records; the others by their down scripts.
          CHECK(step.down_statements_done == (step.position == k ? 0 : 1));
          CHECK(step.revert_method == (step.position == k ? "exact" : ""));
        }
      }
    }
  }
}

TEST_CASE("an update without failures journals every step as applied, with its down script") {
  ScratchDatabase scratch;
  UpdateTree tree;
  write_four_steps(tree, 0, false);
  EngineSession s(scratch);
  REQUIRE(migrate_code(s, tree.load()) == exit_ok);
  CHECK(scratch.journal_exists());
  CHECK(scratch.journal_attempts("applied") == 2);
  CHECK(scratch.journal_attempts() == 2);
  auto steps = scratch.query("SELECT s.name, s.state, s.down_script, length(s.up_checksum), s.statements_total, "
                             "s.statements_done FROM " +
                             journal("steps") + " s JOIN " + journal("updates") +
                             " u ON u.attempt_id = s.attempt_id WHERE u.update_id = '2.0' ORDER BY s.position");
  REQUIRE(steps.size() == 4);
  for (size_t i = 0; i < steps.size(); ++i) {
    CAPTURE(i);
    CHECK(*steps[i][0] == kFourSteps[i]);
    CHECK(*steps[i][1] == "applied");
    CHECK(*steps[i][3] == "64");
    CHECK(*steps[i][4] == "1");
    CHECK(*steps[i][5] == "1");
  }
  CHECK(*steps[0][2] == "DROP TABLE IF EXISTS t1;\n");
  // The engine's own down script is journaled, not the other engine's.
  CHECK(*steps[1][2] ==
        by_engine("DROP INDEX IF EXISTS base_name_idx;\n", "DROP INDEX IF EXISTS base_name_idx ON base;\n"));
  auto update = scratch.query(
      "SELECT host, installer_version, CASE WHEN fingerprint_before <> fingerprint_after THEN 1 ELSE 0 END, "
      "CASE WHEN finished_at IS NOT NULL THEN 1 ELSE 0 END, fingerprint_after FROM " +
      journal("updates") + " WHERE update_id = '2.0'");
  CHECK(*update[0][0] == "test-host");
  CHECK(*update[0][1] == INSTALLER_VERSION);
  CHECK(*update[0][2] == "1");
  CHECK(*update[0][3] == "1");
  CHECK(*update[0][4] == s.snapshot_record());
  CHECK(scratch.count("SELECT format_version FROM " + journal("journal_format")) == kJournalFormat);
  CHECK(scratch.table_exists("t1"));
  CHECK(scratch.index_exists("base", "base_name_idx"));
  CHECK(scratch.column_exists("base", "score"));
  CHECK(scratch.table_exists("scores"));
}

TEST_CASE("a failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index, which the revert removes" *
          doctest::test_suite(kPostgresOnly)) {
  ScratchDatabase scratch;
  UpdateTree tree;
  tree.write("1/001_t.up.sql", "CREATE TABLE t (v int);\nINSERT INTO t VALUES (1), (1);\n");
  tree.write("1/001_t.down.sql", "DROP TABLE IF EXISTS t;\n");
  tree.write("2/update.toml", "[steps.001_unique]\ntransaction = false\n");
  tree.write("2/001_unique.up.sql", "CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v);\n");
  tree.write("2/001_unique.down.sql", "DROP INDEX CONCURRENTLY IF EXISTS t_v_key;\n");
  EngineSession s(scratch);
  Catalog catalog = tree.load();
  REQUIRE(migrate_code(s, only_first(catalog)) == exit_ok);
  Fingerprint before = s.fingerprint();
  std::string message;
  CHECK(migrate_code(s, catalog, &message) == exit_update_failed);
  CHECK(message.find("[23505]") != std::string::npos);
  CHECK(s.fingerprint() == before);
  CHECK(scratch.count("SELECT count(*) FROM pg_class WHERE relname = 't_v_key'") == 0);
  auto step = scratch.query("SELECT state FROM installer.steps WHERE name = '001_unique'");
  CHECK(*step[0][0] == "reverted");
}

TEST_CASE("MariaDB: a unique index over duplicates fails atomically; nothing to revert, no down script runs" *
          doctest::test_suite(kMariadbOnly)) {
  // The counterpart of the CONCURRENTLY test: InnoDB builds the index in one atomic DDL,
  // so the failed statement leaves nothing and the step is journaled rolled_back.
  ScratchDatabase scratch;
  UpdateTree tree;
  tree.write("1/001_t.up.sql", "CREATE TABLE t (v int);\nINSERT INTO t VALUES (1), (1);\n");
  tree.write("1/001_t.down.sql", "DROP TABLE IF EXISTS t;\n");
  tree.write("2/001_unique.up.sql", "ALTER TABLE t ADD UNIQUE KEY t_v_key (v), ALGORITHM=INPLACE, LOCK=NONE;\n");
  // Without IF EXISTS: had the revert run this down, the journal would say so (and it would fail).
  tree.write("2/001_unique.down.sql", "ALTER TABLE t DROP INDEX t_v_key;\n");
  EngineSession s(scratch);
  Catalog catalog = tree.load();
  REQUIRE(migrate_code(s, only_first(catalog)) == exit_ok);
  Fingerprint before = s.fingerprint();
  auto objects_before = scratch.objects();
  std::string message;
  CHECK(migrate_code(s, catalog, &message) == exit_update_failed);
  CHECK(message.find("[1062/23000]") != std::string::npos);
  CHECK(message.find("verified") != std::string::npos);
  CHECK(s.fingerprint() == before);
  CHECK(scratch.objects() == objects_before);
  CHECK_FALSE(scratch.index_exists("t", "t_v_key"));
  auto steps = journal_steps(scratch, scratch.latest_attempt("2"));
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].state == "rolled_back");
  CHECK(steps[0].statements_done == 0);
  CHECK(steps[0].down_statements_done == 0);
}

TEST_CASE("real-world SQL: routines, triggers, generated columns, types and policies apply and revert exactly" *
          doctest::test_suite(kPostgresOnly)) {
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
  REQUIRE(migrate_code(s, tree.load()) == exit_ok);
  CHECK(*scratch.query("SELECT name || '/' || name_upper || '/' || add_one(1) FROM person")[0][0] == "ada/ADA/2");
  CHECK(s.fingerprint() != empty);

  std::ostringstream out;
  Catalog none;
  Migrator(*s.ctx, none).remove_update("1", false, out);
  CHECK(out.str().find("verified") != std::string::npos);
  CHECK(s.fingerprint() == empty);
  CHECK(scratch.count("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                      "WHERE n.nspname = 'public'") == 0);
}

TEST_CASE("real-world MariaDB SQL: DELIMITER routines and triggers, generated columns, CHECK, SEQUENCE apply and "
          "revert exactly" *
          doctest::test_suite(kMariadbOnly)) {
  ScratchDatabase scratch;
  UpdateTree tree;
  tree.write("1/001_schema.mariadb.up.sql", R"SQL(
-- a sequence feeding a default, STORED and VIRTUAL generated columns (one indexed),
-- a named CHECK constraint, and a table comment with a semicolon; in it
CREATE SEQUENCE ticket_seq START WITH 100 INCREMENT BY 5;
CREATE TABLE person (
  id          BIGINT NOT NULL AUTO_INCREMENT,
  name        VARCHAR(100) NOT NULL,
  age         INT NULL,
  ticket      BIGINT NOT NULL DEFAULT (NEXT VALUE FOR ticket_seq),
  name_upper  VARCHAR(100) AS (UPPER(name)) STORED,
  name_length INT AS (CHAR_LENGTH(name)) VIRTUAL,
  PRIMARY KEY (id),
  KEY person_name_length_idx (name_length),
  CONSTRAINT person_age_check CHECK (age IS NULL OR age BETWEEN 1 AND 150)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='people; with a semicolon';
)SQL");
  tree.write("1/001_schema.mariadb.down.sql", "DROP TABLE IF EXISTS person;\nDROP SEQUENCE IF EXISTS ticket_seq;\n");
  tree.write("1/002_routines.mariadb.up.sql", R"SQL(
-- the mariadb client's DELIMITER, with a space before it ...
DELIMITER //
CREATE TRIGGER person_trim BEFORE INSERT ON person FOR EACH ROW
BEGIN
  -- a semicolon; inside a comment inside a body
  SET NEW.name = TRIM(NEW.name);
  IF NEW.name = '' THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'empty name; refused';
  END IF;
END //
CREATE PROCEDURE add_person(IN p_name VARCHAR(100), IN p_age INT)
MODIFIES SQL DATA
BEGIN
  INSERT INTO person (name, age) VALUES (p_name, p_age);
END //
DELIMITER ;
-- ... and without one
DELIMITER $$
CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC
BEGIN
  RETURN x + 1;
END$$
CREATE TRIGGER person_keep_age BEFORE UPDATE ON person FOR EACH ROW
BEGIN
  SET NEW.age = COALESCE(NEW.age, OLD.age);
END$$
-- an anonymous block (needs a DELIMITER, as in the mariadb client): add a column
-- only where a hand-made hotfix has not added it already
BEGIN NOT ATOMIC
  IF NOT EXISTS (SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
                 AND TABLE_NAME = 'person' AND COLUMN_NAME = 'nickname') THEN
    ALTER TABLE person ADD COLUMN nickname VARCHAR(50) NULL;
  END IF;
END$$
DELIMITER ;
CALL add_person('  ada  ', 36);
)SQL");
  tree.write("1/002_routines.mariadb.down.sql", R"SQL(
DELETE FROM person;
ALTER TABLE person DROP COLUMN IF EXISTS nickname;
DROP TRIGGER IF EXISTS person_keep_age;
DROP FUNCTION IF EXISTS add_one;
DROP PROCEDURE IF EXISTS add_person;
DROP TRIGGER IF EXISTS person_trim;
)SQL");
  // A second update replaces the function; its down restores the old body, itself
  // written with DELIMITER, and must restore it byte for byte for the fingerprint.
  tree.write("2/update.toml", "requires = \"1\"\n");
  tree.write("2/001_add_one_v2.mariadb.up.sql", R"SQL(
DROP FUNCTION IF EXISTS add_one;
DELIMITER $$
CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC
BEGIN
  RETURN x + 1 + 0;
END$$
DELIMITER ;
)SQL");
  tree.write("2/001_add_one_v2.mariadb.down.sql", R"SQL(
DROP FUNCTION IF EXISTS add_one;
DELIMITER $$
CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC
BEGIN
  RETURN x + 1;
END$$
DELIMITER ;
)SQL");

  EngineSession s(scratch);
  Fingerprint empty = s.fingerprint();
  Catalog catalog = tree.load();
  std::string message;
  INFO(message);
  REQUIRE(migrate_code(s, only_first(catalog), &message) == exit_ok);
  Fingerprint after_first = s.fingerprint();
  CHECK(after_first != empty);
  CHECK(scratch.scalar("SELECT CONCAT(name, '/', name_upper, '/', name_length, '/', add_one(1), '/', ticket) "
                       "FROM person") == "ada/ADA/3/2/100");
  CHECK(scratch.routine_exists("add_person"));
  CHECK(scratch.trigger_exists("person_trim"));
  CHECK(scratch.trigger_exists("person_keep_age"));
  CHECK(scratch.constraint_exists("person", "person_age_check"));
  CHECK(scratch.index_exists("person", "person_name_length_idx"));
  CHECK(scratch.table_exists("ticket_seq"));
  CHECK(scratch.column_exists("person", "nickname"));
  // The trigger's body, split correctly, still refuses what it should.
  try {
    scratch.execute("INSERT INTO person (name) VALUES ('   ')");
    FAIL("the trigger should refuse an empty name");
  } catch (const DbError& e) {
    CHECK(std::string(e.what()).find("empty name; refused") != std::string::npos);
  }
  CHECK(scratch.count("SELECT count(*) FROM person") == 1);

  REQUIRE(migrate_code(s, catalog, &message) == exit_ok);
  CHECK(s.fingerprint() != after_first);  // the function body is part of it

  // Removed from the CLI, as an operator would, newest first.
  std::map<std::string, std::string> env{{"INSTALLER_DB_URL", scratch.url()}};
  RunResult second = run_installer({"--remove-update", "2"}, env);
  INFO(second.err);
  CHECK(second.exit_code == 0);
  CHECK(second.out.find("verified") != std::string::npos);
  CHECK(s.fingerprint() == after_first);
  CHECK(scratch.scalar("SELECT add_one(41)") == "42");
  RunResult first = run_installer({"--remove-update", "1"}, env);
  INFO(first.err);
  INFO(first.out);
  CHECK(first.exit_code == 0);
  // The empty schema is a fingerprint too (every kind with count 0): removing the first
  // update is verified against it.
  CHECK(first.out.find("verified") != std::string::npos);
  CHECK(first.out.find("updates applied after it are still applied") == std::string::npos);
  CHECK(s.fingerprint() == empty);
  CHECK(scratch.objects().empty());
  CHECK(scratch.count("SELECT count(*) FROM information_schema.routines WHERE routine_schema = DATABASE()") == 0);
  CHECK(scratch.count("SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()") == 0);
}

TEST_CASE("the fingerprint sees every kind of schema change the verification relies on") {
  ScratchDatabase scratch;
  auto db = scratch.connect();
  using Changes = std::vector<std::pair<std::string, std::string>>;
  if (on_postgres()) {
    db->execute("CREATE TABLE f (id int PRIMARY KEY, v text DEFAULT 'x', w int)");
    db->execute("CREATE VIEW fv AS SELECT id FROM f");
    db->execute("CREATE FUNCTION ff() RETURNS int LANGUAGE sql AS 'SELECT 1'");
  } else {
    db->execute("CREATE TABLE f (id int PRIMARY KEY, v varchar(20) DEFAULT 'x', w int NULL)");
    db->execute("CREATE VIEW fv AS SELECT id FROM f");
    db->execute("CREATE FUNCTION ff() RETURNS int DETERMINISTIC RETURN 1");
  }
  Fingerprint base = schema_fingerprint(*db, "installer");
  const Changes changes = by_engine<Changes>(
      {
          {"ALTER TABLE f ALTER COLUMN v SET DEFAULT 'y'", "ALTER TABLE f ALTER COLUMN v SET DEFAULT 'x'"},
          {"ALTER TABLE f ALTER COLUMN w SET NOT NULL", "ALTER TABLE f ALTER COLUMN w DROP NOT NULL"},
          {"ALTER TABLE f ALTER COLUMN w TYPE bigint", "ALTER TABLE f ALTER COLUMN w TYPE int"},
          {"CREATE INDEX f_w ON f (w)", "DROP INDEX f_w"},
          {"ALTER TABLE f ADD CONSTRAINT f_w_pos CHECK (w > 0)", "ALTER TABLE f DROP CONSTRAINT f_w_pos"},
          {"CREATE OR REPLACE VIEW fv AS SELECT id, 1 AS one FROM f",
           "DROP VIEW fv; CREATE VIEW fv AS SELECT id FROM f"},
          {"CREATE OR REPLACE FUNCTION ff() RETURNS int LANGUAGE sql AS 'SELECT 2'",
           "CREATE OR REPLACE FUNCTION ff() RETURNS int LANGUAGE sql AS 'SELECT 1'"},
          {"CREATE SEQUENCE fs", "DROP SEQUENCE fs"},
          {"CREATE SCHEMA other", "DROP SCHEMA other"},
      },
      {
          {"ALTER TABLE f ALTER COLUMN v SET DEFAULT 'y'", "ALTER TABLE f ALTER COLUMN v SET DEFAULT 'x'"},
          {"ALTER TABLE f MODIFY w int NOT NULL", "ALTER TABLE f MODIFY w int NULL"},
          {"ALTER TABLE f MODIFY w bigint NULL", "ALTER TABLE f MODIFY w int NULL"},
          {"ALTER TABLE f MODIFY v varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT 'x'",
           "ALTER TABLE f MODIFY v varchar(20) DEFAULT 'x'"},
          {"CREATE INDEX f_w ON f (w)", "DROP INDEX f_w ON f"},
          {"CREATE UNIQUE INDEX f_w ON f (w)", "DROP INDEX f_w ON f"},
          {"ALTER TABLE f ADD CONSTRAINT f_w_pos CHECK (w > 0)", "ALTER TABLE f DROP CONSTRAINT f_w_pos"},
          {"ALTER TABLE f COMMENT = 'changed'", "ALTER TABLE f COMMENT = ''"},
          {"CREATE OR REPLACE VIEW fv AS SELECT id, 1 AS one FROM f", "CREATE OR REPLACE VIEW fv AS SELECT id FROM f"},
          {"DROP FUNCTION ff; CREATE FUNCTION ff() RETURNS int DETERMINISTIC RETURN 2",
           "DROP FUNCTION ff; CREATE FUNCTION ff() RETURNS int DETERMINISTIC RETURN 1"},
          {"CREATE PROCEDURE fp() SELECT 1", "DROP PROCEDURE fp"},
          {"CREATE TRIGGER ft BEFORE INSERT ON f FOR EACH ROW SET NEW.w = 1", "DROP TRIGGER ft"},
          {"CREATE EVENT fe ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM f", "DROP EVENT fe"},
          {"CREATE SEQUENCE fs", "DROP SEQUENCE fs"},
          {"CREATE TABLE g (id int)", "DROP TABLE g"},
          // Only the journal's three tables are left out, not everything named installer_*.
          {"CREATE TABLE installer_other (id int)", "DROP TABLE installer_other"},
      });
  const SqlDialect dialect = dialect_for(engine());
  for (const auto& [change, undo] : changes) {
    CAPTURE(change);
    for (const auto& part : split_sql(change, dialect)) db->execute(part.text);
    CHECK(schema_fingerprint(*db, "installer") != base);
    for (const auto& part : split_sql(undo, dialect)) db->execute(part.text);
    CHECK(schema_fingerprint(*db, "installer") == base);
  }
  // The journal's own tables are not part of it.
  if (on_postgres()) {
    db->execute("CREATE SCHEMA installer");
    db->execute("CREATE TABLE installer.x (id int)");
  } else {
    for (const auto& t : journal_tables_on_engine())
      db->execute("CREATE TABLE " + t + " (id int PRIMARY KEY, note text)");
    db->execute("CREATE INDEX installer_updates_note ON installer_updates (note(10))");
  }
  CHECK(schema_fingerprint(*db, "installer") == base);
}

TEST_CASE("--remove-update works from the journal alone, with the update's files gone") {
  ScratchDatabase scratch;
  UpdateTree tree;
  write_four_steps(tree, 0, true);
  EngineSession s(scratch);
  REQUIRE(migrate_code(s, only_first(tree.load())) == exit_ok);
  Fingerprint before = s.fingerprint();
  auto objects_before = scratch.objects();
  REQUIRE(migrate_code(s, tree.load()) == exit_ok);
  CHECK(scratch.table_exists("t1"));
  CHECK(scratch.index_exists("base", "base_name_idx"));
  tree.remove("2.0");
  std::ostringstream out;
  Catalog none;
  Migrator(*s.ctx, none).remove_update("2.0", false, out);
  CHECK(out.str().find("verified") != std::string::npos);
  CHECK_FALSE(scratch.table_exists("t1"));
  CHECK_FALSE(scratch.index_exists("base", "base_name_idx"));
  CHECK_FALSE(scratch.table_exists("scores"));
  CHECK_FALSE(scratch.column_exists("base", "score"));
  CHECK(scratch.objects() == objects_before);
  CHECK(s.fingerprint() == before);
  CHECK(scratch.journal_attempts("removed", "2.0") == 1);
}

TEST_CASE("a down script that does not restore the schema fails loudly with exit 79") {
  ScratchDatabase scratch;
  UpdateTree tree;
  // The catalog pairs each up variant with a down of the same variant or a generic one,
  // so engine-specific downs come with engine-specific (here identical) ups.
  for (const char* e : {"postgres", "mariadb"})
    tree.write(fmt::format("1/001_a.{}.up.sql", e), "CREATE TABLE a (id int);\nCREATE INDEX a_id ON a (id);\n");
  tree.write("1/001_a.postgres.down.sql", "DROP INDEX a_id;\n");  // forgets the table
  tree.write("1/001_a.mariadb.down.sql", "DROP INDEX a_id ON a;\n");
  EngineSession s(scratch);
  REQUIRE(migrate_code(s, tree.load()) == exit_ok);
  std::ostringstream out;
  Catalog none;
  ExitCode code = exit_ok;
  std::string message;
  try {
    Migrator(*s.ctx, none).remove_update("1", false, out);
  } catch (const UserError& e) {
    code = e.code();
    message = e.what();
  }
  INFO(message);
  INFO(out.str());
  // Applied to an empty database: the verification compares with the empty schema.
  CHECK(code == exit_revert_failed);
  CHECK(message.find(by_engine("table public.a: present, was absent", "table a: present, was absent")) !=
        std::string::npos);
  CHECK(message.find("not what it was before") != std::string::npos);
  CHECK(scratch.scalar("SELECT state FROM " + journal("updates") + " ORDER BY attempt_id DESC LIMIT 1") ==
        "revert_failed");
  CHECK(scratch.table_exists("a"));
  CHECK_FALSE(scratch.index_exists("a", "a_id"));
}

TEST_CASE("a SET in one update's script does not leak into the next update") {
  ScratchDatabase scratch;
  UpdateTree tree;
  // PostgreSQL: pg_dump-style scripts empty the search_path; without a reset the next
  // update's unqualified CREATE TABLE would fail with "no schema has been selected".
  // The defaults a transaction takes when it starts count too: left in force, the next
  // update's transaction would be read-only and serializable.
  tree.write("1/001_a.postgres.up.sql",
             "SELECT pg_catalog.set_config('search_path', '', false);\nSET TIME ZONE 'Asia/Tokyo';\n"
             "SET default_transaction_read_only = on;\nSET default_transaction_isolation = 'serializable';\n"
             "CREATE TABLE public.a (id int);\n");
  tree.write("1/001_a.postgres.down.sql", "DROP TABLE IF EXISTS public.a;\n");
  // MariaDB: mysqldump-style scripts switch off foreign key checks and strict mode; the
  // first is what lets this script reference a table that does not exist yet.
  tree.write("1/001_a.mariadb.up.sql",
             "SET SESSION foreign_key_checks = 0;\nSET sql_mode = '';\nSET time_zone = '+09:00';\n"
             "CREATE TABLE a (id int PRIMARY KEY, parent_id int,\n"
             "  CONSTRAINT a_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id));\n");
  tree.write("1/001_a.mariadb.down.sql", "DROP TABLE IF EXISTS a;\n");
  // The next update records the settings it runs with.
  tree.write("2/001_b.postgres.up.sql",
             "CREATE TABLE b AS SELECT current_setting('search_path') AS search_path, "
             "current_setting('TimeZone') AS time_zone, current_setting('transaction_isolation') AS isolation;\n");
  tree.write("2/001_b.mariadb.up.sql",
             "CREATE TABLE b AS SELECT @@SESSION.foreign_key_checks AS fk, @@SESSION.sql_mode AS sql_mode, "
             "@@SESSION.time_zone AS time_zone;\n");
  tree.write("2/001_b.down.sql", "DROP TABLE IF EXISTS b;\n");
  EngineSession s(scratch);
  CHECK(migrate_code(s, tree.load()) == exit_ok);
  REQUIRE(scratch.table_exists("b"));
  if (on_postgres()) {
    auto fresh = scratch.query(
        "SELECT current_setting('search_path'), current_setting('TimeZone'), current_setting('transaction_isolation')");
    auto seen = scratch.query("SELECT search_path, time_zone, isolation FROM b");
    CHECK(*seen[0][0] == *fresh[0][0]);
    CHECK(*seen[0][1] == *fresh[0][1]);
    CHECK(*seen[0][2] == *fresh[0][2]);
  } else {
    auto fresh = scratch.query("SELECT @@GLOBAL.sql_mode, @@GLOBAL.time_zone");
    auto seen = scratch.query("SELECT fk, sql_mode, time_zone FROM b");
    CHECK(*seen[0][0] == "1");
    CHECK(*seen[0][1] == *fresh[0][0]);
    CHECK(*seen[0][2] == *fresh[0][1]);
  }
}

TEST_CASE("a script's DEALLOCATE ALL does not break the next update's journal rows" *
          doctest::test_suite(kPostgresOnly)) {
  // The journal's statements are prepared once per session; a script that drops every
  // prepared statement must not make the next update's journal write fail.
  ScratchDatabase scratch;
  UpdateTree tree;
  tree.write("1/001_a.up.sql", "CREATE TABLE a (id int);\nDEALLOCATE ALL;\n");
  tree.write("1/001_a.down.sql", "DROP TABLE IF EXISTS a;\n");
  tree.write("2/001_b.up.sql", "CREATE TABLE b (id int);\nDEALLOCATE ALL;\n");
  tree.write("2/001_b.down.sql", "DROP TABLE IF EXISTS b;\n");
  tree.write("3/001_c.up.sql", "CREATE TABLE c (id int);\n");
  tree.write("3/001_c.down.sql", "DROP TABLE IF EXISTS c;\n");
  EngineSession s(scratch);
  std::string message;
  CHECK(migrate_code(s, tree.load(), &message) == exit_ok);
  INFO(message);
  CHECK(scratch.table_exists("c"));
  CHECK(scratch.journal_attempts("applied", "3") == 1);
}

TEST_CASE("the first update on an empty database is verified against the empty schema") {
  // Step 001's down script forgets its table; step 002 fails. The revert runs the downs
  // and must then find the schema differs from the (empty) one before the update.
  ScratchDatabase scratch;
  UpdateTree tree;
  tree.write("1/001_a.up.sql", "CREATE TABLE a (id int);\n");
  tree.write("1/001_a.down.sql", "-- forgets to drop table a\n");
  tree.write("1/002_b.up.sql", "INSERT INTO a (id) SELECT id FROM it_no_such_table;\n");
  tree.write("1/002_b.down.sql", "");
  // On PostgreSQL outside the transaction, so that down scripts run there too.
  tree.write("1/update.toml", "[steps.001_a]\ntransaction = false\n[steps.002_b]\ntransaction = false\n");
  EngineSession s(scratch);
  Fingerprint empty = s.fingerprint();
  std::string message;
  ExitCode code = migrate_code(s, tree.load(), &message);
  INFO(message);
  CHECK(scratch.table_exists("a"));  // what the faulty down script left behind
  CHECK(s.fingerprint() != empty);
  // Not "verified" against nothing: the empty schema's fingerprint has every kind at 0.
  CHECK(code == exit_revert_failed);
  CHECK(message.find("not what it was before the update") != std::string::npos);
  CHECK(message.find("verified equal") == std::string::npos);
  CHECK(scratch.journal_attempts("revert_failed", "1") == 1);
}

TEST_CASE("MariaDB: mysqldump-style statements in a script (CALL returning rows, LOCK TABLES, USE)" *
          doctest::test_suite(kMariadbOnly)) {
  // Whatever the installer makes of these, exit 70 promises "reverted and verified,
  // nothing needs repair" (docs/cli.md), so it must never come with the attempt left
  // 'applying' and the update's tables still there.
  ScratchDatabase db;
  UpdateTree tree;
  auto env = std::map<std::string, std::string>{{"INSTALLER_DB_URL", db.url()},
                                                {"INSTALLER_UPDATES", tree.root().string()}};
  tree.write("1/001_a.down.sql",
             "DROP TABLE IF EXISTS b;\nDROP PROCEDURE IF EXISTS report;\nDROP TABLE IF EXISTS a;\n");
  auto check_honest_exit = [&](const RunResult& r) {
    if (r.exit_code == exit_update_failed) {
      CHECK(db.journal_attempts("applying") == 0);
      CHECK_FALSE(db.table_exists("a"));
    }
  };

  SUBCASE("CALL of a procedure that returns a result set") {
    tree.write("1/001_a.mariadb.up.sql", R"SQL(
CREATE TABLE a (id int);
DELIMITER //
CREATE PROCEDURE report()
BEGIN
  SELECT COUNT(*) AS n FROM a;
END //
DELIMITER ;
CALL report();
CREATE TABLE b (id int);
)SQL");
    tree.write("1/001_a.mariadb.down.sql",
               "DROP TABLE IF EXISTS b;\nDROP PROCEDURE IF EXISTS report;\nDROP TABLE IF EXISTS a;\n");
    RunResult r = run_installer({"migrate"}, env);
    INFO(r.err);
    // CALL returns its result sets and then a status; all of them are read, or the
    // session's next command would fail with "Commands out of sync".
    CHECK(r.exit_code == 0);
    CHECK(db.table_exists("b"));
    CHECK(db.journal_attempts("applied", "1") == 1);
    check_honest_exit(r);
  }

  SUBCASE("LOCK TABLES around data, as mysqldump writes it") {
    tree.write("1/001_a.mariadb.up.sql", R"SQL(
CREATE TABLE a (id int);
LOCK TABLES `a` WRITE;
/*!40000 ALTER TABLE `a` DISABLE KEYS */;
INSERT INTO `a` VALUES (1),(2);
/*!40000 ALTER TABLE `a` ENABLE KEYS */;
UNLOCK TABLES;
)SQL");
    tree.write("1/001_a.mariadb.down.sql", "DROP TABLE IF EXISTS a;\n");
    RunResult r = run_installer({"migrate"}, env);
    INFO(r.err);
    // LOCK TABLES would block the journal's writes between statements: refused up front,
    // with the file and line, before anything touches the database.
    CHECK(r.exit_code == exit_data);
    CHECK(r.err.find("001_a.mariadb.up.sql:3: LOCK TABLES") != std::string::npos);
    CHECK_FALSE(db.journal_exists());
    check_honest_exit(r);
  }

  SUBCASE("USE is refused up front, with file and line") {
    // The update files are checked before any connection, so the lint cannot tell the
    // URL's database from another: every USE is refused. What a script would do in
    // another database is neither fingerprinted nor revertible.
    ScratchDatabase other;
    tree.write("1/001_b.mariadb.up.sql",
               fmt::format("CREATE TABLE b (id int);\nUSE `{}`;\nCREATE TABLE c (id int);\n", other.name()));
    tree.write("1/001_b.mariadb.down.sql", "DROP TABLE IF EXISTS c;\nDROP TABLE IF EXISTS b;\n");
    RunResult r = run_installer({"migrate"}, env);
    INFO(r.err);
    CHECK(r.exit_code == exit_data);
    CHECK(r.err.find("001_b.mariadb.up.sql:2: USE would switch the session to another database") != std::string::npos);
    CHECK_FALSE(db.table_exists("b"));
    CHECK_FALSE(db.journal_exists());
    CHECK(other.query("SHOW TABLES").empty());
  }
}
