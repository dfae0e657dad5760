#pragma once
#include "installer/engine/observer.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <mutex>
#include <string>

namespace installer {

/// The installer's life as the health endpoint reports it.
enum class Phase { starting, waiting_for_db, installing, updating, reverting, running, stopping, failed };
const char* to_string(Phase phase);

/// The one place that knows what the installer is doing now. The engine reports into it
/// (as an EngineObserver), the command layer sets phases, the health endpoint and the
/// progress log line read it. Every method takes a short lock; none blocks for long, so
/// readers never hold up the supervisor.
class StatusBoard : public EngineObserver {
 public:
  StatusBoard();

  void set_phase(Phase phase);
  Phase phase() const;
  void set_error(const std::string& message);
  void set_journal_summary(int applied, int pending);
  void set_application(int pid, const std::string& command);

  void update_started(const std::string& update_id, int steps) override;
  void step_started(const std::string& step, int position, int statements) override;
  void statement_done(int done) override;
  void reverting(const std::string& update_id) override;
  void update_finished(const std::string& update_id, bool applied) override;

  /// The body of /status.
  nlohmann::json to_json() const;
  /// "applying 2024.02.0 step 001_create_orders (1/3), statement 2/3, 42s" or "".
  std::string progress_line() const;

 private:
  mutable std::mutex mutex_;
  Phase phase_ = Phase::starting;
  std::chrono::steady_clock::time_point phase_since_, update_since_, started_;
  std::string update_id_, step_;
  int steps_ = 0, position_ = 0, statements_ = 0, done_ = 0;
  int applied_in_run_ = 0, applied_ = -1, pending_ = -1;
  std::string last_error_;
  int app_pid_ = 0;
  std::string app_command_;
};

}  // namespace installer
