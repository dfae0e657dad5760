#include "installer/install/config_drift.hpp"

#include "installer/install/templates.hpp"
#include "installer/util/error.hpp"
#include "installer/util/sha256.hpp"

#include <boost/filesystem.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>

namespace fs = boost::filesystem;

namespace installer {
namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p.string(), std::ios::binary);
  std::ostringstream b;
  b << in.rdbuf();
  return b.str();
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
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
  if (!fs::is_directory(defaults))
    throw UserError(exit_config, fmt::format("defaults directory {} does not exist", defaults.string()));
  fs::path state_path = config_dir / ".installer-defaults";
  std::map<std::string, std::string> installed;  // relative path -> sha256 of the default installed
  if (fs::exists(state_path)) {
    try {
      installed = nlohmann::json::parse(read(state_path)).get<std::map<std::string, std::string>>();
    } catch (const std::exception& e) {
      throw UserError(exit_config, fmt::format("{} is damaged ({}); remove it to start over", state_path.string(), e.what()));
    }
  }
  std::vector<fs::path> sources;
  for (fs::recursive_directory_iterator it(defaults), end; it != end; ++it)
    if (fs::is_regular_file(it->path())) sources.push_back(it->path());
  std::sort(sources.begin(), sources.end());

  std::vector<DefaultFile> report;
  for (const auto& source : sources) {
    std::string relative = fs::relative(source, defaults).string();
    fs::path target = config_dir / relative;
    std::string fresh = read(source);
    std::string fresh_sum = sha256_hex(fresh);
    auto known = installed.find(relative);
    DefaultFile entry{target, DefaultFile::Outcome::unchanged};
    if (!fs::exists(target)) {
      entry.outcome = DefaultFile::Outcome::installed;
      if (!dry_run) write_file_atomically(target, fresh, mode_of(source));
      installed[relative] = fresh_sum;
    } else {
      std::string current_sum = sha256_hex(read(target));
      if (known == installed.end()) {
        // A file the installer never installed (a volume older than the installer): it
        // is the operator's unless it already is the default.
        if (current_sum == fresh_sum) {
          installed[relative] = fresh_sum;
        } else {
          entry.outcome = DefaultFile::Outcome::drifted;
          if (!dry_run) write_file_atomically(target.string() + ".new", fresh, mode_of(source));
        }
        report.push_back(entry);
        continue;
      }
      std::string base = known->second;
      if (current_sum == fresh_sum) {
        entry.outcome = base == fresh_sum ? DefaultFile::Outcome::unchanged : DefaultFile::Outcome::converged;
        installed[relative] = fresh_sum;
      } else if (fresh_sum == base) {
        entry.outcome = DefaultFile::Outcome::unchanged;  // the operator's customisation of an unchanged default
      } else if (current_sum == base) {
        entry.outcome = DefaultFile::Outcome::upgraded;
        if (!dry_run) write_file_atomically(target, fresh, mode_of(target));
        installed[relative] = fresh_sum;
      } else {
        // Both sides changed: the operator's file stays; the new default goes beside it.
        entry.outcome = DefaultFile::Outcome::drifted;
        if (!dry_run) write_file_atomically(target.string() + ".new", fresh, mode_of(source));
      }
    }
    report.push_back(entry);
  }
  if (!dry_run) write_file_atomically(state_path, nlohmann::json(installed).dump(2) + "\n", 0644);
  return report;
}

}  // namespace installer
