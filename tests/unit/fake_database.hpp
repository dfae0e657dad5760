#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/db/database.hpp"
#include "installer/db/db_error.hpp"
#include "installer/db/undo.hpp"
#include "installer/journal/journal.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace installer::testing {

/// What a fake server keeps: its "schema" (a set of object names) and the journal.
/// Data changes are counted but, like in a real fingerprint, not part of the schema.
struct FakeState {
  std::set<std::string> objects;
  long long rows = 0;
  std::vector<AttemptRecord> attempts;
  long long next_attempt = 1;
  std::vector<InstallRecord> installs;
  std::map<std::string, std::string> snapshots;  ///< digest -> Snapshot::serialize()
};

class FakeDatabase;

/// Exact undo for the fake's CREATE TABLE: DROP TABLE IF EXISTS, unless the table was there.
class FakeStatementUndo : public StatementUndo {
 public:
  explicit FakeStatementUndo(FakeDatabase& db) : db_(db) {}
  UndoRecord plan(const StatementEffect& effect, const ExcludedObjects& journal) override;
  void undo(const UndoRecord& record, bool in_doubt, const ExcludedObjects& journal) override;
  bool absent_or_present(const DbError& error) const override;

 private:
  FakeDatabase& db_;
};

/// A database for unit tests of the engine's decisions. Step statements are a tiny
/// language: "create X", "drop X", "drop if exists X", "insert", "fail", "noop".
/// It records every statement, can fail the Nth one (or kill the session there) on cue,
/// and behaves like PostgreSQL (transactional DDL) or MariaDB (each DDL commits).
class FakeDatabase : public Database {
 public:
  explicit FakeDatabase(bool transactional_ddl = true) : transactional_ddl_(transactional_ddl) {}

  /// Fail the nth statement run through execute() from now on (1-based).
  void fail_at(int nth, DbFailure how = DbFailure::statement) {
    fail_at_ = executed_ + nth;
    fail_how_ = how;
  }
  /// Fail every statement whose text contains needle.
  void fail_when(std::string needle) { fail_needle_ = std::move(needle); }
  /// The nth COMMIT from now on (1-based) loses the session: with in_doubt, as the commit
  /// was in flight. took_effect says whether the server had committed it.
  void fail_commit_at(int nth, DbFailure how, bool took_effect = false) {
    fail_commit_at_ = commits_ + nth;
    fail_commit_how_ = how;
    failed_commit_took_effect_ = took_effect;
  }
  /// The nth journal write from now on (1-based, FakeJournal's inserts and updates) loses
  /// the session, as a crash of the installer at that point would.
  void fail_journal_write_at(int nth) { fail_journal_write_at_ = journal_writes_ + nth; }
  /// A stop signal arrives while the nth statement from now on runs: with cancel the server
  /// cancels it (it fails as cancelled), else it completes and the stop is seen after it.
  void stop_at(int nth, std::atomic<int>& flag, int signal, bool cancel) {
    stop_at_ = executed_ + nth;
    stop_flag_ = &flag;
    stop_signal_ = signal;
    stop_cancels_ = cancel;
  }
  /// As MariaDB's session does with Database::write_soon(): the journal's writes whose
  /// result nobody reads (step progress, undo records) are held back and reach the server
  /// ahead of the next statement or COMMIT, in its round trip, so a session lost on that
  /// round trip loses them too.
  void hold_back_writes() { hold_back_ = true; }
  bool holds_back_writes() const { return hold_back_; }
  /// Called by FakeJournal for such a write: applied now, or when the next statement,
  /// COMMIT or read reaches the server.
  void write_soon(std::function<void()> apply);
  void write_soon(const std::string& sql, const std::vector<SqlValue>&) override {
    throw std::logic_error("fake: the engine should not send its own SQL: " + sql);
  }
  /// Sends the held-back writes (a read sees them, as the server's would).
  void flush_writes();
  /// Sizes of the batches execute_batch() was given, in order.
  const std::vector<size_t>& batches() const { return batches_; }
  int journal_writes() const { return journal_writes_; }
  /// A new session after a crash: the server rolled back what was not committed.
  void reconnect();

  const std::vector<std::string>& log() const { return log_; }
  FakeState& state() { return state_; }
  int executed() const { return executed_; }

