// The install phase's file work: configuration templates and default files with drift.
#include "catalog_fixture.hpp"
#include "installer/install/config_drift.hpp"
#include "installer/install/templates.hpp"
#include "installer/util/error.hpp"
#include "installer/util/redact.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

using namespace installer;
using installer::unit_fixture::TempDir;
namespace fs = boost::filesystem;

namespace {

VariableLookup vars(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

std::string content(const fs::path& p) {
  std::ifstream in(p.string());
  std::ostringstream b;
  b << in.rdbuf();
  return b.str();
}

std::string render_error(const std::string& text, const VariableLookup& lookup) {
  try {
    render_template(text, lookup, "app.conf.tmpl");
  } catch (const UserError& e) {
    CHECK(e.code() == exit_config);
    return e.what();
  }
  FAIL("the template rendered");
  return {};
}

}  // namespace

TEST_CASE("templates: ${VAR}, ${VAR:-default} and $$") {
  auto lookup = vars({{"HOST", "db.internal"}, {"EMPTY", ""}});
  CHECK(render_template("host=${HOST}\nport=${PORT:-5432}\ncost=$$5\nempty=${EMPTY}\nfallback=${EMPTY:-x}\n", lookup,
                        "t") == "host=db.internal\nport=5432\ncost=$5\nempty=\nfallback=x\n");
  CHECK(render_template("plain $HOME and a lone $", lookup, "t") == "plain $HOME and a lone $");
}

TEST_CASE("templates: every missing variable is reported with file and line, no value is echoed") {
  std::string message = render_error("a=${HOST}\nb=${MISSING_ONE}\n\nc=${MISSING_TWO}\n", vars({{"HOST", "x"}}));
  CHECK(message.find("app.conf.tmpl:2: ${MISSING_ONE} is not set") != std::string::npos);
  CHECK(message.find("app.conf.tmpl:4: ${MISSING_TWO} is not set") != std::string::npos);
  CHECK(render_error("a=${1BAD}\n", vars({})).find("app.conf.tmpl:1: '${1BAD}' is not a variable reference") !=
        std::string::npos);
  CHECK(render_error("a=${OPEN\n", vars({})).find("unterminated") != std::string::npos);
}

TEST_CASE("templates: VAR_FILE supplies secrets, which are then redacted from any output") {
  clear_secrets_for_testing();
  TempDir dir;
  auto secret = dir.write("secret", "s3cr3t-value-xyz\n");
  setenv("INSTALLER_UNIT_SECRET_FILE", secret.c_str(), 1);
  unsetenv("INSTALLER_UNIT_SECRET");
  CHECK(render_template("p=${INSTALLER_UNIT_SECRET}", environment_variables(), "t") == "p=s3cr3t-value-xyz");
  CHECK(redact("the password is s3cr3t-value-xyz") == "the password is ***");
  unsetenv("INSTALLER_UNIT_SECRET_FILE");
  clear_secrets_for_testing();
}

TEST_CASE("templates: a directory is rendered atomically with the templates' modes, or not at all") {
  TempDir dir;
  dir.write("tpl/app.properties.tmpl", "host=${HOST}\n");
  dir.write("tpl/sub/log.conf", "level=${LEVEL:-info}\n");
  chmod((dir / "tpl/app.properties.tmpl").c_str(), 0640);
  auto written = render_templates(dir / "tpl", dir / "conf", vars({{"HOST", "h"}}));
  CHECK(written.size() == 2);
  CHECK(content(dir / "conf/app.properties") == "host=h\n");
  CHECK(content(dir / "conf/sub/log.conf") == "level=info\n");
  struct stat st {};
  stat((dir / "conf/app.properties").c_str(), &st);
  CHECK((st.st_mode & 0777) == 0640);

  // One missing variable: nothing is written, the old files stay.
  dir.write("tpl/z.conf", "x=${NOPE}\n");
  CHECK_THROWS_WITH_AS(render_templates(dir / "tpl", dir / "conf", vars({{"HOST", "changed"}})),
                       doctest::Contains(("configuration template cannot be rendered:\n    " +
                                          (dir / "tpl" / "z.conf").string() +
                                          ":1: ${NOPE} is not set (set NOPE or NOPE_FILE, or give a default: "
                                          "${NOPE:-...})\nno configuration file was written.")
                                             .c_str()),
                       UserError);
  CHECK(content(dir / "conf/app.properties") == "host=h\n");
  CHECK_FALSE(fs::exists(dir / "conf/z.conf"));
  for (fs::directory_iterator it(dir / "conf"), end; it != end; ++it)
    CHECK(it->path().filename().string().find("installer-tmp") == std::string::npos);
}

TEST_CASE("defaults: installed once, upgraded when untouched, kept with FILE.new when customised and changed") {
  TempDir dir;
  dir.write("image/cache.conf", "size=100\n");
  dir.write("image/scheduler.properties", "threads=4\n");
  auto first = sync_defaults(dir / "image", dir / "conf");
  REQUIRE(first.size() == 2);
  CHECK(first[0].outcome == DefaultFile::Outcome::installed);
  CHECK(content(dir / "conf/cache.conf") == "size=100\n");

  // The operator tunes one file; the next image changes both defaults.
  dir.write("conf/cache.conf", "size=999\n");
  dir.write("image/cache.conf", "size=200\n");
  dir.write("image/scheduler.properties", "threads=8\n");
  auto second = sync_defaults(dir / "image", dir / "conf");
  CHECK(second[0].outcome == DefaultFile::Outcome::drifted);
  CHECK(content(dir / "conf/cache.conf") == "size=999\n");      // the operator's file is never overwritten
  CHECK(content(dir / "conf/cache.conf.new") == "size=200\n");  // the new default beside it
  CHECK(second[1].outcome == DefaultFile::Outcome::upgraded);
  CHECK(content(dir / "conf/scheduler.properties") == "threads=8\n");

  // A customised file whose default did not change is left alone and not reported.
  auto third = sync_defaults(dir / "image", dir / "conf");
  CHECK(third[1].outcome == DefaultFile::Outcome::unchanged);

  // The operator merges: the file now equals the new default.
  dir.write("conf/cache.conf", "size=200\n");
  CHECK(sync_defaults(dir / "image", dir / "conf")[0].outcome == DefaultFile::Outcome::converged);
}

TEST_CASE("defaults: a file the installer never installed is the operator's; dry runs write nothing") {
  TempDir dir;
  dir.write("image/app.conf", "a=1\n");
  dir.write("conf/app.conf", "a=operator\n");
  auto dry = sync_defaults(dir / "image", dir / "conf", /*dry_run=*/true);
  CHECK(dry[0].outcome == DefaultFile::Outcome::drifted);
  CHECK_FALSE(fs::exists(dir / "conf/app.conf.new"));
  CHECK_FALSE(fs::exists(dir / "conf/.installer-defaults"));
  sync_defaults(dir / "image", dir / "conf");
  CHECK(content(dir / "conf/app.conf") == "a=operator\n");
  CHECK(content(dir / "conf/app.conf.new") == "a=1\n");
}

namespace {

std::string config_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const UserError& e) {
    CHECK(e.code() == exit_config);
    return e.what();
  }
  FAIL("no error");
  return {};
}

}  // namespace

