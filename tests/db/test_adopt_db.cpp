// Adoption (docs/adopt.md): databases another tool migrated, read from that tool's own
// folder and history table, with the rows written as the tool writes them; and the
// refusal of a database that has tables but no journal.
#include "db_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace installer;
using namespace installer::testing;

namespace {

/// The same three migrations in each tool's layout: the first two applied by hand as the
/// tool would have, the third left for the installer.
struct ToolCase {
  std::string tool;
  std::map<std::string, std::string> files;
  std::vector<std::string> history;  ///< the tool's table and its rows for the first two
  std::string third_id;              ///< the installer's id of the third
};

const char* kUsers = "CREATE TABLE ad_users (id int PRIMARY KEY)";
const char* kEmail = "ALTER TABLE ad_users ADD COLUMN email varchar(100)";
const char* kOrders = "CREATE TABLE ad_orders (id int PRIMARY KEY)";

std::string bool_type() { return by_engine("boolean", "BOOL"); }

ToolCase golang_migrate() {
  return {"golang-migrate",
          {{"000001_users.up.sql", std::string(kUsers) + ";\n"},
           {"000001_users.down.sql", "DROP TABLE ad_users;\n"},
           {"000002_email.up.sql", std::string(kEmail) + ";\n"},
           {"000002_email.down.sql", "ALTER TABLE ad_users DROP COLUMN email;\n"},
           {"000003_orders.up.sql", std::string(kOrders) + ";\n"},
           {"000003_orders.down.sql", "DROP TABLE ad_orders;\n"}},
          {"CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty " + bool_type() + " NOT NULL)",
           "INSERT INTO schema_migrations (version, dirty) VALUES (2, false)"},
          "000003_orders"};
}

ToolCase dbmate() {
  auto file = [](const std::string& up, const std::string& down) {
    return "-- migrate:up\n" + up + ";\n\n-- migrate:down\n" + down + ";\n";
  };
  return {"dbmate",
          {{"20240101000001_users.sql", file(kUsers, "DROP TABLE ad_users")},
           {"20240101000002_email.sql", file(kEmail, "ALTER TABLE ad_users DROP COLUMN email")},
           {"20240101000003_orders.sql", file(kOrders, "DROP TABLE ad_orders")}},
          {"CREATE TABLE schema_migrations (version varchar(128) NOT NULL PRIMARY KEY)",
           "INSERT INTO schema_migrations (version) VALUES ('20240101000001'), ('20240101000002')"},
          "20240101000003_orders"};
}

ToolCase goose() {
  auto file = [](const std::string& up, const std::string& down) {
    return "-- +goose Up\n-- +goose StatementBegin\n" + up + ";\n-- +goose StatementEnd\n\n-- +goose Down\n" + down +
           ";\n";
  };
  return {"goose",
          {{"00001_users.sql", file(kUsers, "DROP TABLE ad_users")},
           {"00002_email.sql", file(kEmail, "ALTER TABLE ad_users DROP COLUMN email")},
           {"00003_orders.sql", file(kOrders, "DROP TABLE ad_orders")}},
          // Version 3 went up and came down again: its newest row says it is not applied.
          {"CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL, is_applied " + bool_type() +
               " NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id))",
           "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true), "
           "(3, false)"},
          "00003_orders"};
}

ToolCase flyway() {
  return {"flyway",
          {{"V1__users.sql", std::string(kUsers) + ";\n"},
           {"U1__users.sql", "DROP TABLE ad_users;\n"},
           {"V1_1__email.sql", std::string(kEmail) + ";\n"},
           {"U1_1__email.sql", "ALTER TABLE ad_users DROP COLUMN email;\n"},
           {"V2__orders.sql", std::string(kOrders) + ";\n"},
           {"U2__orders.sql", "DROP TABLE ad_orders;\n"}},
          {"CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), "
           "description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT, "
           "installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, "
           "execution_time INT NOT NULL, success " +
               bool_type() + " NOT NULL)",
           "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, "
           "installed_by, execution_time, success) VALUES (1, '1', 'users', 'SQL', 'V1__users.sql', 1, 'app', 5, "
           "true), (2, '1.1', 'email', 'SQL', 'V1_1__email.sql', 2, 'app', 5, true)"},
          "V2__orders"};
}

ToolCase sqitch(const std::string& project) {
  auto wrapped = [](const std::string& sql) { return "-- Deploy\n\nBEGIN;\n\n" + sql + ";\n\nCOMMIT;\n"; };
  std::string change = by_engine("change", "`change`");
  return {"sqitch",
          {{"sqitch.plan", "%syntax-version=1.0.0\n%project=" + project +
                               "\n\nusers 2024-01-01T00:00:00Z A <a@example.com> # users\n"
                               "email [users] 2024-01-02T00:00:00Z A <a@example.com> # email\n"
                               "@v1.0 2024-01-02T00:00:01Z A <a@example.com> # tag\n"
                               "orders 2024-01-03T00:00:00Z A <a@example.com> # orders\n"},
           {"deploy/users.sql", wrapped(kUsers)},
           {"revert/users.sql", wrapped("DROP TABLE ad_users")},
           {"deploy/email.sql", wrapped(kEmail)},
           {"revert/email.sql", wrapped("ALTER TABLE ad_users DROP COLUMN email")},
           {"deploy/orders.sql", wrapped(kOrders)},
           {"revert/orders.sql", wrapped("DROP TABLE ad_orders")}},
          {by_engine("CREATE SCHEMA IF NOT EXISTS sqitch", "CREATE DATABASE IF NOT EXISTS sqitch"),
           "CREATE TABLE IF NOT EXISTS sqitch.changes (change_id VARCHAR(40) PRIMARY KEY, script_hash VARCHAR(40), " +
               change + " VARCHAR(255) NOT NULL, project VARCHAR(255) NOT NULL, note TEXT NOT NULL)",
           fmt::format("INSERT INTO sqitch.changes (change_id, {}, project, note) VALUES ('{}1', 'users', '{}', ''), "
                       "('{}2', 'email', '{}', '')",
                       change, project.substr(0, 38), project, project.substr(0, 38), project)},
          "orders"};
}

void write_case(UpdateTree& tree, const ToolCase& c) {
  for (const auto& [name, text] : c.files) tree.write(name, text);
}

/// On MariaDB, Sqitch's registry is the server's database `sqitch`, shared with the real
/// Sqitch of the real-tools test (which takes turns with this suite: RESOURCE_LOCK): the
/// one a case makes goes again. On PostgreSQL it is a schema of the scratch database.
class SqitchRegistry {
 public:
  explicit SqitchRegistry(const ScratchDatabase& db)
      : db_(db),
        made_(!on_postgres() && db.count("SELECT COUNT(*) FROM information_schema.schemata "
                                         "WHERE schema_name = 'sqitch'") == 0) {}
  ~SqitchRegistry() {
    if (made_) db_.execute("DROP DATABASE IF EXISTS sqitch");
  }
  SqitchRegistry(const SqitchRegistry&) = delete;
  SqitchRegistry& operator=(const SqitchRegistry&) = delete;

