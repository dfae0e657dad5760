#include "installer/mariadb/maria_database.hpp"

#include "installer/db/db_error.hpp"
#include "installer/db/sql_session.hpp"
#include "installer/db/sql_text.hpp"
#include "installer/mariadb/libmariadb_api.hpp"
#include "installer/mariadb/maria_undo.hpp"
#include "installer/util/log.hpp"
#include "installer/util/sha256.hpp"

#include <errmsg.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <algorithm>
#include <cmath>

namespace installer {
namespace {

bool is_connection_loss(unsigned int code) {
  return code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST || code == CR_CONNECTION_ERROR ||
         code == CR_CONN_HOST_ERROR || code == ER_CONNECTION_KILLED || code == ER_SERVER_SHUTDOWN;
}

bool is_auth_failure(unsigned int code) {
  return code == ER_ACCESS_DENIED_ERROR || code == ER_DBACCESS_DENIED_ERROR ||
         code == ER_ACCESS_DENIED_NO_PASSWORD_ERROR;
}

/// The settings the installer relies on in its own session; restored after each update
/// because scripts may change them.
const char* const kSessionSetup =
    "SET SESSION group_concat_max_len = 4294967295, SESSION autocommit = 1, "
    "SESSION sql_mode = DEFAULT, SESSION foreign_key_checks = DEFAULT, SESSION unique_checks = DEFAULT, "
    "SESSION time_zone = DEFAULT, SESSION sql_notes = DEFAULT, SESSION lock_wait_timeout = DEFAULT, "
    "SESSION innodb_lock_wait_timeout = DEFAULT, SESSION character_set_client = utf8mb4, "
    "SESSION character_set_results = utf8mb4, SESSION collation_connection = utf8mb4_general_ci";

ServerDialect mariadb_dialect(Engine engine) {
  ServerDialect d;
  d.family = ServerDialect::Family::mysql;
  d.identifier_quote = '`';
  d.schemas_inside_database = false;
  // CURRENT_TIMESTAMP follows the session's time zone; the journal is UTC.
  d.transaction_time = "UTC_TIMESTAMP(6)";
  d.statement_time = "UTC_TIMESTAMP(6)";
  d.iso_text_before = "DATE_FORMAT(";
  d.iso_text_after = ", '%Y-%m-%dT%H:%i:%sZ')";
  d.insert_returning = engine != Engine::mysql;  // MariaDB 10.5 added it; MySQL has none
  d.last_insert_id = "SELECT LAST_INSERT_ID()";
  d.data_modifying_ctes = false;
  d.untyped_placeholders = false;
  return d;
}

class MariaDatabase : public SqlSession {
 public:
  MariaDatabase(const ConnectionSpec& spec, std::chrono::seconds connect_timeout)
      : engine_(spec.engine), dialect_(mariadb_dialect(spec.engine)), spec_(spec), connect_timeout_(connect_timeout) {
    conn_ = libmariadb().mysql_init(nullptr);
    if (!conn_) throw DbError(DbFailure::unreachable, "out of memory for a MariaDB connection");
    unsigned int timeout = static_cast<unsigned int>(std::max<long>(1, connect_timeout.count()));
    libmariadb().mysql_options(conn_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    // A silent reconnect would lose the GET_LOCK lock; the engine must see the break.
    my_bool no = 0;
    libmariadb().mysql_options(conn_, MYSQL_OPT_RECONNECT, &no);
    unsigned int no_local_infile = 0;
    libmariadb().mysql_options(conn_, MYSQL_OPT_LOCAL_INFILE, &no_local_infile);
    libmariadb().mysql_options(conn_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    libmariadb().mysql_options4(conn_, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", application_name().c_str());
    if (spec.tls) {
      my_bool yes = 1;
      switch (*spec.tls) {
        case TlsMode::disable: break;
        case TlsMode::prefer: break;
        case TlsMode::require: libmariadb().mysql_options(conn_, MYSQL_OPT_SSL_ENFORCE, &yes); break;
        // Connector/C checks the chain and the host name together.
        case TlsMode::verify_ca:
        case TlsMode::verify_full:
          libmariadb().mysql_options(conn_, MYSQL_OPT_SSL_ENFORCE, &yes);
          libmariadb().mysql_options(conn_, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
          break;
      }
    }
    if (!spec.tls_ca_file.empty()) libmariadb().mysql_options(conn_, MYSQL_OPT_SSL_CA, spec.tls_ca_file.c_str());
    if (!libmariadb().mysql_real_connect(conn_, spec.host.c_str(), spec.user.empty() ? nullptr : spec.user.c_str(),
                                         spec.password.c_str(), spec.database.empty() ? nullptr : spec.database.c_str(),
                                         static_cast<unsigned int>(spec.effective_port()), nullptr,
                                         CLIENT_MULTI_STATEMENTS)) {
      unsigned int code = libmariadb().mysql_errno(conn_);
      std::string message = fmt::format("[{}] {}", code, libmariadb().mysql_error(conn_));
      libmariadb().mysql_close(conn_);
      conn_ = nullptr;
      throw DbError(is_auth_failure(code) ? DbFailure::auth : DbFailure::unreachable, message);
    }
    if (spec.database.empty()) {
      close();
      throw DbError(DbFailure::unreachable,
                    "the database URL names no database: add it to the path (mariadb://user@host:3306/DATABASE)");
    }
    run(kSessionSetup);
    thread_id_ = libmariadb().mysql_thread_id(conn_);
    own_role_ = query("SELECT CURRENT_ROLE()", {}).at(0).at(0);  // a default role is the user's own
  }

  ~MariaDatabase() override {
    try {
      if (conn_ && !deferred_.empty()) run("DO 0");  // the writes held back are the journal's truth
    } catch (...) {
      // Lost with the session: as if the installer had stopped just before them.
    }
    close();
  }

  void terminate_session() noexcept override {
    try {
      MariaDatabase killer(spec_, connect_timeout_);
      killer.run(fmt::format("KILL CONNECTION {}", thread_id_));
    } catch (...) {
    }
  }

  // The protocol has no out-of-band cancel: a second session kills the running query.
  void send_cancel() noexcept override {
    try {
      MariaDatabase killer(spec_, connect_timeout_);
      killer.run(fmt::format("KILL QUERY {}", thread_id_));
    } catch (...) {
    }
  }

  Engine engine() const override { return engine_; }
  Capabilities capabilities() const override { return Capabilities::implicit_commit_ddl(); }
  const ServerDialect& dialect() const override { return dialect_; }

  const char* begin_statement() const override { return "START TRANSACTION"; }

  // MariaDB has no RESET ALL, and COM_RESET_CONNECTION would drop the GET_LOCK lock:
  // put back what scripts commonly change.
  void reset_session_settings() override { deferred_.push_back(kSessionSetup); }

  // MariaDB's DDL commits statement by statement and each one's progress is journaled:
  // sent on their own, those writes would double the round trips of an update.
  void write_soon(const std::string& sql, const std::vector<SqlValue>& params) override {
    deferred_.push_back(bind(sql, params));
  }

  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    std::string bound = bind(sql, params);
    send(bound);
    std::vector<SqlRow> rows;
    drain(bound, &rows);
    return rows;
  }

  bool acquire_lock(const std::string& key, std::chrono::milliseconds timeout) override {
    double seconds = static_cast<double>(timeout.count()) / 1000.0;
    auto rows = query(fmt::format("SELECT GET_LOCK(?, {:.3f})", seconds), {lock_name(key)});
    return !rows.empty() && rows[0][0] == std::string("1");
  }

  void release_lock(const std::string& key) override { query("SELECT RELEASE_LOCK(?)", {lock_name(key)}); }

  std::string describe_lock_holder(const std::string& key) override {
    auto rows = query(
        "SELECT p.ID, p.USER, p.HOST, p.TIME, coalesce(p.STATE, '') FROM information_schema.PROCESSLIST p "
        "WHERE p.ID = IS_USED_LOCK(?)",
        {lock_name(key)});
    if (rows.empty()) return {};
    const auto& r = rows[0];
    return fmt::format("connection {} (user {} from {}, busy for {}s{})", r[0].value_or("?"), r[1].value_or(""),
                       r[2].value_or(""), r[3].value_or("?"), r[4] && !r[4]->empty() ? ", " + *r[4] : "");
  }

  Fingerprint fingerprint(const ExcludedObjects& journal) override {
    const std::vector<std::string>& tables = journal.tables;
    std::string sql = mariadb_fingerprint_sql(tables.size());
    // The query names the journal's tables in every branch that lists tables.
    std::vector<SqlValue> all;
    size_t placeholders = static_cast<size_t>(std::count(sql.begin(), sql.end(), '?'));
    for (size_t i = 0; i < placeholders; ++i) all.push_back(tables[i % tables.size()]);
    return fingerprint_from_rows({"column", "constraint", "event", "index", "routine", "table", "trigger", "view"},
                                 query(sql, all));
  }

  Snapshot snapshot(const ExcludedObjects& journal, const SnapshotScope& scope) override {
    return mariadb_snapshot(*this, journal, scope);
  }

  bool table_exists(const std::string& schema, const std::string& table) override {
    auto rows = query("SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
                          std::string(schema.empty() ? "DATABASE()" : "?") + " AND TABLE_NAME = ?",
                      schema.empty() ? std::vector<SqlValue>{table} : std::vector<SqlValue>{schema, table});
    return rows[0][0] != std::string("0");
  }

  // No owners here: the administrator grants the application's user what it needs.
  bool create_database_if_missing(const std::string& name, const std::string&) override {
    if (!query("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", {name}).empty()) return false;
    execute("CREATE DATABASE IF NOT EXISTS " + quote_identifier(name));
    return true;
  }

  bool database_exists(const std::string& name) override {
    return !query("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", {name}).empty();
  }

  void drop_database(const std::string& name) override { execute("DROP DATABASE IF EXISTS " + quote_identifier(name)); }

  bool column_exists(const std::string& schema, const std::string& table, const std::string& column) override {
    return !query("SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = coalesce(nullif(?, ''), DATABASE()) "
                  "AND TABLE_NAME = ? AND COLUMN_NAME = ?",
                  {schema, table, column})
                .empty();
  }

  std::vector<std::string> tables_in_schema(const std::string& schema) override {
    std::vector<std::string> names;
    for (const auto& row : query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                                 "coalesce(nullif(?, ''), DATABASE()) ORDER BY CAST(TABLE_NAME AS BINARY)",
                                 {schema}))
      names.push_back(row[0].value_or(""));
    return names;
  }

  std::optional<std::string> check_session_after_script() override {
    const bool mysql = engine_ == Engine::mysql;
    auto rows = query(mysql
                          ? "SELECT @@autocommit, DATABASE(), @@session.transaction_read_only, CURRENT_ROLE(), 0"
                          : "SELECT @@autocommit, DATABASE(), @@session.tx_read_only, CURRENT_ROLE(), @@in_transaction",
                      {});
    const auto& r = rows.at(0);
    std::vector<std::string> changed, restore;
    if (r[4] == std::string("1")) {
      changed.push_back("a transaction is open (its statements are not committed)");
      restore.push_back("COMMIT");  // what ran is then durable, and the revert undoes it
    }
    if (r[0] != std::string("1")) {
      changed.push_back("autocommit is off");
      restore.push_back("SET SESSION autocommit = 1");
    }
    if (r[1] != SqlValue(spec_.database)) {
      changed.push_back(
          fmt::format("the current database is '{}', not '{}' (USE)", r[1].value_or("none"), spec_.database));
      restore.push_back("USE " + quote_identifier(spec_.database));
    }
    if (r[2] == std::string("1")) {
      changed.push_back("it is read-only");
      restore.push_back("SET SESSION TRANSACTION READ WRITE");
    }
    if (r[3] != own_role_) {
      changed.push_back(fmt::format("it runs with role '{}' (SET ROLE)", r[3].value_or("NONE")));
      restore.push_back(own_role_ ? "SET ROLE " + quote_identifier(*own_role_) : std::string("SET ROLE NONE"));
    }
    for (const auto& statement : restore) run(statement);
    reset_session_settings();
    if (changed.empty()) return std::nullopt;
    return fmt::format("{}", fmt::join(changed, "; "));
  }

  StatementUndo* statement_undo() override {
    if (!undo_) undo_ = make_mariadb_undo(*this);
    return undo_.get();
  }

 private:
  // GET_LOCK names are server-wide: the database's name keeps two products on one
  // server apart; long names are hashed to the 64-character limit.
  std::string lock_name(const std::string& key) {
    if (lock_prefix_.empty()) lock_prefix_ = query("SELECT DATABASE()", {})[0][0].value_or("");
    std::string name = "installer:" + lock_prefix_ + ":" + key;
    return name.size() <= 64 ? name : "installer:" + sha256_hex(name).substr(0, 54);
  }

  std::string bind(const std::string& sql, const std::vector<SqlValue>& params) {
    return replace_placeholders(sql, [&](size_t n) {
      if (n >= params.size()) throw std::logic_error("query: more placeholders than parameters");
      return literal(params[n]);
    });
  }

  std::string literal(const SqlValue& value) {
    if (!value) return "NULL";
    std::string out(value->size() * 2 + 3, '\0');
    out[0] = '\'';
    unsigned long n = libmariadb().mysql_real_escape_string(conn_, &out[1], value->data(), value->size());
    out.resize(n + 1);
    out += '\'';
    return out;
  }

  /// Sends sql, preceded by the writes held back by write_soon() in the same round trip
  /// (one multi-statement query; the server stops at the first that fails). On return the
  /// session is at sql's first result.
  void send(const std::string& sql) {
    if (!conn_) throw DbError(DbFailure::connection_lost, "the MariaDB session is closed", "", sql);
    if (deferred_.empty()) {
      if (libmariadb().mysql_real_query(conn_, sql.data(), sql.size()) != 0) fail(sql);
      return;
    }
    std::vector<std::string> writes;
    writes.swap(deferred_);
    std::string text;
    for (const auto& write : writes) text += write + ";\n";
    text += sql;
    if (libmariadb().mysql_real_query(conn_, text.data(), text.size()) != 0) fail_write(writes.front());
    for (size_t i = 1; i < writes.size(); ++i) {
      skip_result();
      if (libmariadb().mysql_next_result(conn_) != 0) fail_write(writes[i]);
    }
    skip_result();
    if (libmariadb().mysql_next_result(conn_) != 0) fail(sql);  // sql's own error: the writes before it are in
  }

  void skip_result() {
    if (libmariadb().mysql_field_count(conn_) > 0)
      if (MYSQL_RES* result = libmariadb().mysql_store_result(conn_)) libmariadb().mysql_free_result(result);
  }

  [[noreturn]] void fail_write(const std::string& write) {
    unsigned int code = libmariadb().mysql_errno(conn_);
    std::string message = fmt::format("the journal write sent ahead of this statement failed: {}",
                                      libmariadb().mysql_error(conn_));
    DbFailure failure = is_connection_loss(code) ? DbFailure::connection_lost : DbFailure::statement;
    throw DbError(failure, message, fmt::format("{}/{}", code, libmariadb().mysql_sqlstate(conn_)), write);
  }

  /// Sends a statement and drops any rows it returns (a script's SELECT), since the
  /// protocol needs them read before the next statement.
  void run(const std::string& sql) override {
    send(sql);
    drain(sql, nullptr);
  }

  /// Reads every result the statement produced (CALL returns one per SELECT in the
  /// procedure, then a status); the first one with rows goes to `first_rows`.
  void drain(const std::string& sql, std::vector<SqlRow>* first_rows) {
    while (true) {
      if (libmariadb().mysql_field_count(conn_) > 0) {
        MYSQL_RES* result = libmariadb().mysql_store_result(conn_);
        if (!result) fail(sql);
        if (first_rows) {
          unsigned int columns = libmariadb().mysql_num_fields(result);
          while (MYSQL_ROW row = libmariadb().mysql_fetch_row(result)) {
            unsigned long* lengths = libmariadb().mysql_fetch_lengths(result);
            SqlRow r;
            r.reserve(columns);
            for (unsigned int i = 0; i < columns; ++i)
              r.push_back(row[i] ? SqlValue(std::string(row[i], lengths[i])) : SqlValue());
            first_rows->push_back(std::move(r));
          }
          first_rows = nullptr;
        }
        libmariadb().mysql_free_result(result);
      }
      int more = libmariadb().mysql_next_result(conn_);
      if (more == -1) return;
      if (more > 0) fail(sql);
    }
  }

  [[noreturn]] void fail(const std::string& sql) {
    unsigned int code = libmariadb().mysql_errno(conn_);
    std::string state = libmariadb().mysql_sqlstate(conn_);
    std::string message = libmariadb().mysql_error(conn_);
    DbFailure failure = is_connection_loss(code) ? DbFailure::connection_lost : DbFailure::statement;
    throw DbError(failure, message, fmt::format("{}/{}", code, state), sql);
  }

  void close() {
    if (conn_) libmariadb().mysql_close(conn_);
    conn_ = nullptr;
  }

  Engine engine_;
  ServerDialect dialect_;
  ConnectionSpec spec_;
  std::chrono::seconds connect_timeout_;
  SqlValue own_role_;  ///< CURRENT_ROLE() as the session began: the user's default role, or NULL
  unsigned long thread_id_ = 0;
  MYSQL* conn_ = nullptr;
  std::string lock_prefix_;
  std::vector<std::string> deferred_;  // write_soon()'s statements, bound, oldest first
  std::unique_ptr<StatementUndo> undo_;
};

}  // namespace

std::unique_ptr<Database> open_mariadb(const ConnectionSpec& spec, std::chrono::seconds connect_timeout) {
  return std::make_unique<MariaDatabase>(spec, connect_timeout);
}

}  // namespace installer
