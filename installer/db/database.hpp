#pragma once
#include "installer/db/capabilities.hpp"
#include "installer/db/db_error.hpp"
#include "installer/db/fingerprint.hpp"
#include "installer/db/server_dialect.hpp"
#include "installer/db/snapshot.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace installer {

class StatementUndo;

enum class Engine { postgres, mariadb, mysql };

/// "postgres", "mariadb", "mysql": the word used in step file names and messages.
const char* engine_name(Engine engine);

using SqlValue = std::optional<std::string>;
using SqlRow = std::vector<SqlValue>;

/// Database::catalog_counters(): rows by kind of object, and the transaction read in.
struct CatalogCounters {
  std::string transaction;
  std::map<std::string, long> rows;
};

/// The narrow boundary between the engine and a database server. One object is one
/// session: the lock, the transaction and the statements all share it. The engine only
/// ever talks to the server through this, so a fake can stand in for unit tests.
class Database {
 public:
  virtual ~Database() = default;

  virtual Engine engine() const = 0;
  /// How the installer's own statements are spelled for this server.
  virtual const ServerDialect& dialect() const = 0;

  /// What this server's transactions can hold (db/capabilities.hpp).
  virtual Capabilities capabilities() const = 0;

  virtual void begin() = 0;
  /// reset_session_settings() and begin(), in one round trip where the backend can.
  virtual void begin_with_reset_settings() {
    reset_session_settings();
    begin();
  }
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

  /// Runs a script's statements in order, calling done(i) as statement i (0-based)
  /// completes, and stops at the first failure with BatchError. Inside a transaction a
  /// backend may send them all in one round trip: nothing is durable before the commit
  /// anyway. Outside one each statement completes before the next is sent.
  /// With stop, they are an update's statements: a stop may cancel them, and once *stop
  /// is non-zero no further statement is started (where the backend can still hold it
  /// back) or the one started is cancelled. Returns how many completed.
  virtual size_t execute_batch(const std::vector<std::string_view>& statements, const std::atomic<int>* stop,
                               const std::function<void(size_t)>& done) {
    for (size_t i = 0; i < statements.size(); ++i) {
      if (stop && stop->load() != 0) return i;
      try {
        if (stop) execute_cancellable(std::string(statements[i]));
        else execute(std::string(statements[i]));
      } catch (const DbError& e) {
        throw BatchError(i, e);
      }
      if (done) done(i);
    }
    return statements.size();
  }

  /// After a script has run: whether the session is still one the journal's writes can
  /// use (its user and role, read-write, autocommit, the current database), described for
  /// the operator, or nothing. What a script changed is put back first, so the revert that
  /// follows a problem writes its journal as the installer's user, into the right place;
  /// settings that only shape the script's own SQL (search_path, sql_mode, timeouts)
  /// return to the connection's, so each step starts from them.
  virtual std::optional<std::string> check_session_after_script() { return std::nullopt; }

  /// Runs one of the installer's own statements with '?' placeholders bound to params
  /// (nullopt binds NULL) and returns every row as text.
  virtual std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;

  /// A write of the installer's own whose result nobody reads (a step's progress or
  /// state). A backend may hold it back and send it ahead of the next statement, in that
  /// statement's round trip: it still reaches the server before anything sent after it,
  /// and a crash in between loses no more than a crash just before the write would.
  virtual void write_soon(const std::string& sql, const std::vector<SqlValue>& params) { query(sql, params); }

  /// query(), then commit(), in one round trip where the backend can; returns the
  /// query's rows. Fails as either would: a failed query leaves the transaction open
  /// for rollback(); a connection lost on the way makes the commit in doubt.
  virtual std::vector<SqlRow> query_and_commit(const std::string& sql, const std::vector<SqlValue>& params) {
    auto rows = query(sql, params);
    commit();
    return rows;
  }

  /// Takes the session-level migration lock named by key, waiting at most timeout.
  /// Returns false on timeout.
  virtual bool acquire_lock(const std::string& key, std::chrono::milliseconds timeout) = 0;
  virtual void release_lock(const std::string& key) = 0;
  /// Who holds the lock, for the timeout message ("" when the server cannot tell).
  virtual std::string describe_lock_holder(const std::string& key) = 0;

  /// Describes the schema from the catalog, leaving out `journal` (the journal's own
  /// objects, which the journal names: journal/journal_tables.hpp).
  /// The per-kind digests of journals written before snapshots (format 1 of a
  /// fingerprint): what a schema recorded that way is compared with.
  virtual Fingerprint fingerprint(const ExcludedObjects& journal) = 0;

  /// The schema as a list of objects (db/snapshot.hpp), leaving out `journal`; with a
  /// scope of some tables, only what those tables hold and every object that belongs to
  /// no table (schemas, extensions, types, routines, events), for an incremental re-read.
  virtual Snapshot snapshot(const ExcludedObjects& journal, const SnapshotScope& scope) = 0;

  /// The server's counters of each kind of object, read without describing any: between
  /// two moments they change as the snapshot's counts of that kind do when statements
  /// create or drop objects, which tells an incremental snapshot that it missed
  /// something (engine/schema_tracker). Empty where nothing but the statements themselves
  /// can change the schema (MariaDB: triggers and stored functions cannot).
  virtual std::map<std::string, long> object_counts(const ExcludedObjects& journal) {
    (void)journal;
    return {};
  }

  /// Counters of catalog rows inserted, updated or deleted by this session, by the kind
  /// of object they describe ("table" for anything of a table, "routine", "schema",
  /// "extension", ...), read without scanning the catalogs, and the transaction they were
  /// read in. Two readings in one transaction differ by what that transaction changed:
  /// what tells an incremental snapshot taken inside the update's transaction that a
  /// statement changed a kind of object none of the statements names. nullopt outside a
  /// transaction and where the server keeps no such counters.
  virtual std::optional<CatalogCounters> catalog_counters() { return std::nullopt; }

  /// Whether a table exists; an empty schema means the current database.
  virtual bool table_exists(const std::string& schema, const std::string& table) = 0;
  /// Whether the table has the column; an empty schema means the current one (MariaDB:
  /// the current database).
  virtual bool column_exists(const std::string& schema, const std::string& table, const std::string& column) = 0;
  /// The tables, views and sequences of a schema, by name, leaving out those the server
  /// made for another object (a serial column's sequence); an empty schema means the
  /// current one.
  virtual std::vector<std::string> tables_in_schema(const std::string& schema) = 0;

  std::string quote_identifier(const std::string& name) const { return dialect().quote_identifier(name); }

  /// Creates database `name` unless it exists, owned by `owner` where the server has
  /// owners and one is given; returns whether this call created it. Several replicas
  /// starting together may race here: one that finds it made by another meanwhile is fine.
  virtual bool create_database_if_missing(const std::string& name, const std::string& owner) = 0;

  /// Whether the server has a database `name` (MariaDB: a schema).
  virtual bool database_exists(const std::string& name) = 0;

  /// Drops database `name` if it exists, ending other sessions on it where the server can
  /// (installer verify's scratch databases).
  virtual void drop_database(const std::string& name) = 0;

  /// What the exact undo of this engine's statements needs (db/undo.hpp); null where the
  /// backend has none, and every partly applied step is then reverted by its down script.
  virtual StatementUndo* statement_undo() { return nullptr; }
};

}  // namespace installer
