#pragma once
#include "installer/db/snapshot.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace installer {

/// The most text a stored snapshot's body may unpack to (a row claiming more is refused
/// unread: a damaged or hostile row cannot make the installer allocate without bound).
constexpr size_t kMaxSnapshotTextBytes = size_t{512} << 20;

/// The text that turns `base` into `target`, one line per object that differs, in key order
/// (docs/journal.md): "-" and the key of an object `target` lacks, "+" and the line of one
/// `base` lacks, "~" and the new line of one whose definition or table changed. Keys and
/// lines are written as in Snapshot::serialize().
std::string snapshot_delta(const Snapshot& base, const Snapshot& target);

/// Applies a delta to objects sorted and unique by key, as Snapshot::objects() is. Throws
/// std::invalid_argument when the delta is damaged or was made against other objects
/// (it removes or replaces an object they lack, or adds one they have).
void apply_snapshot_delta(std::vector<SchemaObject>& objects, std::string_view delta);

/// Text as a journal row's body holds it: zlib-compressed, then base64.
std::string pack_snapshot_text(std::string_view text);
/// The text back, which must be `bytes` long (at most kMaxSnapshotTextBytes); throws
/// std::invalid_argument when the body is not base64, not zlib, or unpacks to another length.
std::string unpack_snapshot_text(std::string_view body, size_t bytes);

}  // namespace installer
