#pragma once
#include "installer/cli/session.hpp"
#include "installer/cli/settings.hpp"

#include <atomic>
#include <future>
#include <optional>
#include <thread>

namespace installer {

/// The database session, opened on a thread of its own while the update directories are
/// read: on a start with nothing to do the two take about as long as each other, and
/// neither needs the other. The thread also makes the server's first look at the journal
/// (a new backend's first catalog query is its slowest), which reads and changes nothing
/// the migration lock protects. The updates are still checked before anything is changed:
/// when the catalog is refused, the session is dropped.
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

  /// The session, once it is there; nothing when none was started, or it was taken.
  /// Throws what connecting threw. A stop signal in `stop` ends a wait for the server
  /// as it would have without this thread.
  std::optional<Session> take(const std::atomic<int>* stop);

 private:
  std::atomic<int> stop_{0};  ///< what the connecting thread's wait watches
  std::future<Session> result_;
  std::thread thread_;
};

}  // namespace installer
