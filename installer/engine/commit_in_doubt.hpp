#pragma once
#include "installer/journal/records.hpp"

#include <string>
#include <vector>

namespace installer {

/// What became of an update's commit that was in doubt (the connection broke while it was
/// in flight), as the journal read on a new session tells.
enum class InDoubtVerdict {
  committed,            ///< the update is applied
  not_committed,        ///< nothing of the update is in the database
  reverting_committed,  ///< parts of it had committed before: this start reverts them
  revert_failed,        ///< parts of it had committed, and their revert failed: this start retries it
};

/// Decided from the update's latest attempt in `attempts` (none: it never committed).
InDoubtVerdict commit_in_doubt_verdict(const std::vector<AttemptRecord>& attempts, const std::string& update_id);

/// Completes "the journal says the commit of update X ...".
const char* describe(InDoubtVerdict verdict);

}  // namespace installer
