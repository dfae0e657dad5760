#pragma once
#include "installer/db/database.hpp"

#include <atomic>
#include <chrono>
#include <string>

namespace installer {

enum class LockWait { acquired, timed_out, stopped };

/// Takes the migration lock named `key`, waiting up to `timeout` while another installer
/// holds it. Waited for in slices, so a stop signal (*stop non-zero) ends the wait within
/// one; a stop that comes as the lock is taken still counts as a stop.
LockWait wait_for_lock(Database& db, const std::string& key, std::chrono::milliseconds timeout,
                       const std::atomic<int>* stop);

}  // namespace installer
