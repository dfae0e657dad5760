#include "installer/catalog/update_loader.hpp"

#include "installer/catalog/manifest.hpp"
#include "installer/catalog/script_lint.hpp"
#include "installer/catalog/script_text.hpp"
#include "installer/catalog/update_signing.hpp"
#include "installer/util/file_reading.hpp"
#include "installer/util/sha256.hpp"
#include "installer/util/version_order.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <optional>

namespace fs = boost::filesystem;

namespace installer {
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

}  // namespace

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
  return fmt::format(
      "update id '{}' has the character '{}' at position {}: ids are letters, digits and . _ - + @ : ~ , =", shown,
      show(*bad), bad - id.begin() + 1);
}

namespace {

/// The manifest's texts fit the journal's columns (MariaDB's TEXT holds 65535 bytes) and
/// hold no control characters, which would rewrite the operator's terminal when printed.
void check_manifest_texts(const Update& update, bool version_from_manifest, const std::string& manifest_path,
                          std::vector<Problem>& problems) {
  constexpr size_t kMaxText = 65535, kMaxVersion = 255;
  if (version_from_manifest && update.version.size() > kMaxVersion)
    problems.push_back(
        {manifest_path, 0,
         fmt::format("version is {} characters long; at most {} are allowed", update.version.size(), kMaxVersion)});
  if (update.description.size() > kMaxText)
    problems.push_back(
        {manifest_path, 0,
         fmt::format("description is {} bytes long; at most {} are allowed", update.description.size(), kMaxText)});
  auto control = std::find_if(update.description.begin(), update.description.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\n' && c != '\t') || u == 0x7F;
  });
  if (control != update.description.end())
    problems.push_back(
        {manifest_path, 0,
         fmt::format("description has the control character \\x{:02X}", static_cast<unsigned char>(*control))});
  size_t requires_length = 0;
  for (const auto& required : update.required) {
    requires_length += required.size() + 1;
    if (auto why = invalid_update_id(required)) problems.push_back({manifest_path, 0, "requires: " + *why});
  }
  if (requires_length > kMaxText)
    problems.push_back(
        {manifest_path, 0,
         fmt::format("requires lists {} bytes of ids; at most {} are allowed", requires_length, kMaxText)});
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
  // engine word ("" for generic) -> file name, per direction
  std::map<std::string, std::string> up, down;
};

std::string describe_variant(const std::string& engine) { return engine.empty() ? "generic" : engine; }

std::optional<ScriptFile> load_script(const UpdateFiles& tree, const std::string& name, std::vector<Problem>& problems,
                                      std::map<std::string, std::string>& checksums) {
  auto text = tree.read(name, problems);
  if (!text) return std::nullopt;
  auto script = checked_script(tree.path_of(name), std::move(*text), problems);
  if (script) checksums[name] = script->checksum;
  return script;
}

struct ManifestFile {
  fs::path path;
  std::string text;  ///< "" when there is none
  Manifest manifest;
};

ManifestFile read_manifest(const UpdateFiles& tree, std::vector<Problem>& problems) {
  ManifestFile file;
  file.path = tree.path_of("update.toml");
  if (auto why = tree.broken_link("update.toml")) problems.push_back({file.path.string(), 0, *why});
  if (tree.has("update.toml")) {
    if (auto text = tree.read("update.toml", problems)) {
      file.text = *text;
      file.manifest = parse_manifest(*text, file.path.string(), problems);
    }
  }
  return file;
}

/// Id and version from the manifest, or else the folder's name; checked either way.
void identify_update(Update& update, const UpdateFiles& tree, const ManifestFile& file,
                     std::vector<Problem>& problems) {
  const Manifest& manifest = file.manifest;
  std::string folder = tree.folder();
  const fs::path& dir = tree.root();
  std::string manifest_path = file.path.string();
  update.id = manifest.id.value_or(folder);
  update.version = manifest.version.value_or(folder);
  update.required = manifest.required;
  update.description = manifest.description;
  if (auto why = invalid_update_id(update.id))
    problems.push_back({manifest.id ? manifest_path : dir.string(), 0, *why});
  check_manifest_texts(update, manifest.version.has_value(), manifest_path, problems);
  if (!is_valid_version(update.version)) {
    problems.push_back(
        {manifest.version ? manifest_path : dir.string(), 0,
         manifest.version
             ? fmt::format("version '{}' is not a version (use numbers and letters separated by '.', '-' or '_')",
                           update.version)
             : fmt::format(
                   "no version: the folder name '{}' is not a version, so update.toml must set version = \"...\"",
                   folder)});
  }
}

using StepFileMap = std::map<std::string, StepFiles>;  ///< by step name

