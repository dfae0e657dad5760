#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/engine/context.hpp"

#include <optional>
#include <string>
#include <vector>

namespace installer {

struct AdoptionOutcome {
  std::string source;                ///< where the installer learned what is applied
  std::vector<std::string> adopted;  ///< update ids journaled as adopted, in order
};

/// A database that has no journal yet, before the first update touches it (called under
/// the migration lock). Without application objects: nothing to do. With them, and
/// `adopt` unset: refused with exit 65, naming what was found and the ways on. With it:
/// the other tool's history table (docs/adopt.md) says what is applied, and those updates
/// are journaled as adopted, in one transaction, with the schema now as the last one's.
std::optional<AdoptionOutcome> prepare_unjournaled(EngineContext& ctx, const Catalog& catalog, bool adopt);

/// The application's tables and views outside the journal, described for the operator
/// ("12 tables and views (table public.users, ...)"), or "" when there are none.
std::string describe_application_objects(EngineContext& ctx);

}  // namespace installer
