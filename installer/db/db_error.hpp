#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>

namespace installer {

/// What the caller may still do after a database error.
enum class DbFailure {
  statement,        ///< the statement failed; the session is usable (after rollback)
  connection_lost,  ///< the session is gone: locks released, open transaction rolled back
  in_doubt,         ///< the connection broke while COMMIT was in flight: reconnect and read the journal
  auth,             ///< the server refused the credentials
  unreachable,      ///< no server answered
};

/// A failure reported by (or while talking to) the database server.
class DbError : public std::runtime_error {
 public:
  DbError(DbFailure failure, const std::string& server_message, std::string sqlstate = {}, std::string statement = {})
      : std::runtime_error(server_message),
        failure_(failure),
        sqlstate_(std::move(sqlstate)),
        statement_(std::move(statement)) {}

  DbFailure failure() const { return failure_; }
  /// Five-character SQLSTATE (PostgreSQL) or "errno/SQLSTATE" (MariaDB); may be empty.
  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& statement() const { return statement_; }
  bool session_usable() const { return failure_ == DbFailure::statement; }

 private:
  DbFailure failure_;
  std::string sqlstate_;
  std::string statement_;
};

/// A statement of a batch failed (or the session broke while it ran); index is its
/// 0-based position in the batch. Every statement before it completed.
class BatchError : public DbError {
 public:
  BatchError(size_t index, const DbError& error) : DbError(error), index_(index) {}
  size_t index() const { return index_; }

 private:
  size_t index_;
};

}  // namespace installer
