#pragma once
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace installer {

enum class SqlDialect { postgres, mariadb };

/// One statement of a script, without its terminating delimiter.
struct Statement {
  std::string text;
  int line = 1;  ///< 1-based line of the statement's first character in the file
};

/// A script that cannot be split (an unterminated quote or comment).
class SqlSplitError : public std::runtime_error {
 public:
  SqlSplitError(int line, const std::string& message) : std::runtime_error(message), line_(line) {}
  int line() const { return line_; }

 private:
  int line_;
};

/// Splits a script into statements the way psql (PostgreSQL) and the mariadb client
/// (MariaDB/MySQL) would: semicolons inside quotes, identifiers, comments, dollar-quoted
/// bodies and SQL-standard BEGIN ATOMIC bodies do not end a statement; MariaDB's
/// `DELIMITER` lines change the terminator for routines and triggers. Statements that
/// hold only comments are dropped.
std::vector<Statement> split_sql(std::string_view script, SqlDialect dialect);

/// The first `count` words of a statement, upper-cased, comments skipped; for
/// recognising statement kinds ("CREATE", "INDEX", "CONCURRENTLY", ...). Stops at the
/// first parenthesis or quote unless told to skip over parenthesised and quoted parts.
std::vector<std::string> leading_words(std::string_view statement, size_t count, bool stop_at_parenthesis = true);

}  // namespace installer
