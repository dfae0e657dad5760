#include "installer/cli/migration_lock.hpp"

#include "installer/db/lock_wait.hpp"
#include "installer/os/signals.hpp"
#include "installer/util/duration.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"

#include <fmt/format.h>

#include <chrono>

namespace installer {
namespace {

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
  LockWait waited = wait_for_lock(db_, key_, s.lock_timeout, stop);
  if (waited == LockWait::stopped)
    throw UserError(static_cast<ExitCode>(128 + stop->load()),
                    fmt::format("{} received while waiting for the migration lock: nothing was changed",
                                signal_name(stop->load())));
  if (waited == LockWait::timed_out) throw lock_timed_out(db_, key_, s.lock_timeout);
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
