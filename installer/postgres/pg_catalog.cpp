#include "installer/postgres/pg_catalog.hpp"

#include "installer/db/backoff.hpp"
#include "installer/db/db_error.hpp"
#include "installer/util/sha256.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace installer {

long long postgres_lock_id(const std::string& key) {
  std::string hex = sha256_hex("installer-lock:" + key).substr(0, 15);
  return std::stoll(hex, nullptr, 16);
}

std::string postgres_lock_holder(Database& db, long long id) {
  auto rows = db.query(
      "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local socket'), "
      "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), coalesce(a.state, '') "
      "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
      "WHERE l.locktype = 'advisory' AND l.granted "
      "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
      "AND l.classid = ?::bigint::oid AND l.objid = ?::bigint::oid AND l.objsubid = 1",
      {std::to_string(static_cast<unsigned long long>(id) >> 32), std::to_string(id & 0xffffffffLL)});
  if (rows.empty()) return {};
  const auto& r = rows[0];
  return fmt::format("server process {} ({}, from {}, connected {}, {})", r[0].value_or("?"), r[1].value_or(""),
                     r[2].value_or(""), r[3].value_or(""), r[4].value_or(""));
}

// Polls instead of blocking in pg_advisory_lock: a waiter blocked inside a statement
// holds a snapshot, and CREATE INDEX CONCURRENTLY in the lock holder waits for every such
// snapshot, which PostgreSQL then reports as a deadlock. Each try is a short transaction of
// its own, so the holder is never held up by the waiters.
bool postgres_acquire_lock(Database& db, long long id, std::chrono::milliseconds timeout) {
  std::string sql = "SELECT pg_try_advisory_lock(" + std::to_string(id) + ")";
  auto deadline = std::chrono::steady_clock::now() + timeout;
  Backoff backoff(std::chrono::milliseconds(20), std::chrono::milliseconds(500));
  while (true) {
    if (db.query(sql, {})[0][0] == std::string("t")) return true;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(backoff.next(), deadline - now));
  }
}

bool postgres_table_exists(Database& db, const std::string& schema, const std::string& table) {
  auto rows = db.query(
      "SELECT to_regclass(quote_ident(coalesce(nullif(?, ''), current_schema())) || '.' || quote_ident(?)) IS NOT NULL",
      {schema, table});
  return rows[0][0] == std::string("t");
}

bool postgres_column_exists(Database& db, const std::string& schema, const std::string& table,
                            const std::string& column) {
  return !db.query("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(quote_ident(coalesce(nullif(?, ''), "
                   "current_schema())) || '.' || quote_ident(?)) AND attname = ? AND attnum > 0 AND NOT attisdropped",
                   {schema, table, column})
              .empty();
}

std::vector<std::string> postgres_tables_in_schema(Database& db, const std::string& schema) {
  std::vector<std::string> names;
  for (const auto& row : db.query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                  "WHERE n.nspname = coalesce(nullif(?, ''), current_schema()) "
                                  "AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') "
                                  "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
                                  "AND d.objid = c.oid AND d.deptype IN ('a', 'i')) ORDER BY c.relname",
                                  {schema}))
    names.push_back(row[0].value_or(""));
  return names;
}

bool postgres_create_database_if_missing(Database& db, const std::string& name, const std::string& owner) {
  // Owned by the application's user, or it could not create its own tables there
  // (PostgreSQL 15 no longer lets everyone create in the public schema).
  std::string statement = "CREATE DATABASE " + db.quote_identifier(name) +
                          (owner.empty() ? "" : " OWNER " + db.quote_identifier(owner));
  // The loser of a race sees "already exists" (42P04) or, mid-creation, a duplicate key
  // in pg_database (23505): the database is there. Two creations copying template1 at
  // once fail with 55006: try again, bounded.
  Backoff backoff(std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
  for (int attempt = 1;; ++attempt) {
    if (!db.query("SELECT 1 FROM pg_database WHERE datname = ?", {name}).empty()) return false;
    try {
      db.execute(statement);
      return true;
    } catch (const DbError& e) {
      if (e.sqlstate() == "42P04" || e.sqlstate() == "23505") return false;
      if (e.sqlstate() != "55006" || attempt >= 40) throw;
      std::this_thread::sleep_for(backoff.next());
    }
  }
}

}  // namespace installer
