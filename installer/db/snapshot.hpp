#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace installer {

/// One schema object as the catalog describes it. The key (kind and qualified name) is
/// what two snapshots are matched on; the definition is what the catalog says of it.
struct SchemaObject {
  std::string kind;        ///< table, column, constraint, index, view, sequence, function, procedure, ...
  std::string name;        ///< qualified as the engine qualifies it: schema.table.column, table.column
  std::string definition;  ///< as the catalog gives it: "text NOT NULL DEFAULT 'new'::text"
  /// The bare name of the table, view or sequence the object is or belongs to ("" for
  /// schemas, extensions, types, routines, events): what an incremental re-read of some
  /// tables replaces (Database::snapshot's scope).
  std::string table;

  bool operator==(const SchemaObject& o) const {
    return kind == o.kind && name == o.name && definition == o.definition && table == o.table;
  }
  bool operator!=(const SchemaObject& o) const { return !(*this == o); }
};

/// How one object differs between two snapshots.
struct ObjectDifference {
  enum class Change { added, removed, changed };
  std::string kind;
  std::string name;
  Change change = Change::changed;
  std::string before;  ///< the definition before ("" when added)
  std::string after;   ///< the definition now ("" when removed)
};
const char* to_string(ObjectDifference::Change change);

/// The schema as a sorted list of object descriptions (docs/snapshots.md). Its digest is
/// what a verification compares; the list says which objects differ.
class Snapshot {
 public:
  Snapshot();
  /// Sorts by key; objects with the same key (which the catalogs should never give) are
  /// folded into one whose definition lists them all, so that nothing is dropped.
  explicit Snapshot(std::vector<SchemaObject> objects);

  const std::vector<SchemaObject>& objects() const { return *objects_; }
  const SchemaObject* find(std::string_view kind, std::string_view name) const;

  /// SHA-256 of serialize(): the value compared and shown (first 12 characters).
  std::string digest() const;
  std::string short_digest() const { return digest().substr(0, 12); }

  /// One object per line: kind, name, definition and table separated by tabs, with backslash,
  /// tab, newline and carriage return escaped. parse() reverses it and throws
  /// std::invalid_argument on anything else.
  std::string serialize() const;
  static Snapshot parse(std::string_view text);

  /// What differs from `before`, in key order.
  std::vector<ObjectDifference> differences_from(const Snapshot& before) const;

  /// This snapshot with every object `is_stale` says is out of date removed and the
  /// `fresh` ones put in its place (an incremental re-read: engine/schema_tracker).
  /// `fresh` is in this order (another snapshot's objects()): the two are merged, not
  /// sorted again.
  template <typename Predicate>
  Snapshot replaced(Predicate is_stale, const std::vector<SchemaObject>& fresh) const {
    std::vector<SchemaObject> merged;
    merged.reserve(objects_->size() + fresh.size());
    auto next = fresh.begin();
    for (const auto& o : *objects_) {
      if (is_stale(o)) continue;
      for (; next != fresh.end() && sorted_before(*next, o); ++next) merged.push_back(*next);
      merged.push_back(o);
    }
    merged.insert(merged.end(), next, fresh.end());
    return Snapshot(std::move(merged), Sorted{});
  }

  bool operator==(const Snapshot& o) const { return objects_ == o.objects_ || *objects_ == *o.objects_; }
  bool operator!=(const Snapshot& o) const { return !(*this == o); }

  /// The server's counters of objects (Database::object_counts) read at the same moment
  /// as this snapshot, where they were: what the next incremental read is checked
  /// against (engine/schema_tracker). Not part of the snapshot's value.
  const std::map<std::string, long>* server_counts() const { return counted_ ? &server_counts_ : nullptr; }
  void set_server_counts(std::map<std::string, long> counts) {
    server_counts_ = std::move(counts);
    counted_ = true;
  }

 private:
  struct Sorted {};
  Snapshot(std::vector<SchemaObject> sorted, Sorted);
  static bool sorted_before(const SchemaObject& a, const SchemaObject& b);
  /// Objects with one key (which the catalogs should never give) folded into one whose
  /// definition lists them all, so that nothing is dropped.
  static std::vector<SchemaObject> folded(std::vector<SchemaObject> sorted);

  /// Shared by copies, never changed: a run passes the schema from update to update and
  /// into the journal's cache, and a copy of 10,000 objects each time cost more than
  /// reading them.
  std::shared_ptr<const std::vector<SchemaObject>> objects_;
  std::map<std::string, long> server_counts_;
  bool counted_ = false;
};

/// What Database::snapshot() reads: everything, or the objects of some tables (bare
/// names as the catalog spells them, in every schema looked at) and, unless told not to,
/// every object that belongs to no table.
struct SnapshotScope {
  bool everything = true;
  std::vector<std::string> tables;
  bool table_less = true;  ///< schemas, extensions, types, routines, events

  static SnapshotScope all() { return {}; }
  static SnapshotScope of_tables(std::vector<std::string> names, bool table_less = true) {
    return {false, std::move(names), table_less};
  }
  bool covers(const SchemaObject& object) const;
};

/// Lines for people: one per difference, grouped by kind, at most `limit` of them and then
/// a count of the rest, e.g. "column orders.status: added (text NOT NULL DEFAULT 'new')".
std::vector<std::string> describe_differences(const std::vector<ObjectDifference>& differences, size_t limit);

/// A single difference as describe_differences() writes it.
std::string describe_difference(const ObjectDifference& difference);

/// The pieces of Snapshot::serialize()'s text, for other texts made of its lines (the
/// journal's deltas between snapshots). A field with backslash, tab, newline and carriage
/// return escaped; an object as its line, newline included.
void append_snapshot_field(std::string& out, std::string_view field);
void append_snapshot_line(std::string& out, const SchemaObject& object);
/// A line (without its newline) split at its tabs into unescaped fields; throws
/// std::invalid_argument naming line `number` on a bad escape.
std::vector<std::string> split_snapshot_line(std::string_view line, size_t number);

}  // namespace installer
