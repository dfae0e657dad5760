#include "installer/catalog/script_lint.hpp"

#include "installer/catalog/session_statements.hpp"

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

namespace {

bool is_copy_through_client(const std::vector<std::string>& words, const std::string& text) {
  if (words.empty() || words[0] != "COPY") return false;
  // Every word, across lines and past a query in parentheses: COPY (SELECT ...) TO STDOUT.
  auto all = leading_words(text, 256, /*stop_at_parenthesis=*/false);
  return contains(all, "STDIN") || contains(all, "STDOUT");
}

bool is_load_data_local(const std::vector<std::string>& words) {
  return words.size() >= 3 && words[0] == "LOAD" && (words[1] == "DATA" || words[1] == "XML") &&
         (contains(words, "LOCAL"));
}

void lint_one(const std::string& text, int line, SqlDialect dialect, bool transactional, const std::string& path,
              const std::string& step_name, std::vector<Problem>& problems) {
  if (dialect == SqlDialect::postgres && !text.empty() && text[0] == '\\') {
    problems.push_back(
        {path, line, "psql meta-commands (\\...) are not SQL; the installer sends statements to the server itself"});
    return;
  }
  auto words = leading_words(text, 8);
  if (is_copy_through_client(words, text)) {
    problems.push_back({path, line,
                        "COPY ... FROM STDIN / TO STDOUT streams data through the client, which the installer is not; "
                        "load data with INSERT statements or COPY ... FROM a server-side file"});
    return;
  }
  if (dialect == SqlDialect::mariadb && is_load_data_local(words)) {
    problems.push_back({path, line,
                        "LOAD DATA LOCAL would make the installer read a file of its own machine for the server; load "
                        "data with INSERT statements or LOAD DATA from a file on the server"});
    return;
  }
  if (is_transaction_control(words, dialect)) {
    problems.push_back({path, line,
                        fmt::format("'{}' controls the transaction, which the installer owns: each update runs in one "
                                    "transaction (steps with transaction = false run outside it); remove it",
                                    words[0] == "START" ? "START TRANSACTION" : words[0])});
    return;
  }
  if (auto change = session_change(text, dialect, transactional)) {
    problems.push_back({path, line, *change});
    return;
  }
  if (dialect == SqlDialect::mariadb && !words.empty() &&
      ((words[0] == "LOCK" && words.size() > 1 && (words[1] == "TABLES" || words[1] == "TABLE")) ||
       (words[0] == "UNLOCK" && words.size() > 1 && (words[1] == "TABLES" || words[1] == "TABLE")))) {
    problems.push_back({path, line,
                        "LOCK TABLES would block the installer's own journal writes between statements; remove "
                        "LOCK/UNLOCK TABLES (each statement commits on its own anyway)"});
    return;
  }
  if (dialect == SqlDialect::postgres && transactional && cannot_run_in_transaction(words, text)) {
    problems.push_back({path, line,
                        fmt::format("this statement cannot run inside a transaction; add\n"
                                    "    [steps.{}]\n    transaction = false\n  to update.toml",
                                    step_name)});
  }
}

/// What MariaDB runs of one statement: with CLIENT_MULTI_STATEMENTS a DELIMITER block may
/// hold several statements, and executable comments are code. Each is linted on its own.
std::vector<Statement> statements_the_server_runs(const Statement& statement) {
  bool executable_comment = statement.text.find("/*") != std::string::npos;
  if (!executable_comment && statement.text.find(';') == std::string::npos) return {statement};
  std::string text = executable_comment ? unwrap_executable_comments(statement.text) : statement.text;
  std::vector<Statement> parts;
  try {
    parts = split_sql(text, SqlDialect::mariadb);
  } catch (const SqlSplitError&) {
    return {{text, statement.line}};  // the server's own error, when it runs
  }
  for (auto& part : parts) part.line += statement.line - 1;
  return parts;
}

}  // namespace

void lint_statements(const std::vector<Statement>& statements, SqlDialect dialect, bool transactional,
                     const std::string& path, const std::string& step_name, std::vector<Problem>& problems) {
  for (const auto& statement : statements) {
    if (dialect == SqlDialect::postgres) {
      lint_one(statement.text, statement.line, dialect, transactional, path, step_name, problems);
      continue;
    }
    for (const auto& part : statements_the_server_runs(statement))
      lint_one(part.text, part.line, dialect, transactional, path, step_name, problems);
  }
}

}  // namespace installer
