#pragma once
#include "installer/db/database.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace installer {

// Exact undo: before each statement of a step that runs outside a transaction (every
// MariaDB step, PostgreSQL steps with transaction = false) the installer journals what
// undoes that one statement. When the step fails part-way, the statements that committed
// are undone newest first from those records, so the step's down script, written for the
// whole step, never meets a state it was not written for. Where no exact inverse is known
// the down script takes over (engine/reverter).

/// A schema object's name as a statement writes it, unquoted; `schema` is empty when the
/// name is not qualified.
struct ObjectName {
  std::string schema;
  std::string name;
  bool empty() const { return name.empty(); }
  bool operator==(const ObjectName& o) const { return schema == o.schema && name == o.name; }
  bool operator!=(const ObjectName& o) const { return !(*this == o); }
};

enum class ObjectKind { none, table, view, materialized_view, index, sequence, procedure, function, trigger, event };

/// "TABLE", "MATERIALIZED VIEW", ...: the word statements use for the kind.
const char* sql_keyword(ObjectKind kind);

enum class Action {
  unknown,           ///< not recognised: its effect cannot be undone exactly
  no_schema_change,  ///< SET (of the session), SELECT, DO, SHOW, ANALYZE, VACUUM, REINDEX, ...
  create,            ///< CREATE <kind> <objects[0]> (PostgreSQL indexes: ON <table>)
  drop,              ///< DROP <kind> <objects...>
  alter_table,       ///< changes the definition of the table objects[0] (MariaDB: also CREATE/DROP INDEX)
  alter_object,      ///< ALTER VIEW / PROCEDURE / FUNCTION / EVENT <objects[0]>
  rename_tables,     ///< RENAME TABLE a TO b, ... (renames)
  write_rows,        ///< INSERT, REPLACE, UPDATE, DELETE, TRUNCATE of the table objects[0]
  runs_code,         ///< CALL, EXECUTE, DO, compound statements: what it changes is known only afterwards
};

/// What one statement does to the schema, as far as undoing it goes
/// (catalog/statement_effect reads it from the statement's leading words).
struct StatementEffect {
  Action action = Action::unknown;
  ObjectKind kind = ObjectKind::none;
  std::vector<ObjectName> objects;
  ObjectName table;  ///< the table an index or a trigger belongs to (ON t)
  bool if_exists = false;
  bool if_not_exists = false;
  bool or_replace = false;
  bool temporary = false;
  bool concurrently = false;
  bool cascade = false;
  std::vector<std::pair<ObjectName, ObjectName>> renames;           ///< tables: from, to
  std::vector<std::pair<std::string, std::string>> column_renames;  ///< ALTER TABLE: old, new
  /// The statement's opening keywords and names, without literals (values may be
  /// secrets): what reports show of a statement read back from the journal.
  std::string summary;
};

enum class UndoKind {
  nothing,         ///< the statement changes nothing that needs undoing
  run,             ///< `statements` undo it
  restore_table,   ///< put `table` back to what was captured before the statement
  restore_schema,  ///< put every object back to what was captured before the statement
  rows,            ///< it changes rows of a table the step did not create: no schema to undo, its rows stay
  none,            ///< no exact inverse is known: the step's down script must do it
};
const char* to_string(UndoKind kind);
UndoKind parse_undo_kind(const std::string& text);

/// What undoes one statement, journaled before the statement runs.
struct UndoRecord {
  int statement = 0;  ///< 1-based position in the up script
  UndoKind kind = UndoKind::none;
  std::string summary;  ///< StatementEffect::summary
  std::string why;      ///< for nothing and none: the reason, for reports
  std::vector<std::string> statements;
  /// For `run` of a CREATE: the server says, as the record is written just before the
  /// statement, whether the object was there already; then the statement failed or did
  /// nothing, and the object is not dropped.
  std::optional<bool> existed;
  std::string existence_probe;         ///< the SQL condition that fills `existed` (not journaled)
  std::vector<SqlValue> probe_params;  ///< its '?' parameters (not journaled)
  ObjectName table;                    ///< restore_table: the table as named after the statement
  ObjectName original_table;           ///< restore_table: its name before (ALTER TABLE ... RENAME)
  std::string captured;                ///< restore_table: the table's definition before, as the engine reads it
  std::vector<std::pair<std::string, std::string>> column_renames;  ///< restore_table: old, new
  bool concurrently = false;  ///< PostgreSQL: undo without blocking writes, as the statement did
  ObjectName creates_table;   ///< a table the statement creates: rows written to it need no undo
};

/// A record whose kind is decided before reading the catalog, with the reason for reports.
UndoRecord undo_record(UndoKind kind, std::string why);

/// An undo that cannot restore exactly (it would lose data, or the object is not what
/// was captured): the caller turns to the step's down script.
class NotExact : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The engine-specific half of exact undo, implemented by each backend beside its driver.
class StatementUndo {
 public:
  virtual ~StatementUndo() = default;
  /// Called just before a statement creating, dropping, altering or renaming objects, or
  /// running code, runs: reads from the catalog what undoing it needs. `journal` is the
  /// journal's own objects, never captured nor restored.
  virtual UndoRecord plan(const StatementEffect& effect, const ExcludedObjects& journal) = 0;
  /// Undoes one statement. With in_doubt (nobody knows whether it committed) errors
  /// saying its objects are absent or already as wanted are passed over. Throws NotExact,
  /// or DbError for what the server refused. `journal` is the journal's own objects,
  /// which a restore of the schema leaves as they are.
  virtual void undo(const UndoRecord& record, bool in_doubt, const ExcludedObjects& journal) = 0;
  /// Whether the server refused a statement because its object is absent, or already as
  /// the statement wants it (unknown table, can't drop, duplicate key name, ...).
  virtual bool absent_or_present(const DbError& error) const = 0;

 protected:
  /// Runs a `run` record's statements (none when the object existed before), passing
  /// over, when in doubt, those refused for an absent or already present object.
  void run_recorded(Database& db, const UndoRecord& record, bool in_doubt) const;
};

}  // namespace installer
