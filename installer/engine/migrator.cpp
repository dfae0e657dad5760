#include "installer/engine/migrator.hpp"

#include "installer/engine/schema_compare.hpp"
#include "installer/engine/schema_tracker.hpp"
#include "installer/util/duration.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"
#include "installer/util/shell_quote.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>

namespace installer {
namespace {

std::string bullet_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += "\n    " + i;
  return out;
}

}  // namespace

std::string describe_revert_failure(const RevertOutcome& outcome) {
  const AttemptRecord& a = outcome.attempt;
  std::string text;
  if (outcome.failure) {
    text = fmt::format("reverting update {} failed at {}", a.update_id, outcome.failure->describe());
    text += outcome.remaining.empty()
                ? "\n  nothing of the update remains applied"
                : fmt::format("\n  still in the database (newest first):{}", bullet_list(outcome.remaining));
  } else {
    text = fmt::format("every down script of update {} ran, but the schema is not what it was before the update "
                       "(compared with its {}):{}",
                       a.update_id, outcome.compared_with, bullet_list(outcome.differences));
  }
  for (const auto& note : outcome.notes) text += "\n  " + note;
  text += fmt::format(
      "\n  the journal marks attempt {} as revert_failed. Fix the cause in the database (the down scripts are in the "
      "journal's steps table), then start the installer again: it resumes the revert where it stopped and checks the "
      "schema again.",
      a.attempt_id);
  return text;
}

std::vector<std::string> Migrator::recover(const Reconciliation& r) {
  std::vector<std::string> recovered;
  for (const AttemptRecord* unfinished : r.unfinished) {
    log::warn("update {} was left {} (attempt {}, started {} on {}); finishing its revert before anything else",
              unfinished->update_id, to_string(unfinished->state), unfinished->attempt_id, unfinished->started_at,
              unfinished->host);
    RevertOutcome outcome = Reverter(ctx_).revert(unfinished->attempt_id, RevertReason::recovery);
    if (!outcome.ok()) throw UserError(exit_revert_failed, describe_revert_failure(outcome));
    for (const auto& note : outcome.notes) log::info("{}", note);
    log::info("recovered: update {} reverted{}", unfinished->update_id,
              outcome.verified ? ", schema verified equal to its " + outcome.compared_with
                               : "; the schema was not compared: " + outcome.skipped_because);
    recovered.push_back(unfinished->update_id);
  }
  return recovered;
}

void Migrator::refuse_changed(const Reconciliation& r) {
  if (r.changed.empty()) return;
  std::string list;
  for (const auto& p : r.changed) list += "\n  " + p.to_string();
  throw UserError(exit_data,
                  fmt::format("applied updates changed on disk; refusing to continue:{}\nAn applied update must not "
                              "change: restore its original files, and ship the change as a new update.",
                              list));
}

namespace {

/// Whether an update of the update directories was applied after `a`: the unknown ones
/// after it are removed before it, newest first.
bool later_known_applied(const Reconciliation& r, const AttemptRecord& a) {
  return std::any_of(r.applied.begin(), r.applied.end(),
                     [&](const AttemptRecord* k) { return k->attempt_id > a.attempt_id; });
}

void log_snapshot_counts(const char* after_what, const SchemaTracker::Counts& c) {
  log::debug("snapshots after the {} of this run: {} read incrementally, {} in full ({} of them because the server's "
             "counts of objects proved an incremental read incomplete)",
             after_what, c.incremental, c.full, c.corrected);
}

}  // namespace

