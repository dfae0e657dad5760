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
    size_t link = 0;                           ///< its place in spine_
    unsigned long span = 0;                    ///< the new link's
  };
  /// A snapshot this session has, on the path from the chain's full snapshot to the last one
  /// stored or loaded. Deltas are made along it as a binary counter counts: each new one
  /// stands for itself and the links it takes the place of (its span), and is made against
  /// the link below them. So the n-th store of a chain is a delta of the changes of the
  /// last n & -n stores, at most log2(n) + 1 deltas from the full snapshot: what a long run
  /// writes grows as n log n, and reading any of its snapshots takes at most that many rows.
  struct Link {
    std::string digest;
    std::shared_ptr<const Snapshot> snapshot;  ///< null: the full snapshot, not read by this session
    unsigned long span = 0;                    ///< 0: not counted (a full snapshot, or one found stored)
  };
  struct Probe {
    std::optional<Known> target;  ///< the row asked for, when it is there
    bool base_visible = false;
  };

  std::optional<Base> choose_base() const;
  void push(const std::string& digest, const Snapshot& snapshot, const Base& base);
  Probe probe(const std::string& digest, const std::string& base);
  void write(const Snapshot& snapshot, const std::string& digest, std::optional<Base> base);
  void insert(const std::string& digest, const std::string& base, size_t objects, const std::string& text);
  std::shared_ptr<const Snapshot> root_snapshot(const std::string& digest);
  /// Makes `snapshot` the full snapshot this session keeps, the start of new chains.
  void keep_root(std::shared_ptr<const Snapshot> snapshot, const std::string& digest, Known known);
  /// Makes a snapshot stored before (or found stored) the end of the spine.
  void keep_last(const Snapshot& snapshot, const std::string& digest);
  std::shared_ptr<const Snapshot> cached(const std::string& digest) const;
  Snapshot read(const std::string& digest, Known& known);
  std::vector<SchemaObject> start_of_chain(const std::string& digest, const std::vector<SqlRow>& rows, Known& known);
  std::string unpack(const std::string& digest, const SqlRow& row) const;
  std::string chain_query(size_t stops) const;
  std::vector<std::string> chain_stops() const;
  [[noreturn]] void fail(const std::string& digest, const std::string& what) const;

  Database& db_;
  std::string table_;
  std::string shown_;
  std::map<std::string, Known> known_;
  std::vector<Link> spine_;  ///< [0]: the chain's full snapshot; back(): the last stored or loaded
  // The full snapshot last written or read whole, for the chains that start from it.
  std::string root_digest_;
  std::shared_ptr<const Snapshot> root_;
};

}  // namespace installer
