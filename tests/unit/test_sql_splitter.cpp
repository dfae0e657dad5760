// Splitting step scripts into statements the way psql and the mariadb client do.
#include "installer/catalog/sql_splitter.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace installer;

namespace {

std::vector<std::string> texts(const std::vector<Statement>& statements) {
  std::vector<std::string> out;
  for (const auto& s : statements) out.push_back(s.text);
  return out;
}

std::vector<int> lines(const std::vector<Statement>& statements) {
  std::vector<int> out;
  for (const auto& s : statements) out.push_back(s.line);
  return out;
}

std::vector<Statement> pg(std::string_view script) { return split_sql(script, SqlDialect::postgres); }
std::vector<Statement> maria(std::string_view script) { return split_sql(script, SqlDialect::mariadb); }

/// The line of the SqlSplitError the script raises (0 when it does not raise one).
int error_line(std::string_view script, SqlDialect dialect, std::string* message = nullptr) {
  try {
    split_sql(script, dialect);
  } catch (const SqlSplitError& e) {
    if (message) *message = e.what();
    return e.line();
  }
  return 0;
}

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

using Texts = std::vector<std::string>;
using Lines = std::vector<int>;

}  // namespace

// ---------------------------------------------------------------- both dialects

TEST_CASE("statements are split on ';' without the delimiter and surrounding space") {
  for (auto dialect : {SqlDialect::postgres, SqlDialect::mariadb}) {
    auto st = split_sql("CREATE TABLE a (id int);\n  CREATE TABLE b (id int)  ;\n\nDROP TABLE c;\n", dialect);
    CHECK(texts(st) == Texts{"CREATE TABLE a (id int)", "CREATE TABLE b (id int)", "DROP TABLE c"});
    CHECK(lines(st) == Lines{1, 2, 4});
  }
}

TEST_CASE("the last statement needs no terminator") {
  for (auto dialect : {SqlDialect::postgres, SqlDialect::mariadb}) {
    auto st = split_sql("SELECT 1;\nSELECT 2\n", dialect);
    CHECK(texts(st) == Texts{"SELECT 1", "SELECT 2"});
    CHECK(texts(split_sql("SELECT 3", dialect)) == Texts{"SELECT 3"});
  }
}

TEST_CASE("empty scripts and empty statements give no statements") {
  for (auto dialect : {SqlDialect::postgres, SqlDialect::mariadb}) {
    CHECK(split_sql("", dialect).empty());
    CHECK(split_sql(" \n\t\r\n", dialect).empty());
    CHECK(split_sql(";;\n ; ;", dialect).empty());
    CHECK(texts(split_sql(";;SELECT 1;;", dialect)) == Texts{"SELECT 1"});
  }
}

TEST_CASE("semicolons inside single-quoted strings, with '' escapes, do not split") {
  for (auto dialect : {SqlDialect::postgres, SqlDialect::mariadb}) {
    auto st = split_sql("INSERT INTO t VALUES ('a;b', 'it''s; fine', '');\nSELECT ';';", dialect);
    CHECK(texts(st) == Texts{"INSERT INTO t VALUES ('a;b', 'it''s; fine', '')", "SELECT ';'"});
  }
}

TEST_CASE("statement lines are those of their first character, across multi-line tokens") {
  for (auto dialect : {SqlDialect::postgres, SqlDialect::mariadb}) {
    auto st = split_sql(
        "\n\n"
        "SELECT 1; SELECT 2;\n"   // line 3, two statements
        "INSERT INTO t VALUES ('a\n"
        "b;\n"
        "c');\n"                 // the string spans lines 4-6
        "\n"
        "   UPDATE t\n"          // line 8
        "   SET a = 1;\n",
        dialect);
    CHECK(lines(st) == Lines{3, 3, 4, 8});
    CHECK(st.at(2).text == "INSERT INTO t VALUES ('a\nb;\nc')");
    CHECK(st.at(3).text == "UPDATE t\n   SET a = 1");
  }
}

TEST_CASE("comments before a statement are not part of it; comments inside are kept") {
  for (auto dialect : {SqlDialect::postgres, SqlDialect::mariadb}) {
    auto st = split_sql("-- create; the table\n/* block; comment */\nSELECT /* keep */ 1 -- drop; this\n;", dialect);
    CHECK(texts(st) == Texts{"SELECT /* keep */ 1"});
    CHECK(lines(st) == Lines{3});
  }
}

