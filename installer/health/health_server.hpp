#pragma once
#include "installer/health/status_board.hpp"

#include <memory>
#include <string>

namespace installer {

/// The HTTP endpoint for orchestrators, on a thread of its own, reading the StatusBoard
/// only: it can never delay reaping or signal forwarding. GET and HEAD, one request per
/// connection. A client gets 2 s to send its request line and headers (4 KiB at most) and
/// 2 s to take the answer; at most 32 clients are open, a new one displacing the oldest,
/// so idle or trickling sockets cannot keep a probe waiting.
///   /livez   200 while the installer makes progress (also during a long update), 503 once failed
///   /readyz  200 only while the application runs
///   /healthz as /readyz, with the body {"status":"ok"}
///   /status  JSON: phase, current update and step with progress, last error, journal summary
class HealthServer {
 public:
  /// Binds ADDR:PORT (":PORT" for every address) at once, so a bad address or a port in
  /// use is reported before anything else happens. Throws UserError(exit_config).
  HealthServer(StatusBoard& board, const std::string& listen);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Logs the board's progress line every `interval` while an update runs, so a long
/// update is visibly alive in the logs.
class ProgressLog {
 public:
  ProgressLog(const StatusBoard& board, std::chrono::milliseconds interval);
  ~ProgressLog();
  ProgressLog(const ProgressLog&) = delete;
  ProgressLog& operator=(const ProgressLog&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace installer
