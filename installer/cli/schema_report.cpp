#include "installer/cli/schema_report.hpp"

#include "installer/cli/session.hpp"
#include "installer/journal/sql_journal.hpp"
#include "installer/util/error.hpp"
#include "installer/util/redact.hpp"

#include <fmt/format.h>

#include <iostream>
#include <sstream>

namespace installer {

nlohmann::json differences_json(const SchemaComparison& c) {
  auto out = nlohmann::json::array();
  if (c.per_kind) {
    for (const auto& line : c.lines) out.push_back({{"kind_summary", line}});
    return out;
  }
  for (const auto& d : c.objects)
    out.push_back({{"kind", d.kind},
                   {"name", d.name},
                   {"change", to_string(d.change)},
                   {"before", d.before},
                   {"after", d.after}});
  return out;
}

namespace {

std::string base_description(const SchemaDrift& drift) {
  const AttemptRecord& a = *drift.base;
  return fmt::format("the snapshot recorded after update {} (attempt {}, {})", a.update_id, a.attempt_id,
                     a.finished_at.empty() ? a.started_at : a.finished_at);
}

void print_text(std::ostream& out, const SchemaDrift& drift) {
  const SchemaComparison& c = drift.comparison;
  if (c.equal()) {
    out << fmt::format("no differences: the schema is {}\n", base_description(drift));
    return;
  }
  out << fmt::format("the schema differs from {}: {}\n", base_description(drift),
                     c.per_kind ? "by kind of object (" + describe_comparison_basis(c) + ")"
                                : fmt::format("{} difference{}", c.objects.size(), c.objects.size() == 1 ? "" : "s"));
  // All of them: this command is where the capped lists elsewhere send the operator.
  auto lines = c.per_kind ? c.lines : describe_differences(c.objects, c.objects.size());
  for (const auto& line : lines) out << "  " << line << "\n";
}

}  // namespace

void print_drift(std::ostream& out, const SchemaDrift& drift, bool json) {
  if (!json) {
    print_text(out, drift);
    return;
  }
  const SchemaComparison& c = drift.comparison;
  nlohmann::json j{{"equal", c.equal()},
                   {"against", {{"update", drift.base->update_id}, {"attempt", drift.base->attempt_id}}},
                   {"recorded", schema_record_digest(drift.base->fingerprint_after)},
                   {"now", drift.now_digest},
                   {"per_kind", c.per_kind},
                   {"differences", differences_json(c)}};
  out << j.dump(2) << "\n";
}

int do_diff(const Settings& s, const std::string& against, bool json) {
  Session session = open_session(s);
  if (!session.journal->exists())
    throw UserError(exit_data, "the database has no journal yet (no update has run against it): there is no snapshot "
                               "to compare the schema with");
  auto attempts = session.journal->load();
  const AttemptRecord& base = drift_base(attempts, against);
  SchemaDrift drift = schema_drift(*session.db, *session.journal, s.journal_schema, base);
  refuse_unreadable(drift);
  std::ostringstream out;
  print_drift(out, drift, json);
  std::cout << redact(out.str()) << std::flush;
  return drift.comparison.equal() ? 0 : 1;
}

}  // namespace installer
