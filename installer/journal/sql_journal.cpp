#include "installer/journal/sql_journal.hpp"

#include "installer/journal/journal_ddl.hpp"
#include "installer/journal/journal_tables.hpp"
#include "installer/util/error.hpp"
#include "installer/util/redact.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <map>
#include <stdexcept>
#include <utility>

namespace installer {
namespace {

const char* const kUpdateColumns =
    "attempt_id, update_id, version, checksum, description, requires, state, host, installer_version, "
    "{started}, {finished}, fingerprint_before, fingerprint_after, error, error_step, error_statement, "
    "error_sqlstate, reason, {signed_by}, {backup}";

std::string text(const SqlValue& v) { return v.value_or(""); }
long long number(const SqlValue& v) { return v ? std::stoll(*v) : 0; }
bool boolean(const SqlValue& v) { return v && (*v == "t" || *v == "1" || *v == "true"); }

std::string join_lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : "\n") + i;
  return out;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    out.push_back(s.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

bool is_terminal(UpdateState s) {
  return in_effect(s) || s == UpdateState::failed || s == UpdateState::removed || s == UpdateState::revert_failed;
}

nlohmann::json name_json(const ObjectName& n) { return nlohmann::json::array({n.schema, n.name}); }
ObjectName name_from(const nlohmann::json& j) {
  if (!j.is_array() || j.size() != 2) return {};
  return {j[0].get<std::string>(), j[1].get<std::string>()};
}

/// The parts of an undo record that only its kind reads, as one JSON text.
std::string undo_detail(const UndoRecord& u) {
  nlohmann::json j;
  if (!u.statements.empty()) j["statements"] = u.statements;
  if (!u.table.empty()) j["table"] = name_json(u.table);
  if (!u.original_table.empty()) j["original_table"] = name_json(u.original_table);
  if (!u.captured.empty()) j["captured"] = u.captured;
  if (!u.column_renames.empty()) j["column_renames"] = u.column_renames;
  if (u.concurrently) j["concurrently"] = true;
  if (!u.creates_table.empty()) j["creates_table"] = name_json(u.creates_table);
  return j.is_null() ? "{}" : j.dump();
}

void read_undo_detail(const std::string& text, UndoRecord& u) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    u.kind = UndoKind::none;  // unreadable: never trusted as an exact inverse
    u.why = "its undo record could not be read";
    return;
  }
  u.statements = j.value("statements", std::vector<std::string>{});
  u.table = name_from(j.value("table", nlohmann::json()));
  u.original_table = name_from(j.value("original_table", nlohmann::json()));
  u.captured = j.value("captured", std::string());
  u.column_renames = j.value("column_renames", std::vector<std::pair<std::string, std::string>>{});
  u.concurrently = j.value("concurrently", false);
  u.creates_table = name_from(j.value("creates_table", nlohmann::json()));
}

// A step row's columns after attempt_id, in the order of step_values().
constexpr const char* kStepValueColumns =
    "position, name, up_checksum, down_checksum, down_script, transactional, state, statements_total, "
    "statements_done, down_statements_done, fingerprint_before, duration_ms, error, revert_method, undo_done, "
    "revert_note";
constexpr const char* kStepPlaceholders = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";
// Their SQL types, for a VALUES list that is not an INSERT's (nullptr: text).
constexpr const char* kStepValueTypes[] = {"integer", nullptr,   nullptr,   nullptr,   nullptr, "boolean",
                                           nullptr,   "integer", "integer", "integer", nullptr, "bigint",
                                           nullptr,   nullptr,   "integer", nullptr};

std::string placeholders(const ServerDialect& dialect, const std::vector<const char*>& types) {
  std::string out;
  for (const char* type : types) out += (out.empty() ? "" : ", ") + dialect.placeholder(type);
  return out;
}

std::string step_placeholders(const ServerDialect& dialect) {
  return placeholders(dialect, std::vector<const char*>(std::begin(kStepValueTypes), std::end(kStepValueTypes)));
}

