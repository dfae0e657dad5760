#pragma once
#include "installer/engine/schema_compare.hpp"
#include "installer/journal/records.hpp"

#include <optional>
#include <string>
#include <vector>

namespace installer {

/// The schema now against the snapshot recorded after an applied update: what changed by
/// hand since (`installer diff`, `installer status`). Read-only.
struct SchemaDrift {
  const AttemptRecord* base = nullptr;  ///< the applied attempt compared with
  std::string now_digest;               ///< full
  SchemaComparison comparison;
};

/// The applied attempt `installer diff` compares with: the last update applied, or the
/// latest applied attempt of `update_id` when one is given. Throws UserError (exit 65)
/// when there is none, or when it has no snapshot recorded after it.
const AttemptRecord& drift_base(const std::vector<AttemptRecord>& attempts, const std::string& update_id);

/// The last update applied, if any (null for a journal with none).
const AttemptRecord* last_applied_attempt(const std::vector<AttemptRecord>& attempts);

/// Throws UserError (exit 65) when the snapshot compared with cannot be read.
void refuse_unreadable(const SchemaDrift& drift);

SchemaDrift schema_drift(Database& db, Journal& journal, const std::string& journal_name, const AttemptRecord& base);

}  // namespace installer
