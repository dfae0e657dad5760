#include "installer/journal/journal_tables.hpp"

namespace installer {

bool journal_has_own_schema(const ServerDialect& dialect) { return dialect.schemas_inside_database; }

std::pair<std::string, std::string> journal_table(const ServerDialect& dialect, const std::string& journal,
                                                  const std::string& table) {
  if (journal_has_own_schema(dialect)) return {journal, table};
  return {"", journal + "_" + table};
}

const std::vector<std::string>& journal_table_names() {
  static const std::vector<std::string> names{"updates",          "steps",   "journal_format", "installs", "undo",
                                              "schema_snapshots", "restores"};
  return names;
}

ExcludedObjects journal_objects(const ServerDialect& dialect, const std::string& journal) {
  ExcludedObjects out;
  out.name = journal;
  if (journal_has_own_schema(dialect)) {
    out.schema = journal;
    return out;
  }
  for (const auto& t : journal_table_names()) out.tables.push_back(journal_table(dialect, journal, t).second);
  return out;
}

Fingerprint schema_fingerprint(Database& db, const std::string& journal) {
  return db.fingerprint(journal_objects(db.dialect(), journal));
}

Snapshot schema_snapshot(Database& db, const std::string& journal, const SnapshotScope& scope) {
  return db.snapshot(journal_objects(db.dialect(), journal), scope);
}

}  // namespace installer