std::vector<SqlValue> step_values(const StepRecord& s) {
  return {std::to_string(s.position),
          s.name,
          s.up_checksum,
          s.down_checksum,
          s.down_script,
          std::string(s.transactional ? "1" : "0"),
          std::string(to_string(s.state)),
          std::to_string(s.statements_total),
          std::to_string(s.statements_done),
          std::to_string(s.down_statements_done),
          s.fingerprint_before,
          std::to_string(s.duration_ms),
          redact(s.error),
          s.revert_method,
          std::to_string(s.undo_done),
          redact(s.revert_note)};
}

}  // namespace

SqlJournal::SqlJournal(Database& db, std::string schema) : db_(db), schema_(std::move(schema)) {}

std::pair<std::string, std::string> SqlJournal::location(const char* name) const {
  return journal_table(db_.dialect(), schema_, name);
}

std::string SqlJournal::table(const char* name) const {
  auto [schema, table] = location(name);
  return db_.dialect().quote_qualified(schema, table);
}

std::string SqlJournal::timestamp(const char* column) const { return db_.dialect().iso_timestamp(column); }

std::string SqlJournal::now() const { return db_.dialect().transaction_time; }

// An update journaled in a transaction of its own must not seem to finish when it started.
std::string SqlJournal::finished_now() const { return db_.dialect().statement_time; }

// The format row is written last when the journal is created, so it marks a complete
// journal: creating the tables is several statements that each commit on their own,
// and an installer killed between them must leave something the next one finishes.
// Fingerprints leave the journal out: PostgreSQL its schema whole, MariaDB its tables by
// name. A schema that also holds the application's tables (--journal-schema public), or on
// MariaDB an application table that has a journal table's name (a prefix such as "app"
// meeting app_steps), would be hidden from every check, or taken for the journal.
void SqlJournal::check_schema_is_its_own() {
  if (schema_checked_) return;
  const bool own_schema = journal_has_own_schema(db_.dialect());
  auto others = own_schema ? tables_beside_journal() : tables_named_like_journal();
  if (!others.empty()) {
    std::string names;
    for (const auto& name : others) names += (names.empty() ? "" : ", ") + name;
    throw UserError(exit_config,
                    fmt::format("--journal-schema '{}' {} ({}{}): the journal needs names of its own, which schema "
                                "checks leave out; choose another --journal-schema (default: installer)",
                                schema_,
                                own_schema ? "holds tables that are not the journal's"
                                           : "names tables of the application as the journal's",
                                names, others.size() == 3 ? ", ..." : ""));
  }
  schema_checked_ = true;
}

/// The first three, at most.
std::vector<std::string> SqlJournal::tables_beside_journal() {
  const auto& journal = journal_table_names();
  std::vector<std::string> others;
  const std::string format_table = location("journal_format").second;
  format_table_listed_ = false;
  for (auto& name : db_.tables_in_schema(schema_)) {
    if (name == format_table) format_table_listed_ = true;
    if (std::find(journal.begin(), journal.end(), name) == journal.end() && others.size() < 3)
      others.push_back(std::move(name));
  }
  return others;
}

/// Before the journal is complete (no format table) a table with a journal table's name is
/// either one an installer stopped while creating the journal left (it has the journal's
/// key column) or the application's.
std::vector<std::string> SqlJournal::tables_named_like_journal() {
  auto [schema, format_table] = location("journal_format");
  format_table_listed_ = db_.table_exists(schema, format_table);
  if (*format_table_listed_) return {};
  static const std::map<std::string, std::string> key_column{
      {"updates", "attempt_id"},  {"steps", "attempt_id"},        {"undo", "attempt_id"},
      {"installs", "install_id"}, {"schema_snapshots", "digest"}, {"journal_format", "format_version"},
      {"restores", "restore_id"}};
  std::vector<std::string> foreign;  // a few queries per table: this runs once, before the journal exists
  for (const auto& t : journal_table_names()) {
    auto [table_schema, name] = location(t.c_str());
    if (db_.table_exists(table_schema, name) && !db_.column_exists(table_schema, name, key_column.at(t)))
      foreign.push_back(name);
  }
  return foreign;
}