 private:
  const ScratchDatabase& db_;
  bool made_;
};

}  // namespace

TEST_CASE("migrate --adopt adopts a database each tool migrated, applies the newer, removes the newer") {
  ScratchDatabase db;
  SqitchRegistry registry(db);
  for (const auto& c : {golang_migrate(), dbmate(), goose(), flyway(), sqitch(db.name())}) {
    CAPTURE(c.tool);
    ScratchDatabase target;
    UpdateTree tree;
    write_case(tree, c);
    target.execute(kUsers);
    target.execute(kEmail);
    for (const auto& sql : c.history) target.execute(sql);
    auto env = env_for(target, tree);

    RunResult refused = run_installer({"migrate"}, env);
    INFO(refused.err);
    CHECK(refused.exit_code == 65);
    CHECK(refused.err.find("--adopt") != std::string::npos);
    CHECK(refused.err.find("installer baseline") != std::string::npos);
    CHECK(!target.journal_exists());
    CHECK(!target.table_exists("ad_orders"));

    RunResult adopted = run_installer({"migrate", "--adopt"}, env);
    INFO(adopted.err);
    REQUIRE(adopted.exit_code == 0);
    CHECK(adopted.err.find("2 updates journaled as adopted") != std::string::npos);
    CHECK(target.journal_attempts("adopted") == 2);
    CHECK(target.journal_attempts("applied") == 1);
    CHECK(target.table_exists("ad_orders"));

    RunResult again = run_installer({"migrate"}, env);
    CHECK(again.exit_code == 0);
    CHECK(again.err.find("nothing to do") != std::string::npos);

    RunResult removed = run_installer({"--remove-update", c.third_id}, env);
    INFO(removed.all());
    CHECK(removed.exit_code == 0);
    CHECK(!target.table_exists("ad_orders"));
    CHECK(target.column_exists("ad_users", "email"));
    if (c.tool == "sqitch" && !on_postgres())
      target.execute(fmt::format("DELETE FROM sqitch.changes WHERE project = '{}'", db.name()));
  }
}

