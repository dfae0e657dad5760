#pragma once
#include "installer/catalog/update_loader.hpp"
#include "installer/catalog/updates_format.hpp"

#include <vector>

namespace installer {

/// Another tool's folder as updates of one step each (docs/adopt.md has the mapping):
/// ids from the file names, versions in the tool's order, no down where it has none.
std::vector<LoadedUpdate> load_foreign_updates(const boost::filesystem::path& dir, UpdatesFormat format, Engine engine,
                                               std::vector<Problem>& problems);

/// `name` with every character an update id may not hold replaced by '_'.
std::string as_update_id(const std::string& name);

}  // namespace installer
