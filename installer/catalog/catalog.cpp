#include "installer/catalog/catalog.hpp"

#include "installer/catalog/manifest.hpp"
#include "installer/catalog/problems.hpp"
#include "installer/catalog/script_lint.hpp"
#include "installer/catalog/script_text.hpp"
#include "installer/util/file_reading.hpp"
#include "installer/util/sha256.hpp"
#include "installer/util/version_order.hpp"

#include <boost/filesystem.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = boost::filesystem;

namespace installer {

const Update* Catalog::find(const std::string& id) const {
  for (const auto& u : updates)
    if (u.id == id) return &u;
  return nullptr;
}

SqlDialect dialect_for(Engine engine) {
  return engine == Engine::postgres ? SqlDialect::postgres : SqlDialect::mariadb;
}

namespace {

const char* const kEngineWords[] = {"postgres", "mariadb", "mysql"};

/// The engine-specific variants a given engine accepts, most preferred first; the
/// generic file ("") comes last.
std::vector<std::string> preference_for(Engine engine) {
  switch (engine) {
    case Engine::postgres: return {"postgres", ""};
    case Engine::mariadb: return {"mariadb", ""};
    case Engine::mysql: return {"mysql", "mariadb", ""};
  }
  return {""};
}

/// One open, one fstat and (for the usual small script) one read: a long history has
/// thousands of files, and system calls are most of the time it takes to read them.
std::optional<std::string> read_file(const fs::path& path, std::vector<Problem>& problems) {
  std::string why;
  auto text = read_regular_file(path.string(), kMaxScriptBytes, why);
  if (!text) problems.push_back({path.string(), 0, "cannot read: " + why});
  return text;
}

/// Ids are printed in commands for the operator to paste (installer --remove-update ID) and
/// written to logs and the journal, so they hold only characters that mean nothing to a shell
/// or a terminal. The journal's column holds 255 characters.
std::optional<std::string> invalid_update_id(const std::string& id) {
  constexpr size_t kMaxIdLength = 255;
  auto allowed = [](char c) {
    // strchr finds the terminating NUL too: NUL is checked first.
    return std::isalnum(static_cast<unsigned char>(c)) || (c != '\0' && std::strchr("._-+@:~,=", c) != nullptr);
  };
  if (id.empty()) return std::string("the update id is empty");
  if (id.size() > kMaxIdLength)
    return fmt::format("the update id is {} characters long; at most {} are allowed", id.size(), kMaxIdLength);
  auto bad = std::find_if_not(id.begin(), id.end(), allowed);
  if (bad == id.end()) return std::nullopt;
  // The id itself is not echoed raw: it may hold the very bytes that make it invalid.
  auto show = [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7F ? std::string(1, c) : fmt::format("\\x{:02X}", u);
  };
  std::string shown;
  for (char c : id) shown += show(c);
  return fmt::format("update id '{}' has the character '{}' at position {}: ids are letters, digits and . _ - + @ : ~ , =",
                     shown, show(*bad), bad - id.begin() + 1);
}

/// The manifest's texts fit the journal's columns (MariaDB's TEXT holds 65535 bytes) and
/// hold no control characters, which would rewrite the operator's terminal when printed.
void check_manifest_texts(const Update& update, bool version_from_manifest, const std::string& manifest_path,
                          std::vector<Problem>& problems) {
  constexpr size_t kMaxText = 65535, kMaxVersion = 255;
  if (version_from_manifest && update.version.size() > kMaxVersion)
    problems.push_back({manifest_path, 0, fmt::format("version is {} characters long; at most {} are allowed",
                                                      update.version.size(), kMaxVersion)});
  if (update.description.size() > kMaxText)
    problems.push_back({manifest_path, 0, fmt::format("description is {} bytes long; at most {} are allowed",
                                                      update.description.size(), kMaxText)});
  auto control = std::find_if(update.description.begin(), update.description.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\n' && c != '\t') || u == 0x7F;
  });
  if (control != update.description.end())
    problems.push_back({manifest_path, 0, fmt::format("description has the control character \\x{:02X}",
                                                      static_cast<unsigned char>(*control))});
  size_t requires_length = 0;
  for (const auto& required : update.required) {
    requires_length += required.size() + 1;
    if (auto why = invalid_update_id(required)) problems.push_back({manifest_path, 0, "requires: " + *why});
  }
  if (requires_length > kMaxText)
    problems.push_back({manifest_path, 0, fmt::format("requires lists {} bytes of ids; at most {} are allowed",
                                                      requires_length, kMaxText)});
}

/// Why `path` is a symbolic link that leads nowhere (to nothing, or round in a loop), or
/// nothing: such an update directory or update.toml is an error, never skipped quietly.
std::optional<std::string> broken_link(const fs::path& path) {
  boost::system::error_code ec;
  if (fs::symlink_status(path, ec).type() != fs::symlink_file) return std::nullopt;
  fs::status(path, ec);
  if (!ec) return std::nullopt;
  std::string why = ec.message();
  std::string target = fs::read_symlink(path, ec).string();
  return fmt::format("is a symbolic link to '{}', which cannot be followed: {}", target, why);
}

struct StepFileName {
  std::string step;
  std::string variant;  ///< engine word, "" for generic
  bool up = true;
};

/// NAME[.ENGINE].(up|down).sql, NAME of letters, digits, '_' and '-' starting with a
/// letter or digit. By hand rather than std::regex, which costs more than reading the
/// file when a long history has thousands of them.
std::optional<StepFileName> parse_step_file_name(const std::string& name) {
  auto is_alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  StepFileName parsed;
  std::string rest;
  auto ends_with = [&](const char* suffix) {
    size_t n = std::strlen(suffix);
    return name.size() > n && name.compare(name.size() - n, n, suffix) == 0;
  };
  if (ends_with(".up.sql")) {
    rest = name.substr(0, name.size() - 7);
  } else if (ends_with(".down.sql")) {
    rest = name.substr(0, name.size() - 9);
    parsed.up = false;
  } else {
    return std::nullopt;
  }
  size_t dot = rest.find('.');
  parsed.step = rest.substr(0, dot);
  if (dot != std::string::npos) {
    parsed.variant = rest.substr(dot + 1);
    if (parsed.variant.empty() || !std::all_of(parsed.variant.begin(), parsed.variant.end(), is_alnum))
      return std::nullopt;
  }
  if (parsed.step.empty() || parsed.step.size() > 255 || !is_alnum(parsed.step[0]) ||
      !std::all_of(parsed.step.begin(), parsed.step.end(), [&](char c) { return is_alnum(c) || c == '_' || c == '-'; }))
    return std::nullopt;
  return parsed;
}

struct StepFiles {
  // engine word ("" for generic) -> path, per direction
  std::map<std::string, fs::path> up, down;
};

std::string describe_variant(const std::string& engine) { return engine.empty() ? "generic" : engine; }

std::optional<ScriptFile> load_script(const fs::path& path, SqlDialect dialect, std::vector<Problem>& problems,
                                      std::map<fs::path, std::string>& checksums) {
  auto text = read_file(path, problems);
  if (!text) return std::nullopt;
  if (auto problem = check_script_text(*text, path.string())) {
    problems.push_back(std::move(*problem));
    return std::nullopt;
  }
  ScriptFile script;
  script.path = path;
  script.checksum = sha256_hex(*text);
  checksums[path] = script.checksum;
  try {
    script.statements = split_sql(*text, dialect);
  } catch (const SqlSplitError& e) {
    problems.push_back({path.string(), e.line(), e.what()});
    return std::nullopt;
  }
  script.text = std::move(*text);
  return script;
}

struct LoadedUpdate {
  Update update;
  bool valid = false;  ///< false: its problems are reported, and it is not in the catalog
  std::vector<Problem> problems;
};

LoadedUpdate load_update(const fs::path& dir, Engine engine) {
  LoadedUpdate loaded;
  std::vector<Problem>& problems = loaded.problems;
  Update& update = loaded.update;
  update.source = dir;
  std::string folder = dir.filename().string();

  Manifest manifest;
  fs::path manifest_path = dir / "update.toml";
  boost::system::error_code ec;
  std::string manifest_text;
  if (auto why = broken_link(manifest_path)) problems.push_back({manifest_path.string(), 0, *why});
  if (fs::exists(manifest_path, ec)) {
    if (auto text = read_file(manifest_path, problems)) {
      manifest_text = *text;
      manifest = parse_manifest(*text, manifest_path.string(), problems);
    }
  }
  update.id = manifest.id.value_or(folder);
  update.version = manifest.version.value_or(folder);
  update.required = manifest.required;
  update.description = manifest.description;
  if (auto why = invalid_update_id(update.id))
    problems.push_back({manifest.id ? manifest_path.string() : dir.string(), 0, *why});
  check_manifest_texts(update, manifest.version.has_value(), manifest_path.string(), problems);
  if (!is_valid_version(update.version)) {
    problems.push_back(
        {manifest.version ? manifest_path.string() : dir.string(), 0,
         manifest.version
             ? fmt::format("version '{}' is not a version (use numbers and letters separated by '.', '-' or '_')", update.version)
             : fmt::format("no version: the folder name '{}' is not a version, so update.toml must set version = \"...\"", folder)});
  }

  std::map<std::string, StepFiles> files;
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
  if (ec) {
    problems.push_back({dir.string(), 0, fmt::format("cannot list: {}", ec.message())});
    return loaded;
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& path : entries) {
    std::string name = path.filename().string();
    if (name.empty() || name[0] == '.' || name == "update.toml") continue;
    std::string extension = path.extension().string();
    for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (extension != ".sql") continue;  // READMEs and the like are allowed beside the steps
    auto parsed = parse_step_file_name(name);
    if (!parsed) {
      problems.push_back({path.string(), 0,
                          "not a step file name: expected NAME.up.sql / NAME.down.sql, optionally "
                          "NAME.postgres.up.sql (or .mariadb., .mysql.), NAME of up to 255 letters, digits, '_' and '-'"});
      continue;
    }
    const std::string& variant = parsed->variant;
    if (!variant.empty() && std::find(std::begin(kEngineWords), std::end(kEngineWords), variant) == std::end(kEngineWords)) {
      problems.push_back({path.string(), 0, fmt::format("unknown engine '{}' in the file name (known: postgres, mariadb, mysql)", variant)});
      continue;
    }
    auto& step = files[parsed->step];
    (parsed->up ? step.up : step.down)[variant] = path;
  }

  // Pairing is checked for every variant, not only the engine in use, so a vendor
  // testing on PostgreSQL learns about a missing MariaDB down script too.
  for (const auto& [name, step] : files) {
    for (const auto& [variant, path] : step.up) {
      bool has_down = step.down.count(variant) || step.down.count("");
      if (!has_down && variant.empty()) {
        // A generic up may be undone by engine-specific downs, if every engine that
        // would use this up finds one.
        has_down = true;
        for (Engine e : {Engine::postgres, Engine::mariadb, Engine::mysql}) {
          auto prefs = preference_for(e);
          bool own_up = std::any_of(prefs.begin(), prefs.end() - 1, [&](const std::string& v) { return step.up.count(v) > 0; });
          bool down = std::any_of(prefs.begin(), prefs.end(), [&](const std::string& v) { return step.down.count(v) > 0; });
          if (!own_up && !down) has_down = false;
        }
      }
      if (!has_down)
        problems.push_back({path.string(), 0,
                            fmt::format("step '{}' has no down script: add {}.{}down.sql (every step must be reversible)",
                                        name, name, variant.empty() ? "" : variant + ".")});
    }
    for (const auto& [variant, path] : step.down) {
      // A generic down may serve engine-specific ups; a specific down needs its own up.
      bool has_up = variant.empty() ? !step.up.empty() : (step.up.count(variant) || step.up.count(""));
      if (!has_up)
        problems.push_back({path.string(), 0,
                            fmt::format("down script without an up script for step '{}' ({})", name, describe_variant(variant))});
    }
  }
  for (const auto& [name, options] : manifest.steps) {
    if (!files.count(name))
      problems.push_back({manifest_path.string(), options.line,
                          fmt::format("[steps.{}] names no step of this update (steps: {})", name,
                                      files.empty() ? std::string("none") : [&] {
                                        std::string list;
                                        for (const auto& f : files) list += (list.empty() ? "" : ", ") + f.first;
                                        return list;
                                      }())});
  }

  SqlDialect dialect = dialect_for(engine);
  std::map<fs::path, std::string> checksums;  // so no file is read twice
  for (const auto& [name, step_files] : files) {
    auto pick = [&](const std::map<std::string, fs::path>& variants) -> std::optional<fs::path> {
      for (const auto& v : preference_for(engine))
        if (auto it = variants.find(v); it != variants.end()) return it->second;
      return std::nullopt;
    };
    auto up_path = pick(step_files.up);
    if (!up_path) continue;  // a step for other engines only
    auto down_path = pick(step_files.down);
    if (!down_path) continue;  // reported above
    Step step;
    step.name = name;
    if (auto it = manifest.steps.find(name); it != manifest.steps.end()) step.transactional = it->second.transactional;
    auto up = load_script(*up_path, dialect, problems, checksums);
    auto down = load_script(*down_path, dialect, problems, checksums);
    if (!up || !down) continue;
    // An up script of comments only is a valid step that runs nothing: real histories
    // keep such placeholders where one engine needs no change.
    lint_statements(up->statements, dialect, step.transactional, up->path.string(), name, problems);
    lint_statements(down->statements, dialect, step.transactional, down->path.string(), name, problems);
    step.up = std::move(*up);
    step.down = std::move(*down);
    update.steps.push_back(std::move(step));
  }
  if (files.empty())
    problems.push_back({dir.string(), 0, "no steps: an update needs at least one NAME.up.sql with its NAME.down.sql"});

  std::string summary;
  for (const auto& step : update.steps) summary += step.name + "\n" + step.up.checksum + "\n";
  update.checksum = sha256_hex(summary);
  // Every file of every engine, and the manifest: two copies of an update are the same
  // only if all of it is.
  std::string content = manifest_text;
  std::vector<Problem> already_reported;
  for (const auto& [name, step_files] : files)
    for (const auto* variants : {&step_files.up, &step_files.down})
      for (const auto& [variant, path] : *variants)
        if (auto known = checksums.find(path); known != checksums.end())
          content += path.filename().string() + "\n" + known->second + "\n";
        else if (auto text = read_file(path, already_reported))
          content += path.filename().string() + "\n" + sha256_hex(*text) + "\n";
  update.content_checksum = sha256_hex(content);
  loaded.valid = problems.empty();
  return loaded;
}

/// Loads each directory on one of a few threads, results in the directories' order: a
/// long history is thousands of small files, and a start spends most of its time in
/// opening and reading them.
std::vector<LoadedUpdate> load_updates(const std::vector<fs::path>& dirs, Engine engine) {
  std::vector<LoadedUpdate> loaded(dirs.size());
  std::vector<std::exception_ptr> errors(dirs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < dirs.size(); i = next++) {
      try {
        loaded[i] = load_update(dirs[i], engine);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  constexpr size_t kDirsPerThread = 64;  // below that a thread costs more than it saves
  size_t threads = std::min<size_t>({std::max(1u, std::thread::hardware_concurrency()), 8, dirs.size() / kDirsPerThread});
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (auto& helper : helpers) helper.join();
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
  return loaded;
}

}  // namespace

Catalog load_catalog(const std::vector<fs::path>& directories, Engine engine) {
  std::vector<Problem> problems;
  std::vector<fs::path> update_dirs;
  if (directories.empty())
    throw CatalogError({{"(configuration)", 0, "no update directory given: use --updates DIR or INSTALLER_UPDATES"}});
  for (const auto& root : directories) {
    boost::system::error_code ec;
    if (!fs::is_directory(root, ec)) {
      problems.push_back({root.string(), 0, fs::exists(root, ec) ? "not a directory" : "update directory does not exist"});
      continue;
    }
    std::vector<fs::path> entries;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
    if (ec) {
      problems.push_back({root.string(), 0, fmt::format("cannot list: {}", ec.message())});
      continue;
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& entry : entries) {
      std::string name = entry.filename().string();
      if (name.empty() || name[0] == '.') continue;
      if (fs::is_directory(entry, ec)) {
        update_dirs.push_back(entry);
      } else if (auto why = broken_link(entry)) {
        problems.push_back({entry.string(), 0, *why});
      } else if (name.size() > 4 && (name.rfind(".tar") == name.size() - 4 || name.rfind(".tar.gz") == name.size() - 7 ||
                                     name.rfind(".tgz") == name.size() - 4)) {
        problems.push_back({entry.string(), 0, "update archives are not supported yet: unpack it into a directory"});
      }
    }
  }

  std::vector<Update> updates;
  std::set<std::string> invalid_ids;  // already reported: not "missing" to those that require them
  for (auto& loaded : load_updates(update_dirs, engine)) {
    problems.insert(problems.end(), loaded.problems.begin(), loaded.problems.end());
    if (loaded.valid) updates.push_back(std::move(loaded.update));
    else invalid_ids.insert(loaded.update.id);
  }

  // The same update may sit both in the image and in an operator's volume; identical
  // copies are one update, differing ones are an error.
  // Maps, not scans: a long history has thousands of updates.
  struct VersionLess {
    bool operator()(const std::string& a, const std::string& b) const { return compare_versions(a, b) < 0; }
  };
  std::vector<Update> unique;
  std::map<std::string, size_t> by_id;
  std::map<std::string, size_t, VersionLess> by_version;
  for (auto& u : updates) {
    if (auto same_id = by_id.find(u.id); same_id != by_id.end()) {
      const Update& other = unique[same_id->second];
      if (other.content_checksum != u.content_checksum)
        problems.push_back({u.source.string(), 0,
                            fmt::format("duplicate update id '{}' (also {}) with different content", u.id, other.source.string())});
      continue;
    }
    if (auto same_version = by_version.find(u.version); same_version != by_version.end()) {
      const Update& other = unique[same_version->second];
      problems.push_back({u.source.string(), 0,
                          fmt::format("duplicate version {}: update '{}' ({}) has it too", u.version, other.id,
                                      other.source.string())});
      continue;
    }
    by_id.emplace(u.id, unique.size());
    by_version.emplace(u.version, unique.size());
    unique.push_back(std::move(u));
  }
  std::sort(unique.begin(), unique.end(),
            [](const Update& a, const Update& b) { return compare_versions(a.version, b.version) < 0; });
  std::map<std::string, const Update*> sorted_by_id;
  for (const auto& u : unique) sorted_by_id.emplace(u.id, &u);

  for (const auto& u : unique) {
    for (const auto& required : u.required) {
      auto it = sorted_by_id.find(required);
      std::string manifest = (u.source / "update.toml").string();
      if (it == sorted_by_id.end() && invalid_ids.count(required)) continue;
      if (it == sorted_by_id.end())
        problems.push_back({manifest, 0, fmt::format("requires '{}', which is in none of the update directories", required)});
      else if (compare_versions(it->second->version, u.version) >= 0)
        problems.push_back({manifest, 0,
                            fmt::format("requires '{}' (version {}), which does not come before version {}: it can never be applied first",
                                        required, it->second->version, u.version)});
    }
  }
  if (!problems.empty()) throw CatalogError(std::move(problems));
  Catalog catalog;
  catalog.updates = std::move(unique);
  return catalog;
}

}  // namespace installer
