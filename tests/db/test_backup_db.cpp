// --backup-dir: a dump with the engine's own tool before a run's first change, never on a
// no-op start; a failed dump stops the run before anything is applied; the password never
// reaches a command line.
#include "db_fixture.hpp"
#include "installer/util/sha256.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <boost/filesystem.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <fstream>
#include <iterator>

using namespace installer;
using namespace installer::testing;
namespace fs = boost::filesystem;

namespace {

std::vector<fs::path> dumps_in(const fs::path& dir) {
  std::vector<fs::path> found;
  boost::system::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".dump") found.push_back(it->path());
  std::sort(found.begin(), found.end());
  return found;
}

std::vector<std::string> hidden_files_in(const fs::path& dir) {
  std::vector<std::string> found;
  boost::system::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string()[0] == '.') found.push_back(it->path().filename().string());
  return found;
}

/// An update `folder` that creates table `table` with one row.
void add_update(UpdateTree& tree, const std::string& folder, const std::string& table) {
  tree.write("updates/" + folder + "/001_t.up.sql",
             fmt::format("CREATE TABLE {0} (id INT PRIMARY KEY);\nINSERT INTO {0} VALUES (1);\n", table));
  tree.write("updates/" + folder + "/001_t.down.sql", fmt::format("DROP TABLE {};\n", table));
}

struct BackupSetup {
  UpdateTree tree;
  fs::path backups = tree.root() / "backups";
  std::map<std::string, std::string> env(const ScratchDatabase& db) const {
    return {{"INSTALLER_DB_URL", db.url()},
            {"INSTALLER_UPDATES", (tree.root() / "updates").string()},
            {"INSTALLER_BACKUP_DIR", backups.string()}};
  }
};

/// A dump tool that fails like a full disk would, but answers --version as the real one.
void write_failing_tool(UpdateTree& tree) {
  std::string name = on_postgres() ? "pg_dump" : "mariadb-dump";
  tree.write("fakebin/" + name, "#!/bin/sh\n"
                                "if [ \"$1\" = --version ]; then exec " +
                                    std::string(on_postgres() ? "/usr/bin/pg_dump" : "/usr/bin/mariadb-dump") +
                                    " --version; fi\n"
                                    "echo 'dump: could not write: No space left on device' >&2\nexit 1\n");
  fs::permissions(tree.root() / "fakebin" / name, fs::perms(0755));
}

/// A dump tool that writes a little, then takes its time: what a run meets while it runs.
void write_slow_tool(UpdateTree& tree) {
  std::string name = on_postgres() ? "pg_dump" : "mariadb-dump";
  tree.write("fakebin/" + name, "#!/bin/sh\nif [ \"$1\" = --version ]; then exec /usr/bin/" + name +
                                    " --version; fi\necho partial-dump\nexec sleep 300\n");
  fs::permissions(tree.root() / "fakebin" / name, fs::perms(0755));
}

}  // namespace

TEST_CASE("backup: none on a no-op start; one before the first update, checksummed, journaled; keep N") {
  ScratchDatabase db;
  BackupSetup setup;
  add_update(setup.tree, "1.0", "bk_one");
  auto env = setup.env(db);
  env["INSTALLER_BACKUP_KEEP"] = "2";
  RunResult first = run_installer({"migrate"}, env);
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  auto dumps = dumps_in(setup.backups);
  REQUIRE(dumps.size() == 1);
  std::string name = dumps[0].filename().string();
  CHECK(name.find(db.name() + "-") == 0);
  CHECK(name.find("-before-1.0.dump") != std::string::npos);
  std::string sha = sha256_hex(bytes_of(dumps[0]));
  CHECK(bytes_of(fs::path(dumps[0].string() + ".sha256")) == sha + "  " + name + "\n");
  CHECK((fs::status(dumps[0]).permissions() & 0777) == 0600);
  CHECK(hidden_files_in(setup.backups).empty());  // no .partial left
  std::string note = db.attempt_field(db.latest_attempt("1.0"), "backup");
  CHECK(note == fmt::format("{} ({} bytes, sha256 {})", dumps[0].string(), fs::file_size(dumps[0]), sha));
  // The dump is the engine's own: pg_dump's custom format, or mariadb-dump's SQL.
  std::string head = bytes_of(dumps[0]).substr(0, 200);
  if (on_postgres()) CHECK(head.find("PGDMP") == 0);
  else CHECK(head.find("-- MariaDB dump") != std::string::npos);

  RunResult noop = run_installer({"migrate"}, env);
  CHECK(noop.exit_code == 0);
  CHECK(dumps_in(setup.backups).size() == 1);

  add_update(setup.tree, "2.0", "bk_two");
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  add_update(setup.tree, "3.0", "bk_three");
  RunResult third = run_installer({"migrate"}, env);
  REQUIRE(third.exit_code == 0);
  auto kept = dumps_in(setup.backups);
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].filename().string().find("-before-2.0.dump") != std::string::npos);
  CHECK(kept[1].filename().string().find("-before-3.0.dump") != std::string::npos);
  CHECK_FALSE(fs::exists(dumps[0].string() + ".sha256"));
  CHECK(third.err.find("(keeping the newest 2)") != std::string::npos);

  auto status = run_installer({"status", "--json"}, env);
  auto j = nlohmann::json::parse(status.out);
  CHECK(j["updates"][2]["backup"].get<std::string>().find(kept[1].string()) == 0);
  // --remove-update takes one too, named after what it removes.
  REQUIRE(run_installer({"--remove-update", "3.0"}, env).exit_code == 0);
  auto after_remove = dumps_in(setup.backups);
  CHECK(after_remove.back().filename().string().find("-before-remove-3.0.dump") != std::string::npos);
}

