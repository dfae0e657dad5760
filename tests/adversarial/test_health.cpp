// The health endpoint under sockets that never finish a request: idle connections and
// slow-header senders (slowloris) must not keep a probe waiting, nor a stop from ending the run.
#include "adversarial.hpp"
#include "http_probe.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/filesystem.hpp>

#include <atomic>
#include <chrono>
#include <regex>
#include <thread>
#include <vector>

using namespace installer;
using namespace installer::adversarial;
using installer::testing::Background;
using installer::testing::wait_until;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

/// Keeps `idle` connections that send nothing and `slow` ones that send a request's
/// headers a byte at a time and never end them, until it is destroyed; with `reopen`
/// opening again any the server closes.
class Pressure {
 public:
  Pressure(int port, int idle, int slow, bool reopen = true) : port_(port), reopen_(reopen) {
    for (int i = 0; i < idle + slow; ++i) sockets_.push_back({connect_to(port), i >= idle, 0});
    thread_ = std::thread([this] { run(); });
  }
  ~Pressure() {
    done_ = true;
    thread_.join();
    for (auto& s : sockets_)
      if (s.fd >= 0) close(s.fd);
  }
  int reopened() const { return reopened_.load(); }

 private:
  struct Socket {
    int fd;
    bool slow;
    size_t sent;
  };

  void run() {
    static const std::string headers = "GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(4000, 'a');
    while (!done_) {
      for (auto& s : sockets_) {
        if (s.fd >= 0 && closed_by_server(s.fd)) {
          close(s.fd);
          s.fd = -1;
        }
        if (s.fd < 0 && reopen_) {
          s = {connect_to(port_), s.slow, 0};
          ++reopened_;
        }
        if (s.slow && s.fd >= 0 && send(s.fd, headers.data() + s.sent % headers.size(), 1, MSG_NOSIGNAL) == 1) ++s.sent;
      }
      // The pace of a slowloris: a byte per connection every 100 ms.
      pollfd none{-1, 0, 0};
      poll(&none, 1, 100);
    }
  }

  static bool closed_by_server(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return false;
    char c;
    return recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
  }

  int port_;
  bool reopen_;
  std::vector<Socket> sockets_;
  std::atomic<bool> done_{false};
  std::atomic<int> reopened_{0};
  std::thread thread_;
};

/// Probes /livez (and /readyz) for `window`: the slowest answer, and whether each was right.
milliseconds probe_for(int port, milliseconds window) {
  milliseconds slowest{0};
  auto until = Clock::now() + window;
  wait_until(
      [&] {
        for (std::string path : {"/livez", "/readyz"}) {
          Answer a = get(port, path);
          INFO(path, " took ", a.took.count(), " ms");
          CHECK(a.status == 200);
          std::string expected = path == "/livez" ? "ok\n" : "ready\n";
          CHECK(a.body == expected);
          slowest = std::max(slowest, a.took);
        }
        return Clock::now() >= until;
      },
      window + milliseconds(30'000));
  return slowest;
}

/// SIGTERM while the pressure goes on: the run must end within its grace period.
void stop_within_grace(Background& run, milliseconds grace) {
  auto start = Clock::now();
  REQUIRE(kill(run.pid(), SIGTERM) == 0);
  RunResult r = run.wait(std::chrono::seconds(30));
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  MESSAGE("from SIGTERM to the exit: ", took.count(), " ms");
  INFO(r.err);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(took < grace);
}

}  // namespace

/// `installer run` with the health endpoint and an application that runs until stopped.
struct RunningWithHealth {
  ScratchDatabase db;
  UpdateTree tree;
  Background run{{"run", "--health-listen", "127.0.0.1:0", "--grace", "3s", "--", "sleep", "30"}, environment()};
  int port = start_running(run);

 private:
  std::map<std::string, std::string> environment() {
    write_base_update(tree);
    return env_for(db, tree.root().string());
  }
};

TEST_CASE("health: idle and slow-header connections do not keep /livez waiting, nor a stop") {
  RunningWithHealth running;
  Background& run = running.run;
  int port = running.port;
  {
    Pressure pressure(port, 8, 12);
    // Longer than the time a request may take, so probes also meet the connections the
    // server has just dropped and the pressure has opened again.
    milliseconds slowest = probe_for(port, milliseconds(3000));
    MESSAGE("slowest /livez or /readyz under 8 idle and 12 slow-header connections: ", slowest.count(), " ms");
    CHECK(slowest < milliseconds(1000));
    CHECK(pressure.reopened() > 0);  // the server drops a connection that never finishes its request
    stop_within_grace(run, milliseconds(3000));
  }
}

TEST_CASE("health: more idle connections than the server keeps open do not keep /livez waiting") {
  RunningWithHealth running;
  Background& run = running.run;
  int port = running.port;
  {
    Pressure pressure(port, 200, 0, /*reopen=*/false);
    milliseconds slowest = probe_for(port, milliseconds(500));
    MESSAGE("slowest /livez or /readyz under 200 idle connections: ", slowest.count(), " ms");
    CHECK(slowest < milliseconds(1000));
    stop_within_grace(run, milliseconds(3000));
  }
}

TEST_CASE("health: /livez stays 200 while the backup before an update is taken") {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree, "updates/1.0");
  // A dump that writes a little, then takes its time, so the probes meet it running.
  std::string tool = testing::on_postgres() ? "pg_dump" : "mariadb-dump";
  tree.write("fakebin/" + tool, "#!/bin/sh\nif [ \"$1\" = --version ]; then exec /usr/bin/" + tool +
                                    " --version; fi\necho partial-dump\nexec sleep 300\n");
  boost::filesystem::permissions(tree.root() / "fakebin" / tool, boost::filesystem::perms(0755));
  auto env = env_for(db, (tree.root() / "updates").string());
  env["INSTALLER_BACKUP_DIR"] = (tree.root() / "backups").string();
  env["PATH"] = (tree.root() / "fakebin").string() + ":/usr/bin:/bin";
  Background run({"run", "--health-listen", "127.0.0.1:0", "--grace", "3s", "--", "sleep", "30"}, env);
  int port = health_port_of(run);
  auto partial_exists = [&] {
    boost::system::error_code ec;
    for (boost::filesystem::directory_iterator it(tree.root() / "backups", ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".partial") return true;
    return false;
  };
  REQUIRE(wait_until(partial_exists, milliseconds(30'000)));
  for (int probe = 0; probe < 5; ++probe) {
    Answer live = get(port, "/livez");
    CHECK(live.status == 200);
    CHECK(live.body == "ok\n");
    CHECK(get(port, "/readyz").status == 503);
  }
  CHECK(partial_exists());  // the probes were answered while the dump still ran
  stop_within_grace(run, milliseconds(3000));
  CHECK_FALSE(partial_exists());
}
