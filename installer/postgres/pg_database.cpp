#include "installer/postgres/pg_database.hpp"

#include "installer/db/db_error.hpp"
#include "installer/db/sql_session.hpp"
#include "installer/db/sql_text.hpp"
#include "installer/postgres/pg_catalog.hpp"
#include "installer/postgres/pg_connection.hpp"
#include "installer/postgres/pg_dialect.hpp"
#include "installer/postgres/pg_libpq.hpp"
#include "installer/postgres/pg_undo.hpp"
#include "installer/util/log.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace installer {
namespace {

/// How many statements go out in one round trip at most: the server's replies to a
/// pipeline wait in the socket until the last statement is sent, so an unbounded one
/// could fill both directions' buffers on a script of many thousands of statements.
constexpr size_t kPipelineDepth = 256;
constexpr const char* kKeepIdleTransaction = "SET LOCAL idle_in_transaction_session_timeout = 0";

class PgDatabase : public SqlSession {
 public:
  PgDatabase(const ConnectionSpec& spec, std::chrono::seconds connect_timeout)
      : conninfo_(conninfo(spec, connect_timeout)) {
    conn_ = libpq().PQconnectdb(conninfo_.c_str());
    if (!conn_) throw DbError(DbFailure::unreachable, "out of memory for a PostgreSQL connection");
    if (libpq().PQstatus(conn_) != CONNECTION_OK) {
      std::string message = tidy(libpq().PQerrorMessage(conn_));
      libpq().PQfinish(conn_);
      conn_ = nullptr;
      throw DbError(is_auth_failure(message) ? DbFailure::auth : DbFailure::unreachable, message);
    }
    libpq().PQsetNoticeProcessor(conn_, notice_to_log, nullptr);
    // Made here, in the session's thread: libpq().PQcancel() may then use it from the thread
    // that took a stop signal.
    cancel_ = libpq().PQgetCancel(conn_);
    fingerprint_sql_ = postgres_fingerprint_sql(libpq().PQserverVersion(conn_));
  }

  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;

  ~PgDatabase() override {
    if (cancel_) libpq().PQfreeCancel(cancel_);
    if (conn_) libpq().PQfinish(conn_);
  }

  Engine engine() const override { return Engine::postgres; }
  Capabilities capabilities() const override { return Capabilities::transactional_ddl(); }
  const ServerDialect& dialect() const override { return postgres_dialect(); }

  void send_cancel() noexcept override {
    if (!cancel_) return;
    char error[256];
    // Nothing to cancel, or the session is gone: either way there is nothing to wait for.
    (void)libpq().PQcancel(cancel_, error, sizeof error);
  }

  void terminate_session() noexcept override {
    PGconn* killer = libpq().PQconnectdb(conninfo_.c_str());
    if (libpq().PQstatus(killer) == CONNECTION_OK)
      libpq().PQclear(
          libpq().PQexec(killer,
                         ("SELECT pg_terminate_backend(" + std::to_string(libpq().PQbackendPID(conn_)) + ")").c_str()));
    libpq().PQfinish(killer);
  }

  // RESET ALL, not DISCARD ALL: the latter would also release the advisory lock.
  void reset_session_settings() override {
    run("RESET ALL");
    timeouts_may_be_set_ = false;
  }

  // Sent with the first statements of the transaction, in their round trip (see
  // run_pipeline()). RESET ALL commits on its own first: a transaction takes its
  // isolation level and read-only mode from the settings in force when it starts.
  void begin_with_reset_settings() override {
    begin_pending_ = true;
    mark_in_transaction();
  }

  void rollback() noexcept override {
    if (begin_pending_) {
      // Nothing of the transaction reached the server.
      begin_pending_ = false;
      SqlSession::forget_transaction();
      return;
    }
    SqlSession::rollback();
  }

