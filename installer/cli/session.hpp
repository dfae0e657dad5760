#pragma once
#include "installer/cli/settings.hpp"
#include "installer/db/database.hpp"
#include "installer/engine/context.hpp"
#include "installer/journal/sql_journal.hpp"

#include <atomic>
#include <memory>

namespace installer {

/// A connection with its journal and the engine's context around both.
struct Session {
  std::unique_ptr<Database> db;
  std::unique_ptr<SqlJournal> journal;
  std::unique_ptr<EngineContext> ctx;
};

/// Who runs this command (installer baseline, installer restore), for the journal.
std::string operator_identity();

/// With `wait`, retries an unreachable database up to the wait timeout (or a stop signal).
Session open_session(const Settings& s, bool wait = false, const std::atomic<int>* stop = nullptr);

/// The session around a connection opened already (cli/early_connection.hpp).
Session session_for(const Settings& s, std::unique_ptr<Database> db);

}  // namespace installer
