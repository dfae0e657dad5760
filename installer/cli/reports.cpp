#include "installer/cli/reports.hpp"

#include "installer/cli/schema_report.hpp"
#include "installer/engine/reconcile.hpp"
#include "installer/journal/journal_tables.hpp"
#include "installer/util/shell_quote.hpp"
#include "installer/util/version_order.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace installer {
namespace {

using nlohmann::json;

struct Row {
  std::string id, version, state, when, description, note;
  size_t steps = 0;
  long long attempt = 0;
  std::string signed_by;  ///< the key that signed what was applied
  std::string backup;     ///< the backup taken before it was applied
};

struct StatusView {
  std::vector<Row> rows;
  std::vector<std::string> attention;
  const AttemptRecord* last_applied = nullptr;
  std::optional<bool> schema_matches;
};

using LatestAttempts = std::map<std::string, const AttemptRecord*>;  ///< by update id

/// A row for every update in the update directories, as the journal last saw it.
void add_catalog_rows(const ReportInput& in, const LatestAttempts& latest, StatusView& view) {
  if (!in.catalog) {
    if (!in.catalog_error.empty()) view.attention.push_back("update files could not be read: " + in.catalog_error);
    return;
  }
  Reconciliation r = reconcile(*in.catalog, in.attempts);
  for (const auto& u : in.catalog->updates) {
    Row row{u.id, u.version, "pending", "", u.description, "", u.steps.size(), 0, "", ""};
    if (auto it = latest.find(u.id); it != latest.end()) {
      const AttemptRecord& a = *it->second;
      row.attempt = a.attempt_id;
      row.when = a.finished_at.empty() ? a.started_at : a.finished_at;
      row.signed_by = a.signed_by;
      row.backup = a.backup;
      if (in_effect(a.state)) row.state = to_string(a.state);
      else if (a.state == UpdateState::failed) row.note = "last attempt failed and was reverted";
      else if (a.state == UpdateState::removed) row.note = "removed (" + a.reason + ")";
      else row.state = to_string(a.state);
    }
    view.rows.push_back(row);
  }
  for (const auto& p : r.changed) view.attention.push_back("changed after it was applied: " + p.to_string());
}

/// A row for what only the journal knows of; with update directories, only what is live.
void add_journal_only_rows(const ReportInput& in, const LatestAttempts& latest, StatusView& view) {
  for (const auto& [id, a] : latest) {
    if (in.catalog && in.catalog->find(id)) continue;
    bool live = a->state != UpdateState::failed && a->state != UpdateState::removed;
    if (in.catalog && !live) continue;  // neither here nor applied: history only
    Row row{id,
            a->version,
            to_string(a->state),
            a->finished_at.empty() ? a->started_at : a->finished_at,
            a->description,
            "",
            a->steps.size(),
            a->attempt_id,
            a->signed_by,
            a->backup};
    if (in.catalog && in_effect(a->state)) {
      row.state = "unknown";
      row.note = "applied, but in no update directory";
      view.attention.push_back(fmt::format(
          "update {} is applied but in no update directory (an older image?); remove it with: installer --remove-update {}",
          id, shell_quote(id)));
    }
    view.rows.push_back(row);
  }
}

void add_unfinished_attention(const LatestAttempts& latest, StatusView& view) {
  for (const auto& [id, a] : latest) {
    if (a->state == UpdateState::applying || a->state == UpdateState::reverting)
      view.attention.push_back(fmt::format("update {} was left {} (attempt {}); the next start reverts it", id,
                                           to_string(a->state), a->attempt_id));
    if (a->state == UpdateState::revert_failed)
      view.attention.push_back(fmt::format(
          "update {}: revert failed (attempt {}); see 'installer history', fix the database, then start again", id,
          a->attempt_id));
  }
}

void add_install_attention(const ReportInput& in, StatusView& view) {
  for (const auto& file : in.config_drift)
    view.attention.push_back(
        fmt::format("{} was changed here and the image's default changed too: merge {}.new by hand", file, file));
  for (const auto& hook : in.installs)
    if (hook.state == "failed")
      view.attention.push_back(
          fmt::format("install hook {} failed on {} (it runs again at the next start)", hook.name, hook.ran_at));
}

/// The schema now against the snapshot recorded after the last update applied.
void add_schema_attention(const ReportInput& in, StatusView& view) {
  if (!in.schema || !in.schema->base) return;
  const SchemaComparison& c = in.schema->comparison;
  if (c.result == SchemaComparison::Result::unreadable) {
    view.attention.push_back(fmt::format("the snapshot recorded after update {} cannot be read, so the schema was not "
                                         "compared with it: {}",
                                         in.schema->base->update_id, c.problem));
    return;
  }
  view.schema_matches = c.equal();
  if (c.equal()) return;
  std::string text = fmt::format("the schema changed outside the installer since update {} was applied (compared with "
                                 "its {}; 'installer diff' lists every difference):",
                                 in.schema->base->update_id, describe_comparison_basis(c));
  for (const auto& line : c.lines) text += "\n    " + line;
  view.attention.push_back(text);
}

std::string unjournaled_note(const std::string& found) {
  return fmt::format("the database has {} but no installer journal: migrate refuses it (exit 65) unless it is adopted "
                     "(--adopt) or given a baseline (installer baseline UPDATE_ID); see docs/adopt.md",
                     found);
}

StatusView build_status(const ReportInput& in) {
  StatusView view;
  auto latest = latest_attempts(in.attempts);
  view.last_applied = last_applied_attempt(in.attempts);
  add_catalog_rows(in, latest, view);
  add_journal_only_rows(in, latest, view);
  add_unfinished_attention(latest, view);
  add_install_attention(in, view);
  std::stable_sort(view.rows.begin(), view.rows.end(),
                   [](const Row& a, const Row& b) { return compare_versions(a.version, b.version) < 0; });
  add_schema_attention(in, view);
  if (!in.unjournaled.empty()) view.attention.push_back(unjournaled_note(in.unjournaled));
  return view;
}

std::string dash(const std::string& s) { return s.empty() ? "-" : s; }

struct StatusCounts {
  size_t applied = 0, pending = 0;
};

StatusCounts count_rows(const StatusView& view) {
  StatusCounts counts;
  for (const auto& r : view.rows) {
    if (r.state == "applied" || r.state == "adopted") ++counts.applied;
    if (r.state == "pending") ++counts.pending;
  }
  return counts;
}

json status_json(const ReportInput& in, const StatusView& view) {
  StatusCounts counts = count_rows(view);
  json j;
  j["database"] = in.database;
  j["engine"] = in.engine;
  j["journal_schema"] = in.journal_schema;
  j["journal_exists"] = in.journal_exists;
  j["summary"] = {{"applied", counts.applied}, {"pending", counts.pending}, {"total", view.rows.size()}};
  j["updates"] = json::array();
  for (const auto& r : view.rows)
    j["updates"].push_back({{"id", r.id},
                            {"version", r.version},
                            {"state", r.state},
                            {"steps", r.steps},
                            {"attempt", r.attempt},
                            {"when", r.when},
                            {"description", r.description},
                            {"signed_by", r.signed_by},
                            {"backup", r.backup},
                            {"note", r.note}});
  if (in.schema) {
    j["schema"] = {{"fingerprint", in.schema->now_digest}};
    if (view.schema_matches) {
      j["schema"]["matches_journal"] = *view.schema_matches;
      j["schema"]["compared_with"] = {{"update", in.schema->base->update_id},
                                      {"attempt", in.schema->base->attempt_id},
                                      {"per_kind", in.schema->comparison.per_kind}};
      j["schema"]["differences"] = differences_json(in.schema->comparison);
    }
  }
  j["attention"] = view.attention;
  j["config_drift"] = in.config_drift;
  j["install_hooks"] = nlohmann::json::array();
  for (const auto& hook : in.installs)
    j["install_hooks"].push_back(
        {{"name", hook.name}, {"state", hook.state}, {"ran_at", hook.ran_at}, {"host", hook.host}});
  return j;
}

void print_status_text(std::ostream& out, const ReportInput& in, const StatusView& view) {
  StatusCounts counts = count_rows(view);
  out << fmt::format("database:  {} ({}, journal in {})\n", in.database, in.engine,
                     in.engine == "postgres" ? "schema " + in.journal_schema : "tables " + in.journal_schema + "_*");
  if (!in.journal_exists) out << "journal:   none yet (no update has run against this database)\n";
  out << fmt::format("updates:   {} applied, {} pending\n", counts.applied, counts.pending);
  if (in.schema) {
    out << fmt::format("schema:    snapshot {}", in.schema->now_digest.substr(0, 12));
    if (view.schema_matches)
      out << (*view.schema_matches ? " (as recorded after the last update)" : " (CHANGED since the last update)");
    out << "\n";
  }
  if (!view.rows.empty()) {
    out << fmt::format("\n  {:<14} {:<22} {:<13} {:<21} {:>5}  {}\n", "VERSION", "UPDATE", "STATE", "WHEN", "STEPS",
                       "DESCRIPTION");
    for (const auto& r : view.rows) {
      std::string description = r.description;
      if (!r.note.empty()) description += (description.empty() ? "" : " ") + std::string("[") + r.note + "]";
      if (!r.signed_by.empty())
        description += std::string(description.empty() ? "" : " ") + "[signed by " + r.signed_by + "]";
      out << fmt::format("  {:<14} {:<22} {:<13} {:<21} {:>5}  {}\n", r.version, r.id, r.state, dash(r.when), r.steps,
                         description);
    }
  }
  if (!view.attention.empty()) {
    out << "\nattention:\n";
    for (const auto& a : view.attention) out << "  - " << a << "\n";
  }
}

}  // namespace

