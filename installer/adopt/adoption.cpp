#include "installer/adopt/adoption.hpp"

#include "installer/adopt/foreign_history.hpp"
#include "installer/adopt/release_snapshots.hpp"
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
  return "Either adopt it (--adopt, INSTALLER_ADOPT=true: the history table of the updates' own tool, or the "
         "schema snapshots the release ships, say what is applied), or say by hand which update it is at (installer "
         "baseline UPDATE_ID). See docs/adopt.md";
}

}  // namespace

std::string describe_application_objects(EngineContext& ctx) {
  std::vector<std::string> names;
  size_t tables = 0, views = 0;
  Snapshot schema = current_schema(ctx);
  for (const auto& o : schema.objects()) {
    // Tables are what a first update would collide with and what holds data; routines
    // and types a DBA made beforehand are left to the updates to meet.
    if (o.kind != "table" && o.kind != "view") continue;
    ++(o.kind == "table" ? tables : views);
    if (names.size() < 5) names.push_back(o.kind + " " + o.name);
  }
  if (tables + views == 0) return "";
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  auto counted = [](size_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); };
  std::string what = tables && views ? counted(tables, "table") + " and " + counted(views, "view")
                     : tables        ? counted(tables, "table")
                                     : counted(views, "view");
  return fmt::format("{} ({}{})", what, list, tables + views > names.size() ? ", ..." : "");
}

namespace {

/// The catalog's updates up to and including `last`.
std::vector<const Update*> updates_through(const Catalog& catalog, const std::string& last) {
  std::vector<const Update*> out;
  for (const auto& u : catalog.updates) {
    out.push_back(&u);
    if (u.id == last) break;
  }
  return out;
}

AdoptionOutcome journal_outcome(EngineContext& ctx, const std::vector<const Update*>& updates,
                                const std::string& source) {
  journal_adopted(ctx, updates, source);
  AdoptionOutcome outcome{source, {}};
  for (const auto* u : updates) outcome.adopted.push_back(u->id);
  log::info("adopted the database from {}: {} update{} journaled as adopted", source, outcome.adopted.size(),
            outcome.adopted.size() == 1 ? "" : "s");
  return outcome;
}

/// The schema now as the release's snapshots are: without the database's name.
struct SchemaNow {
  Snapshot schema;
  std::string server_version;
  std::string release;
};

SchemaNow schema_now(EngineContext& ctx) {
  SchemaNow now{portable_snapshot(ctx.db, current_schema(ctx)), server_version(ctx.db), {}};
  now.release = server_release(ctx.db.engine(), now.server_version);
  return now;
}

std::string tolerance_note(const ReleaseSnapshots& snapshots, const SnapshotMatch& match, const SchemaNow& now) {
  if (match.tolerated == 0) return "";
  return fmt::format(" ({} definition{} differ only as {} and {} spell them)", match.tolerated,
                     match.tolerated == 1 ? "" : "s", snapshots.server_release, now.release);
}

std::string describe_mismatch(const ReleaseSnapshots& snapshots, const SnapshotMatch& match) {
  std::string out;
  if (match.closest) {
    out = fmt::format("The closest is the schema after update {}; the database differs from it in {} object{}:",
                      match.closest->update_id, match.differences.size(), match.differences.size() == 1 ? "" : "s");
    for (const auto& line : describe_differences(match.differences, kDifferencesShown)) out += "\n  " + line;
  } else {
    out = "The file holds no snapshot of these updates.";
  }
  if (!match.stale_from.empty())
    out += fmt::format("\n  (its snapshots from update {} on were taken of other content of the updates: record "
                       "them again with installer verify --record)",
                       match.stale_from);
  return out + fmt::format("\n  (snapshots taken on {} {})", engine_name(snapshots.engine), snapshots.server_version);
}

std::optional<AdoptionOutcome> adopt_by_snapshot(EngineContext& ctx, const Catalog& catalog,
                                                 const AdoptOptions& options, const std::string& found) {
  auto snapshots = read_release_snapshots(options.update_dirs, ctx.db.engine());
  if (!snapshots) return std::nullopt;
  SchemaNow now = schema_now(ctx);
  SnapshotMatch match = match_release_snapshots(*snapshots, catalog, now.schema, now.release);
  if (!match.exact)
    throw UserError(exit_data, fmt::format("--adopt: the database has {} and no installer journal, and its schema "
                                           "matches none of the snapshots in {}; nothing was changed. {}\nMake the "
                                           "schema what the release made, or, if you know which update it is at, "
                                           "installer baseline UPDATE_ID --force (docs/adopt.md)",
                                           found, snapshots->file, describe_mismatch(*snapshots, match)));
  std::string source = fmt::format("the schema, which is the snapshot after {} in {}{}", match.exact->update_id,
                                   snapshots->file, tolerance_note(*snapshots, match, now));
  return journal_outcome(ctx, updates_through(catalog, match.exact->update_id), source);
}

}  // namespace

