// The engine's decisions, against a fake database that records statements and fails
// the Nth on cue. Real transactions, locks and DDL are proven in tests/db against real
// servers; here every branch is reached cheaply and exhaustively.
#include "fake_database.hpp"
#include "installer/engine/migrator.hpp"
#include "installer/journal/journal_tables.hpp"
#include "installer/util/error.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

using namespace installer;
using namespace installer::testing;

namespace {

struct Harness {
  explicit Harness(bool transactional_ddl = true)
      : db(transactional_ddl), journal(db), ctx{db, journal, "installer", "test-host"} {}

  MigrateSummary migrate(const Catalog& catalog, bool auto_remove = false) {
    MigrateOptions options;
    options.auto_remove_unknown = auto_remove;
    return Migrator(ctx, catalog).migrate(options);
  }

  ExitCode migrate_fails(const Catalog& catalog, std::string* message = nullptr) {
    try {
      migrate(catalog);
    } catch (const UserError& e) {
      if (message) *message = e.what();
      return e.code();
    }
    FAIL("migrate was expected to fail");
    return exit_ok;
  }

  std::string remove(const std::string& id, bool dry_run = false) {
    std::ostringstream out;
    Catalog none;
    Migrator(ctx, none).remove_update(id, dry_run, out);
    return out.str();
  }

  const AttemptRecord& last_attempt() { return db.state().attempts.back(); }
  Fingerprint fingerprint() { return schema_fingerprint(db, "installer"); }

  FakeDatabase db;
  FakeJournal journal;
  EngineContext ctx;
};

Catalog catalog_of(std::vector<Update> updates) {
  Catalog c;
  c.updates = std::move(updates);
  return c;
}

/// Three steps of 2, 1 and 2 statements; every down undoes its up exactly.
Update five_statement_update(bool middle_transactional = true) {
  return make_update("u2", "2",
                     {{"001_a", "create a1; create a2", "drop if exists a2; drop if exists a1"},
                      {"002_b", "create b1", "drop if exists b1", middle_transactional},
                      {"003_c", "insert; create c1", "drop if exists c1"}},
                     {"u1"});
}

Update base_update() { return make_update("u1", "1", {{"001_base", "create base", "drop base"}}); }

}  // namespace

TEST_CASE("applies pending updates in version order, once") {
  Harness h;
  Catalog catalog = catalog_of({base_update(), five_statement_update()});
  auto summary = h.migrate(catalog);
  CHECK(summary.applied == std::vector<std::string>{"u1", "u2"});
  CHECK(h.db.state().objects == std::set<std::string>{"base", "a1", "a2", "b1", "c1"});
  REQUIRE(h.db.state().attempts.size() == 2);
  CHECK(h.db.state().attempts[1].state == UpdateState::applied);
  CHECK(h.db.state().attempts[1].steps.size() == 3);
  CHECK(h.db.state().attempts[1].steps[0].down_script == "drop if exists a2; drop if exists a1");

  int executed = h.db.executed();
  CHECK(h.migrate(catalog).applied.empty());
  CHECK(h.db.executed() == executed);  // a second run sends no step statement
}

TEST_CASE("atomic engine: a failure at any statement leaves the schema exactly as before") {
  for (int k = 1; k <= 5; ++k) {
    CAPTURE(k);
    Harness h(true);
    h.migrate(catalog_of({base_update()}));
    Fingerprint before = h.fingerprint();
    h.db.fail_at(k);
    std::string message;
    CHECK(h.migrate_fails(catalog_of({base_update(), five_statement_update()}), &message) == exit_update_failed);
    CHECK(h.fingerprint() == before);
    CHECK(message.find("transaction was rolled back") != std::string::npos);
    CHECK(message.find("verified") != std::string::npos);
    const AttemptRecord& failed = h.last_attempt();
    CHECK(failed.update_id == "u2");
    CHECK(failed.state == UpdateState::failed);
    CHECK_FALSE(failed.error_step.empty());
    CHECK(failed.error_sqlstate == "XX000");
    // No down script runs: the transaction rollback did the work.
    CHECK(std::none_of(h.db.log().begin(), h.db.log().end(),
                       [](const std::string& s) { return s.rfind("drop", 0) == 0; }));
  }
}

