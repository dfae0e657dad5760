#pragma once
#include "installer/db/database.hpp"
#include "installer/journal/journal.hpp"

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace installer {

/// The journal's schema_snapshots table (docs/journal.md): each snapshot stored whole or as
/// a delta against one stored before, and what one session remembers of them, so that a
/// store usually costs one lookup and one small INSERT and a load one query. It writes in
/// whatever transaction the session has open and never begins or ends one.
class SnapshotStore {
 public:
  /// `table`: the table as statements spell it; `shown`: as messages name it.
  SnapshotStore(Database& db, std::string table, std::string shown);

  /// Stores the snapshot unless its digest is stored already; returns the digest.
  std::string store(const Snapshot& snapshot);
  /// The snapshot with this digest; throws SnapshotUnreadable.
  Snapshot load(const std::string& digest);

  /// The most deltas between a stored snapshot and the full one its chain starts from.
  static constexpr int kMaxDeltas = 16;

 private:
  /// What this session knows of one row.
  struct Known {
    int depth = -1;          ///< deltas from it to its full snapshot; -1: not known (never a base)
    std::string root;        ///< the digest of that full snapshot
    bool committed = false;  ///< seen or written outside a transaction: no rollback can take it away
  };
  /// What a new delta would be made against.
  struct Base {
    std::string digest;
    Known known;
    std::shared_ptr<const Snapshot> snapshot;  ///< null: the chain's full snapshot, read when needed
  };
  struct Probe {
    std::optional<Known> target;  ///< the row asked for, when it is there
    bool base_visible = false;
  };

  std::optional<Base> choose_base() const;
  Probe probe(const std::string& digest, const std::string& base);
  void write(const Snapshot& snapshot, const std::string& digest, std::optional<Base> base);
  void insert(const std::string& digest, const std::string& base, size_t objects, const std::string& text);
  std::shared_ptr<const Snapshot> root_snapshot(const std::string& digest);
  /// Makes `snapshot` the full snapshot this session keeps, the start of new chains.
  void keep_root(std::shared_ptr<const Snapshot> snapshot, const std::string& digest, Known known);
  std::shared_ptr<const Snapshot> cached(const std::string& digest) const;
  Snapshot read(const std::string& digest, Known& known);
  std::vector<SchemaObject> start_of_chain(const std::string& digest, const std::vector<SqlRow>& rows, Known& known);
  std::string unpack(const std::string& digest, const SqlRow& row) const;
  std::string chain_query() const;
  [[noreturn]] void fail(const std::string& digest, const std::string& what) const;

  Database& db_;
  std::string table_;
  std::string shown_;
  std::map<std::string, Known> known_;
  // The last snapshot stored or loaded, and the full one its chain starts from (they may be the same).
  std::string last_digest_;
  std::shared_ptr<const Snapshot> last_;
  std::string root_digest_;
  std::shared_ptr<const Snapshot> root_;
};

}  // namespace installer
