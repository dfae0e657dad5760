#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/catalog/release_lint.hpp"
#include "installer/engine/schema_drift.hpp"
#include "installer/journal/records.hpp"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace installer {

/// What the read-only commands know: the update files (when readable), the journal and
/// the schema as it is now.
struct ReportInput {
  std::string database;  ///< redacted URL
  std::string engine;
  std::string journal_schema;
  bool journal_exists = false;
  const Catalog* catalog = nullptr;  ///< null when no update directory is configured or readable
  std::string catalog_error;
  std::vector<AttemptRecord> attempts;
  /// The schema now, against the snapshot recorded after the last update when there is one.
  std::optional<SchemaDrift> schema;
  std::vector<std::string> config_drift;  ///< operator-changed files whose image default changed too
  std::vector<InstallRecord> installs;
  std::vector<ReleaseWarning> warnings;  ///< plan: release_warnings() of the catalog
  /// The application's tables and views, when the journal records nothing: what migrate
  /// refuses without --adopt (adopt/adoption.hpp).
  std::string unjournaled;
};

/// For status: the schema now, compared with the snapshot after the last update applied.
SchemaDrift status_schema(Database& db, Journal& journal, const std::string& journal_name,
                          const std::vector<AttemptRecord>& attempts);

void print_status(std::ostream& out, const ReportInput& in, bool json);
void print_plan(std::ostream& out, const ReportInput& in, bool json);
void print_history(std::ostream& out, const ReportInput& in, bool json);

}  // namespace installer
