#pragma once

namespace installer {

/// What a server's transactions can hold, one question per decision the installer takes
/// on it, so that each caller asks the question it means. Today all four follow from
/// whether DDL takes part in transactions (PostgreSQL) or commits implicitly
/// (MariaDB/MySQL), but they are separate decisions and are documented where they are made.
struct Capabilities {
  /// An update whose steps are all transactional commits in one transaction together with
  /// its journal rows, and consecutive transactional steps of a mixed update commit as a
  /// group: a failure rolls them back without a down script.
  bool steps_commit_together = false;
  /// A statement that failed outside a transaction may still have changed the schema (a
  /// failed CREATE INDEX CONCURRENTLY leaves an invalid index): such a step fingerprints
  /// the schema before it runs, so that the revert can tell.
  bool failed_statement_may_leave_residue = false;
  /// Consecutive transactional down scripts revert in one transaction: all of them or none.
  bool downs_revert_together = false;
  /// An SQL install hook runs in one transaction, so a failed hook leaves nothing behind
  /// (and its statements are linted as a transaction's).
  bool hooks_run_in_transaction = false;

  /// DDL takes part in transactions (PostgreSQL).
  static constexpr Capabilities transactional_ddl() { return {true, true, true, true}; }
  /// Every DDL statement commits on its own (MariaDB, MySQL): progress is journaled per
  /// statement and reverted by down scripts.
  static constexpr Capabilities implicit_commit_ddl() { return {false, false, false, false}; }
};

}  // namespace installer
