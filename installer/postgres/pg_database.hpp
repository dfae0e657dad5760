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
  std::string everything;                  ///< rows of kind, name, definition and table
  std::string some_tables;                 ///< the same for the tables of a second '?' (a name[]), exactly as named
  std::string some_tables_and_table_less;  ///< and every object of no table
  std::string counts;                      ///< one row of counters, the kinds' in postgres_object_counts()
};
PgSnapshotSql postgres_snapshot_sql(int server_version);

/// The schema as objects (db/snapshot.hpp), from pg_catalog.
Snapshot postgres_snapshot(Database& db, const PgSnapshotSql& sql, const ExcludedObjects& journal,
                           const SnapshotScope& scope);
/// The server's counters of each kind of object: they change by what the snapshot's
/// counts of that kind change by when statements create or drop objects (not always: a
/// dropped column keeps its slot), not equal to them.
std::map<std::string, long> postgres_object_counts(Database& db, const PgSnapshotSql& sql,
                                                   const ExcludedObjects& journal);

/// The backend's counters of catalog rows inserted, updated or deleted, by the kind of
/// object they describe: table (anything of a table), routine, schema, extension, policy,
/// event trigger (pg_stat_get_xact_*, no scan), and the transaction's start time, which
/// tells two transactions apart. The counters hold what this transaction changed plus
/// what earlier ones did that the backend has not yet reported to the statistics
/// collector (it does so between transactions only): only the difference of two
/// readings in one transaction is that transaction's.
CatalogCounters postgres_catalog_counters(Database& db);

}  // namespace installer
