#pragma once
#include "installer/db/database.hpp"

namespace installer {

/// A transaction that rolls back unless it was committed: whatever leaves its scope
/// early (a failed statement, a stop, a lost session) takes its work with it. Declared
/// inside a try block, it has rolled back before any of the block's handlers runs, so a
/// handler may journal the failure in a transaction of its own.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) { db_.begin(); }
  /// Begins after Database::reset_session_settings(), in one round trip where the backend can.
  struct ResetSettings {};
  Transaction(Database& db, ResetSettings) : db_(db) { db_.begin_with_reset_settings(); }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (open_) db_.rollback();
  }

  /// A commit that throws (in doubt, say) leaves the transaction to roll back.
  void commit() {
    db_.commit();
    open_ = false;
  }
  /// For a commit made on the caller's behalf (Journal::insert_attempt_and_commit,
  /// Database::query_and_commit): call it once that returned.
  void committed() { open_ = false; }

 private:
  Database& db_;
  bool open_ = true;
};

}  // namespace installer
