// Lost sessions, lost replies, commits in doubt, a second crash during recovery, a
// killed --remove-update and (when allowed) a restarted PostgreSQL server: each ends in
// the right state without anyone repairing anything, on both engines.
//
// Sessions are killed from outside (pg_terminate_backend, KILL CONNECTION) while the
// installer runs a slow statement; replies are lost through a TCP proxy that lets a
// statement reach the server, waits for the answer and then cuts the connection, so the
// server ran it and the installer cannot know: the "statement in flight" and "commit in
// doubt" cases of docs/engines.md, including a commit that did go through.
#include "crash_support.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <glob.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>

using namespace installer;
using namespace installer::testing;
using namespace installer::crash;

namespace {

std::vector<UpdateShape> shapes_for_engine() {
  std::vector<UpdateShape> shapes{UpdateShape{}};
  if (on_postgres()) {
    UpdateShape atomic;
    atomic.atomic = true;
    shapes.push_back(atomic);
  }
  return shapes;
}

std::string path_name(const UpdateShape& shape) {
  if (!on_postgres()) return "statement-by-statement";
  return shape.atomic ? "atomic" : "non-atomic";
}

/// Checks the end state where 2.0 is applied (or not); returns the failures.
std::vector<std::string> end_state_failures(Bench& bench, bool applied) {
  std::vector<std::string> failures;
  for (const auto& p : bench.journal_problems_with(applied)) failures.push_back("journal: " + p);
  std::string label = bench.label(fingerprint(bench.db()));
  std::string expected = applied ? "after" : "before";
  if (label != expected) failures.push_back(fmt::format("fingerprint is {}, expected {}", label, expected));
  if (bench.db().objects() != (applied ? bench.objects_after() : bench.objects_before()))
    failures.push_back("the inventory of objects differs from the expected one");
  return failures;
}

TcpProxy proxy_for(const ScratchDatabase& db) {
  ConnectionSpec spec = parse_connection_url(db.url());
  return TcpProxy(spec.host == "localhost" ? "127.0.0.1" : spec.host, spec.effective_port());
}

}  // namespace

TEST_CASE("a session killed from outside while a statement runs: the installer reconnects and applies in one run") {
  for (UpdateShape shape : shapes_for_engine()) {
    shape.slow_seconds = 1;
    CAPTURE(path_name(shape));
    Bench bench(shape);
    Background installer({"migrate"}, bench.env());
    std::string session;
    REQUIRE(wait_until([&] { return !(session = sleeping_session(bench.db())).empty(); }, std::chrono::seconds(20)));
    auto killed = Clock::now();
    kill_session(bench.db(), session);
    RunResult r = installer.wait(std::chrono::seconds(60));
    long long finished_ms = ms_since(killed);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("lost the database session") != std::string::npos);
    auto failures = end_state_failures(bench, true);
    CHECK_MESSAGE(failures.empty(), join_lines(failures));
    report({{"kind", "session-killed"},
            {"engine", engine_label()},
            {"path", path_name(shape)},
            {"what", "session killed from outside during step 003's first statement"},
            {"exit", r.exit_code},
            {"recovered", r.exit_code == 0 && failures.empty()},
            {"ms_after_kill", finished_ms}});
  }
}

