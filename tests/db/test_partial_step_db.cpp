// Constructs seen in public projects' migration histories that the installer once
// refused or could not revert, reproduced with SQL of our own, on both engines: empty
// steps, and steps that fail part-way whose down script assumes the whole step ran.
// On PostgreSQL the stepwise cases use transaction = false (each statement commits on
// its own, as every statement does on MariaDB).
#include "db_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace installer;
using namespace installer::testing;

namespace {

const char* const kFailing = "SELECT * FROM realworld_injected_failure;\n";

void write_base(UpdateTree& tree) {
  tree.write("1/001_base.up.sql", "CREATE TABLE base (id int PRIMARY KEY, name varchar(40));\n"
                                  "INSERT INTO base VALUES (1, 'a');\n");
  tree.write("1/001_base.down.sql", "DROP TABLE base;\n");
}

/// Update 2's one step: `up` with the failing statement after its statement `fail_after`
/// (0: none), run outside a transaction on PostgreSQL.
void write_step(UpdateTree& tree, const std::vector<std::string>& up, const std::string& down, size_t fail_after) {
  std::string text;
  for (size_t i = 0; i < up.size(); ++i) {
    text += up[i] + ";\n";
    if (i + 1 == fail_after) text += kFailing;
  }
  tree.write("2/update.toml", "[steps.001_x]\ntransaction = false\n");
  tree.write("2/001_x.up.sql", text);
  tree.write("2/001_x.down.sql", down);
}

/// A scratch database with update 1 applied, and its objects then.
struct BaseApplied {
  BaseApplied() {
    write_base(tree);
    env = env_for(db, tree);
    RunResult applied = run_installer({"migrate"}, env);
    INFO(applied.err);
    REQUIRE(applied.exit_code == 0);
    before = db.objects();
  }
  ScratchDatabase db;
  UpdateTree tree;
  std::map<std::string, std::string> env;
  std::set<std::string> before;
};

struct PartialCase {
  std::vector<std::string> up;
  std::string down;
};

/// A step whose down script is right for the whole step only: it calls a routine the up
/// creates last, and drops an index without IF EXISTS.
PartialCase down_for_the_whole_step() {
  if (on_postgres())
    return {{"CREATE TABLE coupons (id int PRIMARY KEY, code text NOT NULL)",
             "CREATE INDEX CONCURRENTLY base_name_idx ON base (name)",
             "CREATE INDEX coupons_code_idx ON coupons (code)",
             "CREATE FUNCTION coupon_cleanup() RETURNS void LANGUAGE sql AS $$ DELETE FROM coupons $$"},
            "SELECT coupon_cleanup();\nDROP FUNCTION coupon_cleanup();\nDROP INDEX coupons_code_idx;\n"
            "DROP INDEX CONCURRENTLY base_name_idx;\nDROP TABLE coupons;\n"};
  return {{"CREATE TABLE coupons (id int PRIMARY KEY, code varchar(40) NOT NULL)",
           "ALTER TABLE base ADD COLUMN coupon_id int NULL, MODIFY name varchar(80) NOT NULL DEFAULT ''",
           "CREATE INDEX base_coupon_idx ON base (coupon_id)", "CREATE PROCEDURE coupon_cleanup() DELETE FROM coupons"},
          "CALL coupon_cleanup();\nDROP PROCEDURE coupon_cleanup;\nDROP INDEX base_coupon_idx ON base;\n"
          "ALTER TABLE base DROP COLUMN coupon_id, MODIFY name varchar(40);\nDROP TABLE coupons;\n"};
}

}  // namespace

TEST_CASE("real histories: empty and comment-only steps are journaled, removed and applied again like any other") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base(tree);
  tree.write("2/001_placeholder.up.sql", "-- nothing to do on this engine\n");
  tree.write("2/001_placeholder.down.sql", "");
  tree.write("2/002_marker.up.sql", "/* version marker */\n");
  tree.write("2/002_marker.down.sql", "-- nothing\n");
  tree.write("2/003_real.up.sql", "CREATE TABLE real_one (id int);\n");
  tree.write("2/003_real.down.sql", "DROP TABLE real_one;\n");
  auto env = env_for(db, tree);
  RunResult applied = run_installer({"migrate"}, env);
  INFO(applied.err);
  REQUIRE(applied.exit_code == 0);
  auto steps = journal_steps(db, db.latest_attempt("2"));
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].state == "applied");
  CHECK(steps[0].statements_total == 0);
  CHECK(steps[1].statements_total == 0);
  CHECK(steps[2].statements_total == 1);
  RunResult removed = run_installer({"--remove-update", "2"}, env);
  INFO(removed.all());
  CHECK(removed.exit_code == 0);
  CHECK(removed.out.find("schema verified") != std::string::npos);
  CHECK_FALSE(db.table_exists("real_one"));
  CHECK(run_installer({"migrate"}, env).exit_code == 0);
  CHECK(db.table_exists("real_one"));
}

