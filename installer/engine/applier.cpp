#include "installer/engine/applier.hpp"

#include "installer/db/db_error.hpp"
#include "installer/db/transaction.hpp"
#include "installer/engine/schema_tracker.hpp"
#include "installer/engine/step_runs.hpp"
#include "installer/util/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace installer {
namespace {

void note_failure(AttemptRecord& attempt, const StatementFailure& f) {
  attempt.error = f.describe();
  attempt.error_step = f.step;
  attempt.error_statement = f.text;
  attempt.error_sqlstate = f.sqlstate;
}

}  // namespace

StatementFailure interruption(const Update& update, const Step& step, const Interrupted& stop) {
  StatementFailure f;
  f.update_id = update.id;
  f.step = step.name;
  f.file = step.up.path.string();
  f.statement = stop.statement();
  f.line = stop.where().line;
  f.text = stop.where().text;
  f.message = fmt::format("stopped by signal {} here: this statement did not complete", stop.signal());
  return f;
}

StepRecord step_record(const Step& step, int position) {
  StepRecord r;
  r.position = position;
  r.name = step.name;
  r.up_checksum = step.up.checksum;
  r.down_checksum = step.down.checksum;
  r.down_script = step.down.text;
  r.transactional = step.transactional;
  r.statements_total = static_cast<int>(step.up.statements.size());
  return r;
}

AttemptRecord attempt_record(const EngineContext& ctx, const Update& update) {
  AttemptRecord attempt;
  attempt.update_id = update.id;
  attempt.version = update.version;
  attempt.checksum = update.checksum;
  attempt.description = update.description;
  attempt.required = update.required;
  attempt.host = ctx.host;
  attempt.installer_version = ctx.installer_version;
  attempt.signed_by = update.signed_by;
  attempt.backup = ctx.backup;
  return attempt;
}

ApplyOutcome Applier::apply(const Update& update, const std::optional<RecordedSchema>& before, bool snapshot_after) {
  AttemptRecord attempt = attempt_record(ctx_, update);
  if (before) attempt.fingerprint_before = before->record;
  before_ = before ? &*before : nullptr;

  auto started = Clock::now();
  ctx_.observe().update_started(update.id, static_cast<int>(update.steps.size()));
  bool atomic = ctx_.db.capabilities().steps_commit_together &&
                std::all_of(update.steps.begin(), update.steps.end(), [](const Step& s) { return s.transactional; });
  if (!atomic) ctx_.db.reset_session_settings();  // the atomic path resets as it begins
  ApplyOutcome outcome = atomic ? apply_atomically(update, std::move(attempt), snapshot_after)
                                : apply_in_parts(update, std::move(attempt), snapshot_after);
  outcome.duration_ms = elapsed_ms(started);
  ctx_.observe().update_finished(update.id, outcome.applied);
  return outcome;
}

StepRecord Applier::apply_step_in_transaction(const Update& update, size_t index, long long attempt_id) {
  const Step& step = update.steps[index];
  auto started = Clock::now();
  ctx_.observe().step_started(step.name, static_cast<int>(index + 1), static_cast<int>(step.up.statements.size()));
  ctx_.reached("apply", update.id, step.name, "before");
  run_statements(
      ctx_.db, step.up.statements, 0, {update.id, step.name, step.up.path.string()},
      [&](int done) {
        ctx_.observe().statement_done(done);
        ctx_.reached("apply", update.id, step.name, "statement=" + std::to_string(done));
      },
      ctx_.stop_signal);
  StepRecord record = step_record(step, static_cast<int>(index + 1));
  create_in(record, StepState::applied, Actor::apply);
  record.statements_done = record.statements_total;
  record.duration_ms = elapsed_ms(started);
  if (attempt_id != 0) ctx_.journal.insert_step(attempt_id, record);
  ctx_.reached("apply", update.id, step.name, "after");
  log::event({{"update", update.id}, {"step", step.name}, {"duration_ms", std::to_string(record.duration_ms)}},
             "applied {} step {} ({}ms)", update.id, step.name, record.duration_ms);
  return record;
}

void Applier::check_rolled_back(ApplyOutcome& outcome, AttemptRecord& attempt) {
  if (attempt.fingerprint_before.empty()) {
    // The rollback restored the schema; without a snapshot taken before there is
    // nothing to compare it with.
    outcome.schema = SchemaCheck::not_compared;
    return;
  }
  Snapshot now = current_schema(ctx_);
  SchemaComparison c = compare_schema(ctx_, attempt.fingerprint_before, now);
  outcome.differences = c.lines;
  outcome.objects = c.objects;
  outcome.compared_with = describe_comparison_basis(c);
  outcome.schema = c.equal() ? SchemaCheck::verified : SchemaCheck::differs;
  if (c.result == SchemaComparison::Result::unreadable) {
    outcome.schema = SchemaCheck::not_compared;
    outcome.not_compared_because = "the snapshot recorded before it cannot be read: " + c.problem;
  }
  attempt.fingerprint_after = record_schema(ctx_, now);
}

