#include "installer/engine/schema_tracker.hpp"

#include "installer/catalog/statement_effect.hpp"
#include "installer/engine/schema_compare.hpp"
#include "installer/journal/journal_tables.hpp"
#include "installer/util/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

namespace installer {
namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A PostgreSQL SELECT or VALUES may call a function that changes the schema
// (create_hypertable, a partition manager); a MariaDB stored function cannot.
bool may_call_schema_code(const std::string& text, SqlDialect dialect) {
  return dialect == SqlDialect::postgres && text.find('(') != std::string::npos;
}

bool is_table_less(ObjectKind kind) {
  return kind == ObjectKind::function || kind == ObjectKind::procedure || kind == ObjectKind::event;
}

/// Adds what `e` can change to `out`; false when that is not known from its words.
bool add_objects_of(const StatementEffect& e, const std::string& text, SqlDialect dialect, ChangedObjects& out) {
  switch (e.action) {
    case Action::no_schema_change: return !may_call_schema_code(text, dialect);
    case Action::write_rows: return true;
    case Action::unknown:
    case Action::runs_code:
    case Action::rename_tables: return false;
    case Action::create:
    case Action::drop:
    case Action::alter_table:
    case Action::alter_object: break;
  }
  // Renames change what other tables' foreign keys and views say; CASCADE drops what
  // depends on the object, wherever it is.
  if (e.cascade || !e.renames.empty() || !e.column_renames.empty()) return false;
  if (is_table_less(e.kind)) {
    out.table_less = true;
    return true;
  }
  const bool owned = e.table.empty() &&
                     (e.kind == ObjectKind::index || e.kind == ObjectKind::trigger || e.kind == ObjectKind::sequence);
  for (const auto& o : e.objects) (owned ? out.owned : out.tables).push_back(o.name);
  if (!e.table.empty()) out.tables.push_back(e.table.name);
  return true;
}

std::string_view bare_name(std::string_view qualified) {
  auto dot = qualified.rfind('.');
  return dot == std::string_view::npos ? qualified : qualified.substr(dot + 1);
}

/// Each name as written and in lower case.
template <typename Set>
void add_spellings(const std::vector<std::string>& names, Set& out) {
  for (const auto& n : names) {
    out.insert(n);
    out.insert(lower(n));
  }
}

/// The named objects' tables as the catalog spells them: a name as written and in lower
/// case (PostgreSQL folds a name written without quotes; the words alone do not say which
/// it was), and the table of an index, a trigger or a sequence named without it, which the
/// snapshot before knows (the only walk over all of its objects, and only then).
std::vector<std::string> tables_for(const ChangedObjects& named, const Snapshot& before) {
  std::set<std::string, std::less<>> wanted;
  add_spellings(named.owned, wanted);
  std::set<std::string> out(wanted.begin(), wanted.end());
  add_spellings(named.tables, out);
  if (named.owned.empty()) return {out.begin(), out.end()};
  for (const auto& o : before.objects())
    if (!o.table.empty() && o.kind != "table" && wanted.find(bare_name(o.name)) != wanted.end()) out.insert(o.table);
  return {out.begin(), out.end()};
}

std::vector<std::string> up_statements(const Update& update) {
  std::vector<std::string> out;
  for (const Step& step : update.steps)
    for (const Statement& s : step.up.statements) out.push_back(s.text);
  return out;
}

/// Whether the kinds of objects the transaction changed (Database::catalog_counters) are
/// ones the statements name: a data statement that changed a table's definition (a
/// trigger that ran DDL), a routine changed where none is named, a schema or an extension
/// changed at all (statements that name those are read in full anyway).
bool changes_explained(const ChangedObjects& named, const std::map<std::string, long>& changes) {
  for (const auto& [kind, rows] : changes) {
    const bool named_kind = kind == "table" ? !named.tables.empty() : kind == "routine" && named.table_less;
    if (rows > 0 && !named_kind) {
      log::debug("the transaction changed {} catalog row(s) of kind {}, which no statement names: reading the schema "
                 "in full",
                 rows, kind);
      return false;
    }
  }
  return true;
}

bool is_relation(const SchemaObject& o) { return o.kind == "table" || o.kind == "view" || o.kind == "sequence"; }

/// Adds to `tables` every table `fresh` holds objects of; false when one of them is not in
/// `tables` and `fresh` lacks its own relation (it holds only part of that table).
bool reads_whole_tables(const Snapshot& fresh, std::unordered_set<std::string>& tables) {
  std::unordered_set<std::string> read, partial;
  for (const auto& o : fresh.objects()) {
    if (o.table.empty() || tables.count(o.table)) continue;
    if (is_relation(o) && bare_name(o.name) == o.table) read.insert(o.table);
    else partial.insert(o.table);
  }
  for (const auto& t : partial)
    if (!read.count(t)) {
      log::debug("the read of the named objects holds part of table {}, which no statement names: reading the schema "
                 "in full",
                 t);
      return false;
    }
  tables.insert(read.begin(), read.end());
  return true;
}

}  // namespace