std::optional<int> SqlJournal::format() {
  check_schema_is_its_own();
  auto [schema, name] = location("journal_format");
  // The check has just listed the schema's tables (on its first call): no query of its own.
  std::optional<bool> listed = std::exchange(format_table_listed_, std::nullopt);
  if (!(listed ? *listed : db_.table_exists(schema, name))) return std::nullopt;
  auto rows = db_.query(fmt::format("SELECT max(format_version) FROM {}", table("journal_format")));
  if (rows.empty() || !rows[0][0]) return std::nullopt;
  return std::stoi(*rows[0][0]);
}

bool SqlJournal::exists() { return format().has_value(); }

bool SqlJournal::records_anything() {
  if (read_ahead_ && !read_ahead_->empty()) return true;
  if (!exists()) return false;
  if (!db_.query(fmt::format("SELECT 1 FROM {} LIMIT 1", table("updates"))).empty()) return true;
  auto [schema, t] = location("installs");
  return db_.table_exists(schema, t) && !db_.query(fmt::format("SELECT 1 FROM {} LIMIT 1", table("installs"))).empty();
}

void SqlJournal::ensure() {
  if (ensured_) return;  // one check per session is enough: we hold the lock
  std::optional<int> current = format();
  if (!current || *current < kJournalFormat) {
    migrate_format(current.value_or(0));  // a new journal is created as an old one is brought forward
  } else if (*current > kJournalFormat) {
    throw UserError(exit_data,
                    fmt::format("the journal in schema '{}' has format {}, written by a newer installer; this "
                                "installer ({}) understands format {} at most. Use the newer image.",
                                schema_, *current, INSTALLER_VERSION, kJournalFormat));
  }
  known_current();
}

void SqlJournal::known_current() {
  ensured_ = true;
  format_ = kJournalFormat;
}

bool SqlJournal::read_ahead() {
  if (format() != kJournalFormat) return false;  // missing, older or newer: ensure() decides, later
  known_current();
  read_ahead_ = load_where("", {});
  return true;
}

int SqlJournal::known_format() {
  if (!format_) format_ = format().value_or(kJournalFormat);
  return *format_;
}

// The journal evolves like a product's schema: each format adds to the previous one, and
// an older journal is brought forward here, under the migration lock.
void SqlJournal::migrate_format(int from) {
  read_ahead_.reset();
  auto name = [this](const char* t) { return table(t); };
  for (const auto& statement : journal_ddl(db_.dialect(), from, db_.quote_identifier(schema_), name))
    db_.query(statement);
  db_.query(fmt::format("INSERT INTO {} (format_version, written_by) VALUES (?, ?)", table("journal_format")),
            {std::to_string(kJournalFormat), std::string("installer ") + INSTALLER_VERSION});
}

std::vector<InstallRecord> SqlJournal::installs() {
  auto [schema, t] = location("installs");
  if (!db_.table_exists(schema, t)) return {};
  std::vector<InstallRecord> out;
  for (const auto& r : db_.query(fmt::format("SELECT name, checksum, kind, state, host, installer_version, {}, "
                                             "duration_ms, output FROM {} ORDER BY install_id",
                                             timestamp("ran_at"), table("installs")))) {
    InstallRecord i;
    i.name = text(r[0]);
    i.checksum = text(r[1]);
    i.kind = text(r[2]);
    i.state = text(r[3]);
    i.host = text(r[4]);
    i.installer_version = text(r[5]);
    i.ran_at = text(r[6]);
    i.duration_ms = number(r[7]);
    i.output = text(r[8]);
    out.push_back(std::move(i));
  }
  return out;
}

void SqlJournal::record_install(const InstallRecord& record) {
  db_.query(fmt::format("INSERT INTO {} (name, checksum, kind, state, host, installer_version, ran_at, duration_ms, "
                        "output) VALUES (?, ?, ?, ?, ?, ?, {}, ?, ?)",
                        table("installs"), now()),
            {record.name, record.checksum, record.kind, record.state, record.host, record.installer_version,
             std::to_string(record.duration_ms), redact(record.output)});
}

