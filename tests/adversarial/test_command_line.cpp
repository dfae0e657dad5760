// The command line as a new user types it: everything after the first "--" is the
// application's, whatever option comes before it.
#include "adversarial.hpp"

#include "installer/cli/settings.hpp"

#include <fmt/format.h>

using namespace installer;
using namespace installer::adversarial;

namespace {

/// A value for each option that changes nothing about this run, so placing it last in
/// front of "--" tests only the parsing. A new option without one here fails the test.
std::map<std::string, std::vector<std::string>> harmless_values(const ScratchDatabase& db, const UpdateTree& tree) {
  auto url = parse_connection_url(db.url());
  std::string dir = tree.root().string();
  return {
      {"db-url", {db.url()}},
      {"db-engine", {testing::on_postgres() ? "postgres" : "mariadb"}},
      {"db-host", {url.host}},
      {"db-port", {std::to_string(url.effective_port())}},
      {"db-user", {url.user}},
      {"db-name", {url.database}},
      {"db-tls", {"prefer"}},
      {"db-admin-url", {db.url()}},
      {"updates", {dir + "/updates"}},
      {"updates-format", {"installer"}},
      {"trusted-keys", {dir + "/vendor.pub"}},  // the test signs the update with it
      {"templates", {dir + "/empty"}},
      {"config-dir", {dir + "/config"}},
      {"defaults", {dir + "/empty"}},
      {"install-hooks", {dir + "/empty"}},
      {"journal-schema", {"installer"}},
      {"lock-timeout", {"30s"}},
      {"connect-timeout", {"10s"}},
      {"wait-timeout", {"0"}},
      {"fingerprint-limit", {"0"}},
      {"log-level", {"info"}},
      {"log-format", {"human"}},
      {"grace", {"10s"}},
      {"stop-delay", {"0s"}},
      {"user", {"root"}},
      {"progress-interval", {"10s"}},
      {"health-listen", {"127.0.0.1:0"}},
      {"config", {dir + "/empty.conf"}},
      {"auto-remove-unknown", {}},  // flags: no value
      {"adopt", {}},
      {"backup-only-destructive", {}},
      {"backup-dir", {dir + "/backups"}},
      {"backup-keep", {"3"}},
      {"backup-required", {"false"}},
      {"process-group", {}},
  };
}

}  // namespace

TEST_CASE("command line: after any option placed last, -- hands every following word to the application") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree, "updates/1.0");
  tree.write("empty/.keep", "");
  tree.write("config/.keep", "");
  tree.write("empty.conf", "# nothing\n");
  REQUIRE(testing::run_installer({"keygen", "-o", tree.root().string() + "/vendor"}).exit_code == 0);
  REQUIRE(testing::run_installer(
              {"sign", tree.root().string() + "/updates/1.0", "--key", tree.root().string() + "/vendor.key"})
              .exit_code == 0);
  auto values = harmless_values(db, tree);

  std::vector<std::string> options{"config"};
  // verify-scratch-url is verify's --scratch-url, not an option of run.
  for (const auto& key : setting_keys())
    if (std::string(key.name) != "db-password" && std::string(key.name) != "db-tls-ca" &&
        std::string(key.name) != "verify-scratch-url")
      options.push_back(key.name);
  for (const auto& name : options) {
    auto it = values.find(name);
    INFO("option --", name);
    REQUIRE_MESSAGE(it != values.end(), "a new option needs a harmless value in this test");
    for (bool with_equals : {false, true}) {
      if (with_equals && it->second.empty()) continue;
      std::vector<std::string> args{"run", "--updates", tree.root().string() + "/updates"};
      if (name != "config-dir") args.insert(args.end(), {"--config-dir", tree.root().string() + "/config"});
      if (with_equals) args.push_back("--" + name + "=" + it->second[0]);
      else {
        args.push_back("--" + name);
        args.insert(args.end(), it->second.begin(), it->second.end());
      }
      for (const char* word : {"--", "sh", "-c", "exit 7"}) args.push_back(word);
      testing::RunResult r = testing::run_installer(args, {{"INSTALLER_DB_URL", db.url()}});
      INFO(r.err);
      CHECK(r.exit_code == 7);
    }
  }
  // Without "run" too, and with the application's own "--" kept for it.
  testing::RunResult plain = testing::run_installer({"--updates", tree.root().string() + "/updates", "--", "sh", "-c",
                                                     "exit $#", "sh", "--", "x"},
                                                    {{"INSTALLER_DB_URL", db.url()}});
  CHECK(plain.exit_code == 2);
}

TEST_CASE("command line: a word that is not an option's value is not taken as one") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree, "updates/1.0");
  auto before = state_of(db);
  // --updates takes one directory; "sh" after it is a stray word, not a second directory.
  testing::RunResult stray = testing::run_installer({"--updates", tree.root().string() + "/updates", "sh"},
                                                    {{"INSTALLER_DB_URL", db.url()}});
  CHECK(stray.exit_code == 64);
  CHECK(stray.err.find("'sh'") != std::string::npos);
  testing::RunResult empty = testing::run_installer({"--updates", tree.root().string() + "/updates", "--"},
                                                    {{"INSTALLER_DB_URL", db.url()}});
  CHECK(empty.exit_code == 64);
  testing::RunResult migrate = testing::run_installer({"migrate", "--updates", tree.root().string() + "/updates", "--",
                                                       "x"},
                                                      {{"INSTALLER_DB_URL", db.url()}});
  CHECK(migrate.exit_code == 64);
  CHECK(state_of(db) == before);
}