TEST_CASE("implicit-commit engine: committed steps and the failing step's committed part are reverted") {
  for (int k = 1; k <= 5; ++k) {
    CAPTURE(k);
    Harness h(false);
    h.migrate(catalog_of({base_update()}));
    Fingerprint before = h.fingerprint();
    h.db.fail_at(k);
    CHECK(h.migrate_fails(catalog_of({base_update(), five_statement_update()})) == exit_update_failed);
    CHECK(h.fingerprint() == before);
    const AttemptRecord& failed = h.last_attempt();
    CHECK(failed.state == UpdateState::failed);
    CHECK(failed.reason == "failed");
    for (const auto& s : failed.steps)
      CHECK((s.state == StepState::reverted || s.state == StepState::rolled_back || s.state == StepState::applying));
  }
}

TEST_CASE("implicit-commit engine: downs run newest first") {
  Harness h(false);
  h.migrate(catalog_of({base_update()}));
  h.db.fail_at(5);  // "create c1", the update's fifth statement
  h.migrate_fails(catalog_of({base_update(), five_statement_update()}));
  std::vector<std::string> drops;
  for (const auto& s : h.db.log())
    if (s.rfind("drop", 0) == 0) drops.push_back(s);
  // 003_c had committed its insert before "create c1" failed, so its down runs first.
  CHECK(drops ==
        std::vector<std::string>{"drop if exists c1", "drop if exists b1", "drop if exists a2", "drop if exists a1"});
}

TEST_CASE("a step outside the transaction that fails is reverted through the revert path") {
  Harness h(true);
  h.migrate(catalog_of({base_update()}));
  Fingerprint before = h.fingerprint();
  Update u = make_update("u2", "2",
                         {{"001_a", "create a1", "drop if exists a1"},
                          {"002_index", "create idx; fail", "drop if exists idx", false},
                          {"003_c", "create c1", "drop if exists c1"}},
                         {"u1"});
  std::string message;
  CHECK(h.migrate_fails(catalog_of({base_update(), u}), &message) == exit_update_failed);
  CHECK(h.fingerprint() == before);
  CHECK(message.find("was reverted from the journal, newest first") != std::string::npos);
  const AttemptRecord& failed = h.last_attempt();
  CHECK(failed.state == UpdateState::failed);
  REQUIRE(failed.steps.size() == 2);  // 003 never ran
  CHECK(failed.steps[0].state == StepState::reverted);
  CHECK(failed.steps[1].state == StepState::reverted);
  CHECK(failed.steps[1].statements_done == 1);
}

TEST_CASE("a failing step outside a transaction with nothing committed needs no down") {
  Harness h(true);
  Update u = make_update("u1", "1", {{"001_index", "fail", "drop idx", false}});
  CHECK(h.migrate_fails(catalog_of({u})) == exit_update_failed);
  CHECK(h.last_attempt().state == UpdateState::failed);
  CHECK(h.last_attempt().steps[0].state == StepState::rolled_back);
}

TEST_CASE("a down script that fails mid-revert is reported with what remains, exit 79") {
  Harness h(false);
  Update u = make_update("u1", "1",
                         {{"001_a", "create a1", "drop a1"},
                          {"002_b", "create b1", "drop b1; drop missing"},
                          {"003_c", "create c1; fail", "drop if exists c1"}});
  std::string message;
  CHECK(h.migrate_fails(catalog_of({u}), &message) == exit_revert_failed);
  CHECK(message.find("002_b") != std::string::npos);
  CHECK(message.find("still in the database") != std::string::npos);
  CHECK(message.find("001_a") != std::string::npos);
  const AttemptRecord& a = h.last_attempt();
  CHECK(a.state == UpdateState::revert_failed);
  CHECK(a.steps[1].state == StepState::reverting);
  CHECK(a.steps[1].down_statements_done == 1);
  CHECK(h.db.state().objects == std::set<std::string>{"a1"});

  // The operator fixes the database; the next start resumes the revert at the statement
  // that failed (not from the start of the down script), verifies it, then re-applies
  // the update, which fails the same way again.
  h.db.state().objects.insert("missing");
  int drops_of_b1_before = static_cast<int>(std::count(h.db.log().begin(), h.db.log().end(), "drop b1"));
  CHECK(h.migrate_fails(catalog_of({u})) == exit_revert_failed);
  CHECK(h.db.state().attempts[0].state == UpdateState::failed);
  CHECK(h.db.state().attempts[0].reason == "failed");
  CHECK(h.db.state().attempts[1].state == UpdateState::revert_failed);
  // Recovery did not re-run "drop b1"; the second attempt ran it once.
  CHECK(std::count(h.db.log().begin(), h.db.log().end(), "drop b1") == drops_of_b1_before + 1);
}

