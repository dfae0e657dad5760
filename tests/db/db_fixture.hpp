#pragma once
// Shared fixtures for the tests that run against real database servers. The same test
// binary runs against PostgreSQL (--engine=postgres, INSTALLER_TEST_PG_URL) or MariaDB
// (--engine=mariadb, INSTALLER_TEST_MARIADB_URL); everything engine-specific a test needs
// goes through the helpers here, so a test reads the same on both engines.
#include "installer/catalog/catalog.hpp"
#include "installer/db/connection_url.hpp"
#include "installer/db/database.hpp"
#include "installer/engine/context.hpp"
#include "installer/journal/journal_tables.hpp"
#include "installer/journal/schema_record.hpp"
#include "installer/journal/sql_journal.hpp"
#include "installer/util/exit_codes.hpp"

#include <doctest/doctest.h>
#include <boost/filesystem.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace installer::testing {

/// The server under test, from the URL named by --engine (set by scripts/test.sh).
struct ServerUnderTest {
  Engine engine;
  std::string admin_url;  ///< MariaDB: may name no database; the fixture adds one per test
};
const ServerUnderTest& server();
void set_server(ServerUnderTest s);

/// Doctest suites of the tests that only make sense on one engine; main() leaves out the
/// other engine's suite, so the summary counts only what really ran.
inline constexpr const char* kPostgresOnly = "postgres-only";
inline constexpr const char* kMariadbOnly = "mariadb-only";

/// A URL for administrative sessions on the server under test (creating and dropping
/// databases): the admin URL, pointed at MariaDB's `mysql` database when it names none.
std::string admin_session_url_for_tests();

inline Engine engine() { return server().engine; }
inline bool on_postgres() { return engine() == Engine::postgres; }
/// "postgres" or "mariadb": the word in engine-specific step file names.
inline std::string engine_word() { return on_postgres() ? "postgres" : "mariadb"; }
/// The URL scheme of the engine under test.
inline std::string url_scheme() { return on_postgres() ? "postgresql" : "mariadb"; }
/// Picks the PostgreSQL or the MariaDB flavour of a value.
template <typename T>
T by_engine(T postgres, T mariadb) {
  return on_postgres() ? std::move(postgres) : std::move(mariadb);
}
inline std::string by_engine(const char* postgres, const char* mariadb) { return on_postgres() ? postgres : mariadb; }
/// The SQLSTATE as the installer journals and prints it: PostgreSQL "42P01",
/// MariaDB "error-code/SQLSTATE" ("1146/42S02").
inline std::string sqlstate(const char* postgres, const char* mariadb) { return by_engine(postgres, mariadb); }

/// The SQL name of a journal table (journal "installer"): `installer.updates` on
/// PostgreSQL (a schema of its own), `installer_updates` in the application's database
/// on MariaDB. Spelled out here, independently of the product's journal_table().
std::string journal(const std::string& table);
/// The bare table names of the journal on this engine (updates, steps, journal_format, installs, undo,
/// schema_snapshots).
std::vector<std::string> journal_tables_on_engine();

/// Whether a value from a query is true: PostgreSQL says "t", MariaDB "1".
bool truthy(const SqlValue& v);

/// Opens a session on url with the backend of the URL's engine, as connect_database does.
std::unique_ptr<Database> open_database(const std::string& url,
                                        std::chrono::seconds timeout = std::chrono::seconds(10));

/// A database created for one test and dropped after it, so tests cannot see each
/// other's schema or journal.
class ScratchDatabase {
 public:
  ScratchDatabase();
  ~ScratchDatabase();
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  std::unique_ptr<Database> connect() const;
  /// Runs SQL on a fresh session (for setting up and inspecting).
  std::vector<SqlRow> query(const std::string& sql) const;
  void execute(const std::string& sql) const;
  /// The first column of the first row, as text ("" for NULL); fails without a row.
  std::string scalar(const std::string& sql) const;
  long count(const std::string& sql) const;

  // Engine-neutral inspection of the application's schema (PostgreSQL: the current
  // schema; MariaDB: the current database), through information_schema. PostgreSQL has
  // no information_schema view of indexes, so index_exists and objects() read pg_indexes.
  bool table_exists(const std::string& table) const;  ///< tables, views and (MariaDB) sequences
  bool column_exists(const std::string& table, const std::string& column) const;
  /// "YES"/"NO" as information_schema.columns.is_nullable says; "" when there is no such column.
  std::string column_nullable(const std::string& table, const std::string& column) const;
  bool index_exists(const std::string& table, const std::string& index) const;
  bool constraint_exists(const std::string& table, const std::string& constraint) const;
  bool routine_exists(const std::string& routine) const;
  bool trigger_exists(const std::string& trigger) const;
  /// Every table, view, sequence, column, index, constraint, routine and trigger of the
  /// application's schema (the journal's tables left out), one line each: an inventory
  /// independent of the product's fingerprint, whose differences read as names.
  std::set<std::string> objects() const;

