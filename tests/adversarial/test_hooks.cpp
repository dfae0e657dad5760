// Install hooks that do not end: one that ignores SIGTERM must not keep a stop from ending
// the run, and one that prints without end must not take the installer's memory.
#include "adversarial.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <fstream>

#include <signal.h>

using namespace installer;
using namespace installer::adversarial;
namespace fs = boost::filesystem;
using std::chrono::milliseconds;

namespace {

void write_hook(UpdateTree& tree, const std::string& name, const std::string& script) {
  tree.write("hooks/" + name, "#!/bin/sh\n" + script);
  fs::permissions(tree.root() / "hooks" / name, fs::perms(0755));
}

bool process_alive(int pid) { return ::kill(pid, 0) == 0; }

}  // namespace

TEST_CASE("a stop ends a run whose install hook ignores SIGTERM, within the grace, and kills what the hook started") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree, "updates/1.0");
  std::string pid_file = (tree.root() / "sleeper.pid").string();
  write_hook(tree, "010_hang.sh", fmt::format("trap '' TERM\nsleep 1000 &\necho $! > {}\nwait\n", pid_file));
  auto env = env_for(db, tree.root().string() + "/updates");
  env["INSTALLER_INSTALL_HOOKS"] = (tree.root() / "hooks").string();
  testing::Background run({"run", "--grace", "4s", "--", "true"}, env);
  REQUIRE(
      testing::wait_until([&] { return fs::exists(pid_file) && fs::file_size(pid_file) > 0; }, milliseconds(30'000)));
  int sleeper = 0;
  std::ifstream(pid_file) >> sleeper;
  REQUIRE(sleeper > 0);
  auto stopped = std::chrono::steady_clock::now();
  ::kill(run.pid(), SIGTERM);
  auto r = run.wait(std::chrono::seconds(20));
  INFO(r.err);
  CHECK(r.exit_code == 143);
  CHECK(std::chrono::steady_clock::now() - stopped < std::chrono::seconds(4));
  CHECK(r.err.find("stopped by a signal while install hook") != std::string::npos);
  CHECK(testing::wait_until([&] { return !process_alive(sleeper); }, milliseconds(5'000)));
  CHECK(db.scalar("SELECT state FROM " + testing::journal("installs")) == "failed");  // runs again next time
}

TEST_CASE("a hook that prints without end is reported by its last lines") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree, "updates/1.0");
  write_hook(tree, "010_chatty.sh", "head -c 50000000 /dev/zero | tr '\\0' 'x'\necho\necho the last line\nexit 3\n");
  auto env = env_for(db, tree.root().string() + "/updates");
  env["INSTALLER_INSTALL_HOOKS"] = (tree.root() / "hooks").string();
  auto r = testing::run_installer({"migrate"}, env);
  CHECK(r.exit_code == 72);
  CHECK(r.err.find("the last line") != std::string::npos);
  CHECK(r.err.size() < 20'000);
  CHECK(db.scalar("SELECT state FROM " + testing::journal("installs")) == "failed");
}

TEST_CASE("COPY through the client and session changes in a .sql hook are refused before any hook runs") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree, "updates/1.0");
  tree.write("hooks/010_first.sql", "CREATE TABLE adv_hook_ran (id INT);\n");
  for (const std::string& statement : {std::string("COPY adv_hook_ran FROM\nSTDIN;"),
                                       testing::by_engine("SET ROLE postgres;", "SET autocommit = 0;")}) {
    INFO(statement);
    tree.write("hooks/020_bad.sql", "SELECT 1;\n" + statement + "\n");
    auto env = env_for(db, tree.root().string() + "/updates");
    env["INSTALLER_INSTALL_HOOKS"] = (tree.root() / "hooks").string();
    auto r = testing::run_installer({"migrate"}, env);
    INFO(r.err);
    CHECK(r.exit_code == 72);
    CHECK(r.err.find("020_bad.sql:2:") != std::string::npos);
    CHECK_FALSE(db.table_exists("adv_hook_ran"));
    if (db.journal_exists()) CHECK(db.count("SELECT count(*) FROM " + testing::journal("installs")) == 0);
  }
}
