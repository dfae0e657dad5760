#pragma once
#include "installer/db/undo.hpp"

#include <memory>

namespace installer {

/// Exact undo on PostgreSQL, for the statements of steps with transaction = false (the
/// others are undone by rolling back): indexes created or dropped, concurrently or not,
/// and tables, views and sequences created; through `db`'s own session.
std::unique_ptr<StatementUndo> make_postgres_undo(Database& db);

}  // namespace installer
