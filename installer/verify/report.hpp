#pragma once
#include "installer/catalog/release_lint.hpp"

#include <ostream>
#include <string>
#include <vector>

namespace installer {

/// One check installer verify made, on one engine: passed, or why not.
struct CheckResult {
  std::string engine;  ///< "postgres", "mariadb"
  std::string check;   ///< "round-trip", "partial-failure", "upgrade-path"
  std::string update;
  std::string step;     ///< for partial failures
  std::string name;     ///< what was checked, for people and JUnit's testcase
  std::string failure;  ///< empty when it passed; else what went wrong, with the objects that differ
  long long duration_ms = 0;
  bool passed() const { return failure.empty(); }
};

struct VerifyReport {
  std::vector<std::pair<std::string, ReleaseWarning>> warnings;  ///< engine, warning
  std::vector<CheckResult> checks;
  bool strict = false;  ///< warnings fail the run
  int stopped_by = 0;   ///< the signal that cut the run short, or 0
  /// With --record: a line per file written, or why none was.
  std::vector<std::string> recorded;

  size_t failures() const;
  size_t open_warnings() const;  ///< warnings not allowed in update.toml
  bool ok() const { return failures() == 0 && !(strict && open_warnings() > 0) && stopped_by == 0; }
};

void print_verify_text(std::ostream& out, const VerifyReport& report);
void print_verify_json(std::ostream& out, const VerifyReport& report);
/// JUnit XML, one testsuite per engine and check, one testcase per check made; warnings
/// are testcases of the "static" suite (failed only with --strict).
void print_verify_junit(std::ostream& out, const VerifyReport& report);

}  // namespace installer