std::optional<ChangedObjects> objects_changed_by(const std::vector<std::string>& statements, SqlDialect dialect) {
  ChangedObjects changed;
  for (const auto& text : statements)
    if (!add_objects_of(statement_effect(text, dialect), text, dialect, changed)) return std::nullopt;
  for (auto* names : {&changed.tables, &changed.owned}) {
    std::sort(names->begin(), names->end());
    names->erase(std::unique(names->begin(), names->end()), names->end());
  }
  return changed;
}

std::optional<ChangedObjects> objects_changed_by(const Update& update, SqlDialect dialect) {
  return objects_changed_by(up_statements(update), dialect);
}

SchemaTracker::SchemaTracker(EngineContext& ctx) : ctx_(ctx) {
  const char* check = std::getenv("INSTALLER_TEST_CHECK_SNAPSHOTS");
  check_each_ = check && std::string(check) == "1";
}

Snapshot SchemaTracker::read_all() {
  ++counts_.full;
  auto counters = ctx_.db.object_counts(journal_objects(ctx_.db.dialect(), ctx_.journal_schema));
  Snapshot all = current_schema(ctx_);
  all.set_server_counts(std::move(counters));
  return all;
}

void SchemaTracker::transaction_began() { at_begin_ = ctx_.db.catalog_counters(); }

std::optional<std::map<std::string, long>> SchemaTracker::changes_in_transaction() {
  std::optional<CatalogCounters> begin = std::move(at_begin_);
  at_begin_.reset();
  if (!begin) return std::nullopt;
  std::optional<CatalogCounters> now = ctx_.db.catalog_counters();
  if (!now || now->transaction != begin->transaction) return std::nullopt;
  std::map<std::string, long> changes;
  for (const auto& [kind, rows] : now->rows) {
    auto was = begin->rows.find(kind);
    changes[kind] = rows - (was == begin->rows.end() ? 0 : was->second);
  }
  return changes;
}

bool SchemaTracker::counters_agree(const Snapshot& before, const std::vector<const SchemaObject*>& stale,
                                   const Snapshot& fresh, const std::map<std::string, long>& now) const {
  const auto* then = before.server_counts();
  if (!then) return false;
  std::map<std::string, long> moved;
  for (const auto* o : stale) --moved[o->kind];
  for (const auto& o : fresh.objects()) ++moved[o.kind];
  for (const auto& [kind, count] : now) {
    auto was = then->find(kind);
    auto by = moved.find(kind);
    const long expected = (was == then->end() ? 0 : was->second) + (by == moved.end() ? 0 : by->second);
    if (expected != count) {
      log::debug("the server counts {} {} object(s), the incremental snapshot expects {}: reading the schema in full",
                 count, kind, expected);
      return false;
    }
  }
  return true;
}

std::optional<Snapshot> SchemaTracker::incremental(const ChangedObjects& named, const Snapshot& before) {
  const auto journal = journal_objects(ctx_.db.dialect(), ctx_.journal_schema);
  std::vector<std::string> tables = tables_for(named, before);
  Snapshot fresh = schema_snapshot(ctx_.db, ctx_.journal_schema, SnapshotScope::of_tables(tables, named.table_less));
  // Inside the update's transaction the server says what kinds of objects it changed;
  // outside, its counters of objects are read and compared (a scan of the catalogs).
  auto changes = changes_in_transaction();
  auto counters = changes ? std::map<std::string, long>{} : ctx_.db.object_counts(journal);
  // What the read returned replaces everything of those tables too: a PostgreSQL read of a
  // table includes its partitions, whatever their names. But a sequence read by its name
  // comes as its owner's, and the owner was not read: then the schema is read in full.
  std::unordered_set<std::string> replaced(tables.begin(), tables.end());
  if (!reads_whole_tables(fresh, replaced)) return std::nullopt;
  if (changes && !changes_explained(named, *changes)) return std::nullopt;
  if (!counters.empty() && !counters_agree(before, before.objects_of(replaced, named.table_less), fresh, counters))
    return std::nullopt;
  Snapshot merged = before.with_tables_replaced(replaced, named.table_less, fresh);
  if (!counters.empty()) merged.set_server_counts(std::move(counters));
  return merged;
}

Snapshot SchemaTracker::after(const Update& update, const Snapshot& before) {
  return after("update " + update.id, up_statements(update), before);
}

Snapshot SchemaTracker::after(const std::string& what, const std::vector<std::string>& statements,
                              const Snapshot& before) {
  auto named = objects_changed_by(statements, dialect_for(ctx_.db.engine()));
  std::optional<Snapshot> result;
  if (named) {
    result = incremental(*named, before);
    ++(result ? counts_.incremental : counts_.corrected);
  }
  if (!result) return read_all();
  if (check_each_) {
    auto missed = current_schema(ctx_).differences_from(*result);
    if (!missed.empty())
      throw std::logic_error(fmt::format("INSTALLER_TEST_CHECK_SNAPSHOTS: the incremental snapshot after {} "
                                         "differs from a full one: {}",
                                         what, describe_difference(missed.front())));
  }
  return *result;
}

}  // namespace installer