TEST_CASE("backup: a dump that fails stops the run with exit 73 and nothing applied; optional, it warns") {
  ScratchDatabase db;
  BackupSetup setup;
  add_update(setup.tree, "1.0", "bk_fail");
  write_failing_tool(setup.tree);
  auto env = setup.env(db);
  env["PATH"] = (setup.tree.root() / "fakebin").string() + ":/usr/bin:/bin";
  RunResult r = run_installer({"migrate"}, env);
  INFO(r.err);
  CHECK(r.exit_code == 73);
  CHECK(r.err.find("the backup before 1.0 failed, so nothing was applied") != std::string::npos);
  CHECK(r.err.find("No space left on device") != std::string::npos);
  CHECK(r.err.find(parse_connection_url(db.url()).password) == std::string::npos);
  CHECK_FALSE(db.table_exists("bk_fail"));
  CHECK(db.journal_attempts() == 0);
  CHECK(dumps_in(setup.backups).empty());
  CHECK(hidden_files_in(setup.backups).empty());

  env["INSTALLER_BACKUP_REQUIRED"] = "false";
  RunResult optional = run_installer({"migrate"}, env);
  INFO(optional.err);
  CHECK(optional.exit_code == 0);
  CHECK(optional.err.find("going on without one") != std::string::npos);
  CHECK(db.table_exists("bk_fail"));
  CHECK(db.attempt_field(db.latest_attempt("1.0"), "backup").empty());
}

TEST_CASE("backup: the password reaches the dump tool without any command line holding it") {
  ScratchDatabase db;
  BackupSetup setup;
  add_update(setup.tree, "1.0", "bk_secret");
  std::string password = parse_connection_url(db.url()).password;
  REQUIRE(password.size() >= 3);
  // A wrapper that looks at every process's command line while the dump runs, then runs the
  // real tool.
  std::string name = on_postgres() ? "pg_dump" : "mariadb-dump";
  std::string real = on_postgres() ? "/usr/bin/pg_dump" : "/usr/bin/mariadb-dump";
  fs::path seen = setup.tree.root() / "cmdlines.txt";
  setup.tree.write("fakebin/" + name, "#!/bin/sh\nfor f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\" 2>/dev/null; "
                                      "echo; done > " +
                                          seen.string() + "\nexec " + real + " \"$@\"\n");
  fs::permissions(setup.tree.root() / "fakebin" / name, fs::perms(0755));
  auto env = setup.env(db);
  env["PATH"] = (setup.tree.root() / "fakebin").string() + ":/usr/bin:/bin";
  RunResult r = run_installer({"migrate"}, env);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::string cmdlines = bytes_of(seen);
  CHECK(cmdlines.find(name) != std::string::npos);  // it did look while the dump ran
  CHECK(cmdlines.find(password) == std::string::npos);
  CHECK(dumps_in(setup.backups).size() == 1);
  CHECK(r.all().find(password) == std::string::npos);
}

