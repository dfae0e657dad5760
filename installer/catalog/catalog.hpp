#pragma once
#include "installer/catalog/sql_splitter.hpp"
#include "installer/catalog/updates_format.hpp"
#include "installer/db/database.hpp"
#include "installer/signing/key_files.hpp"

#include <boost/filesystem/path.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace installer {

/// One script as read from disk for the engine in use.
struct ScriptFile {
  boost::filesystem::path path;
  std::string text;
  std::string checksum;  ///< SHA-256 of the bytes
  std::vector<Statement> statements;
};

struct Step {
  std::string name;  ///< file name without engine and direction, e.g. "001_create_users"
  ScriptFile up;
  ScriptFile down;
  /// false: the tool the update comes from has no down for it (docs/adopt.md); `down` is
  /// empty, its checksum "", and the update cannot be removed.
  bool has_down = true;
  bool transactional = true;
  std::map<std::string, std::string> allowed;  ///< release warnings accepted: code -> reason (update.toml)
  int manifest_line = 0;                       ///< where update.toml's [steps.NAME] starts, or 0
};

/// Where an update read from another tool's folder comes from, and what that tool's
/// history table calls it (catalog/foreign_migrations.hpp).
struct ForeignOrigin {
  UpdatesFormat format = UpdatesFormat::installer;
  std::string key;      ///< "20230101120000", "1.1", a Sqitch change's name
  std::string project;  ///< Sqitch's %project
};

struct Update {
  std::string id;
  std::string version;
  std::string description;
  std::vector<std::string> required;
  boost::filesystem::path source;  ///< the update's directory
  std::vector<Step> steps;         ///< in file-name order
  std::string checksum;            ///< over step names and up-script checksums: what integrity checks
  std::string content_checksum;    ///< over the manifest and every file: tells copies apart
  ForeignOrigin origin;            ///< format installer: one of the installer's own
  std::string signed_by;           ///< the trusted key that signed it, when keys are configured
  /// false: its scripts are read, checked and hashed but not yet split into statements or
  /// linted (ScriptParsing::when_run); parse_scripts does that before it may run.
  bool parsed = true;
  /// Whether every step has a down script: only then can --remove-update undo it.
  bool removable() const;
};

/// All updates found in the update directories, valid and in version order.
struct Catalog {
  std::vector<Update> updates;
  const Update* find(const std::string& id) const;
};

SqlDialect dialect_for(Engine engine);

/// When the update scripts are split into statements and linted. A start with a long
/// history has thousands of applied updates that will not run again: their files only
/// need hashing, to be compared with the journal.
enum class ScriptParsing {
  on_load,   ///< every update's, as it is read
  when_run,  ///< none: parse_scripts does it for the updates that will run
};

/// Scans the update directories for `engine`, each in its format (detected from its files
/// unless `formats` names it). Throws CatalogError listing every problem found; never
/// touches a database. With `trusted` keys, every update must carry a valid signature by
/// one of them (docs/update-format.md).
Catalog load_catalog(const std::vector<boost::filesystem::path>& directories, Engine engine,
                     const FormatChoice& formats = {}, const TrustedKeys& trusted = {},
                     ScriptParsing parsing = ScriptParsing::on_load);

/// Splits and lints the scripts of every update not yet parsed for which `will_run` holds
/// (on a few threads). Throws CatalogError listing every problem found; never touches a
/// database.
void parse_scripts(Catalog& catalog, Engine engine, const std::function<bool(const Update&)>& will_run);

}  // namespace installer
