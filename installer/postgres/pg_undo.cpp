#include "installer/postgres/pg_undo.hpp"

#include "installer/db/db_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace installer {
namespace {

class PgStatementUndo : public StatementUndo {
 public:
  explicit PgStatementUndo(Database& db) : db_(db) {}

  UndoRecord plan(const StatementEffect& e, const ExcludedObjects&) override {
    if (e.action == Action::create && e.kind == ObjectKind::index) return plan_index_restore(e);
    if (e.action == Action::drop && e.kind == ObjectKind::index) return plan_index_drop(e);
    if (e.action == Action::create && !e.or_replace &&
        (e.kind == ObjectKind::table || e.kind == ObjectKind::view || e.kind == ObjectKind::materialized_view ||
         e.kind == ObjectKind::sequence))
      return plan_relation_create(e);
    return undo_record(UndoKind::none, "no exact inverse is known for this kind of statement on PostgreSQL");
  }

  void undo(const UndoRecord& r, bool in_doubt, const ExcludedObjects&) override {
    if (r.kind == UndoKind::restore_table) return drop_new_indexes(r);
    run_recorded(db_, r, in_doubt);
  }

  bool absent_or_present(const DbError& e) const override {
    static const char* const states[] = {"42P01", "42703", "42704", "42883", "3F000",   // undefined ...
                                         "42P07", "42701", "42710", "42723", "42P06"};  // duplicate ...
    return e.session_usable() && std::find(std::begin(states), std::end(states), e.sqlstate()) != std::end(states);
  }

 private:
  std::string regclass_text(const ObjectName& n) const { return db_.dialect().quote_qualified(n.schema, n.name); }

  /// The table's schema and name as the catalog has them, resolved now (a script may
  /// have changed search_path); empty when there is no such table.
  ObjectName resolve(const ObjectName& n) {
    auto rows = db_.query(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = "
        "to_regclass(?)",
        {regclass_text(n)});
    if (rows.empty()) return {};
    return {rows[0][0].value_or(""), rows[0][1].value_or("")};
  }

  std::set<std::string> index_names(const ObjectName& table) {
    std::set<std::string> names;
    for (const auto& row : db_.query("SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE "
                                     "x.indrelid = to_regclass(?)",
                                     {regclass_text(table)}))
      names.insert(row[0].value_or(""));
    return names;
  }

  // The indexes a CREATE INDEX adds are the ones its table did not have before: that
  // also removes what a failed CREATE INDEX CONCURRENTLY leaves behind (an invalid index).
  UndoRecord plan_index_restore(const StatementEffect& e) {
    ObjectName table = resolve(e.table);
    if (table.empty())
      return undo_record(UndoKind::nothing, "its table does not exist, so the statement changes nothing");
    UndoRecord r = undo_record(UndoKind::restore_table, "");
    r.table = r.original_table = table;
    for (const auto& name : index_names(table)) r.captured += name + "\n";
    r.concurrently = e.concurrently;
    return r;
  }

  void drop_new_indexes(const UndoRecord& r) {
    std::set<std::string> before;
    for (size_t start = 0; start < r.captured.size();) {
      size_t nl = r.captured.find('\n', start);
      before.insert(r.captured.substr(start, nl - start));
      start = nl + 1;
    }
    for (const auto& name : index_names(r.table))
      if (!before.count(name))
        db_.execute(fmt::format("DROP INDEX {}IF EXISTS {}", r.concurrently ? "CONCURRENTLY " : "",
                                regclass_text({r.table.schema, name})));
  }

  UndoRecord plan_index_drop(const StatementEffect& e) {
    if (e.cascade) return undo_record(UndoKind::none, "DROP INDEX ... CASCADE may take other objects with it");
    UndoRecord r = undo_record(UndoKind::run, "");
    for (const auto& index : e.objects) {
      auto rows = db_.query(
          "SELECT pg_get_indexdef(i.oid), EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) FROM pg_class "
          "i WHERE i.oid = to_regclass(?) AND i.relkind IN ('i', 'I')",
          {regclass_text(index)});
      if (rows.empty()) continue;
      if (rows[0][1] == std::string("t"))
        return undo_record(UndoKind::none, fmt::format("index {} belongs to a constraint", index.name));
      std::string def = rows[0][0].value_or("");
      size_t at = def.find(" INDEX ");
      if (at == std::string::npos) return undo_record(UndoKind::none, "its definition could not be read");
      def.insert(at + 7, std::string(e.concurrently ? "CONCURRENTLY " : "") + "IF NOT EXISTS ");
      r.statements.push_back(def);
    }
    if (r.statements.empty()) return undo_record(UndoKind::nothing, "none of the indexes it drops exists");
    return r;
  }

  UndoRecord plan_relation_create(const StatementEffect& e) {
    if (e.temporary) return undo_record(UndoKind::nothing, "a temporary table ends with the session");
    ObjectName name = e.objects[0];
    if (name.schema.empty()) name.schema = db_.query("SELECT current_schema()", {})[0][0].value_or("public");
    UndoRecord r = undo_record(UndoKind::run, "");
    r.statements = {fmt::format("DROP {} IF EXISTS {}", sql_keyword(e.kind), regclass_text(name))};
    r.existence_probe = "to_regclass(?) IS NOT NULL";
    r.probe_params = {regclass_text(name)};
    if (e.kind == ObjectKind::table) r.creates_table = e.objects[0];
    return r;
  }

  Database& db_;
};

}  // namespace

std::unique_ptr<StatementUndo> make_postgres_undo(Database& db) { return std::make_unique<PgStatementUndo>(db); }

}  // namespace installer