TEST_CASE("statements holding only comments are dropped") {
  for (auto dialect : {SqlDialect::postgres, SqlDialect::mariadb}) {
    auto st = split_sql("-- only a comment\n;\n/* another */;\nSELECT 1;\n-- trailing comment\n/* and; more */\n", dialect);
    CHECK(texts(st) == Texts{"SELECT 1"});
    CHECK(lines(st) == Lines{4});
    CHECK(split_sql("-- nothing to do yet\n", dialect).empty());
  }
}

// ---------------------------------------------------------------- PostgreSQL

TEST_CASE("postgres: backslash is an ordinary character in standard strings") {
  auto st = pg("SELECT 'C:\\';\nSELECT 2;");
  CHECK(texts(st) == Texts{"SELECT 'C:\\'", "SELECT 2"});
}

TEST_CASE("postgres: E'...' strings treat backslash as an escape") {
  auto st = pg("SELECT E'it\\'s; ok';\nSELECT e'\\\\';\nSELECT 3;");
  CHECK(texts(st) == Texts{"SELECT E'it\\'s; ok'", "SELECT e'\\\\'", "SELECT 3"});
  // Only a standalone E prefix makes an escape string: in type'..' the quote closes at the
  // second quote character.
  CHECK(texts(pg("SELECT type'a\\';\nSELECT 2;")) == Texts{"SELECT type'a\\'", "SELECT 2"});
}

TEST_CASE("postgres: quoted identifiers may hold semicolons and doubled quotes") {
  auto st = pg("CREATE TABLE \"we;ird\" (\"a\"\"b;\" int);\nSELECT 2;");
  CHECK(texts(st) == Texts{"CREATE TABLE \"we;ird\" (\"a\"\"b;\" int)", "SELECT 2"});
}

TEST_CASE("postgres: dollar-quoted bodies with nested tags stay whole") {
  const char* script = R"sql(CREATE OR REPLACE FUNCTION audit_users() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  stmt text := $q$INSERT INTO audit_log VALUES ('users; changed', $1)$q$;
BEGIN
  EXECUTE stmt USING NEW.id;
  IF NEW.id IS NULL THEN
    RAISE EXCEPTION 'id; missing';
  END IF;
  RETURN NEW;
END;
$fn$;

CREATE TRIGGER users_audit BEFORE INSERT ON users
  FOR EACH ROW EXECUTE FUNCTION audit_users();
)sql";
  auto st = pg(script);
  REQUIRE(st.size() == 2);
  CHECK(st[0].line == 1);
  CHECK(st[0].text.rfind("CREATE OR REPLACE FUNCTION audit_users()", 0) == 0);
  CHECK(ends_with(st[0].text, "END;\n$fn$"));
  CHECK(st[0].text.find("RETURN NEW;\nEND;") != std::string::npos);
  CHECK(st[1].line == 14);
  CHECK(st[1].text == "CREATE TRIGGER users_audit BEFORE INSERT ON users\n  FOR EACH ROW EXECUTE FUNCTION audit_users()");
}

TEST_CASE("postgres: $$ bodies and a tag that does not match do not close the quote") {
  auto st = pg("DO $$ BEGIN PERFORM 1; PERFORM $x$;$x$; END $$;\nSELECT 2;");
  CHECK(texts(st) == Texts{"DO $$ BEGIN PERFORM 1; PERFORM $x$;$x$; END $$", "SELECT 2"});
  st = pg("SELECT $a$ one; $b$ two; $a$;\nSELECT 2;");
  CHECK(texts(st) == Texts{"SELECT $a$ one; $b$ two; $a$", "SELECT 2"});
}

TEST_CASE("postgres: $1 parameters and identifiers with '$' are not dollar quotes") {
  auto st = pg("PREPARE p(int, int) AS SELECT $1 + $2;\nSELECT x$y$z FROM t;\nSELECT 3;");
  CHECK(texts(st) == Texts{"PREPARE p(int, int) AS SELECT $1 + $2", "SELECT x$y$z FROM t", "SELECT 3"});
}

TEST_CASE("postgres: -- comments run to the end of the line, even without a space") {
  // In PostgreSQL "--" always starts a comment, so the ';' after it is commented out.
  auto st = pg("SELECT 1--2;\nSELECT 2;");
  CHECK(texts(st) == Texts{"SELECT 1--2;\nSELECT 2"});
}

TEST_CASE("postgres: block comments nest") {
  auto st = pg("/* outer; /* inner; */ still comment; */ SELECT 1;\nSELECT /* a /* b; */ c; */ 2;");
  CHECK(texts(st) == Texts{"SELECT 1", "SELECT /* a /* b; */ c; */ 2"});
  CHECK(lines(st) == Lines{1, 2});
}

