#include "installer/mariadb/maria_undo.hpp"

#include "installer/db/db_error.hpp"
#include "installer/mariadb/maria_table_definition.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace installer {
namespace {

std::string sql_name(const ObjectName& n) {
  return n.schema.empty() ? backtick(n.name) : backtick(n.schema) + "." + backtick(n.name);
}

/// What SHOW CREATE says of an object: the statement, and the settings it depends on.
struct Definition {
  std::string create;
  std::string sql_mode;
  std::string time_zone;  ///< events only
};

unsigned server_code(const DbError& e) {
  try {
    return static_cast<unsigned>(std::stoul(e.sqlstate()));  // "1146/42S02"
  } catch (...) {
    return 0;
  }
}

/// Errors whose meaning is "that object is not there" (or is there already).
bool absent_or_present_code(unsigned code) {
  static const unsigned codes[] = {
      1050,  // table already exists
      1051,  // unknown table
      1054,  // unknown column
      1060,  // duplicate column name
      1061,  // duplicate key name
      1072,  // key column doesn't exist in table
      1091,  // can't DROP ...; check that it exists
      1146,  // table doesn't exist
      1304,  // PROCEDURE/FUNCTION already exists
      1305,  // PROCEDURE/FUNCTION does not exist
      1359,  // trigger already exists
      1360,  // trigger does not exist
      1537,  // event already exists
      1539,  // unknown event
      1826,  // duplicate constraint name
      4092,  // unknown VIEW
  };
  return std::find(std::begin(codes), std::end(codes), code) != std::end(codes);
}

class MariaStatementUndo : public StatementUndo {
 public:
  explicit MariaStatementUndo(Database& db) : db_(db) {}

  UndoRecord plan(const StatementEffect& e, const ExcludedObjects& journal) override {
    switch (e.action) {
      case Action::create: return plan_create(e);
      case Action::drop: return plan_drop(e);
      case Action::alter_table: return plan_table_restore(e);
      case Action::alter_object: return plan_alter_object(e);
      case Action::rename_tables: return plan_rename(e);
      case Action::runs_code: return plan_schema_restore(journal);
      default: return undo_record(UndoKind::none, "no exact inverse is known for this kind of statement");
    }
  }

  void undo(const UndoRecord& r, bool in_doubt, const ExcludedObjects& journal) override {
    if (r.kind == UndoKind::restore_table) return restore_table(r);
    if (r.kind == UndoKind::restore_schema) return restore_schema(r, journal);
    run_recorded(db_, r, in_doubt);
  }

  bool absent_or_present(const DbError& e) const override {
    return e.session_usable() && absent_or_present_code(server_code(e));
  }

 private:
  std::optional<Definition> show_create(ObjectKind kind, const ObjectName& name) {
    std::vector<SqlRow> rows;
    try {
      rows = db_.query(fmt::format("SHOW CREATE {} {}", sql_keyword(kind), sql_name(name)), {});
    } catch (const DbError& e) {
      if (absent_or_present(e)) return std::nullopt;
      throw;
    }
    if (rows.empty()) return std::nullopt;
    const SqlRow& r = rows[0];
    auto at = [&](size_t i) { return i < r.size() && r[i] ? *r[i] : std::string(); };
    Definition d;
    switch (kind) {
      case ObjectKind::table:
        if (r.size() != 2) return std::nullopt;  // a view answers SHOW CREATE TABLE with four columns
        d.create = at(1);
        break;
      case ObjectKind::view:
      case ObjectKind::sequence: d.create = at(1); break;
      case ObjectKind::event: d = {at(3), at(1), at(2)}; break;
      default: d = {at(2), at(1), ""};  // procedure, function, trigger
    }
    // Without the privilege to read a routine's body the server answers NULL.
    if (d.create.empty()) throw NotExact(fmt::format("the definition of {} cannot be read", sql_name(name)));
    return d;
  }

