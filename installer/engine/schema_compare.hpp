#pragma once
#include "installer/db/snapshot.hpp"
#include "installer/engine/context.hpp"

#include <string>
#include <vector>

namespace installer {

/// How many differences a message lists before it counts the rest.
inline constexpr size_t kDifferencesShown = 20;

/// What comparing the schema now with one the journal recorded found.
struct SchemaComparison {
  enum class Result { equal, differs, not_recorded, unreadable };
  Result result = Result::not_recorded;
  /// Object by object, when the record is a snapshot.
  std::vector<ObjectDifference> objects;
  /// For people: describe_differences() of `objects`, or, for a record an older installer
  /// wrote, one line per kind of object that differs.
  std::vector<std::string> lines;
  /// The record was per-kind digests (an older installer's): compared as they were, kinds only.
  bool per_kind = false;
  std::string recorded_digest;  ///< short
  std::string now_digest;       ///< short
  std::string problem;          ///< unreadable: why the recorded snapshot cannot be read
  bool equal() const { return result == Result::equal; }
  bool differs() const { return result == Result::differs; }
};

/// A snapshot and what the journal's fingerprint columns hold for it.
struct RecordedSchema {
  Snapshot snapshot;
  std::string record;
};

/// The schema now, in full.
Snapshot current_schema(EngineContext& ctx);

/// Stores `snapshot` in the journal; returns what a fingerprint column holds for it.
std::string record_schema(EngineContext& ctx, const Snapshot& snapshot);

/// Compares `now` with what `recorded` (a fingerprint column's text) says the schema
/// was; an older installer's per-kind digests are compared with a per-kind reading of
/// the schema, as that installer did. Reads the journal, writes nothing.
SchemaComparison compare_schema(Database& db, Journal& journal, const std::string& journal_name,
                                const std::string& recorded, const Snapshot& now);
inline SchemaComparison compare_schema(EngineContext& ctx, const std::string& recorded, const Snapshot& now) {
  return compare_schema(ctx.db, ctx.journal, ctx.journal_schema, recorded, now);
}

/// The digest a fingerprint column's text stands for ("" for none), in either format.
std::string schema_record_digest(const std::string& recorded);

/// Whether the schema now differs from `recorded` (false when nothing was recorded).
bool schema_differs_from(EngineContext& ctx, const std::string& recorded);

/// "(snapshot 1a2b3c4d5e6f)" or "(per-kind digests of an older installer, 1a2b…)": how a
/// verification was done, for messages.
std::string describe_comparison_basis(const SchemaComparison& comparison);

}  // namespace installer