TEST_CASE("postgres: '#' is an operator, not a comment") {
  auto st = pg("SELECT 5 # 3;\nSELECT 2;");
  CHECK(texts(st) == Texts{"SELECT 5 # 3", "SELECT 2"});
}

TEST_CASE("postgres: /*! ... */ is an ordinary comment") {
  CHECK(pg("/*!40101 SET NAMES utf8mb4 */;").empty());
}

TEST_CASE("postgres: SQL-standard BEGIN ATOMIC bodies with CASE ... END stay whole") {
  const char* script = R"sql(CREATE FUNCTION grade(score int) RETURNS text
LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN score >= 90 THEN 'A'
              WHEN score >= 50 THEN CASE WHEN score >= 70 THEN 'B' ELSE 'C' END
              ELSE 'F' END;
END;
CREATE OR REPLACE PROCEDURE add_two(a int, b int)
LANGUAGE sql
begin atomic
  INSERT INTO t VALUES (a);
  INSERT INTO t (end_date) VALUES (b);
end;
SELECT CASE WHEN true THEN 1 END;
SELECT 4;
)sql";
  auto st = pg(script);
  REQUIRE(st.size() == 4);
  CHECK(lines(st) == Lines{1, 8, 14, 15});
  CHECK(st[0].text.rfind("CREATE FUNCTION grade", 0) == 0);
  CHECK(ends_with(st[0].text, "ELSE 'F' END;\nEND"));
  CHECK(ends_with(st[1].text, "VALUES (b);\nend"));
  CHECK(st[2].text == "SELECT CASE WHEN true THEN 1 END");
  CHECK(st[3].text == "SELECT 4");
}

TEST_CASE("postgres: a transaction's BEGIN outside a routine is an ordinary statement") {
  auto st = pg("BEGIN;\nCREATE TABLE t (a int);\nCOMMIT;");
  CHECK(texts(st) == Texts{"BEGIN", "CREATE TABLE t (a int)", "COMMIT"});
}

TEST_CASE("postgres: a routine with a dollar-quoted body ends at its ';'") {
  auto st = pg("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\nBEGIN;\nSELECT 2;");
  CHECK(texts(st) == Texts{"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$", "BEGIN", "SELECT 2"});
}

TEST_CASE("postgres: unterminated tokens throw SqlSplitError at their opening line") {
  std::string message;
  CHECK(error_line("SELECT 1;\nSELECT 'abc;\n\nSELECT 2;\n", SqlDialect::postgres, &message) == 2);
  CHECK(message.find("unterminated string") != std::string::npos);

  CHECK(error_line("SELECT 1;\n\nSELECT \"col;\n", SqlDialect::postgres, &message) == 3);
  CHECK(message.find("unterminated quoted identifier") != std::string::npos);

  CHECK(error_line("SELECT 1;\n/* open\n/* nested */\nSELECT 2;\n", SqlDialect::postgres, &message) == 2);
  CHECK(message.find("unterminated /* comment") != std::string::npos);

  CHECK(error_line("SELECT 1;\nCREATE FUNCTION f() RETURNS int AS $body$\nBEGIN RETURN 1; END;\n$bod$;\n",
                   SqlDialect::postgres, &message) == 2);
  CHECK(message.find("$body$") != std::string::npos);

  CHECK(error_line("SELECT E'it\\';\n", SqlDialect::postgres) == 1);
}

// ---------------------------------------------------------------- MariaDB

TEST_CASE("mariadb: backtick identifiers may hold semicolons and doubled backticks") {
  auto st = maria("CREATE TABLE `a;b` (`c``;` INT);\nSELECT 2;");
  CHECK(texts(st) == Texts{"CREATE TABLE `a;b` (`c``;` INT)", "SELECT 2"});
}

TEST_CASE("mariadb: backslash escapes quotes in both kinds of strings") {
  auto st = maria("INSERT INTO t VALUES ('it\\'s; ok', \"say \\\"hi;\\\"\", 'C:\\\\');\nSELECT 2;");
  CHECK(texts(st) == Texts{"INSERT INTO t VALUES ('it\\'s; ok', \"say \\\"hi;\\\"\", 'C:\\\\')", "SELECT 2"});
  // The same text PostgreSQL splits in two is one unterminated string here.
  CHECK(error_line("SELECT 'C:\\';\nSELECT 2;", SqlDialect::mariadb) == 1);
}

TEST_CASE("mariadb: '#' starts a comment") {
  auto st = maria("# setup; really\nSELECT 1; # trailing; x\nSELECT 2 # ; \n;");
  CHECK(texts(st) == Texts{"SELECT 1", "SELECT 2"});
  CHECK(lines(st) == Lines{2, 3});
}

