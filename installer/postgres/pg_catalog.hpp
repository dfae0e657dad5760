#pragma once
#include "installer/db/database.hpp"

#include <chrono>
#include <string>
#include <vector>

// The PostgreSQL backend's catalog questions, asked through its own session.
namespace installer {

/// The advisory lock's id for a lock name: the same in every installer, as it must be.
long long postgres_lock_id(const std::string& key);
/// Who holds advisory lock `id` (the backend's key for a lock name), for a timeout's
/// message; "" when nobody does.
std::string postgres_lock_holder(Database& db, long long id);
/// Takes advisory lock `id` for the session, waiting at most `timeout`; false on timeout.
bool postgres_acquire_lock(Database& db, long long id, std::chrono::milliseconds timeout);
bool postgres_table_exists(Database& db, const std::string& schema, const std::string& table);
bool postgres_column_exists(Database& db, const std::string& schema, const std::string& table,
                            const std::string& column);
std::vector<std::string> postgres_tables_in_schema(Database& db, const std::string& schema);
bool postgres_create_database_if_missing(Database& db, const std::string& name, const std::string& owner);

}  // namespace installer
