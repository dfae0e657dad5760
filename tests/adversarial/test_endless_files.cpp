// Files that never end or never answer, named where the installer reads a secret, its
// configuration or a source: /dev/zero would be read until memory runs out, a FIFO would
// wait for a writer forever. Each is a configuration error naming the file, within a bound.
#include "adversarial.hpp"

#include <boost/filesystem.hpp>

#include <sys/stat.h>

using namespace installer;
using namespace installer::adversarial;
namespace fs = boost::filesystem;

TEST_CASE("a secret, --config or template that is a device, a FIFO or too large is refused, never read forever") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree, "updates/1.0");
  tree.write("templates/app.conf", "x=${DB_PASSWORD}\n");
  tree.write("config/.keep", "");
  fs::path fifo = tree.root() / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  tree.write("big", "");
  fs::resize_file(tree.root() / "big", 2u << 20);
  auto before = state_of(db);
  struct Case {
    std::string variable, value, names;
  };
  std::string templates = (tree.root() / "templates").string(), config_dir = (tree.root() / "config").string();
  for (const Case& c : {Case{"INSTALLER_DB_PASSWORD_FILE", "/dev/zero", "not a regular file"},
                        Case{"INSTALLER_DB_PASSWORD_FILE", fifo.string(), "not a regular file"},
                        Case{"INSTALLER_DB_PASSWORD_FILE", (tree.root() / "big").string(), "larger than 64 KiB"},
                        Case{"INSTALLER_CONFIG", "/dev/zero", "not a regular file"},
                        Case{"INSTALLER_CONFIG", fifo.string(), "not a regular file"},
                        Case{"INSTALLER_CONFIG", (tree.root() / "big").string(), "larger than 1 MiB"},
                        Case{"DB_PASSWORD_FILE", "/dev/zero", "not a regular file"},
                        Case{"DB_PASSWORD_FILE", fifo.string(), "not a regular file"}}) {
    INFO(c.variable, "=", c.value);
    auto env = env_for(db, tree.root().string() + "/updates");
    env[c.variable] = c.value;
    env["INSTALLER_TEMPLATES"] = templates;
    env["INSTALLER_CONFIG_DIR"] = config_dir;
    auto r = testing::run_installer({"migrate"}, env, std::chrono::seconds(20));
    INFO(r.err);
    CHECK(r.exit_code == 78);
    CHECK(r.err.find(c.value) != std::string::npos);
    CHECK(r.err.find(c.names) != std::string::npos);
    CHECK(state_of(db) == before);
  }
}
