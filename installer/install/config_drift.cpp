#include "installer/install/config_drift.hpp"

#include "installer/install/templates.hpp"
#include "installer/util/error.hpp"
#include "installer/util/sha256.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>

namespace fs = boost::filesystem;

namespace installer {
namespace {

const fs::path kState = ".installer-defaults";

using Installed = std::map<std::string, std::string>;  // relative path -> sha256 of the default installed

Installed read_state(const ConfigDir& dir) {
  auto state = dir.read(kState);
  if (!state) return {};
  try {
    return nlohmann::json::parse(state->text).get<Installed>();
  } catch (const std::exception& e) {
    throw UserError(exit_config, fmt::format("{} is damaged ({}); remove it to start over",
                                             (dir.root() / kState).string(), e.what()));
  }
}

struct PendingWrite {
  fs::path relative;
  std::string text;
  unsigned mode = 0;
};

/// What happens to one default (at `relative`, content `fresh`): the outcome, and the
/// file to write, if any, added to `writes`; `installed` is updated to match.
DefaultFile::Outcome decide(const ConfigDir& dir, const fs::path& relative, const std::string& fresh,
                            unsigned fresh_mode, Installed& installed, std::vector<PendingWrite>& writes) {
  using Outcome = DefaultFile::Outcome;
  const std::string& key = relative.string();
  const std::string fresh_sum = sha256_hex(fresh);
  const fs::path beside = relative.string() + ".new";
  auto current = dir.read(relative);
  if (!current) {
    writes.push_back({relative, fresh, fresh_mode});
    installed[key] = fresh_sum;
    return Outcome::installed;
  }
  std::string current_sum = sha256_hex(current->text);
  auto known = installed.find(key);
  if (known == installed.end()) {
    // A file the installer never installed (a volume older than the installer): it is
    // the operator's unless it already is the default.
    if (current_sum == fresh_sum) {
      installed[key] = fresh_sum;
      return Outcome::unchanged;
    }
    writes.push_back({beside, fresh, fresh_mode});
    return Outcome::drifted;
  }
  std::string base = known->second;
  if (current_sum == fresh_sum) {
    installed[key] = fresh_sum;
    return base == fresh_sum ? Outcome::unchanged : Outcome::converged;
  }
  if (fresh_sum == base) return Outcome::unchanged;  // the operator's customisation of an unchanged default
  if (current_sum == base) {
    writes.push_back({relative, fresh, current->mode});
    installed[key] = fresh_sum;
    return Outcome::upgraded;
  }
  // Both sides changed: the operator's file stays; the new default goes beside it.
  writes.push_back({beside, fresh, fresh_mode});
  return Outcome::drifted;
}

std::optional<SourceFile> read_default(const fs::path& source, std::vector<std::string>& problems) {
  std::string error;
  auto read = read_source_file_and_mode(source, error);
  if (!read) problems.push_back(fmt::format("cannot read default configuration file {}: {}", source.string(), error));
  return read;
}

}  // namespace

const char* to_string(DefaultFile::Outcome outcome) {
  switch (outcome) {
    case DefaultFile::Outcome::installed: return "installed";
    case DefaultFile::Outcome::upgraded: return "upgraded";
    case DefaultFile::Outcome::unchanged: return "unchanged";
    case DefaultFile::Outcome::drifted: return "drifted";
    case DefaultFile::Outcome::converged: return "converged";
  }
  return "unchanged";
}

std::vector<DefaultFile> sync_defaults(const fs::path& defaults, const fs::path& config_dir, bool dry_run) {
  boost::system::error_code ec;
  if (!fs::is_directory(defaults, ec))
    throw UserError(exit_config, fmt::format("defaults directory {} does not exist", defaults.string()));
  ConfigDir dir(config_dir);
  Installed installed = read_state(dir);
  std::vector<std::string> problems;
  std::vector<PendingWrite> writes;
  std::vector<DefaultFile> report;
  // Everything is read and decided, and every target checked, before anything is written.
  for (const auto& source : list_source_files(defaults, problems)) {
    auto fresh = read_default(source, problems);
    if (!fresh) continue;
    // As spelled below `defaults`: a default that is a link is read, but its own place
    // decides where it goes.
    fs::path relative = source.lexically_relative(defaults);
    try {
      report.push_back({config_dir / relative, decide(dir, relative, fresh->text, fresh->mode, installed, writes)});
    } catch (const UserError& e) {
      problems.push_back(e.what());
    }
  }
  writes.push_back({kState, nlohmann::json(installed).dump(2) + "\n", 0644});
  for (const auto& write : writes)
    if (std::string why = dir.check(write.relative);
        !why.empty() && std::find(problems.begin(), problems.end(), why) == problems.end())
      problems.push_back(why);
  if (!problems.empty())
    throw UserError(exit_config, list_problems(fmt::format("default configuration files cannot be installed into {}:",
                                                           config_dir.string()),
                                               problems, "no default configuration file was installed or changed."));
  if (!dry_run)
    for (const auto& write : writes) dir.write(write.relative, write.text, write.mode);
  return report;
}

}  // namespace installer