  /// Statements that bring back an object as `d` describes it, whether or not it is there.
  static std::vector<std::string> recreate(ObjectKind kind, const ObjectName& name, const Definition& d) {
    if (kind == ObjectKind::view) return {"CREATE OR REPLACE " + d.create.substr(std::string("CREATE ").size())};
    std::vector<std::string> out{fmt::format("SET SESSION sql_mode = '{}'", d.sql_mode)};
    if (!d.time_zone.empty()) out.push_back(fmt::format("SET SESSION time_zone = '{}'", d.time_zone));
    out.push_back(fmt::format("DROP {} IF EXISTS {}", sql_keyword(kind), sql_name(name)));
    out.push_back(d.create);
    out.push_back("SET SESSION sql_mode = DEFAULT");
    if (!d.time_zone.empty()) out.push_back("SET SESSION time_zone = DEFAULT");
    return out;
  }

  std::string existence_probe(ObjectKind kind) const {
    switch (kind) {
      case ObjectKind::procedure:
      case ObjectKind::function:
        return "SELECT COUNT(*) > 0 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = COALESCE(?, DATABASE()) "
               "AND ROUTINE_NAME = ? AND ROUTINE_TYPE = ?";
      case ObjectKind::trigger:
        return "SELECT COUNT(*) > 0 FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = COALESCE(?, DATABASE()) "
               "AND TRIGGER_NAME = ?";
      case ObjectKind::event:
        return "SELECT COUNT(*) > 0 FROM information_schema.EVENTS WHERE EVENT_SCHEMA = COALESCE(?, DATABASE()) "
               "AND EVENT_NAME = ?";
      default:  // tables, views and sequences share one namespace; table names are case-sensitive here
        return "SELECT COUNT(*) > 0 FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) "
               "AND TABLE_NAME = BINARY ?";
    }
  }

  UndoRecord drop_if_created(const StatementEffect& e) {
    const ObjectName& name = e.objects[0];
    UndoRecord r = undo_record(UndoKind::run, "");
    r.statements = {fmt::format("DROP {} IF EXISTS {}", sql_keyword(e.kind), sql_name(name))};
    r.existence_probe = existence_probe(e.kind);
    r.probe_params = {name.schema.empty() ? SqlValue() : SqlValue(name.schema), name.name};
    if (e.kind == ObjectKind::procedure || e.kind == ObjectKind::function)
      r.probe_params.push_back(std::string(sql_keyword(e.kind)));
    if (e.kind == ObjectKind::table) r.creates_table = name;
    return r;
  }

  UndoRecord plan_create(const StatementEffect& e) {
    if (e.temporary) return undo_record(UndoKind::nothing, "a temporary table ends with the session");
    if (!e.or_replace) return drop_if_created(e);
    const ObjectName& name = e.objects[0];
    std::optional<Definition> before = show_create(e.kind, name);
    if (!before) {
      UndoRecord r = drop_if_created(e);
      r.existence_probe.clear();
      r.probe_params.clear();
      r.existed = false;
      return r;
    }
    if (e.kind == ObjectKind::table || e.kind == ObjectKind::sequence)
      return undo_record(UndoKind::none, "CREATE OR REPLACE replaced a table and its rows");
    UndoRecord r = undo_record(UndoKind::run, "");
    r.statements = recreate(e.kind, name, *before);
    return r;
  }

  UndoRecord plan_drop(const StatementEffect& e) {
    if (e.temporary) return undo_record(UndoKind::nothing, "a temporary table ends with the session");
    if (e.kind == ObjectKind::sequence)
      return undo_record(UndoKind::none, "a sequence's current value cannot be put back by an inverse");
    UndoRecord r = undo_record(UndoKind::run, "");
    for (auto it = e.objects.begin(); it != e.objects.end(); ++it) {
      std::optional<Definition> d = show_create(e.kind, *it);
      if (!d) continue;
      if (e.kind == ObjectKind::table) {
        if (std::string why = table_not_recreatable(*it); !why.empty()) return undo_record(UndoKind::none, why);
        r.statements.push_back(d->create);
      } else {
        auto again = recreate(e.kind, *it, *d);
        r.statements.insert(r.statements.end(), again.begin(), again.end());
      }
    }
    if (r.statements.empty()) return undo_record(UndoKind::nothing, "none of what it drops exists");
    return r;
  }

