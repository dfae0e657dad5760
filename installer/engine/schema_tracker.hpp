#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/db/snapshot.hpp"
#include "installer/engine/context.hpp"

#include <optional>
#include <string>
#include <vector>

namespace installer {

/// Which tables an update's statements can have changed: a few by name, or (nullopt)
/// anything, when one statement's effect is not known from its words alone (a DO block,
/// a CALL, a rename, CASCADE, a schema, type or extension statement, ...).
std::optional<std::vector<std::string>> tables_changed_by(const std::vector<std::string>& statements,
                                                          SqlDialect dialect);
std::optional<std::vector<std::string>> tables_changed_by(const Update& update, SqlDialect dialect);

/// The schema after each update of a run, without reading the whole catalog each time
/// (docs/snapshots.md): nothing else changes the schema while we hold the lock, so the
/// snapshot after an update is the one before it with the tables its statements name
/// read again, and every object of no table (routines, schemas, ...). The server's own
/// counts of objects per kind are then compared with the result; a mismatch means a
/// statement did more than its words say, and the schema is read in full.
class SchemaTracker {
 public:
  explicit SchemaTracker(EngineContext& ctx);

  /// The schema after `update` was applied on `before` (the schema before it).
  Snapshot after(const Update& update, const Snapshot& before);
  /// The schema after `statements` ran on `before` (a revert's down scripts); `what`
  /// names them for messages.
  Snapshot after(const std::string& what, const std::vector<std::string>& statements, const Snapshot& before);

  /// How the snapshots were taken, for the log at the end of a run.
  struct Counts {
    int incremental = 0;
    int full = 0;
    int corrected = 0;  ///< incremental reads the counts proved incomplete
  };
  const Counts& counts() const { return counts_; }

 private:
  std::optional<Snapshot> incremental(const std::vector<std::string>& named, const Snapshot& before);
  /// The objects of `tables` (bare names) and every table-less one, in `before`, are what
  /// a scoped read replaces.
  Snapshot merge(const Snapshot& before, const std::vector<std::string>& tables, const Snapshot& fresh) const;

  EngineContext& ctx_;
  Counts counts_;
  bool check_each_ = false;  ///< INSTALLER_TEST_CHECK_SNAPSHOTS: compare every incremental read with a full one
};

}  // namespace installer
