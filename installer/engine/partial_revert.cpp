// Reverting a step that failed part-way outside a transaction (every MariaDB step,
// PostgreSQL steps with transaction = false): its committed statements are undone newest
// first from the undo records journaled before each of them ran, so the step's down
// script, written for the whole step, never meets a state it was not written for. From
// the first statement without an exact inverse on, the down script takes over, passing
// over its statements whose objects are absent (the step never got that far); the
// fingerprint comparison after the revert decides whether that was enough.
#include "installer/engine/reverter.hpp"

#include "installer/catalog/catalog.hpp"
#include "installer/db/db_error.hpp"
#include "installer/journal/journal_tables.hpp"
#include "installer/util/log.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace installer {
namespace {

std::string statement_label(const UndoRecord& r) {
  return r.summary.empty() ? fmt::format("statement {}", r.statement)
                           : fmt::format("statement {} ({})", r.statement, r.summary);
}

/// The records to undo, newest first: those of the committed statements and of the one
/// after them, which was in flight, failed or was cut off. A statement without a record
/// had nothing to undo (the applier writes none for it).
std::vector<const UndoRecord*> records_to_undo(const StepRecord& step) {
  std::vector<const UndoRecord*> out;
  for (auto it = step.undo.rbegin(); it != step.undo.rend(); ++it)
    if (it->statement <= step.statements_done + 1) out.push_back(&*it);
  return out;
}

void perform_undo(Database& db, const UndoRecord& r, bool in_doubt, const std::string& journal) {
  if (r.kind == UndoKind::nothing || r.kind == UndoKind::rows) return;
  if (r.kind == UndoKind::none) throw NotExact(r.why);
  StatementUndo* engine_undo = db.statement_undo();
  if (!engine_undo) throw NotExact("this database has no exact undo");
  engine_undo->undo(r, in_doubt, journal_objects(db.dialect(), journal));
}

}  // namespace

void Reverter::revert_partly_applied(AttemptRecord& attempt, StepRecord& step, std::vector<std::string>& notes) {
  auto started = Clock::now();
  if (step.revert_method.empty()) {
    // A down script already under way (started by an older installer) goes on, tolerantly.
    const bool exact = ctx_.partial_revert == PartialRevert::exact && !step.undo.empty() &&
                       step.down_statements_done == 0;
    step.revert_method = exact ? "exact" : "tolerant-down";
    if (!exact && ctx_.partial_revert == PartialRevert::exact)
      step.revert_note = step.undo.empty()
                             ? "it has no undo records (an installer before journal format 3 applied it); "
                             : "its down script was already under way; ";
  }
  move_to(step, StepState::reverting, actor_);
  ctx_.journal.update_step(attempt.attempt_id, step);
  ctx_.reached("revert", attempt.update_id, step.name, "before");
  if (step.revert_method != "exact" || !undo_exactly(attempt, step)) run_down_tolerantly(attempt, step);
  journal_reverted(attempt, step, started, step.revert_note);
  notes.push_back(fmt::format("step {} ({} of {} statements had committed): {}", step.name, step.statements_done,
                              step.statements_total, step.revert_note));
}

