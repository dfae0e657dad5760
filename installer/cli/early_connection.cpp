#include "installer/cli/early_connection.hpp"

#include "installer/cli/connect.hpp"

#include <chrono>
#include <csignal>

namespace installer {

EarlyConnection::EarlyConnection(const Settings& s) {
  if (!s.has_connection || may_create_database(s)) return;
  std::packaged_task<EarlySession()> connect([&s, this] {
    EarlySession early{session_for(s, wait_for_database(s, &stop_)), nullptr};
    early.lock = std::make_unique<MigrationLock>(*early.session.db, s, &stop_);
    early.session.journal->read_ahead();
    return early;
  });
  result_ = connect.get_future();
  thread_ = std::thread(std::move(connect));
}

EarlyConnection::~EarlyConnection() {
  if (!thread_.joinable()) return;
  stop_.store(SIGTERM);  // any signal number: the wait ends, and its error is not looked at
  thread_.join();
}

std::optional<EarlySession> EarlyConnection::take(const std::atomic<int>* stop) {
  if (!thread_.joinable()) return std::nullopt;
  // The thread cannot watch two flags; a stop that arrives is passed on to the one it
  // watches, as often as its own wait looks.
  while (result_.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready)
    if (stop && stop->load() != 0) stop_.store(stop->load());
  thread_.join();
  return result_.get();
}

}  // namespace installer