void print_status(std::ostream& out, const ReportInput& in, bool json_output) {
  StatusView view = build_status(in);
  if (json_output) out << status_json(in, view).dump(2) << "\n";
  else print_status_text(out, in, view);
}

namespace {

/// What migrate does before it applies anything, for plan.
std::vector<std::string> plan_blockers(const Reconciliation& r) {
  std::vector<std::string> blockers;
  for (const auto* a : r.unfinished)
    blockers.push_back(fmt::format("update {} is {}: it is reverted first", a->update_id, to_string(a->state)));
  for (const auto* a : r.unknown)
    blockers.push_back(
        fmt::format("update {} is applied but in no update directory: migrate refuses to start "
                    "unless it is removed (installer --remove-update {}) or --auto-remove-unknown is set",
                    a->update_id, shell_quote(a->update_id)));
  for (const auto& p : r.changed) blockers.push_back("changed after it was applied, migrate refuses: " + p.to_string());
  return blockers;
}

json pending_json(const std::vector<const Update*>& pending) {
  json list = json::array();
  for (const auto* u : pending) {
    json steps = json::array();
    for (const auto& s : u->steps)
      steps.push_back({{"name", s.name},
                       {"file", s.up.path.string()},
                       {"statements", s.up.statements.size()},
                       {"transaction", s.transactional},
                       {"checksum", s.up.checksum}});
    list.push_back({{"id", u->id},
                    {"version", u->version},
                    {"requires", u->required},
                    {"description", u->description},
                    {"checksum", u->checksum},
                    {"steps", steps}});
  }
  return list;
}

json warnings_json(const std::vector<const ReleaseWarning*>& warnings) {
  json list = json::array();
  for (const auto* w : warnings)
    list.push_back({{"code", w->code},
                    {"update", w->update},
                    {"step", w->step},
                    {"file", w->file},
                    {"line", w->line},
                    {"message", w->message},
                    {"allowed_because", w->allowed_because}});
  return list;
}

}  // namespace

