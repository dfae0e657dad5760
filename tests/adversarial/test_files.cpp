// The files the installer reads and writes: the configuration directory may belong to the
// application's user, so nothing planted there may redirect a write by the (root) installer;
// a file it cannot read is an error naming it, never an empty file; install hooks are
// checked like update steps before any of them runs.
#include "adversarial.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/filesystem.hpp>

#include <fstream>
#include <sstream>

using namespace installer;
using namespace installer::adversarial;
namespace fs = boost::filesystem;

namespace {

// Generous for a run that reads a handful of files; a hang is killed here and fails the case.
constexpr std::chrono::seconds kBound{30};

std::string slurp(const fs::path& p) {
  std::ifstream in(p.string(), std::ios::binary);
  std::ostringstream b;
  b << in.rdbuf();
  return b.str();
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

/// A file outside the configuration directory that no run may touch.
struct Victim {
  fs::path path;
  std::string text;
  unsigned mode;
  Victim(fs::path p, std::string t, unsigned m) : path(std::move(p)), text(std::move(t)), mode(m) {
    fs::create_directories(path.parent_path());
    std::ofstream(path.string(), std::ios::binary) << text;
    ::chmod(path.c_str(), mode);
  }
  bool untouched() const { return !fs::is_symlink(path) && slurp(path) == text && mode_of(path) == mode; }
};

/// A database with the base update applied, so that what a refused run leaves can be
/// compared with what was there before it.
struct Fixture {
  ScratchDatabase db;
  UpdateTree tree;
  Fixture() {
    write_base_update(tree, "updates/1.0");
    RunResult r = run({});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  fs::path at(const std::string& relative) const { return tree.root() / relative; }
  std::string dir(const std::string& relative) const { return at(relative).string(); }
  RunResult run(std::vector<std::string> args, const std::map<std::string, std::string>& extra_env = {}) const {
    args.insert(args.begin(), "migrate");
    auto env = env_for(db, dir("updates"));
    env.insert(extra_env.begin(), extra_env.end());
    RunResult r = testing::run_installer(args, env, kBound);
    CHECK_MESSAGE(r.err.find("(killed after timeout)") == std::string::npos, "the run did not end within its bound");
    return r;
  }
  long installs() const {
    return db.journal_exists() ? db.count("SELECT count(*) FROM " + testing::journal("installs")) : 0;
  }
};

bool names(const RunResult& r, const fs::path& p) { return r.err.find(p.string()) != std::string::npos; }

/// Makes `path` a file this process cannot read. Modes do not stop root, so for root it
/// is a link (sources may be links) to a write-only kernel file that root cannot read either.
void make_unreadable(const fs::path& path) {
  fs::create_directories(path.parent_path());
  if (::geteuid() != 0) {
    std::ofstream(path.string()) << "CREATE TABLE adv_never (id INT);\n";
    ::chmod(path.c_str(), 0);
  } else {
    fs::create_symlink("/proc/sys/vm/compact_memory", path);
  }
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) ::close(fd);
  REQUIRE_MESSAGE(fd < 0, "cannot make an unreadable file here: ", path.string());
}

}  // namespace

TEST_CASE("files: a link planted in the configuration directory never redirects a write outside it") {
  Fixture f;
  f.tree.write("templates/app.conf.tmpl", "host=${ADV_HOST:-db}\n");
  ::chmod(f.at("templates/app.conf.tmpl").c_str(), 0640);
  f.tree.write("templates/sub/log.conf", "level=info\n");
  f.tree.write("defaults/cache.conf", "size=100\n");
  fs::create_directories(f.at("config"));
  Victim victim(f.at("outside/victim"), "root:x:0:0\n", 0600);
  auto before = state_of(f.db);
  std::vector<std::string> args{"--templates",     f.dir("templates"), "--defaults",
                                f.dir("defaults"), "--config-dir",     f.dir("config")};

  SUBCASE("a link where the temporary file goes is not followed") {
    fs::create_symlink(victim.path, f.at("config/.app.conf.installer-tmp"));
    fs::create_symlink(victim.path, f.at("config/.cache.conf.installer-tmp"));
    fs::create_symlink(victim.path, f.at("config/..installer-defaults.installer-tmp"));
    RunResult r = f.run(args);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(victim.untouched());
    CHECK_FALSE(fs::is_symlink(f.at("config/app.conf")));
    CHECK(slurp(f.at("config/app.conf")) == "host=db\n");
    CHECK(mode_of(f.at("config/app.conf")) == 0640);
    CHECK(slurp(f.at("config/cache.conf")) == "size=100\n");
  }
  SUBCASE("a target that is a link is refused, naming it, before anything is written") {
    fs::create_symlink(victim.path, f.at("config/cache.conf"));
    RunResult r = f.run(args);
    INFO(r.err);
    CHECK(r.exit_code == exit_config);
    CHECK(names(r, f.at("config/cache.conf")));
    CHECK(victim.untouched());
    CHECK(fs::is_symlink(f.at("config/cache.conf")));
    CHECK_FALSE(fs::exists(f.at("config/app.conf")));
    CHECK_FALSE(fs::exists(f.at("config/.installer-defaults")));
  }
  SUBCASE("a directory on the way that is a link is refused, naming it") {
    fs::create_directories(f.at("outside/dir"));
    fs::create_symlink(f.at("outside/dir"), f.at("config/sub"));
    RunResult r = f.run(args);
    INFO(r.err);
    CHECK(r.exit_code == exit_config);
    CHECK(names(r, f.at("config/sub")));
    CHECK(fs::is_empty(f.at("outside/dir")));
    CHECK_FALSE(fs::exists(f.at("config/app.conf")));
  }
  CHECK(state_of(f.db) == before);
}

TEST_CASE("files: templates and defaults that are links are read, and written inside the configuration directory") {
  Fixture f;
  // A Kubernetes ConfigMap volume: each file a link through the ..data link to a hidden folder.
  f.tree.write("templates/..2024_06_01/app.conf.tmpl", "port=${ADV_PORT:-8080}\n");
  fs::create_directory_symlink("..2024_06_01", f.at("templates/..data"));
  fs::create_symlink("..data/app.conf.tmpl", f.at("templates/app.conf.tmpl"));
  // A link out of the templates: its content is rendered, its path is not the target's.
  Victim shared(f.at("outside/shared.conf"), "price=$$5\n", 0644);
  fs::create_symlink("../outside/shared.conf", f.at("templates/shared.conf"));
  f.tree.write("image/..2024_06_01/cache.conf", "size=100\n");
  fs::create_directory_symlink("..2024_06_01", f.at("image/..data"));
  fs::create_symlink("..data/cache.conf", f.at("image/cache.conf"));
  auto before = state_of(f.db);

  RunResult r = f.run(
      {"--templates", f.dir("templates"), "--defaults", f.dir("image"), "--config-dir", f.dir("config")});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(shared.untouched());
  CHECK(slurp(f.at("config/shared.conf")) == "price=$5\n");
  CHECK(slurp(f.at("config/app.conf")) == "port=8080\n");
  CHECK(slurp(f.at("config/cache.conf")) == "size=100\n");
  std::set<std::string> written;
  for (fs::recursive_directory_iterator it(f.at("config")), end; it != end; ++it)
    written.insert(it->path().lexically_relative(f.at("config")).string());
  CHECK(written == std::set<std::string>{"app.conf", "shared.conf", "cache.conf", ".installer-defaults"});
  CHECK(state_of(f.db) == before);
}

TEST_CASE("files: a template, default, install hook or _FILE that cannot be read is an error naming it") {
  Fixture f;
  f.tree.write("config/app.conf", "old\n");
  f.tree.write("templates/app.conf.tmpl", "new\n");
  f.tree.write("install.d/00-first.sql", "CREATE TABLE adv_hook_first (id INT);\n");
  fs::create_directories(f.at("a-directory"));
  auto before = state_of(f.db);
  long installs_before = f.installs();
  std::vector<std::string> config{"--config-dir", f.dir("config")};

  SUBCASE("a template") {
    make_unreadable(f.at("templates/secret.conf.tmpl"));
    config.insert(config.end(), {"--templates", f.dir("templates")});
    RunResult r = f.run(config);
    INFO(r.err);
    CHECK(r.exit_code == exit_config);
    CHECK(names(r, f.at("templates/secret.conf.tmpl")));
    CHECK(slurp(f.at("config/app.conf")) == "old\n");
    CHECK_FALSE(fs::exists(f.at("config/secret.conf")));
  }
  SUBCASE("a default") {
    make_unreadable(f.at("image/cache.conf"));
    config.insert(config.end(), {"--defaults", f.dir("image")});
    RunResult r = f.run(config);
    INFO(r.err);
    CHECK(r.exit_code == exit_config);
    CHECK(names(r, f.at("image/cache.conf")));
    CHECK_FALSE(fs::exists(f.at("config/cache.conf")));
    CHECK_FALSE(fs::exists(f.at("config/.installer-defaults")));
  }
  SUBCASE("an install hook: none runs") {
    make_unreadable(f.at("install.d/01-seed.sql"));
    RunResult r = f.run({"--install-hooks", f.dir("install.d")});
    INFO(r.err);
    CHECK(r.exit_code == exit_install_failed);
    CHECK(names(r, f.at("install.d/01-seed.sql")));
  }
  SUBCASE("a template's NAME_FILE that is a directory") {
    f.tree.write("templates/app.conf.tmpl", "token=${ADV_TOKEN}\n");
    config.insert(config.end(), {"--templates", f.dir("templates")});
    RunResult r = f.run(config, {{"ADV_TOKEN_FILE", f.dir("a-directory")}});
    INFO(r.err);
    CHECK(r.exit_code == exit_config);
    CHECK(names(r, f.at("a-directory")));
    CHECK(slurp(f.at("config/app.conf")) == "old\n");
  }
  SUBCASE("INSTALLER_DB_PASSWORD_FILE that is a directory") {
    RunResult r = f.run({}, {{"INSTALLER_DB_PASSWORD_FILE", f.dir("a-directory")}});
    INFO(r.err);
    CHECK(r.exit_code == exit_config);
    CHECK(names(r, f.at("a-directory")));
  }
  SUBCASE("--config that is a directory") {
    RunResult r = f.run({"--config", f.dir("a-directory")});
    INFO(r.err);
    CHECK(r.exit_code == exit_config);
    CHECK(names(r, f.at("a-directory")));
  }
  CHECK(state_of(f.db) == before);
  CHECK(f.installs() == installs_before);
}

TEST_CASE("files: a --config-dir that is a file, or a template link loop, is a configuration error naming it") {
  Fixture f;
  f.tree.write("templates/app.conf", "a=1\n");
  f.tree.write("image/cache.conf", "size=100\n");
  Victim not_a_dir(f.at("config-file"), "just a file\n", 0644);
  auto before = state_of(f.db);

  SUBCASE("templates into a file") {
    RunResult r = f.run({"--templates", f.dir("templates"), "--config-dir", not_a_dir.path.string()});
    INFO(r.err);
    CHECK(r.exit_code == exit_config);
    CHECK(names(r, not_a_dir.path));
  }
  SUBCASE("defaults into a file") {
    RunResult r = f.run({"--defaults", f.dir("image"), "--config-dir", not_a_dir.path.string()});
    INFO(r.err);
    CHECK(r.exit_code == exit_config);
    CHECK(names(r, not_a_dir.path));
  }
  SUBCASE("a template that links to itself") {
    fs::create_symlink("loop.conf", f.at("templates/loop.conf"));
    RunResult r = f.run({"--templates", f.dir("templates"), "--config-dir", f.dir("config")});
    INFO(r.err);
    CHECK(r.exit_code == exit_config);
    CHECK(names(r, f.at("templates/loop.conf")));
    CHECK_FALSE(fs::exists(f.at("config/app.conf")));
  }
  CHECK(not_a_dir.untouched());
  CHECK(state_of(f.db) == before);
}

TEST_CASE("files: an install hook that controls the transaction is refused, with file and line, before any hook runs") {
  Fixture f;
  f.tree.write("install.d/00-first.sql", "CREATE TABLE adv_hook_first (id INT);\n");
  f.tree.write("install.d/01-half.sql", "CREATE TABLE adv_hook_a (id INT);\n"
                                        "COMMIT;\n"
                                        "CREATE TABLE adv_hook_b (id INT);\n");
  auto before = state_of(f.db);
  long installs_before = f.installs();

  RunResult r = f.run({"--install-hooks", f.dir("install.d")});
  INFO(r.err);
  CHECK(r.exit_code == exit_install_failed);
  CHECK(names(r, f.at("install.d/01-half.sql:2")));
  CHECK(r.err.find("COMMIT") != std::string::npos);
  CHECK(state_of(f.db) == before);
  CHECK(f.installs() == installs_before);
}
