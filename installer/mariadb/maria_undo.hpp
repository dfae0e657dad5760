#pragma once
#include "installer/db/undo.hpp"

#include <memory>

namespace installer {

/// Exact undo on MariaDB/MySQL, through `db`'s own session: SHOW CREATE before a statement
/// drops or changes an object, information_schema for whether a created one was there.
std::unique_ptr<StatementUndo> make_mariadb_undo(Database& db);

}  // namespace installer
