#pragma once
#include "installer/cli/migration_lock.hpp"
#include "installer/cli/session.hpp"
#include "installer/cli/settings.hpp"

#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <thread>

namespace installer {

/// What the connecting thread hands over: the session, holding the migration lock, with
/// the journal read under it (SqlJournal::read_ahead).
struct EarlySession {
  Session session;
  std::unique_ptr<MigrationLock> lock;  ///< declared after the session: released before it ends
};

/// The database session, opened on a thread of its own while the update directories are
/// read: on a start with nothing to do the two take about as long as each other, and
/// neither needs the other. The thread also takes the migration lock and reads the
/// journal, which change nothing. The updates are still checked before anything is
/// changed: when the catalog is refused, the session is dropped and the lock with it.
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
  /// Throws what connecting or locking threw. A stop signal in `stop` ends a wait for the
  /// server or the lock as it would have without this thread.
  std::optional<EarlySession> take(const std::atomic<int>* stop);
  /// Whether a connection was started (and so whether take() may give one).
  bool started() const { return thread_.joinable(); }

 private:
  std::atomic<int> stop_{0};  ///< what the connecting thread's wait watches
  std::future<EarlySession> result_;
  std::thread thread_;
};

}  // namespace installer
