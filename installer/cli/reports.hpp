#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/db/fingerprint.hpp"
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
  std::optional<Fingerprint> schema_now;
  std::vector<std::string> config_drift;  ///< operator-changed files whose image default changed too
  std::vector<InstallRecord> installs;
};

void print_status(std::ostream& out, const ReportInput& in, bool json);
void print_plan(std::ostream& out, const ReportInput& in, bool json);
void print_history(std::ostream& out, const ReportInput& in, bool json);

}  // namespace installer