TEST_CASE("mariadb: '--' is a comment only when followed by a space, tab or line end") {
  auto st = maria("SELECT 1--2;\nSELECT 2; -- comment; x\nSELECT 3;--\tcomment;\nSELECT 4;--");
  CHECK(texts(st) == Texts{"SELECT 1--2", "SELECT 2", "SELECT 3", "SELECT 4"});
  CHECK(lines(st) == Lines{1, 2, 3, 4});
  CHECK(texts(maria("SELECT 5;--\nSELECT 6;")) == Texts{"SELECT 5", "SELECT 6"});
}

TEST_CASE("mariadb: block comments do not nest") {
  CHECK(texts(maria("/* a /* b */ SELECT 1;")) == Texts{"SELECT 1"});
}

TEST_CASE("mariadb: executable comments /*! ... */ are kept as statement text") {
  auto st = maria("/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE t (a INT) /*!50100 ENGINE=InnoDB */;\n/* plain; comment */ SELECT 1;");
  CHECK(texts(st) == Texts{"/*!40101 SET NAMES utf8mb4 */", "CREATE TABLE t (a INT) /*!50100 ENGINE=InnoDB */", "SELECT 1"});
  CHECK(lines(st) == Lines{1, 2, 3});
}

TEST_CASE("mariadb: DELIMITER blocks keep routine and trigger bodies whole") {
  const char* script = R"sql(CREATE TABLE counters (id INT, n INT);
DELIMITER //
CREATE PROCEDURE bump(IN x INT)
BEGIN
  UPDATE counters SET n = n + x;
  SELECT n FROM counters;
END //
CREATE TRIGGER counters_bi BEFORE INSERT ON counters
FOR EACH ROW
BEGIN
  IF NEW.n IS NULL THEN
    SET NEW.n = 0;
  END IF;
END//
DELIMITER ;
INSERT INTO counters VALUES (1, 2);
SELECT '//';
)sql";
  auto st = maria(script);
  REQUIRE(st.size() == 5);
  CHECK(lines(st) == Lines{1, 3, 8, 16, 17});
  CHECK(st[0].text == "CREATE TABLE counters (id INT, n INT)");
  CHECK(st[1].text == "CREATE PROCEDURE bump(IN x INT)\nBEGIN\n  UPDATE counters SET n = n + x;\n  SELECT n FROM counters;\nEND");
  CHECK(st[2].text == "CREATE TRIGGER counters_bi BEFORE INSERT ON counters\nFOR EACH ROW\nBEGIN\n  IF NEW.n IS NULL THEN\n"
                      "    SET NEW.n = 0;\n  END IF;\nEND");
  CHECK(st[3].text == "INSERT INTO counters VALUES (1, 2)");
  CHECK(st[4].text == "SELECT '//'");
  for (const auto& s : st) CHECK(s.text.find("DELIMITER") == std::string::npos);
}

TEST_CASE("mariadb: after DELIMITER ; the old delimiter is ordinary text again") {
  auto st = maria("DELIMITER //\nSELECT 1; SELECT 2//\ndelimiter ;\nSELECT 3 // 4;\nSELECT 5;");
  CHECK(texts(st) == Texts{"SELECT 1; SELECT 2", "SELECT 3 // 4", "SELECT 5"});
  CHECK(lines(st) == Lines{2, 4, 5});
}

TEST_CASE("mariadb: mysqldump-style DELIMITER ;; with executable comments") {
  const char* script =
      "DELIMITER ;;\n"
      "/*!50003 CREATE*/ /*!50003 TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END */;;\n"
      "DELIMITER ;\n"
      "SELECT 1;\n";
  auto st = maria(script);
  CHECK(texts(st) == Texts{"/*!50003 CREATE*/ /*!50003 TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; "
                           "SET NEW.b = 2; END */",
                           "SELECT 1"});
  CHECK(lines(st) == Lines{2, 4});
}

TEST_CASE("mariadb: DELIMITER $$ with a space before the closing delimiter") {
  auto st = maria("DELIMITER $$\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND $$\nDELIMITER ;\nSELECT 2;");
  CHECK(texts(st) == Texts{"CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND", "SELECT 2"});
}

TEST_CASE("mariadb: a column named delimiter is not a DELIMITER command") {
  const char* script = "CREATE TABLE csv_format (\n  id INT,\ndelimiter CHAR(1) NOT NULL\n);\nSELECT 1;\n";
  auto st = maria(script);
  CHECK(texts(st) == Texts{"CREATE TABLE csv_format (\n  id INT,\ndelimiter CHAR(1) NOT NULL\n)", "SELECT 1"});
}

