// The revert path under stress, on both engines: a failure at every statement of a
// multi-step update, and a down script that fails half way through a revert.
//
// On PostgreSQL these updates set transaction = false for every step, so that each
// statement commits on its own as every statement does on MariaDB; an all-transactional
// update is rolled back as one transaction instead (see test_engine_db.cpp).
#include "db_fixture.hpp"
#include "installer/engine/migrator.hpp"
#include "installer/util/error.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>

using namespace installer;
using namespace installer::testing;

namespace {

std::string join(const std::vector<std::string>& statements) {
  std::string out;
  for (const auto& s : statements) out += s + ";\n";
  return out;
}

/// A step of the five-step update: its up statements (the same SQL on both engines)
/// and its down statements per engine, each undoing a partly applied step too.
struct StepSpec {
  std::string name;
  std::vector<std::string> up;
  std::vector<std::string> down_postgres;
  std::vector<std::string> down_mariadb;
  const std::vector<std::string>& down() const { return on_postgres() ? down_postgres : down_mariadb; }
};

const std::vector<StepSpec>& five_steps() {
  static const std::vector<StepSpec> steps = {
      {"001_customers",
       {"CREATE TABLE customers (id int PRIMARY KEY, email varchar(200) NOT NULL)",
        "CREATE UNIQUE INDEX customers_email_key ON customers (email)",
        "ALTER TABLE customers ADD COLUMN created_on date"},
       {"DROP TABLE IF EXISTS customers"},
       {"DROP TABLE IF EXISTS customers"}},
      {"002_invoices",
       {"CREATE TABLE invoices (id int PRIMARY KEY, customer_id int NOT NULL, total_cents int NOT NULL)",
        "CREATE INDEX invoices_customer_idx ON invoices (customer_id)",
        "ALTER TABLE invoices ADD CONSTRAINT invoices_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)"},
       {"DROP TABLE IF EXISTS invoices"},
       {"DROP TABLE IF EXISTS invoices"}},
      {"003_account_columns",
       {"ALTER TABLE accounts ADD COLUMN phone varchar(40)",
        "ALTER TABLE accounts ADD COLUMN tier int NOT NULL DEFAULT 0",
        "CREATE INDEX accounts_tier_idx ON accounts (tier)"},
       {"DROP INDEX IF EXISTS accounts_tier_idx", "ALTER TABLE accounts DROP COLUMN IF EXISTS tier",
        "ALTER TABLE accounts DROP COLUMN IF EXISTS phone"},
       {"DROP INDEX IF EXISTS accounts_tier_idx ON accounts", "ALTER TABLE accounts DROP COLUMN IF EXISTS tier",
        "ALTER TABLE accounts DROP COLUMN IF EXISTS phone"}},
      {"004_invoice_payments",
       {"CREATE VIEW customer_invoices AS SELECT c.id AS customer_id, COUNT(i.id) AS invoices "
        "FROM customers c LEFT JOIN invoices i ON i.customer_id = c.id GROUP BY c.id",
        "ALTER TABLE invoices ADD COLUMN paid_cents int NOT NULL DEFAULT 0",
        "CREATE INDEX invoices_paid_idx ON invoices (paid_cents)"},
       {"DROP INDEX IF EXISTS invoices_paid_idx", "ALTER TABLE invoices DROP COLUMN IF EXISTS paid_cents",
        "DROP VIEW IF EXISTS customer_invoices"},
       {"DROP INDEX IF EXISTS invoices_paid_idx ON invoices", "ALTER TABLE invoices DROP COLUMN IF EXISTS paid_cents",
        "DROP VIEW IF EXISTS customer_invoices"}},
      {"005_audit",
       {"CREATE TABLE audit_log (id int PRIMARY KEY, account_id int, note varchar(200))",
        "CREATE INDEX audit_log_account_idx ON audit_log (account_id)",
        "ALTER TABLE accounts ADD CONSTRAINT accounts_tier_check CHECK (tier >= 0)"},
       {"ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_tier_check", "DROP TABLE IF EXISTS audit_log"},
       {"ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_tier_check", "DROP TABLE IF EXISTS audit_log"}},
  };
  return steps;
}

const char* const kFailingStatement = "CREATE INDEX it_never_idx ON it_no_such_table (id)";

/// Base update 1.0 (the accounts table) and update 2.0 of five_steps(), where statement
/// `failing_statement` of step `failing_step` (both 1-based; 0 for none) is replaced
/// by a statement that fails.
void write_five_steps(UpdateTree& tree, int failing_step, int failing_statement) {
  tree.write("1.0/001_accounts.up.sql", "CREATE TABLE accounts (id int PRIMARY KEY, name varchar(100) NOT NULL);\n"
                                        "INSERT INTO accounts VALUES (1, 'ada');\n");
  tree.write("1.0/001_accounts.down.sql", "DROP TABLE IF EXISTS accounts;\n");
  std::string manifest = "requires = \"1.0\"\n";
  const auto& steps = five_steps();
  for (size_t k = 0; k < steps.size(); ++k) {
    const StepSpec& step = steps[k];
    std::vector<std::string> up = step.up;
    if (static_cast<int>(k + 1) == failing_step) up.at(static_cast<size_t>(failing_statement - 1)) = kFailingStatement;
    // The catalog pairs each up variant with a down of the same variant or a generic
    // one, so the engine-specific downs come with engine-specific (identical) ups.
    tree.write("2.0/" + step.name + ".postgres.up.sql", join(up));
    tree.write("2.0/" + step.name + ".mariadb.up.sql", join(up));
    tree.write("2.0/" + step.name + ".postgres.down.sql", join(step.down_postgres));
    tree.write("2.0/" + step.name + ".mariadb.down.sql", join(step.down_mariadb));
    manifest += fmt::format("[steps.{}]\ntransaction = false\n", step.name);
  }
  tree.write("2.0/update.toml", manifest);
}

}  // namespace

