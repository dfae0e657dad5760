#pragma once
#include "installer/db/database.hpp"
#include "installer/engine/statement_runner.hpp"

#include <optional>
#include <string>

namespace installer {

/// Test-only: INSTALLER_TEST_FAULT=PHASE:UPDATE:STEP:POINT[:ACTION] makes the installer
/// die (or lose its database session) at one exact point, so the tests can prove that a
/// crash at any instant leaves nothing to repair by hand.
///   PHASE   apply | revert
///   POINT   before (the step's first statement) | statement=N (after the Nth statement
///           of the step's script) | after (the step is journaled) | commit (just before
///           the COMMIT that holds the step; PostgreSQL transactional steps) | undo=N
///           (revert of a step that failed part-way: statement N was undone exactly)
///   ACTION  kill (SIGKILL the installer; the default) | kill-session (the server
///           terminates the installer's session; COMMIT then finds it gone: in doubt) |
///           stall (the installer pauses there for 300 ms, as a loaded machine may: the
///           session sits idle in the middle of the step's transaction) | fail (the next
///           statement fails as if the server refused it: before = the step's first,
///           statement=N = statement N+1; installer verify's partial failures)
/// Never set it in production: it exists for the test suites and docs/reliability.md.
struct FaultSpec {
  std::string phase, update, step, point, action = "kill";
  /// fail: what the failing statement is reported as (installer verify names the file
  /// and line); the update, step and statement number are filled in when empty.
  StatementFailure failure;
  static std::optional<FaultSpec> parse(const std::string& text);
};

class FaultPoint {
 public:
  explicit FaultPoint(FaultSpec spec) : spec_(std::move(spec)) {}
  /// Carries out the fault if this is its point. May not return.
  void reached(Database& db, const char* phase, const std::string& update, const std::string& step,
               const std::string& point);

 private:
  StatementFailure injected_failure(const std::string& update, const std::string& step, const std::string& point) const;

  FaultSpec spec_;
  bool fired_ = false;
};

/// The process's fault point from INSTALLER_TEST_FAULT, or null (always, in production).
FaultPoint* fault_point();

}  // namespace installer
