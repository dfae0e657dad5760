#pragma once
#include "installer/util/sha256.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
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
///
/// Inside, the objects are kept by the table they belong to, each table's with its own
/// digest, in chunks of tables shared by copies: a run takes a snapshot after every update, and what it
/// costs (the copy, the merge of a re-read, the digest, the journal's delta) is then what
/// the update changed, not what the schema holds. Not for use from several threads (the
/// sorted list and the digest are computed when first asked for).
class Snapshot {
 public:
  Snapshot();
  /// Sorts by key; objects with the same key (which the catalogs should never give) are
  /// folded into one whose definition lists them all, so that nothing is dropped.
  explicit Snapshot(std::vector<SchemaObject> objects);

  /// Every object, in key order.
  const std::vector<SchemaObject>& objects() const;
  size_t size() const { return size_; }
  const SchemaObject* find(std::string_view kind, std::string_view name) const;

  /// The value compared and shown (first 12 characters): the SHA-256 of one line per table
  /// (its name, then the SHA-256 of its objects' lines as serialize() writes them), and a
  /// line for the objects of no table.
  std::string digest() const;
  std::string short_digest() const { return digest().substr(0, 12); }
  /// The SHA-256 of serialize(): the digest of snapshots journaled before they were kept by
  /// table (the journal's store accepts either).
  std::string text_digest() const;

  /// One object per line: kind, name, definition and table separated by tabs, with backslash,
  /// tab, newline and carriage return escaped. parse() reverses it and throws
  /// std::invalid_argument on anything else.
  std::string serialize() const;
  /// About the length of serialize(), without writing it.
  size_t text_size() const { return text_size_; }
  static Snapshot parse(std::string_view text);

  /// What differs from `before`, in key order.
  std::vector<ObjectDifference> differences_from(const Snapshot& before) const;
  /// The objects of the tables whose objects differ, in key order: `before`'s in `was`,
  /// this snapshot's in `now` (what a delta between the two is made of).
  void objects_differing_from(const Snapshot& before, std::vector<const SchemaObject*>& was,
                              std::vector<const SchemaObject*>& now) const;

  /// This snapshot with the objects of `tables` (and, with `table_less`, every object of no
  /// table) taken out and `fresh`'s put in (an incremental re-read: engine/schema_tracker).
  Snapshot with_tables_replaced(const std::unordered_set<std::string>& tables, bool table_less,
                                const Snapshot& fresh) const;
  /// The objects with_tables_replaced() takes out.
  std::vector<const SchemaObject*> objects_of(const std::unordered_set<std::string>& tables, bool table_less) const;

  bool operator==(const Snapshot& o) const;
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
  /// The objects of one table ("" for those of no table), in key order.
  struct Table {
    std::vector<SchemaObject> objects;
    std::string digest;
    size_t text_size = 0;
  };
  struct Entry {
    std::string name;
    std::shared_ptr<const Table> table;
  };
  /// A run of tables in name order. Snapshots share the chunks they hold unchanged, so that
  /// one made from another by replacing a few tables copies, compares and hashes again the
  /// chunks those are in, not the list of every table (a run takes one after each update).
  struct Chunk {
    std::vector<Entry> entries;
    size_t objects = 0;
    size_t text_size = 0;
    std::string digest_lines;  ///< its tables' lines of the digest's text
  };
  using Chunks = std::vector<std::shared_ptr<const Chunk>>;
  class Cursor;

  explicit Snapshot(Chunks chunks);
  static std::shared_ptr<const Table> make_table(std::vector<SchemaObject> objects);
  /// Appends `entries` (in name order) as chunks of the usual size.
  static void append_chunks(Chunks& out, std::vector<Entry> entries);
  const Table* table_named(std::string_view name) const;

  Chunks chunks_;
  size_t size_ = 0;
  size_t text_size_ = 0;
  mutable std::shared_ptr<const std::vector<SchemaObject>> sorted_;
  mutable std::string digest_;
  /// The digest's state before chunk i (after the lines of chunks 0 to i-1), for the first
  /// so many chunks: what with_tables_replaced() passes on for the chunks it did not change.
  mutable std::vector<std::shared_ptr<const Sha256>> digest_states_;
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