TEST_CASE(
    "real histories: a failure at any statement of a step whose down assumes the whole step leaves the schema as before") {
  PartialCase c = down_for_the_whole_step();
  for (size_t fail_after = 1; fail_after <= c.up.size() - 1; ++fail_after) {
    CAPTURE(fail_after);
    BaseApplied base;
    auto& [db, tree, env, before] = base;
    write_step(tree, c.up, c.down, fail_after);
    RunResult failed = run_installer({"migrate"}, env);
    INFO(failed.err);
    CHECK(failed.exit_code == 70);
    CHECK(failed.err.find("undone exactly, statement by statement") != std::string::npos);
    CHECK(failed.err.find("verified equal to its snapshot ") != std::string::npos);
    CHECK(db.objects() == before);
    auto steps = journal_steps(db, db.latest_attempt("2"));
    REQUIRE(steps.size() == 1);
    CHECK(steps[0].revert_method == "exact");
    CHECK(steps[0].down_statements_done == 0);
    CHECK(db.count("SELECT count(*) FROM base WHERE id = 1 AND name = 'a'") == 1);  // the data stays
    RunResult history = run_installer({"history"}, env);
    CHECK(history.out.find("step 001_x: undone exactly, statement by statement") != std::string::npos);
    RunResult history_json = run_installer({"history", "--json"}, env);
    CHECK(history_json.out.find("\"revert_method\": \"exact\"") != std::string::npos);
  }
  // What the installer did before undo records: the whole step's down script on a partly
  // applied step, which fails and leaves the database to a person.
  ScratchDatabase db;
  UpdateTree tree;
  write_base(tree);
  write_step(tree, c.up, c.down, 2);
  auto env = env_for(db, tree);
  env["INSTALLER_TEST_PARTIAL_REVERT"] = "strict-down";
  RunResult old_way = run_installer({"migrate"}, env);
  INFO(old_way.err);
  CHECK(old_way.exit_code == 79);
}

TEST_CASE(
    "real histories: from a statement with no exact inverse, the down script finishes, passing over what never ran") {
  // Statement 2 has no exact inverse (PostgreSQL: ALTER TABLE; MariaDB: a dropped column,
  // whose data is gone): from there the down script runs, and its DROPs of what was never
  // created are passed over.
  BaseApplied base;
  auto& [db, tree, env, before] = base;
  write_step(tree,
             {"CREATE TABLE a (id int)",
              by_engine("ALTER TABLE base ADD COLUMN extra int", "ALTER TABLE base DROP COLUMN name"),
              "CREATE TABLE b (id int)", "CREATE TABLE c (id int)"},
             std::string("DROP TABLE c;\nDROP TABLE b;\n") +
                 by_engine("ALTER TABLE base DROP COLUMN extra;\n", "ALTER TABLE base ADD COLUMN name varchar(40);\n") +
                 "DROP TABLE a;\n",
             3);
  RunResult failed = run_installer({"migrate"}, env);
  INFO(failed.err);
  CHECK(failed.exit_code == 70);
  CHECK(failed.err.find("undone exactly: 3; statement 2 (") != std::string::npos);
  CHECK(failed.err.find("has no exact inverse") != std::string::npos);
  CHECK(failed.err.find("passing over 2 statement(s) whose objects were absent") != std::string::npos);
  CHECK(db.objects() == before);
  CHECK(journal_steps(db, db.latest_attempt("2"))[0].revert_method == "tolerant-down");
}

TEST_CASE("real histories: rows written to a table that existed before stay, and the report says so") {
  BaseApplied base;
  auto& [db, tree, env, before] = base;
  write_step(tree, {"CREATE TABLE a (id int)", "INSERT INTO base VALUES (2, 'b')", "CREATE TABLE b (id int)"},
             "DROP TABLE b;\nDELETE FROM base WHERE id = 2;\nDROP TABLE a;\n", 3);
  RunResult failed = run_installer({"migrate"}, env);
  INFO(failed.err);
  CHECK(failed.exit_code == 70);
  CHECK(failed.err.find("undone exactly, statement by statement, newest first (statements 3, 1); its down script did "
                        "not run; the rows changed by statement 2 (INSERT INTO base VALUES) stay as they are") !=
        std::string::npos);
  CHECK(db.objects() == before);
  CHECK(db.count("SELECT count(*) FROM base") == 2);
}

