#include "installer/cli/migration_lock.hpp"

#include "installer/os/signals.hpp"
#include "installer/util/duration.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace installer {
namespace {

/// Waited for in slices, so a stop signal ends the wait within a slice.
bool wait_for_lock(Database& db, const std::string& key, std::chrono::milliseconds timeout,
                   const std::atomic<int>* stop) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool acquired = false;
  while (!acquired) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    acquired = db.acquire_lock(key, std::min(left, std::chrono::milliseconds(250)));
    if (stop && stop->load() != 0)
      throw UserError(static_cast<ExitCode>(128 + stop->load()),
                      fmt::format("{} received while waiting for the migration lock: nothing was changed",
                                  signal_name(stop->load())));
  }
  return acquired;
}

UserError lock_timed_out(Database& db, const std::string& key, std::chrono::milliseconds timeout) {
  std::string holder;
  try {
    holder = db.describe_lock_holder(key);
  } catch (const std::exception&) {
    // Only a nicety for the message.
  }
  return UserError(exit_tempfail,
                   fmt::format("another installer held the migration lock for longer than the lock timeout ({}); "
                               "it may still be applying updates.{} Nothing was changed. Start again later, or "
                               "raise --lock-timeout (INSTALLER_LOCK_TIMEOUT).",
                               format_duration(timeout), holder.empty() ? "" : "\n  held by " + holder + "\n "));
}

}  // namespace

MigrationLock::MigrationLock(Database& db, const Settings& s, const std::atomic<int>* stop)
    : db_(db), key_("journal:" + s.journal_schema) {
  if (!db_.acquire_lock(key_, std::chrono::milliseconds(0))) {
    log::info("another installer holds the migration lock; waiting up to {}", format_duration(s.lock_timeout));
    if (!wait_for_lock(db_, key_, s.lock_timeout, stop)) throw lock_timed_out(db_, key_, s.lock_timeout);
  }
  log::debug("migration lock acquired");
}

MigrationLock::~MigrationLock() {
  try {
    db_.release_lock(key_);
  } catch (...) {
    // The server releases it when the session ends.
  }
}

}  // namespace installer
