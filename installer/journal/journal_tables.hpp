#pragma once
#include "installer/db/database.hpp"

#include <string>
#include <utility>
#include <vector>

namespace installer {

/// Where table `table` of the journal named `journal` lives, as {schema, table}. Where
/// schemas live inside a database (PostgreSQL), a schema of its own ("installer"."updates");
/// elsewhere (MariaDB/MySQL) tables in the application's own database ("installer_updates"),
/// because application users seldom have the privileges to create or use a second database.
std::pair<std::string, std::string> journal_table(const ServerDialect& dialect, const std::string& journal,
                                                  const std::string& table);
/// Every table of a journal, as the `table` of journal_table().
const std::vector<std::string>& journal_table_names();
/// Whether the journal has a schema of its own (else its tables carry its name as a prefix).
bool journal_has_own_schema(const ServerDialect& dialect);

/// The journal's own objects, which schema checks leave out.
ExcludedObjects journal_objects(const ServerDialect& dialect, const std::string& journal);

/// The schema's per-kind digests (older journals' format), without the journal named `journal`.
Fingerprint schema_fingerprint(Database& db, const std::string& journal);

/// The schema's snapshot, without the journal named `journal`.
Snapshot schema_snapshot(Database& db, const std::string& journal, const SnapshotScope& scope = SnapshotScope::all());

}  // namespace installer
