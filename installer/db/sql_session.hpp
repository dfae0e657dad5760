#pragma once
#include "installer/db/database.hpp"
#include "installer/db/db_error.hpp"

#include <mutex>
#include <string>

namespace installer {

/// Transaction control by plain SQL statements, shared by the backends: BEGIN, COMMIT
/// and ROLLBACK go through the backend's own run(), and a connection lost during COMMIT
/// becomes the "in doubt" error the caller must resolve by reading the journal.
class SqlSession : public Database {
 public:
  void begin() override {
    run(begin_statement());
    in_tx_ = true;
  }

  void commit() override {
    try {
      run("COMMIT");
      in_tx_ = false;
    } catch (const DbError& e) {
      in_tx_ = false;
      if (e.failure() == DbFailure::connection_lost) throw commit_in_doubt(e);
      throw;
    }
  }

  void rollback() noexcept override {
    in_tx_ = false;
    try {
      run("ROLLBACK");
    } catch (...) {
      // A broken session rolled back on the server already.
    }
  }

  bool in_transaction() const override { return in_tx_; }

  void execute(const std::string& statement) final { run(statement); }

  void execute_cancellable(const std::string& statement) final {
    open_cancel_gate();
    try {
      run(statement);
    } catch (...) {
      close_cancel_gate();
      throw;
    }
    close_cancel_gate();
  }

  /// Cancels only while execute_cancellable() runs an update's statement, never the
  /// installer's own queries (journal, fingerprint, ROLLBACK) nor a revert's: a stop that
  /// came between two statements, or a cancel that arrived as the statement ended, would
  /// otherwise fail the next of those, and the stop would end in an internal error or a
  /// failed revert instead of a clean one. The gate is held while the cancel is sent, so
  /// the statement's thread cannot move on to its next query until the server has it.
  void cancel_current_statement() noexcept final {
    std::lock_guard<std::mutex> lock(cancel_gate_);
    if (statement_running_) send_cancel();
  }

 protected:
  /// The error for a connection lost while a COMMIT was in flight; the transaction is
  /// over either way.
  DbError commit_in_doubt(const DbError& lost) {
    in_tx_ = false;
    return DbError(DbFailure::in_doubt, "the connection broke while COMMIT was in flight: " + std::string(lost.what()));
  }
  void mark_in_transaction() { in_tx_ = true; }
  /// For a transaction that never reached the server.
  void forget_transaction() { in_tx_ = false; }
  void open_cancel_gate() {
    std::lock_guard<std::mutex> lock(cancel_gate_);
    statement_running_ = true;
  }
  void close_cancel_gate() noexcept {
    std::lock_guard<std::mutex> lock(cancel_gate_);
    statement_running_ = false;
  }

  /// Sends one statement and discards any rows; throws DbError.
  virtual void run(const std::string& sql) = 0;
  virtual const char* begin_statement() const { return "BEGIN"; }
  /// Asks the server to cancel what this session runs now; returns once it has asked.
  virtual void send_cancel() noexcept = 0;

 private:
  bool in_tx_ = false;
  std::mutex cancel_gate_;
  bool statement_running_ = false;
};

}  // namespace installer
