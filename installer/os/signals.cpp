#include "installer/os/signals.hpp"

#include "installer/util/log.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>

namespace installer {
namespace {

// Real-time signals below SIGRTMIN+3 belong to glibc; the top one is free.
const int kWakeSignal = SIGRTMAX;

sigset_t catchable() {
  sigset_t set;
  sigfillset(&set);
  // Never blocked: the kernel's own faults must still kill us with a core.
  for (int s : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS}) sigdelset(&set, s);
  return set;
}

}  // namespace

void block_signals() {
  sigset_t set = catchable();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_signal(std::chrono::milliseconds timeout) {
  sigset_t set = catchable();
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  ts.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1'000'000);
  int sig = sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

std::string signal_name(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
}

void StopWatcher::set_canceller(std::function<void()> canceller) {
  std::lock_guard<std::mutex> lock(mutex_);
  canceller_ = std::move(canceller);
}

StopWatcher::StopWatcher(std::chrono::milliseconds cancel_after) {
  thread_ = std::thread([this, cancel_after] {
    std::optional<std::chrono::steady_clock::time_point> cancel_at;
    bool cancel_sent = false;
    while (!done_.load()) {
      int sig = wait_for_signal(std::chrono::milliseconds(100));
      if (cancel_at && std::chrono::steady_clock::now() >= *cancel_at) {
        // Again every second until the update ends: a server drops a cancel that arrives
        // between two statements sent together, and the next one may be a long one. The
        // canceller only ever reaches an update's own statements.
        cancel_at = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        std::lock_guard<std::mutex> lock(mutex_);
        if (canceller_) {
          if (!cancel_sent) {
            log::warn("the statement in flight is still running {}ms after the stop signal: cancelling it",
                      cancel_after.count());
          }
          cancel_sent = true;
          canceller_();
        }
      }
      if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) {
        int expected = 0;
        if (stop_.compare_exchange_strong(expected, sig)) {
          log::warn("{} received: stopping after the current statement and reverting the update in progress",
                    signal_name(sig));
          cancel_at = std::chrono::steady_clock::now() + cancel_after;
        }
      } else if (sig == kWakeSignal && done_.load()) {
        break;
      } else if (sig != 0 && sig != SIGCHLD) {
        log::debug("{} received during install/update; no application runs yet, so it is dropped", signal_name(sig));
      }
    }
  });
}

StopWatcher::~StopWatcher() { finish(); }

void StopWatcher::finish() {
  done_.store(true);
  // A signal aimed at the watcher's own thread ends its wait at once, so starting the
  // application does not wait out the poll interval.
  if (thread_.joinable()) {
    pthread_kill(thread_.native_handle(), kWakeSignal);
    thread_.join();
  }
}

}  // namespace installer
