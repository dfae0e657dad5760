#include "installer/adopt/foreign_history.hpp"

#include "installer/util/error.hpp"
#include "installer/util/version_order.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace installer {
namespace {

std::string text(const SqlValue& v) { return v.value_or(""); }
bool truthy(const SqlValue& v) { return v && (*v == "t" || *v == "true" || *v == "1"); }

struct Table {
  UpdatesFormat format;
  const char* schema;  ///< "": the database's current schema, where the tool writes by default
  const char* name;
};
constexpr Table kTables[] = {
    {UpdatesFormat::golang_migrate, "", "schema_migrations"},
    {UpdatesFormat::dbmate, "", "schema_migrations"},
    {UpdatesFormat::goose, "", "goose_db_version"},
    {UpdatesFormat::flyway, "", "flyway_schema_history"},
    {UpdatesFormat::sqitch, "sqitch", "changes"},
};

/// golang-migrate and dbmate share a table name; golang-migrate's has a dirty flag.
bool is_tools_table(Database& db, const Table& t) {
  if (!db.table_exists(t.schema, t.name)) return false;
  if (t.format == UpdatesFormat::golang_migrate) return db.column_exists(t.schema, t.name, "dirty");
  if (t.format == UpdatesFormat::dbmate) return !db.column_exists(t.schema, t.name, "dirty");
  return true;
}

std::string table_name(const Table& t) { return *t.schema ? std::string(t.schema) + "." + t.name : t.name; }

/// The applied keys as rows of the history say; `up_to`: every version up to it.
struct Marks {
  std::set<std::string> keys;
  std::optional<std::string> up_to;
};

Marks golang_migrate_marks(Database& db) {
  Marks marks;
  for (const auto& row : db.query("SELECT version, dirty FROM schema_migrations")) {
    if (truthy(row[1]))
      throw UserError(
          exit_data,
          fmt::format("golang-migrate's schema_migrations has version {} dirty: migration {} failed half-way "
                      "and golang-migrate does not know what it left. Put the schema right by hand, clear "
                      "the flag with `migrate force VERSION`, then adopt (docs/adopt.md)",
                      text(row[0]), text(row[0])));
    marks.up_to = text(row[0]);
  }
  return marks;
}

Marks goose_marks(Database& db) {
  std::map<std::string, bool> latest;  // version -> applied, the newest row's say
  for (const auto& row : db.query("SELECT version_id, is_applied FROM goose_db_version ORDER BY id"))
    latest[text(row[0])] = truthy(row[1]);
  Marks marks;
  for (const auto& [version, applied] : latest)
    if (applied && version != "0") marks.keys.insert(version);  // 0: the row goose makes for itself
  return marks;
}

Marks flyway_marks(Database& db) {
  Marks marks;
  for (const auto& row :
       db.query("SELECT installed_rank, version, type, success, script FROM flyway_schema_history ORDER BY "
                "installed_rank")) {
    std::string version = text(row[1]), type = text(row[2]);
    if (!truthy(row[3]))
      throw UserError(exit_data,
                      fmt::format("flyway_schema_history row {} ({}, version {}) has success = false: the migration "
                                  "failed and Flyway left it recorded. Put the schema right, run `flyway repair`, "
                                  "then adopt (docs/adopt.md)",
                                  text(row[0]), text(row[4]), version.empty() ? "none" : version));
    if (version.empty()) continue;  // repeatable migrations and schema creation
    if (type == "BASELINE") marks.up_to = version;
    else if (type == "UNDO_SQL") marks.keys.erase(version);
    else if (type != "SCHEMA") marks.keys.insert(version);
  }
  return marks;
}

Marks sqitch_marks(Database& db, const std::string& project) {
  Marks marks;
  for (const auto& row :
       db.query(fmt::format("SELECT {} FROM sqitch.changes WHERE project = ?", db.quote_identifier("change")),
                {project}))
    marks.keys.insert(text(row[0]));
  return marks;
}

Marks marks_of(Database& db, UpdatesFormat format, const Catalog& catalog) {
  switch (format) {
    case UpdatesFormat::golang_migrate: return golang_migrate_marks(db);
    case UpdatesFormat::goose: return goose_marks(db);
    case UpdatesFormat::flyway: return flyway_marks(db);
    case UpdatesFormat::sqitch:
      for (const auto& u : catalog.updates)
        if (u.origin.format == format) return sqitch_marks(db, u.origin.project);
      return {};
    case UpdatesFormat::dbmate: {
      Marks marks;
      for (const auto& row : db.query("SELECT version FROM schema_migrations")) marks.keys.insert(text(row[0]));
      return marks;
    }
    case UpdatesFormat::installer: break;
  }
  return {};
}

/// Keys compare as the tool compares them: dbmate's and Sqitch's as text, the others' as
/// versions (golang-migrate's 0001 is 1).
bool same_key(UpdatesFormat format, const std::string& a, const std::string& b) {
  if (format == UpdatesFormat::dbmate || format == UpdatesFormat::sqitch) return a == b;
  return compare_versions(a, b) == 0;
}

bool says_nothing(const Marks& marks) { return marks.keys.empty() && !marks.up_to; }

/// Whether the table records anything of this catalog's. Sqitch's registry holds every
/// project's changes (on MariaDB, of every database on the server): only this project's count.
bool records_something(Database& db, const Table& t, const Catalog& catalog) {
  try {
    return !says_nothing(marks_of(db, t.format, catalog));
  } catch (const UserError&) {
    return true;  // a dirty or failed row: it records that much
  }
}

}  // namespace

std::optional<ForeignHistory> read_foreign_history(Database& db, UpdatesFormat format, const Catalog& catalog) {
  auto t = std::find_if(std::begin(kTables), std::end(kTables), [&](const Table& t) { return t.format == format; });
  if (t == std::end(kTables) || !is_tools_table(db, *t)) return std::nullopt;
  Marks marks = marks_of(db, format, catalog);
  // An empty history says nothing about the objects the database has: the snapshots may.
  if (says_nothing(marks)) return std::nullopt;
  ForeignHistory history{format, table_name(*t), {}};
  std::vector<const Update*> of_format;
  for (const auto& u : catalog.updates)
    if (u.origin.format == format) of_format.push_back(&u);
  auto known = [&](const std::string& key) {
    return std::any_of(of_format.begin(), of_format.end(),
                       [&](const Update* u) { return same_key(format, u->origin.key, key); });
  };
  std::vector<std::string> missing;
  for (const auto& key : marks.keys)
    if (!known(key)) missing.push_back(key);
  if (marks.up_to && !known(*marks.up_to) && format == UpdatesFormat::golang_migrate) missing.push_back(*marks.up_to);
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    throw UserError(exit_data,
                    fmt::format("{}'s {} records {} as applied, which the update directories do not have: this "
                                "database is newer than these updates. Use the image its last migration came with",
                                to_string(format), history.table, list));
  }
  for (const Update* u : of_format) {
    bool marked = std::any_of(marks.keys.begin(), marks.keys.end(),
                              [&](const std::string& k) { return same_key(format, u->origin.key, k); });
    if (marked || (marks.up_to && compare_versions(u->origin.key, *marks.up_to) <= 0)) history.applied.push_back(u);
  }
  return history;
}

std::vector<std::string> foreign_history_tables(Database& db, const Catalog& catalog) {
  std::vector<std::string> found;
  for (const auto& t : kTables)
    if (is_tools_table(db, t) && records_something(db, t, catalog))
      found.push_back(fmt::format("{} ({}'s)", table_name(t), to_string(t.format)));
  return found;
}

}  // namespace installer
