#include "installer/engine/schema_compare.hpp"

#include "installer/journal/journal_tables.hpp"
#include "installer/journal/schema_record.hpp"

#include <fmt/format.h>

namespace installer {
namespace {

SchemaComparison compare_per_kind(Database& db, const std::string& journal_name, const std::string& recorded) {
  SchemaComparison c;
  c.per_kind = true;
  Fingerprint before = Fingerprint::parse(recorded);
  Fingerprint now = schema_fingerprint(db, journal_name);
  c.lines = now.differences_from(before);
  c.result = c.lines.empty() ? SchemaComparison::Result::equal : SchemaComparison::Result::differs;
  c.recorded_digest = before.short_digest();
  c.now_digest = now.short_digest();
  return c;
}

}  // namespace

Snapshot current_schema(EngineContext& ctx) { return schema_snapshot(ctx.db, ctx.journal_schema); }

std::string record_schema(EngineContext& ctx, const Snapshot& snapshot) { return ctx.journal.store_snapshot(snapshot); }

SchemaComparison compare_schema(Database& db, Journal& journal, const std::string& journal_name,
                                const std::string& recorded, const Snapshot& now) {
  SchemaComparison c;
  switch (schema_record_format(recorded)) {
    case SchemaRecordFormat::none: break;
    case SchemaRecordFormat::per_kind_digests: c = compare_per_kind(db, journal_name, recorded); break;
    case SchemaRecordFormat::snapshot: {
      // The digest is of the objects: equal digests are equal schemas, and the recorded
      // snapshot is read only to name what differs.
      if (now.digest() == snapshot_digest_of(recorded)) {
        c.result = SchemaComparison::Result::equal;
        c.recorded_digest = now.short_digest();
        break;
      }
      std::optional<Snapshot> loaded;
      try {
        loaded = journal.load_snapshot(recorded);
      } catch (const SnapshotUnreadable& e) {
        c.result = SchemaComparison::Result::unreadable;
        c.problem = e.what();
        break;
      }
      const Snapshot& before = *loaded;
      c.objects = now.differences_from(before);
      c.lines = describe_differences(c.objects, kDifferencesShown);
      c.result = c.objects.empty() ? SchemaComparison::Result::equal : SchemaComparison::Result::differs;
      c.recorded_digest = before.short_digest();
      break;
    }
  }
  if (c.now_digest.empty()) c.now_digest = now.short_digest();
  return c;
}

std::string schema_record_digest(const std::string& recorded) {
  switch (schema_record_format(recorded)) {
    case SchemaRecordFormat::none: return "";
    case SchemaRecordFormat::per_kind_digests: return Fingerprint::parse(recorded).digest();
    case SchemaRecordFormat::snapshot: break;
  }
  return snapshot_digest_of(recorded);
}

bool schema_differs_from(EngineContext& ctx, const std::string& recorded) {
  switch (schema_record_format(recorded)) {
    case SchemaRecordFormat::none: return false;
    case SchemaRecordFormat::per_kind_digests:
      return schema_fingerprint(ctx.db, ctx.journal_schema) != Fingerprint::parse(recorded);
    case SchemaRecordFormat::snapshot: break;
  }
  Snapshot now = current_schema(ctx);
  if (now.digest() == snapshot_digest_of(recorded)) return false;
  // A digest of another kind (a snapshot journaled with the digest of its text) differs
  // from any of today's: the objects say whether the schema does.
  return compare_schema(ctx.db, ctx.journal, ctx.journal_schema, recorded, now).result !=
         SchemaComparison::Result::equal;
}

std::string describe_comparison_basis(const SchemaComparison& c) {
  if (c.per_kind)
    return fmt::format(
        "per-kind digests {}, recorded by an older installer: kinds of objects compared, not each object",
        c.recorded_digest);
  return fmt::format("snapshot {}", c.recorded_digest);
}

}  // namespace installer