void SqlJournal::record_restore(const RestoreRecord& record) {
  db_.query(fmt::format("INSERT INTO {} (file, sha256, restored_at, host, installer_version, by_whom) VALUES (?, ?, "
                        "{}, ?, ?, ?)",
                        table("restores"), now()),
            {record.file, record.sha256, record.host, record.installer_version, record.by_whom});
}

std::vector<RestoreRecord> SqlJournal::restores() {
  auto [schema, t] = location("restores");
  if (!db_.table_exists(schema, t)) return {};
  std::vector<RestoreRecord> out;
  for (const auto& r : db_.query(fmt::format("SELECT file, sha256, {}, host, installer_version, by_whom FROM {} "
                                             "ORDER BY restore_id",
                                             timestamp("restored_at"), table("restores"))))
    out.push_back({text(r[0]), text(r[1]), text(r[2]), text(r[3]), text(r[4]), text(r[5])});
  return out;
}

std::vector<AttemptRecord> SqlJournal::load() {
  if (read_ahead_) return *std::exchange(read_ahead_, std::nullopt);
  return load_where("", {});
}

namespace {

AttemptRecord attempt_from_row(const SqlRow& r) {
  AttemptRecord a;
  a.attempt_id = number(r[0]);
  a.update_id = text(r[1]);
  a.version = text(r[2]);
  a.checksum = text(r[3]);
  a.description = text(r[4]);
  a.required = split_lines(text(r[5]));
  a.state = parse_update_state(text(r[6]));
  a.host = text(r[7]);
  a.installer_version = text(r[8]);
  a.started_at = text(r[9]);
  a.finished_at = text(r[10]);
  a.fingerprint_before = text(r[11]);
  a.fingerprint_after = text(r[12]);
  a.error = text(r[13]);
  a.error_step = text(r[14]);
  a.error_statement = text(r[15]);
  a.error_sqlstate = text(r[16]);
  a.reason = text(r[17]);
  a.signed_by = text(r[18]);
  a.backup = text(r[19]);
  return a;
}

StepRecord step_from_row(const SqlRow& r) {
  StepRecord s;
  s.position = static_cast<int>(number(r[1]));
  s.name = text(r[2]);
  s.up_checksum = text(r[3]);
  s.down_checksum = text(r[4]);
  s.transactional = boolean(r[6]);
  s.state = parse_step_state(text(r[7]));
  s.statements_total = static_cast<int>(number(r[8]));
  s.statements_done = static_cast<int>(number(r[9]));
  s.down_statements_done = static_cast<int>(number(r[10]));
  s.fingerprint_before = text(r[11]);
  s.duration_ms = number(r[12]);
  s.error = text(r[13]);
  s.revert_method = text(r[14]);
  s.undo_done = static_cast<int>(number(r[15]));
  s.revert_note = text(r[16]);
  return s;
}

}  // namespace

std::vector<AttemptRecord> SqlJournal::load_where(const std::string& where, const std::vector<SqlValue>& params) {
  std::string columns = fmt::format(kUpdateColumns, fmt::arg("started", timestamp("started_at")),
                                    fmt::arg("finished", timestamp("finished_at")),
                                    fmt::arg("signed_by", known_format() >= 6 ? "signed_by" : "''"),
                                    fmt::arg("backup", known_format() >= 6 ? "backup" : "''"));
  auto rows = db_.query(fmt::format("SELECT {} FROM {} {} ORDER BY attempt_id", columns, table("updates"), where),
                        params);
  std::vector<AttemptRecord> attempts;
  std::map<long long, size_t> index;
  for (const auto& r : rows) {
    attempts.push_back(attempt_from_row(r));
    index[attempts.back().attempt_id] = attempts.size() - 1;
  }
  // Journals of format 2 have no revert columns yet (read-only commands do not migrate them).
  const char* revert_columns = known_format() >= 3 ? "revert_method, undo_done, revert_note" : "'', 0, ''";
  auto steps = db_.query(
      fmt::format(
          "SELECT attempt_id, position, name, up_checksum, down_checksum, '', transactional, state, statements_total, "
          "statements_done, down_statements_done, fingerprint_before, duration_ms, error, {} FROM {} {} ORDER BY "
          "attempt_id, position",
          revert_columns, table("steps"), where),
      params);
  for (const auto& r : steps) {
    auto it = index.find(number(r[0]));
    if (it != index.end()) attempts[it->second].steps.push_back(step_from_row(r));
  }
  return attempts;
}