TEST_CASE("the reply to each statement of the update is lost after the server ran it: one run ends applied") {
  auto started = Clock::now();
  int tried = 0, recovered = 0;
  for (const UpdateShape& shape : shapes_for_engine()) {
    Bench bench(shape);
    TcpProxy proxy = proxy_for(bench.db());
    for (const auto& step : bench.steps()) {
      // ctest: the first and the last statement of each step; the full sweep: all.
      for (size_t n = 0; n < step.up.size(); ++n) {
        if (!full_sweep() && n != 0 && n + 1 != step.up.size()) continue;
        ++tried;
        const std::string& statement = step.up[n];
        CAPTURE(statement);
        proxy.cut_after_reply("", statement);
        // The URL is made for each run: after a failure bench.build() makes a new database.
        RunResult r = run_installer({"migrate"},
                                    with(bench.env(), "INSTALLER_DB_URL", url_via(bench.db(), proxy.port())));
        std::vector<std::string> failures;
        if (r.exit_code != 0) failures.push_back(fmt::format("exit {}, expected 0", r.exit_code));
        if (!proxy.cut_done()) failures.push_back("the proxy never saw the statement");
        if (r.err.find("reconnecting") == std::string::npos) failures.push_back("the installer did not reconnect");
        for (const auto& f : end_state_failures(bench, true)) failures.push_back(f);
        RunResult reset = run_installer({"--remove-update", "2.0"}, bench.env());
        if (reset.exit_code != 0) failures.push_back("reset failed: " + reset.err);
        bench.compact();
        bool ok = failures.empty();
        if (ok) ++recovered;
        report({{"kind", "reply-lost"},
                {"engine", engine_label()},
                {"path", path_name(shape)},
                {"step", step.name},
                {"point", fmt::format("statement={}", n + 1)},
                {"exit", r.exit_code},
                {"recovered", ok},
                {"failures", failures}});
        if (!ok) {
          INFO(join_lines(failures), "--- run:\n", r.err);
          CHECK(ok);
          bench.build();
        }
      }
    }
  }
  std::cerr << fmt::format("[{}] reply lost after a statement ran: {} points tried, {} recovered ({} ms)\n",
                           engine_label(), tried, recovered, ms_since(started));
  CHECK(tried > 0);
  CHECK(recovered == tried);
}

TEST_CASE("PostgreSQL: a COMMIT that went through while its reply was lost is read back from the journal" *
          doctest::test_suite(kPostgresOnly)) {
  struct Case {
    bool atomic;
    std::string after;      ///< the COMMIT that follows this statement
    bool update_committed;  ///< whether that COMMIT made the whole update applied
  };
  // Atomic: the update's one COMMIT. Non-atomic: the COMMIT of steps 001-002, and the
  // COMMIT of step 004 (the last: every step then is in the database, but the attempt's
  // state is written after it).
  std::vector<Case> cases{{true, "CREATE VIEW open_invoices", true},
                          {false, "CREATE INDEX invoices_customer_idx", false},
                          {false, "CREATE VIEW open_invoices", false}};
  for (const auto& c : cases) {
    UpdateShape shape;
    shape.atomic = c.atomic;
    CAPTURE(path_name(shape));
    CAPTURE(c.after);
    Bench bench(shape);
    TcpProxy proxy = proxy_for(bench.db());
    auto env = with(bench.env(), "INSTALLER_DB_URL", url_via(bench.db(), proxy.port()));
    long attempts_before = bench.db().journal_attempts("", "2.0");
    proxy.cut_after_reply(c.after, "COMMIT");
    RunResult r = run_installer({"migrate"}, env);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    REQUIRE(proxy.cut_done());
    CHECK(r.err.find("the connection broke while the commit of update 2.0 was in flight") != std::string::npos);
    auto failures = end_state_failures(bench, true);
    CHECK_MESSAGE(failures.empty(), join_lines(failures));
    long new_attempts = bench.db().journal_attempts("", "2.0") - attempts_before;
    if (c.update_committed) {
      CHECK(r.err.find("the journal says the commit of update 2.0 went through") != std::string::npos);
      CHECK(new_attempts == 1);  // applied once, never reverted and applied again
    } else {
      // The attempt was journaled before; what the COMMIT carried (steps 001-002, or
      // 004) did reach the database, and recovery reverted it before applying again.
      CHECK(new_attempts == 2);
      long long in_doubt = bench.db().latest_attempt("2.0") - 1;
      auto steps = journal_steps(bench.db(), in_doubt);
      bool committed_steps = false;
      for (const auto& s : steps) committed_steps |= s.state == "reverted";
      CHECK(committed_steps);
    }
    report({{"kind", "commit-in-doubt"},
            {"engine", engine_label()},
            {"path", path_name(shape)},
            {"what", "COMMIT after \"" + c.after + "\" ran, its reply lost"},
            {"exit", r.exit_code},
            {"recovered", r.exit_code == 0 && failures.empty()}});
  }
}

