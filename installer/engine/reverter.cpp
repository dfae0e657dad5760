#include "installer/engine/reverter.hpp"

#include "installer/catalog/catalog.hpp"
#include "installer/db/db_error.hpp"
#include "installer/engine/reconcile.hpp"
#include "installer/journal/journal_tables.hpp"
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
    if (id != attempt.update_id && last->state == UpdateState::applied && last->attempt_id > attempt.attempt_id)
      return true;
  return false;
}

}  // namespace

bool Reverter::needs_revert(const StepRecord& step, RevertReason reason) {
  switch (step.state) {
    case StepState::applied:
    case StepState::reverting:
      return true;
    case StepState::applying:
      if (step.statements_done > 0) return true;
      if (!step.fingerprint_before.empty())
        return schema_fingerprint(ctx_.db, ctx_.journal_schema) != Fingerprint::parse(step.fingerprint_before);
      // After a crash nobody knows whether the statement in flight committed: the down
      // script (written to tolerate a partly applied step) decides, and the fingerprint
      // check after the revert confirms.
      return reason == RevertReason::recovery;
    default:
      return false;
  }
}

std::vector<PlannedDown> Reverter::plan(long long attempt_id) {
  AttemptRecord attempt = ctx_.journal.load_attempt(attempt_id);
  std::vector<PlannedDown> out;
  SqlDialect dialect = dialect_for(ctx_.db.engine());
  for (auto it = attempt.steps.rbegin(); it != attempt.steps.rend(); ++it) {
    if (!needs_revert(*it, RevertReason::remove_update)) continue;
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

RevertOutcome Reverter::revert(long long attempt_id, RevertReason reason, bool verify) {
  Database& db = ctx_.db;
  Journal& journal = ctx_.journal;
  RevertOutcome outcome;
  AttemptRecord attempt = journal.load_attempt(attempt_id);
  const bool from_failure = reason == RevertReason::failed_apply || reason == RevertReason::recovery;

  ctx_.observe().reverting(attempt.update_id);
  db.reset_session_settings();
  // Journaled before any down runs, so a crash from here on is finished by recovery.
  attempt.state = UpdateState::reverting;
  if (attempt.reason.empty() || reason != RevertReason::recovery) attempt.reason = to_string(reason);
  journal.update_attempt(attempt);

  std::vector<StepRecord*> todo;
  for (auto it = attempt.steps.rbegin(); it != attempt.steps.rend(); ++it)
    if (needs_revert(*it, reason)) todo.push_back(&*it);
  for (auto& step : attempt.steps)
    if (step.state == StepState::applying && std::find(todo.begin(), todo.end(), &step) == todo.end()) {
      // Nothing of it reached the database: record that, so it is not looked at again.
      step.state = StepState::rolled_back;
      journal.update_step(attempt.attempt_id, step);
    }

  SqlDialect dialect = dialect_for(db.engine());
  ScriptLocation where{attempt.update_id, "", "(down script from the journal)"};
  size_t i = 0;
  try {
    while (i < todo.size()) {
      StepRecord& first = *todo[i];
      bool in_transaction = db.transactional_ddl() && first.transactional && first.down_statements_done == 0;
      if (in_transaction) {
        // Consecutive transactional downs revert together: all of them or none.
        size_t end = i;
        while (end < todo.size() && todo[end]->transactional && todo[end]->down_statements_done == 0) ++end;
        std::vector<StepRecord> saved;
        for (size_t k = i; k < end; ++k) saved.push_back(*todo[k]);
        db.begin();
        try {
          for (size_t k = i; k < end; ++k) {
            StepRecord& step = *todo[k];
            auto started = Clock::now();
            where.step = step.name;
            auto statements = split_sql(step.down_script, dialect);
            ctx_.reached("revert", attempt.update_id, step.name, "before");
            run_statements(db, statements, 0, where, [&](int done) {
              ctx_.reached("revert", attempt.update_id, step.name, "statement=" + std::to_string(done));
            });
            step.state = StepState::reverted;
            step.down_statements_done = static_cast<int>(statements.size());
            step.duration_ms = elapsed_ms(started);
            journal.update_step(attempt.attempt_id, step);
            ctx_.reached("revert", attempt.update_id, step.name, "after");
            log::event({{"update", attempt.update_id}, {"step", step.name}, {"duration_ms", std::to_string(step.duration_ms)}},
                       "reverted {} step {} ({}ms)", attempt.update_id, step.name, step.duration_ms);
          }
          ctx_.reached("revert", attempt.update_id, todo[end - 1]->name, "commit");
          db.commit();
        } catch (...) {
          db.rollback();
          // The rollback undid these steps' downs and journal rows alike.
          for (size_t k = i; k < end; ++k) *todo[k] = saved[k - i];
          throw;
        }
        i = end;
      } else if (partly_applied(first) && ctx_.partial_revert != PartialRevert::strict_down) {
        where.step = first.name;
        revert_partly_applied(attempt, first, outcome.notes);
        ++i;
      } else {
        StepRecord& step = first;
        auto started = Clock::now();
        where.step = step.name;
        auto statements = split_sql(step.down_script, dialect);
        step.state = StepState::reverting;
        journal.update_step(attempt.attempt_id, step);
        ctx_.reached("revert", attempt.update_id, step.name, "before");
        run_statements(db, statements, static_cast<size_t>(step.down_statements_done), where, [&](int done) {
          step.down_statements_done = done;
          journal.update_step(attempt.attempt_id, step);
          ctx_.reached("revert", attempt.update_id, step.name, "statement=" + std::to_string(done));
        });
        step.state = StepState::reverted;
        step.duration_ms = elapsed_ms(started);
        journal.update_step(attempt.attempt_id, step);
        ctx_.reached("revert", attempt.update_id, step.name, "after");
        log::event({{"update", attempt.update_id}, {"step", step.name}, {"duration_ms", std::to_string(step.duration_ms)}},
                   "reverted {} step {} outside a transaction ({}ms)", attempt.update_id, step.name, step.duration_ms);
        ++i;
      }
    }
  } catch (const StatementError& e) {
    outcome.failure = e.failure();
    // A lost session cannot journal anything: the next start finds the attempt still
    // 'reverting' and finishes it.
    if (e.failure().failure != DbFailure::statement) throw;
    for (auto it = attempt.steps.rbegin(); it != attempt.steps.rend(); ++it) {
      if (it->state == StepState::applied || it->state == StepState::reverting ||
          (it->state == StepState::applying && it->statements_done > 0)) {
        outcome.remaining.push_back(
            it->state == StepState::reverting
                ? fmt::format("{} (its down script stopped after {} statement(s))", it->name, it->down_statements_done)
                : it->name);
      }
    }
    std::string revert_error = fmt::format("revert failed at {}", e.failure().describe());
    attempt.error = attempt.error.empty() ? revert_error : attempt.error + "\n" + revert_error;
    attempt.state = UpdateState::revert_failed;
    journal.update_attempt(attempt);
    outcome.attempt = attempt;
    return outcome;
  }
  outcome.reverted = true;

  std::optional<Fingerprint> now;
  if (!verify) {
    outcome.verification_skipped = true;
    outcome.skipped_because = "it is compared once, after the oldest of the updates removed together";
  } else {
    now = schema_fingerprint(db, ctx_.journal_schema);
    attempt.fingerprint_after = now->serialize();
    if (later_update_applied(journal.load(), attempt)) {
      outcome.verification_skipped = true;
      outcome.skipped_because = "updates applied after it are still applied";
      log::warn("the schema after removing {} cannot be compared with its fingerprint before: updates applied after "
                "it are still applied", attempt.update_id);
    } else if (!attempt.fingerprint_before.empty()) {
      Fingerprint before = Fingerprint::parse(attempt.fingerprint_before);
      outcome.differences = now->differences_from(before);
      outcome.verified = outcome.differences.empty();
    } else {
      outcome.verification_skipped = true;
      outcome.skipped_because =
          "no fingerprint was taken before it: it was applied in the middle of a run of more than --fingerprint-limit "
          "updates; removing the run's first update compares the schema with the one the run started from";
      log::warn("the schema after removing {} was not compared: {}", attempt.update_id, outcome.skipped_because);
    }
  }
  if (!outcome.ok()) {
    std::string diff;
    for (const auto& d : outcome.differences) diff += "\n    " + d;
    std::string verify_error = fmt::format(
        "every down script ran, but the schema is not what it was before update {} (fingerprint before {}, now {}):{}",
        attempt.update_id, Fingerprint::parse(attempt.fingerprint_before).short_digest(), now->short_digest(), diff);
    attempt.error = attempt.error.empty() ? verify_error : attempt.error + "\n" + verify_error;
    attempt.state = UpdateState::revert_failed;
  } else {
    attempt.state = from_failure ? UpdateState::failed : UpdateState::removed;
  }
  journal.update_attempt(attempt);
  outcome.attempt = attempt;
  return outcome;
}

}  // namespace installer