TEST_CASE("a revert that does not restore the fingerprint fails loudly") {
  Harness h(false);
  Update u = make_update("u1", "1", {{"001_a", "create a1; create a2", "drop a1"}, {"002_b", "fail", "noop"}});
  std::string message;
  CHECK(h.migrate_fails(catalog_of({u}), &message) == exit_revert_failed);
  CHECK(message.find("not what it was before") != std::string::npos);
  CHECK(h.last_attempt().state == UpdateState::revert_failed);
}

TEST_CASE("--remove-update reverts from the journal and refuses while a dependent is applied") {
  Harness h(true);
  h.migrate(catalog_of({base_update(), five_statement_update()}));
  std::string refusal;
  try {
    h.remove("u1");
    FAIL("expected a refusal");
  } catch (const UserError& e) {
    CHECK(e.code() == exit_data);
    refusal = e.what();
  }
  CHECK(refusal.find("u2 requires it") != std::string::npos);
  CHECK(refusal.find("installer --remove-update u2") != std::string::npos);

  std::string dry = h.remove("u2", true);
  CHECK(dry.find("drop if exists c1") < dry.find("drop if exists a1"));
  CHECK(h.db.state().objects.count("c1") == 1);  // dry run changed nothing

  std::string out = h.remove("u2");
  CHECK(out.find("verified") != std::string::npos);
  CHECK(h.db.state().objects == std::set<std::string>{"base"});
  CHECK(h.last_attempt().state == UpdateState::removed);
  CHECK(h.last_attempt().reason == "remove-update");

  // Removed means pending again.
  CHECK(h.migrate(catalog_of({base_update(), five_statement_update()})).applied == std::vector<std::string>{"u2"});
}

TEST_CASE("--remove-update of an update that is not applied is refused") {
  Harness h(true);
  h.migrate(catalog_of({base_update()}));
  CHECK_THROWS_WITH_AS(h.remove("nope"), "update nope was never applied to this database", UserError);
  h.remove("u1");
  CHECK_THROWS_WITH_AS(h.remove("u1"), "update u1 is not applied (its last attempt, 1, is removed)", UserError);
}

TEST_CASE("downgrade guard: applied updates missing from the image stop the run, or are removed on request") {
  Harness h(true);
  h.migrate(catalog_of({base_update(), five_statement_update()}));
  std::string message;
  CHECK(h.migrate_fails(catalog_of({base_update()}), &message) == exit_data);
  CHECK(message.find("installer --remove-update u2") != std::string::npos);
  CHECK(h.db.state().objects.count("a1") == 1);

  auto summary = h.migrate(catalog_of({base_update()}), /*auto_remove=*/true);
  CHECK(summary.removed == std::vector<std::string>{"u2"});
  CHECK(h.db.state().objects == std::set<std::string>{"base"});
  CHECK(h.last_attempt().reason == "auto-remove-unknown");
}

TEST_CASE("an applied update whose files changed is refused, naming the file") {
  Harness h(true);
  h.migrate(catalog_of({base_update()}));
  Update changed = make_update("u1", "1", {{"001_base", "create base; create extra", "drop base"}});
  std::string message;
  CHECK(h.migrate_fails(catalog_of({changed}), &message) == exit_data);
  CHECK(message.find("/fake/u1/001_base.up.sql") != std::string::npos);
  Update added = make_update("u1", "1", {{"001_base", "create base", "drop base"}, {"002_more", "create m", "drop m"}});
  CHECK(h.migrate_fails(catalog_of({added}), &message) == exit_data);
  CHECK(message.find("002_more") != std::string::npos);
}

