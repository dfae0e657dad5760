#include "installer/journal/schema_record.hpp"

namespace installer {
namespace {
constexpr std::string_view kSnapshotPrefix = "snapshot:";
}

SchemaRecordFormat schema_record_format(std::string_view column) {
  if (column.empty()) return SchemaRecordFormat::none;
  if (column.substr(0, kSnapshotPrefix.size()) == kSnapshotPrefix) return SchemaRecordFormat::snapshot;
  return SchemaRecordFormat::per_kind_digests;
}

std::string snapshot_reference(std::string_view digest) { return std::string(kSnapshotPrefix) + std::string(digest); }

std::string snapshot_digest_of(std::string_view reference) {
  if (schema_record_format(reference) != SchemaRecordFormat::snapshot) return "";
  return std::string(reference.substr(kSnapshotPrefix.size()));
}

}  // namespace installer
