#pragma once
#include "installer/catalog/problems.hpp"
#include "installer/catalog/sql_splitter.hpp"
#include "installer/catalog/updates_format.hpp"

#include <boost/filesystem/path.hpp>

#include <optional>
#include <string>
#include <vector>

namespace installer {

/// One direction of another tool's migration.
struct ForeignScript {
  boost::filesystem::path path;  ///< the file it is in
  /// Its text; where the tool keeps both directions in one file, the other direction's
  /// lines and the tool's markers are blank lines, so that lines keep their numbers.
  std::string text;
  /// Set where the tool itself marks where statements end (goose's StatementBegin/End):
  /// these are sent as they are, instead of the installer's splitting.
  std::optional<std::vector<Statement>> statements;
};

/// One migration of another tool's folder, as that tool names and orders it.
struct ForeignMigration {
  std::string key;      ///< what the tool's history table calls it: "20230101120000", "1.1", a change name
  std::string name;     ///< the file's name without its direction: the update id, sanitized
  std::string version;  ///< the installer's version, in the tool's order
  std::string description;
  std::string project;  ///< Sqitch: the plan's %project, which its history rows carry
  ForeignScript up;
  std::optional<ForeignScript> down;  ///< none: the tool's folder has no down for it
  bool transactional = true;
};

/// Another tool's folder as it lies; problems name the file and line. `dialect` is the
/// engine's, for the tools that mark statements themselves.
std::vector<ForeignMigration> read_foreign_migrations(const boost::filesystem::path& dir, UpdatesFormat format,
                                                      SqlDialect dialect, std::vector<Problem>& problems);

}  // namespace installer
