#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/catalog/problems.hpp"
#include "installer/catalog/update_files.hpp"
#include "installer/signing/key_files.hpp"

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

/// The update in `tree`; with trusted keys, it must carry a valid signature by one of them
/// (update.sig), and Update::signed_by names the key.
LoadedUpdate load_update(const UpdateFiles& tree, Engine engine, const TrustedKeys& trusted, ScriptParsing parsing);
LoadedUpdate load_update(const boost::filesystem::path& dir, Engine engine);

/// A script's text checked (no NUL, UTF-8) and hashed; problems name `path`.
std::optional<ScriptFile> checked_script(const boost::filesystem::path& path, std::string text,
                                         std::vector<Problem>& problems);

/// A script's text checked (no NUL, UTF-8), hashed and split; problems name `path`.
std::optional<ScriptFile> script_from_text(const boost::filesystem::path& path, std::string text, SqlDialect dialect,
                                           std::vector<Problem>& problems);

/// Splits every step's scripts and lints them; the update is then `parsed`, its problems
/// in `problems`.
void parse_update_scripts(Update& update, Engine engine, std::vector<Problem>& problems);

/// Why `id` cannot be an update's id (empty, too long, a character that means something
/// to a shell or a terminal), or nothing.
std::optional<std::string> invalid_update_id(const std::string& id);

}  // namespace installer