TEST_CASE("real histories: killed in the middle of a step, the next start undoes it exactly" * doctest::timeout(120)) {
  PartialCase c = down_for_the_whole_step();
  BaseApplied base;
  auto& [db, tree, env, before] = base;
  write_step(tree, c.up, c.down, 0);
  auto killed_env = env;
  killed_env["INSTALLER_TEST_FAULT"] = "apply:2:001_x:statement=3:kill";
  RunResult killed = run_installer({"migrate"}, killed_env);
  CHECK(killed.exit_code != 0);
  CHECK(db.attempt_field(db.latest_attempt("2"), "state") == "applying");
  // The next start, from an image without update 2: it finishes the revert, then refuses
  // nothing (update 2 is not applied).
  tree.remove("2");
  RunResult recovered = run_installer({"migrate"}, env);
  INFO(recovered.err);
  CHECK(recovered.exit_code == 0);
  CHECK(recovered.err.find("undone exactly") != std::string::npos);
  CHECK(db.objects() == before);
}

TEST_CASE(
    "real histories: every MariaDB statement kind with an exact inverse is undone to the object's own definition" *
    doctest::test_suite(kMariadbOnly)) {
  ScratchDatabase db;
  UpdateTree tree;
  tree.write("1/001_base.up.sql", "CREATE TABLE t (id int PRIMARY KEY, a varchar(40) NOT NULL DEFAULT 'x', b int);\n"
                                  "INSERT INTO t (id, a) VALUES (1, 'kept');\n"
                                  "CREATE TABLE empty_one (id int PRIMARY KEY, note text);\n"
                                  "CREATE VIEW v AS SELECT id, a FROM t;\n"
                                  "CREATE PROCEDURE p(IN n INT) BEGIN IF n > 0 THEN SELECT n; END IF; END;\n"
                                  "CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.b = 7;\n"
                                  "CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM t WHERE id < 0;\n");
  tree.write("1/001_base.down.sql",
             "DROP EVENT ev;\nDROP TABLE t;\nDROP TABLE empty_one;\nDROP VIEW v;\nDROP PROCEDURE p;\n");
  auto env = env_for(db, tree);
  RunResult base = run_installer({"migrate"}, env);
  INFO(base.err);
  REQUIRE(base.exit_code == 0);
  auto show = [&] {
    std::vector<std::string> out;
    for (const char* what : {"TABLE t", "VIEW v", "PROCEDURE p", "TRIGGER t_bi", "EVENT ev", "TABLE empty_one"})
      out.push_back(
          db.query(std::string("SHOW CREATE ") + what)[0][what[0] == 'T' && what[1] == 'A' ? 1 : 2].value_or(""));
    return out;
  };
  auto objects_before = db.objects();
  auto definitions_before = show();
  // A down script that only works for the whole step: exact undo must not need it.
  tree.write(
      "2/001_x.up.sql",
      "CREATE OR REPLACE VIEW v AS SELECT id FROM t;\n"
      "DROP PROCEDURE p;\n"
      "DROP TRIGGER t_bi;\n"
      "RENAME TABLE empty_one TO empty_two;\n"
      "ALTER TABLE t CHANGE a a2 varchar(80) NULL, ADD COLUMN c int, ADD INDEX (c), ADD CONSTRAINT chk CHECK (id > 0);\n"
      "DROP TABLE empty_two;\n"
      "CREATE TABLE IF NOT EXISTS t (x int);\n"
      "ALTER EVENT ev ON SCHEDULE EVERY 2 DAY;\n"
      "CREATE TABLE n (id int);\n"
      "INSERT INTO n VALUES (1);\n" +
          std::string(kFailing));
  tree.write("2/001_x.down.sql", "CALL no_such_cleanup();\n");
  RunResult failed = run_installer({"migrate"}, env);
  INFO(failed.err);
  CHECK(failed.exit_code == 70);
  CHECK(failed.err.find("undone exactly, statement by statement, newest first (statements 9, 8, 6, 5, 4, 3, 2, 1)") !=
        std::string::npos);
  CHECK(db.objects() == objects_before);
  CHECK(show() == definitions_before);
  CHECK(db.scalar("SELECT a FROM t WHERE id = 1") == "kept");  // renamed back with its data
}

