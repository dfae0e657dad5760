#pragma once
#include "installer/cli/settings.hpp"
#include "installer/db/database.hpp"

#include <atomic>
#include <string>

namespace installer {

/// Holds the migration lock for a scope; the session's end releases it too.
class MigrationLock {
 public:
  /// Waits up to the lock timeout; a stop signal (`stop`) ends the wait early.
  MigrationLock(Database& db, const Settings& s, const std::atomic<int>* stop = nullptr);
  ~MigrationLock();
  MigrationLock(const MigrationLock&) = delete;
  MigrationLock& operator=(const MigrationLock&) = delete;

 private:
  Database& db_;
  std::string key_;
};

}  // namespace installer
