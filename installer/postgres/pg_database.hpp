#pragma once
#include "installer/db/connection_url.hpp"
#include "installer/db/database.hpp"

#include <chrono>
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

/// The schema as objects (db/snapshot.hpp), from pg_catalog (pg_snapshot.cpp).
Snapshot postgres_snapshot(Database& db, const ExcludedObjects& journal, const SnapshotScope& scope);

}  // namespace installer