TEST_CASE("a session lost mid-update is recovered at the next start, then the update is applied") {
  for (int k = 1; k <= 5; ++k) {
    CAPTURE(k);
    Harness h(false);
    h.migrate(catalog_of({base_update()}));
    Fingerprint before = h.fingerprint();
    h.db.fail_at(k, DbFailure::connection_lost);
    CHECK_THROWS_WITH(h.migrate(catalog_of({base_update(), five_statement_update()})),
                      doctest::Contains("the database said: [08006] fake: connection lost"));
    h.db.reconnect();
    auto summary = h.migrate(catalog_of({base_update(), five_statement_update()}));
    CHECK(summary.applied == std::vector<std::string>{"u2"});
    CHECK(summary.recovered.size() == (h.db.state().attempts.size() == 3 ? 1u : 0u));
    CHECK(h.db.state().objects == std::set<std::string>{"base", "a1", "a2", "b1", "c1"});
    (void)before;
  }
}

TEST_CASE("atomic engine: a session lost mid-update leaves nothing to recover") {
  Harness h(true);
  h.db.fail_at(2, DbFailure::connection_lost);
  CHECK_THROWS_WITH(
      h.migrate(catalog_of({base_update(), five_statement_update()})),
      "step 001_a, statement 1 (/fake/u2/001_a.up.sql:1):\n    create a1\n  the database said: [08006] fake: connection lost");
  h.db.reconnect();
  // u1 committed before the loss; u2's transaction vanished with the session.
  REQUIRE(h.db.state().attempts.size() == 1);
  CHECK(h.db.state().attempts[0].update_id == "u1");
  auto summary = h.migrate(catalog_of({base_update(), five_statement_update()}));
  CHECK(summary.recovered.empty());
  CHECK(summary.applied == std::vector<std::string>{"u2"});
}

// ---------------------------------------------------------------- exact undo of a partly applied step

namespace {

/// A MariaDB-like engine with exact undo for CREATE TABLE.
struct ExactHarness : Harness {
  ExactHarness() : Harness(false) { db.enable_exact_undo(); }
  size_t ran(const std::string& statement) {
    return static_cast<size_t>(std::count(db.log().begin(), db.log().end(), statement));
  }
};

}  // namespace

TEST_CASE("exact undo: a step that failed part-way is undone from its records, without its down script") {
  ExactHarness h;
  h.migrate(catalog_of({base_update()}));
  Fingerprint before = h.fingerprint();
  // The down is written for the whole step: "drop later" fails on a partly applied one.
  Update u = make_update("u2", "2",
                         {{"001_x", "CREATE TABLE a; CREATE TABLE b; fail; CREATE TABLE later",
                           "drop later; drop b; drop a"}});
  std::string message;
  CHECK(h.migrate_fails(catalog_of({base_update(), u}), &message) == exit_update_failed);
  CHECK(h.fingerprint() == before);
  CHECK(h.ran("drop if exists b") == 1);
  CHECK(h.ran("drop if exists a") == 1);
  CHECK(h.ran("drop later") == 0);
  const StepRecord& step = h.last_attempt().steps[0];
  CHECK(step.state == StepState::reverted);
  CHECK(step.revert_method == "exact");
  CHECK(step.undo_done == 3);  // the failed statement's record is passed over: it committed nothing
  CHECK(step.undo.size() == 3);
  CHECK(message.find("undone exactly, statement by statement, newest first (statements 2, 1)") != std::string::npos);
}

TEST_CASE("exact undo: from a statement without an exact inverse on, the down script runs, passing over the absent") {
  ExactHarness h;
  h.migrate(catalog_of({base_update()}));
  Fingerprint before = h.fingerprint();
  Update u = make_update("u2", "2",
                         {{"001_x", "CREATE TABLE a; insert; CREATE TABLE b; fail; CREATE TABLE later",
                           "DROP TABLE later; DROP TABLE b; DROP TABLE a"}});
  std::string message;
  CHECK(h.migrate_fails(catalog_of({base_update(), u}), &message) == exit_update_failed);
  CHECK(h.fingerprint() == before);
  const StepRecord& step = h.last_attempt().steps[0];
  CHECK(step.revert_method == "tolerant-down");
  CHECK(step.revert_note.find("undone exactly: 3; statement 2 (insert) has no exact inverse") != std::string::npos);
  CHECK(step.revert_note.find("passing over 2 statement(s)") != std::string::npos);  // later, and b (undone already)
  CHECK(h.ran("drop a") == 1);
}

