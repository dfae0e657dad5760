#include "installer/postgres/pg_database.hpp"

#include "installer/db/backoff.hpp"
#include "installer/db/db_error.hpp"
#include "installer/db/sql_session.hpp"
#include "installer/db/sql_text.hpp"
#include "installer/postgres/pg_undo.hpp"
#include "installer/util/log.hpp"
#include "installer/util/sha256.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace installer {
namespace {

std::string quote_conninfo(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string conninfo(const ConnectionSpec& spec, std::chrono::seconds connect_timeout) {
  std::string info = fmt::format("host={} port={} connect_timeout={} application_name={}", quote_conninfo(spec.host),
                                 spec.effective_port(), std::max<long>(1, connect_timeout.count()),
                                 quote_conninfo(application_name().substr(0, 63)));
  if (!spec.user.empty()) info += " user=" + quote_conninfo(spec.user);
  if (!spec.password.empty()) info += " password=" + quote_conninfo(spec.password);
  if (!spec.database.empty()) info += " dbname=" + quote_conninfo(spec.database);
  if (spec.tls) info += std::string(" sslmode=") + tls_mode_name(*spec.tls);
  if (!spec.tls_ca_file.empty()) info += " sslrootcert=" + quote_conninfo(spec.tls_ca_file);
  for (const auto& [k, v] : spec.options) info += " " + k + "=" + quote_conninfo(v);
  return info;
}

/// libpq's messages end with newlines and carry a LINE/caret excerpt; keep them whole
/// but without the trailing blank.
std::string tidy(const char* message) {
  std::string out = message ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

bool is_auth_failure(const std::string& message) {
  return message.find("password authentication failed") != std::string::npos ||
         message.find("no password supplied") != std::string::npos ||
         message.find("authentication failed") != std::string::npos ||
         message.find("pg_hba.conf") != std::string::npos;
}

/// Routes server notices ("table does not exist, skipping") to the debug log instead
/// of libpq's default of printing them on stderr.
void notice_to_log(void*, const char* message) {
  try {
    log::debug("server notice: {}", tidy(message));
  } catch (...) {
  }
}

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

/// How many statements go out in one round trip at most: the server's replies to a
/// pipeline wait in the socket until the last statement is sent, so an unbounded one
/// could fill both directions' buffers on a script of many thousands of statements.
constexpr size_t kPipelineDepth = 256;

ServerDialect postgres_dialect() {
  ServerDialect d;
  d.family = ServerDialect::Family::postgresql;
  d.identifier_quote = '"';
  d.schemas_inside_database = true;
  d.transaction_time = "now()";
  // now() is when the transaction began: an update journaled in its own transaction
  // would seem to finish when it started.
  d.statement_time = "clock_timestamp()";
  d.iso_text_before = "to_char(";
  d.iso_text_after = " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";
  d.insert_returning = true;
  d.data_modifying_ctes = true;
  d.untyped_placeholders = true;
  return d;
}

class PgDatabase : public SqlSession {
 public:
  PgDatabase(const ConnectionSpec& spec, std::chrono::seconds connect_timeout)
      : conninfo_(conninfo(spec, connect_timeout)) {
    conn_ = PQconnectdb(conninfo_.c_str());
    if (!conn_) throw DbError(DbFailure::unreachable, "out of memory for a PostgreSQL connection");
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string message = tidy(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      throw DbError(is_auth_failure(message) ? DbFailure::auth : DbFailure::unreachable, message);
    }
    PQsetNoticeProcessor(conn_, notice_to_log, nullptr);
    // Made here, in the session's thread: PQcancel() may then use it from the thread
    // that took a stop signal.
    cancel_ = PQgetCancel(conn_);
    fingerprint_sql_ = postgres_fingerprint_sql(PQserverVersion(conn_));
  }

  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;

  ~PgDatabase() override {
    if (cancel_) PQfreeCancel(cancel_);
    if (conn_) PQfinish(conn_);
  }

  Engine engine() const override { return Engine::postgres; }
  const ServerDialect& dialect() const override {
    static const ServerDialect dialect = postgres_dialect();
    return dialect;
  }
  bool transactional_ddl() const override { return true; }

  void send_cancel() noexcept override {
    if (!cancel_) return;
    char error[256];
    // Nothing to cancel, or the session is gone: either way there is nothing to wait for.
    (void)PQcancel(cancel_, error, sizeof error);
  }

  void terminate_session() noexcept override {
    PGconn* killer = PQconnectdb(conninfo_.c_str());
    if (PQstatus(killer) == CONNECTION_OK)
      PQclear(PQexec(killer, ("SELECT pg_terminate_backend(" + std::to_string(PQbackendPID(conn_)) + ")").c_str()));
    PQfinish(killer);
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
    if (shielded) run_own("BEGIN; SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0");
    Result result(params.empty() ? PQexec(conn_, numbered.c_str()) : execute_prepared(numbered, value_pointers(params)));
    if (shielded && PQresultStatus(result.get()) != PGRES_COMMAND_OK && PQresultStatus(result.get()) != PGRES_TUPLES_OK)
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
      size_t completed = end;
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
    if (PQenterPipelineMode(conn_) != 1) throw error_of(nullptr, numbered);
    if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0) != 1 ||
        PQsendQueryParams(conn_, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 || PQpipelineSync(conn_) != 1)
      throw commit_in_doubt(error_of(nullptr, numbered));
    Result rows(PQgetResult(conn_));
    drain_query();
    Result committed(PQgetResult(conn_));
    drain_query();
    Result sync(PQgetResult(conn_));
    const bool synced = sync && PQresultStatus(sync.get()) == PGRES_PIPELINE_SYNC;
    if (!synced || !connection_ok() || PQexitPipelineMode(conn_) != 1) throw commit_in_doubt(error_of(nullptr, "COMMIT"));
    ExecStatusType status = rows ? PQresultStatus(rows.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw error_of(rows.get(), numbered);  // still open
    forget_transaction();
    if (!committed || PQresultStatus(committed.get()) != PGRES_COMMAND_OK) throw error_of(committed.get(), "COMMIT");
    return rows_of(rows.get());
  }

  bool acquire_lock(const std::string& key, std::chrono::milliseconds timeout) override {
    // Poll instead of blocking in pg_advisory_lock: a waiter blocked inside a statement
    // holds a snapshot, and CREATE INDEX CONCURRENTLY in the lock holder waits for every
    // such snapshot, which PostgreSQL then reports as a deadlock. Each try is a short
    // transaction of its own, so the holder is never held up by the waiters.
    std::string sql = "SELECT pg_try_advisory_lock(" + std::to_string(lock_id(key)) + ")";
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::milliseconds(20);
    while (true) {
      if (query(sql, {})[0][0] == std::string("t")) return true;
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
      pause = std::min(pause * 2, std::chrono::milliseconds(500));
    }
  }

  std::string describe_lock_holder(const std::string& key) override {
    long long id = lock_id(key);
    auto rows = query(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local socket'), "
        "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), coalesce(a.state, '') "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid = ?::bigint::oid AND l.objid = ?::bigint::oid AND l.objsubid = 1",
        {std::to_string(static_cast<unsigned long long>(id) >> 32), std::to_string(id & 0xffffffffLL)});
    if (rows.empty()) return {};
    const auto& r = rows[0];
    return fmt::format("server process {} ({}, from {}, connected {}, {})", r[0].value_or("?"), r[1].value_or(""),
                       r[2].value_or(""), r[3].value_or(""), r[4].value_or(""));
  }

  void release_lock(const std::string& key) override {
    run("SELECT pg_advisory_unlock(" + std::to_string(lock_id(key)) + ")");
  }

  Fingerprint fingerprint(const ExcludedObjects& journal) override {
    return fingerprint_from_rows({"column", "constraint", "extension", "index", "policy", "routine", "rule", "schema",
                                  "sequence", "table", "trigger", "type", "view"},
                                 query(fingerprint_sql_, {journal.schema}));
  }

  bool table_exists(const std::string& schema, const std::string& table) override {
    auto rows = query("SELECT to_regclass(quote_ident(?) || '.' || quote_ident(?)) IS NOT NULL", {schema, table});
    return rows[0][0] == std::string("t");
  }

  bool create_database_if_missing(const std::string& name, const std::string& owner) override {
    // Owned by the application's user, or it could not create its own tables there
    // (PostgreSQL 15 no longer lets everyone create in the public schema).
    std::string statement = "CREATE DATABASE " + quote_identifier(name) + (owner.empty() ? "" : " OWNER " + quote_identifier(owner));
    // The loser of a race sees "already exists" (42P04) or, mid-creation, a duplicate key
    // in pg_database (23505): the database is there. Two creations copying template1 at
    // once fail with 55006: try again, bounded.
    Backoff backoff(std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
    for (int attempt = 1;; ++attempt) {
      if (!query("SELECT 1 FROM pg_database WHERE datname = ?", {name}).empty()) return false;
      try {
        execute(statement);
        return true;
      } catch (const DbError& e) {
        if (e.sqlstate() == "42P04" || e.sqlstate() == "23505") return false;
        if (e.sqlstate() != "55006" || attempt >= 40) throw;
        std::this_thread::sleep_for(backoff.next());
      }
    }
  }

  bool column_exists(const std::string& schema, const std::string& table, const std::string& column) override {
    return !query("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(quote_ident(coalesce(nullif(?, ''), "
                  "current_schema())) || '.' || quote_ident(?)) AND attname = ? AND attnum > 0 AND NOT attisdropped",
                  {schema, table, column})
                .empty();
  }

  std::vector<std::string> tables_in_schema(const std::string& schema) override {
    std::vector<std::string> names;
    for (const auto& row : query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                 "WHERE n.nspname = coalesce(nullif(?, ''), current_schema()) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') "
                                 "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
                                 "AND d.objid = c.oid AND d.deptype IN ('a', 'i')) ORDER BY c.relname",
                                 {schema}))
      names.push_back(row[0].value_or(""));
    return names;
  }

  std::optional<std::string> check_session_after_script() override {
    // RESET ALL leaves the role, the session user and the transaction's read-only mode
    // alone (PostgreSQL exempts them), which the same round trip then reads.
    auto rows = query("RESET ALL; SELECT current_user::text, session_user::text, current_setting('transaction_read_only')",
                      {});
    timeouts_may_be_set_ = false;
    const std::string own_user = PQuser(conn_);
    std::vector<std::string> changed;
    const auto& r = rows.at(0);
    if (r[1].value_or("") != own_user)
      changed.push_back(fmt::format("it runs as '{}' instead of '{}' (SET SESSION AUTHORIZATION)", r[1].value_or(""), own_user));
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
  static long long lock_id(const std::string& key) {
    std::string hex = sha256_hex("installer-lock:" + key).substr(0, 15);
    return std::stoll(hex, nullptr, 16);
  }

  void run(const std::string& sql) override {
    send_pending_begin();
    forget_prepared_if_dropped(sql);
    if (!in_transaction() && mentions_timeout(sql)) timeouts_may_be_set_ = true;
    Result result(PQexec(conn_, sql.c_str()));
    check(result.get(), sql);
  }

  /// The installer's own statement, outside what the journal of a step tracks.
  void run_own(const char* sql) {
    Result result(PQexec(conn_, sql));
    check(result.get(), sql);
  }

  static bool mentions_timeout(std::string_view sql) {
    std::string lower(sql.substr(0, 4096));
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower.find("_timeout") != std::string::npos;
  }

  bool connection_ok() const { return PQstatus(conn_) == CONNECTION_OK; }

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
    if (prepared_.empty()) return;
    auto mentions = [&](std::string_view word) {
      return std::search(sql.begin(), sql.end(), word.begin(), word.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
             }) != sql.end();
    };
    if (mentions("deallocate") || mentions("discard")) prepared_.clear();
  }

  static std::string numbered_placeholders(const std::string& sql) {
    return replace_placeholders(sql, [](size_t n) { return "$" + std::to_string(n + 1); });
  }

  static std::vector<const char*> value_pointers(const std::vector<SqlValue>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    return values;
  }

  static std::vector<SqlRow> rows_of(const PGresult* result) {
    std::vector<SqlRow> rows;
    const int row_count = PQntuples(result), column_count = PQnfields(result);
    rows.reserve(static_cast<size_t>(row_count));
    for (int row = 0; row < row_count; ++row) {
      SqlRow r;
      r.reserve(static_cast<size_t>(column_count));
      for (int column = 0; column < column_count; ++column)
        r.push_back(PQgetisnull(result, row, column) ? SqlValue() : SqlValue(PQgetvalue(result, row, column)));
      rows.push_back(std::move(r));
    }
    return rows;
  }

  /// Each query's replies in a pipeline end with a null result. A COPY through the client
  /// answers PQgetResult with the same COPY state again and again until the copy ends, so
  /// it is ended here: never a loop.
  void drain_query() {
    while (Result more{PQgetResult(conn_)}) leave_copy(PQresultStatus(more.get()));
  }

  static bool starts_with_copy(std::string_view sql) {
    size_t i = 0;
    while (i < sql.size()) {
      if (std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
      else if (sql.compare(i, 2, "--") == 0) i = std::min(sql.size(), sql.find('\n', i));
      else if (sql.compare(i, 2, "/*") == 0) i = std::min(sql.size(), sql.find("*/", i) + 2);
      else break;
    }
    if (sql.size() < i + 4) return false;
    for (size_t k = 0; k < 4; ++k)
      if (std::toupper(static_cast<unsigned char>(sql[i + k])) != "COPY"[k]) return false;
    return sql.size() == i + 4 || !(std::isalnum(static_cast<unsigned char>(sql[i + 4])) || sql[i + 4] == '_');
  }

  static bool is_copy(ExecStatusType status) {
    return status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH;
  }

  /// Ends a COPY the installer has no data for, or no use for: the server then fails it.
  void leave_copy(ExecStatusType status) {
    if (status == PGRES_COPY_IN || status == PGRES_COPY_BOTH) PQputCopyEnd(conn_, "the installer sends no COPY data");
    if (status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
      char* row = nullptr;
      while (PQgetCopyData(conn_, &row, 0) > 0) PQfreemem(row);
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
  /// again, which halves their cost on the server.
  const std::string& prepared_name(const std::string& sql) {
    auto found = prepared_.find(sql);
    if (found == prepared_.end()) {
      // Never a name used before in this session: a forgotten statement may still exist.
      std::string name = "installer_" + std::to_string(++prepared_count_);
      Result prepared(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
      check(prepared.get(), sql);
      found = prepared_.emplace(sql, std::move(name)).first;
    }
    return found->second;
  }

  PGresult* execute_prepared(const std::string& sql, const std::vector<const char*>& values, bool again = false) {
    PGresult* result = PQexecPrepared(conn_, prepared_name(sql).c_str(), static_cast<int>(values.size()),
                                      values.data(), nullptr, nullptr, 0);
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    if (state && std::string(state) == "26000" && !in_transaction() && !again) {
      // A script ran DEALLOCATE: prepare again, once. (Inside a transaction the error
      // has aborted it already, and the caller sees it.)
      PQclear(result);
      prepared_.clear();
      return execute_prepared(sql, values, true);
    }
    return result;
  }

  /// The error a failed result stands for; a COPY the installer cannot feed is one too.
  DbError error_of(const PGresult* result, const std::string& sql) {
    if (!result || !connection_ok()) {
      std::string message = tidy(result ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
      if (message.empty()) message = tidy(PQerrorMessage(conn_));
      const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
      return DbError(DbFailure::connection_lost, message.empty() ? "the connection to the server was lost" : message,
                     state ? state : "", sql);
    }
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    // A script ran DEALLOCATE: the statements are prepared again when next used.
    if (state && std::strcmp(state, "26000") == 0) prepared_.clear();
    return DbError(DbFailure::statement, tidy(PQresultErrorMessage(result)), state ? state : "", sql);
  }

  /// Throws DbError unless the statement succeeded.
  void check(PGresult* result, const std::string& sql) {
    ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
      if (!connection_ok()) throw error_of(result, sql);
      return;
    }
    if (is_copy(status)) {
      leave_copy(status);
      while (Result rest{PQgetResult(conn_)}) leave_copy(PQresultStatus(rest.get()));
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
    if (PQenterPipelineMode(conn_) != 1) throw error_of(nullptr, "(pipeline)");
    // A begun transaction that has not reached the server goes first, in this round
    // trip: RESET ALL in a transaction of its own (the sync ends it), then BEGIN.
    const bool begin = begin_pending_;
    begin_pending_ = false;
    // Their failure is the session's, reported as the first statement's, which never ran.
    auto lost_before_first = [&](const PGresult* result, const char* sql) {
      return BatchError(first, error_of(result, sql));
    };
    if (begin && (PQsendQueryParams(conn_, "RESET ALL", 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 ||
                  PQpipelineSync(conn_) != 1 ||
                  PQsendQueryParams(conn_, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) != 1))
      throw lost_before_first(nullptr, "RESET ALL; BEGIN");
    std::string text;
    for (size_t i = first; i < end; ++i) {
      text.assign(statements[i]);
      forget_prepared_if_dropped(text);
      // The flush request makes the server send each reply as its statement completes,
      // not all at the sync: progress (/status, the journal's kill points) stays live.
      if (PQsendQueryParams(conn_, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 ||
          PQsendFlushRequest(conn_) != 1)
        throw BatchError(i, error_of(nullptr, text));
    }
    if (PQpipelineSync(conn_) != 1) throw BatchError(first, error_of(nullptr, std::string(statements[first])));
    if (begin) {
      for (const char* sql : {"RESET ALL", "(sync)", "BEGIN"}) {
        Result result(PQgetResult(conn_));
        ExecStatusType expected = std::strcmp(sql, "(sync)") == 0 ? PGRES_PIPELINE_SYNC : PGRES_COMMAND_OK;
        if (!result || PQresultStatus(result.get()) != expected) throw lost_before_first(result.get(), sql);
        if (expected == PGRES_COMMAND_OK) drain_query();
      }
    }
    std::optional<BatchError> failure;
    std::exception_ptr thrown;
    std::optional<size_t> stopped_at;
    for (size_t i = first; i < end; ++i) {
      Result result(PQgetResult(conn_));
      if (!result) throw BatchError(i, error_of(nullptr, std::string(statements[i])));
      ExecStatusType status = PQresultStatus(result.get());
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
    Result sync(PQgetResult(conn_));
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC)
      throw BatchError(end - 1, error_of(sync.get(), std::string(statements[end - 1])));
    if (PQexitPipelineMode(conn_) != 1) throw BatchError(end - 1, error_of(nullptr, std::string(statements[end - 1])));
    if (thrown) std::rethrow_exception(thrown);
    if (failure) throw *failure;
    return stopped_at.value_or(end);
  }

  PGconn* conn_ = nullptr;
  PGcancel* cancel_ = nullptr;
  bool begin_pending_ = false;
  bool timeouts_may_be_set_ = false;  ///< a statement outside a transaction named a timeout since the last RESET ALL
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  long prepared_count_ = 0;
  std::string fingerprint_sql_;
  std::string conninfo_;
  std::unique_ptr<StatementUndo> undo_;
};

}  // namespace

std::unique_ptr<Database> open_postgres(const ConnectionSpec& spec, std::chrono::seconds connect_timeout) {
  return std::make_unique<PgDatabase>(spec, connect_timeout);
}

}  // namespace installer