std::vector<std::string> Migrator::handle_unknown(const Reconciliation& r, const MigrateOptions& options) {
  std::vector<std::string> removed;
  if (r.unknown.empty()) return removed;
  if (!options.auto_remove_unknown) {
    std::string list, commands;
    for (const AttemptRecord* a : r.unknown) {
      list += fmt::format("\n  {} (version {}, applied {} by installer {} on {})", a->update_id, a->version,
                          a->finished_at, a->installer_version, a->host);
      commands += fmt::format("\n  installer --remove-update {}", shell_quote(a->update_id));
    }
    throw UserError(exit_data,
                    fmt::format("the database has updates applied that none of the update directories contain:{}\n"
                                "This image is older than the database. Start the newer image again, or remove them, "
                                "newest first, with:{}\nor start with --auto-remove-unknown "
                                "(INSTALLER_AUTO_REMOVE_UNKNOWN=true) to remove them automatically.",
                                list, commands));
  }
  // Newest first, each compared with the snapshot recorded before it: a down script
  // that leaves something behind is named at its own update. A removal leaves the schema
  // known exactly (read whole, or re-read where its downs changed it, whether or not there
  // was a snapshot to compare it with), so the next one reads only what its downs change.
  ctx_.about_to_change("remove-" + r.unknown.front()->update_id);
  SchemaTracker tracker(ctx_);
  std::optional<Snapshot> known;
  for (const AttemptRecord* a : r.unknown) {
    log::warn("removing update {} (applied, but in none of the update directories) as --auto-remove-unknown asks",
              a->update_id);
    RevertChain chain{known ? &*known : nullptr, &tracker, later_known_applied(r, *a)};
    RevertOutcome outcome = Reverter(ctx_).revert(a->attempt_id, RevertReason::auto_remove_unknown, chain);
    if (!outcome.ok()) throw UserError(exit_revert_failed, describe_revert_failure(outcome));
    known = std::move(outcome.schema_after);
    removed.push_back(a->update_id);
  }
  log_snapshot_counts("removals", tracker.counts());
  return removed;
}

namespace {

std::string applied_so_far(const MigrateSummary& summary) {
  return summary.applied.empty() ? "none" : fmt::format("{}", fmt::join(summary.applied, ", "));
}

/// Throws when a stop signal arrived before `update` started.
void stop_if_asked(const EngineContext& ctx, const Update& update, const MigrateSummary& summary) {
  if (!ctx.stop_signal || ctx.stop_signal->load() == 0) return;
  int sig = ctx.stop_signal->load();
  throw UserError(static_cast<ExitCode>(128 + sig),
                  fmt::format("stopped by signal {} before update {}: it was not started; applied in this run and "
                              "kept: {}",
                              sig, update.id, applied_so_far(summary)));
}

/// How the failed update's changes were taken back, with the revert's notes.
std::string describe_undoing(const ApplyOutcome& outcome) {
  std::string done =
      outcome.atomic ? "its transaction was rolled back: none of its steps or journal rows were committed"
                     : "what it had committed was reverted from the journal, newest first (whole steps by their down "
                       "scripts)";
  if (outcome.revert)
    for (const auto& note : outcome.revert->notes) done += "\n    " + note;
  return done;
}

std::string describe_schema_check(const ApplyOutcome& outcome) {
  switch (outcome.schema) {
    case SchemaCheck::differs:
      return fmt::format("BUT the schema differs from its {} before the update:{}", outcome.compared_with,
                         bullet_list(outcome.differences));
    case SchemaCheck::verified:
      return fmt::format("the schema was verified equal to its {} before the update", outcome.compared_with);
    case SchemaCheck::not_compared: break;
  }
  if (!outcome.not_compared_because.empty())
    return "the schema was NOT compared with one from before the update: " + outcome.not_compared_because;
  return "the schema was NOT compared with one from before the update: none was recorded (--fingerprint-limit "
         "caps how many updates of a run are snapshotted)";
}

/// The operator's message for an update that was not applied; the exit code says how
/// much is left to repair.
[[noreturn]] void throw_not_applied(const Update& update, const ApplyOutcome& outcome, const MigrateSummary& summary) {
  const StatementFailure& f = *outcome.failure;
  if (outcome.interrupted_by && (!outcome.revert || outcome.revert->ok()) && outcome.schema != SchemaCheck::differs) {
    throw UserError(static_cast<ExitCode>(128 + outcome.interrupted_by),
                    fmt::format("stopped by signal {} during update {} (step {}); {}{}. The next start applies it "
                                "again.",
                                outcome.interrupted_by, update.id, f.step,
                                outcome.atomic ? "its transaction was rolled back"
                                               : "what it had committed was reverted by its down scripts",
                                outcome.schema == SchemaCheck::verified
                                    ? "; the schema was verified equal to its " + outcome.compared_with +
                                          " before the update"
                                    : ""));
  }
  if (outcome.revert && !outcome.revert->ok()) {
    throw UserError(exit_revert_failed, fmt::format("update {} failed at {}\nthen {}", update.id, f.describe(),
                                                    describe_revert_failure(*outcome.revert)));
  }
  std::string done = describe_undoing(outcome);
  std::string verified = describe_schema_check(outcome);
  if (outcome.schema == SchemaCheck::differs) {
    throw UserError(exit_revert_failed, fmt::format("update {} failed at {}\n  {}; {}\n  the database needs attention.",
                                                    update.id, f.describe(), done, verified));
  }
  // Exit 70 says "reverted and verified": without a comparison that held it is not said.
  if (outcome.schema == SchemaCheck::not_compared) {
    throw UserError(exit_revert_failed,
                    fmt::format("update {} failed at {}\n  {}; {}.\n  check the schema by hand ('installer diff' "
                                "compares it with the last update's snapshot) before starting again.",
                                update.id, f.describe(), done, verified));
  }
  std::string applied_note = summary.applied.empty() ? ""
                                                     : fmt::format("\n  applied before it in this run, and kept: {}",
                                                                   fmt::join(summary.applied, ", "));
  throw UserError(exit_update_failed,
                  fmt::format("update {} failed at {}\n  reverted: {}; {}.{}\n  next: fix the update (or ship an image "
                              "without it) and start again; nothing needs repair. 'installer history' shows the "
                              "attempt.",
                              update.id, f.describe(), done, verified, applied_note));
}

}  // namespace

