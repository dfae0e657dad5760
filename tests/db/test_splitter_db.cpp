// The statement splitter against the real server, through the engine: scripts written
// the way migration tools in Go, Java and Python write them (MariaDB stored programs
// without DELIMITER) and the words psql has to get right (PostgreSQL), each followed by
// more statements that must run too. The journal's statement count shows where the
// splitter cut; calling what was created shows that every body arrived whole.
#include "db_fixture.hpp"
#include "installer/engine/migrator.hpp"

#include <doctest/doctest.h>

#include <sstream>

using namespace installer;
using namespace installer::testing;

namespace {

const char* kMariadbPrograms = R"SQL(
-- No DELIMITER: the server's parser finds where each body ends.
CREATE PROCEDURE fill_stock(IN n INT)
MODIFIES SQL DATA
BEGIN
  DECLARE i INT DEFAULT 0;
  DECLARE EXIT HANDLER FOR SQLSTATE '23000'
  BEGIN
    INSERT INTO events (note) VALUES ('duplicate; skipped');
  END;
  fill: WHILE i < n DO
    SET i = i + 1;
    IF i = 2 THEN
      ITERATE fill;
    ELSEIF i > 4 THEN
      LEAVE fill;
    END IF;
    INSERT INTO stock (id, label) VALUES (i, CASE WHEN i > 2 THEN 'big; one' ELSE 'small' END);
  END WHILE fill;
  CASE n
    WHEN 0 THEN INSERT INTO events (note) VALUES ('nothing');
    ELSE INSERT INTO events (note) VALUES (CONCAT('filled ', n));
  END CASE;
  INSERT INTO stock (id, label) VALUES (1, 'again');
END;
CREATE FUNCTION sign_label(x INT) RETURNS VARCHAR(10) DETERMINISTIC RETURN IF(x < 0, 'neg;', 'pos');
CREATE TRIGGER stock_clamp BEFORE INSERT ON stock FOR EACH ROW IF NEW.qty < 0 THEN SET NEW.qty = 0; END IF;
BEGIN NOT ATOMIC
  IF NOT EXISTS (SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
                 AND TABLE_NAME = 'stock' AND COLUMN_NAME = 'note') THEN
    ALTER TABLE stock ADD COLUMN note VARCHAR(20) NULL;
  END IF;
END;
DELIMITER //
CREATE PROCEDURE stock_count(OUT c INT)
BEGIN
  SELECT COUNT(*) INTO c FROM stock;
END //
DELIMITER ;
CALL fill_stock(5);
INSERT INTO stock (id, label, qty) VALUES (10, sign_label(-1), -7);
)SQL";

const char* kPostgresWords = R"SQL(
CREATE TABLE procedure (id int PRIMARY KEY, begin int, "end" int);
CREATE FUNCTION span(begin int, "end" int) RETURNS int LANGUAGE sql IMMUTABLE AS $fn$ SELECT "end" - begin $fn$;
CREATE FUNCTION grade(score int) RETURNS text LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
  SELECT CASE WHEN score >= 90 THEN 'A; top'
              WHEN score >= 50 THEN CASE WHEN score >= 70 THEN 'B' ELSE 'C' END
              ELSE 'F' END;
END;
CREATE FUNCTION note(x text) RETURNS text LANGUAGE plpgsql AS $fn$
BEGIN
  RETURN x || E'\'s; note';
END;
$fn$;
CREATE FUNCTION procedure_touch() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN NEW."end" := coalesce(NEW."end", NEW."begin"); RETURN NEW; END
$fn$;
CREATE TRIGGER procedure_touch BEFORE INSERT ON procedure FOR EACH ROW EXECUTE PROCEDURE procedure_touch();
INSERT INTO procedure (id, begin, "end") VALUES (1, 3, 10), (2, span(1, 5), 0);
INSERT INTO procedure (id, begin) VALUES (3, length(E'it\'s; fine'));
)SQL";

/// Removes update "1" as an operator would and checks the schema is back to `empty`.
void remove_and_verify(EngineSession& s, const Fingerprint& empty) {
  std::ostringstream out;
  Catalog none;
  Migrator(*s.ctx, none).remove_update("1", false, out);
  INFO(out.str());
  CHECK(out.str().find("verified") != std::string::npos);
  CHECK(s.fingerprint() == empty);
}

}  // namespace