TEST_CASE("the session lost on every pass: exit 69 after three passes, and the next start recovers") {
  Bench bench(UpdateShape{});
  TcpProxy proxy = proxy_for(bench.db());
  auto env = with(bench.env(), "INSTALLER_DB_URL", url_via(bench.db(), proxy.port()));
  proxy.cut_after_reply("", "ALTER TABLE accounts ADD COLUMN tier int NOT NULL DEFAULT 0", /*repeat=*/true);
  RunResult r = run_installer({"migrate"}, env);
  INFO(r.err);
  CHECK(r.exit_code == 69);
  CHECK(proxy.cuts() == 3);
  CHECK(count_lines(r.err, "lost the database session") >= 2);
  RunResult restart = run_installer({"migrate"}, bench.env());
  INFO(restart.err);
  CHECK(restart.exit_code == 0);
  CHECK(restart.err.find("was left applying") != std::string::npos);
  auto failures = end_state_failures(bench, true);
  CHECK_MESSAGE(failures.empty(), join_lines(failures));
  report({{"kind", "session-lost-thrice"},
          {"engine", engine_label()},
          {"exit", r.exit_code},
          {"restart_exit", restart.exit_code},
          {"recovered", restart.exit_code == 0 && failures.empty()}});
}

TEST_CASE("a second kill during the recovery of the first: the start after that still recovers") {
  // First kill: after steps 001-002 committed, so the recovery has them to revert. Second
  // kill: in that recovery's revert. Then one plain start.
  struct Combo {
    std::string first, second;
  };
  std::vector<Combo> combos;
  for (const char* first : {"apply:2.0:003_account_columns:statement=2:kill", "apply:2.0:004_open_invoices:after:kill"})
    for (const char* second : {"revert:2.0:001_customers:statement=1:kill", "revert:2.0:002_invoices:after:kill",
                               "revert:2.0:003_account_columns:before:kill-session"})
      if (full_sweep() || combos.size() < 3) combos.push_back({first, second});
  Bench bench(UpdateShape{});
  int recovered = 0;
  for (const auto& c : combos) {
    CAPTURE(c.first);
    CAPTURE(c.second);
    std::vector<std::string> failures;
    RunResult first = run_installer({"migrate"}, with(bench.env(), "INSTALLER_TEST_FAULT", c.first));
    if (first.exit_code != 137) failures.push_back(fmt::format("first run exited {}, expected 137", first.exit_code));
    bool second_kills = c.second.substr(c.second.size() - 5) == ":kill";
    RunResult second = run_installer({"migrate"}, with(bench.env(), "INSTALLER_TEST_FAULT", c.second));
    int second_expected = second_kills ? 137 : 0;
    if (second.exit_code != second_expected)
      failures.push_back(fmt::format("second run exited {}, expected {}", second.exit_code, second_expected));
    if (second.err.find("test fault injection") == std::string::npos)
      failures.push_back("the second fault did not fire");
    RunResult third = run_installer({"migrate"}, bench.env());
    if (third.exit_code != 0) failures.push_back(fmt::format("third run exited {}, expected 0", third.exit_code));
    if (second_kills && third.err.find("was left reverting") == std::string::npos)
      failures.push_back("the third run did not find the recovery's revert unfinished");
    for (const auto& f : end_state_failures(bench, true)) failures.push_back(f);
    RunResult reset = run_installer({"--remove-update", "2.0"}, bench.env());
    if (reset.exit_code != 0) failures.push_back("reset failed: " + reset.err);
    bench.compact();
    bool ok = failures.empty();
    recovered += ok;
    report({{"kind", "double-fault"},
            {"engine", engine_label()},
            {"first", c.first},
            {"second", c.second},
            {"recovered", ok},
            {"failures", failures}});
    if (!ok) {
      INFO(join_lines(failures), "--- first:\n", first.err, "--- second:\n", second.err, "--- third:\n", third.err);
      CHECK(ok);
      bench.build();
    }
  }
  CHECK(recovered == static_cast<int>(combos.size()));
}