/// The step files of `dir` by step and variant; std::nullopt when it cannot be listed.
std::optional<StepFileMap> find_step_files(const UpdateFiles& tree, std::vector<Problem>& problems) {
  auto names = tree.top_level(problems);
  if (!names) return std::nullopt;
  StepFileMap files;
  auto is_sql = [](const std::string& name) {
    return name.size() > 4 && name[name.size() - 4] == '.' &&
           std::tolower(static_cast<unsigned char>(name[name.size() - 3])) == 's' &&
           std::tolower(static_cast<unsigned char>(name[name.size() - 2])) == 'q' &&
           std::tolower(static_cast<unsigned char>(name[name.size() - 1])) == 'l';
  };
  for (const auto& name : *names) {
    if (name.empty() || name[0] == '.' || name == "update.toml") continue;
    if (!is_sql(name)) continue;  // READMEs and the like are allowed beside the steps
    // Only for a problem: joining paths costs more than the rest of this loop.
    auto where = [&] { return tree.path_of(name).string(); };
    auto parsed = parse_step_file_name(name);
    if (!parsed) {
      problems.push_back(
          {where(), 0,
           "not a step file name: expected NAME.up.sql / NAME.down.sql, optionally "
           "NAME.postgres.up.sql (or .mariadb., .mysql.), NAME of up to 255 letters, digits, '_' and '-'"});
      continue;
    }
    const std::string& variant = parsed->variant;
    if (!variant.empty() &&
        std::find(std::begin(kEngineWords), std::end(kEngineWords), variant) == std::end(kEngineWords)) {
      problems.push_back(
          {where(), 0, fmt::format("unknown engine '{}' in the file name (known: postgres, mariadb, mysql)", variant)});
      continue;
    }
    auto& step = files[parsed->step];
    (parsed->up ? step.up : step.down)[variant] = name;
  }
  return files;
}

/// A generic up may be undone by engine-specific downs, if every engine that would use
/// this up finds one.
bool engine_downs_cover_generic_up(const StepFiles& step) {
  for (Engine e : {Engine::postgres, Engine::mariadb, Engine::mysql}) {
    auto prefs = preference_for(e);
    bool own_up = std::any_of(prefs.begin(), prefs.end() - 1,
                              [&](const std::string& v) { return step.up.count(v) > 0; });
    bool down = std::any_of(prefs.begin(), prefs.end(), [&](const std::string& v) { return step.down.count(v) > 0; });
    if (!own_up && !down) return false;
  }
  return true;
}

/// Pairing is checked for every variant, not only the engine in use, so a vendor
/// testing on PostgreSQL learns about a missing MariaDB down script too.
void check_pairing(const UpdateFiles& tree, const StepFileMap& files, std::vector<Problem>& problems) {
  for (const auto& [name, step] : files) {
    for (const auto& [variant, file] : step.up) {
      bool has_down = step.down.count(variant) || step.down.count("");
      if (!has_down && variant.empty()) has_down = engine_downs_cover_generic_up(step);
      if (!has_down)
        problems.push_back(
            {tree.path_of(file).string(), 0,
             fmt::format("step '{}' has no down script: add {}.{}down.sql (every step must be reversible)", name, name,
                         variant.empty() ? "" : variant + ".")});
    }
    for (const auto& [variant, file] : step.down) {
      // A generic down may serve engine-specific ups; a specific down needs its own up.
      bool has_up = variant.empty() ? !step.up.empty() : (step.up.count(variant) || step.up.count(""));
      if (!has_up)
        problems.push_back(
            {tree.path_of(file).string(), 0,
             fmt::format("down script without an up script for step '{}' ({})", name, describe_variant(variant))});
    }
  }
}

void check_manifest_steps(const ManifestFile& file, const StepFileMap& files, std::vector<Problem>& problems) {
  for (const auto& [name, options] : file.manifest.steps) {
    if (!files.count(name))
      problems.push_back(
          {file.path.string(), options.line,
           fmt::format(
               "[steps.{}] names no step of this update (steps: {})", name, files.empty() ? std::string("none") : [&] {
                 std::string list;
                 for (const auto& f : files) list += (list.empty() ? "" : ", ") + f.first;
                 return list;
               }())});
  }
}