void print_plan(std::ostream& out, const ReportInput& in, bool json_output) {
  std::vector<const Update*> pending;
  std::vector<std::string> blockers;
  if (in.catalog) {
    Reconciliation r = reconcile(*in.catalog, in.attempts);
    pending = r.pending;
    blockers = plan_blockers(r);
  }
  if (!in.unjournaled.empty()) blockers.insert(blockers.begin(), unjournaled_note(in.unjournaled));
  std::vector<const ReleaseWarning*> warnings;  // of what is still to apply
  for (const auto& w : in.warnings)
    if (std::any_of(pending.begin(), pending.end(), [&](const Update* u) { return u->id == w.update; }))
      warnings.push_back(&w);
  if (json_output) {
    json j;
    j["database"] = in.database;
    j["pending"] = pending_json(pending);
    j["blockers"] = blockers;
    j["warnings"] = warnings_json(warnings);
    out << j.dump(2) << "\n";
    return;
  }
  if (pending.empty()) out << "nothing to apply: the database has every update\n";
  else out << fmt::format("{} update{} to apply, in this order:\n", pending.size(), pending.size() == 1 ? "" : "s");
  for (const auto* u : pending) {
    out << fmt::format("\n  {} (version {}){}{}\n", u->id, u->version,
                       u->required.empty() ? "" : fmt::format(", requires {}", fmt::join(u->required, ", ")),
                       u->description.empty() ? "" : " - " + u->description);
    for (const auto& s : u->steps)
      out << fmt::format("    {:<32} {:>3} statement{}{}  {}\n", s.name, s.up.statements.size(),
                         s.up.statements.size() == 1 ? " " : "s", s.transactional ? "" : "  (outside a transaction)",
                         s.up.path.string());
  }
  if (!blockers.empty()) {
    out << "\nbefore that:\n";
    for (const auto& b : blockers) out << "  - " << b << "\n";
  }
  if (!warnings.empty()) {
    out << "\nwarnings (docs/verify.md; allow one in update.toml with a reason):\n";
    for (const auto* w : warnings) out << "  " << w->to_string() << "\n";
  }
}

