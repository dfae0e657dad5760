#include "installer/health/status_board.hpp"

#include <fmt/format.h>

namespace installer {

const char* to_string(Phase phase) {
  switch (phase) {
    case Phase::starting: return "starting";
    case Phase::waiting_for_db: return "waiting-for-db";
    case Phase::installing: return "installing";
    case Phase::updating: return "updating";
    case Phase::reverting: return "reverting";
    case Phase::running: return "running";
    case Phase::stopping: return "stopping";
    case Phase::failed: return "failed";
  }
  return "starting";
}

namespace {
long long seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

StatusBoard::StatusBoard() { phase_since_ = update_since_ = started_ = std::chrono::steady_clock::now(); }

void StatusBoard::set_phase(Phase phase) {
  std::lock_guard<std::mutex> lock(mutex_);
  // A failure is final: nothing after it may look healthy again.
  if (phase_ == Phase::failed) return;
  if (phase_ != phase) phase_since_ = std::chrono::steady_clock::now();
  phase_ = phase;
}

Phase StatusBoard::phase() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return phase_;
}

void StatusBoard::set_error(const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  last_error_ = message;
}

void StatusBoard::set_journal_summary(int applied, int pending) {
  std::lock_guard<std::mutex> lock(mutex_);
  applied_ = applied;
  pending_ = pending;
}

void StatusBoard::set_application(int pid, const std::string& command) {
  std::lock_guard<std::mutex> lock(mutex_);
  app_pid_ = pid;
  app_command_ = command;
}

void StatusBoard::update_started(const std::string& update_id, int steps) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (phase_ != Phase::failed) phase_ = Phase::updating;
  update_id_ = update_id;
  steps_ = steps;
  position_ = statements_ = done_ = 0;
  step_.clear();
  update_since_ = std::chrono::steady_clock::now();
}

void StatusBoard::step_started(const std::string& step, int position, int statements) {
  std::lock_guard<std::mutex> lock(mutex_);
  step_ = step;
  position_ = position;
  statements_ = statements;
  done_ = 0;
}

void StatusBoard::statement_done(int done) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
}

void StatusBoard::reverting(const std::string& update_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (phase_ != Phase::failed) phase_ = Phase::reverting;
  update_id_ = update_id;
}

void StatusBoard::update_finished(const std::string& update_id, bool applied) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (applied) {
    ++applied_in_run_;
    if (applied_ >= 0) ++applied_;
    if (pending_ > 0) --pending_;
  }
  (void)update_id;
  update_id_.clear();
  step_.clear();
}

nlohmann::json StatusBoard::to_json() const {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json j;
  j["phase"] = to_string(phase_);
  j["phase_seconds"] = seconds_since(phase_since_);
  j["uptime_seconds"] = seconds_since(started_);
  if (!update_id_.empty()) {
    j["update"] = {{"id", update_id_},
                   {"steps", steps_},
                   {"step", step_},
                   {"step_position", position_},
                   {"statements", statements_},
                   {"statements_done", done_},
                   {"seconds", seconds_since(update_since_)}};
  }
  j["applied_this_run"] = applied_in_run_;
  if (applied_ >= 0) j["journal"] = {{"applied", applied_}, {"pending", pending_}};
  if (!last_error_.empty()) j["last_error"] = last_error_;
  if (app_pid_ > 0) j["application"] = {{"pid", app_pid_}, {"command", app_command_}};
  return j;
}

std::string StatusBoard::progress_line() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (update_id_.empty() || (phase_ != Phase::updating && phase_ != Phase::reverting)) return {};
  std::string what = phase_ == Phase::reverting ? "reverting" : "applying";
  if (step_.empty()) return fmt::format("still {} {} ({}s)", what, update_id_, seconds_since(update_since_));
  return fmt::format("still {} {}: step {} ({}/{}), statement {}/{}, {}s so far", what, update_id_, step_, position_,
                     steps_, std::min(done_ + 1, statements_), statements_, seconds_since(update_since_));
}

}  // namespace installer
