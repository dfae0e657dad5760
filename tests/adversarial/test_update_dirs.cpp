// Update directories that are not what they seem, and a journal placed where it would hide
// the application's schema from every check.
#include "adversarial.hpp"

#include <boost/filesystem.hpp>

using namespace installer;
using namespace installer::adversarial;
namespace fs = boost::filesystem;

TEST_CASE("a dangling or looping link for an update directory or update.toml is an error, not skipped") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree);
  auto before = state_of(db);
  struct Case {
    const char* link;
    const char* target;
  };
  for (Case c : {Case{"2.0", "/nonexistent/update"}, Case{"3.0", "3.0"},
                 Case{"1.0/update.toml", "/nonexistent/update.toml"}, Case{"1.0/update.toml", "update.toml"}}) {
    INFO(c.link, " -> ", c.target);
    fs::create_symlink(c.target, tree.root() / c.link);
    auto r = testing::run_installer({"migrate"}, env_for(db, tree.root().string()));
    INFO(r.err);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find((tree.root() / c.link).string() + ": is a symbolic link to") != std::string::npos);
    CHECK(state_of(db) == before);
    fs::remove(tree.root() / c.link);
  }
}

TEST_SUITE(testing::kPostgresOnly) {
  TEST_CASE("PostgreSQL: --journal-schema naming the application's schema is refused, changing nothing") {
    ScratchDatabase db;
    UpdateTree tree;
    write_base_update(tree);
    db.execute("CREATE TABLE customers (id int)");
    auto before = state_of(db);
    auto r = testing::run_installer({"migrate", "--journal-schema", "public"}, env_for(db, tree.root().string()));
    INFO(r.err);
    CHECK(r.exit_code == 78);
    CHECK(r.err.find("--journal-schema 'public' holds tables that are not the journal's (customers)") !=
          std::string::npos);
    CHECK(state_of(db) == before);
    CHECK_FALSE(db.table_exists("adv_base"));
    // Its own schema, even one that exists already and is empty, is fine (for a database
    // that has no tables of its own yet: one that has is adopted first, docs/adopt.md).
    db.execute("DROP TABLE customers");
    db.execute("CREATE SCHEMA audit_journal");
    CHECK(testing::run_installer({"migrate", "--journal-schema", "audit_journal"}, env_for(db, tree.root().string()))
              .exit_code == 0);
  }
}

TEST_SUITE(testing::kMariadbOnly) {
  TEST_CASE("MariaDB: a --journal-schema prefix that names application tables as the journal's is refused") {
    ScratchDatabase db;
    UpdateTree tree;
    write_base_update(tree);
    db.execute("CREATE TABLE app_steps (id INT PRIMARY KEY)");
    auto before = state_of(db);
    auto r = testing::run_installer({"migrate", "--journal-schema", "app"}, env_for(db, tree.root().string()));
    INFO(r.err);
    CHECK(r.exit_code == 78);
    CHECK(r.err.find("names tables of the application as the journal's (app_steps)") != std::string::npos);
    CHECK(state_of(db) == before);
    CHECK_FALSE(db.table_exists("adv_base"));
    CHECK_FALSE(db.table_exists("app_journal_format"));
  }
}