void Applier::record_after(const Update& update, ApplyOutcome& outcome, AttemptRecord& attempt) {
  Snapshot now = tracker_ && before_ ? tracker_->after(update, before_->snapshot) : current_schema(ctx_);
  std::string record = record_schema(ctx_, now);
  attempt.fingerprint_after = record;
  outcome.after = RecordedSchema{std::move(now), std::move(record)};
}

ApplyOutcome Applier::apply_atomically(const Update& update, AttemptRecord attempt, bool snapshot_after) {
  Database& db = ctx_.db;
  ApplyOutcome outcome;
  outcome.atomic = true;
  std::vector<StepRecord> done;
  size_t current = 0;
  try {
    Transaction transaction(db, Transaction::ResetSettings{});
    if (tracker_ && snapshot_after) tracker_->transaction_began();
    // The journal's rows go in last, in the same transaction and the commit's round trip:
    // nobody can see them before the commit anyway.
    for (current = 0; current < update.steps.size(); ++current)
      done.push_back(apply_step_in_transaction(update, current, 0));
    create_in(attempt, UpdateState::applied, Actor::apply);
    if (snapshot_after) record_after(update, outcome, attempt);
    attempt.steps = done;
    ctx_.reached("apply", update.id, update.steps.back().name, "commit");
    attempt.attempt_id = ctx_.journal.insert_attempt_and_commit(attempt);
    transaction.committed();
  } catch (const StatementError& e) {
    if (e.failure().failure != DbFailure::statement) throw;
    outcome.failure = e.failure();
    check_rolled_back(outcome, attempt);
    record_failed_attempt(update, attempt, e.failure(), current, done);
    return outcome;
  } catch (const Interrupted& e) {
    outcome.interrupted_by = e.signal();
    outcome.failure = interruption(update, update.steps[current], e);
    check_rolled_back(outcome, attempt);
    record_failed_attempt(update, attempt, *outcome.failure, current, done);
    return outcome;
  }
  outcome.applied = true;
  outcome.attempt_id = attempt.attempt_id;
  return outcome;
}

void Applier::record_failed_attempt(const Update& update, AttemptRecord attempt, const StatementFailure& failure,
                                    size_t failed_step, const std::vector<StepRecord>& done) {
  // The rollback took the attempt's rows with it; this separate transaction keeps a
  // record of what was tried and why it failed.
  note_failure(attempt, failure);
  create_in(attempt, UpdateState::failed, Actor::apply);
  attempt.reason = "failed";
  attempt.steps.clear();
  for (auto record : done) {
    create_in(record, StepState::rolled_back, Actor::apply);
    attempt.steps.push_back(record);
  }
  if (failed_step < update.steps.size()) {
    StepRecord failed = step_record(update.steps[failed_step], static_cast<int>(failed_step + 1));
    create_in(failed, StepState::failed, Actor::apply);
    failed.statements_done = failure.statement - 1;
    failed.error = failure.describe();
    attempt.steps.push_back(failed);
  }
  Transaction transaction(ctx_.db);
  ctx_.journal.insert_attempt(attempt);
  transaction.commit();
}

std::optional<StatementFailure> Applier::apply_group_in_transaction(const Update& update, size_t begin, size_t end,
                                                                    long long attempt_id, ApplyOutcome& outcome) {
  Journal& journal = ctx_.journal;
  std::vector<StepRecord> group;
  size_t current = begin;
  try {
    Transaction transaction(ctx_.db);
    for (current = begin; current < end; ++current)
      group.push_back(apply_step_in_transaction(update, current, attempt_id));
    ctx_.reached("apply", update.id, update.steps[end - 1].name, "commit");
    transaction.commit();
    return std::nullopt;
  } catch (const StatementError& e) {
    if (e.failure().failure != DbFailure::statement) throw;
    // The group's steps are gone with the rollback; journal them as such.
    for (auto record : group) {
      create_in(record, StepState::rolled_back, Actor::apply);
      journal.insert_step(attempt_id, record);
    }
    StepRecord failed = step_record(update.steps[current], static_cast<int>(current + 1));
    create_in(failed, StepState::failed, Actor::apply);
    failed.statements_done = e.failure().statement - 1;
    failed.error = e.failure().describe();
    journal.insert_step(attempt_id, failed);
    // Later steps of the group never ran; they are not journaled.
    return e.failure();
  } catch (const Interrupted& e) {
    outcome.interrupted_by = e.signal();
    for (auto record : group) {
      create_in(record, StepState::rolled_back, Actor::apply);
      journal.insert_step(attempt_id, record);
    }
    return interruption(update, update.steps[current], e);
  }
}

