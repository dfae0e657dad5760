#pragma once
#include <signal.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace installer {

/// Blocks every catchable signal in the calling thread and in every thread it starts
/// afterwards, so signals are only ever taken by an explicit wait. Call it first, before
/// any thread exists.
void block_signals();

/// Waits up to `timeout` for a signal; 0 on timeout.
int wait_for_signal(std::chrono::milliseconds timeout);

/// "SIGTERM" and so on.
std::string signal_name(int signal);

/// During install and update, takes TERM, INT, HUP and QUIT and records the first one:
/// the engine stops after the current statement and reverts. Other signals are noted
/// and dropped (there is no application to forward them to yet).
class StopWatcher {
 public:
  /// A stop still pending `cancel_after` after the signal cancels the running statement
  /// through the canceller (if one is set), so the revert starts within the grace period.
  explicit StopWatcher(std::chrono::milliseconds cancel_after = std::chrono::seconds(5));
  ~StopWatcher();
  StopWatcher(const StopWatcher&) = delete;
  StopWatcher& operator=(const StopWatcher&) = delete;

  /// The signal that asked to stop, or 0.
  const std::atomic<int>& stop_signal() const { return stop_; }

  /// Stops watching (joins the thread). Signals from now on wait for the next taker; a
  /// stop taken before is still in stop_signal().
  void finish();

  /// What cancels the statement in flight (the database session's cancel); cleared with {}.
  void set_canceller(std::function<void()> canceller);

 private:
  std::mutex mutex_;
  std::function<void()> canceller_;
  std::atomic<int> stop_{0};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace installer
