// Durations beyond what the clocks can count: refused with the setting named, never
// wrapped around into a deadline that is due at once.
#include "adversarial.hpp"

#include <signal.h>

using namespace installer;
using namespace installer::adversarial;
using installer::testing::Background;
using installer::testing::run_installer;
using installer::testing::wait_until;

TEST_CASE("durations: a duration past the documented maximum is refused, naming the setting") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree, "updates/1.0");
  auto env = env_for(db, (tree.root() / "updates").string());
  auto before = state_of(db);
  for (std::string name :
       {"grace", "stop-delay", "lock-timeout", "connect-timeout", "wait-timeout", "progress-interval"}) {
    for (std::string value : {"99999999h", "24001h", "86400001s", "99999999999999999999999999ms"}) {
      INFO("--", name, " ", value);
      RunResult r = run_installer({"run", "--" + name, value, "--", "true"}, env);
      INFO(r.err);
      CHECK(r.exit_code == 78);
      CHECK(r.err.find("--" + name + ": " + name + ": '" + value + "' is longer than") != std::string::npos);
    }
  }
  auto by_variable = env;
  by_variable["INSTALLER_GRACE"] = "99999999h";
  RunResult r = run_installer({"run", "--", "true"}, by_variable);
  CHECK(r.exit_code == 78);
  CHECK(r.err.find("INSTALLER_GRACE: grace: '99999999h'") != std::string::npos);
  CHECK(state_of(db) == before);
}

TEST_CASE("durations: the longest grace period lets the application finish after SIGTERM") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree, "updates/1.0");
  // The application takes a moment to shut down; SIGKILL would make the exit 137.
  // The shell says when its trap is set: a SIGTERM before that would end it with 143.
  std::string ready = (tree.root() / "trap-set").string();
  Background run({"run", "--grace", "24000h", "--", "sh", "-c",
                  "trap 'sleep 0.3; exit 0' TERM; : > '" + ready + "'; while :; do sleep 0.05; done"},
                 env_for(db, (tree.root() / "updates").string()));
  REQUIRE(wait_until([&] { return boost::filesystem::exists(ready); }, std::chrono::milliseconds(30'000)));
  REQUIRE(kill(run.pid(), SIGTERM) == 0);
  RunResult r = run.wait(std::chrono::seconds(30));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("SIGKILL") == std::string::npos);
}