std::optional<StatementFailure> Applier::apply_step_alone(const Update& update, size_t index, long long attempt_id,
                                                          ApplyOutcome& outcome) {
  Database& db = ctx_.db;
  Journal& journal = ctx_.journal;
  const Step& step = update.steps[index];
  auto started = Clock::now();
  StepRecord record = step_record(step, static_cast<int>(index + 1));
  create_in(record, StepState::applying, Actor::apply);
  // MariaDB's DDL is atomic per statement; elsewhere a failed statement may leave
  // residue (an invalid index from CREATE INDEX CONCURRENTLY) that only a
  // snapshot shows.
  if (db.capabilities().failed_statement_may_leave_residue)
    record.fingerprint_before = record_schema(ctx_, current_schema(ctx_));
  journal.insert_step(attempt_id, record);
  ctx_.observe().step_started(step.name, static_cast<int>(index + 1), record.statements_total);
  std::vector<UndoRecord> undo;  // this step's, so far
  try {
    ctx_.reached("apply", update.id, step.name, "before");
    run_statements(
        db, step.up.statements, 0, {update.id, step.name, step.up.path.string()},
        [&](int done) {
          record.statements_done = done;
          ctx_.observe().statement_done(done);
          if (done < record.statements_total) journal.update_step(attempt_id, record);
          ctx_.reached("apply", update.id, step.name, "statement=" + std::to_string(done));
        },
        ctx_.stop_signal, [&](size_t i) { record_undo_ahead(step, i, record.position, attempt_id, undo); });
    move_to(record, StepState::applied, Actor::apply);
    record.duration_ms = elapsed_ms(started);
    journal.update_step(attempt_id, record);
    ctx_.reached("apply", update.id, step.name, "after");
    log::event({{"update", update.id}, {"step", step.name}, {"duration_ms", std::to_string(record.duration_ms)}},
               "applied {} step {} outside a transaction ({}ms)", update.id, step.name, record.duration_ms);
    return std::nullopt;
  } catch (const StatementError& e) {
    if (e.failure().failure != DbFailure::statement) throw;
    record.error = e.failure().describe();
    record.duration_ms = elapsed_ms(started);
    journal.update_step(attempt_id, record);
    return e.failure();
  } catch (const Interrupted& e) {
    outcome.interrupted_by = e.signal();
    StatementFailure failure = interruption(update, step, e);
    record.error = failure.describe();
    journal.update_step(attempt_id, record);
    return failure;
  }
}

void Applier::record_undo_ahead(const Step& step, size_t index, int position, long long attempt_id,
                                std::vector<UndoRecord>& undo) {
  // Journaled before the statement runs (ahead of it, in its round trip, on MariaDB):
  // whatever commits has its undo recorded.
  undo.push_back(plan_undo(ctx_.db, ctx_.journal_schema, step.up.statements[index], static_cast<int>(index + 1), undo));
  // A statement with nothing to undo (a seed's INSERT into the step's own table) goes
  // unrecorded, so that it costs no write; the first always has a record, which tells
  // this journal from one written before undo records.
  if (undo.back().kind != UndoKind::nothing || index == 0) ctx_.journal.record_undo(attempt_id, position, undo.back());
}

ApplyOutcome Applier::apply_in_parts(const Update& update, AttemptRecord attempt, bool snapshot_after) {
  ApplyOutcome outcome;
  create_in(attempt, UpdateState::applying, Actor::apply);
  attempt.attempt_id = ctx_.journal.insert_attempt(attempt);  // committed: from here on a crash is recoverable
  outcome.attempt_id = attempt.attempt_id;

  std::optional<StatementFailure> failure;
  const bool together = ctx_.db.capabilities().steps_commit_together;
  for_each_run(
      update.steps.size(), [&](size_t i) { return together && update.steps[i].transactional; },
      [&](size_t begin, size_t end) {
        failure = apply_group_in_transaction(update, begin, end, attempt.attempt_id, outcome);
        return !failure;
      },
      [&](size_t i) {
        failure = apply_step_alone(update, i, attempt.attempt_id, outcome);
        return !failure;
      });

  if (!failure) {
    move_to(attempt, UpdateState::applied, Actor::apply);
    if (snapshot_after) record_after(update, outcome, attempt);
    ctx_.journal.update_attempt(attempt);
    outcome.applied = true;
    return outcome;
  }
  outcome.failure = failure;
  revert_what_committed(update, attempt, *failure, outcome);
  return outcome;
}

void Applier::revert_what_committed(const Update& update, AttemptRecord& attempt, const StatementFailure& failure,
                                    ApplyOutcome& outcome) {
  note_failure(attempt, failure);
  ctx_.journal.update_attempt(attempt);
  log::warn("update {} {}; reverting what was committed", update.id, outcome.interrupted_by ? "stopped" : "failed");
  ctx_.observe().reverting(update.id);
  RevertOutcome revert = Reverter(ctx_).revert(attempt.attempt_id, RevertReason::failed_apply);
  outcome.schema = !revert.ok()      ? SchemaCheck::differs
                   : revert.verified ? SchemaCheck::verified
                                     : SchemaCheck::not_compared;
  if (revert.verification_skipped) outcome.not_compared_because = revert.skipped_because;
  outcome.differences = revert.differences;
  outcome.objects = revert.objects;
  outcome.compared_with = revert.compared_with;
  outcome.revert = std::move(revert);
}

}  // namespace installer