AttemptRecord SqlJournal::load_attempt(long long attempt_id) {
  for (auto& a : load_where("WHERE attempt_id = ?", {std::to_string(attempt_id)})) {
    auto downs = db_.query(fmt::format("SELECT position, down_script FROM {} WHERE attempt_id = ? ORDER BY position",
                                       table("steps")),
                           {std::to_string(attempt_id)});
    for (const auto& r : downs)
      for (auto& s : a.steps)
        if (s.position == number(r[0])) s.down_script = text(r[1]);
    if (known_format() >= 3) load_undo(a);
    return a;
  }
  throw std::runtime_error(fmt::format("journal: no attempt {}", attempt_id));
}

void SqlJournal::load_undo(AttemptRecord& a) {
  auto rows = db_.query(fmt::format("SELECT position, statement, kind, summary, why, detail, existed FROM {} WHERE "
                                    "attempt_id = ? ORDER BY position, statement",
                                    table("undo")),
                        {std::to_string(a.attempt_id)});
  for (const auto& r : rows) {
    UndoRecord u;
    u.statement = static_cast<int>(number(r[1]));
    u.kind = parse_undo_kind(text(r[2]));
    u.summary = text(r[3]);
    u.why = text(r[4]);
    if (r[6]) u.existed = boolean(r[6]);
    read_undo_detail(text(r[5]), u);
    for (auto& s : a.steps)
      if (s.position == number(r[0])) {
        s.undo.push_back(std::move(u));
        break;  // positions are unique
      }
  }
}

void SqlJournal::record_undo(long long attempt_id, int position, const UndoRecord& u) {
  std::vector<SqlValue> params{std::to_string(attempt_id),
                               std::to_string(position),
                               std::to_string(u.statement),
                               std::string(to_string(u.kind)),
                               u.summary,
                               u.why,
                               undo_detail(u)};
  std::string columns = "attempt_id, position, statement, kind, summary, why, detail, existed";
  if (u.existence_probe.empty()) {
    db_.write_soon(fmt::format("INSERT INTO {} ({}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)", table("undo"), columns),
                   params);
    return;
  }
  // The server answers the probe as it writes the record, in the same round trip as the
  // statement that follows: nothing can come between the two.
  params.insert(params.end(), u.probe_params.begin(), u.probe_params.end());
  std::string values = placeholders(db_.dialect(),
                                    {"bigint", "integer", "integer", nullptr, nullptr, nullptr, nullptr});
  db_.write_soon(fmt::format("INSERT INTO {} ({}) SELECT {}, ({})", table("undo"), columns, values, u.existence_probe),
                 params);
}

long long SqlJournal::insert_attempt(const AttemptRecord& a) { return insert_attempt(a, false); }

long long SqlJournal::insert_attempt_and_commit(const AttemptRecord& a) { return insert_attempt(a, true); }

