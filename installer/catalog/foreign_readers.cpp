#include "installer/catalog/foreign_migrations.hpp"

#include "installer/catalog/foreign_files.hpp"

#include "installer/catalog/section_readers.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <algorithm>
#include <map>
#include <regex>

namespace fs = boost::filesystem;

namespace installer {
namespace {

bool is_sql(const fs::path& path) { return path.extension() == ".sql"; }

/// golang-migrate: VERSION_TITLE.up.sql and VERSION_TITLE.down.sql, VERSION an unsigned
/// integer, the history one row of the latest version.
std::vector<ForeignMigration> read_golang_migrate(const fs::path& dir, std::vector<Problem>& problems) {
  static const std::regex name(R"(^(\d+)_(.*)\.(up|down)\.sql$)");
  std::map<std::string, ForeignMigration> by_key;
  for (const auto& path : files_in(dir, problems)) {
    std::smatch m;
    std::string file = path.filename().string();
    if (!std::regex_match(file, m, name)) {
      if (is_sql(path)) problems.push_back({path.string(), 0, "not a golang-migrate file name: VERSION_TITLE.up.sql"});
      continue;
    }
    std::string key = as_integer(m[1]);
    auto script = read_foreign_script(path, problems);
    if (!script) continue;
    ForeignMigration& migration = by_key[key];
    std::string stem = m[1].str() + "_" + m[2].str();
    if (!migration.name.empty() && migration.name != stem)
      problems.push_back(
          {path.string(), 0,
           fmt::format("version {} is also {}: golang-migrate needs one migration per version", key, migration.name)});
    migration.key = key;
    migration.name = stem;
    migration.version = key;
    migration.description = m[2];
    (m[3] == "up" ? migration.up : migration.down.emplace()) = std::move(*script);
  }
  std::vector<ForeignMigration> out;
  for (auto& [key, migration] : by_key) {
    if (migration.up.path.empty()) {
      problems.push_back({migration.down->path.string(), 0, "a down migration without its up migration"});
      continue;
    }
    out.push_back(std::move(migration));
  }
  return out;
}

/// dbmate and goose: NUMBER_NAME.sql holding both directions.
std::vector<ForeignMigration> read_sectioned(const fs::path& dir, UpdatesFormat format, SqlDialect dialect,
                                             std::vector<Problem>& problems) {
  static const std::regex dbmate_name(R"(^(\d+)(?:_(.*))?\.sql$)");
  static const std::regex goose_name(R"(^(\d+)_(.*)\.(sql|go)$)");
  bool goose = format == UpdatesFormat::goose;
  std::vector<ForeignMigration> out;
  for (const auto& path : files_in(dir, problems)) {
    std::smatch m;
    std::string file = path.filename().string();
    if (!std::regex_match(file, m, goose ? goose_name : dbmate_name)) {
      if (is_sql(path))
        problems.push_back(
            {path.string(), 0,
             goose ? "not a goose file name: VERSION_NAME.sql" : "not a dbmate file name: VERSION_NAME.sql"});
      continue;
    }
    if (goose && m[3] == "go") {
      problems.push_back({path.string(), 0, "a goose migration in Go: the installer runs SQL migrations only"});
      continue;
    }
    auto text = read_script_text(path, problems);
    if (!text) continue;
    ForeignMigration migration = goose ? read_goose_file(path, *text, dialect, problems)
                                       : read_dbmate_file(path, *text, problems);
    // dbmate keeps the version as the text it is; goose as an integer.
    migration.key = goose ? as_integer(m[1]) : m[1].str();
    migration.name = path.stem().string();
    migration.version = m[1];
    migration.description = m[2];
    out.push_back(std::move(migration));
  }
  return out;
}

}  // namespace

std::vector<ForeignMigration> read_foreign_migrations(const fs::path& dir, UpdatesFormat format, SqlDialect dialect,
                                                      std::vector<Problem>& problems) {
  switch (format) {
    case UpdatesFormat::golang_migrate: return read_golang_migrate(dir, problems);
    case UpdatesFormat::dbmate:
    case UpdatesFormat::goose: return read_sectioned(dir, format, dialect, problems);
    case UpdatesFormat::flyway: return read_flyway(dir, problems);
    case UpdatesFormat::sqitch: return read_sqitch(dir, problems);
    case UpdatesFormat::installer: break;
  }
  return {};
}

}  // namespace installer