TEST_CASE("exact undo: the modes the real-history harness compares") {
  for (PartialRevert mode : {PartialRevert::tolerant_down, PartialRevert::strict_down}) {
    ExactHarness h;
    h.ctx.partial_revert = mode;
    Update u = make_update("u1", "1",
                           {{"001_x", "CREATE TABLE a; fail; CREATE TABLE later", "DROP TABLE later; DROP TABLE a"}});
    ExitCode code = h.migrate_fails(catalog_of({u}));
    if (mode == PartialRevert::tolerant_down) {
      CHECK(code == exit_update_failed);
      CHECK(h.last_attempt().steps[0].revert_method == "tolerant-down");
    } else {
      CHECK(code == exit_revert_failed);  // the whole-step down meets a partly applied step
      CHECK(h.last_attempt().steps[0].revert_method.empty());
    }
  }
}

TEST_CASE("exact undo: after a crash, the statement in flight is undone only if it created what it names") {
  ExactHarness h;
  h.migrate(catalog_of({base_update()}));
  Fingerprint before = h.fingerprint();
  // "CREATE TABLE base" names a table that was there before the update: whether or not
  // the statement ran, undoing it must not drop that table.
  Update u = make_update("u2", "2", {{"001_x", "CREATE TABLE a; CREATE TABLE base", "drop base; drop a"}});
  h.db.fail_at(2, DbFailure::connection_lost);  // the session dies as "CREATE TABLE base" is sent
  CHECK_THROWS_WITH(
      h.migrate(catalog_of({base_update(), u})),
      "step 001_x, statement 2 (/fake/u2/001_x.up.sql:1):\n    CREATE TABLE base\n  the database said: [08006] fake: connection lost");
  h.db.reconnect();
  CHECK(h.db.state().attempts.back().state == UpdateState::applying);
  CHECK(h.db.state().attempts.back().steps[0].error.empty());  // nobody knows how the statement ended
  CHECK_THROWS_WITH(
      h.migrate(catalog_of({base_update(), u})),
      doctest::Contains(
          "update u2 failed at step 001_x, statement 2 (/fake/u2/001_x.up.sql:1):\n    CREATE TABLE base\n  the database said: [42P07] fake: base already exists\n  reverted: "));  // recovered, then the update fails for real
  const AttemptRecord& recovered = h.db.state().attempts[1];
  CHECK(recovered.state == UpdateState::failed);
  CHECK(recovered.steps[0].revert_method == "exact");
  CHECK(h.db.state().objects.count("base") == 1);
  CHECK(h.fingerprint() == before);
}

TEST_CASE("exact undo: a revert cut off half-way resumes where it stopped") {
  ExactHarness h;
  Update u = make_update("u1", "1",
                         {{"001_x", "CREATE TABLE a; CREATE TABLE b; CREATE TABLE c; fail", "drop c; drop b; drop a"}});
  h.db.fail_at(6, DbFailure::connection_lost);  // CREATE a, b, c, fail, DROP c, DROP b: the 6th
  CHECK_THROWS_WITH(h.migrate(catalog_of({u})), "fake: connection lost");
  h.db.reconnect();
  const StepRecord& cut = h.db.state().attempts[0].steps[0];
  CHECK(cut.state == StepState::reverting);
  CHECK(cut.undo_done == 2);  // the failed statement's record and c's
  CHECK(h.db.state().objects == std::set<std::string>{"a", "b"});
  CHECK(h.migrate_fails(catalog_of({u})) == exit_update_failed);
  CHECK(h.db.state().attempts[0].state == UpdateState::failed);
  CHECK(h.ran("drop if exists c") == 2);  // once per attempt: the resumed revert did not run it again
  CHECK(h.db.state().objects.empty());
}

// ---------------------------------------------------------------- a commit in doubt

#include "installer/engine/commit_in_doubt.hpp"

