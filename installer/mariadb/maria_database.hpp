#pragma once
#include "installer/db/connection_url.hpp"
#include "installer/db/database.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace installer {

/// Opens a MariaDB or MySQL session through mariadb-connector-c. Throws DbError (auth
/// or unreachable) whose message never contains the password.
std::unique_ptr<Database> open_mariadb(const ConnectionSpec& spec, std::chrono::seconds connect_timeout);

/// The information_schema query behind MariaDB/MySQL fingerprints: one round trip, one
/// row per kind of object with its count and the md5 of its sorted descriptions, for
/// the current database, leaving out `excluded_tables` tables: each branch that lists
/// tables has that many '?' for their names.
std::string mariadb_fingerprint_sql(size_t excluded_tables);

/// The schema as objects (db/snapshot.hpp), from information_schema (maria_snapshot.cpp):
/// one round trip, the current database, leaving out the journal's tables.
Snapshot mariadb_snapshot(Database& db, const ExcludedObjects& journal, const SnapshotScope& scope);

}  // namespace installer
