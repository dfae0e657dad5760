// The cancel gate every backend shares: a stop cancels an update's statement, never the
// installer's own queries nor a revert's statements, which the stop must let finish.
#include "installer/db/sql_session.hpp"

#include <doctest/doctest.h>

#include <functional>

using namespace installer;

namespace {

/// Runs "statements" by calling during_run, the way the stop watcher's thread calls
/// cancel_current_statement() while the session's thread waits for the server.
class GateProbe : public SqlSession {
 public:
  std::function<void()> during_run;
  int cancels_sent = 0;

  Engine engine() const override { return Engine::postgres; }
  Capabilities capabilities() const override { return Capabilities::transactional_ddl(); }
  void reset_session_settings() override {}
  void terminate_session() noexcept override {}
  std::vector<SqlRow> query(const std::string&, const std::vector<SqlValue>&) override {
    if (during_run) during_run();
    return {};
  }
  bool acquire_lock(const std::string&, std::chrono::milliseconds) override { return true; }
  void release_lock(const std::string&) override {}
  std::string describe_lock_holder(const std::string&) override { return {}; }
  Fingerprint fingerprint(const ExcludedObjects&) override { return {}; }
  Snapshot snapshot(const ExcludedObjects&, const SnapshotScope&) override { return {}; }
  bool table_exists(const std::string&, const std::string&) override { return false; }
  bool column_exists(const std::string&, const std::string&, const std::string&) override { return false; }
  std::vector<std::string> tables_in_schema(const std::string&) override { return {}; }
  bool create_database_if_missing(const std::string&, const std::string&) override { return false; }
  bool database_exists(const std::string&) override { return false; }
  void drop_database(const std::string&) override {}
  const ServerDialect& dialect() const override {
    static const ServerDialect dialect;
    return dialect;
  }

 protected:
  void run(const std::string&) override {
    if (during_run) during_run();
  }
  void send_cancel() noexcept override { ++cancels_sent; }
};

}  // namespace

TEST_CASE("a stop cancels an update's statement and nothing else") {
  GateProbe db;
  db.during_run = [&] { db.cancel_current_statement(); };

  db.execute_cancellable("SELECT pg_sleep(60)");
  CHECK(db.cancels_sent == 1);

  db.execute("DROP TABLE t");  // a revert's statement runs to the end
  db.query("INSERT INTO journal ...", {});
  db.begin();
  db.rollback();
  CHECK(db.cancels_sent == 1);

  db.during_run = nullptr;
  db.execute_cancellable("SELECT 1");
  db.cancel_current_statement();  // the statement ended: the next query must not get it
  CHECK(db.cancels_sent == 1);
}

TEST_CASE("a statement that fails leaves the gate closed") {
  GateProbe db;
  db.during_run = [] { throw DbError(DbFailure::statement, "division by zero", "22012", ""); };
  CHECK_THROWS_WITH_AS(db.execute_cancellable("SELECT 1/0"), "division by zero", DbError);
  db.during_run = nullptr;
  db.cancel_current_statement();
  CHECK(db.cancels_sent == 0);
}
