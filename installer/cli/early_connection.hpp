#pragma once
#include "installer/cli/settings.hpp"
#include "installer/db/database.hpp"

#include <atomic>
#include <exception>
#include <future>
#include <memory>
#include <thread>

namespace installer {

/// The database connection, opened on a thread of its own while the update directories
/// are read: on a start with nothing to do the two take about as long as each other, and
/// neither needs the other. The updates are still checked before anything is changed: a
/// connection changes nothing, and when the catalog is refused the connection is dropped.
class EarlyConnection {
 public:
  /// Starts connecting (waiting for the server up to the wait timeout), unless the
  /// database is to be created first: that is a change, made only once the updates are
  /// known to be valid.
  explicit EarlyConnection(const Settings& s);
  /// A connection not taken is dropped; a wait still running ends at once.
  ~EarlyConnection();
  EarlyConnection(const EarlyConnection&) = delete;
  EarlyConnection& operator=(const EarlyConnection&) = delete;

  /// The connection, once it is there; nullptr when none was started, or it was taken.
  /// Throws what connecting threw. A stop signal in `stop` ends a wait for the server
  /// as it would have without this thread.
  std::unique_ptr<Database> take(const std::atomic<int>* stop);

 private:
  std::atomic<int> stop_{0};  ///< what the connecting thread's wait watches
  std::future<std::unique_ptr<Database>> result_;
  std::thread thread_;
};

}  // namespace installer
