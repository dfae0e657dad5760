#include "installer/db/lock_wait.hpp"

#include "installer/util/duration.hpp"
#include "installer/util/log.hpp"

#include <algorithm>

namespace installer {

LockWait wait_for_lock(Database& db, const std::string& key, std::chrono::milliseconds timeout,
                       const std::atomic<int>* stop) {
  if (db.acquire_lock(key, std::chrono::milliseconds(0))) return LockWait::acquired;
  log::info("another installer holds the migration lock; waiting up to {}", format_duration(timeout));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return LockWait::timed_out;
    bool acquired = db.acquire_lock(key, std::min(left, std::chrono::milliseconds(250)));
    if (stop && stop->load() != 0) return LockWait::stopped;
    if (acquired) return LockWait::acquired;
  }
}

}  // namespace installer
