#include "installer/postgres/pg_database.hpp"

#include "installer/db/db_error.hpp"
#include "installer/db/sql_session.hpp"
#include "installer/util/log.hpp"
#include "installer/util/sha256.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <cstring>
#include <thread>

#include <unistd.h>

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

std::string application_name() {
  // Shown in pg_stat_activity, and in another installer's lock-timeout message.
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string("installer ") + INSTALLER_VERSION + " on " + host;
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
std::string tidy(const std::string& message) {
  std::string out = message;
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
/// of libpqxx's default of printing them on stderr.
class NoticeToLog : public pqxx::errorhandler {
 public:
  explicit NoticeToLog(pqxx::connection_base& c) : pqxx::errorhandler(c) {}
  bool operator()(const char msg[]) noexcept override {
    try {
      log::debug("server notice: {}", tidy(msg));
    } catch (...) {
    }
    return false;
  }
};

class PgDatabase : public SqlSession {
 public:
  PgDatabase(const ConnectionSpec& spec, std::chrono::seconds connect_timeout)
      : conninfo_(conninfo(spec, connect_timeout)) {
    try {
      conn_ = std::make_unique<pqxx::connection>(conninfo_);
    } catch (const pqxx::broken_connection& e) {
      std::string message = tidy(e.what());
      throw DbError(is_auth_failure(message) ? DbFailure::auth : DbFailure::unreachable, message);
    } catch (const pqxx::sql_error& e) {
      throw DbError(DbFailure::unreachable, tidy(e.what()), e.sqlstate());
    }
    // libpqxx 6 would silently reconnect a broken connection at the next statement,
    // without the advisory lock and with the open transaction gone. The engine must
    // see the break instead, so reactivation is off (deprecated in 6.4, still honoured).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    conn_->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    notices_ = std::make_unique<NoticeToLog>(*conn_);
    fingerprint_sql_ = postgres_fingerprint_sql(conn_->server_version());
  }

  ~PgDatabase() override {
    notices_.reset();
    if (conn_) conn_->disconnect();
  }

  Engine engine() const override { return Engine::postgres; }
  bool transactional_ddl() const override { return true; }

  void send_cancel() noexcept override {
    try {
      conn_->cancel_query();
    } catch (...) {
      // Nothing to cancel, or the session is gone: either way there is nothing to wait for.
    }
  }

  void terminate_session() noexcept override {
    try {
      pqxx::connection killer(conninfo_);
      pqxx::nontransaction w(killer);
      w.exec("SELECT pg_terminate_backend(" + std::to_string(conn_->backendpid()) + ")");
    } catch (...) {
    }
  }

  // RESET ALL, not DISCARD ALL: the latter would also release the advisory lock.
  void reset_session_settings() override { run("RESET ALL"); }

  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    std::string numbered;
    int n = 0;
    for (char c : sql) {
      if (c == '?') numbered += "$" + std::to_string(++n);
      else numbered += c;
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    return guarded(numbered, [&](pqxx::nontransaction& w) {
      pqxx::result result = params.empty() ? w.exec(numbered)
                                           : w.exec_params(numbered, pqxx::prepare::make_dynamic_params(values));
      std::vector<SqlRow> rows;
      rows.reserve(result.size());
      for (const auto& row : result) {
        SqlRow r;
        r.reserve(row.size());
        for (const auto& field : row) r.push_back(field.is_null() ? SqlValue() : SqlValue(field.c_str()));
        rows.push_back(std::move(r));
      }
      return rows;
    });
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

  Fingerprint fingerprint(const std::string& excluded_schema) override {
    Fingerprint fp;
    // Every kind is present, with count 0 when there is none (see the MariaDB backend).
    for (const char* kind : {"column", "constraint", "extension", "index", "policy", "routine", "rule", "schema",
                             "sequence", "table", "trigger", "type", "view"})
      fp.add_kind(kind, 0, "");
    for (const auto& row : query(fingerprint_sql_, {excluded_schema}))
      fp.add_kind(row[0].value_or(""), std::stol(row[1].value_or("0")), row[2].value_or(""));
    return fp;
  }

  bool table_exists(const std::string& schema, const std::string& table) override {
    auto rows = query("SELECT to_regclass(quote_ident(?) || '.' || quote_ident(?)) IS NOT NULL", {schema, table});
    return rows[0][0] == std::string("t");
  }

  std::string quote_identifier(const std::string& name) const override {
    std::string out = "\"";
    for (char c : name) {
      if (c == '"') out += '"';
      out += c;
    }
    return out + "\"";
  }

 private:
  static long long lock_id(const std::string& key) {
    std::string hex = sha256_hex("installer-lock:" + key).substr(0, 15);
    return std::stoll(hex, nullptr, 16);
  }

  void run(const std::string& sql) override {
    guarded(sql, [&](pqxx::nontransaction& w) {
      w.exec(sql);
      return 0;
    });
  }

  template <typename F>
  auto guarded(const std::string& sql, F&& body) -> decltype(body(std::declval<pqxx::nontransaction&>())) {
    try {
      pqxx::nontransaction w(*conn_, "installer");
      return body(w);
    } catch (const pqxx::broken_connection& e) {
      throw DbError(DbFailure::connection_lost, tidy(e.what()), "", sql);
    } catch (const pqxx::sql_error& e) {
      if (!conn_->is_open()) throw DbError(DbFailure::connection_lost, tidy(e.what()), e.sqlstate(), sql);
      throw DbError(DbFailure::statement, tidy(e.what()), e.sqlstate(), sql);
    } catch (const pqxx::failure& e) {
      if (!conn_->is_open()) throw DbError(DbFailure::connection_lost, tidy(e.what()), "", sql);
      throw DbError(DbFailure::statement, tidy(e.what()), "", sql);
    }
  }

  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<NoticeToLog> notices_;
  std::string fingerprint_sql_;
  std::string conninfo_;
};

}  // namespace

std::unique_ptr<Database> open_postgres(const ConnectionSpec& spec, std::chrono::seconds connect_timeout) {
  return std::make_unique<PgDatabase>(spec, connect_timeout);
}

}  // namespace installer