TEST_CASE("commit in doubt: the verdict comes from the update's latest attempt") {
  auto attempt = [](long long id, const std::string& update, UpdateState state) {
    AttemptRecord a;
    a.attempt_id = id;
    a.update_id = update;
    a.state = state;
    return a;
  };
  CHECK(commit_in_doubt_verdict({}, "u2") == InDoubtVerdict::not_committed);
  CHECK(commit_in_doubt_verdict({attempt(1, "u1", UpdateState::applied)}, "u2") == InDoubtVerdict::not_committed);
  const std::pair<UpdateState, InDoubtVerdict> cases[] = {
      {UpdateState::applied, InDoubtVerdict::committed},
      {UpdateState::applying, InDoubtVerdict::reverting_committed},
      {UpdateState::reverting, InDoubtVerdict::reverting_committed},
      {UpdateState::revert_failed, InDoubtVerdict::revert_failed},
      {UpdateState::failed, InDoubtVerdict::not_committed},
      {UpdateState::removed, InDoubtVerdict::not_committed},
  };
  for (const auto& [state, verdict] : cases) {
    CAPTURE(to_string(state));
    // An older attempt of the same update does not count: only the latest does.
    std::vector<AttemptRecord> attempts{attempt(1, "u2", UpdateState::applied), attempt(2, "u1", UpdateState::applied),
                                        attempt(3, "u2", state)};
    CHECK(commit_in_doubt_verdict(attempts, "u2") == verdict);
  }
  CHECK(std::string(describe(InDoubtVerdict::committed)) == "went through: the update is applied");
  CHECK(std::string(describe(InDoubtVerdict::revert_failed)).find("tried again now") != std::string::npos);
}

TEST_CASE("commit in doubt: a session lost as the atomic update commits is reported for the next start to decide") {
  Harness h(true);
  h.migrate(catalog_of({base_update()}));
  h.db.fail_commit_at(1, DbFailure::in_doubt);
  try {
    h.migrate(catalog_of({base_update(), five_statement_update()}));
    FAIL("expected the commit to be in doubt");
  } catch (const CommitInDoubt& e) {
    CHECK(e.update_id() == "u2");
  }
  h.db.reconnect();
  CHECK(commit_in_doubt_verdict(h.db.state().attempts, "u2") == InDoubtVerdict::not_committed);
  CHECK(h.migrate(catalog_of({base_update(), five_statement_update()})).applied == std::vector<std::string>{"u2"});
  CHECK(commit_in_doubt_verdict(h.db.state().attempts, "u2") == InDoubtVerdict::committed);
}

// ---------------------------------------------------------------- one rule for a step whose statement was in flight

TEST_CASE("--remove-update of an attempt left unfinished reverts a statement that was in flight, as recovery does") {
  for (bool by_remove : {true, false}) {
    CAPTURE(by_remove);
    ExactHarness h;
    h.migrate(catalog_of({base_update()}));
    Fingerprint before = h.fingerprint();
    Update u = make_update("u2", "2", {{"001_x", "CREATE TABLE a; CREATE TABLE b", "drop b; drop a"}});
    // Writes: the attempt, the step, statement 1's undo; then "CREATE TABLE a" commits and
    // the session is lost at the progress write after it: the journal says no statement
    // is done, and holds no error.
    h.db.fail_journal_write_at(4);
    CHECK_THROWS_WITH_AS(h.migrate(catalog_of({base_update(), u})), "fake: connection lost at a journal write",
                         DbError);
    h.db.reconnect();
    REQUIRE(h.db.state().objects.count("a") == 1);
    const StepRecord& cut = h.db.state().attempts.back().steps[0];
    CHECK(cut.state == StepState::applying);
    CHECK(cut.statements_done == 0);
    CHECK(cut.error.empty());
    if (by_remove) {
      CHECK(h.remove("u2").find("removed update u2; schema verified") == 0);
      CHECK(h.last_attempt().state == UpdateState::removed);
    } else {
      CHECK(h.migrate(catalog_of({base_update()}), /*auto_remove=*/false).recovered == std::vector<std::string>{"u2"});
      CHECK(h.last_attempt().state == UpdateState::failed);
    }
    CHECK(h.last_attempt().steps[0].state == StepState::reverted);
    CHECK(h.fingerprint() == before);
  }
}

// ---------------------------------------------------------------- stop signals

