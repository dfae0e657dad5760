#pragma once
#include "installer/db/undo.hpp"

#include <optional>
#include <string>
#include <vector>

namespace installer {

/// Lifecycle of one attempt to apply an update. Terminal: applied, failed, removed.
/// applying and reverting are only ever seen after a crash; revert_failed needs attention.
enum class UpdateState { applying, applied, failed, reverting, removed, revert_failed };

/// Lifecycle of one step within an attempt.
enum class StepState {
  applying,     ///< started outside a transaction; statements_done tells how far it got
  applied,      ///< committed
  failed,       ///< its statement failed (in a failed attempt's record)
  rolled_back,  ///< undone by the rollback of the update's transaction
  reverting,    ///< its down script is running; down_statements_done tells how far
  reverted,     ///< its down script committed
};

const char* to_string(UpdateState state);
const char* to_string(StepState state);
UpdateState parse_update_state(const std::string& text);
StepState parse_step_state(const std::string& text);

struct StepRecord {
  int position = 0;  ///< 1-based order within the update
  std::string name;
  std::string up_checksum;
  std::string down_checksum;
  std::string down_script;  ///< the down script itself: reverts never read update files
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
  std::string started_at;   ///< ISO 8601 UTC, set by the database
  std::string finished_at;  ///< empty until terminal
  std::string fingerprint_before;  ///< Fingerprint::serialize()
  std::string fingerprint_after;
  std::string error;            ///< what went wrong, for operators
  std::string error_step;
  std::string error_statement;
  std::string error_sqlstate;
  std::string reason;  ///< why it was reverted: failed, remove-update, auto-remove-unknown, recovery
  std::vector<StepRecord> steps;
};

}  // namespace installer
