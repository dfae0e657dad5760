#pragma once
#include "installer/db/database.hpp"
#include "installer/db/db_error.hpp"

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
      if (e.failure() == DbFailure::connection_lost)
        throw DbError(DbFailure::in_doubt, "the connection broke while COMMIT was in flight: " + std::string(e.what()));
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

 protected:
  /// Sends one statement and discards any rows; throws DbError.
  virtual void run(const std::string& sql) = 0;
  virtual const char* begin_statement() const { return "BEGIN"; }

 private:
  bool in_tx_ = false;
};

}  // namespace installer
