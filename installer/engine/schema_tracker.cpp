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

/// Adds the tables `e` can change to `out`; false when that is not known from its words.
bool add_tables_of(const StatementEffect& e, const std::string& text, SqlDialect dialect,
                   std::vector<std::string>& out) {
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
  for (const auto& o : e.objects) out.push_back(o.name);
  if (!e.table.empty()) out.push_back(e.table.name);
  return true;
}

std::string bare_name(const std::string& qualified) {
  auto dot = qualified.rfind('.');
  return dot == std::string::npos ? qualified : qualified.substr(dot + 1);
}

/// The named objects' tables: a name may be an index or a trigger (DROP INDEX i), whose
/// table the snapshot before knows.
std::vector<std::string> tables_for(const std::vector<std::string>& names, const Snapshot& before) {
  std::set<std::string> wanted, out;
  for (const auto& n : names) {
    wanted.insert(lower(n));
    out.insert(n);
  }
  for (const auto& o : before.objects())
    if (!o.table.empty() && wanted.count(lower(bare_name(o.name)))) out.insert(o.table);
  return {out.begin(), out.end()};
}

std::vector<std::string> up_statements(const Update& update) {
  std::vector<std::string> out;
  for (const Step& step : update.steps)
    for (const Statement& s : step.up.statements) out.push_back(s.text);
  return out;
}

std::map<std::string, long> counts_by_kind(const Snapshot& snapshot) {
  std::map<std::string, long> out;
  for (const auto& o : snapshot.objects()) ++out[o.kind];
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> tables_changed_by(const std::vector<std::string>& statements,
                                                          SqlDialect dialect) {
  std::vector<std::string> tables;
  for (const auto& text : statements)
    if (!add_tables_of(statement_effect(text, dialect), text, dialect, tables)) return std::nullopt;
  std::sort(tables.begin(), tables.end());
  tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
  return tables;
}

std::optional<std::vector<std::string>> tables_changed_by(const Update& update, SqlDialect dialect) {
  return tables_changed_by(up_statements(update), dialect);
}

SchemaTracker::SchemaTracker(EngineContext& ctx) : ctx_(ctx) {
  const char* check = std::getenv("INSTALLER_TEST_CHECK_SNAPSHOTS");
  check_each_ = check && std::string(check) == "1";
}

Snapshot SchemaTracker::merge(const Snapshot& before, const std::vector<std::string>& tables,
                              const Snapshot& fresh) const {
  // What the read returned replaces everything of those tables too: a PostgreSQL read of a
  // table includes its partitions, whatever their names.
  std::set<std::string> stale;
  for (const auto& t : tables) stale.insert(lower(t));
  for (const auto& o : fresh.objects())
    if (!o.table.empty()) stale.insert(lower(o.table));
  return before.replaced([&](const SchemaObject& o) { return o.table.empty() || stale.count(lower(o.table)) > 0; },
                         fresh.objects());
}

std::optional<Snapshot> SchemaTracker::incremental(const std::vector<std::string>& named, const Snapshot& before) {
  std::vector<std::string> tables = tables_for(named, before);
  Snapshot fresh = schema_snapshot(ctx_.db, ctx_.journal_schema, SnapshotScope::of_tables(tables));
  Snapshot merged = merge(before, tables, fresh);
  auto expected = counts_by_kind(merged);
  for (const auto& [kind, count] : ctx_.db.object_counts(journal_objects(ctx_.db.dialect(), ctx_.journal_schema))) {
    auto it = expected.find(kind);
    long have = it == expected.end() ? 0 : it->second;
    if (have != count) {
      log::debug("the server counts {} {} object(s), the incremental snapshot {}: reading the schema in full", count,
                 kind, have);
      return std::nullopt;
    }
  }
  return merged;
}

Snapshot SchemaTracker::after(const Update& update, const Snapshot& before) {
  return after("update " + update.id, up_statements(update), before);
}

Snapshot SchemaTracker::after(const std::string& what, const std::vector<std::string>& statements,
                              const Snapshot& before) {
  auto tables = tables_changed_by(statements, dialect_for(ctx_.db.engine()));
  std::optional<Snapshot> result;
  if (tables) {
    result = incremental(*tables, before);
    ++(result ? counts_.incremental : counts_.corrected);
  }
  if (!result) {
    ++counts_.full;
    return current_schema(ctx_);
  }
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
