#include "installer/catalog/catalog.hpp"

#include "installer/catalog/bundle_reader.hpp"
#include "installer/catalog/foreign_updates.hpp"
#include "installer/catalog/problems.hpp"
#include "installer/catalog/update_loader.hpp"
#include "installer/util/open_directory.hpp"
#include "installer/util/parallel.hpp"
#include "installer/util/version_order.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

namespace fs = boost::filesystem;

namespace installer {

const Update* Catalog::find(const std::string& id) const {
  for (const auto& u : updates)
    if (u.id == id) return &u;
  return nullptr;
}

bool Update::removable() const {
  return std::all_of(steps.begin(), steps.end(), [](const Step& s) { return s.has_down; });
}

SqlDialect dialect_for(Engine engine) {
  return engine == Engine::postgres ? SqlDialect::postgres : SqlDialect::mariadb;
}

namespace {

/// Where one update is: a directory, or a bundle file.
struct UpdateLocation {
  fs::path path;
  bool bundle = false;
};

LoadedUpdate load_location(const UpdateLocation& where, Engine engine, const TrustedKeys& trusted,
                           ScriptParsing parsing) {
  if (!where.bundle) return load_update(DirectoryFiles(where.path), engine, trusted, parsing);
  LoadedUpdate loaded;
  auto tree = read_bundle(where.path, loaded.problems);
  if (!tree) {
    loaded.update.source = where.path;
    return loaded;
  }
  return load_update(*tree, engine, trusted, parsing);
}

/// Below that many updates a thread costs more than it saves.
constexpr size_t kUpdatesPerThread = 64;

/// Loads each update on one of a few threads, results in the directories' order: a
/// long history is thousands of small files, and a start spends most of its time in
/// opening and reading them.
std::vector<LoadedUpdate> load_updates(const std::vector<UpdateLocation>& dirs, Engine engine,
                                       const TrustedKeys& trusted, ScriptParsing parsing) {
  std::vector<LoadedUpdate> loaded(dirs.size());
  for_each_index_in_parallel(dirs.size(), kUpdatesPerThread,
                             [&](size_t i) { loaded[i] = load_location(dirs[i], engine, trusted, parsing); });
  return loaded;
}

/// The update directories and bundles in each root, in name order; a broken link among
/// them is a problem.
std::vector<UpdateLocation> find_updates(const std::vector<fs::path>& roots, std::vector<Problem>& problems) {
  std::vector<UpdateLocation> update_dirs;
  for (const auto& root : roots) {
    boost::system::error_code ec;
    if (!fs::is_directory(root, ec)) {
      problems.push_back(
          {root.string(), 0, fs::exists(root, ec) ? "not a directory" : "update directory does not exist"});
      continue;
    }
    std::string why;
    auto listing = OpenDirectory::open(root.string(), why);
    if (!listing) {
      problems.push_back({root.string(), 0, fmt::format("cannot list: {}", why)});
      continue;
    }
    for (const auto& entry : listing->entries()) {
      const std::string& name = entry.name;
      if (name.empty() || name[0] == '.') continue;
      fs::path path = root / name;
      // The kind readdir gave; only a link (or a file system that does not say) costs a stat.
      if (entry.kind == OpenDirectory::Kind::directory || (entry.may_be_link() && fs::is_directory(path, ec))) {
        update_dirs.push_back({path, false});
      } else if (auto broken = entry.may_be_link() ? broken_link(path) : std::nullopt) {
        problems.push_back({path.string(), 0, *broken});
      } else if (is_bundle_name(name)) {
        update_dirs.push_back({path, true});
      }
    }
  }
  return update_dirs;
}

/// The same update may sit both in the image and in an operator's volume; identical
/// copies are one update, differing ones are an error. In version order.
std::vector<Update> without_duplicates(std::vector<Update> updates, std::vector<Problem>& problems) {
  // Hashes, not scans: a long history has thousands of updates.
  std::vector<Update> unique;
  unique.reserve(updates.size());
  std::unordered_map<std::string, size_t> by_id, by_version;
  for (auto& u : updates) {
    if (auto same_id = by_id.find(u.id); same_id != by_id.end()) {
      const Update& other = unique[same_id->second];
      if (other.content_checksum != u.content_checksum)
        problems.push_back(
            {u.source.string(), 0,
             fmt::format("duplicate update id '{}' (also {}) with different content", u.id, other.source.string())});
      continue;
    }
    std::string version = version_key(u.version);
    if (auto same_version = by_version.find(version); same_version != by_version.end()) {
      const Update& other = unique[same_version->second];
      problems.push_back({u.source.string(), 0,
                          fmt::format("duplicate version {}: update '{}' ({}) has it too", u.version, other.id,
                                      other.source.string())});
      continue;
    }
    by_id.emplace(u.id, unique.size());
    by_version.emplace(std::move(version), unique.size());
    unique.push_back(std::move(u));
  }
  auto version_less = [](const Update& a, const Update& b) { return compare_versions(a.version, b.version) < 0; };
  // Folders are usually named by their versions, and listed in that order already.
  if (!std::is_sorted(unique.begin(), unique.end(), version_less))
    std::sort(unique.begin(), unique.end(), version_less);
  return unique;
}

/// What an update requires is there and comes before it; `invalid_ids` were reported
/// already, and are not "missing" too.
void check_requirements(const std::vector<Update>& updates, const std::set<std::string>& invalid_ids,
                        std::vector<Problem>& problems) {
  std::map<std::string, const Update*> by_id;
  for (const auto& u : updates) by_id.emplace(u.id, &u);
  for (const auto& u : updates) {
    for (const auto& required : u.required) {
      auto it = by_id.find(required);
      std::string manifest = (u.source / "update.toml").string();
      if (it == by_id.end() && invalid_ids.count(required)) continue;
      if (it == by_id.end())
        problems.push_back(
            {manifest, 0, fmt::format("requires '{}', which is in none of the update directories", required)});
      else if (compare_versions(it->second->version, u.version) >= 0)
        problems.push_back(
            {manifest, 0,
             fmt::format(
                 "requires '{}' (version {}), which does not come before version {}: it can never be applied first",
                 required, it->second->version, u.version)});
    }
  }
}

/// Each root in its format: the installer's own roots' update directories are loaded by
/// the caller (on several threads), other tools' folders here.
struct SortedRoots {
  std::vector<fs::path> native;
  std::vector<LoadedUpdate> foreign;
};

SortedRoots sort_roots(const std::vector<fs::path>& roots, Engine engine, const FormatChoice& formats,
                       const TrustedKeys& trusted, std::vector<Problem>& problems) {
  SortedRoots sorted;
  for (const auto& root : roots) {
    boost::system::error_code ec;
    std::optional<UpdatesFormat> format = formats.for_directory(root);
    if (!format && fs::is_directory(root, ec)) format = detect_updates_format(root, problems);
    if (!format && fs::is_directory(root, ec)) continue;  // ambiguous: reported
    if (!format || *format == UpdatesFormat::installer) {
      sorted.native.push_back(root);  // a missing root is reported with the others
      continue;
    }
    if (!fs::is_directory(root, ec)) {
      problems.push_back({root.string(), 0, "update directory does not exist"});
      continue;
    }
    if (!trusted.empty()) {
      problems.push_back({root.string(), 0,
                          fmt::format("refused: a {} folder cannot carry the installer's signatures, and trusted keys "
                                      "are configured ({}): only the installer's own update directories and bundles "
                                      "can be verified",
                                      to_string(*format), trusted.source)});
      continue;
    }
    for (auto& loaded : load_foreign_updates(root, *format, engine, problems))
      sorted.foreign.push_back(std::move(loaded));
  }
  return sorted;
}

}  // namespace

Catalog load_catalog(const std::vector<fs::path>& directories, Engine engine, const FormatChoice& formats,
                     const TrustedKeys& trusted, ScriptParsing parsing) {
  if (directories.empty())
    throw CatalogError({{"(configuration)", 0, "no update directory given: use --updates DIR or INSTALLER_UPDATES"}});
  std::vector<Problem> problems;
  SortedRoots roots = sort_roots(directories, engine, formats, trusted, problems);
  std::vector<UpdateLocation> locations = find_updates(roots.native, problems);
  std::vector<LoadedUpdate> all = load_updates(locations, engine, trusted, parsing);
  for (auto& loaded : roots.foreign) all.push_back(std::move(loaded));
  std::vector<Update> updates;
  updates.reserve(all.size());
  std::set<std::string> invalid_ids;
  for (auto& loaded : all) {
    problems.insert(problems.end(), loaded.problems.begin(), loaded.problems.end());
    if (loaded.valid) updates.push_back(std::move(loaded.update));
    else invalid_ids.insert(loaded.update.id);
  }
  Catalog catalog;
  catalog.updates = without_duplicates(std::move(updates), problems);
  check_requirements(catalog.updates, invalid_ids, problems);
  if (!problems.empty()) {
    // One error lists every problem, as it does when every script is parsed on load.
    for (auto& loaded : all)
      if (!loaded.valid && !loaded.update.parsed) parse_update_scripts(loaded.update, engine, problems);
    for (auto& update : catalog.updates)
      if (!update.parsed) parse_update_scripts(update, engine, problems);
    throw CatalogError(std::move(problems));
  }
  return catalog;
}

void parse_scripts(Catalog& catalog, Engine engine, const std::function<bool(const Update&)>& will_run) {
  std::vector<Update*> to_parse;
  for (auto& update : catalog.updates)
    if (!update.parsed && will_run(update)) to_parse.push_back(&update);
  std::vector<std::vector<Problem>> found(to_parse.size());
  for_each_index_in_parallel(to_parse.size(), kUpdatesPerThread,
                             [&](size_t i) { parse_update_scripts(*to_parse[i], engine, found[i]); });
  std::vector<Problem> problems;
  for (auto& some : found) problems.insert(problems.end(), some.begin(), some.end());
  if (!problems.empty()) throw CatalogError(std::move(problems));
}

}  // namespace installer