TEST_CASE("mariadb: the final statement of a DELIMITER block needs no delimiter") {
  auto st = maria("DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END\n");
  CHECK(texts(st) == Texts{"CREATE PROCEDURE p() BEGIN SELECT 1; END"});
  CHECK(lines(st) == Lines{2});
}

TEST_CASE("postgres: DELIMITER is not a command") {
  auto st = pg("DELIMITER //\nSELECT 1//\n;");
  CHECK(texts(st) == Texts{"DELIMITER //\nSELECT 1//"});
}

TEST_CASE("mariadb: a bad DELIMITER command throws at its line") {
  std::string message;
  CHECK(error_line("SELECT 1;\nDELIMITER   \nSELECT 2;", SqlDialect::mariadb, &message) == 2);
  CHECK(message.find("DELIMITER needs a delimiter") != std::string::npos);
  CHECK(error_line("SELECT 1;\n\nDELIMITER a b\n", SqlDialect::mariadb, &message) == 3);
  CHECK(message.find("one word") != std::string::npos);
  CHECK(error_line("DELIMITER \\\\\n", SqlDialect::mariadb) == 1);
}

TEST_CASE("mariadb: unterminated tokens throw SqlSplitError at their opening line") {
  std::string message;
  CHECK(error_line("SELECT 1;\nSELECT `col;\n", SqlDialect::mariadb, &message) == 2);
  CHECK(message.find("unterminated backtick identifier") != std::string::npos);
  CHECK(error_line("SELECT 1;\n\nSELECT 'abc\\';\n", SqlDialect::mariadb, &message) == 3);
  CHECK(message.find("unterminated string") != std::string::npos);
  CHECK(error_line("SELECT 1;\nSELECT \"abc;\n", SqlDialect::mariadb) == 2);
  CHECK(error_line("SELECT 1;\n/*! SET x = 1;\n", SqlDialect::mariadb, &message) == 2);
  CHECK(message.find("unterminated /* comment") != std::string::npos);
}

TEST_CASE("mariadb: '$' is not a quote") {
  auto st = maria("SELECT '$$';\nSELECT $$ ; SELECT 2;");
  CHECK(texts(st) == Texts{"SELECT '$$'", "SELECT $$", "SELECT 2"});
}

// ---------------------------------------------------------------- leading_words

TEST_CASE("leading_words upper-cases the first words and stops at the count") {
  CHECK(leading_words("create unique index concurrently idx ON t (a)", 3) == Texts{"CREATE", "UNIQUE", "INDEX"});
  CHECK(leading_words("Start Transaction isolation level serializable", 2) == Texts{"START", "TRANSACTION"});
  CHECK(leading_words("SELECT 1", 0).empty());
  CHECK(leading_words("", 5).empty());
  CHECK(leading_words("   ", 5).empty());
}

TEST_CASE("leading_words stops at a parenthesis or a quote") {
  CHECK(leading_words("CREATE UNIQUE INDEX CONCURRENTLY idx ON t (a)", 8) ==
        Texts{"CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", "IDX", "ON", "T"});
  CHECK(leading_words("SELECT 'begin', commit", 5) == Texts{"SELECT"});
  CHECK(leading_words("CREATE TABLE \"commit\" (a int)", 5) == Texts{"CREATE", "TABLE"});
  CHECK(leading_words("CREATE TABLE `commit` (a int)", 5) == Texts{"CREATE", "TABLE"});
}

TEST_CASE("leading_words skips comments and punctuation") {
  CHECK(leading_words("/* lead */ create -- a comment\n index # another\n concurrently i_1 on t", 4) ==
        Texts{"CREATE", "INDEX", "CONCURRENTLY", "I_1"});
  CHECK(leading_words("/* unterminated", 3).empty());
  CHECK(leading_words("ALTER TABLE s.t ADD COLUMN c int", 6) == Texts{"ALTER", "TABLE", "S", "T", "ADD", "COLUMN"});
}

TEST_CASE("mariadb: END$$ closes a block after DELIMITER $$, as in the mariadb client") {
  auto statements = maria("DELIMITER $$\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND$$\nDELIMITER ;\nSELECT 2;\n");
  REQUIRE(statements.size() == 2);
  CHECK(statements[0].text == "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND");
  CHECK(statements[1].text == "SELECT 2");
  CHECK(statements[1].line == 7);
}

TEST_CASE("postgres: a semicolon inside parentheses does not end the statement, as in psql") {
  auto statements = pg("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nSELECT 1;\n");
  REQUIRE(statements.size() == 2);
  CHECK(statements[1].text == "SELECT 1");
}