bool Reverter::undo_exactly(AttemptRecord& attempt, StepRecord& step) {
  auto give_up = [&](const std::string& why) {
    step.revert_method = "tolerant-down";
    step.revert_note += why + "; from there its down script ran";
    ctx_.journal.update_step(attempt.attempt_id, step);
    return false;
  };
  const std::vector<const UndoRecord*> records = records_to_undo(step);
  const bool failure_known = !step.error.empty();
  const size_t resumed_at = static_cast<size_t>(std::max(0, step.undo_done));
  std::vector<std::string> undone, rows_left;
  for (size_t n = resumed_at; n < records.size(); ++n) {
    const UndoRecord& r = *records[n];
    const bool committed = r.statement <= step.statements_done;
    // A statement known to have failed committed nothing, but on PostgreSQL it may have
    // left an invalid index behind: only a restore, which compares, is run for it.
    if (!committed && failure_known && r.kind != UndoKind::restore_table && r.kind != UndoKind::restore_schema)
      continue;
    const bool in_doubt = !committed || (n == resumed_at && resumed_at > 0);
    try {
      perform_undo(ctx_.db, r, in_doubt, ctx_.journal_schema);
    } catch (const NotExact& e) {
      std::string done = undone.empty() ? "" : fmt::format("undone exactly: {}; ", fmt::join(undone, ", "));
      return give_up(fmt::format("{}{} has no exact inverse ({})", done, statement_label(r), e.what()));
    } catch (const DbError& e) {
      if (e.failure() != DbFailure::statement) throw;
      std::string done = undone.empty() ? "" : fmt::format("undone exactly: {}; ", fmt::join(undone, ", "));
      return give_up(
          fmt::format("{}the inverse of {} failed ([{}] {})", done, statement_label(r), e.sqlstate(), e.what()));
    }
    if (r.kind == UndoKind::restore_table || r.kind == UndoKind::restore_schema ||
        (r.kind == UndoKind::run && !r.existed.value_or(false)))
      undone.push_back(std::to_string(r.statement));
    if (r.kind == UndoKind::rows) rows_left.push_back(statement_label(r));
    step.undo_done = static_cast<int>(n + 1);
    ctx_.journal.update_step(attempt.attempt_id, step);
    ctx_.reached("revert", attempt.update_id, step.name, "undo=" + std::to_string(r.statement));
  }
  step.revert_note += undone.empty()
                          ? "nothing of it needed undoing; its down script did not run"
                          : fmt::format("undone exactly, statement by statement, newest first (statements {}); its "
                                        "down script did not run",
                                        fmt::join(undone, ", "));
  // Rows are not schema: a down script written for the whole step is no safer judge of
  // them on a partly applied step, so they are said, not guessed at.
  if (!rows_left.empty())
    step.revert_note += fmt::format("; the rows changed by {} stay as they are", fmt::join(rows_left, ", "));
  return true;
}

void Reverter::run_down_tolerantly(AttemptRecord& attempt, StepRecord& step) {
  std::vector<Statement> statements = split_sql(step.down_script, dialect_for(ctx_.db.engine()));
  ScriptLocation where{attempt.update_id, step.name, "(down script from the journal)"};
  StatementUndo* engine_undo = ctx_.db.statement_undo();
  int passed = 0;
  std::string passed_list;
  for (size_t i = static_cast<size_t>(step.down_statements_done); i < statements.size(); ++i) {
    try {
      ctx_.db.execute(statements[i].text);
    } catch (const DbError& e) {
      if (!e.session_usable() || !engine_undo || !engine_undo->absent_or_present(e))
        throw StatementError(statement_failure(statements, i, where, e));
      ++passed;
      passed_list += fmt::format("\n      line {}: {} ([{}] {})", statements[i].line,
                                 abbreviate(statements[i].text, 80), e.sqlstate(), e.what());
    }
    step.down_statements_done = static_cast<int>(i + 1);
    ctx_.journal.update_step(attempt.attempt_id, step);
    ctx_.reached("revert", attempt.update_id, step.name, "statement=" + std::to_string(i + 1));
  }
  if (step.revert_method == "tolerant-down" && step.revert_note.find("its down script ran") == std::string::npos)
    step.revert_note += "its down script ran";
  step.revert_note += passed == 0 ? ", every statement of it applying"
                                  : fmt::format(", passing over {} statement(s) whose objects were absent or already "
                                                "as wanted:{}",
                                                passed, passed_list);
}

std::string Reverter::describe_partial_plan(const StepRecord& step) const {
  if (ctx_.partial_revert != PartialRevert::exact || step.undo.empty())
    return "failed part-way: its down script runs, passing over statements whose objects are absent";
  std::string text = "failed part-way: undone statement by statement, newest first:";
  for (const UndoRecord* r : records_to_undo(step)) {
    text += fmt::format("\n--   {}: ", statement_label(*r));
    switch (r->kind) {
      case UndoKind::nothing: text += "nothing to undo (" + r->why + ")"; break;
      case UndoKind::rows: text += "its rows stay as they are (" + r->why + ")"; break;
      case UndoKind::run: {
        // Flattened: every line of the plan stays a comment, however the statement is written.
        std::string statements;
        for (const auto& s : r->statements) statements += (statements.empty() ? "" : "; ") + abbreviate(s, 160);
        text += statements;
        break;
      }
      case UndoKind::restore_table:
        text += fmt::format("its table {} gets back its definition from before it", r->table.name);
        break;
      case UndoKind::restore_schema: text += "every object gets back its definition from before it"; break;
      case UndoKind::none: return text + "no exact inverse (" + r->why + "): from here its down script runs";
    }
  }
  return text;
}

}  // namespace installer
