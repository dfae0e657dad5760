// What the application inherits: the installer's environment, less the installer's own
// secrets (the database URLs and password, and the files they are read from).
#include "adversarial.hpp"

#include "installer/cli/settings.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

using namespace installer;
using namespace installer::adversarial;
using installer::testing::run_installer;

namespace {

std::string read_file(const boost::filesystem::path& path) {
  std::ifstream in(path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The application's environment, as `env` prints it, after `installer run` with `env`.
std::string application_environment(const UpdateTree& tree, std::map<std::string, std::string> env) {
  std::string out = (tree.root() / "app.env").string();
  env["INSTALLER_UPDATES"] = (tree.root() / "updates").string();
  env["APP_GREETING"] = "hello";
  // The documented way to give the application its own credentials.
  env["DATABASE_URL"] = "postgresql://app:the-apps-own-password@db/shop";
  RunResult r = run_installer({"run", "--", "sh", "-c", "env > \"$0\"", out}, env);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return read_file(out);
}

/// Every variable of a secret setting, and its _FILE form.
std::vector<std::string> secret_variables() {
  std::vector<std::string> names;
  for (const auto& key : setting_keys())
    if (key.secret) names.insert(names.end(), {key.env, std::string(key.env) + "_FILE"});
  return names;
}

void check_no_secret(const std::string& app_env, const std::vector<std::string>& passwords) {
  INFO(app_env);
  for (const auto& name : secret_variables()) {
    INFO("variable ", name);
    CHECK(app_env.find("\n" + name + "=") == std::string::npos);
    CHECK(app_env.rfind(name + "=", 0) == std::string::npos);
  }
  for (const auto& password : passwords) {
    REQUIRE(password.size() >= 4);  // a password that short would match by chance
    CHECK(app_env.find(password) == std::string::npos);
  }
  // What is not the installer's secret still reaches the application.
  CHECK(app_env.find("APP_GREETING=hello\n") != std::string::npos);
  CHECK(app_env.find("DATABASE_URL=postgresql://app:the-apps-own-password@db/shop\n") != std::string::npos);
  CHECK(app_env.find("INSTALLER_UPDATES=") != std::string::npos);
}

}  // namespace

TEST_CASE("environment: the application sees none of the installer's secret variables") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree, "updates/1.0");
  auto url = parse_connection_url(db.url());
  std::string admin = testing::admin_session_url_for_tests();
  auto admin_url = parse_connection_url(admin);
  std::string app_env = application_environment(tree, {{"INSTALLER_DB_URL", db.url()},
                                                       {"INSTALLER_DB_PASSWORD", url.password},
                                                       {"INSTALLER_DB_ADMIN_URL", admin}});
  check_no_secret(app_env, {url.password, admin_url.password});
}

TEST_CASE("environment: the application sees none of the installer's secret files' variables") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree, "updates/1.0");
  auto url = parse_connection_url(db.url());
  std::string admin = testing::admin_session_url_for_tests();
  tree.write("secrets/db_url", db.url() + "\n");
  tree.write("secrets/db_password", url.password + "\n");
  tree.write("secrets/admin_url", admin + "\n");
  auto secrets = tree.root() / "secrets";
  std::string app_env = application_environment(tree,
                                                {{"INSTALLER_DB_URL_FILE", (secrets / "db_url").string()},
                                                 {"INSTALLER_DB_PASSWORD_FILE", (secrets / "db_password").string()},
                                                 {"INSTALLER_DB_ADMIN_URL_FILE", (secrets / "admin_url").string()}});
  check_no_secret(app_env, {url.password, parse_connection_url(admin).password});
  CHECK(app_env.find(secrets.string()) == std::string::npos);
}
