#include "installer/adopt/adoption.hpp"

#include "installer/adopt/foreign_history.hpp"
#include "installer/engine/applier.hpp"
#include "installer/engine/schema_compare.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"

#include <fmt/format.h>

#include <set>

namespace installer {
namespace {

/// What the tool's history says is applied, as the journal's rows of state adopted.
AttemptRecord adopted_record(const EngineContext& ctx, const Update& u, const std::string& source) {
  AttemptRecord a = attempt_record(ctx, u);
  a.reason = "adopted: " + source;
  create_in(a, UpdateState::adopted, Actor::adopt);
  for (size_t i = 0; i < u.steps.size(); ++i) {
    StepRecord step = step_record(u.steps[i], static_cast<int>(i + 1));
    create_in(step, StepState::applied, Actor::adopt);
    step.statements_done = step.statements_total;
    a.steps.push_back(std::move(step));
  }
  return a;
}

void journal_adopted(EngineContext& ctx, const std::vector<const Update*>& updates, const std::string& source) {
  ctx.journal.ensure();
  Snapshot now = current_schema(ctx);
  ctx.db.begin();
  try {
    for (size_t i = 0; i < updates.size(); ++i) {
      AttemptRecord record = adopted_record(ctx, *updates[i], source);
      // The schema now is what the last adopted update left: later runs compare with it.
      if (i + 1 == updates.size()) record.fingerprint_after = record_schema(ctx, now);
      ctx.journal.insert_attempt(record);
    }
    ctx.db.commit();
  } catch (...) {
    ctx.db.rollback();
    throw;
  }
}

std::set<UpdatesFormat> formats_in(const Catalog& catalog) {
  std::set<UpdatesFormat> formats;
  for (const auto& u : catalog.updates)
    if (u.origin.format != UpdatesFormat::installer) formats.insert(u.origin.format);
  return formats;
}

std::string ways_on() {
  return "Either adopt it, if the updates' own tool migrated it (--adopt, INSTALLER_ADOPT=true: the tool's history "
         "table says what is applied), or say by hand which update it is at (installer baseline UPDATE_ID). See "
         "docs/adopt.md";
}

}  // namespace

std::string describe_application_objects(EngineContext& ctx) {
  std::vector<std::string> names;
  size_t count = 0;
  Snapshot schema = current_schema(ctx);
  for (const auto& o : schema.objects()) {
    // Tables are what a first update would collide with and what holds data; routines
    // and types a DBA made beforehand are left to the updates to meet.
    if (o.kind != "table" && o.kind != "view") continue;
    ++count;
    if (names.size() < 5) names.push_back(o.kind + " " + o.name);
  }
  if (count == 0) return "";
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return fmt::format("{} table{} and view{} ({}{})", count, count == 1 ? "" : "s", count == 1 ? "" : "s", list,
                     count > names.size() ? ", ..." : "");
}

std::optional<AdoptionOutcome> prepare_unjournaled(EngineContext& ctx, const Catalog& catalog, bool adopt) {
  if (ctx.journal.exists()) return std::nullopt;
  std::string found = describe_application_objects(ctx);
  if (found.empty()) return std::nullopt;
  if (!adopt) {
    std::string tables;
    for (const auto& t : foreign_history_tables(ctx.db, formats_in(catalog)))
      tables += (tables.empty() ? "" : ", ") + t;
    throw UserError(exit_data,
                    fmt::format("the database has {}{} but no installer journal: applying the first update to it would "
                                "fail or do harm, so nothing was changed. {}",
                                found, tables.empty() ? "" : ", among them the history table " + tables + ",",
                                ways_on()));
  }
  for (UpdatesFormat format : formats_in(catalog)) {
    auto history = read_foreign_history(ctx.db, format, catalog);
    if (!history) continue;
    std::string source = fmt::format("{}'s {}", to_string(format), history->table);
    journal_adopted(ctx, history->applied, source);
    AdoptionOutcome outcome{source, {}};
    for (const auto* u : history->applied) outcome.adopted.push_back(u->id);
    log::info("adopted the database from {}: {} update{} journaled as adopted", source, outcome.adopted.size(),
              outcome.adopted.size() == 1 ? "" : "s");
    return outcome;
  }
  std::string formats;
  for (UpdatesFormat f : formats_in(catalog)) formats += (formats.empty() ? "" : ", ") + std::string(to_string(f));
  throw UserError(exit_data,
                  fmt::format("--adopt: the database has {} and no installer journal, and {}, so nothing says which "
                              "updates it has; nothing was changed. Say it by hand: installer baseline UPDATE_ID "
                              "(docs/adopt.md)",
                              found,
                              formats.empty() ? "the updates are the installer's own (no other tool's history to read)"
                                              : "no history table of " + formats + " is there"));
}

}  // namespace installer