TEST_CASE("a failure at each statement position of a 5-step update ends with the fingerprint equal to before") {
  ScratchDatabase scratch;
  EngineSession s(scratch);
  {
    UpdateTree base;
    write_five_steps(base, 0, 0);
    Catalog catalog = base.load();
    Catalog first;
    first.updates.push_back(catalog.updates.at(0));
    REQUIRE(migrate_code(s, first) == exit_ok);
  }
  const Fingerprint before = s.fingerprint();
  const auto objects_before = scratch.objects();

  // Everything update 2.0 would create, looked up by name in information_schema.
  auto leftovers = [&] {
    std::vector<std::string> found;
    for (const char* t : {"customers", "invoices", "audit_log", "customer_invoices"})
      if (scratch.table_exists(t)) found.push_back(std::string("table ") + t);
    for (const char* c : {"phone", "tier"})
      if (scratch.column_exists("accounts", c)) found.push_back(std::string("column accounts.") + c);
    if (scratch.index_exists("accounts", "accounts_tier_idx")) found.push_back("index accounts_tier_idx");
    if (scratch.constraint_exists("accounts", "accounts_tier_check")) found.push_back("constraint accounts_tier_check");
    return found;
  };

  const auto& steps = five_steps();
  int position = 0;
  for (size_t k = 0; k < steps.size(); ++k) {
    for (size_t i = 0; i < steps[k].up.size(); ++i) {
      ++position;
      const int step_no = static_cast<int>(k + 1);
      const int statement_no = static_cast<int>(i + 1);
      CAPTURE(position);
      CAPTURE(steps[k].name);
      CAPTURE(statement_no);
      UpdateTree tree;
      write_five_steps(tree, step_no, statement_no);

      std::string message;
      CHECK(migrate_code(s, tree.load(), &message) == exit_update_failed);
      CHECK(message.find(fmt::format("update 2.0 failed at step {}, statement {} (", steps[k].name, statement_no)) !=
            std::string::npos);
      CHECK(message.find("verified equal to its snapshot ") != std::string::npos);
      CHECK(s.fingerprint() == before);
      CHECK(scratch.objects() == objects_before);
      CHECK(leftovers() == std::vector<std::string>{});

      long long attempt = scratch.latest_attempt("2.0");
      CHECK(scratch.attempt_field(attempt, "state") == "failed");
      CHECK(scratch.attempt_field(attempt, "error_step") == steps[k].name);
      CHECK(scratch.attempt_field(attempt, "error_sqlstate") == sqlstate("42P01", "1146/42S02"));
      CHECK(scratch.attempt_field(attempt, "error_statement") == kFailingStatement);
      CHECK(scratch.journal_attempts("failed", "2.0") == position);
      CHECK(scratch.journal_attempts("", "2.0") == position);

      // The journal says how far the update got: every step before the failing one
      // committed all its statements, the failing one those before the failure, the
      // ones after it never started. What had committed was reverted by its down
      // script; a step with nothing committed had nothing to revert.
      auto journaled = journal_steps(scratch, attempt);
      REQUIRE(journaled.size() == k + 1);
      for (const auto& step : journaled) {
        CAPTURE(step.name);
        const StepSpec& spec = steps.at(static_cast<size_t>(step.position - 1));
        CHECK(step.name == spec.name);
        CHECK(step.statements_total == static_cast<int>(spec.up.size()));
        const bool failing = step.position == step_no;
        const int committed = failing ? statement_no - 1 : step.statements_total;
        CHECK(step.statements_done == committed);
        if (committed > 0 && failing && step.revert_method == "exact") {
          // Undone from its undo records, newest first: its down script did not run.
          CHECK(step.state == "reverted");
          CHECK(step.down_statements_done == 0);
          CHECK(step.undo_done >= committed);
        } else if (committed > 0) {
          CHECK(step.state == "reverted");
          CHECK(step.down_statements_done == static_cast<int>(spec.down().size()));
          // MariaDB knows an exact inverse of every statement here; PostgreSQL none of
          // ALTER TABLE, so its partly applied steps with one are left to the down script.
          if (failing) CHECK(step.revert_method == (on_postgres() ? "tolerant-down" : "exact"));
          else CHECK(step.revert_method == "");
        } else {
          CHECK(step.state == "rolled_back");
          CHECK(step.down_statements_done == 0);
        }
      }
    }
  }
  CHECK(position == 15);
}

