#include "fake_database.hpp"

#include "installer/journal/schema_record.hpp"
#include "installer/util/sha256.hpp"

#include <algorithm>
#include <stdexcept>

namespace installer::testing {

void FakeDatabase::check_alive() const {
  if (dead_) throw DbError(DbFailure::connection_lost, "fake: session is gone");
}

void FakeDatabase::lose_session() {
  // The server rolls back the open transaction of a session that is gone.
  dead_ = true;
  held_back_.clear();
  if (snapshot_) state_ = *snapshot_;
  snapshot_.reset();
}

void FakeDatabase::write_soon(std::function<void()> apply) {
  if (hold_back_) held_back_.push_back(std::move(apply));
  else apply();
}

void FakeDatabase::flush_writes() {
  auto writes = std::move(held_back_);
  held_back_.clear();
  for (auto& write : writes) write();
}

void FakeDatabase::journal_write() {
  check_alive();
  if (++journal_writes_ != fail_journal_write_at_) return;
  lose_session();
  throw DbError(DbFailure::connection_lost, "fake: connection lost at a journal write", "08006", "");
}

void FakeDatabase::reconnect() {
  if (snapshot_) state_ = *snapshot_;
  snapshot_.reset();
  dead_ = false;
  fail_at_ = -1;
  fail_needle_.clear();
  fail_commit_at_ = -1;
  fail_journal_write_at_ = -1;
  stop_at_ = -1;
}

void FakeDatabase::begin() {
  check_alive();
  if (snapshot_) throw std::logic_error("fake: BEGIN inside a transaction");
  snapshot_ = state_;
  log_.push_back("BEGIN");
}

void FakeDatabase::commit() {
  check_alive();
  if (!snapshot_) throw std::logic_error("fake: COMMIT without a transaction");
  if (++commits_ == fail_commit_at_) {
    if (failed_commit_took_effect_) snapshot_.reset();
    lose_session();  // the held-back writes were on the lost round trip
    log_.push_back("COMMIT (session lost)");
    throw DbError(fail_commit_how_, "fake: connection lost during COMMIT", "08006", "COMMIT");
  }
  flush_writes();
  snapshot_.reset();
  log_.push_back("COMMIT");
}

void FakeDatabase::rollback() noexcept {
  flush_writes();  // sent ahead of the ROLLBACK, and rolled back with the rest
  if (snapshot_) state_ = *snapshot_;
  snapshot_.reset();
  log_.push_back("ROLLBACK");
}

void FakeDatabase::execute(const std::string& sql) {
  const std::string statement = sql_form(sql).value_or(sql);
  check_alive();
  ++executed_;
  log_.push_back(statement);
  bool cued = executed_ == fail_at_ || (!fail_needle_.empty() && statement.find(fail_needle_) != std::string::npos);
  if (cued && fail_how_ != DbFailure::statement) {
    lose_session();
    throw DbError(fail_how_, "fake: connection lost", "08006", statement);
  }
  flush_writes();  // they were sent ahead of this statement, which reached the server
  if (cued || statement == "fail") throw DbError(DbFailure::statement, "fake: failed on cue", "XX000", statement);
  if (executed_ == stop_at_) {
    stop_flag_->store(stop_signal_);
    if (stop_cancels_)
      throw DbError(DbFailure::statement, "fake: canceling statement due to user request", "57014", statement);
  }

  auto arg = [&](size_t prefix) { return statement.substr(prefix); };
  bool ddl = false;
  if (statement.rfind("create ", 0) == 0) {
    if (!state_.objects.insert(arg(7)).second)
      throw DbError(DbFailure::statement, "fake: " + arg(7) + " already exists", "42P07", statement);
    ddl = true;
  } else if (statement.rfind("drop if exists ", 0) == 0) {
    state_.objects.erase(arg(15));
    ddl = true;
  } else if (statement.rfind("drop ", 0) == 0) {
    if (!state_.objects.erase(arg(5)))
      throw DbError(DbFailure::statement, "fake: " + arg(5) + " does not exist", "42P01", statement);
    ddl = true;
  } else if (statement == "insert") {
    ++state_.rows;
  } else if (statement != "noop") {
    throw std::logic_error("fake: unknown statement '" + statement + "'");
  }
  // MariaDB commits the open transaction before and after every DDL statement.
  if (ddl && !transactional_ddl_ && snapshot_) snapshot_ = state_;
}

// CREATE TABLE x, DROP TABLE [IF EXISTS] x and INSERT INTO x ...: the SQL spellings of the
// fake's words, which exact undo can read.
std::optional<std::string> FakeDatabase::sql_form(const std::string& statement) {
  auto after = [&](const char* prefix) -> std::optional<std::string> {
    std::string p(prefix);
    if (statement.rfind(p, 0) != 0) return std::nullopt;
    return statement.substr(p.size());
  };
  if (auto x = after("CREATE TABLE ")) return "create " + *x;
  if (auto x = after("DROP TABLE IF EXISTS ")) return "drop if exists " + *x;
  if (auto x = after("DROP TABLE ")) return "drop " + *x;
  if (after("INSERT INTO ")) return std::string("insert");
  return std::nullopt;
}

UndoRecord FakeStatementUndo::plan(const StatementEffect& effect, const ExcludedObjects&) {
  UndoRecord r;
  if (effect.action != Action::create || effect.kind != ObjectKind::table) {
    r.kind = UndoKind::none;
    r.why = "the fake undoes CREATE TABLE only";
    return r;
  }
  r.kind = UndoKind::run;
  r.statements = {"DROP TABLE IF EXISTS " + effect.objects[0].name};
  r.existence_probe = "exists " + effect.objects[0].name;
  r.creates_table = effect.objects[0];
  return r;
}

void FakeStatementUndo::undo(const UndoRecord& record, bool, const ExcludedObjects&) {
  if (record.kind != UndoKind::run) throw NotExact("the fake runs statements only");
  if (record.existed.value_or(false)) return;
  for (const auto& statement : record.statements) db_.execute(statement);
}

bool FakeStatementUndo::absent_or_present(const DbError& error) const {
  return error.sqlstate() == "42P01" || error.sqlstate() == "42P07";
}

std::vector<SqlRow> FakeDatabase::query(const std::string& sql, const std::vector<SqlValue>&) {
  throw std::logic_error("fake: the engine should not send its own SQL: " + sql);
}

Fingerprint FakeDatabase::fingerprint(const ExcludedObjects&) {
  check_alive();
  std::string all;
  for (const auto& o : state_.objects) all += o + "\n";
  Fingerprint fp;
  fp.add_kind("object", static_cast<long>(state_.objects.size()), sha256_hex(all));
  return fp;
}

// The fake's objects are tables: CREATE TABLE t makes "table t".
Snapshot FakeDatabase::snapshot(const ExcludedObjects&, const SnapshotScope& scope) {
  check_alive();
  std::vector<SchemaObject> objects;
  for (const auto& o : state_.objects) {
    SchemaObject object{"table", o, "", o};
    if (scope.covers(object)) objects.push_back(std::move(object));
  }
  return Snapshot(std::move(objects));
}

std::string FakeJournal::store_snapshot(const Snapshot& snapshot) {
  db_.check_alive();
  std::string digest = snapshot.digest();
  db_.state().snapshots.emplace(digest, snapshot.serialize());
  return snapshot_reference(digest);
}

Snapshot FakeJournal::load_snapshot(const std::string& reference) {
  db_.check_alive();
  auto it = db_.state().snapshots.find(snapshot_digest_of(reference));
  if (it == db_.state().snapshots.end()) throw SnapshotUnreadable("fake: no snapshot " + reference);
  return Snapshot::parse(it->second);
}

std::vector<AttemptRecord> FakeJournal::load() {
  db_.check_alive();
  db_.flush_writes();
  auto copy = db_.state().attempts;
  for (auto& a : copy)
    for (auto& s : a.steps) s.down_script.clear();
  return copy;
}

AttemptRecord FakeJournal::load_attempt(long long attempt_id) {
  db_.check_alive();
  db_.flush_writes();
  return find(attempt_id);
}

AttemptRecord& FakeJournal::find(long long attempt_id) {
  for (auto& a : db_.state().attempts)
    if (a.attempt_id == attempt_id) return a;
  throw std::runtime_error("fake journal: no attempt " + std::to_string(attempt_id));
}

long long FakeJournal::insert_attempt(const AttemptRecord& attempt) {
  db_.journal_write();
  db_.flush_writes();  // what was held back reaches the server first
  AttemptRecord a = attempt;
  a.attempt_id = db_.state().next_attempt++;
  a.started_at = "2026-01-01T00:00:00Z";
  db_.state().attempts.push_back(a);
  return a.attempt_id;
}

void FakeJournal::insert_step(long long attempt_id, const StepRecord& step) {
  db_.journal_write();
  db_.flush_writes();  // what was held back reaches the server first
  find(attempt_id).steps.push_back(step);
  auto& steps = find(attempt_id).steps;
  std::sort(steps.begin(), steps.end(),
            [](const StepRecord& a, const StepRecord& b) { return a.position < b.position; });
}

void FakeJournal::update_step(long long attempt_id, const StepRecord& step) {
  db_.journal_write();
  db_.write_soon([this, attempt_id, step] { write_step(attempt_id, step); });
}

void FakeJournal::write_step(long long attempt_id, const StepRecord& step) {
  for (auto& s : find(attempt_id).steps) {
    if (s.position != step.position) continue;
    s.state = step.state;
    s.statements_done = step.statements_done;
    s.down_statements_done = step.down_statements_done;
    s.duration_ms = step.duration_ms;
    s.error = step.error;
    s.revert_method = step.revert_method;
    s.undo_done = step.undo_done;
    s.revert_note = step.revert_note;
    return;
  }
  throw std::runtime_error("fake journal: no step to update");
}

void FakeJournal::record_undo(long long attempt_id, int position, const UndoRecord& undo) {
  db_.journal_write();
  db_.write_soon([this, attempt_id, position, undo] { write_undo(attempt_id, position, undo); });
}

void FakeJournal::write_undo(long long attempt_id, int position, const UndoRecord& undo) {
  for (auto& s : find(attempt_id).steps) {
    if (s.position != position) continue;
    UndoRecord stored = undo;
    if (stored.existence_probe.rfind("exists ", 0) == 0)
      stored.existed = db_.state().objects.count(stored.existence_probe.substr(7)) > 0;
    stored.existence_probe.clear();
    s.undo.push_back(std::move(stored));
    return;
  }
  throw std::runtime_error("fake journal: no step for an undo record");
}

void FakeJournal::update_attempt(const AttemptRecord& attempt) {
  db_.journal_write();
  db_.flush_writes();  // what was held back reaches the server first
  AttemptRecord& a = find(attempt.attempt_id);
  auto steps = a.steps;
  auto started = a.started_at;
  a = attempt;
  a.steps = steps;
  a.started_at = started;
  if (a.state != UpdateState::applying && a.state != UpdateState::reverting) a.finished_at = "2026-01-01T00:00:01Z";
}

Update make_update(const std::string& id, const std::string& version, const std::vector<FakeStep>& steps,
                   std::vector<std::string> required) {
  Update u;
  u.id = id;
  u.version = version;
  u.required = std::move(required);
  u.source = "/fake/" + id;
  std::string summary;
  for (const auto& fs : steps) {
    Step s;
    s.name = fs.name;
    s.transactional = fs.transactional;
    s.up.path = u.source / (fs.name + ".up.sql");
    s.up.text = fs.up;
    s.up.checksum = sha256_hex(fs.up);
    s.up.statements = split_sql(fs.up, SqlDialect::postgres);
    s.down.path = u.source / (fs.name + ".down.sql");
    s.down.text = fs.down;
    s.down.checksum = sha256_hex(fs.down);
    s.down.statements = split_sql(fs.down, SqlDialect::postgres);
    summary += s.name + "\n" + s.up.checksum + "\n";
    u.steps.push_back(std::move(s));
  }
  u.checksum = sha256_hex(summary);
  return u;
}

}  // namespace installer::testing
