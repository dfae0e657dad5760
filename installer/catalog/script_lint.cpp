#include "installer/catalog/script_lint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace installer {
namespace {

bool contains(const std::vector<std::string>& words, const char* word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

bool is_transaction_control(const std::vector<std::string>& w, SqlDialect dialect) {
  if (w.empty()) return false;
  const std::string& first = w[0];
  if (first == "COMMIT" || first == "ABORT") return true;
  if (first == "START" && w.size() > 1 && w[1] == "TRANSACTION") return true;
  if (first == "ROLLBACK") return !(w.size() > 1 && (w[1] == "TO" || w[1] == "PREPARED"));
  if (first == "END") return dialect == SqlDialect::postgres;
  if (first == "BEGIN") {
    // MariaDB's anonymous compound statement: BEGIN NOT ATOMIC ... END.
    return !(dialect == SqlDialect::mariadb && w.size() > 1 && w[1] == "NOT");
  }
  return false;
}

// Statements PostgreSQL refuses inside a transaction block (SQLSTATE 25001).
bool cannot_run_in_transaction(const std::vector<std::string>& w, const std::string& text) {
  if (w.empty()) return false;
  const std::string& first = w[0];
  if ((first == "CREATE" || first == "DROP") && contains(w, "CONCURRENTLY")) return true;
  if (first == "REINDEX" || (first == "ALTER" && contains(w, "DETACH"))) {
    // Options lists and partition bounds come in parentheses; look at every word.
    auto all = leading_words(text, 64, /*stop_at_parenthesis=*/false);
    if (first == "REINDEX" && contains(all, "CONCURRENTLY")) return true;
    if (first == "ALTER" && !all.empty() && all.back() == "CONCURRENTLY") return true;
  }
  if (first == "VACUUM" || (first == "CLUSTER" && w.size() == 1)) return true;
  if ((first == "CREATE" || first == "DROP") && w.size() > 1 && (w[1] == "DATABASE" || w[1] == "TABLESPACE"))
    return true;
  if (first == "ALTER" && w.size() > 1 && w[1] == "SYSTEM") return true;
  return false;
}

}  // namespace

void lint_statements(const std::vector<Statement>& statements, SqlDialect dialect, bool transactional,
                     const std::string& path, const std::string& step_name, std::vector<Problem>& problems) {
  for (const auto& statement : statements) {
    if (dialect == SqlDialect::postgres && !statement.text.empty() && statement.text[0] == '\\') {
      problems.push_back({path, statement.line,
                          "psql meta-commands (\\...) are not SQL; the installer sends statements to the server itself"});
      continue;
    }
    auto words = leading_words(statement.text, 8);
    if (!words.empty() && words[0] == "COPY") {
      std::string upper_text;
      for (char c : statement.text) upper_text += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper_text.find("FROM STDIN") != std::string::npos) {
        problems.push_back({path, statement.line,
                            "COPY ... FROM STDIN needs psql to stream the data that follows it; load data with INSERT "
                            "statements or COPY ... FROM a server-side file"});
        continue;
      }
    }
    if (is_transaction_control(words, dialect)) {
      problems.push_back(
          {path, statement.line,
           fmt::format("'{}' controls the transaction, which the installer owns: each update runs in one "
                       "transaction (steps with transaction = false run outside it); remove it",
                       words[0] == "START" ? "START TRANSACTION" : words[0])});
      continue;
    }
    if (dialect == SqlDialect::mariadb && words.size() >= 2 && words[0] == "SET" &&
        (words[1] == "AUTOCOMMIT" || (words.size() >= 3 && words[1] == "SESSION" && words[2] == "AUTOCOMMIT") ||
         statement.text.find("@@autocommit") != std::string::npos ||
         statement.text.find("@@AUTOCOMMIT") != std::string::npos)) {
      problems.push_back({path, statement.line,
                          "SET autocommit would hold back the commits the installer journals statement by "
                          "statement; remove it"});
      continue;
    }
    if (dialect == SqlDialect::mariadb && !words.empty() &&
        ((words[0] == "LOCK" && words.size() > 1 && (words[1] == "TABLES" || words[1] == "TABLE")) ||
         (words[0] == "UNLOCK" && words.size() > 1 && (words[1] == "TABLES" || words[1] == "TABLE")))) {
      problems.push_back({path, statement.line,
                          "LOCK TABLES would block the installer's own journal writes between statements; remove "
                          "LOCK/UNLOCK TABLES (each statement commits on its own anyway)"});
      continue;
    }
    if (!words.empty() && words[0] == "USE" && dialect == SqlDialect::mariadb) {
      problems.push_back({path, statement.line,
                          "USE would switch away from the database the installer works in (the one in its URL); "
                          "qualify names with the other database instead"});
      continue;
    }
    if (dialect == SqlDialect::postgres && transactional && cannot_run_in_transaction(words, statement.text)) {
      problems.push_back({path, statement.line,
                          fmt::format("this statement cannot run inside a transaction; add\n"
                                      "    [steps.{}]\n    transaction = false\n  to update.toml",
                                      step_name)});
    }
  }
}

}  // namespace installer
