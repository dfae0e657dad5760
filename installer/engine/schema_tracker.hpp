#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/db/snapshot.hpp"
#include "installer/engine/context.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace installer {

/// What an update's statements can have changed: some tables by name, and whether any
/// object of no table (a routine, an event).
struct ChangedObjects {
  std::vector<std::string> tables;
  /// Indexes, triggers and sequences named without their table (DROP INDEX i): the
  /// snapshot before says whose they are.
  std::vector<std::string> owned;
  bool table_less = false;
};

/// What the statements can have changed, or nullopt (anything) when one statement's
/// effect is not known from its words alone (a DO block, a CALL, a rename, CASCADE, a
/// schema, type or extension statement, ...).
std::optional<ChangedObjects> objects_changed_by(const std::vector<std::string>& statements, SqlDialect dialect);
std::optional<ChangedObjects> objects_changed_by(const Update& update, SqlDialect dialect);

/// The schema after each update of a run, without reading the whole catalog each time
/// (docs/snapshots.md): nothing else changes the schema while we hold the lock, so the
/// snapshot after an update is the one before it with the tables its statements name
/// read again (and the objects of no table, when a statement names a routine or an
/// event). Where the server keeps counters of its objects (PostgreSQL), their change
/// since the snapshot before is compared with the change of the result's counts; a
/// mismatch means a statement did more than its words say (a trigger or a function that
/// ran DDL), and the schema is read in full.
class SchemaTracker {
 public:
  explicit SchemaTracker(EngineContext& ctx);

  /// The whole schema, read in full, with the counters the next incremental read is
  /// checked against: the snapshot to start a run from.
  Snapshot read_all();

  /// Called as an update's transaction begins: the server's counters of catalog changes
  /// then, which the snapshot after the update, read in the same transaction, subtracts
  /// to learn what kinds of objects the update changed.
  void transaction_began();

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
  std::optional<Snapshot> incremental(const ChangedObjects& named, const Snapshot& before);
  /// Whether the counters moved as `fresh` replacing `stale` moves the snapshot's counts.
  bool counters_agree(const Snapshot& before, const std::vector<const SchemaObject*>& stale, const Snapshot& fresh,
                      const std::map<std::string, long>& now) const;

  /// What changed in the transaction since transaction_began(), when it was called in
  /// this one; else nullopt.
  std::optional<std::map<std::string, long>> changes_in_transaction();

  EngineContext& ctx_;
  Counts counts_;
  std::optional<CatalogCounters> at_begin_;
  bool check_each_ = false;  ///< INSTALLER_TEST_CHECK_SNAPSHOTS: compare every incremental read with a full one
};

}  // namespace installer
