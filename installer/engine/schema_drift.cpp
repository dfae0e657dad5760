#include "installer/engine/schema_drift.hpp"

#include "installer/engine/reconcile.hpp"
#include "installer/journal/journal_tables.hpp"
#include "installer/util/error.hpp"

#include <fmt/format.h>

namespace installer {

const AttemptRecord* last_applied_attempt(const std::vector<AttemptRecord>& attempts) {
  const AttemptRecord* last = nullptr;
  for (const auto& [id, a] : latest_attempts(attempts))
    if (in_effect(a->state) && (!last || a->attempt_id > last->attempt_id)) last = a;
  return last;
}

const AttemptRecord& drift_base(const std::vector<AttemptRecord>& attempts, const std::string& update_id) {
  const AttemptRecord* base = nullptr;
  if (update_id.empty()) {
    base = last_applied_attempt(attempts);
    if (!base)
      throw UserError(exit_data, "no update is applied to this database: there is no snapshot to compare with");
  } else {
    auto latest = latest_attempts(attempts);
    auto it = latest.find(update_id);
    if (it == latest.end())
      throw UserError(exit_data, fmt::format("update {} was never applied to this database", update_id));
    if (!in_effect(it->second->state))
      throw UserError(exit_data, fmt::format("update {} is not applied (its last attempt, {}, is {})", update_id,
                                             it->second->attempt_id, to_string(it->second->state)));
    base = it->second;
  }
  if (base->fingerprint_after.empty())
    throw UserError(
        exit_data, fmt::format("update {} (attempt {}) has no snapshot recorded after it: it was applied in the middle "
                               "of a run longer than --fingerprint-limit; compare with another update (--against ID)",
                               base->update_id, base->attempt_id));
  return *base;
}

SchemaDrift schema_drift(Database& db, Journal& journal, const std::string& journal_name, const AttemptRecord& base) {
  SchemaDrift drift;
  drift.base = &base;
  Snapshot now = schema_snapshot(db, journal_name);
  drift.now_digest = now.digest();
  drift.comparison = compare_schema(db, journal, journal_name, base.fingerprint_after, now);
  return drift;
}

void refuse_unreadable(const SchemaDrift& drift) {
  if (drift.comparison.result != SchemaComparison::Result::unreadable) return;
  throw UserError(exit_data, fmt::format("cannot compare the schema with the snapshot recorded after update {} "
                                         "(attempt {}): {}; compare with another update (--against ID)",
                                         drift.base->update_id, drift.base->attempt_id, drift.comparison.problem));
}

}  // namespace installer
