#pragma once
#include "installer/db/undo.hpp"

#include <optional>
#include <string>
#include <vector>

namespace installer {

/// Lifecycle of one attempt to apply an update; the transitions and who may take each
/// are allowed_transition()'s table (docs/journal.md). Final: failed and removed (the
/// update is pending again, and a new attempt is made). applied is left only by a
/// removal; applying, reverting and revert_failed are unfinished: the next start
/// recovers them (applying and reverting are only ever seen after a crash or while the
/// installer runs; revert_failed needs attention first). finished_at is written with
/// every state but applying and reverting.
/// adopted is applied by another tool, or by hand, and journaled by adoption or a baseline
/// (docs/adopt.md): in effect as applied is, and likewise left only by a removal.
enum class UpdateState { applying, applied, failed, reverting, removed, revert_failed, adopted };

/// Whether the update's changes are in the database: applied or adopted.
inline bool in_effect(UpdateState state) { return state == UpdateState::applied || state == UpdateState::adopted; }

/// Lifecycle of one step within an attempt.
enum class StepState {
  applying,     ///< started outside a transaction; statements_done tells how far it got
  applied,      ///< committed
  failed,       ///< its statement failed (in a failed attempt's record)
  rolled_back,  ///< undone by the rollback of the update's transaction
  reverting,    ///< its down script is running; down_statements_done tells how far
  reverted,     ///< its down script committed
};

/// Who changes a state. The three revert actors run the same revert path: after a failed
/// apply (revert), at the next start for an unfinished attempt (recovery), and for
/// --remove-update or --auto-remove-unknown (remove_update). adopt journals what another
/// tool or a baseline says is applied.
enum class Actor { apply, revert, recovery, remove_update, adopt };

/// Whether `actor` may move a journaled attempt or step from `from` to `to`; with no
/// `from`, whether it may write a new record in state `to`. Rewriting a record in its own
/// state (progress counters, an error) is no transition and always allowed.
bool allowed_transition(std::optional<UpdateState> from, UpdateState to, Actor actor);
bool allowed_transition(std::optional<StepState> from, StepState to, Actor actor);
/// The same, throwing std::logic_error that names the refused transition: the engine
/// calls these where it changes a state, so that a state it may not reach is a bug
/// found at once rather than a journal that misleads the next start.
void check_transition(std::optional<UpdateState> from, UpdateState to, Actor actor);
void check_transition(std::optional<StepState> from, StepState to, Actor actor);

const char* to_string(Actor actor);
const char* to_string(UpdateState state);
const char* to_string(StepState state);
UpdateState parse_update_state(const std::string& text);
StepState parse_step_state(const std::string& text);

struct StepRecord {
  int position = 0;  ///< 1-based order within the update
  std::string name;
  std::string up_checksum;
  std::string down_checksum;  ///< "": the step has no down script (docs/adopt.md)
  std::string down_script;    ///< the down script itself: reverts never read update files
  bool transactional = true;
  StepState state = StepState::applying;
  int statements_total = 0;
  int statements_done = 0;
  int down_statements_done = 0;
  std::string fingerprint_before;  ///< for steps outside a transaction: to detect residue of a failed statement
  long long duration_ms = 0;
  std::string error;
  /// Steps outside a transaction: what undoes each statement, recorded before it ran
  /// (load_attempt() only).
  std::vector<UndoRecord> undo;
  /// How a partly applied step is being reverted: "" (its down script, as a whole step's),
  /// "exact" (undo records, newest first: undo_done of them so far) or "tolerant-down"
  /// (its down script, passing over statements whose objects are absent).
  std::string revert_method;
  int undo_done = 0;
  std::string revert_note;  ///< how the revert went, for operators
};

/// One run of an install hook (install.d), kept so each hook runs once per database.
struct InstallRecord {
  std::string name;
  std::string checksum;
  std::string kind;   ///< "sql" or "program"
  std::string state;  ///< "done" or "failed"
  std::string host;
  std::string installer_version;
  std::string ran_at;
  long long duration_ms = 0;
  std::string output;  ///< the end of what the hook printed
};

/// `installer restore`: which backup was restored, when and by whom (docs/backup.md).
struct RestoreRecord {
  std::string file;
  std::string sha256;
  std::string restored_at;
  std::string host;
  std::string installer_version;
  std::string by_whom;
};

struct AttemptRecord {
  long long attempt_id = 0;
  std::string update_id;
  std::string version;
  std::string checksum;
  std::string description;
  std::vector<std::string> required;
  UpdateState state = UpdateState::applying;
  std::string host;
  std::string installer_version;
  std::string started_at;          ///< ISO 8601 UTC, set by the database
  std::string finished_at;         ///< empty while applying or reverting: set when the installer stops working on it
  std::string fingerprint_before;  ///< Fingerprint::serialize()
  std::string fingerprint_after;
  std::string error;  ///< what went wrong, for operators
  std::string error_step;
  std::string error_statement;
  std::string error_sqlstate;
  std::string reason;     ///< why it was reverted: failed, remove-update, auto-remove-unknown, recovery
  std::string signed_by;  ///< the id of the trusted key that signed the update; "" when unsigned
  std::string backup;     ///< the backup taken before the run that made this attempt: "FILE (N bytes, sha256 X)"
  std::vector<StepRecord> steps;
};

}  // namespace installer

namespace installer {

/// check_transition(), then the move, for a record already in the journal.
inline void move_to(AttemptRecord& attempt, UpdateState to, Actor actor) {
  check_transition(attempt.state, to, actor);
  attempt.state = to;
}
inline void move_to(StepRecord& step, StepState to, Actor actor) {
  check_transition(step.state, to, actor);
  step.state = to;
}
/// check_transition() from no record, then the state, for a record about to be inserted.
inline void create_in(AttemptRecord& attempt, UpdateState state, Actor actor) {
  check_transition(std::nullopt, state, actor);
  attempt.state = state;
}
inline void create_in(StepRecord& step, StepState state, Actor actor) {
  check_transition(std::nullopt, state, actor);
  step.state = state;
}

}  // namespace installer
