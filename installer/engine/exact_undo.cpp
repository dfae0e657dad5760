#include "installer/engine/exact_undo.hpp"

#include "installer/catalog/catalog.hpp"
#include "installer/catalog/statement_effect.hpp"
#include "installer/journal/journal_tables.hpp"
#include "installer/util/log.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace installer {

PartialRevert partial_revert_from_environment() {
  const char* mode = std::getenv("INSTALLER_TEST_PARTIAL_REVERT");
  if (!mode || !*mode || std::string(mode) == "exact") return PartialRevert::exact;
  if (std::string(mode) == "tolerant-down") return PartialRevert::tolerant_down;
  if (std::string(mode) == "strict-down") return PartialRevert::strict_down;
  log::error("INSTALLER_TEST_PARTIAL_REVERT='{}' is not exact, tolerant-down or strict-down; ignored", mode);
  return PartialRevert::exact;
}

namespace {

bool created_earlier(const ObjectName& table, const std::vector<UndoRecord>& earlier) {
  return std::any_of(earlier.begin(), earlier.end(), [&](const UndoRecord& r) {
    return !r.creates_table.empty() && r.creates_table.name == table.name &&
           (table.schema.empty() || r.creates_table.schema.empty() || r.creates_table.schema == table.schema);
  });
}

UndoRecord decided(UndoKind kind, std::string why) {
  UndoRecord r;
  r.kind = kind;
  r.why = std::move(why);
  return r;
}

}  // namespace

UndoRecord plan_undo(Database& db, const std::string& journal, const Statement& statement, int position,
                     const std::vector<UndoRecord>& earlier) {
  StatementEffect effect = statement_effect(statement.text, dialect_for(db.engine()));
  UndoRecord record;
  StatementUndo* engine_undo = db.statement_undo();
  switch (effect.action) {
    case Action::no_schema_change: record = decided(UndoKind::nothing, "it changes no schema"); break;
    case Action::write_rows:
      record = created_earlier(effect.objects[0], earlier)
                   ? decided(UndoKind::nothing, "it writes rows of a table this step created")
                   : decided(UndoKind::rows, "it changes rows of a table that existed before the step");
      break;
    case Action::unknown:
      record = decided(UndoKind::none, "no exact inverse is known for this kind of statement");
      break;
    default:
      record = engine_undo ? engine_undo->plan(effect, journal_objects(db.dialect(), journal))
                           : decided(UndoKind::none, "this database has no exact undo");
  }
  record.statement = position;
  record.summary = effect.summary;
  return record;
}

}  // namespace installer
