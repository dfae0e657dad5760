// Statements that change the session the installer shares with the steps: the journal's
// writes would run as another user, into another database, read-only or never committed.
// Those the lint can see are refused with file and line; those it cannot (inside a CALL, a
// set_config) are caught after the step, which is then reverted like any failed step.
#include "adversarial.hpp"

#include <fmt/format.h>

using namespace installer;
using namespace installer::adversarial;

namespace {

/// Each script (line 2 holds the statement) must be refused for `words`.
void check_each_refused(const std::vector<std::string>& statements, const std::string& words) {
  ScratchDatabase db;
  UpdateTree tree;
  auto before = applied_base(db, tree);
  tree.write("2.0/001_session.down.sql", "SELECT 1;\n");
  for (const auto& statement : statements) {
    INFO(statement);
    tree.write("2.0/001_session.up.sql", "SELECT 1;\n" + statement + "\nSELECT 2;\n");
    check_refused(db, tree, before, "2.0/001_session.up.sql:2:", words);
  }
}

/// A step whose last statement changes the session behind the lint's back: exit 70, the
/// step's table gone again, the journal's rows committed, and the next start the same.
void check_caught_after_step(const std::string& setup, const std::string& hidden_change, const std::string& words) {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree);
  if (!setup.empty()) db.execute(setup);
  tree.write("2.0/001_hidden.up.sql", "CREATE TABLE adv_hidden (id INT);\n" + hidden_change + "\n");
  tree.write("2.0/001_hidden.down.sql", "DROP TABLE adv_hidden;\n");
  for (int start = 1; start <= 2; ++start) {
    INFO("start ", start);
    auto r = testing::run_installer({"migrate"}, env_for(db, tree.root().string()));
    INFO(r.err);
    CHECK(r.exit_code == 70);
    CHECK(r.err.find("the session is not the installer's any more") != std::string::npos);
    CHECK(r.err.find(words) != std::string::npos);
    CHECK_FALSE(db.table_exists("adv_hidden"));
    CHECK(db.count("SELECT count(*) FROM adv_base") == 1);
    CHECK(db.journal_attempts("applied") == 1);  // the base update's, seen from another session
    CHECK(db.journal_attempts("", "2.0") == start);
  }
}

}  // namespace

TEST_SUITE(testing::kMariadbOnly) {
  TEST_CASE(
      "MariaDB: statements that change autocommit, the database, read-only mode or the role are refused wherever they are") {
    check_each_refused({"SET sql_mode = DEFAULT, autocommit = 0;", "SET @@session.autocommit := 0;",
                        "SET SESSION sql_mode = 'ANSI', SESSION autocommit = OFF;", "/*!40101 SET autocommit = 0 */;",
                        "/*M!100100 SET @@autocommit = 0 */;"},
                       "SET autocommit would hold back the commits");
    check_each_refused({"SET tx_read_only = 1;", "SET SESSION TRANSACTION READ ONLY;",
                        "SET @@SESSION.tx_read_only = ON;"},
                       "journal writes fail");
  }
  TEST_CASE("MariaDB: USE in an executable comment or a DELIMITER block is refused") {
    ScratchDatabase db;
    UpdateTree tree;
    auto before = applied_base(db, tree);
    tree.write("2.0/001_use.down.sql", "SELECT 1;\n");
    tree.write("2.0/001_use.up.sql", "SELECT 1;\n/*!USE mysql */;\n");
    check_refused(db, tree, before, "2.0/001_use.up.sql:2:", "USE would switch");
    tree.write("2.0/001_use.up.sql", "DELIMITER $$\nSELECT 1;\nUSE mysql;\nSELECT 2$$\nDELIMITER ;\n");
    check_refused(db, tree, before, "2.0/001_use.up.sql:3:", "USE would switch");
    tree.write("2.0/001_use.up.sql", "SELECT 1;\nSET ROLE adv_nobody;\n");
    check_refused(db, tree, before, "2.0/001_use.up.sql:2:", "SET ROLE");
  }
  TEST_CASE("MariaDB: what the lint lets through is fine: settings the installer puts back, routine bodies") {
    ScratchDatabase db;
    UpdateTree tree;
    write_base_update(tree);
    tree.write("2.0/001_ok.up.sql", "/*!40101 SET NAMES utf8mb4 */;\nSET sql_mode = '', foreign_key_checks = 0;\n"
                                    "CREATE PROCEDURE adv_p(OUT x INT) BEGIN SET x = 1; END;\n");
    tree.write("2.0/001_ok.down.sql", "DROP PROCEDURE adv_p;\n");
    auto r = testing::run_installer({"migrate"}, env_for(db, tree.root().string()));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(db.journal_attempts("applied") == 2);
  }
  TEST_CASE("MariaDB: a CALL that switches autocommit off is caught after the step and reverted") {
    check_caught_after_step("CREATE PROCEDURE adv_off() SET autocommit = 0", "CALL adv_off();", "autocommit is off");
  }
}

