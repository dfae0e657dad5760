#pragma once
#include "installer/db/snapshot.hpp"
#include "installer/engine/context.hpp"
#include "installer/engine/statement_runner.hpp"

#include <optional>
#include <string>
#include <vector>

namespace installer {

/// Why an attempt is being reverted; journaled as its `reason`.
enum class RevertReason { failed_apply, remove_update, auto_remove_unknown, recovery };
const char* to_string(RevertReason reason);
/// Who takes the journal's transitions for a revert of this reason (journal/records.hpp).
Actor actor_of(RevertReason reason);

struct RevertOutcome {
  bool reverted = false;                    ///< every down script ran
  bool verified = false;                    ///< the schema equals the snapshot recorded before the update
  bool verification_skipped = false;        ///< see skipped_because
  std::optional<Snapshot> schema_after;     ///< what the schema was compared as (equal to the before when verified)
  std::string skipped_because;              ///< why the schema was not compared, for the operator
  std::vector<std::string> differences;     ///< for people, when not verified
  std::vector<ObjectDifference> objects;    ///< the same, object by object
  std::string compared_with;                ///< describe_comparison_basis(), when compared
  std::optional<StatementFailure> failure;  ///< the down statement that failed
  std::vector<std::string> remaining;       ///< steps still (partly) in the database after a failure
  /// How each partly applied step was reverted ("step 002_x: ..."): exactly, statement by
  /// statement, or by its down script, and why.
  std::vector<std::string> notes;
  AttemptRecord attempt;  ///< as journaled at the end
  bool ok() const { return reverted && (verified || verification_skipped); }
};

/// What a run removing many updates newest first knows between two removals, so that
/// each is verified without reading the whole catalog (Migrator::handle_unknown).
struct RevertChain {
  /// The schema before this revert, known exactly: the previous removal was verified
  /// equal to it. With a tracker, the schema after the downs is read incrementally from it.
  const Snapshot* schema_before = nullptr;
  class SchemaTracker* tracker = nullptr;
  /// Whether an update applied after this one is still applied, when the caller knows
  /// (else the journal is read to find out).
  std::optional<bool> later_update_applied;
};

/// A down script that would run, for --dry-run.
struct PlannedDown {
  std::string step;
  std::vector<Statement> statements;  ///< those still to run
  bool transactional = true;
  std::string partly_applied;  ///< for a step that failed part-way: how it will be undone
};

/// The one revert path: after a failed apply, after a crash, and for --remove-update.
/// Reads down scripts from the journal only, never from update files, so it works from
/// any image. Runs them in reverse step order (in one transaction where the engine and
/// steps allow), journals progress as it commits, then checks the fingerprint.
class Reverter {
 public:
  explicit Reverter(EngineContext& ctx) : ctx_(ctx) {}

  /// Every revert is compared with the snapshot recorded before the update, unless
  /// updates applied after it are still applied or none was recorded (skipped_because).
  RevertOutcome revert(long long attempt_id, RevertReason reason, RevertChain chain = {});

  /// What revert() would run, without running it.
  std::vector<PlannedDown> plan(long long attempt_id);

 private:
  /// Whether a step's effects may be in the database, from its journaled state alone (so
  /// every caller of the one revert path decides alike). For a step that was applying
  /// outside a transaction with no statement committed, the fingerprint decides where
  /// one was taken (a failed CREATE INDEX CONCURRENTLY leaves an invalid index behind),
  /// else whether its failure was journaled.
  bool needs_revert(const StepRecord& step);

  /// Journals the attempt as reverting (and why), before any down runs.
  void start_revert(AttemptRecord& attempt, RevertReason reason);
  /// The steps whose effects may be in the database, newest first; the others that were
  /// applying are journaled as rolled back.
  std::vector<StepRecord*> steps_to_revert(AttemptRecord& attempt);
  void run_downs(AttemptRecord& attempt, const std::vector<StepRecord*>& todo, RevertOutcome& outcome);
  /// Transactional steps whose downs have not started: their downs and journal rows
  /// commit together or not at all.
  void revert_in_transaction(AttemptRecord& attempt, const std::vector<StepRecord*>& steps);
  /// A whole step's down script outside a transaction, journaled statement by statement.
  void revert_alone(AttemptRecord& attempt, StepRecord& step);
  /// A down statement failed: what remains, journaled as revert_failed.
  void record_down_failure(AttemptRecord& attempt, const StatementFailure& failure, RevertOutcome& outcome);
  /// Compares the schema with the snapshot before the update, or says why not; records
  /// the schema now as the attempt's after.
  void compare_with_before(AttemptRecord& attempt, RevertOutcome& outcome);
  void finish_revert(AttemptRecord& attempt, RevertReason reason, RevertOutcome& outcome);

  /// A step that failed (or was cut off) part-way, outside a transaction: its committed
  /// statements are undone newest first from their undo records, and from the first
  /// one without an exact inverse on by its down script, passing over statements
  /// whose objects are absent (engine/partial_revert.cpp). Appends to notes.
  void revert_partly_applied(AttemptRecord& attempt, StepRecord& step, std::vector<std::string>& notes);
  /// Undoes the step's statements from their records; false when one has no exact
  /// inverse (the step's revert_method is then "tolerant-down").
  bool undo_exactly(AttemptRecord& attempt, StepRecord& step);
  void run_down_tolerantly(AttemptRecord& attempt, StepRecord& step);
  /// Journals the step reverted (its time since `started`) and logs it, with the note of a
  /// step that had failed part-way (empty for one reverted whole, outside a transaction).
  void journal_reverted(const AttemptRecord& attempt, StepRecord& step, Clock::time_point started,
                        const std::string& part_way_note);
  /// What --dry-run says of a partly applied step.
  std::string describe_partial_plan(const StepRecord& step) const;
  /// The schema after the downs of `reverted`: incrementally from the chain's schema
  /// before, when every step was reverted by its whole down script; else read in full.
  Snapshot schema_after_downs(const AttemptRecord& attempt, const std::vector<StepRecord*>& reverted);

  EngineContext& ctx_;
  RevertChain chain_;
  std::vector<StepRecord*> reverted_;  ///< the steps whose downs ran, newest first
  /// The schema after the downs, read before the commit of the one transaction that ran
  /// them all: inside it the server's counters say what kinds of objects the downs
  /// changed; after it only a scan of every catalog can.
  std::optional<Snapshot> read_before_commit_;
  Actor actor_ = Actor::revert;  ///< of the revert() under way
};

}  // namespace installer
