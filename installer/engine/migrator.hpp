#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/db/db_error.hpp"
#include "installer/engine/applier.hpp"
#include "installer/engine/context.hpp"
#include "installer/engine/reconcile.hpp"
#include "installer/engine/reverter.hpp"

#include <ostream>
#include <string>
#include <vector>

namespace installer {

struct MigrateOptions {
  bool auto_remove_unknown = false;
  /// A cost cap, off by default: a run applying more updates than this fingerprints the
  /// schema before its first, before its last and after its last update only (a
  /// fingerprint reads the whole catalog), and then a down script that leaves something
  /// behind in the middle of the run is caught only at the run's first update.
  /// 0: every update, always.
  int fingerprint_limit = 0;
};

struct MigrateSummary {
  std::vector<std::string> recovered;  ///< unfinished attempts finished by the revert path
  std::vector<std::string> removed;    ///< unknown updates removed automatically
  std::vector<std::string> applied;
  int applied_total = 0;  ///< updates applied in the database after the run
};

/// The update phase, run while holding the migration lock: recover what a crash left
/// unfinished, refuse changed or unknown updates, then apply what is pending in order.
/// Throws UserError with the operator's message and exit code on any failure.
class Migrator {
 public:
  Migrator(EngineContext& ctx, const Catalog& catalog) : ctx_(ctx), catalog_(catalog) {}

  MigrateSummary migrate(const MigrateOptions& options);

  /// `installer --remove-update ID`: refuses when the update is not applied or a later
  /// applied update requires it; with dry_run prints the down scripts instead.
  void remove_update(const std::string& update_id, bool dry_run, std::ostream& out);

 private:
  std::vector<std::string> recover(const Reconciliation& r);
  void refuse_changed(const Reconciliation& r);
  std::vector<std::string> handle_unknown(const Reconciliation& r, const MigrateOptions& options);
  void apply_pending(const Reconciliation& r, const MigrateOptions& options, MigrateSummary& summary);

  EngineContext& ctx_;
  const Catalog& catalog_;
};

/// The connection broke while an update's COMMIT was in flight: whether it committed is
/// known only to the server. Reconnect and read the journal before acting.
class CommitInDoubt : public DbError {
 public:
  CommitInDoubt(std::string update_id, const DbError& cause)
      : DbError(DbFailure::in_doubt, cause.what(), cause.sqlstate(), cause.statement()),
        update_id_(std::move(update_id)) {}
  const std::string& update_id() const { return update_id_; }

 private:
  std::string update_id_;
};

/// The message for a failed revert: what failed, what remains, what to do.
std::string describe_revert_failure(const RevertOutcome& outcome);

}  // namespace installer
