#pragma once
#include "installer/engine/context.hpp"
#include "installer/engine/statement_runner.hpp"

#include <optional>
#include <string>
#include <vector>

namespace installer {

/// Why an attempt is being reverted; journaled as its `reason`.
enum class RevertReason { failed_apply, remove_update, auto_remove_unknown, recovery };
const char* to_string(RevertReason reason);

struct RevertOutcome {
  bool reverted = false;  ///< every down script ran
  bool verified = false;  ///< the schema equals the fingerprint recorded before the update
  bool verification_skipped = false;  ///< see skipped_because
  std::string skipped_because;        ///< why the schema was not compared, for the operator
  std::vector<std::string> differences;     ///< per kind of object, when not verified
  std::optional<StatementFailure> failure;  ///< the down statement that failed
  std::vector<std::string> remaining;       ///< steps still (partly) in the database after a failure
  AttemptRecord attempt;                    ///< as journaled at the end
  bool ok() const { return reverted && (verified || verification_skipped); }
};

/// A down script that would run, for --dry-run.
struct PlannedDown {
  std::string step;
  std::vector<Statement> statements;  ///< those still to run
  bool transactional = true;
};

/// The one revert path: after a failed apply, after a crash, and for --remove-update.
/// Reads down scripts from the journal only, never from update files, so it works from
/// any image. Runs them in reverse step order (in one transaction where the engine and
/// steps allow), journals progress as it commits, then checks the fingerprint.
class Reverter {
 public:
  explicit Reverter(EngineContext& ctx) : ctx_(ctx) {}

  /// With verify false the schema is not fingerprinted afterwards: for all but the last
  /// (oldest) of many updates removed in one run, which is then compared with the
  /// fingerprint before that oldest one.
  RevertOutcome revert(long long attempt_id, RevertReason reason, bool verify = true);

  /// What revert() would run, without running it.
  std::vector<PlannedDown> plan(long long attempt_id);

 private:
  /// Whether a step's effects may be in the database. For a step that was applying
  /// outside a transaction with no statement committed, the fingerprint decides: a
  /// failed CREATE INDEX CONCURRENTLY leaves an invalid index behind.
  bool needs_revert(const StepRecord& step, RevertReason reason);

  EngineContext& ctx_;
};

}  // namespace installer
