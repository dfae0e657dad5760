#include "installer/db/undo.hpp"

namespace installer {

UndoRecord undo_record(UndoKind kind, std::string why) {
  UndoRecord r;
  r.kind = kind;
  r.why = std::move(why);
  return r;
}

const char* sql_keyword(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::table: return "TABLE";
    case ObjectKind::view: return "VIEW";
    case ObjectKind::materialized_view: return "MATERIALIZED VIEW";
    case ObjectKind::index: return "INDEX";
    case ObjectKind::sequence: return "SEQUENCE";
    case ObjectKind::procedure: return "PROCEDURE";
    case ObjectKind::function: return "FUNCTION";
    case ObjectKind::trigger: return "TRIGGER";
    case ObjectKind::event: return "EVENT";
    case ObjectKind::none: break;
  }
  return "";
}

const char* to_string(UndoKind kind) {
  switch (kind) {
    case UndoKind::nothing: return "nothing";
    case UndoKind::run: return "run";
    case UndoKind::restore_table: return "restore_table";
    case UndoKind::restore_schema: return "restore_schema";
    case UndoKind::rows: return "rows";
    case UndoKind::none: return "none";
  }
  return "none";
}

void StatementUndo::run_recorded(Database& db, const UndoRecord& r, bool in_doubt) const {
  if (r.kind != UndoKind::run) throw NotExact(r.why);
  if (r.existed.value_or(false)) return;  // the statement created nothing: the object was there
  for (const auto& statement : r.statements) {
    try {
      db.execute(statement);
    } catch (const DbError& e) {
      if (!in_doubt || !absent_or_present(e)) throw;
    }
  }
}

UndoKind parse_undo_kind(const std::string& text) {
  for (UndoKind k :
       {UndoKind::nothing, UndoKind::run, UndoKind::restore_table, UndoKind::restore_schema, UndoKind::rows})
    if (text == to_string(k)) return k;
  return UndoKind::none;  // an unknown word from a newer installer: never trusted as exact
}

}  // namespace installer