TEST_SUITE(testing::kPostgresOnly) {
  TEST_CASE("PostgreSQL: role, session user and read-only changes are refused") {
    check_each_refused({"SET ROLE postgres;", "SET SESSION ROLE postgres;", "SET LOCAL ROLE postgres;", "RESET ROLE;",
                        "SET SESSION AUTHORIZATION postgres;"},
                       "would change the user the installer's journal writes run as");
    check_each_refused({"SET TRANSACTION READ ONLY;", "SET transaction_read_only = on;",
                        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;"},
                       "journal writes fail");
  }
  TEST_CASE("PostgreSQL: a step's timeouts end with the step, so they cannot fail the journal's writes") {
    ScratchDatabase db;
    UpdateTree tree;
    write_base_update(tree);
    tree.write("2.0/001_timeout.up.sql",
               // statement_timeout last: no statement of the step itself runs under 1 ms.
               "CREATE TABLE adv_t (id int);\nSET idle_in_transaction_session_timeout = '1ms';\n"
               "SET lock_timeout = '1ms';\nSET statement_timeout = '1ms';\n");
    tree.write("2.0/001_timeout.down.sql", "DROP TABLE adv_t;\n");
    tree.write("3.0/001_next.up.sql", "CREATE TABLE adv_seen AS SELECT current_setting('statement_timeout') AS t;\n");
    tree.write("3.0/001_next.down.sql", "DROP TABLE adv_seen;\n");
    auto r = testing::run_installer({"migrate"}, env_for(db, tree.root().string()));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(db.journal_attempts("applied") == 3);
    CHECK(db.scalar("SELECT t FROM adv_seen") == db.scalar("SELECT current_setting('statement_timeout')"));
  }
  TEST_CASE(
      "PostgreSQL: timeouts set in a step outside the transaction do not bound the journal's writes between its statements") {
    ScratchDatabase db;
    UpdateTree tree;
    write_base_update(tree);
    // Left in force for the journal's progress writes after the step's statements, 1 ms
    // would fail one now and then (exit 71); they run with the timeouts off. The timeouts
    // come last so that none of the step's own statements runs under them (a loaded machine
    // can take more than 1 ms for a CREATE TABLE).
    tree.write("2.0/update.toml", "[steps.001_outside]\ntransaction = false\n");
    tree.write("2.0/001_outside.up.sql",
               "CREATE TABLE adv_o1 (id int);\nCREATE TABLE adv_o2 (id int);\nCREATE TABLE adv_o3 (id int);\n"
               "SET lock_timeout = '1ms';\nSET statement_timeout = '1ms';\n");
    tree.write("2.0/001_outside.down.sql", "DROP TABLE IF EXISTS adv_o3, adv_o2, adv_o1;\n");
    auto r = testing::run_installer({"migrate"}, env_for(db, tree.root().string()));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(db.journal_attempts("applied") == 2);
    CHECK(db.table_exists("adv_o3"));
  }
  TEST_CASE(
      "PostgreSQL: a tiny idle_in_transaction_session_timeout set by a step does not end the installer's session") {
    // The server counts idle time from each pipeline's sync on, until the installer's next
    // statement; on a loaded machine that moment exceeded 1 ms now and then and the server
    // ended the session (the installer reconnected and started the update again, or with
    // worse luck exited 69). The test fault stalls the installer right there.
    ScratchDatabase db;
    UpdateTree tree;
    write_base_update(tree);
    tree.write("2.0/001_idle.up.sql",
               "CREATE TABLE adv_idle (id int);\nSET idle_in_transaction_session_timeout = '1ms';\n");
    tree.write("2.0/001_idle.down.sql", "DROP TABLE adv_idle;\n");
    tree.write("2.0/002_next.up.sql", "CREATE TABLE adv_idle_next (id int);\n");
    tree.write("2.0/002_next.down.sql", "DROP TABLE adv_idle_next;\n");
    auto env = env_for(db, tree.root().string());
    env["INSTALLER_TEST_FAULT"] = "apply:2.0:001_idle:statement=2:stall";
    auto r = testing::run_installer({"migrate"}, env);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    // The installer would recover from the lost session; the point is not to lose it.
    CHECK(r.err.find("lost the database session") == std::string::npos);
    CHECK(db.journal_attempts("applied") == 2);
    CHECK(db.table_exists("adv_idle_next"));
  }
  TEST_CASE("PostgreSQL: a set_config that makes the transaction read-only is caught after the step and rolled back") {
    check_caught_after_step("", "SELECT set_config('transaction_read_only', 'on', false);", "read-only");
  }
}