  void commit() override {
    if (begin_pending_) {
      begin_pending_ = false;
      SqlSession::forget_transaction();
      return;
    }
    SqlSession::commit();
  }

  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    send_pending_begin();
    std::string numbered = numbered_placeholders(sql);
    // A step outside the transaction may have set a timeout that would also bound this
    // write of the journal's, between its statements: the write gets a transaction of its
    // own with the timeouts off, which ends with it.
    const bool shielded = timeouts_may_be_set_ && !params.empty() && !in_transaction();
    if (shielded)
      run_own("BEGIN; SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0; "
              "SET LOCAL idle_in_transaction_session_timeout = 0");
    Result result(params.empty() ? libpq().PQexec(conn_, numbered.c_str())
                                 : execute_prepared(numbered, value_pointers(params)));
    if (shielded && libpq().PQresultStatus(result.get()) != PGRES_COMMAND_OK &&
        libpq().PQresultStatus(result.get()) != PGRES_TUPLES_OK)
      run_own("ROLLBACK");
    check(result.get(), numbered);
    if (shielded) run_own("COMMIT");
    return rows_of(result.get());
  }

  size_t execute_batch(const std::vector<std::string_view>& statements, const std::atomic<int>* stop,
                       const std::function<void(size_t)>& done) override {
    // Outside a transaction each statement must commit before the next is sent. A COPY
    // must not reach a pipeline: one through the client breaks the protocol's sync there
    // and the server ends the session; sent on its own, it fails as a statement.
    if (!in_transaction() || std::any_of(statements.begin(), statements.end(), starts_with_copy))
      return Database::execute_batch(statements, stop, done);
    for (size_t first = 0; first < statements.size(); first += kPipelineDepth) {
      if (stop && stop->load() != 0) return first;
      size_t end = std::min(statements.size(), first + kPipelineDepth);
      if (stop) open_cancel_gate();
      size_t completed;
      try {
        completed = run_pipeline(statements, first, end, stop, done);
      } catch (...) {
        if (stop) close_cancel_gate();
        throw;
      }
      if (stop) close_cancel_gate();
      if (completed < end) return completed;
    }
    return statements.size();
  }