TEST_CASE("stop signal: between an update's statements outside a transaction, what committed is reverted") {
  Harness h(false);
  std::atomic<int> stop{0};
  h.ctx.stop_signal = &stop;
  h.migrate(catalog_of({base_update()}));
  Fingerprint before = h.fingerprint();
  h.db.stop_at(2, stop, 15, /*cancel=*/false);  // "create a2" completes, then the stop is seen
  std::string message;
  CHECK(h.migrate_fails(catalog_of({base_update(), five_statement_update()}), &message) == ExitCode(128 + 15));
  CHECK(message.find("stopped by signal 15 during update u2 (step 002_b); what it had committed was reverted by its "
                     "down scripts; the schema was verified equal to its snapshot ") == 0);
  CHECK(h.fingerprint() == before);
  CHECK(h.last_attempt().state == UpdateState::failed);
  CHECK(h.last_attempt().steps[1].error.find("stopped by signal 15") != std::string::npos);
}

TEST_CASE("stop signal: a cancelled statement of an atomic update rolls the whole update back") {
  Harness h(true);
  std::atomic<int> stop{0};
  h.ctx.stop_signal = &stop;
  h.migrate(catalog_of({base_update()}));
  Fingerprint before = h.fingerprint();
  h.db.stop_at(3, stop, 2, /*cancel=*/true);  // "create b1" is cancelled
  std::string message;
  CHECK(h.migrate_fails(catalog_of({base_update(), five_statement_update()}), &message) == ExitCode(128 + 2));
  CHECK(message.find("stopped by signal 2 during update u2 (step 002_b); its transaction was rolled back; the schema "
                     "was verified") == 0);
  CHECK(h.fingerprint() == before);
  CHECK(h.last_attempt().state == UpdateState::failed);
  CHECK(h.last_attempt().steps[0].state == StepState::rolled_back);
}

TEST_CASE("stop signal: before an update starts, it is not started and those applied in the run are kept") {
  Harness h(true);
  std::atomic<int> stop{15};
  h.ctx.stop_signal = &stop;
  std::string message;
  CHECK(h.migrate_fails(catalog_of({base_update()}), &message) == ExitCode(128 + 15));
  CHECK(message == "stopped by signal 15 before update u1: it was not started; applied in this run and kept: none");
  CHECK(h.db.state().attempts.empty());
}

// ---------------------------------------------------------------- grouped downs

namespace {

/// The statements of the log from the first "drop", with the transactions around them.
std::vector<std::string> revert_log(const std::vector<std::string>& log, size_t from) {
  std::vector<std::string> out;
  for (size_t i = from; i < log.size(); ++i)
    if (log[i] == "BEGIN" || log[i] == "COMMIT" || log[i] == "ROLLBACK" || log[i].rfind("drop", 0) == 0)
      out.push_back(log[i]);
  return out;
}

}  // namespace

TEST_CASE("grouped downs: consecutive transactional downs revert in one transaction, others on their own") {
  Harness h(true);
  h.migrate(catalog_of({base_update(), five_statement_update(/*middle_transactional=*/false)}));
  size_t from = h.db.log().size();
  h.remove("u2");
  CHECK(revert_log(h.db.log(), from) == std::vector<std::string>{"BEGIN", "drop if exists c1", "COMMIT",
                                                                 "drop if exists b1", "BEGIN", "drop if exists a2",
                                                                 "drop if exists a1", "COMMIT"});
  CHECK(h.last_attempt().state == UpdateState::removed);
}

TEST_CASE("grouped downs: a failed down rolls back its whole group, journal rows included") {
  Harness h(true);
  Update u = make_update("u1", "1", {{"001_a", "create a1", "drop a1"}, {"002_b", "create b1", "drop b1; fail"}});
  h.migrate(catalog_of({u}));
  std::string message;
  try {
    h.remove("u1");
    FAIL("expected the revert to fail");
  } catch (const UserError& e) {
    CHECK(e.code() == exit_revert_failed);
    message = e.what();
  }
  CHECK(message.find("reverting update u1 failed at step 002_b, statement 2") == 0);
  CHECK(h.db.state().objects == std::set<std::string>{"a1", "b1"});  // b1's drop rolled back with the group
  CHECK(h.last_attempt().state == UpdateState::revert_failed);
  CHECK(h.last_attempt().steps[0].state == StepState::applied);
  CHECK(h.last_attempt().steps[1].state == StepState::applied);
}