void Migrator::apply_pending(const Reconciliation& r, const MigrateOptions& options, MigrateSummary& summary) {
  if (r.pending.empty()) return;
  // An update read with ScriptParsing::when_run and not parsed would run no statement.
  for (const Update* update : r.pending)
    if (!update->parsed)
      throw std::logic_error(fmt::format("update {} is to be applied, but its scripts were not parsed", update->id));
  const size_t count = r.pending.size();
  const bool snapshot_each = options.fingerprint_limit <= 0 || count <= static_cast<size_t>(options.fingerprint_limit);
  if (!snapshot_each)
    log::warn("{} updates to apply, more than --fingerprint-limit {}: the schema is snapshotted before the first, "
              "before the last and after the last of them only, and a failure in between cannot be verified",
              count, options.fingerprint_limit);
  ctx_.about_to_change(r.pending.front()->id, r.pending);
  SchemaTracker tracker(ctx_);
  Snapshot start = tracker.read_all();
  std::string start_record = record_schema(ctx_, start);
  std::optional<RecordedSchema> before = RecordedSchema{std::move(start), std::move(start_record)};
  for (size_t index = 0; index < count; ++index) {
    const Update* update = r.pending[index];
    // The snapshot after one update is the next one's before (we hold the lock): the
    // last update's before is the one before it's after.
    const bool snapshot_after = snapshot_each || index + 2 >= count;
    stop_if_asked(ctx_, *update, summary);
    log::info("applying update {} (version {}, {} step{}{})", update->id, update->version, update->steps.size(),
              update->steps.size() == 1 ? "" : "s",
              update->signed_by.empty() ? "" : ", signed by " + update->signed_by);
    ApplyOutcome outcome;
    try {
      outcome = Applier(ctx_, &tracker).apply(*update, before, snapshot_after);
    } catch (const DbError& e) {
      if (e.failure() == DbFailure::in_doubt) throw CommitInDoubt(update->id, e);
      throw;
    }
    if (!outcome.applied) throw_not_applied(*update, outcome, summary);
    log::event({{"update", update->id},
                {"version", update->version},
                {"duration_ms", std::to_string(outcome.duration_ms)}},
               "applied update {} in {}", update->id, format_duration(std::chrono::milliseconds(outcome.duration_ms)));
    summary.applied.push_back(update->id);
    // Nothing else changes the schema between two updates of one run (we hold the lock).
    before = outcome.after;
  }
  log_snapshot_counts("updates", tracker.counts());
}

