#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/catalog/problems.hpp"

#include <boost/filesystem/path.hpp>

#include <optional>
#include <string>
#include <vector>

namespace installer {

/// One update directory, read and checked on its own; the catalog checks updates against
/// each other.
struct LoadedUpdate {
  Update update;
  bool valid = false;  ///< false: its problems are reported, and it is not in the catalog
  std::vector<Problem> problems;
};

LoadedUpdate load_update(const boost::filesystem::path& dir, Engine engine);

/// Why `path` is a symbolic link that leads nowhere (to nothing, or round in a loop), or
/// nothing: such an update directory or update.toml is an error, never skipped quietly.
std::optional<std::string> broken_link(const boost::filesystem::path& path);

}  // namespace installer