  Engine engine() const override { return transactional_ddl_ ? Engine::postgres : Engine::mariadb; }
  Capabilities capabilities() const override {
    return transactional_ddl_ ? Capabilities::transactional_ddl() : Capabilities::implicit_commit_ddl();
  }
  void begin() override;
  void commit() override;
  void rollback() noexcept override;
  bool in_transaction() const override { return snapshot_.has_value(); }
  void execute(const std::string& statement) override;
  void reset_session_settings() override { log_.push_back("RESET"); }
  void cancel_current_statement() noexcept override {}
  void terminate_session() noexcept override { lose_session(); }
  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params) override;
  bool acquire_lock(const std::string&, std::chrono::milliseconds) override { return true; }
  void release_lock(const std::string&) override {}
  std::string describe_lock_holder(const std::string&) override { return {}; }
  Fingerprint fingerprint(const ExcludedObjects& journal) override;
  Snapshot snapshot(const ExcludedObjects& journal, const SnapshotScope& scope) override;
  bool table_exists(const std::string&, const std::string&) override { return true; }
  bool column_exists(const std::string&, const std::string&, const std::string&) override { return true; }
  std::vector<std::string> tables_in_schema(const std::string&) override { return {}; }
  bool create_database_if_missing(const std::string&, const std::string&) override { return false; }
  bool database_exists(const std::string&) override { return false; }
  void drop_database(const std::string&) override {}
  const ServerDialect& dialect() const override {
    static const ServerDialect dialect;
    return dialect;
  }

  /// Called by FakeJournal before each journal write: a dead session cannot write.
  void check_alive() const;
  /// Called by FakeJournal for each write: counts it, and fails it on cue.
  void journal_write();

  size_t execute_batch(const std::vector<std::string_view>& statements, const std::atomic<int>* stop,
                       const std::function<void(size_t)>& done) override {
    batches_.push_back(statements.size());
    return Database::execute_batch(statements, stop, done);
  }

  /// Exact undo for CREATE TABLE, off unless a test asks for it.
  void enable_exact_undo() { undo_ = std::make_unique<FakeStatementUndo>(*this); }
  StatementUndo* statement_undo() override { return undo_.get(); }

 private:
  bool transactional_ddl_;
  FakeState state_;
  std::optional<FakeState> snapshot_;
  std::vector<std::string> log_;
  int executed_ = 0;
  int fail_at_ = -1;
  DbFailure fail_how_ = DbFailure::statement;
  std::string fail_needle_;
  bool dead_ = false;
  int commits_ = 0;
  int fail_commit_at_ = -1;
  DbFailure fail_commit_how_ = DbFailure::in_doubt;
  bool failed_commit_took_effect_ = false;
  int journal_writes_ = 0;
  int fail_journal_write_at_ = -1;
  int stop_at_ = -1;
  std::atomic<int>* stop_flag_ = nullptr;
  int stop_signal_ = 0;
  bool stop_cancels_ = false;
  std::vector<size_t> batches_;
  bool hold_back_ = false;
  std::vector<std::function<void()>> held_back_;

  void lose_session();
  std::unique_ptr<FakeStatementUndo> undo_;

  static std::optional<std::string> sql_form(const std::string& statement);
};

/// The journal kept inside FakeState, so it commits and rolls back with the "schema".
class FakeJournal : public Journal {
 public:
  explicit FakeJournal(FakeDatabase& db) : db_(db) {}
  bool exists() override { return true; }
  void ensure() override {}
  std::vector<AttemptRecord> load() override;
  AttemptRecord load_attempt(long long attempt_id) override;
  long long insert_attempt(const AttemptRecord& attempt) override;
  long long insert_attempt_and_commit(const AttemptRecord& attempt) override {
    long long id = insert_attempt(attempt);
    db_.commit();
    return id;
  }
  void insert_step(long long attempt_id, const StepRecord& step) override;
  void update_step(long long attempt_id, const StepRecord& step) override;
  void record_undo(long long attempt_id, int position, const UndoRecord& undo) override;
  void update_attempt(const AttemptRecord& attempt) override;
  std::vector<InstallRecord> installs() override { return db_.state().installs; }
  void record_install(const InstallRecord& record) override { db_.state().installs.push_back(record); }
  std::string store_snapshot(const Snapshot& snapshot) override;
  Snapshot load_snapshot(const std::string& reference) override;

 private:
  AttemptRecord& find(long long attempt_id);
  void write_step(long long attempt_id, const StepRecord& step);
  void write_undo(long long attempt_id, int position, const UndoRecord& undo);
  FakeDatabase& db_;
};

/// A step for an in-memory update: up and down scripts in the fake's language.
struct FakeStep {
  std::string name;
  std::string up;
  std::string down;
  bool transactional = true;
};

Update make_update(const std::string& id, const std::string& version, const std::vector<FakeStep>& steps,
                   std::vector<std::string> required = {});

}  // namespace installer::testing
