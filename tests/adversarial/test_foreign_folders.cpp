// Other tools' folders and a release's schema snapshots (docs/adopt.md) as a careless or
// hostile vendor or operator leaves them: a plan that points outside, files that are not
// files, line ends of another system, snapshot files that are not what verify wrote.
#include "adversarial.hpp"

#include <sys/stat.h>
#include <boost/filesystem.hpp>

#include <fstream>
#include <functional>

using namespace installer;
using namespace installer::adversarial;
namespace fs = boost::filesystem;

namespace {

/// A table and no journal: what --adopt is for.
void give_it_a_table(const ScratchDatabase& db) { db.execute("CREATE TABLE ff_users (id int PRIMARY KEY)"); }

}  // namespace

TEST_CASE("a Sqitch plan naming a change outside deploy/ is refused, naming the line; nothing is read from there") {
  ScratchDatabase db;
  UpdateTree tree;
  tree.write("sqitch.plan", "%syntax-version=1.0.0\n%project=p\n\nusers 2024-01-01T00:00:00Z A <a@b> # ok\n"
                            "../../outside 2024-01-02T00:00:00Z A <a@b> # no\n");
  tree.write("deploy/users.sql", "CREATE TABLE ff_users (id int);\n");
  tree.write("outside.sql", "CREATE TABLE ff_outside (id int);\n");
  auto before = state_of(db);
  auto r = testing::run_installer({"migrate"}, env_for(db, tree.root().string()));
  INFO(r.err);
  CHECK(r.exit_code == 65);
  CHECK(r.err.find("sqitch.plan:5: change '../../outside' names a script outside deploy/") != std::string::npos);
  CHECK(state_of(db) == before);
}

TEST_CASE("a FIFO or a broken link named as a migration is refused, naming it, not skipped nor waited on") {
  ScratchDatabase db;
  UpdateTree tree;
  tree.write("000001_users.up.sql", "CREATE TABLE ff_users (id int);\n");
  tree.write("000001_users.down.sql", "DROP TABLE ff_users;\n");
  auto before = state_of(db);
  for (const char* kind : {"fifo", "link"}) {
    CAPTURE(kind);
    fs::path entry = tree.root() / "000002_orders.up.sql";
    if (std::string(kind) == "fifo") REQUIRE(::mkfifo(entry.c_str(), 0644) == 0);
    else fs::create_symlink("/nonexistent/orders.sql", entry);
    auto r = testing::run_installer({"migrate"}, env_for(db, tree.root().string()), std::chrono::seconds(30));
    INFO(r.err);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find(entry.string() + ": cannot read") != std::string::npos);
    CHECK(state_of(db) == before);
    fs::remove(entry);
  }
}

TEST_CASE("dbmate and goose files with CRLF line ends read as with LF ones") {
  struct Case {
    const char* file;
    const char* text;
    const char* id;
  };
  for (Case c : {Case{"20240101000001_a.sql",
                      "-- migrate:up\r\nCREATE TABLE ff_t (id int);\r\n-- migrate:down\r\nDROP TABLE ff_t;\r\n",
                      "20240101000001_a"},
                 Case{"00001_b.sql",
                      "-- +goose Up\r\n-- +goose StatementBegin\r\nCREATE TABLE ff_t (id int);\r\n-- +goose "
                      "StatementEnd\r\n\r\n-- +goose Down\r\nDROP TABLE ff_t;\r\n",
                      "00001_b"}}) {
    CAPTURE(c.file);
    ScratchDatabase db;
    UpdateTree tree;
    tree.write(c.file, c.text);
    auto env = env_for(db, tree.root().string());
    auto r = testing::run_installer({"migrate"}, env);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(db.table_exists("ff_t"));
    CHECK(testing::run_installer({"--remove-update", c.id}, env).exit_code == 0);
    CHECK(!db.table_exists("ff_t"));
  }
}

TEST_CASE("a snapshot file that is not what verify --record wrote is refused, naming it, changing nothing") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree);
  give_it_a_table(db);
  auto before = state_of(db);
  fs::path file = tree.root() / ("installer-snapshots." + testing::engine_word() + ".json");
  struct Case {
    const char* what;
    std::function<void()> make;
    const char* says;
  };
  std::vector<Case> cases{
      {"a FIFO", [&] { REQUIRE(::mkfifo(file.c_str(), 0644) == 0); }, "not a regular file"},
      {"a link to /dev/zero", [&] { fs::create_symlink("/dev/zero", file); }, "not a regular file"},
      {"truncated", [&] { tree.write(file.filename().string(), "{\"format\": \"installer-snap"); }, "not a file"},
      {"nested a million deep",
       [&] { tree.write(file.filename().string(), std::string(1000000, '[') + std::string(1000000, ']')); },
       "not a file"},
      {"right checksum field, wrong types",
       [&] { tree.write(file.filename().string(), R"({"format": "installer-snapshots 1", "updates": 5})"); },
       "not a file"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    c.make();
    auto r = testing::run_installer({"migrate", "--adopt"}, env_for(db, tree.root().string()),
                                    std::chrono::seconds(30));
    INFO(r.err);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find(file.string() + ": ") != std::string::npos);
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK(state_of(db) == before);
    fs::remove(file);
  }
}
