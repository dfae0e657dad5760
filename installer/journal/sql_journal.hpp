#pragma once
#include "installer/db/database.hpp"
#include "installer/journal/journal.hpp"
#include "installer/journal/snapshot_store.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace installer {

/// The journal as tables of the target database (where: journal_table()), written
/// through Database::query in the session's dialect, whichever server it is.
class SqlJournal : public Journal {
 public:
  SqlJournal(Database& db, std::string schema);

  bool exists() override;
  bool records_anything() override;
  void ensure() override;
  /// Under the migration lock, while the updates are still being read (so before anything
  /// may change): when the journal is there in this installer's format, so that ensure()
  /// has nothing to do, reads its attempts for the next load() to return, unless an attempt
  /// or a step is written first. Returns whether it did.
  bool read_ahead();
  std::vector<AttemptRecord> load() override;
  const std::vector<AttemptRecord>* attempts_read_ahead() const override {
    return read_ahead_ ? &*read_ahead_ : nullptr;
  }
  AttemptRecord load_attempt(long long attempt_id) override;
  long long insert_attempt(const AttemptRecord& attempt) override;
  long long insert_attempt_and_commit(const AttemptRecord& attempt) override;
  void insert_step(long long attempt_id, const StepRecord& step) override;
  void update_step(long long attempt_id, const StepRecord& step) override;
  void record_undo(long long attempt_id, int position, const UndoRecord& undo) override;
  void update_attempt(const AttemptRecord& attempt) override;
  std::vector<InstallRecord> installs() override;
  void record_install(const InstallRecord& record) override;
  /// installer restore's record, in the journal the restore brought back.
  void record_restore(const RestoreRecord& record);
  std::vector<RestoreRecord> restores();
  std::string store_snapshot(const Snapshot& snapshot) override;
  Snapshot load_snapshot(const std::string& reference) override;

  const std::string& schema() const { return schema_; }

 private:
  /// {schema, table} of journal table `name`, as journal_table().
  std::pair<std::string, std::string> location(const char* name) const;
  std::string table(const char* name) const;
  std::string timestamp(const char* column) const;
  std::string now() const;
  std::string finished_now() const;
  void migrate_format(int from);
  long long insert_attempt(const AttemptRecord& attempt, bool commit);
  /// Attempts and their steps; `where` (e.g. "WHERE attempt_id = ?") filters both tables.
  std::vector<AttemptRecord> load_where(const std::string& where, const std::vector<SqlValue>& params);
  /// The journal's format, or nullopt when it does not exist (or was left half-created).
  std::optional<int> format();
  void check_schema_is_its_own();
  std::vector<std::string> tables_beside_journal();
  std::vector<std::string> tables_named_like_journal();
  /// format(), read once per session (ensure() sets it).
  int known_format();
  /// The journal is in this installer's format: ensure() has nothing left to do.
  void known_current();
  void load_undo(AttemptRecord& attempt);
  /// The schema_snapshots table, once the journal's format has it (journal/snapshot_store.cpp).
  SnapshotStore& snapshot_store();

  Database& db_;
  std::string schema_;
  bool ensured_ = false;
  bool schema_checked_ = false;
  /// Whether the schema check's listing held the format table; read once, by format().
  std::optional<bool> format_table_listed_;
  std::optional<int> format_;
  std::optional<std::vector<AttemptRecord>> read_ahead_;  ///< read_ahead()'s, until used or outdated
  std::unique_ptr<SnapshotStore> snapshots_;
};

}  // namespace installer
