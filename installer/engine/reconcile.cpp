#include "installer/engine/reconcile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <unordered_set>

namespace installer {

std::map<std::string, const AttemptRecord*> latest_attempts(const std::vector<AttemptRecord>& attempts) {
  std::map<std::string, const AttemptRecord*> latest;
  for (const auto& a : attempts) {
    auto& slot = latest[a.update_id];
    if (!slot || slot->attempt_id < a.attempt_id) slot = &a;
  }
  return latest;
}

namespace {

void check_unchanged(const Update& update, const AttemptRecord& applied, std::vector<Problem>& problems) {
  for (const auto& step : update.steps) {
    auto recorded = std::find_if(applied.steps.begin(), applied.steps.end(),
                                 [&](const StepRecord& s) { return s.name == step.name; });
    if (recorded == applied.steps.end()) {
      problems.push_back({step.up.path.string(), 0,
                          fmt::format("step '{}' was added to update {} after it was applied on {}", step.name,
                                      update.id, applied.finished_at)});
    } else if (recorded->up_checksum != step.up.checksum) {
      problems.push_back(
          {step.up.path.string(), 0,
           fmt::format("changed since update {} was applied on {} (sha256 then {}, now {})", update.id,
                       applied.finished_at, recorded->up_checksum.substr(0, 12), step.up.checksum.substr(0, 12))});
    }
  }
  for (const auto& recorded : applied.steps) {
    bool present = std::any_of(update.steps.begin(), update.steps.end(),
                               [&](const Step& s) { return s.name == recorded.name; });
    if (!present)
      problems.push_back({update.source.string(), 0,
                          fmt::format("step '{}' of update {} was applied on {} but its files are gone", recorded.name,
                                      update.id, applied.finished_at)});
  }
}

}  // namespace

Reconciliation reconcile(const Catalog& catalog, const std::vector<AttemptRecord>& attempts) {
  Reconciliation r;
  auto latest = latest_attempts(attempts);
  std::unordered_set<std::string_view> in_catalog;  // a long history: no scan of the catalog per update
  for (const auto& update : catalog.updates) {
    in_catalog.insert(update.id);
    auto it = latest.find(update.id);
    const AttemptRecord* last = it == latest.end() ? nullptr : it->second;
    if (!last || last->state == UpdateState::failed || last->state == UpdateState::removed) {
      r.pending.push_back(&update);
    } else if (in_effect(last->state)) {
      r.applied.push_back(last);
      check_unchanged(update, *last, r.changed);
    }
  }
  for (const auto& [id, last] : latest) {
    if (last->state == UpdateState::applying || last->state == UpdateState::reverting ||
        last->state == UpdateState::revert_failed)
      r.unfinished.push_back(last);
    else if (in_effect(last->state) && !in_catalog.count(id)) r.unknown.push_back(last);
  }
  auto newest_first = [](const AttemptRecord* a, const AttemptRecord* b) { return a->attempt_id > b->attempt_id; };
  std::sort(r.unknown.begin(), r.unknown.end(), newest_first);
  std::sort(r.unfinished.begin(), r.unfinished.end(), newest_first);
  return r;
}

std::vector<const AttemptRecord*> applied_dependents(const std::vector<AttemptRecord>& attempts,
                                                     const std::string& update_id) {
  std::vector<const AttemptRecord*> out;
  for (const auto& [id, last] : latest_attempts(attempts)) {
    if (!in_effect(last->state) || id == update_id) continue;
    if (std::find(last->required.begin(), last->required.end(), update_id) != last->required.end()) out.push_back(last);
  }
  return out;
}

}  // namespace installer
