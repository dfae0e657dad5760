// A run that applies more updates than --fingerprint-limit (a first install of a long
// history) fingerprints the schema around its first and its last update only. What stays
// verified: the run's last update, and a removal of the whole run back to its first.
#include "db_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace installer;
using namespace installer::testing;

namespace {

/// Updates 1..count, each creating table tN; update `leaky`'s down script forgets the
/// table tNextra its up script also creates.
void write_updates(UpdateTree& tree, int count, int leaky = 0) {
  for (int n = 1; n <= count; ++n) {
    std::string up = fmt::format("CREATE TABLE t{} (id int PRIMARY KEY);\n", n);
    if (n == leaky) up += fmt::format("CREATE TABLE t{}extra (id int);\n", n);
    tree.write(fmt::format("{}/001_t.up.sql", n), up);
    tree.write(fmt::format("{}/001_t.down.sql", n), fmt::format("DROP TABLE t{};\n", n));
  }
}

std::map<std::string, std::string> env_for(const ScratchDatabase& db, const UpdateTree& tree,
                                           const std::string& limit) {
  return {{"INSTALLER_DB_URL", db.url()},
          {"INSTALLER_UPDATES", tree.root().string()},
          {"INSTALLER_FINGERPRINT_LIMIT", limit}};
}

}  // namespace

TEST_CASE("a run of more updates than --fingerprint-limit fingerprints around its first and last update only") {
  ScratchDatabase db;
  UpdateTree tree;
  write_updates(tree, 5);
  auto env = env_for(db, tree, "2");
  RunResult applied = run_installer({"migrate"}, env);
  INFO(applied.err);
  REQUIRE(applied.exit_code == 0);
  CHECK(applied.err.find("5 updates to apply, more than --fingerprint-limit 2") != std::string::npos);

  auto field = [&](const char* update, const char* column) {
    return db.attempt_field(db.latest_attempt(update), column);
  };
  CHECK_FALSE(field("1", "fingerprint_before").empty());
  CHECK(field("1", "fingerprint_after").empty());
  CHECK(field("3", "fingerprint_before").empty());
  CHECK(field("3", "fingerprint_after").empty());
  CHECK_FALSE(field("4", "fingerprint_after").empty());  // the last update's before
  CHECK(field("5", "fingerprint_before") == field("4", "fingerprint_after"));
  CHECK_FALSE(field("5", "fingerprint_after").empty());

  RunResult last = run_installer({"--remove-update", "5"}, env);
  INFO(last.all());
  CHECK(last.exit_code == 0);
  CHECK(last.out.find("schema verified equal to its fingerprint before the update") != std::string::npos);

  RunResult middle = run_installer({"--remove-update", "4"}, env);
  INFO(middle.all());
  CHECK(middle.exit_code == 0);
  CHECK(middle.out.find("the schema was not compared: no fingerprint was taken before it") != std::string::npos);
  CHECK_FALSE(db.table_exists("t4"));

  // Under the limit, every update has both.
  UpdateTree more;
  write_updates(more, 6);
  RunResult small = run_installer({"migrate"}, env_for(db, more, "16"));
  CHECK(small.exit_code == 0);
  for (const char* update : {"4", "5", "6"}) {
    CHECK_FALSE(field(update, "fingerprint_before").empty());
    CHECK_FALSE(field(update, "fingerprint_after").empty());
  }
}

TEST_CASE("removing a long run's updates together compares the schema once, with the one the run started from") {
  ScratchDatabase db;
  UpdateTree tree;
  write_updates(tree, 5, /*leaky=*/3);
  REQUIRE(run_installer({"migrate"}, env_for(db, tree, "2")).exit_code == 0);
  CHECK(db.table_exists("t3extra"));

  // An image without any of them, told to remove what it does not know: newest first,
  // and the one comparison, after update 1, catches what update 3's down script left.
  UpdateTree none;
  auto env = env_for(db, none, "2");
  env["INSTALLER_AUTO_REMOVE_UNKNOWN"] = "true";
  RunResult removed = run_installer({"migrate"}, env);
  INFO(removed.err);
  CHECK(removed.exit_code == 79);
  CHECK(removed.err.find("table: 0 before, 1 now") != std::string::npos);
  for (const char* table : {"t1", "t2", "t3", "t4", "t5"}) CHECK_FALSE(db.table_exists(table));
  CHECK(db.table_exists("t3extra"));
  CHECK(db.journal_attempts("removed") == 4);
  CHECK(db.journal_attempts("revert_failed", "1") == 1);

  // The same with down scripts that restore everything: removed, and verified.
  ScratchDatabase clean;
  UpdateTree good;
  write_updates(good, 5);
  REQUIRE(run_installer({"migrate"}, env_for(clean, good, "2")).exit_code == 0);
  auto clean_env = env_for(clean, none, "2");
  clean_env["INSTALLER_AUTO_REMOVE_UNKNOWN"] = "true";
  RunResult ok = run_installer({"migrate"}, clean_env);
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.err.find("removed 5 updates; the schema was compared once, after the oldest of them (1)") !=
        std::string::npos);
  CHECK(clean.journal_attempts("removed") == 5);
}

TEST_CASE("by default every update of a long run is fingerprinted: an incomplete down is caught at its own update") {
  // More updates than the old default limit of 16, with update 10's down script leaving a
  // table behind.
  ScratchDatabase db;
  UpdateTree tree;
  write_updates(tree, 20, /*leaky=*/10);
  std::map<std::string, std::string> env{{"INSTALLER_DB_URL", db.url()}, {"INSTALLER_UPDATES", tree.root().string()}};
  RunResult applied = run_installer({"migrate"}, env);
  INFO(applied.err);
  REQUIRE(applied.exit_code == 0);
  for (int n = 1; n <= 20; ++n) {
    CAPTURE(n);
    CHECK_FALSE(db.attempt_field(db.latest_attempt(std::to_string(n)), "fingerprint_before").empty());
  }
  for (int n = 20; n > 10; --n) {
    RunResult removed = run_installer({"--remove-update", std::to_string(n)}, env);
    INFO(removed.all());
    CHECK(removed.exit_code == 0);
    CHECK(removed.out.find("schema verified equal to its fingerprint before the update") != std::string::npos);
  }
  RunResult leaky = run_installer({"--remove-update", "10"}, env);
  INFO(leaky.all());
  CHECK(leaky.exit_code == 79);
  CHECK(leaky.err.find("table: 9 before, 10 now") != std::string::npos);
  CHECK(db.journal_attempts("revert_failed", "10") == 1);
}
