#include "installer/health/health_server.hpp"

#include "installer/util/error.hpp"
#include "installer/util/log.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <condition_variable>
#include <thread>

namespace installer {

struct HealthServer::Impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

namespace {

std::pair<std::string, int> parse_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    throw UserError(exit_config, fmt::format("--health-listen '{}': expected ADDR:PORT or :PORT", listen));
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  std::string port_text = listen.substr(colon + 1);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(port_text, &used);
    if (used != port_text.size()) port = -1;
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535)
    throw UserError(exit_config, fmt::format("--health-listen '{}': '{}' is not a port", listen, port_text));
  return {host, port};
}

}  // namespace

HealthServer::HealthServer(StatusBoard& board, const std::string& listen) : impl_(std::make_unique<Impl>()) {
  auto [host, port] = parse_listen(listen);
  auto& server = impl_->server;
  server.Get("/livez", [&board](const httplib::Request&, httplib::Response& res) {
    bool failed = board.phase() == Phase::failed;
    res.status = failed ? 503 : 200;
    res.set_content(failed ? "failed\n" : "ok\n", "text/plain");
  });
  server.Get("/readyz", [&board](const httplib::Request&, httplib::Response& res) {
    Phase phase = board.phase();
    res.status = phase == Phase::running ? 200 : 503;
    res.set_content(phase == Phase::running ? "ready\n" : std::string(to_string(phase)) + "\n", "text/plain");
  });
  server.Get("/healthz", [&board](const httplib::Request&, httplib::Response& res) {
    Phase phase = board.phase();
    res.status = phase == Phase::running ? 200 : 503;
    res.set_content(phase == Phase::running ? R"({"status":"ok"})" : nlohmann::json{{"status", to_string(phase)}}.dump(),
                    "application/json");
  });
  server.Get("/status", [&board](const httplib::Request&, httplib::Response& res) {
    res.set_content(board.to_json().dump(2) + "\n", "application/json");
  });
  if (port == 0) {
    impl_->port = server.bind_to_any_port(host);
  } else {
    impl_->port = server.bind_to_port(host, port) ? port : -1;
  }
  if (impl_->port < 0)
    throw UserError(exit_config, fmt::format("--health-listen {}: cannot listen there (address in use or not "
                                             "available)",
                                             listen));
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  log::info("health endpoint on {}:{} (/livez /readyz /healthz /status)", host, impl_->port);
}

HealthServer::~HealthServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int HealthServer::port() const { return impl_->port; }

struct ProgressLog::Impl {
  std::mutex mutex;
  std::condition_variable wake;
  bool done = false;
  std::thread thread;
};

ProgressLog::ProgressLog(const StatusBoard& board, std::chrono::milliseconds interval)
    : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([this, &board, interval] {
    std::unique_lock<std::mutex> lock(impl_->mutex);
    while (!impl_->wake.wait_for(lock, interval, [this] { return impl_->done; })) {
      std::string line = board.progress_line();
      if (!line.empty()) log::info("{}", line);
    }
  });
}

ProgressLog::~ProgressLog() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->done = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace installer
