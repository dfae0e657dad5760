#pragma once
#include "installer/catalog/sql_splitter.hpp"
#include "installer/db/database.hpp"
#include "installer/db/undo.hpp"

#include <vector>

namespace installer {

/// How a partly applied step is reverted. Tests and scripts/realworld.sh compare them
/// (INSTALLER_TEST_PARTIAL_REVERT=exact|tolerant-down|strict-down); operators have no
/// reason to change it.
enum class PartialRevert {
  exact,          ///< undo records newest first, the down script (tolerant) from where none is exact
  tolerant_down,  ///< the down script, passing over statements whose objects are absent
  strict_down,    ///< the down script as for a whole step (before journal format 3)
};

/// The mode INSTALLER_TEST_PARTIAL_REVERT asks for; `exact` when unset.
PartialRevert partial_revert_from_environment();

/// What undoes `statement` (1-based `position` in its script), planned just before it
/// runs. `earlier` are the records of the step's statements before it: rows written to
/// a table the step created need no undo of their own.
UndoRecord plan_undo(Database& db, const std::string& journal, const Statement& statement, int position,
                     const std::vector<UndoRecord>& earlier);

}  // namespace installer
