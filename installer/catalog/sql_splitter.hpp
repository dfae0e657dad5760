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

/// Splits a script into statements where the engine's own tools would. Semicolons inside
/// quotes, quoted identifiers and comments never end a statement, and statements that
/// are empty or hold only comments are dropped.
///
/// PostgreSQL: exactly psql's rules (psqlscan.l): nested comments, E'' strings with
/// backslash escapes, dollar quotes ($1 and a$b are not), no end inside parentheses, and
/// BEGIN ... END (with CASE inside it) tracked only outside parentheses when the first
/// identifiers are CREATE [OR REPLACE] FUNCTION|PROCEDURE, which keeps BEGIN ATOMIC
/// bodies whole.
///
/// MariaDB/MySQL: `DELIMITER` lines set the terminator as in the mariadb client, and with
/// one other than ';' only it ends a statement. With ';' a stored program's body and a
/// compound statement end where the server's parser ends them (sql_yacc.yy): CREATE
/// PROCEDURE|FUNCTION|TRIGGER|EVENT and ALTER EVENT ... DO take one statement as body,
/// simple or compound (BEGIN ... END, IF, CASE, WHILE, LOOP, REPEAT, FOR, labelled or not),
/// and BEGIN NOT ATOMIC, IF, CASE, WHILE, LOOP, REPEAT and FOR run at the top of a script
/// too. Executable comments (/*! */, /*M! */) are statement text.
std::vector<Statement> split_sql(std::string_view script, SqlDialect dialect);

/// The first `count` words of a statement, upper-cased, comments skipped; for
/// recognising statement kinds ("CREATE", "INDEX", "CONCURRENTLY", ...). Stops at the
/// first parenthesis or quote unless told to skip over parenthesised and quoted parts.
std::vector<std::string> leading_words(std::string_view statement, size_t count, bool stop_at_parenthesis = true);

}  // namespace installer
