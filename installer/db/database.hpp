#pragma once
#include "installer/db/fingerprint.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace installer {

enum class Engine { postgres, mariadb, mysql };

/// "postgres", "mariadb", "mysql": the word used in step file names and messages.
const char* engine_name(Engine engine);

/// Where journal table `table` of the journal named `journal` lives, as {schema, table}.
/// PostgreSQL: a schema of its own ("installer"."updates"). MariaDB/MySQL: tables in
/// the application's own database ("installer_updates"), because application users
/// seldom have the privileges to create or use a second database.
std::pair<std::string, std::string> journal_table(Engine engine, const std::string& journal, const std::string& table);

using SqlValue = std::optional<std::string>;
using SqlRow = std::vector<SqlValue>;

/// The narrow boundary between the engine and a database server. One object is one
/// session: the lock, the transaction and the statements all share it. The engine only
/// ever talks to the server through this, so a fake can stand in for unit tests.
class Database {
 public:
  virtual ~Database() = default;

  virtual Engine engine() const = 0;

  /// True when DDL takes part in transactions (PostgreSQL). When false, every
  /// statement of a script commits on its own and progress is journaled per statement.
  virtual bool transactional_ddl() const = 0;

  virtual void begin() = 0;
  /// Throws DbError{in_doubt} when the connection broke while the commit was in flight.
  virtual void commit() = 0;
  /// Never throws for a broken connection: the server rolls back on disconnect anyway.
  virtual void rollback() noexcept = 0;
  virtual bool in_transaction() const = 0;

  /// Returns session settings (search_path, timeouts, ...) to their connection-time
  /// values, so a SET in one update's script cannot change how the next one runs.
  /// Keeps the migration lock.
  virtual void reset_session_settings() = 0;

  /// Asks the server to cancel the statement running on this session, if it is one run
  /// by execute_cancellable(). The only method that may be called from another thread
  /// (the one that took a stop signal).
  virtual void cancel_current_statement() noexcept = 0;

  /// Has the server end this session from a second one (tests: a killed session).
  virtual void terminate_session() noexcept = 0;

  /// Runs one statement of a step script. Throws DbError.
  virtual void execute(const std::string& statement) = 0;
  /// The same for a statement a stop may cancel (an update's, not a revert's): only such
  /// a statement is ever cancelled by cancel_current_statement().
  virtual void execute_cancellable(const std::string& statement) { execute(statement); }

  /// Runs one of the installer's own statements with '?' placeholders bound to params
  /// (nullopt binds NULL) and returns every row as text.
  virtual std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;

  /// Takes the session-level migration lock named by key, waiting at most timeout.
  /// Returns false on timeout.
  virtual bool acquire_lock(const std::string& key, std::chrono::milliseconds timeout) = 0;
  virtual void release_lock(const std::string& key) = 0;
  /// Who holds the lock, for the timeout message ("" when the server cannot tell).
  virtual std::string describe_lock_holder(const std::string& key) = 0;

  /// Describes the schema from the catalog, leaving out the journal named `journal`
  /// (PostgreSQL: the schema of that name; MariaDB/MySQL: its tables in the current
  /// database, see journal_table()).
  virtual Fingerprint fingerprint(const std::string& journal) = 0;

  /// Whether a table exists; an empty schema means the current database.
  virtual bool table_exists(const std::string& schema, const std::string& table) = 0;

  /// The SQL dialect bits the journal needs.
  virtual std::string quote_identifier(const std::string& name) const = 0;
};

}  // namespace installer