namespace {

/// Update 2.0 for the revert-failure test: step 002 makes accounts.name nullable and
/// adds a guest account without a name; its down script forgets that row, so putting
/// NOT NULL back fails once its first statement (dropping an index) has committed.
/// Step 003 fails, which starts the revert. `fixed` ships both mistakes corrected.
void write_revert_trap(UpdateTree& tree, bool fixed) {
  tree.write("2.0/001_tags.up.sql", "CREATE TABLE tags (id int PRIMARY KEY, label varchar(50));\n"
                                    "CREATE INDEX tags_label_idx ON tags (label);\n");
  tree.write("2.0/001_tags.down.sql", "DROP TABLE IF EXISTS tags;\n");
  tree.write("2.0/002_nullable_name.postgres.up.sql", "ALTER TABLE accounts ALTER COLUMN name DROP NOT NULL;\n"
                                                      "CREATE INDEX accounts_name_idx ON accounts (name);\n"
                                                      "INSERT INTO accounts (id, name) VALUES (2, NULL);\n");
  tree.write("2.0/002_nullable_name.mariadb.up.sql", "ALTER TABLE accounts MODIFY name varchar(100) NULL;\n"
                                                     "CREATE INDEX accounts_name_idx ON accounts (name);\n"
                                                     "INSERT INTO accounts (id, name) VALUES (2, NULL);\n");
  // The first statement deliberately has no IF EXISTS: a revert that started this script
  // again from the top, instead of resuming after it, would fail on it.
  std::string forgot = fixed ? "DELETE FROM accounts WHERE name IS NULL;\n" : "";
  tree.write("2.0/002_nullable_name.postgres.down.sql",
             "DROP INDEX accounts_name_idx;\n" + forgot + "ALTER TABLE accounts ALTER COLUMN name SET NOT NULL;\n");
  tree.write("2.0/002_nullable_name.mariadb.down.sql", "DROP INDEX accounts_name_idx ON accounts;\n" + forgot +
                                                           "ALTER TABLE accounts MODIFY name varchar(100) NOT NULL;\n");
  tree.write("2.0/003_notes.up.sql", std::string("CREATE TABLE notes (id int PRIMARY KEY);\n") +
                                         (fixed ? "INSERT INTO notes (id) VALUES (1);\n"
                                                : "INSERT INTO notes (id) SELECT id FROM it_no_such_table;\n"));
  tree.write("2.0/003_notes.down.sql", "DROP TABLE IF EXISTS notes;\n");
  std::string manifest = "requires = \"1.0\"\n";
  if (on_postgres())
    for (const char* step : {"001_tags", "002_nullable_name", "003_notes"})
      manifest += fmt::format("[steps.{}]\ntransaction = false\n", step);
  tree.write("2.0/update.toml", manifest);
}

void write_base(UpdateTree& tree) {
  tree.write("1.0/001_accounts.up.sql", "CREATE TABLE accounts (id int PRIMARY KEY, name varchar(100) NOT NULL);\n"
                                        "INSERT INTO accounts VALUES (1, 'ada');\n");
  tree.write("1.0/001_accounts.down.sql", "DROP TABLE IF EXISTS accounts;\n");
}

}  // namespace