TEST_CASE("--remove-update killed while a down statement runs: running it again resumes, or the next start recovers") {
  UpdateShape shape;
  shape.slow_down_seconds = 1;
  Bench bench(shape);
  // Step 003's down: DROP INDEX, the slow statement, DROP COLUMN tier, DROP COLUMN phone.
  for (bool again_with_remove : {true, false}) {
    CAPTURE(again_with_remove);
    REQUIRE(run_installer({"migrate"}, bench.env()).exit_code == 0);
    long long attempt = bench.db().latest_attempt("2.0");
    Background remover({"--remove-update", "2.0"}, bench.env());
    REQUIRE(wait_until([&] { return !sleeping_session(bench.db()).empty(); }, std::chrono::seconds(20)));
    ::kill(remover.pid(), SIGKILL);
    RunResult killed = remover.wait();
    CHECK(killed.exit_code == 137);
    CHECK(bench.db().attempt_field(attempt, "state") == "reverting");
    RunResult again = again_with_remove ? run_installer({"--remove-update", "2.0"}, bench.env())
                                        : run_installer({"migrate"}, bench.env());
    INFO(again.out, again.err);
    CHECK(again.exit_code == 0);
    std::vector<std::string> failures = end_state_failures(bench, !again_with_remove);
    CHECK_MESSAGE(failures.empty(), join_lines(failures));
    if (again_with_remove) {
      CHECK(again.out.find("removed update 2.0; schema verified") != std::string::npos);
      CHECK(bench.db().attempt_field(attempt, "state") == "removed");
    } else {
      CHECK(again.err.find("was left reverting") != std::string::npos);
      CHECK(bench.db().attempt_field(attempt, "state") != "reverting");
    }
    // The resumed revert started at the statement where the kill stopped it: the journal
    // shows every down statement of step 003 done exactly once (4), not 4 plus a rerun.
    for (const auto& s : journal_steps(bench.db(), attempt)) {
      if (s.name == "003_account_columns") {
        CHECK(s.down_statements_done == 4);
      }
    }
    report({{"kind", "remove-update-killed"},
            {"engine", engine_label()},
            {"then", again_with_remove ? "--remove-update again" : "migrate"},
            {"exit", again.exit_code},
            {"recovered", again.exit_code == 0 && failures.empty()}});
    if (!again_with_remove) REQUIRE(run_installer({"--remove-update", "2.0"}, bench.env()).exit_code == 0);
    bench.compact();
  }
}

namespace {

/// The data directory of a PostgreSQL server this test run may restart: set by
/// scripts/reliability.sh for the server it started itself, never for shared servers.
const char* restartable_pg_dir() {
  const char* dir = std::getenv("INSTALLER_TEST_PG_RESTART_DIR");
  return dir && *dir ? dir : nullptr;
}

std::string pg_ctl() {
  glob_t g{};
  std::string found;
  if (glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, nullptr, &g) == 0 && g.gl_pathc > 0)
    found = g.gl_pathv[g.gl_pathc - 1];
  globfree(&g);
  return found;
}

}  // namespace

TEST_CASE("PostgreSQL restarted in the middle of an update: the installer waits, reconnects and recovers" *
          doctest::test_suite(kPostgresOnly) * doctest::skip(restartable_pg_dir() == nullptr)) {
  std::string dir = restartable_pg_dir();
  std::string ctl = pg_ctl();
  REQUIRE(!ctl.empty());
  UpdateShape shape;
  shape.slow_seconds = 2;
  Bench bench(shape);
  Background installer({"migrate", "--wait-timeout", "60s"}, bench.env());
  REQUIRE(wait_until([&] { return !sleeping_session(bench.db()).empty(); }, std::chrono::seconds(20)));
  auto t0 = Clock::now();
  std::string command = fmt::format("runuser -u postgres -- {} -D {}/data -l {}/server.log -m fast -w -t 60 restart "
                                    ">/dev/null 2>&1",
                                    ctl, dir, dir);
  REQUIRE(std::system(command.c_str()) == 0);
  long long restart_ms = ms_since(t0);
  RunResult r = installer.wait(std::chrono::seconds(90));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("lost the database session") != std::string::npos);
  CHECK(r.err.find("was left applying") != std::string::npos);
  auto failures = end_state_failures(bench, true);
  CHECK_MESSAGE(failures.empty(), join_lines(failures));
  report({{"kind", "server-restart"},
          {"engine", engine_label()},
          {"restart_ms", restart_ms},
          {"waited", r.err.find("waiting for the database") != std::string::npos},
          {"exit", r.exit_code},
          {"recovered", r.exit_code == 0 && failures.empty()}});
}

