#pragma once
#include <string>
#include <string_view>

namespace installer {

/// What an attempt's or a step's fingerprint column holds (docs/journal.md):
/// nothing (no schema was recorded), the per-kind digests older installers wrote
/// ("column=12:<md5>;index=3:<md5>"), or a reference to a snapshot stored in the journal
/// ("snapshot:<sha256>").
enum class SchemaRecordFormat { none, per_kind_digests, snapshot };

SchemaRecordFormat schema_record_format(std::string_view column);

/// The column's text for the snapshot with this digest, and back.
std::string snapshot_reference(std::string_view digest);
std::string snapshot_digest_of(std::string_view reference);

}  // namespace installer
