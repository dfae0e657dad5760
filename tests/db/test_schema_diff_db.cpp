// What an operator sees of schema changes: `installer diff`, `status`, and journals whose
// schema records an older installer wrote (per-kind digests).
#include "db_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

using namespace installer;
using namespace installer::testing;
using nlohmann::json;

namespace {

void write_orders(UpdateTree& tree) {
  tree.write("1/001_orders.up.sql", "CREATE TABLE orders (id int PRIMARY KEY);\n");
  tree.write("1/001_orders.down.sql", "DROP TABLE orders;\n");
  tree.write("2/001_users.up.sql", "CREATE TABLE users (id int PRIMARY KEY, email varchar(200));\n");
  tree.write("2/001_users.down.sql", "DROP TABLE users;\n");
}

std::string status_column_name() { return by_engine("column public.orders.status", "column orders.status"); }

}  // namespace

TEST_CASE("a column added by hand shows in diff and status by name, and diff exits 1") {
  ScratchDatabase db;
  UpdateTree tree;
  write_orders(tree);
  auto env = env_for(db, tree);
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);

  RunResult same = run_installer({"diff"}, env);
  INFO(same.all());
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("no differences: the schema is the snapshot recorded after update 2") != std::string::npos);

  db.execute("ALTER TABLE orders ADD COLUMN status varchar(20) NOT NULL DEFAULT 'new'");
  RunResult diff = run_installer({"diff"}, env);
  INFO(diff.all());
  CHECK(diff.exit_code == 1);
  CHECK(diff.out.find(status_column_name() + ": present, was absent (") != std::string::npos);
  CHECK(diff.out.find("'new'") != std::string::npos);
  CHECK(diff.out.find("1 difference") != std::string::npos);

  RunResult as_json = run_installer({"diff", "--json"}, env);
  CHECK(as_json.exit_code == 1);
  json j = json::parse(as_json.out);
  CHECK(j["equal"] == false);
  CHECK(j["against"]["update"] == "2");
  REQUIRE(j["differences"].size() == 1);
  CHECK(j["differences"][0]["kind"] == "column");
  CHECK(j["differences"][0]["change"] == "added");
  CHECK(j["differences"][0]["before"] == "");

  RunResult status = run_installer({"status"}, env);
  INFO(status.all());
  CHECK(status.exit_code == 0);
  CHECK(status.out.find("CHANGED since the last update") != std::string::npos);
  CHECK(status.out.find(status_column_name() + ": present, was absent") != std::string::npos);
  json s = json::parse(run_installer({"status", "--json"}, env).out);
  CHECK(s["schema"]["matches_journal"] == false);
  CHECK(s["schema"]["differences"][0]["name"] == by_engine("public.orders.status", "orders.status"));

  // Against an earlier update: the users table is a difference too, and the column.
  RunResult earlier = run_installer({"diff", "--against", "1"}, env);
  INFO(earlier.all());
  CHECK(earlier.exit_code == 1);
  CHECK(earlier.out.find(by_engine("table public.users: present, was absent", "table users: present, was absent")) !=
        std::string::npos);
  CHECK(earlier.out.find(status_column_name()) != std::string::npos);
}

