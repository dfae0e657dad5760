#pragma once
#include "installer/catalog/problems.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace installer {

struct StepOptions {
  bool transactional = true;
  /// allow = ["CODE: reason", ...]: release warnings (catalog/release_lint) the vendor
  /// accepts for this step, each with the reason, by code.
  std::map<std::string, std::string> allowed;
  int line = 0;  ///< where the [steps.NAME] table starts, for errors about it
};

/// update.toml: everything the vendor may say about an update besides its scripts.
struct Manifest {
  std::optional<std::string> id;
  std::optional<std::string> version;
  std::vector<std::string> required;
  std::string description;
  std::map<std::string, StepOptions> steps;
};

/// Parses update.toml text; problems (invalid TOML, unknown or mistyped keys) are
/// appended to `problems` with the file and line. `path` is only used in messages.
Manifest parse_manifest(const std::string& text, const std::string& path, std::vector<Problem>& problems);

}  // namespace installer
