#include "installer/engine/reverter.hpp"

#include "installer/catalog/catalog.hpp"
#include "installer/db/db_error.hpp"
#include "installer/db/transaction.hpp"
#include "installer/engine/reconcile.hpp"
#include "installer/engine/schema_compare.hpp"
#include "installer/engine/schema_tracker.hpp"
#include "installer/engine/step_runs.hpp"
#include "installer/util/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>

namespace installer {

const char* to_string(RevertReason reason) {
  switch (reason) {
    case RevertReason::failed_apply: return "failed";
    case RevertReason::remove_update: return "remove-update";
    case RevertReason::auto_remove_unknown: return "auto-remove-unknown";
    case RevertReason::recovery: return "recovery";
  }
  return "failed";
}

Actor actor_of(RevertReason reason) {
  switch (reason) {
    case RevertReason::failed_apply: return Actor::revert;
    case RevertReason::recovery: return Actor::recovery;
    case RevertReason::remove_update:
    case RevertReason::auto_remove_unknown: return Actor::remove_update;
  }
  return Actor::revert;
}

namespace {

/// Failed or cut off part-way outside a transaction, or being reverted as such (also by
/// an older installer, which ran the whole down script: revert_method "").
bool partly_applied(const StepRecord& step) {
  return step.state == StepState::applying ||
         (step.state == StepState::reverting &&
          (!step.revert_method.empty() || step.statements_done < step.statements_total));
}

bool later_update_applied(const std::vector<AttemptRecord>& all, const AttemptRecord& attempt) {
  for (const auto& [id, last] : latest_attempts(all))
    if (id != attempt.update_id && in_effect(last->state) && last->attempt_id > attempt.attempt_id) return true;
  return false;
}

}  // namespace

bool Reverter::needs_revert(const StepRecord& step) {
  switch (step.state) {
    case StepState::applied:
    case StepState::reverting: return true;
    case StepState::applying:
      if (step.statements_done > 0) return true;
      if (!step.fingerprint_before.empty()) return schema_differs_from(ctx_, step.fingerprint_before);
      // A journaled error says how its first statement ended: it failed, or a stop kept
      // it from completing, so nothing of the step committed. Without one the installer
      // died with that statement in flight and nobody knows whether it committed: it is
      // reverted (its undo, or its down script written to tolerate a partly applied step),
      // and the fingerprint check after the revert confirms. Whoever reverts (the failed
      // apply itself, recovery, --remove-update) decides alike.
      return step.error.empty();
    default: return false;
  }
}

std::vector<PlannedDown> Reverter::plan(long long attempt_id) {
  AttemptRecord attempt = ctx_.journal.load_attempt(attempt_id);
  std::vector<PlannedDown> out;
  SqlDialect dialect = dialect_for(ctx_.db.engine());
  for (auto it = attempt.steps.rbegin(); it != attempt.steps.rend(); ++it) {
    if (!needs_revert(*it)) continue;
    auto statements = split_sql(it->down_script, dialect);
    size_t skip = std::min(statements.size(), static_cast<size_t>(it->down_statements_done));
    PlannedDown down{it->name, {statements.begin() + static_cast<long>(skip), statements.end()}, it->transactional, ""};
    if (partly_applied(*it) && ctx_.partial_revert != PartialRevert::strict_down) {
      down.partly_applied = describe_partial_plan(*it);
      if (it->revert_method != "tolerant-down" && down.partly_applied.find("its down script runs") == std::string::npos)
        down.statements.clear();
    }
    out.push_back(std::move(down));
  }
  return out;
}

void Reverter::start_revert(AttemptRecord& attempt, RevertReason reason) {
  ctx_.observe().reverting(attempt.update_id);
  ctx_.db.reset_session_settings();
  // Journaled before any down runs, so a crash from here on is finished by recovery.
  actor_ = actor_of(reason);
  move_to(attempt, UpdateState::reverting, actor_);
  if (attempt.reason.empty() || reason != RevertReason::recovery) attempt.reason = to_string(reason);
  ctx_.journal.update_attempt(attempt);
}

std::vector<StepRecord*> Reverter::steps_to_revert(AttemptRecord& attempt) {
  std::vector<StepRecord*> todo;
  for (auto it = attempt.steps.rbegin(); it != attempt.steps.rend(); ++it)
    if (needs_revert(*it)) todo.push_back(&*it);
  for (auto& step : attempt.steps)
    if (step.state == StepState::applying && std::find(todo.begin(), todo.end(), &step) == todo.end()) {
      // Nothing of it reached the database: record that, so it is not looked at again.
      move_to(step, StepState::rolled_back, actor_);
      ctx_.journal.update_step(attempt.attempt_id, step);
    }
  return todo;
}

void Reverter::revert_in_transaction(AttemptRecord& attempt, const std::vector<StepRecord*>& steps) {
  std::vector<StepRecord> saved;
  for (StepRecord* step : steps) saved.push_back(*step);
  SqlDialect dialect = dialect_for(ctx_.db.engine());
  ScriptLocation where{attempt.update_id, "", "(down script from the journal)"};
  try {
    Transaction transaction(ctx_.db);
    const bool whole_revert = chain_.tracker && steps.size() == reverted_.size();
    if (whole_revert) chain_.tracker->transaction_began();
    for (StepRecord* step : steps) {
      auto started = Clock::now();
      where.step = step->name;
      auto statements = split_sql(step->down_script, dialect);
      ctx_.reached("revert", attempt.update_id, step->name, "before");
      run_statements(ctx_.db, statements, 0, where, [&](int done) {
        ctx_.reached("revert", attempt.update_id, step->name, "statement=" + std::to_string(done));
      });
      move_to(*step, StepState::reverted, actor_);
      step->down_statements_done = static_cast<int>(statements.size());
      step->duration_ms = elapsed_ms(started);
      ctx_.journal.update_step(attempt.attempt_id, *step);
      ctx_.reached("revert", attempt.update_id, step->name, "after");
      log::event({{"update", attempt.update_id},
                  {"step", step->name},
                  {"duration_ms", std::to_string(step->duration_ms)}},
                 "reverted {} step {} ({}ms)", attempt.update_id, step->name, step->duration_ms);
    }
    if (whole_revert) read_before_commit_ = schema_after_downs(attempt, reverted_);
    ctx_.reached("revert", attempt.update_id, steps.back()->name, "commit");
    transaction.commit();
  } catch (...) {
    read_before_commit_.reset();
    // The rollback undid these steps' downs and journal rows alike.
    for (size_t k = 0; k < steps.size(); ++k) *steps[k] = saved[k];
    throw;
  }
}

void Reverter::revert_alone(AttemptRecord& attempt, StepRecord& step) {
  auto started = Clock::now();
  ScriptLocation where{attempt.update_id, step.name, "(down script from the journal)"};
  auto statements = split_sql(step.down_script, dialect_for(ctx_.db.engine()));
  move_to(step, StepState::reverting, actor_);
  ctx_.journal.update_step(attempt.attempt_id, step);
  ctx_.reached("revert", attempt.update_id, step.name, "before");
  run_statements(ctx_.db, statements, static_cast<size_t>(step.down_statements_done), where, [&](int done) {
    step.down_statements_done = done;
    ctx_.journal.update_step(attempt.attempt_id, step);
    ctx_.reached("revert", attempt.update_id, step.name, "statement=" + std::to_string(done));
  });
  journal_reverted(attempt, step, started, "");
}

void Reverter::journal_reverted(const AttemptRecord& attempt, StepRecord& step, Clock::time_point started,
                                const std::string& part_way_note) {
  move_to(step, StepState::reverted, actor_);
  step.duration_ms = elapsed_ms(started);
  ctx_.journal.update_step(attempt.attempt_id, step);
  ctx_.reached("revert", attempt.update_id, step.name, "after");
  log::event({{"update", attempt.update_id}, {"step", step.name}, {"duration_ms", std::to_string(step.duration_ms)}},
             "reverted {} step {}{}", attempt.update_id, step.name,
             part_way_note.empty() ? fmt::format(" outside a transaction ({}ms)", step.duration_ms)
                                   : ", which had failed part-way: " + part_way_note);
}

void Reverter::run_downs(AttemptRecord& attempt, const std::vector<StepRecord*>& todo, RevertOutcome& outcome) {
  const bool together = ctx_.db.capabilities().downs_revert_together;
  // Consecutive transactional downs not yet started revert together: all of them or none.
  for_each_run(
      todo.size(), [&](size_t k) { return together && todo[k]->transactional && todo[k]->down_statements_done == 0; },
      [&](size_t begin, size_t end) {
        revert_in_transaction(attempt,
                              {todo.begin() + static_cast<long>(begin), todo.begin() + static_cast<long>(end)});
        return true;
      },
      [&](size_t k) {
        StepRecord& step = *todo[k];
        if (partly_applied(step) && ctx_.partial_revert != PartialRevert::strict_down)
          revert_partly_applied(attempt, step, outcome.notes);
        else revert_alone(attempt, step);
        return true;
      });
}

void Reverter::record_down_failure(AttemptRecord& attempt, const StatementFailure& failure, RevertOutcome& outcome) {
  outcome.failure = failure;
  for (auto it = attempt.steps.rbegin(); it != attempt.steps.rend(); ++it) {
    if (it->state == StepState::applied || it->state == StepState::reverting ||
        (it->state == StepState::applying && it->statements_done > 0)) {
      outcome.remaining.push_back(
          it->state == StepState::reverting
              ? fmt::format("{} (its down script stopped after {} statement(s))", it->name, it->down_statements_done)
              : it->name);
    }
  }
  std::string revert_error = fmt::format("revert failed at {}", failure.describe());
  attempt.error = attempt.error.empty() ? revert_error : attempt.error + "\n" + revert_error;
  move_to(attempt, UpdateState::revert_failed, actor_);
  ctx_.journal.update_attempt(attempt);
  outcome.attempt = attempt;
}

Snapshot Reverter::schema_after_downs(const AttemptRecord& attempt, const std::vector<StepRecord*>& reverted) {
  bool whole_downs = std::all_of(reverted.begin(), reverted.end(),
                                 [](const StepRecord* s) { return s->revert_method.empty(); });
  if (!chain_.tracker) return current_schema(ctx_);
  if (!chain_.schema_before || !whole_downs) return chain_.tracker->read_all();
  std::vector<std::string> statements;
  SqlDialect dialect = dialect_for(ctx_.db.engine());
  for (const StepRecord* step : reverted)
    for (const auto& s : split_sql(step->down_script, dialect)) statements.push_back(s.text);
  return chain_.tracker->after("the revert of update " + attempt.update_id, statements, *chain_.schema_before);
}

void Reverter::compare_with_before(AttemptRecord& attempt, RevertOutcome& outcome) {
  Snapshot now = read_before_commit_ ? std::move(*read_before_commit_) : schema_after_downs(attempt, reverted_);
  read_before_commit_.reset();
  bool later = chain_.later_update_applied ? *chain_.later_update_applied
                                           : later_update_applied(ctx_.journal.load(), attempt);
  if (later) {
    outcome.verification_skipped = true;
    outcome.skipped_because = "updates applied after it are still applied";
    log::warn("the schema after removing {} cannot be compared with its snapshot before: updates applied after it "
              "are still applied",
              attempt.update_id);
  } else if (attempt.fingerprint_before.empty()) {
    outcome.verification_skipped = true;
    outcome.skipped_because = "no snapshot was recorded before it (it was applied in the middle of a run longer "
                              "than --fingerprint-limit, or by an older installer)";
    log::warn("the schema after removing {} was not compared: {}", attempt.update_id, outcome.skipped_because);
  } else {
    SchemaComparison c = compare_schema(ctx_, attempt.fingerprint_before, now);
    if (c.result == SchemaComparison::Result::unreadable) {
      outcome.verification_skipped = true;
      outcome.skipped_because = "the snapshot recorded before it cannot be read: " + c.problem;
      log::warn("the schema after removing {} was not compared: {}", attempt.update_id, outcome.skipped_because);
    }
    outcome.differences = c.lines;
    outcome.objects = c.objects;
    outcome.compared_with = describe_comparison_basis(c);
    outcome.verified = c.equal();
  }
  attempt.fingerprint_after = record_schema(ctx_, now);
  outcome.schema_after = std::move(now);
}

void Reverter::finish_revert(AttemptRecord& attempt, RevertReason reason, RevertOutcome& outcome) {
  if (!outcome.ok()) {
    std::string diff;
    for (const auto& d : outcome.differences) diff += "\n    " + d;
    std::string verify_error = fmt::format(
        "every down script ran, but the schema is not what it was before update {} (compared with its {}):{}",
        attempt.update_id, outcome.compared_with, diff);
    attempt.error = attempt.error.empty() ? verify_error : attempt.error + "\n" + verify_error;
    move_to(attempt, UpdateState::revert_failed, actor_);
  } else {
    const bool from_failure = reason == RevertReason::failed_apply || reason == RevertReason::recovery;
    move_to(attempt, from_failure ? UpdateState::failed : UpdateState::removed, actor_);
  }
  ctx_.journal.update_attempt(attempt);
  outcome.attempt = attempt;
}

RevertOutcome Reverter::revert(long long attempt_id, RevertReason reason, RevertChain chain) {
  chain_ = chain;
  RevertOutcome outcome;
  AttemptRecord attempt = ctx_.journal.load_attempt(attempt_id);
  start_revert(attempt, reason);
  try {
    reverted_ = steps_to_revert(attempt);
    run_downs(attempt, reverted_, outcome);
  } catch (const StatementError& e) {
    // A lost session cannot journal anything: the next start finds the attempt still
    // 'reverting' and finishes it.
    if (e.failure().failure != DbFailure::statement) throw;
    record_down_failure(attempt, e.failure(), outcome);
    return outcome;
  }
  outcome.reverted = true;
  compare_with_before(attempt, outcome);
  finish_revert(attempt, reason, outcome);
  return outcome;
}

}  // namespace installer