TEST_CASE("config dir: writes go below it, never through a link planted there") {
  TempDir dir;
  auto victim = dir.write("outside/victim", "keep\n");
  chmod(victim.c_str(), 0600);
  dir.mkdir("conf");
  ConfigDir conf(dir / "conf");
  fs::create_symlink(victim, dir / "conf/.app.conf.installer-tmp");
  conf.write("app.conf", "new\n", 0640);
  CHECK(content(dir / "conf/app.conf") == "new\n");
  CHECK_FALSE(fs::is_symlink(dir / "conf/app.conf"));
  CHECK(content(victim) == "keep\n");

  fs::create_symlink(victim, dir / "conf/linked.conf");
  CHECK(config_error([&] { conf.write("linked.conf", "x\n", 0644); }).find("conf/linked.conf is a symbolic link") !=
        std::string::npos);
  CHECK(conf.check("linked.conf").find("symbolic link") != std::string::npos);
  CHECK_THROWS_WITH_AS(
      conf.read("linked.conf"),
      doctest::Contains(
          "/conf/linked.conf is a symbolic link: the installer writes configuration only inside --config-dir and never through a link there; replace the link with a regular file"),
      UserError);

  fs::create_directory_symlink(dir / "outside", dir / "conf/sub");
  CHECK(conf.check("sub/new.conf").find("conf/sub is a symbolic link") != std::string::npos);
  CHECK_THROWS_WITH_AS(
      conf.write("sub/new.conf", "x\n", 0644),
      doctest::Contains(
          "/conf/sub is a symbolic link: the installer writes configuration only inside --config-dir and never through a link there; replace the link with a directory"),
      UserError);
  CHECK_FALSE(fs::exists(dir / "outside/new.conf"));

  CHECK_FALSE(conf.check("../outside/victim").empty());
  CHECK(conf.check("deep/new/dir/file.conf").empty());  // to be created: nothing in the way
  CHECK(content(victim) == "keep\n");
  struct stat st {};
  stat(victim.c_str(), &st);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("config dir: a --config-dir that is a file is named") {
  TempDir dir;
  auto file = dir.write("conf", "a file\n");
  ConfigDir conf(file);
  CHECK(conf.check("app.conf").find(file.string() + " is not a directory") != std::string::npos);
  CHECK(config_error([&] { conf.write("app.conf", "x", 0644); }).find("is not a directory") != std::string::npos);
  CHECK(content(file) == "a file\n");
}

TEST_CASE("sources: links are read, ConfigMap internals skipped, a broken link or loop named, a directory unreadable") {
  TempDir dir;
  dir.write("src/..2024/app.conf", "a\n");
  fs::create_directory_symlink("..2024", dir / "src/..data");
  fs::create_symlink("..data/app.conf", dir / "src/app.conf");
  fs::create_symlink("loop", dir / "src/loop");
  fs::create_symlink("nowhere", dir / "src/broken");
  std::vector<std::string> problems;
  auto files = list_source_files(dir / "src", problems);
  REQUIRE(files.size() == 1);
  CHECK(files[0] == dir / "src/app.conf");
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].find("src/broken") != std::string::npos);
  CHECK(problems[1].find("src/loop") != std::string::npos);

  std::string error;
  CHECK(read_source_file(dir / "src/app.conf", error) == std::optional<std::string>("a\n"));
  CHECK_FALSE(read_source_file(dir / "src", error));
  CHECK(error.find("directory") != std::string::npos);

  setenv("INSTALLER_UNIT_DIR_FILE", (dir / "src").c_str(), 1);
  unsetenv("INSTALLER_UNIT_DIR");
  CHECK(config_error([&] {
          render_template("${INSTALLER_UNIT_DIR}", environment_variables(), "t");
        }).find((dir / "src").string()) != std::string::npos);
  unsetenv("INSTALLER_UNIT_DIR_FILE");
}

TEST_CASE("defaults: a target that is a link stops the run before any file is written") {
  TempDir dir;
  auto victim = dir.write("outside/victim", "keep\n");
  dir.write("image/a.conf", "a=1\n");
  dir.write("image/b.conf", "b=1\n");
  dir.mkdir("conf");
  fs::create_symlink(victim, dir / "conf/b.conf");
  CHECK(config_error([&] { sync_defaults(dir / "image", dir / "conf"); }).find("conf/b.conf is a symbolic link") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(dir / "conf/a.conf"));
  CHECK_FALSE(fs::exists(dir / "conf/.installer-defaults"));
  CHECK(content(victim) == "keep\n");
}