TEST_CASE("real histories: names with quotes, spaces, newlines and non-ASCII letters are undone exactly too") {
  BaseApplied base;
  auto& [db, tree, env, before] = base;
  if (on_postgres())
    write_step(tree,
               {"CREATE TABLE \"we\"\"ird\nname\" (\"co l\" int, \"ünï\" text)",
                "CREATE INDEX CONCURRENTLY \"od\"\"d ix\" ON \"we\"\"ird\nname\" (\"co l\")",
                "CREATE INDEX CONCURRENTLY ON base (name)", "CREATE TABLE later (id int)"},
               "DROP TABLE later;\n", 3);
  else
    write_step(tree,
               {"CREATE TABLE `we``ird\nname` (`co l` int COMMENT 'line1\n  `fake` int,', `ünï` varchar(10))",
                "ALTER TABLE `we``ird\nname` ADD COLUMN `new``one` int, ADD INDEX `od``d ix` (`co l`)",
                "ALTER TABLE base ADD COLUMN `a\nb` int", "CREATE TABLE later (id int)"},
               "DROP TABLE later;\n", 3);
  RunResult failed = run_installer({"migrate"}, env);
  INFO(failed.err);
  CHECK(failed.exit_code == 70);
  CHECK(failed.err.find("undone exactly, statement by statement, newest first (statements 3, 2, 1)") !=
        std::string::npos);
  CHECK(db.objects() == before);
}

TEST_CASE("real histories: a foreign key dropped and brought back keeps the name of its index" *
          doctest::test_suite(kMariadbOnly)) {
  // MariaDB renames the index it made for a foreign key when a key of that name is added
  // back; exact undo renames it back.
  ScratchDatabase db;
  UpdateTree tree;
  tree.write("1/001_base.up.sql", "CREATE TABLE parent (k varchar(10) PRIMARY KEY);\n"
                                  "CREATE TABLE child (id int PRIMARY KEY, pk varchar(10) NOT NULL,\n"
                                  "  FOREIGN KEY (pk) REFERENCES parent (k) ON DELETE CASCADE);\n");
  tree.write("1/001_base.down.sql", "DROP TABLE child;\nDROP TABLE parent;\n");
  auto env = env_for(db, tree);
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  std::string before = db.query("SHOW CREATE TABLE child")[0][1].value_or("");
  REQUIRE(before.find("KEY `pk` (`pk`)") != std::string::npos);
  tree.write("2/001_x.up.sql", std::string("ALTER TABLE child DROP FOREIGN KEY `child_ibfk_1`;\n"
                                           "ALTER TABLE child ADD COLUMN ns varchar(10) NOT NULL DEFAULT 'd';\n") +
                                   kFailing);
  tree.write("2/001_x.down.sql", "CALL no_such_cleanup();\n");
  RunResult failed = run_installer({"migrate"}, env);
  INFO(failed.err);
  CHECK(failed.exit_code == 70);
  CHECK(db.query("SHOW CREATE TABLE child")[0][1].value_or("") == before);
}

TEST_CASE("real histories: a CALL or EXECUTE that changes the schema is undone by putting every object back" *
          doctest::test_suite(kMariadbOnly)) {
  // MySQL histories change the schema conditionally through procedures and prepared
  // statements; what they did is known only afterwards, so everything is captured before.
  ScratchDatabase db;
  UpdateTree tree;
  write_base(tree);
  tree.write(
      "1/002_helpers.up.sql",
      "CREATE INDEX base_name_idx ON base (name);\n"
      "CREATE PROCEDURE drop_index_if_exists(IN t VARCHAR(64), IN i VARCHAR(64))\n"
      "BEGIN\n"
      "  IF EXISTS (SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = t\n"
      "             AND INDEX_NAME = i) THEN\n"
      "    SET @s = CONCAT('DROP INDEX `', i, '` ON `', t, '`');\n"
      "    PREPARE stmt FROM @s;\n"
      "    EXECUTE stmt;\n"
      "    DEALLOCATE PREPARE stmt;\n"
      "  END IF;\n"
      "END;\n");
  tree.write("1/002_helpers.down.sql", "DROP PROCEDURE drop_index_if_exists;\nDROP INDEX base_name_idx ON base;\n");
  auto env = env_for(db, tree);
  RunResult base = run_installer({"migrate"}, env);
  INFO(base.err);
  REQUIRE(base.exit_code == 0);
  auto before = db.objects();
  std::string table_before = db.query("SHOW CREATE TABLE base")[0][1].value_or("");
  write_step(tree,
             {"CALL drop_index_if_exists('base', 'base_name_idx')", "SET @q = 'ALTER TABLE base ADD COLUMN note text'",
              "PREPARE q FROM @q", "EXECUTE q",
              "BEGIN NOT ATOMIC CREATE TABLE made_in_a_block (id int); CREATE VIEW made_v AS SELECT 1 AS x; END",
              "CREATE TABLE later (id int)"},
             "CALL no_such_cleanup();\n", 5);
  RunResult failed = run_installer({"migrate"}, env);
  INFO(failed.err);
  CHECK(failed.exit_code == 70);
  CHECK(failed.err.find("undone exactly, statement by statement, newest first (statements 5, 4, 1)") !=
        std::string::npos);
  CHECK(db.objects() == before);
  CHECK(db.query("SHOW CREATE TABLE base")[0][1].value_or("") == table_before);
}