TEST_CASE("adoption refuses what is not safe, naming it, with the database unchanged") {
  ScratchDatabase db;
  UpdateTree tree;
  write_case(tree, golang_migrate());
  auto env = env_for(db, tree);
  db.execute(kUsers);
  db.execute(kEmail);
  for (const auto& sql : golang_migrate().history) db.execute(sql);

  SUBCASE("a dirty golang-migrate row") {
    db.execute("UPDATE schema_migrations SET dirty = true");
    RunResult r = run_installer({"migrate", "--adopt"}, env);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("schema_migrations has version 2 dirty") != std::string::npos);
    CHECK(r.err.find("migrate force") != std::string::npos);
  }
  SUBCASE("a version the folder does not have") {
    db.execute("UPDATE schema_migrations SET version = 7");
    RunResult r = run_installer({"migrate", "--adopt"}, env);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("records 7 as applied") != std::string::npos);
  }
  SUBCASE("tables and no history table of the updates' tool") {
    db.execute("DROP TABLE schema_migrations");
    RunResult r = run_installer({"migrate", "--adopt"}, env);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("no history table of golang-migrate") != std::string::npos);
    CHECK(r.err.find("ad_users") != std::string::npos);
  }
  CHECK(!db.journal_exists());
  CHECK(!db.table_exists("ad_orders"));
}

TEST_CASE("a Sqitch registry without the project's changes is no history: the database is refused, not migrated") {
  ScratchDatabase db;
  SqitchRegistry registry(db);
  UpdateTree tree;
  write_case(tree, sqitch(db.name()));
  db.execute(kUsers);
  // Another project's changes, as another database on the same server would have them.
  for (const auto& sql : sqitch("other_" + db.name()).history) db.execute(sql);
  auto env = env_for(db, tree);
  for (const char* flag : {"", "--adopt"}) {
    CAPTURE(flag);
    RunResult r = run_installer(*flag ? std::vector<std::string>{"migrate", flag} : std::vector<std::string>{"migrate"},
                                env);
    INFO(r.err);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("among them the history table") == std::string::npos);
    CHECK(r.err.find("journaled as adopted") == std::string::npos);
  }
  RunResult adopt = run_installer({"migrate", "--adopt"}, env);
  CHECK(adopt.err.find("no history table of sqitch") != std::string::npos);
  CHECK(!db.journal_exists());
  CHECK(!db.table_exists("ad_orders"));
  if (!on_postgres()) db.execute(fmt::format("DELETE FROM sqitch.changes WHERE project = 'other_{}'", db.name()));
}

TEST_CASE("a failed Flyway row is refused with exit 65, naming the row") {
  ScratchDatabase db;
  UpdateTree tree;
  write_case(tree, flyway());
  db.execute(kUsers);
  for (const auto& sql : flyway().history) db.execute(sql);
  db.execute("UPDATE flyway_schema_history SET success = false WHERE installed_rank = 2");
  RunResult r = run_installer({"migrate", "--adopt"}, env_for(db, tree));
  CHECK(r.exit_code == 65);
  CHECK(r.err.find("row 2 (V1_1__email.sql, version 1.1) has success = false") != std::string::npos);
  CHECK(!db.journal_exists());
}

TEST_CASE("a folder without downs is adopted and applied, and its updates say they cannot be removed") {
  ScratchDatabase db;
  UpdateTree tree;
  tree.write("000001_users.up.sql", std::string(kUsers) + ";\n");
  tree.write("000002_orders.up.sql", std::string(kOrders) + ";\n");
  db.execute(kUsers);
  db.execute("CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty " + bool_type() +
             " NOT NULL)");
  db.execute("INSERT INTO schema_migrations VALUES (1, false)");
  auto env = env_for(db, tree);
  REQUIRE(run_installer({"migrate", "--adopt"}, env).exit_code == 0);
  CHECK(db.table_exists("ad_orders"));
  for (const char* id : {"000001_users", "000002_orders"}) {
    RunResult r = run_installer({"--remove-update", id}, env);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("has no down script") != std::string::npos);
  }
  CHECK(db.table_exists("ad_orders"));
}

TEST_CASE("status and plan say that migrate would refuse a database with tables and no journal") {
  ScratchDatabase db;
  UpdateTree tree;
  write_case(tree, golang_migrate());
  db.execute(kUsers);
  auto env = env_for(db, tree);
  for (const char* report : {"status", "plan"}) {
    CAPTURE(report);
    RunResult r = run_installer({report}, env);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("the database has 1 table (table " + by_engine("public.", "") +
                     "ad_users) but no installer journal: migrate refuses it (exit 65)") != std::string::npos);
  }
  CHECK(!db.journal_exists());
}

TEST_CASE("a journal that records nothing is no journal: tables made after it are still refused") {
  ScratchDatabase db;
  UpdateTree empty, tree;
  write_case(tree, golang_migrate());
  // A migrate with nothing to apply creates the journal and writes no attempt.
  REQUIRE(run_installer({"migrate"}, env_for(db, empty)).exit_code == 0);
  REQUIRE(db.journal_exists());
  db.execute(kUsers);
  RunResult r = run_installer({"migrate"}, env_for(db, tree));
  CHECK(r.exit_code == 65);
  CHECK(r.err.find("no installer journal") != std::string::npos);
  CHECK(db.journal_attempts() == 0);
}