TEST_CASE("a connection lost between the journal's CREATE TABLE statements: the same run creates the rest") {
  // SqlJournal::ensure() creates journal_format, updates and steps one statement at a
  // time, each committing on its own. A first start that dies or loses its connection in
  // between must not leave a journal that no later start can use (fixed in 7193fc1: it
  // used to skip all of them once `updates` existed, and every start then failed, exit 71).
  ScratchDatabase db;
  UpdateTree tree;
  write_updates(tree, UpdateShape{});
  TcpProxy proxy = proxy_for(db);
  auto env = crash_env_for(db, tree, url_via(db, proxy.port()));
  proxy.cut_after_reply("",
                        by_engine("update_id text NOT NULL, version text", "update_id VARCHAR(255) NOT NULL, version"));
  RunResult first = run_installer({"migrate"}, env);
  REQUIRE(proxy.cut_done());
  RunResult again = run_installer({"migrate"}, crash_env_for(db, tree));
  INFO("--- the run whose connection broke:\n", first.err, "--- the next start:\n", again.err);
  CHECK(first.exit_code == 0);  // it reconnects and runs again
  CHECK(again.exit_code == 0);
  CHECK(db.journal_exists());
  auto problems = journal_problems(db, {"1.0", "2.0"}, {{"1.0", 1}, {"2.0", 4}});
  CHECK_MESSAGE(problems.empty(), join_lines(problems));
  report({{"kind", "journal-creation-cut"},
          {"engine", engine_label()},
          {"exit", first.exit_code},
          {"restart_exit", again.exit_code},
          {"recovered", first.exit_code == 0 && again.exit_code == 0 && problems.empty()}});
}

TEST_CASE("PostgreSQL: after a commit in doubt the log does not say nothing of the update is in the database while "
          "parts of it are" *
          doctest::test_suite(kPostgresOnly)) {
  // migrate_once() (installer/cli/commands.cpp) reads the update's latest attempt after a
  // commit in doubt. For a non-atomic update that attempt is `applying` whether or not the
  // COMMIT of a group of steps went through, and earlier groups committed anyway; a COMMIT
  // of a revert is reported as the commit of the update too. (Until 3225eba it said
  // "nothing of it is in the database" in both cases.)
  const std::string wrong = "nothing of the update is in the database";
  SUBCASE("the COMMIT of steps 001-002 of a non-atomic update went through, its reply lost") {
    Bench bench(UpdateShape{});
    TcpProxy proxy = proxy_for(bench.db());
    proxy.cut_after_reply("CREATE INDEX invoices_customer_idx", "COMMIT");
    RunResult r = run_installer({"migrate"}, with(bench.env(), "INSTALLER_DB_URL", url_via(bench.db(), proxy.port())));
    REQUIRE(proxy.cut_done());
    REQUIRE(r.exit_code == 0);
    INFO(r.err);
    CHECK(r.err.find("the journal says the commit of update 2.0") != std::string::npos);
    CHECK(r.err.find(wrong) == std::string::npos);
  }
  SUBCASE("the COMMIT of a revert in doubt: steps 001-002 are still in the database") {
    UpdateShape shape;
    shape.failing = true;
    Bench bench(shape);
    RunResult r = run_installer({"migrate"}, with(bench.env(), "INSTALLER_TEST_FAULT",
                                                  "revert:2.0:001_customers:commit:kill-session"));
    REQUIRE(r.exit_code == 70);
    INFO(r.err);
    CHECK(r.err.find("the journal says the commit of update 2.0") != std::string::npos);
    CHECK(r.err.find(wrong) == std::string::npos);
  }
}
