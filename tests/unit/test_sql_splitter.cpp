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
    auto st = split_sql("\n\n"
                        "SELECT 1; SELECT 2;\n"  // line 3, two statements
                        "INSERT INTO t VALUES ('a\n"
                        "b;\n"
                        "c');\n"  // the string spans lines 4-6
                        "\n"
                        "   UPDATE t\n"  // line 8
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
    auto st = split_sql("-- only a comment\n;\n/* another */;\nSELECT 1;\n-- trailing comment\n/* and; more */\n",
                        dialect);
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
  CHECK(st[1].text ==
        "CREATE TRIGGER users_audit BEFORE INSERT ON users\n  FOR EACH ROW EXECUTE FUNCTION audit_users()");
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

TEST_CASE("postgres: /*! ... */ is an ordinary comment") { CHECK(pg("/*!40101 SET NAMES utf8mb4 */;").empty()); }

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

// psql (psqlscan.l) keeps BEGIN ... END together only when the statement's first
// identifiers are CREATE [OR REPLACE] FUNCTION|PROCEDURE, and only outside parentheses.

TEST_CASE("postgres: a parameter or result column named begin does not open a block") {
  auto st = pg("CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql AS $$ SELECT begin $$;\n"
               "SELECT 2;\n"
               "CREATE FUNCTION g() RETURNS TABLE (begin int, \"end\" int) LANGUAGE sql AS $x$ SELECT 1, 2 $x$;\n"
               "SELECT 3;");
  CHECK(texts(st) ==
        Texts{"CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql AS $$ SELECT begin $$", "SELECT 2",
              "CREATE FUNCTION g() RETURNS TABLE (begin int, \"end\" int) LANGUAGE sql AS $x$ SELECT 1, 2 $x$",
              "SELECT 3"});
  CHECK(lines(st) == Lines{1, 2, 3, 4});
}

TEST_CASE("postgres: a table named procedure or function with columns begin and end splits normally") {
  auto st = pg("CREATE TABLE procedure (id int, begin int, \"end\" int);\n"
               "INSERT INTO procedure (begin) VALUES (1);\n"
               "CREATE TABLE function (begin int, case_ int);\n"
               "SELECT 4;");
  CHECK(texts(st) == Texts{"CREATE TABLE procedure (id int, begin int, \"end\" int)",
                           "INSERT INTO procedure (begin) VALUES (1)", "CREATE TABLE function (begin int, case_ int)",
                           "SELECT 4"});
}

TEST_CASE("postgres: CREATE TRIGGER ... EXECUTE PROCEDURE is not a routine") {
  auto st = pg("CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE PROCEDURE f();\n"
               "CREATE OR REPLACE TRIGGER trg2 AFTER UPDATE ON t FOR EACH ROW EXECUTE PROCEDURE g();\n"
               "CREATE TABLE procedure_log (begin int);\n"
               "ALTER TABLE procedure_log ADD COLUMN \"end\" int;");
  CHECK(st.size() == 4);
  CHECK(st.at(3).text == "ALTER TABLE procedure_log ADD COLUMN \"end\" int");
}

TEST_CASE("postgres: only the first identifiers count, and quoted ones are not identifiers") {
  // CREATE OR REPLACE as the first three identifiers, then FUNCTION: comments between
  // the words change nothing.
  auto st = pg("create /* or; */ or -- replace;\n  replace function f() returns int language sql\n"
               "begin atomic select 1; end;\nSELECT 2;");
  CHECK(texts(st) == Texts{"create /* or; */ or -- replace;\n  replace function f() returns int language sql\n"
                           "begin atomic select 1; end",
                           "SELECT 2"});
  // "FUNCTION" in quotes and CREATE OR FUNCTION are not routines: BEGIN there is a word.
  CHECK(texts(pg("CREATE \"FUNCTION\" f begin; SELECT 3;")) == Texts{"CREATE \"FUNCTION\" f begin", "SELECT 3"});
  CHECK(texts(pg("CREATE OR FUNCTION begin; SELECT 4;")) == Texts{"CREATE OR FUNCTION begin", "SELECT 4"});
  CHECK(texts(pg("CREATE TEMP VIEW v AS SELECT begin FROM function; SELECT 5;")) ==
        Texts{"CREATE TEMP VIEW v AS SELECT begin FROM function", "SELECT 5"});
}

TEST_CASE("postgres: END inside parentheses does not close a BEGIN ATOMIC body") {
  auto st = pg("CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT (SELECT end FROM t);\n"
               "  SELECT (CASE WHEN true THEN 1 END);\nEND;\nSELECT 2;");
  REQUIRE(st.size() == 2);
  CHECK(ends_with(st[0].text, "SELECT (CASE WHEN true THEN 1 END);\nEND"));
  CHECK(st[1].text == "SELECT 2");
  CHECK(st[1].line == 6);
}

TEST_CASE("postgres: like psql, a routine named begin runs up to the next END") {
  // psql would send this as two statements, the server then refuses the first: agreeing
  // with psql keeps the statement boundaries and line numbers of its error message.
  auto st = pg("CREATE FUNCTION begin() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\nSELECT 2;\nEND;\nSELECT 3;");
  CHECK(texts(st) ==
        Texts{"CREATE FUNCTION begin() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\nSELECT 2;\nEND", "SELECT 3"});
}

TEST_CASE("postgres: a BEGIN ATOMIC body at the end of the script needs no semicolon") {
  auto st = pg("SELECT 1;\nCREATE PROCEDURE p() LANGUAGE sql\nBEGIN ATOMIC\n  INSERT INTO t VALUES (1);\nEND\n");
  CHECK(texts(st) ==
        Texts{"SELECT 1", "CREATE PROCEDURE p() LANGUAGE sql\nBEGIN ATOMIC\n  INSERT INTO t VALUES (1);\nEND"});
}

TEST_CASE("postgres: a $1 parameter followed by $$ opens a dollar quote, as in psql") {
  // $1 is a parameter; the $$ right after it is a token of its own and opens a quote.
  CHECK(texts(pg("SELECT $1$$; $$;\nSELECT 2;")) == Texts{"SELECT $1$$; $$", "SELECT 2"});
  // $abc (no closing $) is '$' then the word abc, and a$$b is one identifier.
  CHECK(texts(pg("SELECT $abc; SELECT a$$b; SELECT 3;")) == Texts{"SELECT $abc", "SELECT a$$b", "SELECT 3"});
  // The tag is an identifier without '$': $_x1$ and $é$ open quotes, $1abc$ does not.
  CHECK(texts(pg("SELECT $_x1$ a;b $_x1$, $\xc3\xa9$ ; $\xc3\xa9$;\nSELECT $1abc$ ; $ ;")) ==
        Texts{"SELECT $_x1$ a;b $_x1$, $\xc3\xa9$ ; $\xc3\xa9$", "SELECT $1abc$", "$"});
}

TEST_CASE("postgres: letters right after a number belong to it, so 1end holds no END") {
  auto st = pg("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1end; SELECT 0x1F, 1_000, .5e3; END;\n"
               "SELECT 3;");
  CHECK(texts(st) == Texts{"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1end; SELECT 0x1F, 1_000, "
                           ".5e3; END",
                           "SELECT 3"});
}

TEST_CASE("postgres: U&'' and B'' X'' N'' strings take no backslash escapes; U&\"\" is an identifier") {
  auto st = pg("SELECT U&'\\'; SELECT b'1', x'1F', n'\\';\nSELECT U&\"a;\\\" FROM t;\nSELECT 1e'\\'; SELECT 5;");
  CHECK(texts(st) ==
        Texts{"SELECT U&'\\'", "SELECT b'1', x'1F', n'\\'", "SELECT U&\"a;\\\" FROM t", "SELECT 1e'\\'", "SELECT 5"});
}

TEST_CASE("postgres: an E'' string does not continue into the next line's string, as in psql") {
  // psql lexes line by line, so the SQL-standard continuation ('a'\n'b') never resumes an
  // E'' string: the second literal is an ordinary one, where backslash is a character.
  auto st = pg("SELECT E'a'\n'\\'; SELECT 4;");
  CHECK(texts(st) == Texts{"SELECT E'a'\n'\\'", "SELECT 4"});
}

TEST_CASE("postgres: CRLF line endings") {
  auto st = pg("SELECT 1;\r\nCREATE FUNCTION f() RETURNS int LANGUAGE sql\r\nBEGIN ATOMIC\r\n  SELECT 1;\r\nEND;\r\n"
               "SELECT 2;\r\n");
  CHECK(texts(st) == Texts{"SELECT 1",
                           "CREATE FUNCTION f() RETURNS int LANGUAGE sql\r\nBEGIN ATOMIC\r\n  SELECT 1;\r\nEND",
                           "SELECT 2"});
  CHECK(lines(st) == Lines{1, 2, 6});
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

TEST_CASE("mariadb: block comments do not nest") { CHECK(texts(maria("/* a /* b */ SELECT 1;")) == Texts{"SELECT 1"}); }

TEST_CASE("mariadb: executable comments /*! ... */ are kept as statement text") {
  auto st = maria(
      "/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE t (a INT) /*!50100 ENGINE=InnoDB */;\n/* plain; comment */ SELECT 1;");
  CHECK(texts(st) ==
        Texts{"/*!40101 SET NAMES utf8mb4 */", "CREATE TABLE t (a INT) /*!50100 ENGINE=InnoDB */", "SELECT 1"});
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
  CHECK(st[1].text ==
        "CREATE PROCEDURE bump(IN x INT)\nBEGIN\n  UPDATE counters SET n = n + x;\n  SELECT n FROM counters;\nEND");
  CHECK(st[2].text ==
        "CREATE TRIGGER counters_bi BEFORE INSERT ON counters\nFOR EACH ROW\nBEGIN\n  IF NEW.n IS NULL THEN\n"
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
  CHECK(texts(st) ==
        Texts{"/*!50003 CREATE*/ /*!50003 TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; "
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

// Stored programs and compound statements sent without DELIMITER, as Go, Java and Python
// migration tools send them: the server's parser finds where they end (sql_yacc.yy).

TEST_CASE("mariadb: a procedure with nested IF, WHILE, CASE, labels, handlers and a cursor is one statement") {
  const char* script = R"sql(CREATE PROCEDURE fill(IN n INT)
MODIFIES SQL DATA
COMMENT 'nested; control flow'
BEGIN
  DECLARE i INT DEFAULT 0;
  DECLARE done INT DEFAULT FALSE;
  DECLARE c CURSOR FOR SELECT msg FROM log WHERE msg LIKE 'w%';
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = TRUE;
  DECLARE EXIT HANDLER FOR SQLSTATE VALUE '42S02', 1146
  BEGIN
    INSERT INTO log (msg) VALUES ('handled');
  END;
  outer_loop: WHILE i < n DO
    SET i = i + 1;
    IF i = 2 THEN
      ITERATE outer_loop;
    ELSEIF i > 4 THEN
      LEAVE outer_loop;
    ELSE
      INSERT INTO log (msg) VALUES (CONCAT('w', i, CASE WHEN i > 2 THEN ';big' ELSE ';small' END));
    END IF;
  END WHILE outer_loop;
  CASE n
    WHEN 1 THEN INSERT INTO log (msg) VALUES ('one');
    WHEN 5 THEN BEGIN INSERT INTO log (msg) VALUES ('five'); END;
    ELSE INSERT INTO log (msg) VALUES ('other');
  END CASE;
  OPEN c;
  read_loop: LOOP
    FETCH c INTO i;
    IF done THEN LEAVE read_loop; END IF;
  END LOOP read_loop;
  CLOSE c;
  REPEAT SET i = i - 1; UNTIL i <= 0 END REPEAT;
END;
CALL fill(5);
)sql";
  auto st = maria(script);
  REQUIRE(st.size() == 2);
  CHECK(st[0].text.rfind("CREATE PROCEDURE fill(IN n INT)", 0) == 0);
  CHECK(ends_with(st[0].text, "UNTIL i <= 0 END REPEAT;\nEND"));
  CHECK(st[1].text == "CALL fill(5)");
  CHECK(lines(st) == Lines{1, 36});
}

TEST_CASE("mariadb: a routine whose body is one statement ends at its first semicolon") {
  auto st = maria("CREATE FUNCTION pick(a INT) RETURNS INT DETERMINISTIC RETURN IF(a > 0, 1, 2);\n"
                  "CREATE FUNCTION rep(n INT) RETURNS VARCHAR(20) RETURN REPEAT('x;', n);\n"
                  "CREATE FUNCTION cs(n INT) RETURNS TEXT RETURN CASE WHEN n > 0 THEN 'pos' END;\n"
                  "CREATE PROCEDURE p_sel() SELECT IF(1, 2, 3), CASE WHEN 1 THEN 2 END;\n"
                  "CREATE PROCEDURE p_drop() DROP TABLE IF EXISTS t;\n"
                  "SELECT pick(1);");
  CHECK(texts(st) == Texts{"CREATE FUNCTION pick(a INT) RETURNS INT DETERMINISTIC RETURN IF(a > 0, 1, 2)",
                           "CREATE FUNCTION rep(n INT) RETURNS VARCHAR(20) RETURN REPEAT('x;', n)",
                           "CREATE FUNCTION cs(n INT) RETURNS TEXT RETURN CASE WHEN n > 0 THEN 'pos' END",
                           "CREATE PROCEDURE p_sel() SELECT IF(1, 2, 3), CASE WHEN 1 THEN 2 END",
                           "CREATE PROCEDURE p_drop() DROP TABLE IF EXISTS t", "SELECT pick(1)"});
}

TEST_CASE("mariadb: a trigger's body is one statement, simple or compound") {
  auto st = maria("CREATE TRIGGER t_clamp BEFORE INSERT ON t FOR EACH ROW IF NEW.a < 0 THEN SET NEW.a = 0; END IF;\n"
                  "CREATE TRIGGER t_one BEFORE INSERT ON t FOR EACH ROW FOLLOWS t_clamp SET NEW.id = 1;\n"
                  "CREATE TRIGGER t_two BEFORE INSERT ON t FOR EACH ROW PRECEDES t_clamp\n"
                  "BEGIN\n  SET NEW.b = 1;\n  SET NEW.c = 2;\nEND;\n"
                  "CREATE TRIGGER t_up BEFORE UPDATE ON t FOR EACH ROW\n"
                  "  CASE WHEN NEW.a > 9 THEN SET NEW.a = 9; ELSE SET NEW.a = NEW.a; END CASE;\n"
                  "INSERT INTO t (a) VALUES (-5);");
  CHECK(texts(st) ==
        Texts{"CREATE TRIGGER t_clamp BEFORE INSERT ON t FOR EACH ROW IF NEW.a < 0 THEN SET NEW.a = 0; END IF",
              "CREATE TRIGGER t_one BEFORE INSERT ON t FOR EACH ROW FOLLOWS t_clamp SET NEW.id = 1",
              "CREATE TRIGGER t_two BEFORE INSERT ON t FOR EACH ROW PRECEDES t_clamp\n"
              "BEGIN\n  SET NEW.b = 1;\n  SET NEW.c = 2;\nEND",
              "CREATE TRIGGER t_up BEFORE UPDATE ON t FOR EACH ROW\n"
              "  CASE WHEN NEW.a > 9 THEN SET NEW.a = 9; ELSE SET NEW.a = NEW.a; END CASE",
              "INSERT INTO t (a) VALUES (-5)"});
  CHECK(lines(st) == Lines{1, 2, 3, 8, 10});
}

TEST_CASE("mariadb: BEGIN NOT ATOMIC ... END is one statement; BEGIN and BEGIN WORK start a transaction") {
  auto st = maria("BEGIN NOT ATOMIC\n  DECLARE x INT DEFAULT 3;\n  IF x > 0 THEN SELECT 1; END IF;\nEND;\n"
                  "begin not atomic end;\nBEGIN;\nBEGIN WORK;\nXA BEGIN 'x';\nSELECT 2;");
  CHECK(texts(st) == Texts{"BEGIN NOT ATOMIC\n  DECLARE x INT DEFAULT 3;\n  IF x > 0 THEN SELECT 1; END IF;\nEND",
                           "begin not atomic end", "BEGIN", "BEGIN WORK", "XA BEGIN 'x'", "SELECT 2"});
}

TEST_CASE("mariadb: IF, CASE, WHILE, LOOP, REPEAT and FOR statements outside stored programs") {
  auto st = maria(
      "IF (SELECT COUNT(*) FROM s) = 3 THEN INSERT INTO s VALUES (1); ELSE INSERT INTO s VALUES (2); END IF;\n"
      "CASE WHEN 1 = 1 THEN INSERT INTO s VALUES (3); END CASE;\n"
      "WHILE 0 DO SELECT 1; END WHILE;\n"
      "LOOP SELECT 1; END LOOP;\n"
      "REPEAT INSERT INTO s VALUES (4); UNTIL 1 END REPEAT;\n"
      "FOR i IN 1..2 DO INSERT INTO s VALUES (i); END FOR;\n"
      "SELECT 5;");
  CHECK(texts(st) ==
        Texts{"IF (SELECT COUNT(*) FROM s) = 3 THEN INSERT INTO s VALUES (1); ELSE INSERT INTO s VALUES (2); "
              "END IF",
              "CASE WHEN 1 = 1 THEN INSERT INTO s VALUES (3); END CASE", "WHILE 0 DO SELECT 1; END WHILE",
              "LOOP SELECT 1; END LOOP", "REPEAT INSERT INTO s VALUES (4); UNTIL 1 END REPEAT",
              "FOR i IN 1..2 DO INSERT INTO s VALUES (i); END FOR", "SELECT 5"});
}

TEST_CASE("mariadb: the routine header (definer, RETURNS type, characteristics) comes before the body") {
  auto bodies = {
      "CREATE DEFINER = 'root'@'localhost' PROCEDURE p1() SQL SECURITY DEFINER NOT DETERMINISTIC BEGIN SELECT 1; END",
      "CREATE DEFINER=root@localhost PROCEDURE p2(IN a INT) LANGUAGE SQL READS SQL DATA BEGIN SELECT a; END",
      "CREATE OR REPLACE DEFINER = CURRENT_USER() PROCEDURE IF NOT EXISTS db.p3 () COMMENT 'x; y' BEGIN END",
      "CREATE FUNCTION f1() RETURNS INT(11) UNSIGNED ZEROFILL NO SQL BEGIN RETURN 1; END",
      "CREATE FUNCTION f2() RETURNS CHAR(5) CHARACTER SET latin1 BINARY BEGIN RETURN 'a'; END",
      "CREATE FUNCTION f3() RETURNS NATIONAL CHAR VARYING(10) BEGIN RETURN 'n'; END",
      "CREATE FUNCTION f4() RETURNS ENUM('a', 'b') CHARSET utf8mb4 COLLATE utf8mb4_bin BEGIN RETURN 'a'; END",
      "CREATE FUNCTION f5() RETURNS DOUBLE PRECISION CONTAINS SQL SQL SECURITY INVOKER BEGIN RETURN 1; END",
      "CREATE FUNCTION f6() RETURNS LONG VARCHAR MODIFIES SQL DATA BEGIN RETURN 'l'; END",
      "CREATE FUNCTION f7() RETURNS SET('a', 'b') BEGIN RETURN 'a'; END",
      "CREATE FUNCTION f8() RETURNS INT /*!50003 DETERMINISTIC */ BEGIN RETURN 1; END",
      "CREATE FUNCTION f9() RETURNS UUID BEGIN RETURN UUID(); END",
      "CREATE AGGREGATE FUNCTION agg(v INT) RETURNS INT BEGIN DECLARE t INT DEFAULT 0; "
      "DECLARE CONTINUE HANDLER FOR NOT FOUND RETURN t; LOOP FETCH GROUP NEXT ROW; SET t = t + v; END LOOP; END",
      "CREATE PROCEDURE `begin`(IN `end` INT, begin_at INT) BEGIN SELECT `end`; END",
      "CREATE PROCEDURE p4() data: BEGIN LEAVE data; END data",
  };
  for (const char* body : bodies) {
    CAPTURE(body);
    CHECK(texts(maria(std::string(body) + ";\nSELECT 2;")) == Texts{body, "SELECT 2"});
  }
}

TEST_CASE("mariadb: a loadable function (CREATE FUNCTION ... SONAME) has no body") {
  auto st = maria("CREATE FUNCTION metaphon RETURNS STRING SONAME 'udf_example.so';\nCREATE AGGREGATE FUNCTION "
                  "avgcost RETURNS REAL SONAME 'udf_example.so';\nSELECT 3;");
  CHECK(st.size() == 3);
}

TEST_CASE("mariadb: CREATE EVENT and ALTER EVENT bodies after DO") {
  auto st = maria("CREATE EVENT e1 ON SCHEDULE EVERY 1 DAY STARTS CURRENT_TIMESTAMP + INTERVAL 1 DAY\n"
                  "  ON COMPLETION PRESERVE DISABLE COMMENT 'do; not' DO BEGIN INSERT INTO ev VALUES (1); END;\n"
                  "CREATE DEFINER = `root`@`%` EVENT IF NOT EXISTS e2 ON SCHEDULE AT CURRENT_TIMESTAMP DO "
                  "INSERT INTO ev VALUES (3);\n"
                  "ALTER EVENT e2 DO IF 1 THEN INSERT INTO ev VALUES (4); END IF;\n"
                  "ALTER DEFINER = CURRENT_USER EVENT e1 DISABLE;\n"
                  "INSERT INTO ev VALUES (5);");
  REQUIRE(st.size() == 5);
  CHECK(ends_with(st[0].text, "DO BEGIN INSERT INTO ev VALUES (1); END"));
  CHECK(st[2].text == "ALTER EVENT e2 DO IF 1 THEN INSERT INTO ev VALUES (4); END IF");
  CHECK(lines(st) == Lines{1, 3, 4, 5, 6});
}

TEST_CASE("mariadb: IF, REPEAT, LOOP, WHILE and CASE open nothing outside statement position") {
  const char* script = R"sql(CREATE PROCEDURE p()
BEGIN
  DROP TABLE IF EXISTS x;
  CREATE TABLE IF NOT EXISTS y (a INT);
  SET @r = REPEAT('r', 2), @i = IF(1, 2, 3), @c = CASE WHEN 1 THEN 2 END;
  lbl: LOOP LEAVE lbl; END LOOP lbl;
  w: WHILE 0 DO ITERATE w; END WHILE w;
  IF REPEAT('a', 2) = 'aa' AND IF(1, TRUE, FALSE) THEN SELECT 1; END IF;
END;
SELECT 2;)sql";
  auto st = maria(script);
  REQUIRE(st.size() == 2);
  CHECK(ends_with(st[0].text, "THEN SELECT 1; END IF;\nEND"));
  CHECK(st[1].text == "SELECT 2");
}

TEST_CASE("mariadb: BEGIN and END in strings, comments, backticks, variables and after a dot are not keywords") {
  const char* script = "CREATE PROCEDURE p()\nBEGIN\n"
                       "  SELECT 'BEGIN', \"END;\", `begin`, `end` FROM t; -- BEGIN\n"
                       "  /* END; */ SET @end = 1, @begin = 2; # END IF;\n"
                       "  IF NEW.end > t.begin THEN SELECT q.end FROM q; END IF;\n"
                       "END;\nSELECT 3;";
  auto st = maria(script);
  REQUIRE(st.size() == 2);
  CHECK(ends_with(st[0].text, "END IF;\nEND"));
}

TEST_CASE("mariadb: END as a column of an ordinary statement splits normally") {
  auto st = maria(
      "CREATE TABLE e (start INT, end INT);\nSELECT start, end FROM e;\nSELECT IF(end > 1, 'a;b', 'c') FROM e;\n"
      "SELECT CASE WHEN end > 1 THEN 1 END FROM e;\nSELECT 5;");
  CHECK(st.size() == 5);
  CHECK(st.at(1).text == "SELECT start, end FROM e");
}

TEST_CASE("mariadb: CASE expressions inside conditions end with their own END") {
  const char* script = R"sql(CREATE PROCEDURE cx(n INT)
BEGIN
  IF CASE WHEN n > 0 THEN 1 ELSE 0 END = 1 THEN SELECT 'pos';
  ELSEIF (CASE n WHEN 0 THEN TRUE END) THEN SELECT 'zero';
  END IF;
  CASE CASE WHEN n > 10 THEN 'big' ELSE 'small' END
    WHEN 'big' THEN SELECT 1;
    WHEN 'small' THEN CASE WHEN n < 0 THEN SELECT 2; ELSE SELECT 3; END CASE;
  END CASE;
  WHILE CASE WHEN n > 100 THEN FALSE ELSE n < 3 END DO SET n = n + 1; END WHILE;
  REPEAT SET n = n - 1; UNTIL CASE WHEN n < 0 THEN TRUE ELSE n <= 1 END END REPEAT;
END;
CALL cx(1);)sql";
  auto st = maria(script);
  REQUIRE(st.size() == 2);
  CHECK(ends_with(st[0].text, "END END REPEAT;\nEND"));
  CHECK(st[1].text == "CALL cx(1)");
}

TEST_CASE("mariadb: a handler's statement may be compound; CURSOR FOR and CONDITION FOR end at ';'") {
  const char* script = R"sql(CREATE PROCEDURE h()
BEGIN
  DECLARE cond1 CONDITION FOR SQLSTATE '45000';
  DECLARE c CURSOR FOR SELECT a FROM t WHERE a IN (SELECT b FROM u);
  DECLARE EXIT HANDLER FOR cond1, SQLWARNING, NOT FOUND BEGIN INSERT INTO log VALUES ('x'); END;
  DECLARE CONTINUE HANDLER FOR 1062 IF @x IS NULL THEN SET @x = 1; END IF;
  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION lbl: BEGIN LEAVE lbl; END lbl;
  SIGNAL cond1;
END;
CALL h();)sql";
  auto st = maria(script);
  REQUIRE(st.size() == 2);
  CHECK(ends_with(st[0].text, "SIGNAL cond1;\nEND"));
}

TEST_CASE("mariadb: labelled blocks and loops, with quoted and spaced labels") {
  const char* script = "CREATE PROCEDURE p() main: BEGIN\n"
                       "  inner_block: BEGIN LEAVE inner_block; END inner_block;\n"
                       "  lbl : LOOP LEAVE lbl; END LOOP lbl;\n"
                       "  `my label` /* c */ : REPEAT SELECT 1; UNTIL 1 END REPEAT `my label`;\n"
                       "  f: FOR i IN 1..3 DO ITERATE f; END FOR f;\n"
                       "END main;\nSELECT 2;";
  auto st = maria(script);
  REQUIRE(st.size() == 2);
  CHECK(ends_with(st[0].text, "END FOR f;\nEND main"));
  auto trigger = maria("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW tl: BEGIN LEAVE tl; END tl;\nSELECT 3;");
  CHECK(texts(trigger) ==
        Texts{"CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW tl: BEGIN LEAVE tl; END tl", "SELECT 3"});
}

TEST_CASE("mariadb: with DELIMITER only the delimiter splits; after DELIMITER ; bodies are recognised again") {
  auto st = maria("DELIMITER //\nCREATE PROCEDURE a() SELECT 1; SELECT 2//\nDELIMITER ;\n"
                  "CREATE PROCEDURE b() BEGIN SELECT 3; END;\nSELECT 4;");
  CHECK(texts(st) ==
        Texts{"CREATE PROCEDURE a() SELECT 1; SELECT 2", "CREATE PROCEDURE b() BEGIN SELECT 3; END", "SELECT 4"});
  CHECK(lines(st) == Lines{2, 4, 5});
}

TEST_CASE("mariadb: /*M! ... */ executable comments are statement text like /*! ... */") {
  auto st = maria(
      "/*M!100100 SET @m = 1 */;\n/*!50003 CREATE*/ /*!50003 PROCEDURE kp() BEGIN SELECT 1; END */;\nSELECT 2;");
  CHECK(texts(st) == Texts{"/*M!100100 SET @m = 1 */",
                           "/*!50003 CREATE*/ /*!50003 PROCEDURE kp() BEGIN SELECT 1; END */", "SELECT 2"});
}

TEST_CASE("mariadb: an unfinished compound statement runs to the end of the script") {
  // The server reports the missing END; the splitter does not guess where it should be.
  auto st = maria("SELECT 1;\nCREATE PROCEDURE p() BEGIN SELECT 2;\nSELECT 3;\n");
  CHECK(texts(st) == Texts{"SELECT 1", "CREATE PROCEDURE p() BEGIN SELECT 2;\nSELECT 3;"});
}

TEST_CASE("mariadb: lone semicolons around compound statements give no statements") {
  CHECK(texts(maria(";;\nBEGIN NOT ATOMIC SELECT 1; END;;\n;")) == Texts{"BEGIN NOT ATOMIC SELECT 1; END"});
  CHECK(maria("; ;\n-- nothing\n;").empty());
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
  auto statements = pg(
      "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nSELECT 1;\n");
  REQUIRE(statements.size() == 2);
  CHECK(statements[1].text == "SELECT 1");
}
