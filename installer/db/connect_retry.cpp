#include "installer/db/connect_retry.hpp"

#include "installer/db/backoff.hpp"
#include "installer/util/duration.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"

#include <fmt/format.h>

#include <thread>

namespace installer {
namespace {

using Clock = std::chrono::steady_clock;

// Slept in short slices so a stop signal ends the wait promptly.
void sleep_until(Clock::time_point wake, const std::atomic<int>* stop) {
  while (Clock::now() < wake) {
    if (stop && stop->load() != 0)
      throw UserError(static_cast<ExitCode>(128 + stop->load()),
                      "stopped by a signal while waiting for the database: nothing was changed");
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(50), wake - Clock::now()));
  }
}

}  // namespace

std::unique_ptr<Database> connect_with_retry(const std::function<std::unique_ptr<Database>()>& connect,
                                             std::chrono::milliseconds wait_timeout, const std::atomic<int>* stop) {
  auto started = Clock::now();
  auto deadline = started + wait_timeout;
  Backoff backoff(std::chrono::milliseconds(100), std::chrono::milliseconds(5000));
  auto next_log = started;
  for (int attempts = 1;; ++attempts) {
    try {
      auto db = connect();
      if (attempts > 1)
        log::info("the database answered after {} attempts ({})", attempts,
                  format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started)));
      return db;
    } catch (const UserError& e) {
      if (e.code() != exit_unavailable) throw;
      auto now = Clock::now();
      if (now >= deadline) {
        if (attempts == 1) throw;
        throw UserError(exit_unavailable,
                        fmt::format("the database did not answer within the wait timeout ({}, {} attempts); last "
                                    "error: {}",
                                    format_duration(wait_timeout), attempts, e.what()));
      }
      if (now >= next_log) {
        log::warn("waiting for the database (attempt {}, up to {}): {}", attempts, format_duration(wait_timeout),
                  e.what());
        next_log = now + std::chrono::seconds(5);
      }
      sleep_until(now + std::min<Clock::duration>(backoff.next(), deadline - now), stop);
    }
  }
}

}  // namespace installer