std::optional<AdoptionOutcome> prepare_unjournaled(EngineContext& ctx, const Catalog& catalog,
                                                   const AdoptOptions& options) {
  // A journal that records nothing is what a failed adoption leaves: still unjournaled.
  if (ctx.journal.records_anything()) return std::nullopt;  // false too when there is no journal
  std::string found = describe_application_objects(ctx);
  if (found.empty()) return std::nullopt;
  if (!options.adopt) {
    std::string tables;
    for (const auto& t : foreign_history_tables(ctx.db, catalog)) tables += (tables.empty() ? "" : ", ") + t;
    throw UserError(exit_data,
                    fmt::format("the database has {}{} but no installer journal: applying the first update to it would "
                                "fail or do harm, so nothing was changed. {}",
                                found, tables.empty() ? "" : ", among them the history table " + tables + ",",
                                ways_on()));
  }
  for (UpdatesFormat format : formats_in(catalog)) {
    auto history = read_foreign_history(ctx.db, format, catalog);
    if (!history) continue;
    return journal_outcome(ctx, history->applied, fmt::format("{}'s {}", to_string(format), history->table));
  }
  if (auto outcome = adopt_by_snapshot(ctx, catalog, options, found)) return outcome;
  std::string formats;
  for (UpdatesFormat f : formats_in(catalog)) formats += (formats.empty() ? "" : ", ") + std::string(to_string(f));
  throw UserError(exit_data,
                  fmt::format("--adopt: the database has {} and no installer journal, {}, and the update directories "
                              "hold no {}, so nothing says which updates it has; nothing was changed. Ship the "
                              "snapshots (installer verify --record) or say it by hand: installer baseline UPDATE_ID "
                              "(docs/adopt.md)",
                              found,
                              formats.empty() ? "the updates are the installer's own (no other tool's history to read)"
                                              : "no history table of " + formats + " is there",
                              release_snapshots_file_name(ctx.db.engine())));
}

AdoptionOutcome baseline(EngineContext& ctx, const Catalog& catalog, const AdoptOptions& options,
                         const BaselineRequest& request) {
  if (!catalog.find(request.update_id))
    throw UserError(exit_data,
                    fmt::format("installer baseline: no update '{}' in the update directories{}", request.update_id,
                                catalog.updates.empty()
                                    ? std::string()
                                    : fmt::format(" (they hold {} to {})", catalog.updates.front().id,
                                                  catalog.updates.back().id)));
  if (ctx.journal.exists())
    for (const auto& a : ctx.journal.load())
      if (in_effect(a.state))
        throw UserError(exit_data, fmt::format("installer baseline: the journal already has update {} in effect: a "
                                               "baseline is for a database the installer has not migrated; nothing "
                                               "was changed (installer status shows the journal)",
                                               a.update_id));
  std::string how = "installer baseline " + request.update_id + " by " + request.operator_id;
  auto snapshots = read_release_snapshots(options.update_dirs, ctx.db.engine());
  if (!snapshots) {
    if (!request.force)
      throw UserError(exit_data, fmt::format("installer baseline: the update directories hold no {} to check the "
                                             "schema against; nothing was changed. Ship it (installer verify "
                                             "--record), or take the responsibility: --force",
                                             release_snapshots_file_name(ctx.db.engine())));
    how += ", with --force and no snapshot to check";
  } else {
    SchemaNow now = schema_now(ctx);
    SnapshotMatch match = match_at(*snapshots, catalog, request.update_id, now.schema, now.release);
    if (!match.exact && !request.force)
      throw UserError(exit_data,
                      fmt::format("installer baseline: the schema is not the one after update {} in {}; nothing was "
                                  "changed. {}\nWith --force the journal says so and records it anyway",
                                  request.update_id, snapshots->file, describe_mismatch(*snapshots, match)));
    if (!match.exact) {
      how += fmt::format(", with --force: the schema differs from the snapshot in {} object{}",
                         match.differences.size(), match.differences.size() == 1 ? "" : "s");
      for (const auto& line : describe_differences(match.differences, kDifferencesShown))
        log::warn("baseline --force: {}", line);
    } else {
      how += ", the schema matching the snapshot after it" + tolerance_note(*snapshots, match, now);
    }
  }
  return journal_outcome(ctx, updates_through(catalog, request.update_id), how);
}

}  // namespace installer