TEST_CASE("backup: restore brings back a dropped column's data, and status the state before the update") {
  ScratchDatabase db;
  BackupSetup setup;
  setup.tree.write("updates/1.0/001_people.up.sql", "CREATE TABLE bk_people (id INT PRIMARY KEY, name VARCHAR(40));\n"
                                                    "INSERT INTO bk_people VALUES (1, 'alice'), (2, 'bob');\n");
  setup.tree.write("updates/1.0/001_people.down.sql", "DROP TABLE bk_people;\n");
  auto env = setup.env(db);
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  setup.tree.write("updates/2.0/001_drop_name.up.sql", "ALTER TABLE bk_people DROP COLUMN name;\n");
  setup.tree.write("updates/2.0/001_drop_name.down.sql", "ALTER TABLE bk_people ADD COLUMN name VARCHAR(40);\n");
  RunResult drop = run_installer({"migrate"}, env);
  INFO(drop.err);
  REQUIRE(drop.exit_code == 0);
  REQUIRE_FALSE(db.column_exists("bk_people", "name"));
  auto dumps = dumps_in(setup.backups);
  REQUIRE(dumps.size() == 2);
  fs::path before_drop = dumps[1];
  REQUIRE(before_drop.filename().string().find("-before-2.0.dump") != std::string::npos);

  // Listed, with the checksum written beside it.
  auto listed = nlohmann::json::parse(run_installer({"backups", "--json"}, env).out);
  REQUIRE(listed.size() == 2);
  CHECK(listed[1]["before"] == "2.0");
  CHECK(listed[1]["sha256"] == sha256_hex(bytes_of(before_drop)));

  // Without --yes nothing happens; a damaged copy is refused before anything is dropped.
  RunResult unsure = run_installer({"restore", before_drop.string()}, env);
  CHECK(unsure.exit_code == 64);
  CHECK(unsure.err.find("add --yes") != std::string::npos);
  fs::path damaged = setup.tree.root() / "damaged.dump";
  std::string bytes = bytes_of(before_drop);
  bytes[bytes.size() / 2] ^= 0x20;
  std::ofstream(damaged.string(), std::ios::binary) << bytes;
  fs::copy_file(before_drop.string() + ".sha256", damaged.string() + ".sha256");
  RunResult refused = run_installer({"restore", damaged.string(), "--yes"}, env);
  CHECK(refused.exit_code == 65);
  CHECK(refused.err.find("the checksum does not match") != std::string::npos);
  CHECK(db.table_exists("bk_people"));

  RunResult restore = run_installer({"restore", before_drop.string(), "--yes"}, env, std::chrono::seconds(120));
  INFO(restore.all());
  REQUIRE(restore.exit_code == 0);
  CHECK(restore.all().find(parse_connection_url(db.url()).password) == std::string::npos);
  CHECK(db.column_exists("bk_people", "name"));
  CHECK(db.scalar("SELECT name FROM bk_people WHERE id = 1") == "alice");
  CHECK(db.count("SELECT count(*) FROM bk_people") == 2);
  auto status = nlohmann::json::parse(run_installer({"status", "--json"}, env).out);
  CHECK(status["summary"]["applied"] == 1);
  CHECK(status["summary"]["pending"] == 1);
  std::string restores = on_postgres() ? "installer.restores" : "installer_restores";
  CHECK(db.count("SELECT count(*) FROM " + restores) == 1);
  CHECK(db.scalar("SELECT sha256 FROM " + restores) == sha256_hex(bytes_of(before_drop)));
  // And the next start applies 2.0 again, as after any state before it.
  CHECK(run_installer({"migrate"}, env).exit_code == 0);
  CHECK_FALSE(db.column_exists("bk_people", "name"));
}

TEST_CASE("backup: a long dump logs its progress; a stop signal ends it and the run, removing the partial file") {
  ScratchDatabase db;
  BackupSetup setup;
  add_update(setup.tree, "1.0", "bk_stopped");
  write_slow_tool(setup.tree);  // the stop arrives while it runs
  auto env = setup.env(db);
  env["PATH"] = (setup.tree.root() / "fakebin").string() + ":/usr/bin:/bin";
  env["INSTALLER_PROGRESS_INTERVAL"] = "200ms";
  Background run({"migrate"}, env);
  // Its progress is logged while it runs: the 13 bytes the tool has written.
  bool dumping = wait_until(
      [&] { return run.err_so_far().find("backup: 13 bytes written to " + db.name()) != std::string::npos; },
      std::chrono::seconds(30));
  REQUIRE_MESSAGE(dumping, run.err_so_far());
  REQUIRE_FALSE(hidden_files_in(setup.backups).empty());
  ::kill(run.pid(), SIGTERM);
  RunResult r = run.wait(std::chrono::seconds(30));
  INFO(r.err);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(r.err.find("stopped by a signal while the backup before 1.0 was taken") != std::string::npos);
  CHECK(hidden_files_in(setup.backups).empty());
  CHECK(dumps_in(setup.backups).empty());
  CHECK_FALSE(db.table_exists("bk_stopped"));
}

