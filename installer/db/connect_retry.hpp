#pragma once
#include "installer/db/database.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace installer {

/// Calls connect until it returns a session, while it throws UserError(exit_unavailable)
/// (no server answers yet), for up to wait_timeout with exponential back-off, logging at
/// most one line every few seconds. Any other error (refused credentials, a bad
/// configuration) is thrown at once: retrying cannot help. A stop signal ends the wait.
std::unique_ptr<Database> connect_with_retry(const std::function<std::unique_ptr<Database>()>& connect,
                                             std::chrono::milliseconds wait_timeout, const std::atomic<int>* stop);

}  // namespace installer
