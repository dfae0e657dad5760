#pragma once
#include "installer/catalog/sql_splitter.hpp"
#include "installer/db/database.hpp"
#include "installer/db/db_error.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace installer {

/// A statement of a step that the server refused, with everything an operator needs
/// to find it: which update, step, file, statement and line, and the server's words.
struct StatementFailure {
  std::string update_id;
  std::string step;
  std::string file;   ///< the script's path, or "(journal)" for a down script read from the journal
  int statement = 0;  ///< 1-based index within the script
  int line = 0;
  std::string text;
  std::string sqlstate;
  std::string message;
  DbFailure failure = DbFailure::statement;

  /// Multi-line description for logs and errors; callers name the update.
  std::string describe() const;
};

/// Thrown when a stop signal ends an update's statements: before the next one starts, or
/// for the one the stop cancelled (where statements went to the server together, or one
/// was running). A revert's statements run without a stop, so a revert never sees it.
class Interrupted : public std::runtime_error {
 public:
  Interrupted(int signal, int statement, Statement where)
      : std::runtime_error("interrupted by a signal"),
        signal_(signal),
        statement_(statement),
        where_(std::move(where)) {}
  int signal() const { return signal_; }
  /// 1-based index of the statement that did not run (or was cancelled).
  int statement() const { return statement_; }
  const Statement& where() const { return where_; }

 private:
  int signal_;
  int statement_;
  Statement where_;
};

/// Thrown when a statement fails; carries the StatementFailure.
class StatementError : public std::runtime_error {
 public:
  explicit StatementError(StatementFailure f) : std::runtime_error(f.describe()), failure_(std::move(f)) {}
  const StatementFailure& failure() const { return failure_; }

 private:
  StatementFailure failure_;
};

struct ScriptLocation {
  std::string update_id;
  std::string step;
  std::string file;
};

/// Executes statements[first..] in order; after each one, calls on_done(index+1) so the
/// caller can journal progress. Throws StatementError for a failed statement.
/// With `stop`, throws Interrupted once *stop is non-zero: before the next statement, or
/// for the one the stop cancelled (where the statements went to the server together).
/// With before_each, calls it with a statement's 0-based index before that statement is
/// sent (and sends them one at a time).
void run_statements(Database& db, const std::vector<Statement>& statements, size_t first, const ScriptLocation& where,
                    const std::function<void(int done)>& on_done = {}, const std::atomic<int>* stop = nullptr,
                    const std::function<void(size_t)>& before_each = {});

/// The failure of statements[i], as the server reported it.
StatementFailure statement_failure(const std::vector<Statement>& statements, size_t i, const ScriptLocation& where,
                                   const DbError& e);

using Clock = std::chrono::steady_clock;

/// Milliseconds since `since`, for step durations.
inline long long elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

/// Shortens a statement for one-line messages.
std::string abbreviate(const std::string& sql, size_t max_length = 200);

}  // namespace installer