TEST_CASE("a step whose down script fails mid-revert is reported with exactly what remains, exit 79; fixed by hand, "
          "the next migrate resumes the revert") {
  ScratchDatabase db;
  UpdateTree image;  // the image with the broken update
  write_base(image);
  write_revert_trap(image, false);
  UpdateTree older;  // an image without it
  write_base(older);
  auto env = [&](const UpdateTree& tree) {
    return std::map<std::string, std::string>{{"INSTALLER_DB_URL", db.url()},
                                              {"INSTALLER_UPDATES", tree.root().string()}};
  };
  REQUIRE(run_installer({"migrate"}, env(older)).exit_code == 0);
  EngineSession s(db);
  const Fingerprint before = s.fingerprint();
  const auto objects_before = db.objects();

  RunResult failed = run_installer({"migrate"}, env(image));
  INFO(failed.err);
  CHECK(failed.exit_code == 79);
  CHECK(failed.err.find("update 2.0 failed at step 003_notes, statement 2 (") != std::string::npos);
  CHECK(failed.err.find("then reverting update 2.0 failed at step 002_nullable_name, statement 2 (") !=
        std::string::npos);
  if (on_postgres()) CHECK(failed.err.find("[23502]") != std::string::npos);
  const long long attempt = db.latest_attempt("2.0");
  CHECK(failed.err.find(fmt::format("the journal marks attempt {} as revert_failed", attempt)) != std::string::npos);

  // What the message says remains, newest first ...
  const auto remaining = bullet_lines_after(failed.err, "still in the database (newest first):");
  CHECK(remaining ==
        std::vector<std::string>{"002_nullable_name (its down script stopped after 1 statement(s))", "001_tags"});
  auto listed = [&](const std::string& step) {
    return std::any_of(remaining.begin(), remaining.end(),
                       [&](const std::string& line) { return line.rfind(step, 0) == 0; });
  };
  // ... is what information_schema finds: step 001 whole; step 002 without its index
  // (the one down statement that ran) but still nullable; nothing of step 003.
  CHECK(db.table_exists("tags") == listed("001_tags"));
  CHECK(db.index_exists("tags", "tags_label_idx") == listed("001_tags"));
  CHECK(db.column_nullable("accounts", "name") == (listed("002_nullable_name") ? "YES" : "NO"));
  CHECK_FALSE(db.index_exists("accounts", "accounts_name_idx"));
  CHECK(db.table_exists("notes") == listed("003_notes"));
  CHECK(s.fingerprint() != before);

  // The journal agrees.
  CHECK(db.attempt_field(attempt, "state") == "revert_failed");
  CHECK(db.attempt_field(attempt, "error_step") == "003_notes");
  CHECK(db.attempt_field(attempt, "error").find("revert failed at step 002_nullable_name, statement 2") !=
        std::string::npos);
  auto steps = journal_steps(db, attempt);
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].state == "applied");
  CHECK(steps[1].state == "reverting");
  CHECK(steps[1].down_statements_done == 1);
  CHECK(steps[2].state == "reverted");

  // status points at it, reading only.
  RunResult status = run_installer({"status", "--json"}, env(image));
  CHECK(status.out.find("revert_failed") != std::string::npos);

  // The operator fixes the cause by hand, and starts an image without the update.
  db.execute("DELETE FROM accounts WHERE name IS NULL");
  RunResult recovered = run_installer({"migrate"}, env(older));
  INFO(recovered.err);
  CHECK(recovered.exit_code == 0);
  CHECK(recovered.err.find("update 2.0 was left revert_failed") != std::string::npos);
  CHECK(recovered.err.find("recovered: update 2.0 reverted, schema verified") != std::string::npos);
  CHECK(s.fingerprint() == before);
  CHECK(db.objects() == objects_before);
  CHECK(db.column_nullable("accounts", "name") == "NO");
  CHECK_FALSE(db.table_exists("tags"));
  CHECK(db.attempt_field(attempt, "state") == "failed");
  CHECK(db.attempt_field(attempt, "reason") == "failed");
  CHECK(db.attempt_field(attempt, "fingerprint_after") == db.attempt_field(attempt, "fingerprint_before"));
  CHECK(db.attempt_field(attempt, "fingerprint_after") == s.snapshot_record());
  steps = journal_steps(db, attempt);
  REQUIRE(steps.size() == 3);
  for (const auto& step : steps) {
    CAPTURE(step.name);
    CHECK(step.state == "reverted");
  }
  // Resumed after the statement that had committed: two statements in all, the first
  // (no IF EXISTS) not run again.
  CHECK(steps[1].down_statements_done == 2);
  CHECK(db.journal_attempts("", "2.0") == 1);

  // The fixed update then applies like any other.
  UpdateTree fixed;
  write_base(fixed);
  write_revert_trap(fixed, true);
  RunResult applied = run_installer({"migrate"}, env(fixed));
  INFO(applied.err);
  CHECK(applied.exit_code == 0);
  CHECK(db.journal_attempts("applied", "2.0") == 1);
  CHECK(db.table_exists("notes"));
  CHECK(db.column_nullable("accounts", "name") == "YES");
}