  std::vector<SqlRow> query_and_commit(const std::string& sql, const std::vector<SqlValue>& params) override {
    send_pending_begin();
    std::string numbered = numbered_placeholders(sql);
    const std::string& name = prepared_name(numbered);
    std::vector<const char*> values = value_pointers(params);
    if (libpq().PQenterPipelineMode(conn_) != 1) throw error_of(nullptr, numbered);
    if (libpq().PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                    nullptr, 0) != 1 ||
        libpq().PQsendQueryParams(conn_, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 ||
        libpq().PQpipelineSync(conn_) != 1)
      throw commit_in_doubt(error_of(nullptr, numbered));
    Result rows(libpq().PQgetResult(conn_));
    drain_query();
    Result committed(libpq().PQgetResult(conn_));
    drain_query();
    Result sync(libpq().PQgetResult(conn_));
    const bool synced = sync && libpq().PQresultStatus(sync.get()) == PGRES_PIPELINE_SYNC;
    if (!synced || !connection_ok() || libpq().PQexitPipelineMode(conn_) != 1)
      throw commit_in_doubt(error_of(nullptr, "COMMIT"));
    ExecStatusType status = rows ? libpq().PQresultStatus(rows.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw error_of(rows.get(), numbered);  // still open
    forget_transaction();
    if (!committed || libpq().PQresultStatus(committed.get()) != PGRES_COMMAND_OK)
      throw error_of(committed.get(), "COMMIT");
    return rows_of(rows.get());
  }

  bool acquire_lock(const std::string& key, std::chrono::milliseconds timeout) override {
    return postgres_acquire_lock(*this, postgres_lock_id(key), timeout);
  }

  std::string describe_lock_holder(const std::string& key) override {
    return postgres_lock_holder(*this, postgres_lock_id(key));
  }

  void release_lock(const std::string& key) override {
    run("SELECT pg_advisory_unlock(" + std::to_string(postgres_lock_id(key)) + ")");
  }

  Fingerprint fingerprint(const ExcludedObjects& journal) override {
    return fingerprint_from_rows({"column", "constraint", "extension", "index", "policy", "routine", "rule", "schema",
                                  "sequence", "table", "trigger", "type", "view"},
                                 query(fingerprint_sql_, {journal.schema}));
  }

  /// Made on first use: its text is rewritten with regular expressions, which costs a
  /// start with nothing to do more than its journal query.
  const PgSnapshotSql& snapshot_sql() {
    if (!snapshot_sql_) snapshot_sql_ = postgres_snapshot_sql(libpq().PQserverVersion(conn_));
    return *snapshot_sql_;
  }

  Snapshot snapshot(const ExcludedObjects& journal, const SnapshotScope& scope) override {
    return postgres_snapshot(*this, snapshot_sql(), journal, scope);
  }

  std::map<std::string, long> object_counts(const ExcludedObjects& journal) override {
    return postgres_object_counts(*this, snapshot_sql(), journal);
  }

  std::optional<CatalogCounters> catalog_counters() override {
    if (!in_transaction()) return std::nullopt;
    return postgres_catalog_counters(*this);
  }

  bool table_exists(const std::string& schema, const std::string& table) override {
    return postgres_table_exists(*this, schema, table);
  }

  bool column_exists(const std::string& schema, const std::string& table, const std::string& column) override {
    return postgres_column_exists(*this, schema, table, column);
  }

  std::vector<std::string> tables_in_schema(const std::string& schema) override {
    return postgres_tables_in_schema(*this, schema);
  }

  bool create_database_if_missing(const std::string& name, const std::string& owner) override {
    return postgres_create_database_if_missing(*this, name, owner);
  }

  bool database_exists(const std::string& name) override {
    return !query("SELECT 1 FROM pg_database WHERE datname = ?", {name}).empty();
  }

  void drop_database(const std::string& name) override {
    // FORCE (PostgreSQL 13+): a session left behind by a killed check must not keep it.
    execute("DROP DATABASE IF EXISTS " + quote_identifier(name) + " WITH (FORCE)");
  }

  std::optional<std::string> check_session_after_script() override {
    // RESET ALL leaves the role, the session user and the transaction's read-only mode
    // alone (PostgreSQL exempts them), which the same round trip then reads.
    auto rows = query(
        "RESET ALL; SELECT current_user::text, session_user::text, current_setting('transaction_read_only')", {});
    timeouts_may_be_set_ = false;
    const std::string own_user = libpq().PQuser(conn_);
    std::vector<std::string> changed;
    const auto& r = rows.at(0);
    if (r[1].value_or("") != own_user)
      changed.push_back(
          fmt::format("it runs as '{}' instead of '{}' (SET SESSION AUTHORIZATION)", r[1].value_or(""), own_user));
    else if (r[0].value_or("") != own_user)
      changed.push_back(fmt::format("it runs as role '{}' (SET ROLE)", r[0].value_or("")));
    if (r[2] == std::string("on")) changed.push_back("its transaction is read-only");
    if (changed.empty()) return std::nullopt;
    // Inside the update's transaction the rollback that follows undoes these; outside it
    // they would outlive the step.
    if (!in_transaction())
      run("SET SESSION AUTHORIZATION DEFAULT; RESET ROLE; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE");
    return fmt::format("{}", fmt::join(changed, "; "));
  }

  StatementUndo* statement_undo() override {
    if (!undo_) undo_ = make_postgres_undo(*this);
    return undo_.get();
  }

 private:
  void run(const std::string& sql) override {
    send_pending_begin();
    forget_prepared_if_dropped(sql);
    if (!in_transaction() && mentions_timeout(sql)) timeouts_may_be_set_ = true;
    Result result(libpq().PQexec(conn_, sql.c_str()));
    check(result.get(), sql);
  }

  /// The installer's own statement, outside what the journal of a step tracks.
  void run_own(const char* sql) {
    Result result(libpq().PQexec(conn_, sql));
    check(result.get(), sql);
  }

  bool connection_ok() const { return libpq().PQstatus(conn_) == CONNECTION_OK; }

  void send_pending_begin() {
    if (!begin_pending_) return;
    begin_pending_ = false;
    reset_session_settings();
    run(begin_statement());
  }

  /// A script's DEALLOCATE ALL or DISCARD ALL drops the journal's prepared statements
  /// too; inside an update's transaction the next journal write would then fail and take
  /// the update with it. Any mention of either word (in a function body or a comment as
  /// well) makes them prepared again when next used: a few microseconds, at worst.
  void forget_prepared_if_dropped(std::string_view sql) {
    if (!prepared_.empty() && may_drop_prepared_statements(sql)) prepared_.clear();
  }

  static std::string numbered_placeholders(const std::string& sql) {
    return replace_placeholders(sql, [](size_t n) { return "$" + std::to_string(n + 1); });
  }

  /// Each query's replies in a pipeline end with a null result. A COPY through the client
  /// answers PQgetResult with the same COPY state again and again until the copy ends, so
  /// it is ended here: never a loop.
  void drain_query() {
    while (Result more{libpq().PQgetResult(conn_)}) leave_copy(libpq().PQresultStatus(more.get()));
  }

  /// Ends a COPY the installer has no data for, or no use for: the server then fails it.
  void leave_copy(ExecStatusType status) {
    if (status == PGRES_COPY_IN || status == PGRES_COPY_BOTH)
      libpq().PQputCopyEnd(conn_, "the installer sends no COPY data");
    if (status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
      char* row = nullptr;
      while (libpq().PQgetCopyData(conn_, &row, 0) > 0) libpq().PQfreemem(row);
    }
  }

  DbError copy_refused(const std::string& sql) {
    return DbError(DbFailure::statement,
                   "COPY to or from the client is not supported here: load data with INSERT or COPY from a "
                   "server-side file",
                   "0A000", sql);
  }

  /// The installer's own statements with parameters are the journal's, run once per
  /// update or step: prepared once per session, they are neither parsed nor planned
  /// again, which halves their cost on the server. But the plan PostgreSQL keeps is made
  /// on the catalogs and journal as they were then, and a first install of a long
  /// history grows both many times over in one session: a plan that scanned 400 rows of
  /// pg_class when it was made still scans them all when there are 20,000 (measured:
  /// 2.5 ms of a scoped snapshot's 3 ms at 1000 tables). So each statement is prepared
  /// again after 64, 128, 256 … executions: a few replans per run, each plan made on
  /// sizes at least half the current ones.
  const std::string& prepared_name(const std::string& sql) {
    auto found = prepared_.find(sql);
    if (found == prepared_.end()) found = prepared_.emplace(sql, Prepared{}).first;
    Prepared& statement = found->second;
    if (statement.name.empty() || ++statement.executions == statement.replan_at) {
      // Never a name used before in this session: a forgotten statement may still exist.
      std::string name = "installer_" + std::to_string(++prepared_count_);
      Result prepared(libpq().PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
      check(prepared.get(), sql);
      if (!statement.name.empty()) {
        // Its result is not checked: a script may have run DEALLOCATE ALL already.
        Result deallocated(libpq().PQexec(conn_, ("DEALLOCATE " + statement.name).c_str()));
        statement.replan_at *= 2;
      }
      statement.name = std::move(name);
    }
    return statement.name;
  }

  PGresult* execute_prepared(const std::string& sql, const std::vector<const char*>& values, bool again = false) {
    PGresult* result = libpq().PQexecPrepared(conn_, prepared_name(sql).c_str(), static_cast<int>(values.size()),
                                              values.data(), nullptr, nullptr, 0);
    const char* state = result ? libpq().PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    if (state && std::string(state) == "26000" && !in_transaction() && !again) {
      // A script ran DEALLOCATE: prepare again, once. (Inside a transaction the error
      // has aborted it already, and the caller sees it.)
      libpq().PQclear(result);
      prepared_.clear();
      return execute_prepared(sql, values, true);
    }
    return result;
  }

  /// The error a failed result stands for; a COPY the installer cannot feed is one too.
  DbError error_of(const PGresult* result, const std::string& sql) {
    if (!result || !connection_ok()) {
      std::string message = tidy(result ? libpq().PQresultErrorMessage(result) : libpq().PQerrorMessage(conn_));
      if (message.empty()) message = tidy(libpq().PQerrorMessage(conn_));
      const char* state = result ? libpq().PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
      return DbError(DbFailure::connection_lost, message.empty() ? "the connection to the server was lost" : message,
                     state ? state : "", sql);
    }
    const char* state = libpq().PQresultErrorField(result, PG_DIAG_SQLSTATE);
    // A script ran DEALLOCATE: the statements are prepared again when next used.
    if (state && std::strcmp(state, "26000") == 0) prepared_.clear();
    return DbError(DbFailure::statement, tidy(libpq().PQresultErrorMessage(result)), state ? state : "", sql);
  }

  /// Throws DbError unless the statement succeeded.
  void check(PGresult* result, const std::string& sql) {
    ExecStatusType status = result ? libpq().PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
      if (!connection_ok()) throw error_of(result, sql);
      return;
    }
    if (is_copy(status)) {
      leave_copy(status);
      while (Result rest{libpq().PQgetResult(conn_)}) leave_copy(libpq().PQresultStatus(rest.get()));
      throw copy_refused(sql);
    }
    throw error_of(result, sql);
  }

  /// Sends statements[first, end) in one pipeline and reads the replies as each
  /// statement completes; throws BatchError for the first that failed (the server skips
  /// the rest up to the sync). Returns end, or, when a stop came while statements were
  /// left, the number that had completed then: the caller rolls back what ran after.
  size_t run_pipeline(const std::vector<std::string_view>& statements, size_t first, size_t end,
                      const std::atomic<int>* stop, const std::function<void(size_t)>& done) {
    const bool begin = send_pipeline(statements, first, end);
    if (begin) read_begin_replies(first);
    return read_statement_replies(statements, first, end, stop, done);
  }

  /// A failure of the session before the first statement ran, reported as the first's.
  BatchError lost_before(size_t first, const PGresult* result, const char* sql) {
    return BatchError(first, error_of(result, sql));
  }

  /// Returns whether a begun transaction that had not reached the server went first, in
  /// this round trip: RESET ALL in a transaction of its own (the sync ends it), then BEGIN.
  bool send_pipeline(const std::vector<std::string_view>& statements, size_t first, size_t end) {
    if (libpq().PQenterPipelineMode(conn_) != 1) throw error_of(nullptr, "(pipeline)");
    const bool begin = begin_pending_;
    begin_pending_ = false;
    if (begin && (libpq().PQsendQueryParams(conn_, "RESET ALL", 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 ||
                  libpq().PQpipelineSync(conn_) != 1 ||
                  libpq().PQsendQueryParams(conn_, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) != 1))
      throw lost_before(first, nullptr, "RESET ALL; BEGIN");
    std::string text;
    for (size_t i = first; i < end; ++i) {
      text.assign(statements[i]);
      forget_prepared_if_dropped(text);
      // The flush request makes the server send each reply as its statement completes,
      // not all at the sync: progress (/status, the journal's kill points) stays live.
      if (libpq().PQsendQueryParams(conn_, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 ||
          libpq().PQsendFlushRequest(conn_) != 1)
        throw BatchError(i, error_of(nullptr, text));
    }
    // The server counts idle time in a transaction only from the sync on; until the
    // installer's next statement (a journal write, the session check) arrives, a tiny
    // idle_in_transaction_session_timeout the step set would end the session.
    if (libpq().PQsendQueryParams(conn_, kKeepIdleTransaction, 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 ||
        libpq().PQpipelineSync(conn_) != 1)
      throw BatchError(first, error_of(nullptr, std::string(statements[first])));
    return begin;
  }

  void read_begin_replies(size_t first) {
    for (const char* sql : {"RESET ALL", "(sync)", "BEGIN"}) {
      Result result(libpq().PQgetResult(conn_));
      ExecStatusType expected = std::strcmp(sql, "(sync)") == 0 ? PGRES_PIPELINE_SYNC : PGRES_COMMAND_OK;
      if (!result || libpq().PQresultStatus(result.get()) != expected) throw lost_before(first, result.get(), sql);
      if (expected == PGRES_COMMAND_OK) drain_query();
    }
  }

  size_t read_statement_replies(const std::vector<std::string_view>& statements, size_t first, size_t end,
                                const std::atomic<int>* stop, const std::function<void(size_t)>& done) {
    std::optional<BatchError> failure;
    std::exception_ptr thrown;
    std::optional<size_t> stopped_at;
    for (size_t i = first; i < end; ++i) {
      Result result(libpq().PQgetResult(conn_));
      if (!result) throw BatchError(i, error_of(nullptr, std::string(statements[i])));
      ExecStatusType status = libpq().PQresultStatus(result.get());
      leave_copy(status);
      drain_query();
      if (failure || thrown) continue;  // skipped by the server, or no longer wanted
      if (is_copy(status)) {
        failure = BatchError(i, copy_refused(std::string(statements[i])));
        continue;
      }
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
        failure = BatchError(i, error_of(result.get(), std::string(statements[i])));
        if (failure->failure() != DbFailure::statement) throw *failure;
        continue;
      }
      try {
        if (done) done(i);
      } catch (...) {
        thrown = std::current_exception();
        send_cancel();  // the rest is not wanted: do not wait for it
        continue;
      }
      // A stop: the next statement is already on the server, so it is cancelled rather
      // than held back, and whatever still completes is rolled back by the caller as if
      // it had not run. Sent again after each statement that still completed, as a
      // cancel that arrives between two statements is dropped by the server.
      if (stop && stop->load() != 0 && i + 1 < end) {
        if (!stopped_at) stopped_at = i + 1;
        send_cancel();
      }
    }
    Result keep_idle(libpq().PQgetResult(conn_));  // skipped by the server after a failure
    if (!keep_idle) throw BatchError(end - 1, error_of(nullptr, std::string(statements[end - 1])));
    drain_query();
    Result sync(libpq().PQgetResult(conn_));
    if (!sync || libpq().PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC)
      throw BatchError(end - 1, error_of(sync.get(), std::string(statements[end - 1])));
    if (libpq().PQexitPipelineMode(conn_) != 1)
      throw BatchError(end - 1, error_of(nullptr, std::string(statements[end - 1])));
    if (thrown) std::rethrow_exception(thrown);
    if (failure) throw *failure;
    return stopped_at.value_or(end);
  }

  PGconn* conn_ = nullptr;
  PGcancel* cancel_ = nullptr;
  bool begin_pending_ = false;
  bool timeouts_may_be_set_ = false;  ///< a statement outside a transaction named a timeout since the last RESET ALL
  struct Prepared {
    std::string name;
    long executions = 0;
    long replan_at = 64;
  };
  std::unordered_map<std::string, Prepared> prepared_;  // by SQL text
  long prepared_count_ = 0;
  std::string fingerprint_sql_;
  std::optional<PgSnapshotSql> snapshot_sql_;  ///< snapshot_sql()'s
  std::string conninfo_;
  std::unique_ptr<StatementUndo> undo_;
};

}  // namespace

std::unique_ptr<Database> open_postgres(const ConnectionSpec& spec, std::chrono::seconds connect_timeout) {
  return std::make_unique<PgDatabase>(spec, connect_timeout);
}

}  // namespace installer
