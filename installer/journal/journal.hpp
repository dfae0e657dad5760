#pragma once
#include "installer/db/snapshot.hpp"
#include "installer/journal/records.hpp"

#include <stdexcept>
#include <vector>

namespace installer {

/// A stored snapshot that cannot be read back: missing, damaged, or not the one asked for.
class SnapshotUnreadable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where the installer remembers what it did, in the target database itself so the
/// record commits (or not) together with the changes it describes. Every write goes
/// through the same session as the steps, inside whatever transaction is open.
class Journal {
 public:
  virtual ~Journal() = default;

  /// Whether the journal tables exist (read-only commands do not create them).
  virtual bool exists() = 0;
  /// Creates the tables on first use; refuses a journal written in a newer format.
  virtual void ensure() = 0;
  /// Whether the journal records any attempt or install hook (an existing journal may
  /// record nothing: an adoption that failed after creating it).
  virtual bool records_anything() { return !load().empty() || !installs().empty(); }

  /// Every attempt in order, with steps but without their down scripts.
  virtual std::vector<AttemptRecord> load() = 0;
  /// What load() will return without a query, when the session read it ahead; else null.
  virtual const std::vector<AttemptRecord>* attempts_read_ahead() const { return nullptr; }
  /// One attempt with its steps' down scripts.
  virtual AttemptRecord load_attempt(long long attempt_id) = 0;

  /// Inserts the attempt and the steps it carries; returns its id. started_at is now.
  virtual long long insert_attempt(const AttemptRecord& attempt) = 0;
  /// insert_attempt(), then the commit of the open transaction, in one round trip where
  /// the session allows. A broken connection makes the commit in doubt, as for
  /// Database::commit().
  virtual long long insert_attempt_and_commit(const AttemptRecord& attempt) = 0;
  virtual void insert_step(long long attempt_id, const StepRecord& step) = 0;
  /// Writes a step's state, counters, duration and error.
  virtual void update_step(long long attempt_id, const StepRecord& step) = 0;
  /// Journals what undoes one statement of step `position`, before the statement runs
  /// (sent ahead of it where the session allows; the record's existence probe is
  /// evaluated by the server as the record is written).
  virtual void record_undo(long long attempt_id, int position, const UndoRecord& undo) = 0;
  /// Writes state, fingerprints, error and reason; finished_at is set for terminal states.
  virtual void update_attempt(const AttemptRecord& attempt) = 0;

  /// Stores a snapshot unless one with its digest is stored already; returns what an
  /// attempt's or a step's fingerprint column holds for it (journal/schema_record.hpp).
  virtual std::string store_snapshot(const Snapshot& snapshot) = 0;
  /// The snapshot such a column refers to; throws SnapshotUnreadable when it is not stored
  /// or its stored text is damaged.
  virtual Snapshot load_snapshot(const std::string& reference) = 0;

  /// Install hooks that ran, oldest first.
  virtual std::vector<InstallRecord> installs() = 0;
  virtual void record_install(const InstallRecord& record) = 0;
};

/// Version of the journal tables' layout written by this installer. A later release
/// that changes them migrates older journals; an older one refuses newer journals.
/// 1: updates and steps. 2: adds installs (install hooks). 3: adds undo (exact undo of a
/// statement) and the steps' revert_method, undo_done and revert_note. 4: adds
/// schema_snapshots (the schema before and after each update and step, which their
/// fingerprint columns name as "snapshot:<digest>"; older rows keep per-kind digests).
/// 5: the update state adopted, and steps without a down script (down_checksum ""); no
/// table changes, but an older installer would misread such rows.
constexpr int kJournalFormat = 6;

}  // namespace installer
