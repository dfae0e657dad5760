// Bounded random-input tests of the parsers that read what vendors and operators write:
// the SQL splitter (and the lint and statement analysis behind it), the manifest reader and
// the database URL parser. Seeded with the example product's scripts and constructs that
// broke real histories, mutated with a fixed seed so a failure repeats; run under ASan and
// UBSan in CI. Each input must end in a result or the documented error, never a crash,
// a hang or text the input did not hold.
#include "installer/catalog/manifest.hpp"
#include "installer/catalog/script_lint.hpp"
#include "installer/catalog/script_text.hpp"
#include "installer/catalog/sql_splitter.hpp"
#include "installer/catalog/statement_effect.hpp"
#include "installer/db/connection_url.hpp"
#include "installer/util/redact.hpp"

#include <doctest/doctest.h>
#include <boost/filesystem.hpp>

#include <fstream>
#include <random>
#include <sstream>

using namespace installer;
namespace fs = boost::filesystem;

namespace {

constexpr int kRounds = 20000;  // per dialect: under a second, a few seconds under ASan

std::vector<std::string> sql_seeds() {
  std::vector<std::string> seeds = {
      "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;\nSELECT 1;",
      "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; WHILE 0 DO SET @a = 1; END WHILE; END;\nSELECT 2;",
      "DELIMITER $$\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END$$\nDELIMITER ;\n",
      "SELECT E'a\\'b;c', 'd''e', \"q;\", `b;t` /* c /* nested */ ; */ ; -- x;\nSELECT $tag$ ; $tag$;",
      "BEGIN NOT ATOMIC DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END; SELECT 1; END;",
      "/*!40101 SET NAMES utf8mb4 */;\n/*M!100100 SET @x = 1 */;\nCOPY t FROM STDIN;\n",
      "CREATE FUNCTION g(begin int, \"end\" int) RETURNS int BEGIN ATOMIC SELECT begin + \"end\"; END;",
      "CASE WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE;\nlbl: LOOP LEAVE lbl; END LOOP lbl;",
  };
  fs::path migrations = fs::path(INSTALLER_SOURCE_DIR) / "migrations";
  for (fs::recursive_directory_iterator it(migrations), end; it != end; ++it) {
    if (it->path().extension() != ".sql") continue;
    std::ifstream in(it->path().string(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    seeds.push_back(text.str());
  }
  return seeds;
}

/// One mutation of `text`: bytes flipped, a token that opens or closes something put in,
/// a part dropped or repeated.
std::string mutate(std::string text, std::mt19937& random) {
  static const std::vector<std::string> tokens = {"'",
                                                  "\"",
                                                  "`",
                                                  "$$",
                                                  "$a$",
                                                  "/*",
                                                  "*/",
                                                  "--",
                                                  "#",
                                                  "\n",
                                                  ";",
                                                  "(",
                                                  ")",
                                                  "BEGIN",
                                                  "END",
                                                  "IF",
                                                  "THEN",
                                                  "END IF",
                                                  "CASE",
                                                  "LOOP",
                                                  "REPEAT",
                                                  "UNTIL",
                                                  "WHILE",
                                                  "DO",
                                                  "DELIMITER //\n",
                                                  "DELIMITER ;\n",
                                                  "//",
                                                  "\\",
                                                  "E'",
                                                  "CREATE PROCEDURE p() ",
                                                  "ATOMIC",
                                                  "/*!",
                                                  "\xc3",
                                                  "\0",
                                                  "\r\n",
                                                  "COPY t TO STDOUT",
                                                  "SET autocommit=0,"};
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  int edits = 1 + static_cast<int>(pick(4));
  for (int e = 0; e < edits; ++e) {
    size_t at = pick(text.size() + 1);
    switch (pick(4)) {
      case 0:
        if (!text.empty()) text[std::min(at, text.size() - 1)] = static_cast<char>(pick(256));
        break;
      case 1: text.insert(at, tokens[pick(tokens.size())]); break;
      case 2: text.erase(at, pick(40)); break;
      default: text.insert(at, text.substr(pick(text.size() + 1), pick(60))); break;
    }
  }
  return text;
}

void split_and_check(const std::string& script, SqlDialect dialect) {
  std::vector<Statement> statements;
  try {
    statements = split_sql(script, dialect);
  } catch (const SqlSplitError& e) {
    CHECK(e.line() >= 1);
    return;
  }
  int lines = 1 + static_cast<int>(std::count(script.begin(), script.end(), '\n'));
  int previous = 1;
  for (const auto& s : statements) {
    CHECK_FALSE(s.text.empty());
    CHECK(script.find(s.text) != std::string::npos);  // the splitter never invents text
    CHECK(s.line >= previous);
    CHECK(s.line <= lines);
    previous = s.line;
    statement_effect(s.text, dialect);
    leading_words(s.text, 64, false);
  }
  std::vector<Problem> problems;
  lint_statements(statements, dialect, true, "fuzz.sql", "001_fuzz", problems);
  for (const auto& p : problems) CHECK(p.line >= 0);
  check_script_text(script, "fuzz.sql");
}

}  // namespace

TEST_CASE("fuzz: the SQL splitter, the lint and the statement analysis on mutated scripts") {
  auto seeds = sql_seeds();
  REQUIRE(seeds.size() > 8);
  for (SqlDialect dialect : {SqlDialect::postgres, SqlDialect::mariadb}) {
    std::mt19937 random(dialect == SqlDialect::postgres ? 11 : 12);
    for (int round = 0; round < kRounds; ++round) {
      std::string input = mutate(seeds[static_cast<size_t>(round) % seeds.size()], random);
      INFO("round ", round, ": ", input);
      split_and_check(input, dialect);
    }
  }
}

TEST_CASE("fuzz: the manifest reader reports problems, never throws or crashes") {
  const std::string seed =
      "id = \"2024.02.0\"\nversion = \"2024.02.0\"\nrequires = [\"a\", \"b\"]\ndescription = \"x\"\n"
      "[steps.003_idx]\ntransaction = false\n";
  std::mt19937 random(13);
  for (int round = 0; round < kRounds; ++round) {
    std::string input = mutate(seed, random);
    INFO("round ", round, ": ", input);
    std::vector<Problem> problems;
    CHECK_NOTHROW(parse_manifest(input, "update.toml", problems));
  }
}

TEST_CASE("fuzz: the URL parser never echoes the password, however the URL is broken") {
  std::mt19937 random(14);
  const std::string characters = "abcXYZ019@:/?#%&=+;[]!$'\"\\ .-_~";
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  for (int round = 0; round < kRounds * 2; ++round) {
    std::string password = "Pw";
    for (size_t n = 4 + pick(12); n > 0; --n) password += characters[pick(characters.size())];
    std::string url = std::vector<std::string>{"postgresql://", "mariadb://", "mysql://"}[pick(3)] + "user:" + password;
    if (pick(4) != 0) url += "@";  // sometimes forgotten
    url += std::vector<std::string>{"db", "db:5432", "[::1]:3306", "db:99999", "db:x", ""}[pick(6)];
    url += std::vector<std::string>{"/app", "/app?sslmode=require", "/a%zz", "", "?x=1&&y"}[pick(5)];
    INFO("round ", round, ": ", url);
    clear_secrets_for_testing();
    try {
      auto spec = parse_connection_url(url);
      if (spec.password.size() >= 3) CHECK(spec.redacted_url().find(spec.password) == std::string::npos);
    } catch (const std::invalid_argument& e) {
      // The message may quote nothing of what follows "user:" (the password's start).
      CHECK(std::string(e.what()).find(password.substr(0, 6)) == std::string::npos);
    }
  }
  clear_secrets_for_testing();
}
