// The supervisor without a database: os/ is the same code the installer runs as PID 1
// after its update phase, driven here directly, with tests/pid1/helper.cpp as the
// application. tests/pid1/ covers the whole program (which always migrates first, so
// needs a server); these need none.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "installer/os/child_process.hpp"
#include "installer/os/signals.hpp"
#include "installer/os/supervisor.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/filesystem.hpp>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = boost::filesystem;
using namespace installer;
using namespace std::chrono_literals;

namespace {

/// A bounded wait: polls `ready` until it holds or `limit` has passed.
template <typename Predicate>
bool eventually(Predicate ready, std::chrono::milliseconds limit = 10s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Scratch {
  fs::path dir = fs::temp_directory_path() / fs::unique_path("installer-os-%%%%%%%%");
  Scratch() { fs::create_directories(dir); }
  ~Scratch() {
    boost::system::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

/// A process of its own that is what the installer is after its update phase: signals
/// blocked, reaper of orphans, the application spawned and supervised. Its exit status
/// is supervise()'s result.
class Supervisor {
 public:
  Supervisor(std::vector<std::string> argv, SupervisorOptions options = {}) {
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      block_signals();
      become_subreaper();
      SpawnOptions spawn;
      spawn.argv = std::move(argv);
      spawn.own_process_group = options.process_group;
      Spawned child = spawn_child(spawn);
      _exit(child.pid < 0 ? child.exit_code : supervise(child.pid, options));
    }
  }
  ~Supervisor() {
    if (!exit_code_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void signal(int sig) const { REQUIRE(kill(pid_, sig) == 0); }

  /// The supervisor's exit code, or nullopt when it did not exit within the limit.
  std::optional<int> exit_code(std::chrono::milliseconds limit = 10s) {
    int status = 0;
    eventually([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, limit);
    if (WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
    return exit_code_;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

std::vector<std::string> sigrec(const Scratch& s, std::vector<std::string> options) {
  std::vector<std::string> argv = {PID1_HELPER, "sigrec", (s.dir / "app.rec").string(), "--ready",
                                   (s.dir / "ready").string()};
  argv.insert(argv.end(), options.begin(), options.end());
  return argv;
}

/// How many children the process `parent` has, zombies included (from /proc/PID/stat).
int children_of(pid_t parent) {
  int children = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string stat = read_text(entry.path() / "stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    char state = 0;
    long ppid = 0;
    fields >> state >> ppid;
    if (ppid == parent) ++children;
  }
  return children;
}

bool started(const Scratch& s) {
  return eventually([&] { return fs::exists(s.dir / "ready"); });
}

}  // namespace

TEST_CASE("the application's exit code is the supervisor's") {
  Supervisor sup({"/bin/sh", "-c", "exit 7"});
  CHECK(sup.exit_code() == 7);
}

TEST_CASE("an application killed by signal N makes the supervisor exit 128+N") {
  Supervisor sup({"/bin/sh", "-c", "kill -KILL $$"});
  CHECK(sup.exit_code() == 128 + SIGKILL);
}

TEST_CASE("a program that is not there exits 127, as a shell would") {
  Supervisor sup({"installer-test-no-such-program"});
  CHECK(sup.exit_code() == 127);
}

TEST_CASE("SIGTERM and other signals reach the application; it decides when to stop") {
  Scratch s;
  Supervisor sup(sigrec(s, {"--exit-on", "TERM"}));
  REQUIRE(started(s));
  sup.signal(SIGUSR1);
  REQUIRE(eventually([&] { return read_text(s.dir / "app.rec").find("USR1") != std::string::npos; }));
  sup.signal(SIGTERM);
  CHECK(sup.exit_code() == 0);
  std::string rec = read_text(s.dir / "app.rec");
  CHECK(rec.find("USR1") < rec.find("TERM"));
}

TEST_CASE("an application that ignores SIGTERM is killed at the end of the grace period") {
  Scratch s;
  SupervisorOptions options;
  options.grace = 200ms;
  Supervisor sup(sigrec(s, {"--ignore", "TERM"}), options);
  REQUIRE(started(s));
  sup.signal(SIGTERM);
  CHECK(sup.exit_code() == 128 + SIGKILL);
}

TEST_CASE("orphans re-parented to the supervisor are reaped by it, not left as zombies") {
  Scratch s;
  Supervisor sup(
      {PID1_HELPER, "orphans", "3", s.dir.string(), "--ready", (s.dir / "ready").string(), "--exit-on", "TERM"});
  REQUIRE(started(s));
  for (int i = 0; i < 3; ++i) {
    fs::path mark = s.dir / ("orphan." + std::to_string(i));
    REQUIRE(eventually([&] { return fs::exists(mark) && !read_text(mark).empty(); }));
    CHECK(std::stol(read_text(mark)) == sup.pid());
  }
  // The orphans have exited: an unreaped one would stay a zombie child beside the application.
  CHECK(eventually([&] { return children_of(sup.pid()) == 1; }));
  sup.signal(SIGTERM);
  CHECK(sup.exit_code() == 0);
}

TEST_CASE("with process_group, a signal reaches the application's whole process group") {
  Scratch s;
  SupervisorOptions options;
  options.process_group = true;
  // The shell's own child is in the group too and records what it receives.
  std::string child = std::string(PID1_HELPER) + " sigrec " + (s.dir / "grandchild.rec").string() + " --ready " +
                      (s.dir / "ready").string() + " --exit-on TERM";
  Supervisor sup({"/bin/sh", "-c", child + " & wait"}, options);
  REQUIRE(started(s));
  sup.signal(SIGTERM);
  CHECK(sup.exit_code().has_value());
  CHECK(read_text(s.dir / "grandchild.rec").find("TERM") != std::string::npos);
}
