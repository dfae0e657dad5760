#pragma once
#include "installer/db/connection_url.hpp"
#include "installer/db/database.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace installer {

/// Opens a PostgreSQL session through libpq. Throws DbError (auth or unreachable)
/// whose message never contains the password.
std::unique_ptr<Database> open_postgres(const ConnectionSpec& spec, std::chrono::seconds connect_timeout);

/// The catalog query behind PostgreSQL fingerprints: one round trip, one row per kind
/// of object with its count and the md5 of its sorted descriptions. $1 is the schema
/// to leave out (the journal's).
std::string postgres_fingerprint_sql(int server_version);

/// The catalog queries behind PostgreSQL snapshots (pg_snapshot.cpp), built once per
/// session for its server's version. Each is one round trip; the first '?' is the schema
/// to leave out (the journal's).
struct PgSnapshotSql {
  std::string everything;   ///< rows of kind, name, definition and table
  std::string some_tables;  ///< the same for the tables of a second '?' (a text[]) and every table-less object
  std::string counts;       ///< rows of kind and count, counted as `everything` describes them
};
PgSnapshotSql postgres_snapshot_sql(int server_version);

/// The schema as objects (db/snapshot.hpp), from pg_catalog.
Snapshot postgres_snapshot(Database& db, const PgSnapshotSql& sql, const ExcludedObjects& journal,
                           const SnapshotScope& scope);
/// How many objects of each kind postgres_snapshot() would return for the whole schema,
/// every kind present (0 when there is none).
std::map<std::string, long> postgres_object_counts(Database& db, const PgSnapshotSql& sql,
                                                   const ExcludedObjects& journal);

}  // namespace installer
