#pragma once
#include "installer/catalog/problems.hpp"

#include <boost/filesystem/path.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace installer {

/// How an update directory is laid out: the installer's own (a folder per update), or
/// another migration tool's folder, read as it is (docs/adopt.md).
enum class UpdatesFormat { installer, golang_migrate, dbmate, goose, flyway, sqitch };

/// "installer", "golang-migrate", "dbmate", "goose", "flyway", "sqitch".
const char* to_string(UpdatesFormat format);
std::optional<UpdatesFormat> parse_updates_format(const std::string& text);
/// The names parse_updates_format() accepts, for messages: "installer, golang-migrate, ...".
std::string updates_format_names();

/// --updates-format: one format for every directory, or one per directory.
struct FormatChoice {
  std::optional<UpdatesFormat> all;
  std::map<std::string, UpdatesFormat> by_directory;  ///< as the directory was given
  std::optional<UpdatesFormat> for_directory(const boost::filesystem::path& dir) const;
};

/// The format of `dir`'s files, from their names and markers; nothing when they fit
/// several tools' (a problem says which, and to name one).
std::optional<UpdatesFormat> detect_updates_format(const boost::filesystem::path& dir, std::vector<Problem>& problems);

}  // namespace installer