MigrateSummary Migrator::migrate(const MigrateOptions& options) {
  MigrateSummary summary;
  ctx_.journal.ensure();
  auto attempts = ctx_.journal.load();
  Reconciliation r = reconcile(catalog_, attempts);
  if (!r.unfinished.empty()) {
    summary.recovered = recover(r);
    attempts = ctx_.journal.load();
    r = reconcile(catalog_, attempts);
  }
  refuse_changed(r);
  summary.removed = handle_unknown(r, options);
  if (!summary.removed.empty()) {
    attempts = ctx_.journal.load();
    r = reconcile(catalog_, attempts);
  }
  summary.applied_total = static_cast<int>(r.applied.size());
  if (r.pending.empty()) {
    log::info("database is up to date: {} update{} applied, nothing to do", r.applied.size(),
              r.applied.size() == 1 ? "" : "s");
    return summary;
  }
  apply_pending(r, options, summary);
  summary.applied_total += static_cast<int>(summary.applied.size());
  return summary;
}

namespace {

/// An update adopted from a tool's folder that has no down for it cannot be removed: the
/// installer would mark it removed and leave its changes in place.
void refuse_without_downs(const AttemptRecord& attempt) {
  std::string steps;
  for (const auto& step : attempt.steps)
    if (step.down_checksum.empty() && step.state != StepState::rolled_back)
      steps += (steps.empty() ? "" : ", ") + step.name;
  if (steps.empty()) return;
  throw UserError(
      exit_data,
      fmt::format("cannot remove update {}: its step {} has no down script (the folder it was read from "
                  "has none), so nothing could undo it. Restore a backup taken before it instead (docs/adopt.md)",
                  attempt.update_id, steps));
}

}  // namespace

void Migrator::remove_update(const std::string& update_id, bool dry_run, std::ostream& out) {
  if (!ctx_.journal.exists())
    throw UserError(exit_data, fmt::format("update {} is not applied: the database has no journal yet", update_id));
  auto attempts = ctx_.journal.load();
  auto latest = latest_attempts(attempts);
  auto it = latest.find(update_id);
  if (it == latest.end())
    throw UserError(exit_data, fmt::format("update {} was never applied to this database", update_id));
  const AttemptRecord& attempt = *it->second;
  bool unfinished = attempt.state == UpdateState::applying || attempt.state == UpdateState::reverting ||
                    attempt.state == UpdateState::revert_failed;
  if (!in_effect(attempt.state) && !unfinished)
    throw UserError(exit_data, fmt::format("update {} is not applied (its last attempt, {}, is {})", update_id,
                                           attempt.attempt_id, to_string(attempt.state)));
  refuse_without_downs(attempt);
  auto dependents = applied_dependents(attempts, update_id);
  if (!dependents.empty()) {
    std::string names, commands;
    for (const auto* d : dependents) {
      names += (names.empty() ? "" : ", ") + d->update_id;
      commands += fmt::format("\n  installer --remove-update {}", shell_quote(d->update_id));
    }
    throw UserError(exit_data, fmt::format("cannot remove update {}: applied update {} requires it. Remove {} first:{}",
                                           update_id, names, dependents.size() == 1 ? "it" : "them", commands));
  }
  Reverter reverter(ctx_);
  if (dry_run) {
    auto plan = reverter.plan(attempt.attempt_id);
    std::string when = unfinished ? fmt::format("left {} since {}", to_string(attempt.state), attempt.started_at)
                                  : fmt::format("applied {}", attempt.finished_at);
    out << fmt::format("would remove update {} (attempt {}, {}) by reverting {} step{} from the journal:\n", update_id,
                       attempt.attempt_id, when, plan.size(), plan.size() == 1 ? "" : "s");
    for (const auto& down : plan) {
      out << fmt::format("-- step {}{}\n", down.step, down.transactional ? "" : " (outside a transaction)");
      if (!down.partly_applied.empty()) out << "-- " << down.partly_applied << "\n";
      for (const auto& s : down.statements) out << s.text << ";\n";
    }
    out << "(dry run: nothing was changed)\n";
    return;
  }
  log::info("removing update {} (attempt {})", update_id, attempt.attempt_id);
  ctx_.journal.ensure();  // a journal of an older format gets the columns the revert writes
  ctx_.about_to_change("remove-" + update_id);
  RevertOutcome outcome = reverter.revert(attempt.attempt_id, RevertReason::remove_update);
  if (!outcome.ok()) throw UserError(exit_revert_failed, describe_revert_failure(outcome));
  out << fmt::format("removed update {}{}\n", update_id,
                     outcome.verified ? "; schema verified equal to its " + outcome.compared_with + " before the update"
                                      : "; the schema was not compared: " + outcome.skipped_because);
}

}  // namespace installer