namespace {

json history_json(const ReportInput& in) {
  json j = json::array();
  for (const auto& a : in.attempts) {
    json steps = json::array();
    for (const auto& s : a.steps)
      steps.push_back({{"position", s.position},
                       {"name", s.name},
                       {"state", to_string(s.state)},
                       {"transaction", s.transactional},
                       {"statements", s.statements_total},
                       {"statements_done", s.statements_done},
                       {"down_statements_done", s.down_statements_done},
                       {"revert_method", s.revert_method},
                       {"undo_done", s.undo_done},
                       {"revert_note", s.revert_note},
                       {"duration_ms", s.duration_ms},
                       {"up_checksum", s.up_checksum},
                       {"down_checksum", s.down_checksum},
                       {"error", s.error}});
    j.push_back({{"attempt", a.attempt_id},
                 {"id", a.update_id},
                 {"version", a.version},
                 {"state", to_string(a.state)},
                 {"reason", a.reason},
                 {"started_at", a.started_at},
                 {"finished_at", a.finished_at},
                 {"host", a.host},
                 {"installer_version", a.installer_version},
                 {"signed_by", a.signed_by},
                 {"backup", a.backup},
                 {"checksum", a.checksum},
                 {"fingerprint_before", schema_record_digest(a.fingerprint_before)},
                 {"fingerprint_after", schema_record_digest(a.fingerprint_after)},
                 {"error", a.error},
                 {"error_step", a.error_step},
                 {"error_sqlstate", a.error_sqlstate},
                 {"steps", steps}});
  }
  return j;
}

}  // namespace

void print_history(std::ostream& out, const ReportInput& in, bool json_output) {
  if (json_output) {
    out << history_json(in).dump(2) << "\n";
    return;
  }
  if (in.attempts.empty()) {
    out << "no update has been attempted on this database\n";
    return;
  }
  out << fmt::format("  {:>7}  {:<14} {:<22} {:<13} {:<21} {:<21} {}\n", "ATTEMPT", "VERSION", "UPDATE", "STATE",
                     "STARTED", "FINISHED", "HOST / REASON");
  for (const auto& a : in.attempts) {
    out << fmt::format("  {:>7}  {:<14} {:<22} {:<13} {:<21} {:<21} {}{}\n", a.attempt_id, a.version, a.update_id,
                       to_string(a.state), dash(a.started_at), dash(a.finished_at), a.host,
                       (a.reason.empty() ? "" : " / " + a.reason) +
                           (a.signed_by.empty() ? "" : " / signed by " + a.signed_by));
    if (!a.error.empty()) {
      std::string indented;
      for (char c : a.error) indented += c == '\n' ? std::string("\n           ") : std::string(1, c);
      out << "           " << indented << "\n";
    }
    if (!a.backup.empty()) out << "           backup before it: " << a.backup << "\n";
    // How a step that failed part-way was reverted: exactly, or by its down script.
    for (const auto& s : a.steps)
      if (!s.revert_note.empty()) out << fmt::format("           step {}: {}\n", s.name, s.revert_note);
  }
}

SchemaDrift status_schema(Database& db, Journal& journal, const std::string& journal_name,
                          const std::vector<AttemptRecord>& attempts) {
  const AttemptRecord* last = last_applied_attempt(attempts);
  if (last && !last->fingerprint_after.empty()) return schema_drift(db, journal, journal_name, *last);
  SchemaDrift drift;  // nothing recorded to compare with
  drift.now_digest = schema_snapshot(db, journal_name).digest();
  return drift;
}

}  // namespace installer