  /// Why a dropped table could not be recreated as it was ("" when it can: empty, no triggers).
  std::string table_not_recreatable(const ObjectName& table) {
    if (!db_.query(fmt::format("SELECT 1 FROM {} LIMIT 1", sql_name(table)), {}).empty())
      return fmt::format("table {} holds rows, which an inverse cannot bring back", sql_name(table));
    auto triggers = db_.query(
        "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = COALESCE(?, DATABASE()) AND "
        "EVENT_OBJECT_TABLE = BINARY ?",
        {table.schema.empty() ? SqlValue() : SqlValue(table.schema), table.name});
    if (!triggers.empty() && triggers[0][0].value_or("0") != "0")
      return fmt::format("table {} has triggers, which go with it", sql_name(table));
    return {};
  }

  UndoRecord plan_table_restore(const StatementEffect& e) {
    const ObjectName& name = e.objects[0];
    std::optional<Definition> before = show_create(ObjectKind::table, name);
    if (!before) return undo_record(UndoKind::nothing, "its table does not exist, so the statement changes nothing");
    UndoRecord r = undo_record(UndoKind::restore_table, "");
    r.original_table = name;
    r.table = name;
    for (const auto& [from, to] : e.renames) r.table = to;
    r.captured = before->create;
    r.column_renames = e.column_renames;
    return r;
  }

  UndoRecord plan_alter_object(const StatementEffect& e) {
    std::optional<Definition> before = show_create(e.kind, e.objects[0]);
    if (!before) return undo_record(UndoKind::nothing, "the object does not exist, so the statement changes nothing");
    UndoRecord r = undo_record(UndoKind::run, "");
    r.statements = recreate(e.kind, e.objects[0], *before);
    return r;
  }

  UndoRecord plan_rename(const StatementEffect& e) {
    std::string back;
    for (auto it = e.renames.rbegin(); it != e.renames.rend(); ++it)
      back += (back.empty() ? "" : ", ") + sql_name(it->second) + " TO " + sql_name(it->first);
    UndoRecord r = undo_record(UndoKind::run, "");
    r.statements = {"RENAME TABLE " + back};
    return r;
  }

  bool table_exists(const ObjectName& n) {
    auto rows = db_.query(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = "
        "BINARY ?",
        {n.schema.empty() ? SqlValue() : SqlValue(n.schema), n.name});
    return !rows.empty() && rows[0][0].value_or("0") != "0";
  }

  void restore_table(const UndoRecord& r) {
    // Renamed by the statement (and not back yet): its old name first.
    if (r.table != r.original_table && table_exists(r.table) && !table_exists(r.original_table))
      db_.execute(fmt::format("RENAME TABLE {} TO {}", sql_name(r.table), sql_name(r.original_table)));
    restore_table_to(r.original_table, r.captured, r.column_renames);
  }

  void restore_table_to(const ObjectName& table, const std::string& captured,
                        const std::vector<std::pair<std::string, std::string>>& column_renames) {
    const TableDefinition before = parse_table_definition(captured);
    // Compared again after each round: the server may add to what it was told (an index
    // of its own naming for a foreign key added back), which the next round puts right.
    for (int round = 0; round < 3; ++round) {
      std::optional<Definition> now = show_create(ObjectKind::table, table);
      if (!now) throw NotExact(fmt::format("table {} is gone", sql_name(table)));
      auto statements = restore_table_statements(sql_name(table), parse_table_definition(now->create), before,
                                                 round == 0 ? column_renames : decltype(column_renames){});
      if (statements.empty()) return;
      for (const auto& statement : statements) db_.execute(statement);
    }
    throw NotExact(fmt::format("table {} did not get its definition back", sql_name(table)));
  }

  // ---- a statement that runs code (CALL, EXECUTE, a compound statement): every object of
  // the database is captured before it, and put back after it

  /// The database's objects by kind, name -> the definition SHOW CREATE gives (names only
  /// when `definitions` is false). The journal's tables are left out.
  using Objects = std::map<ObjectKind, std::map<std::string, Definition>>;

