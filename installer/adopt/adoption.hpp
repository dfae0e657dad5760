#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/engine/context.hpp"

#include <boost/filesystem/path.hpp>

#include <optional>
#include <string>
#include <vector>

namespace installer {

struct AdoptOptions {
  bool adopt = false;  ///< --adopt
  /// Where the release's schema snapshots are looked for (release_snapshots.hpp).
  std::vector<boost::filesystem::path> update_dirs;
};

struct AdoptionOutcome {
  std::string source;                ///< where the installer learned what is applied
  std::vector<std::string> adopted;  ///< update ids journaled as adopted, in order
};

/// A database that has no journal yet, before the first update touches it (called under
/// the migration lock). Without application objects: nothing to do. With them, and
/// `adopt` unset: refused with exit 65, naming what was found and the ways on. With it:
/// the other tool's history table (docs/adopt.md) says what is applied or, without one,
/// the release's snapshot that the schema matches exactly; those updates are journaled as
/// adopted, in one transaction, with the schema now as the last one's. No history and no
/// match: refused with exit 65, naming the closest update and how the schema differs.
std::optional<AdoptionOutcome> prepare_unjournaled(EngineContext& ctx, const Catalog& catalog,
                                                   const AdoptOptions& options);

struct BaselineRequest {
  std::string update_id;
  bool force = false;       ///< journal it even when the schema differs from the snapshot, or none was shipped
  std::string operator_id;  ///< who asked: "root (uid 0)"
};

/// installer baseline: journals `update_id` and every update before it as adopted, on a
/// database whose journal has nothing in effect, once the schema matches the snapshot
/// recorded after it (unless forced). The journal's reason says who did it and how.
AdoptionOutcome baseline(EngineContext& ctx, const Catalog& catalog, const AdoptOptions& options,
                         const BaselineRequest& request);

/// The application's tables and views outside the journal, described for the operator
/// ("4 tables and 1 view (table public.orders, ...)"), or "" when there are none.
std::string describe_application_objects(EngineContext& ctx);

}  // namespace installer
