#pragma once
#include "installer/db/server_dialect.hpp"
#include "installer/journal/journal.hpp"

#include <functional>
#include <string>
#include <vector>

namespace installer {

/// A journal table's name as statements spell it (quoted, with its schema).
using TableName = std::function<std::string(const char*)>;

/// The CREATE and ALTER statements that bring a journal of format `from` (0: none yet)
/// to format `to`, in order; each may commit on its own, and each is safe to run again
/// after an installer stopped between them. `quoted_schema` is the journal's schema where
/// it has one of its own. (An older `to` is what tests make the journals of older
/// installers with.)
std::vector<std::string> journal_ddl(const ServerDialect& dialect, int from, const std::string& quoted_schema,
                                     const TableName& table, int to = kJournalFormat);

}  // namespace installer