  // The journal.
  bool journal_exists() const;  ///< all its tables, under the documented names
  /// Attempts of the journal, optionally only those in `state` and/or of `update_id`.
  long journal_attempts(const std::string& state = "", const std::string& update_id = "") const;
  /// The latest attempt of update_id: its attempt_id, or 0 when there is none.
  long long latest_attempt(const std::string& update_id) const;
  /// One column of an attempt's row in the updates table, as text.
  std::string attempt_field(long long attempt_id, const std::string& column) const;

 private:
  std::string name_;
  std::string url_;
};

/// A journaled step, as read back from the steps table.
struct JournalStep {
  int position = 0;
  std::string name;
  std::string state;
  int statements_total = 0;
  int statements_done = 0;
  int down_statements_done = 0;
  bool transactional = false;
  std::string revert_method;  ///< "" (the whole down script), "exact" or "tolerant-down"
  int undo_done = 0;
};
std::vector<JournalStep> journal_steps(const ScratchDatabase& db, long long attempt_id);

/// The engine wired to one session, as the CLI wires it.
struct EngineSession {
  explicit EngineSession(const ScratchDatabase& scratch);
  Fingerprint fingerprint() { return schema_fingerprint(*db, "installer"); }
  Snapshot snapshot() { return schema_snapshot(*db, "installer"); }
  /// What the journal's fingerprint columns hold for the schema as it is now.
  std::string snapshot_record() { return snapshot_reference(snapshot().digest()); }
  std::unique_ptr<Database> db;
  std::unique_ptr<SqlJournal> journal;
  std::unique_ptr<EngineContext> ctx;
};

/// A temporary directory tree of update files, removed at the end.
class UpdateTree {
 public:
  UpdateTree();
  ~UpdateTree();
  /// Writes root/relative with the given text, creating directories.
  void write(const std::string& relative, const std::string& text);
  void remove(const std::string& relative);
  const boost::filesystem::path& root() const { return root_; }
  Catalog load(Engine engine) const;
  /// The catalog for the engine under test.
  Catalog load() const { return load(testing::engine()); }

 private:
  boost::filesystem::path root_;
};

/// A finished run of the installer binary.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string all() const { return out + err; }
};

/// Runs the built installer with args and extra environment; kills it after timeout.
RunResult run_installer(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                        std::chrono::seconds timeout = std::chrono::seconds(60));

/// A running installer process, for tests about concurrency.
class Background {
 public:
  Background(const std::vector<std::string>& args, const std::map<std::string, std::string>& env);
  ~Background();
  /// Waits (bounded) for the exit and returns the result.
  RunResult wait(std::chrono::seconds timeout = std::chrono::seconds(60));
  int pid() const { return pid_; }
  /// What it has written to stderr so far.
  std::string err_so_far() const;

 private:
  int pid_ = -1;
  std::string out_path_, err_path_;
  bool reaped_ = false;
};

/// Polls condition every 20 ms until it holds or timeout passes; returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

std::string source_dir();

/// Runs the migrator as `installer migrate` would; the exit code it would end with, and
/// the operator's message in `message`.
ExitCode migrate_code(EngineSession& s, const Catalog& catalog, std::string* message = nullptr);

/// The lines of a message that follow `heading` and are indented by four spaces (the
/// installer's bullet lists), without the indentation.
std::vector<std::string> bullet_lines_after(const std::string& message, const std::string& heading);

/// The whole content of the file at `path` ("" when it cannot be read).
std::string bytes_of(const boost::filesystem::path& path);

/// The environment of a run against `db` with the updates in `tree`.
inline std::map<std::string, std::string> env_for(const ScratchDatabase& db, const UpdateTree& tree) {
  return {{"INSTALLER_DB_URL", db.url()}, {"INSTALLER_UPDATES", tree.root().string()}};
}

}  // namespace installer::testing

// Failed comparisons of inventories print the names, not "{?}".
namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& items) {
    std::string out = "{";
    for (const auto& i : items) out += (out.size() > 1 ? ", \"" : "\"") + i + "\"";
    return (out + "}").c_str();
  }
};
template <>
struct StringMaker<std::set<std::string>> {
  static String convert(const std::set<std::string>& items) {
    return StringMaker<std::vector<std::string>>::convert({items.begin(), items.end()});
  }
};
}  // namespace doctest
