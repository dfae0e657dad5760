#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/catalog/problems.hpp"
#include "installer/journal/records.hpp"

#include <map>
#include <string>
#include <vector>

namespace installer {

/// The latest attempt of every update id in the journal.
std::map<std::string, const AttemptRecord*> latest_attempts(const std::vector<AttemptRecord>& attempts);

/// How the update files and the journal relate; decided without touching the database.
struct Reconciliation {
  std::vector<const Update*> pending;            ///< never applied, failed or removed: to apply, in order
  std::vector<const AttemptRecord*> applied;     ///< applied and present in the update directories
  std::vector<const AttemptRecord*> unknown;     ///< applied but in no update directory (newest first)
  std::vector<const AttemptRecord*> unfinished;  ///< applying, reverting or revert_failed: to recover first
  std::vector<Problem> changed;                  ///< applied updates whose files changed since
};

Reconciliation reconcile(const Catalog& catalog, const std::vector<AttemptRecord>& attempts);

/// Applied updates whose `requires` names update_id (they must be removed first).
std::vector<const AttemptRecord*> applied_dependents(const std::vector<AttemptRecord>& attempts,
                                                     const std::string& update_id);

}  // namespace installer