long long SqlJournal::insert_attempt(const AttemptRecord& a, bool commit) {
  read_ahead_.reset();
  // A journal older than format 6 (read before ensure() brought it forward) has neither
  // signed_by nor backup.
  const bool format6 = known_format() >= 6;
  std::string insert = fmt::format(
      "INSERT INTO {} (update_id, version, checksum, description, requires, state, host, installer_version, "
      "fingerprint_before, fingerprint_after, error, error_step, error_statement, error_sqlstate, reason{}, "
      "started_at{}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?{}, {}{})",
      table("updates"), format6 ? ", signed_by, backup" : "", is_terminal(a.state) ? ", finished_at" : "",
      format6 ? ", ?, ?" : "", now(), is_terminal(a.state) ? ", " + finished_now() : "");
  std::vector<SqlValue> params{a.update_id,
                               a.version,
                               a.checksum,
                               a.description,
                               join_lines(a.required),
                               to_string(a.state),
                               a.host,
                               a.installer_version,
                               a.fingerprint_before,
                               a.fingerprint_after,
                               redact(a.error),
                               a.error_step,
                               redact(a.error_statement),
                               a.error_sqlstate,
                               a.reason};
  if (format6) params.insert(params.end(), {a.signed_by, a.backup});
  if (db_.dialect().data_modifying_ctes && !a.steps.empty()) {
    // The attempt and its steps in one statement, and the commit in the same round trip.
    std::string values;
    for (const auto& step : a.steps) {
      values += values.empty() ? "" : ", ";
      values += "(" + step_placeholders(db_.dialect()) + ")";
      auto row = step_values(step);
      params.insert(params.end(), row.begin(), row.end());
    }
    std::string sql = fmt::format(
        "WITH attempt AS ({} RETURNING attempt_id), steps AS (INSERT INTO {} (attempt_id, {}) SELECT "
        "attempt.attempt_id, s.* FROM attempt, (VALUES {}) AS s ({})) SELECT attempt_id FROM attempt",
        insert, table("steps"), kStepValueColumns, values, kStepValueColumns);
    return number((commit ? db_.query_and_commit(sql, params) : db_.query(sql, params))[0][0]);
  }
  long long id = 0;
  if (db_.dialect().insert_returning) {
    id = number(db_.query(insert + " RETURNING attempt_id", params)[0][0]);
  } else {
    db_.query(insert, params);
    id = number(db_.query(db_.dialect().last_insert_id)[0][0]);
  }
  for (const auto& step : a.steps) insert_step(id, step);
  if (commit) db_.commit();
  return id;
}

void SqlJournal::insert_step(long long attempt_id, const StepRecord& s) {
  read_ahead_.reset();
  std::vector<SqlValue> params{std::to_string(attempt_id)};
  auto row = step_values(s);
  params.insert(params.end(), row.begin(), row.end());
  db_.write_soon(fmt::format("INSERT INTO {} (attempt_id, {}) VALUES (?, {})", table("steps"), kStepValueColumns,
                             kStepPlaceholders),
                 params);
}

void SqlJournal::update_step(long long attempt_id, const StepRecord& s) {
  read_ahead_.reset();
  db_.write_soon(fmt::format("UPDATE {} SET state = ?, statements_done = ?, down_statements_done = ?, duration_ms = ?, "
                             "error = ?, revert_method = ?, undo_done = ?, revert_note = ? WHERE attempt_id = ? AND "
                             "position = ?",
                             table("steps")),
                 {std::string(to_string(s.state)), std::to_string(s.statements_done),
                  std::to_string(s.down_statements_done), std::to_string(s.duration_ms), redact(s.error),
                  s.revert_method, std::to_string(s.undo_done), redact(s.revert_note), std::to_string(attempt_id),
                  std::to_string(s.position)});
}

void SqlJournal::update_attempt(const AttemptRecord& a) {
  read_ahead_.reset();
  std::string finished = is_terminal(a.state) ? ", finished_at = " + finished_now() : "";
  db_.query(fmt::format("UPDATE {} SET state = ?, fingerprint_before = ?, fingerprint_after = ?, error = ?, "
                        "error_step = ?, error_statement = ?, error_sqlstate = ?, reason = ?{} WHERE attempt_id = ?",
                        table("updates"), finished),
            {std::string(to_string(a.state)), a.fingerprint_before, a.fingerprint_after, redact(a.error), a.error_step,
             redact(a.error_statement), a.error_sqlstate, a.reason, std::to_string(a.attempt_id)});
}

}  // namespace installer