TEST_CASE("splitter: MariaDB stored programs without DELIMITER apply whole and work" *
          doctest::test_suite(kMariadbOnly)) {
  ScratchDatabase scratch;
  UpdateTree tree;
  tree.write("1/001_tables.mariadb.up.sql",
             "CREATE TABLE stock (id INT PRIMARY KEY, label VARCHAR(20), qty INT NOT NULL DEFAULT 1);\n"
             "CREATE TABLE events (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(40));\n");
  tree.write("1/001_tables.mariadb.down.sql", "DROP TABLE IF EXISTS events;\nDROP TABLE IF EXISTS stock;\n");
  tree.write("1/002_programs.mariadb.up.sql", kMariadbPrograms);
  tree.write("1/002_programs.mariadb.down.sql",
             "ALTER TABLE stock DROP COLUMN IF EXISTS note;\nDROP PROCEDURE IF EXISTS stock_count;\n"
             "DROP TRIGGER IF EXISTS stock_clamp;\nDROP FUNCTION IF EXISTS sign_label;\n"
             "DROP PROCEDURE IF EXISTS fill_stock;\n");
  EngineSession s(scratch);
  Fingerprint empty = s.fingerprint();
  std::string message;
  INFO(message);
  REQUIRE(migrate_code(s, tree.load(), &message) == exit_ok);

  auto steps = journal_steps(scratch, scratch.latest_attempt("1"));
  REQUIRE(steps.size() == 2);
  // procedure, function, trigger, BEGIN NOT ATOMIC, the DELIMITER routine, CALL, INSERT
  CHECK(steps[1].statements_total == 7);
  CHECK(steps[1].statements_done == 7);
  CHECK(scratch.scalar("SELECT GROUP_CONCAT(CONCAT(id, ':', label, ':', qty) ORDER BY id SEPARATOR ',') FROM stock") ==
        "1:small:1,3:big; one:1,4:big; one:1,10:neg;:0");
  CHECK(scratch.scalar("SELECT GROUP_CONCAT(note ORDER BY id SEPARATOR ',') FROM events") ==
        "filled 5,duplicate; skipped");
  CHECK(scratch.column_exists("stock", "note"));
  CHECK(scratch.scalar("SELECT sign_label(3)") == "pos");
  auto session = scratch.connect();
  session->execute("CALL stock_count(@c)");
  CHECK(session->query("SELECT @c", {}).at(0).at(0).value_or("") == "4");
  session->execute("CALL fill_stock(0)");  // runs its CASE's other branch and its handler again
  CHECK(scratch.count("SELECT COUNT(*) FROM events WHERE note IN ('nothing', 'duplicate; skipped')") == 3);

  remove_and_verify(s, empty);
  CHECK_FALSE(scratch.routine_exists("fill_stock"));
  CHECK_FALSE(scratch.trigger_exists("stock_clamp"));
}

TEST_CASE("splitter: PostgreSQL words psql must get right (begin, procedure, end, E'', $fn$) apply whole" *
          doctest::test_suite(kPostgresOnly)) {
  ScratchDatabase scratch;
  UpdateTree tree;
  tree.write("1/001_words.postgres.up.sql", kPostgresWords);
  tree.write("1/001_words.postgres.down.sql",
             "DROP TRIGGER IF EXISTS procedure_touch ON procedure;\nDROP FUNCTION IF EXISTS procedure_touch();\n"
             "DROP FUNCTION IF EXISTS note(text);\nDROP FUNCTION IF EXISTS grade(int);\n"
             "DROP FUNCTION IF EXISTS span(int, int);\nDROP TABLE IF EXISTS procedure;\n");
  EngineSession s(scratch);
  Fingerprint empty = s.fingerprint();
  std::string message;
  INFO(message);
  REQUIRE(migrate_code(s, tree.load(), &message) == exit_ok);

  auto steps = journal_steps(scratch, scratch.latest_attempt("1"));
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].statements_total == 8);  // as psql would send them
  CHECK(scratch.scalar("SELECT string_agg(id || ':' || begin || ':' || \"end\", ',' ORDER BY id) FROM procedure") ==
        "1:3:10,2:4:0,3:10:10");
  CHECK(scratch.scalar("SELECT grade(95) || '/' || grade(75) || '/' || grade(10)") == "A; top/B/F");
  CHECK(scratch.scalar("SELECT note('x')") == "x's; note");

  remove_and_verify(s, empty);
  CHECK_FALSE(scratch.table_exists("procedure"));
}