/// The steps `engine` runs, their scripts read and checked (parse_scripts splits and lints
/// them); `checksums` gets every file read, so no file is read twice.
std::vector<Step> load_steps(const UpdateFiles& tree, const StepFileMap& files, const Manifest& manifest, Engine engine,
                             std::vector<Problem>& problems, std::map<std::string, std::string>& checksums) {
  auto pick = [&](const std::map<std::string, std::string>& variants) -> std::optional<std::string> {
    for (const auto& v : preference_for(engine))
      if (auto it = variants.find(v); it != variants.end()) return it->second;
    return std::nullopt;
  };
  std::vector<Step> steps;
  steps.reserve(files.size());
  for (const auto& [name, step_files] : files) {
    auto up_path = pick(step_files.up);
    if (!up_path) continue;  // a step for other engines only
    auto down_path = pick(step_files.down);
    if (!down_path) continue;  // reported by check_pairing
    Step step;
    step.name = name;
    if (auto it = manifest.steps.find(name); it != manifest.steps.end()) {
      step.transactional = it->second.transactional;
      step.allowed = it->second.allowed;
      step.manifest_line = it->second.line;
    }
    auto up = load_script(tree, *up_path, problems, checksums);
    auto down = load_script(tree, *down_path, problems, checksums);
    if (!up || !down) continue;
    step.up = std::move(*up);
    step.down = std::move(*down);
    steps.push_back(std::move(step));
  }
  return steps;
}

/// Every file of every engine, and the manifest: two copies of an update are the same
/// only if all of it is.
std::string content_checksum(const UpdateFiles& tree, const ManifestFile& file, const StepFileMap& files,
                             const std::map<std::string, std::string>& checksums) {
  std::string content = file.text;
  std::vector<Problem> already_reported;
  for (const auto& [name, step_files] : files)
    for (const auto* variants : {&step_files.up, &step_files.down})
      for (const auto& [variant, file_name] : *variants)
        if (auto known = checksums.find(file_name); known != checksums.end())
          content += file_name + "\n" + known->second + "\n";
        else if (auto text = tree.read(file_name, already_reported))
          content += file_name + "\n" + sha256_hex(*text) + "\n";
  return sha256_hex(content);
}

}  // namespace

std::optional<ScriptFile> checked_script(const fs::path& path, std::string text, std::vector<Problem>& problems) {
  if (auto problem = check_script_text(text, path.string())) {
    problems.push_back(std::move(*problem));
    return std::nullopt;
  }
  ScriptFile script;
  script.path = path;
  script.checksum = sha256_hex(text);
  script.text = std::move(text);
  return script;
}

bool split_script(ScriptFile& script, SqlDialect dialect, std::vector<Problem>& problems) {
  try {
    script.statements = split_sql(script.text, dialect);
    return true;
  } catch (const SqlSplitError& e) {
    problems.push_back({script.path.string(), e.line(), e.what()});
    return false;
  }
}

std::optional<ScriptFile> script_from_text(const fs::path& path, std::string text, SqlDialect dialect,
                                           std::vector<Problem>& problems) {
  auto script = checked_script(path, std::move(text), problems);
  if (script && !split_script(*script, dialect, problems)) return std::nullopt;
  return script;
}

void parse_update_scripts(Update& update, Engine engine, std::vector<Problem>& problems) {
  SqlDialect dialect = dialect_for(engine);
  for (Step& step : update.steps) {
    bool split = split_script(step.up, dialect, problems);
    split = split_script(step.down, dialect, problems) && split;
    if (!split) continue;
    // An up script of comments only is a valid step that runs nothing: real histories
    // keep such placeholders where one engine needs no change.
    lint_statements(step.up.statements, dialect, step.transactional, step.up.path.string(), step.name, problems);
    lint_statements(step.down.statements, dialect, step.transactional, step.down.path.string(), step.name, problems);
  }
  update.parsed = true;
}

LoadedUpdate load_update(const UpdateFiles& tree, Engine engine, const TrustedKeys& trusted, ScriptParsing parsing) {
  LoadedUpdate loaded;
  std::vector<Problem>& problems = loaded.problems;
  Update& update = loaded.update;
  update.source = tree.root();
  ManifestFile manifest = read_manifest(tree, problems);
  identify_update(update, tree, manifest, problems);
  std::optional<StepFileMap> files = find_step_files(tree, problems);
  if (!files) return loaded;
  check_pairing(tree, *files, problems);
  check_manifest_steps(manifest, *files, problems);
  std::map<std::string, std::string> checksums;
  update.steps = load_steps(tree, *files, manifest.manifest, engine, problems, checksums);
  if (files->empty())
    problems.push_back(
        {tree.root().string(), 0, "no steps: an update needs at least one NAME.up.sql with its NAME.down.sql"});
  std::string summary;
  for (const auto& step : update.steps) summary += step.name + "\n" + step.up.checksum + "\n";
  update.checksum = sha256_hex(summary);
  update.content_checksum = content_checksum(tree, manifest, *files, checksums);
  if (!trusted.empty()) update.signed_by = verified_signer(tree, update, trusted, problems);
  update.parsed = false;
  if (parsing == ScriptParsing::on_load) parse_update_scripts(update, engine, problems);
  loaded.valid = problems.empty();
  return loaded;
}

LoadedUpdate load_update(const fs::path& dir, Engine engine) {
  return load_update(DirectoryFiles(dir), engine, {}, ScriptParsing::on_load);
}

}  // namespace installer