  Objects list_objects(const ExcludedObjects& journal, bool definitions) {
    static const char* const sql =
        "SELECT 'table', TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        "UNION ALL SELECT 'routine', ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE "
        "ROUTINE_SCHEMA = DATABASE() UNION ALL SELECT 'trigger', TRIGGER_NAME, '' FROM information_schema.TRIGGERS "
        "WHERE TRIGGER_SCHEMA = DATABASE() UNION ALL SELECT 'event', EVENT_NAME, '' FROM information_schema.EVENTS "
        "WHERE EVENT_SCHEMA = DATABASE()";
    std::set<std::string> excluded(journal.tables.begin(), journal.tables.end());
    Objects out;
    for (const auto& row : db_.query(sql, {})) {
      std::string what = row[0].value_or(""), name = row[1].value_or(""), type = row[2].value_or("");
      ObjectKind kind = what == "trigger"    ? ObjectKind::trigger
                        : what == "event"    ? ObjectKind::event
                        : what == "routine"  ? (type == "FUNCTION" ? ObjectKind::function : ObjectKind::procedure)
                        : type == "VIEW"     ? ObjectKind::view
                        : type == "SEQUENCE" ? ObjectKind::sequence
                                             : ObjectKind::table;
      if (excluded.count(name)) continue;
      Definition d;
      if (definitions)
        if (auto read = show_create(kind, {"", name})) d = *read;
      out[kind][name] = d;
    }
    return out;
  }

  UndoRecord plan_schema_restore(const ExcludedObjects& journal) {
    nlohmann::json captured = nlohmann::json::object();
    for (const auto& [kind, objects] : list_objects(journal, true))
      for (const auto& [name, d] : objects) captured[sql_keyword(kind)][name] = {d.create, d.sql_mode, d.time_zone};
    UndoRecord r = undo_record(UndoKind::restore_schema, "");
    r.captured = nlohmann::json({{"journal", journal.name}, {"objects", captured}}).dump();
    return r;
  }

  // The journal left out is the one restoring, which is the one that captured: a
  // journal's name never changes under its records.
  void restore_schema(const UndoRecord& r, const ExcludedObjects& journal) {
    nlohmann::json j = nlohmann::json::parse(r.captured);
    Objects before;
    for (ObjectKind kind : kSchemaKinds) {
      if (!j["objects"].contains(sql_keyword(kind))) continue;
      for (const auto& [name, d] : j["objects"][sql_keyword(kind)].items())
        before[kind][name] = {d.at(0).get<std::string>(), d.at(1).get<std::string>(), d.at(2).get<std::string>()};
    }
    Objects now = list_objects(journal, false);
    // What the statement created goes first, dependants before what they depend on; then
    // tables get their definitions back, and the other objects theirs.
    for (ObjectKind kind : kSchemaKinds)
      for (const auto& [name, ignored] : now[kind])
        if (!before[kind].count(name)) drop_created(kind, name);
    for (const auto& [name, d] : before[ObjectKind::table]) {
      if (!now[ObjectKind::table].count(name))
        throw NotExact(fmt::format("table {} was dropped: its rows cannot be brought back", backtick(name)));
      restore_table_to({"", name}, d.create, {});
    }
    for (auto it = std::rbegin(kSchemaKinds); it != std::rend(kSchemaKinds); ++it) {
      ObjectKind kind = *it;  // what others depend on first
      if (kind == ObjectKind::table || kind == ObjectKind::sequence) continue;
      for (const auto& [name, d] : before[kind]) {
        std::optional<Definition> current = now[kind].count(name) ? show_create(kind, {"", name}) : std::nullopt;
        if (current && current->create == d.create) continue;
        for (const auto& statement : recreate(kind, {"", name}, d)) db_.execute(statement);
      }
    }
  }

  void drop_created(ObjectKind kind, const std::string& name) {
    if (kind == ObjectKind::table) {
      // Tables the statement created may refer to each other.
      db_.execute("SET SESSION foreign_key_checks = 0");
      db_.execute(fmt::format("DROP TABLE IF EXISTS {}", backtick(name)));
      db_.execute("SET SESSION foreign_key_checks = DEFAULT");
      return;
    }
    db_.execute(fmt::format("DROP {} IF EXISTS {}", sql_keyword(kind), backtick(name)));
  }

  // Dependants first: a trigger goes with its table, a view may select from a routine.
  static constexpr ObjectKind kSchemaKinds[] = {ObjectKind::trigger,  ObjectKind::event,     ObjectKind::view,
                                                ObjectKind::function, ObjectKind::procedure, ObjectKind::sequence,
                                                ObjectKind::table};

  Database& db_;
};

}  // namespace

std::unique_ptr<StatementUndo> make_mariadb_undo(Database& db) { return std::make_unique<MariaStatementUndo>(db); }

}  // namespace installer