TEST_CASE("batches: a step in a transaction sends its statements together; outside one, one at a time") {
  Harness together(true);
  together.migrate(catalog_of({make_update("u1", "1", {{"001_a", "create a1; create a2; create a3", "drop a1"}})}));
  CHECK(together.db.batches() == std::vector<size_t>{3});
  Harness apart(false);
  apart.migrate(catalog_of({make_update("u1", "1", {{"001_a", "create a1; create a2; create a3", "drop a1"}})}));
  CHECK(apart.db.batches() == std::vector<size_t>{1, 1, 1});
}

TEST_CASE("held-back writes: a session lost with them leaves the journal one statement behind, and the revert copes") {
  ExactHarness h;
  h.db.hold_back_writes();
  h.migrate(catalog_of({base_update()}));
  Fingerprint before = h.fingerprint();
  Update u = make_update("u2", "2",
                         {{"001_x", "CREATE TABLE a; CREATE TABLE b; CREATE TABLE c", "drop c; drop b; drop a"}});
  // "CREATE TABLE c" never reaches the server, nor the progress write and undo record
  // held back for its round trip: the journal says one statement done, though two are.
  h.db.fail_at(3, DbFailure::connection_lost);
  CHECK_THROWS_WITH_AS(h.migrate(catalog_of({base_update(), u})),
                       doctest::Contains("the database said: [08006] fake: connection lost"), StatementError);
  h.db.reconnect();
  const StepRecord& cut = h.db.state().attempts.back().steps[0];
  CHECK(cut.statements_done == 1);
  CHECK(cut.undo.size() == 2);
  CHECK(h.db.state().objects.count("b") == 1);
  CHECK(h.migrate(catalog_of({base_update()})).recovered == std::vector<std::string>{"u2"});
  CHECK(h.ran("drop if exists b") == 1);  // the statement one past the journal's count is undone too
  CHECK(h.fingerprint() == before);
}

// ---------------------------------------------------------------- snapshots of long runs

namespace {
/// Updates 1..count, each creating tN; `leaky`'s down also forgets its tNextra.
std::vector<Update> numbered_updates(int count, int leaky) {
  std::vector<Update> out;
  for (int n = 1; n <= count; ++n) {
    std::string t = "t" + std::to_string(n);
    std::string up = "create " + t + (n == leaky ? "; create " + t + "extra" : "");
    out.push_back(make_update(std::to_string(n), std::to_string(n), {{"001_t", up, "drop " + t}}));
  }
  return out;
}
}  // namespace

TEST_CASE("removing a long run names a down's leftover at its own update, not at the run's first") {
  Harness h(true);
  h.migrate(catalog_of(numbered_updates(30, 12)));
  std::string message;
  CHECK(h.migrate_fails(catalog_of(numbered_updates(5, 0)), &message) == exit_data);  // refused without the flag
  try {
    h.migrate(catalog_of(numbered_updates(5, 0)), /*auto_remove=*/true);
    FAIL("expected the revert of update 12 to fail");
  } catch (const UserError& e) {
    CHECK(e.code() == exit_revert_failed);
    message = e.what();
  }
  CHECK(message.find("update 12") != std::string::npos);
  CHECK(message.find("table t12extra: present, was absent") != std::string::npos);
  auto latest = [&](const std::string& id) {
    const AttemptRecord* last = nullptr;
    for (const auto& a : h.db.state().attempts)
      if (a.update_id == id) last = &a;
    return last->state;
  };
  for (int n = 13; n <= 30; ++n) CHECK(latest(std::to_string(n)) == UpdateState::removed);
  CHECK(latest("12") == UpdateState::revert_failed);
  for (int n = 1; n <= 11; ++n) CHECK(latest(std::to_string(n)) == UpdateState::applied);
}

TEST_CASE("a failure that no snapshot can verify exits 79, never 70") {
  Harness h(false);
  MigrateOptions options;
  options.fingerprint_limit = 1;
  auto updates = numbered_updates(4, 0);
  updates[1] = make_update("2", "2", {{"001_t", "create t2; fail", "drop if exists t2"}});
  try {
    Migrator(h.ctx, catalog_of(updates)).migrate(options);
    FAIL("expected update 2 to fail");
  } catch (const UserError& e) {
    CHECK(e.code() == exit_revert_failed);
    CHECK(std::string(e.what()).find("the schema was NOT compared") != std::string::npos);
  }
  CHECK(h.db.state().objects == std::set<std::string>{"t1"});
}
