#include "installer/engine/statement_runner.hpp"

#include <fmt/format.h>

namespace installer {

std::string abbreviate(const std::string& sql, size_t max_length) {
  std::string flat;
  bool space = false;
  for (char c : sql) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !flat.empty();
      continue;
    }
    if (space) flat += ' ';
    space = false;
    flat += c;
  }
  if (flat.size() > max_length) flat = flat.substr(0, max_length - 3) + "...";
  return flat;
}

std::string StatementFailure::describe() const {
  std::string where = line > 0 ? fmt::format("{}:{}", file, line) : file;
  return fmt::format("step {}, statement {} ({}):\n    {}\n  the database said: {}{}", step, statement, where,
                     abbreviate(text), sqlstate.empty() ? "" : "[" + sqlstate + "] ", message);
}

StatementFailure statement_failure(const std::vector<Statement>& statements, size_t i, const ScriptLocation& where,
                                   const DbError& e) {
  StatementFailure f;
  f.update_id = where.update_id;
  f.step = where.step;
  f.file = where.file;
  f.statement = static_cast<int>(i + 1);
  f.line = statements[i].line;
  f.text = statements[i].text;
  f.sqlstate = e.sqlstate();
  f.message = e.what();
  f.failure = e.failure();
  return f;
}

namespace {

void run_range(Database& db, const std::vector<Statement>& statements, size_t first, size_t last,
               const ScriptLocation& where, const std::function<void(int)>& on_done, const std::atomic<int>* stop) {
  if (first >= last) return;
  if (stop && stop->load() != 0) throw Interrupted(stop->load(), static_cast<int>(first + 1), statements[first]);
  std::vector<std::string_view> texts;
  texts.reserve(last - first);
  for (size_t i = first; i < last; ++i) texts.emplace_back(statements[i].text);
  try {
    // Only an update's statements run with a stop to honour, and only those may be
    // cancelled by it; a revert's must run to the end.
    size_t completed = db.execute_batch(texts, stop, [&](size_t done) {
      if (on_done) on_done(static_cast<int>(first + done + 1));
    });
    if (completed < texts.size()) {
      size_t next = first + completed;
      throw Interrupted(stop ? stop->load() : 0, static_cast<int>(next + 1), statements[next]);
    }
  } catch (const BatchError& e) {
    const size_t i = first + e.index();
    // A statement cancelled because the operator asked to stop is a stop, not a failure.
    if (stop && stop->load() != 0 && e.session_usable())
      throw Interrupted(stop->load(), static_cast<int>(i + 1), statements[i]);
    throw StatementError(statement_failure(statements, i, where, e));
  }
}

/// A script that changed the session in a way the journal cannot live with fails after
/// its last statement, which did run: its undo (or the down script) then reverts it all.
void check_session(Database& db, const std::vector<Statement>& statements, const ScriptLocation& where) {
  auto problem = db.check_session_after_script();
  if (!problem) return;
  const size_t last = statements.size() - 1;
  std::string message = fmt::format(
      "after its last statement the session is not the installer's any more: {}. Statements that change the "
      "session's user or role, read-only mode, autocommit or current database cannot run in a step (a CALL or "
      "an executable comment may hide one)",
      *problem);
  throw StatementError(
      statement_failure(statements, last, where, DbError(DbFailure::statement, message, "", statements[last].text)));
}

}  // namespace

void run_statements(Database& db, const std::vector<Statement>& statements, size_t first, const ScriptLocation& where,
                    const std::function<void(int)>& on_done, const std::atomic<int>* stop,
                    const std::function<void(size_t)>& before_each) {
  if (first >= statements.size()) return;
  if (!before_each) {
    run_range(db, statements, first, statements.size(), where, on_done, stop);
  } else {
    for (size_t i = first; i < statements.size(); ++i) {
      if (stop && stop->load() != 0) throw Interrupted(stop->load(), static_cast<int>(i + 1), statements[i]);
      before_each(i);
      run_range(db, statements, i, i + 1, where, on_done, stop);
    }
  }
  check_session(db, statements, where);
}

}  // namespace installer
