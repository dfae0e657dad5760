// Adoption of a database that hand-written scripts made (docs/adopt.md): the schema
// snapshots installer verify --record ships beside the updates, matched by migrate
// --adopt, and installer baseline.
#include "db_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <fstream>
#include <sstream>

using namespace installer;
using namespace installer::testing;
namespace fs = boost::filesystem;

namespace {

/// The example product's updates, copied, with the snapshots verify --record wrote.
struct RecordedRelease {
  UpdateTree tree;
  std::string snapshots;  ///< the file's path

  RecordedRelease() {
    for (fs::recursive_directory_iterator it(source_dir() + "/migrations"), end; it != end; ++it) {
      if (!fs::is_regular_file(*it)) continue;
      std::string relative = fs::relative(it->path(), source_dir() + "/migrations").string();
      std::ifstream in(it->path().string(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      tree.write(relative, text.str());
    }
    RunResult r = run_installer(
        {"verify", "--record", "--scratch-url", server().admin_url, "--updates", tree.root().string()});
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    snapshots = (tree.root() / ("installer-snapshots." + engine_word() + ".json")).string();
    REQUIRE(r.out.find("verify --record: wrote " + snapshots + " (3 updates") != std::string::npos);
  }
};

/// What an operator who followed the release notes by hand did: every statement of the
/// first `count` updates, run by a plain client, with no journal.
void apply_by_hand(const ScratchDatabase& db, const UpdateTree& tree, size_t count) {
  Catalog catalog = tree.load();
  for (size_t i = 0; i < count; ++i)
    for (const auto& step : catalog.updates[i].steps)
      for (const auto& statement : step.up.statements) db.execute(statement.text);
}

std::string users_column(const std::string& column) { return by_engine("public.users.", "users.") + column; }

}  // namespace

TEST_CASE("a database the first two example updates made by hand is adopted at the second, and applied onwards") {
  RecordedRelease release;
  ScratchDatabase db;
  apply_by_hand(db, release.tree, 2);
  auto env = env_for(db, release.tree);

  RunResult refused = run_installer({"migrate"}, env);
  CHECK(refused.exit_code == 65);
  CHECK(!db.journal_exists());

  RunResult adopted = run_installer({"migrate", "--adopt"}, env);
  INFO(adopted.err);
  REQUIRE(adopted.exit_code == 0);
  CHECK(adopted.err.find("the snapshot after 2024.02.0 in " + release.snapshots) != std::string::npos);
  CHECK(db.journal_attempts("adopted") == 2);
  CHECK(db.journal_attempts("adopted", "2024.03.0") == 0);
  CHECK(db.journal_attempts("applied", "2024.03.0") == 1);
  CHECK(db.column_exists("users", "order_count"));

  RunResult status = run_installer({"status"}, env);
  CHECK(status.out.find("as recorded after the last update") != std::string::npos);
  RunResult removed = run_installer({"--remove-update", "2024.03.0"}, env);
  INFO(removed.all());
  CHECK(removed.exit_code == 0);
  CHECK(!db.column_exists("users", "order_count"));
}

TEST_CASE("one extra column: --adopt and baseline refuse, naming the column and the closest update") {
  RecordedRelease release;
  ScratchDatabase db;
  apply_by_hand(db, release.tree, 2);
  db.execute("ALTER TABLE users ADD COLUMN nickname varchar(20)");
  auto env = env_for(db, release.tree);

  RunResult r = run_installer({"migrate", "--adopt"}, env);
  INFO(r.err);
  CHECK(r.exit_code == 65);
  CHECK(r.err.find("matches none of the snapshots in " + release.snapshots) != std::string::npos);
  CHECK(r.err.find("closest is the schema after update 2024.02.0") != std::string::npos);
  CHECK(r.err.find("column " + users_column("nickname") + ": present, was absent") != std::string::npos);
  CHECK(!db.journal_exists());
  CHECK(!db.column_exists("users", "order_count"));

  RunResult baseline = run_installer({"baseline", "2024.02.0"}, env);
  CHECK(baseline.exit_code == 65);
  CHECK(baseline.err.find("column " + users_column("nickname")) != std::string::npos);
  CHECK(!db.journal_exists());

  RunResult forced = run_installer({"baseline", "2024.02.0", "--force"}, env);
  INFO(forced.all());
  REQUIRE(forced.exit_code == 0);
  CHECK(db.journal_attempts("adopted") == 2);
  std::string reason = db.attempt_field(db.latest_attempt("2024.02.0"), "reason");
  CHECK(reason.find("installer baseline 2024.02.0 by ") != std::string::npos);
  CHECK(reason.find("with --force: the schema differs from the snapshot in 1 object") != std::string::npos);

  RunResult again = run_installer({"baseline", "2024.02.0"}, env);
  CHECK(again.exit_code == 65);
  CHECK(again.err.find("already has update 2024.01.0 in effect") != std::string::npos);

  RunResult migrated = run_installer({"migrate"}, env);
  CHECK(migrated.exit_code == 0);
  CHECK(db.journal_attempts("applied", "2024.03.0") == 1);
  CHECK(db.column_exists("users", "nickname"));
}

TEST_CASE("baseline checks its snapshot and journals who did it; without a snapshot it needs --force") {
  RecordedRelease release;
  ScratchDatabase db;
  apply_by_hand(db, release.tree, 1);
  auto env = env_for(db, release.tree);

  SUBCASE("the snapshot matches") {
    CHECK(run_installer({"baseline", "2024.02.0"}, env).exit_code == 65);  // it is at the first
    RunResult r = run_installer({"baseline", "2024.01.0"}, env);
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("1 update journaled as adopted (2024.01.0)") != std::string::npos);
    std::string reason = db.attempt_field(db.latest_attempt("2024.01.0"), "reason");
    CHECK(reason.find("the schema matching the snapshot after it") != std::string::npos);
    CHECK(run_installer({"migrate"}, env).exit_code == 0);
    CHECK(db.journal_attempts("applied") == 2);
  }
  SUBCASE("an update the directories lack") {
    RunResult r = run_installer({"baseline", "2023.12.0"}, env);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("no update '2023.12.0'") != std::string::npos);
    CHECK(!db.journal_exists());
  }
  SUBCASE("no snapshot shipped") {
    fs::remove(release.snapshots);
    RunResult r = run_installer({"baseline", "2024.01.0"}, env);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("--force") != std::string::npos);
    CHECK(!db.journal_exists());
    RunResult adopt = run_installer({"migrate", "--adopt"}, env);
    CHECK(adopt.exit_code == 65);
    CHECK(adopt.err.find("hold no installer-snapshots." + engine_word() + ".json") != std::string::npos);
    REQUIRE(run_installer({"baseline", "2024.01.0", "--force"}, env).exit_code == 0);
    CHECK(db.attempt_field(db.latest_attempt("2024.01.0"), "reason").find("no snapshot to check") != std::string::npos);
  }
}

TEST_CASE("snapshots are refused when edited, and not used for updates whose content changed since") {
  RecordedRelease release;
  ScratchDatabase db;
  apply_by_hand(db, release.tree, 2);
  auto env = env_for(db, release.tree);

  SUBCASE("a byte changed in the file") {
    std::ifstream in(release.snapshots, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string edited = text.str();
    auto at = edited.find("users");
    REQUIRE(at != std::string::npos);
    edited[at] = 'U';
    std::ofstream(release.snapshots, std::ios::binary | std::ios::trunc) << edited;
    RunResult r = run_installer({"migrate", "--adopt"}, env);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find(release.snapshots + ": not a file installer verify --record wrote") != std::string::npos);
    CHECK(r.err.find("checksum does not match") != std::string::npos);
  }
  SUBCASE("the second update's up script changed after the recording") {
    std::string script = fmt::format("2024.02.0/001_create_orders.{}.up.sql", engine_word());
    std::ifstream in((release.tree.root() / script).string(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    release.tree.write(script, text.str() + "\n-- reviewed\n");
    RunResult r = run_installer({"migrate", "--adopt"}, env);
    INFO(r.err);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("from update 2024.02.0 on were taken of other content") != std::string::npos);
  }
  CHECK(!db.journal_exists());
}