TEST_CASE("a trigger that runs DDL behind an update of rows: the snapshot after the update has what it made") {
  // The update's statements name no table to read again; the server's counters of the
  // transaction's catalog changes tell that a table's definition changed all the same.
  if (!on_postgres()) return;  // a MariaDB trigger cannot run DDL
  ScratchDatabase db;
  UpdateTree tree;
  tree.write("1/001_src.up.sql",
             "CREATE TABLE src (id int);\n"
             "CREATE FUNCTION make_side() RETURNS trigger LANGUAGE plpgsql AS $$\n"
             "BEGIN EXECUTE format('CREATE TABLE side_%s (id int)', NEW.id); RETURN NEW; END $$;\n"
             "CREATE TRIGGER src_make AFTER INSERT ON src FOR EACH ROW EXECUTE FUNCTION make_side();\n");
  tree.write("1/001_src.down.sql", "DROP TABLE src;\nDROP FUNCTION make_side();\n");
  tree.write("2/001_rows.up.sql", "INSERT INTO src VALUES (7);\n");
  tree.write("2/001_rows.down.sql", "DELETE FROM src;\nDROP TABLE side_7;\n");
  auto env = env_for(db, tree);
  RunResult migrated = run_installer({"migrate", "--log-level", "debug"}, env);
  INFO(migrated.all());
  REQUIRE(migrated.exit_code == 0);
  CHECK(migrated.err.find("which no statement names: reading the schema in full") != std::string::npos);
  RunResult diff = run_installer({"diff"}, env);
  INFO(diff.all());
  CHECK(diff.exit_code == 0);
  // And the removal of update 2 is verified against the snapshot before it.
  RunResult removed = run_installer({"--remove-update", "2"}, env);
  INFO(removed.all());
  CHECK(removed.exit_code == 0);
}

TEST_CASE("a sequence created for a table that no statement names: the table keeps its objects in the snapshot") {
  // The read of the sequence returns it as its owner's; the owner itself was not read.
  if (!on_postgres()) return;  // a MariaDB sequence belongs to no table
  ScratchDatabase db;
  UpdateTree tree;
  tree.write("1/001_t.up.sql", "CREATE TABLE owner_t (id int PRIMARY KEY, note text);\n");
  tree.write("1/001_t.down.sql", "DROP TABLE owner_t;\n");
  tree.write("2/001_s.up.sql", "CREATE SEQUENCE owned_s OWNED BY owner_t.id;\n");
  tree.write("2/001_s.down.sql", "DROP SEQUENCE owned_s;\n");
  auto env = env_for(db, tree);
  RunResult migrated = run_installer({"migrate"}, env);
  INFO(migrated.all());
  REQUIRE(migrated.exit_code == 0);
  RunResult diff = run_installer({"diff"}, env);
  INFO(diff.all());
  CHECK(diff.exit_code == 0);
}

TEST_CASE("diff refuses what it cannot compare, and changes nothing") {
  ScratchDatabase db;
  UpdateTree tree;
  write_orders(tree);
  auto env = env_for(db, tree);
  RunResult no_journal = run_installer({"diff"}, env);
  CHECK(no_journal.exit_code == 65);
  CHECK(no_journal.err.find("no journal yet") != std::string::npos);
  CHECK_FALSE(db.table_exists("orders"));
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  RunResult unknown = run_installer({"diff", "--against", "9"}, env);
  CHECK(unknown.exit_code == 65);
  CHECK(unknown.err.find("update 9 was never applied") != std::string::npos);
}

TEST_CASE("a per-kind fingerprint written by an older installer is still compared, and says so") {
  ScratchDatabase db;
  UpdateTree tree;
  write_orders(tree);
  EngineSession s(db);
  std::string empty_per_kind = s.fingerprint().serialize();
  auto env = env_for(db, tree);
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  // As an older installer journaled it: the per-kind digests of the schema before.
  db.execute(
      fmt::format("UPDATE {} SET fingerprint_before = '{}' WHERE update_id = '1'", journal("updates"), empty_per_kind));
  REQUIRE(run_installer({"--remove-update", "2"}, env).exit_code == 0);
  db.execute("CREATE TABLE leftover (id int)");
  RunResult leaky = run_installer({"--remove-update", "1"}, env);
  INFO(leaky.all());
  CHECK(leaky.exit_code == 79);
  CHECK(leaky.err.find("per-kind digests") != std::string::npos);
  CHECK(leaky.err.find("recorded by an older installer") != std::string::npos);
  CHECK(leaky.err.find("table: 0 before, 1 now") != std::string::npos);

  db.execute("DROP TABLE leftover");
  RunResult fixed = run_installer({"migrate"}, env);  // finishes the revert left revert_failed, then applies again
  INFO(fixed.all());
  CHECK(fixed.exit_code == 0);
}
