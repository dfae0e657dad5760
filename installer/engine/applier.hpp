#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/engine/context.hpp"
#include "installer/engine/reverter.hpp"
#include "installer/engine/schema_compare.hpp"
#include "installer/engine/statement_runner.hpp"

#include <optional>

namespace installer {

/// What comparing the schema with its snapshot from before a failed update found.
enum class SchemaCheck {
  verified,      ///< equal: the failure left nothing behind
  not_compared,  ///< no snapshot was recorded before (--fingerprint-limit, or an older installer's attempt)
  differs,       ///< something was left behind (or the revert failed): the database needs attention
};

struct ApplyOutcome {
  bool applied = false;
  long long attempt_id = 0;
  std::optional<StatementFailure> failure;         ///< the statement that failed
  bool atomic = false;                             ///< rolled back as one transaction
  std::optional<RevertOutcome> revert;             ///< how the committed part was reverted (non-atomic updates)
  SchemaCheck schema = SchemaCheck::not_compared;  ///< after a failure
  std::vector<std::string> differences;            ///< for people, when the schema differs
  std::vector<ObjectDifference> objects;           ///< the same, object by object
  std::string compared_with;                       ///< describe_comparison_basis(), when compared
  std::string not_compared_because;                ///< when not compared, for the operator
  long long duration_ms = 0;
  std::optional<RecordedSchema> after;  ///< the schema after the update, when applied and asked for
  int interrupted_by = 0;               ///< the stop signal, when one ended it (failure says where)
};

/// Applies one update. On PostgreSQL, when every step is transactional, the steps and
/// their journal rows commit together or not at all. Otherwise (steps with
/// transaction = false, or an engine whose DDL commits implicitly) progress is journaled
/// as it commits and a failure is reverted through the Reverter.
class Applier {
 public:
  /// With a tracker, the schema after an update is read incrementally from the one before.
  explicit Applier(EngineContext& ctx, class SchemaTracker* tracker = nullptr) : ctx_(ctx), tracker_(tracker) {}
  /// `before` is the schema before the update when it was read; with snapshot_after the
  /// schema after it is read and recorded too (see Migrator::apply_pending).
  ApplyOutcome apply(const Update& update, const std::optional<RecordedSchema>& before, bool snapshot_after);

 private:
  ApplyOutcome apply_atomically(const Update& update, AttemptRecord attempt, bool snapshot_after);
  ApplyOutcome apply_in_parts(const Update& update, AttemptRecord attempt, bool snapshot_after);
  /// The schema after the update, recorded in the journal (inside the open transaction,
  /// if there is one) and noted in the attempt.
  void record_after(const Update& update, ApplyOutcome& outcome, AttemptRecord& attempt);
  /// After a rollback: compares the schema with the snapshot before, when there is one.
  void check_rolled_back(ApplyOutcome& outcome, AttemptRecord& attempt);
  /// Runs step `index` inside the open transaction and journals it as applied there
  /// (with attempt_id 0 the caller journals it, with the attempt).
  StepRecord apply_step_in_transaction(const Update& update, size_t index, long long attempt_id);
  /// Steps [begin, end), transactional, in one transaction: journaled as applied with it,
  /// or, after its rollback, as rolled back (and the failed one as failed). Returns the
  /// failure (or stop) that ended it.
  std::optional<StatementFailure> apply_group_in_transaction(const Update& update, size_t begin, size_t end,
                                                             long long attempt_id, ApplyOutcome& outcome);
  /// A step outside a transaction: journaled before it starts and after each statement,
  /// with each statement's undo recorded ahead of it.
  std::optional<StatementFailure> apply_step_alone(const Update& update, size_t index, long long attempt_id,
                                                   ApplyOutcome& outcome);
  void record_undo_ahead(const Step& step, size_t index, int position, long long attempt_id,
                         std::vector<UndoRecord>& undo);
  /// After a failure part-way: the attempt's committed part goes through the one revert path.
  void revert_what_committed(const Update& update, AttemptRecord& attempt, const StatementFailure& failure,
                             ApplyOutcome& outcome);
  void record_failed_attempt(const Update& update, AttemptRecord attempt, const StatementFailure& failure,
                             size_t failed_step, const std::vector<StepRecord>& done);

  EngineContext& ctx_;
  SchemaTracker* tracker_ = nullptr;
  const RecordedSchema* before_ = nullptr;  ///< during apply()
};

/// Where a stop signal interrupted an update, in the form of a failure.
StatementFailure interruption(const Update& update, const Step& step, const Interrupted& stop);

/// The journal's view of a step as it starts.
StepRecord step_record(const Step& step, int position);
/// A new attempt's record of `update`, by this host and installer, before any state.
AttemptRecord attempt_record(const EngineContext& ctx, const Update& update);

}  // namespace installer