TEST_CASE("backup: --backup-only-destructive skips updates that only add, not one that drops") {
  ScratchDatabase db;
  BackupSetup setup;
  add_update(setup.tree, "1.0", "bk_added");
  auto env = setup.env(db);
  env["INSTALLER_BACKUP_ONLY_DESTRUCTIVE"] = "true";
  RunResult adding = run_installer({"migrate"}, env);
  INFO(adding.err);
  REQUIRE(adding.exit_code == 0);
  CHECK(dumps_in(setup.backups).empty());
  CHECK(adding.err.find("none taken (--backup-only-destructive)") != std::string::npos);
  setup.tree.write("updates/2.0/001_drop.up.sql", "DROP TABLE bk_added;\n");
  setup.tree.write("updates/2.0/001_drop.down.sql", "CREATE TABLE bk_added (id INT PRIMARY KEY);\n");
  RunResult dropping = run_installer({"migrate"}, env);
  INFO(dropping.err);
  REQUIRE(dropping.exit_code == 0);
  auto dumps = dumps_in(setup.backups);
  REQUIRE(dumps.size() == 1);
  CHECK(dumps[0].filename().string().find("-before-2.0.dump") != std::string::npos);
}

TEST_CASE("backup: restore is refused while another installer holds the migration lock") {
  ScratchDatabase db;
  BackupSetup setup;
  add_update(setup.tree, "1.0", "bk_locked_one");
  auto env = setup.env(db);
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  auto taken = dumps_in(setup.backups);
  REQUIRE(taken.size() == 1);
  // A second run holds the lock while its dump before 2.0 takes its time.
  add_update(setup.tree, "2.0", "bk_locked_two");
  write_slow_tool(setup.tree);
  auto slow_env = env;
  slow_env["PATH"] = (setup.tree.root() / "fakebin").string() + ":/usr/bin:/bin";
  Background busy({"migrate"}, slow_env);
  REQUIRE(wait_until([&] { return !hidden_files_in(setup.backups).empty(); }, std::chrono::seconds(30)));
  RunResult refused = run_installer({"restore", taken[0].string(), "--yes"}, env, std::chrono::seconds(60));
  INFO(refused.err);
  CHECK(refused.exit_code == 75);
  CHECK(refused.err.find("another installer holds the migration lock") != std::string::npos);
  CHECK(db.table_exists("bk_locked_one"));
  CHECK(db.journal_attempts() == 1);
  ::kill(busy.pid(), SIGTERM);
  CHECK(busy.wait(std::chrono::seconds(30)).exit_code == 128 + SIGTERM);
}

TEST_CASE("backup: the dump tool of the server's version is chosen; a missing one is named with its package") {
  ScratchDatabase db;
  BackupSetup setup;
  add_update(setup.tree, "1.0", "bk_tool");
  auto env = setup.env(db);
  env["PATH"] = (setup.tree.root() / "fakebin").string();
  fs::create_directories(setup.tree.root() / "fakebin");
  if (on_postgres()) {
    // A newer pg_dump first on PATH: the one of the server's own version, beside it, wins.
    setup.tree.write("fakebin/pg_dump", "#!/bin/sh\necho 'pg_dump (PostgreSQL) 99.1'\n");
    fs::permissions(setup.tree.root() / "fakebin" / "pg_dump", fs::perms(0755));
    RunResult r = run_installer({"migrate"}, env);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("with /usr/lib/postgresql/") != std::string::npos);
    CHECK(dumps_in(setup.backups).size() == 1);
  } else {
    RunResult r = run_installer({"migrate"}, env);
    INFO(r.err);
    CHECK(r.exit_code == 73);
    CHECK(r.err.find("mariadb-dump is not installed: install mariadb-client") != std::string::npos);
    CHECK_FALSE(db.table_exists("bk_tool"));
  }
}
