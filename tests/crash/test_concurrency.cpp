// Replicas starting together (docs/engines.md: "Replicas starting together take turns
// through the lock"): sixteen installers at once against one database, and a lock holder
// killed in the middle of an update while another waits for the lock. Both engines.
#include "crash_support.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <memory>

using namespace installer;
using namespace installer::testing;
using namespace installer::crash;

namespace {

struct CrowdResult {
  int ok = 0, applied_first = 0, applied_second = 0, nothing_to_do = 0, waited = 0, created = 0;
  std::map<int, int> exits;  ///< exit code -> processes
  long long ms = 0;
  std::string logs;  ///< of the processes that did not exit 0
};

/// Starts `n` installers with `args` and `env` at once and waits for all of them.
CrowdResult crowd(int n, const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  CrowdResult c;
  auto started = Clock::now();
  std::vector<std::unique_ptr<Background>> processes;
  for (int i = 0; i < n; ++i) processes.push_back(std::make_unique<Background>(args, env));
  for (size_t i = 0; i < processes.size(); ++i) {
    RunResult r = processes[i]->wait(std::chrono::seconds(120));
    c.ok += r.exit_code == 0;
    ++c.exits[r.exit_code];
    c.applied_first += r.err.find("applied update 1.0 in") != std::string::npos;
    c.applied_second += r.err.find("applied update 2.0 in") != std::string::npos;
    c.nothing_to_do += r.err.find("nothing to do") != std::string::npos;
    c.waited += r.err.find("another installer holds the migration lock; waiting") != std::string::npos;
    c.created += r.err.find("created database") != std::string::npos;
    if (r.exit_code != 0) c.logs += fmt::format("--- process {} exited {}:\n{}", i, r.exit_code, r.err);
  }
  c.ms = ms_since(started);
  return c;
}

std::string exits_text(const std::map<int, int>& exits) {
  std::string out;
  for (const auto& [code, n] : exits) out += fmt::format("{}{}x exit {}", out.empty() ? "" : ", ", n, code);
  return out;
}

int rounds() {
  const char* v = std::getenv("INSTALLER_CRASH_ROUNDS");
  int n = v && *v ? std::atoi(v) : 0;
  return n > 0 ? n : 2;
}

}  // namespace

TEST_CASE("16 installers started together: one applies each update, the others wait and find nothing to do") {
  constexpr int kProcesses = 16;
  for (int round = 1; round <= rounds(); ++round) {
    CAPTURE(round);
    // A fresh database each round; step 003 starts with a 0.5 s statement, so the others
    // are still starting, or already waiting, while the first one applies.
    ScratchDatabase db;
    UpdateTree tree;
    UpdateShape shape;
    shape.slow_seconds = 0.5;
    write_updates(tree, shape);
    auto env = crash_env_for(db, tree);

    CrowdResult c = crowd(kProcesses, {"migrate", "--lock-timeout", "120s"}, env);
    INFO(c.logs);
    CHECK(c.ok == kProcesses);
    CHECK(c.applied_first == 1);
    CHECK(c.applied_second == 1);
    CHECK(c.nothing_to_do == kProcesses - 1);
    CHECK(c.waited >= 1);
    // The journal: one attempt per update, both applied, no duplicate rows.
    CHECK(db.journal_attempts() == 2);
    auto problems = journal_problems(db, {"1.0", "2.0"}, {{"1.0", 1}, {"2.0", 4}});
    CHECK_MESSAGE(problems.empty(), join_lines(problems));
    CHECK(db.count("SELECT count(*) FROM " + journal("steps")) == 5);
    std::cerr << fmt::format("[{}] 16 installers, round {}: {}, 1.0 applied by {}, 2.0 by {}, {} found nothing to do, "
                             "{} waited for the lock, {} ms\n",
                             engine_label(), round, exits_text(c.exits), c.applied_first, c.applied_second,
                             c.nothing_to_do, c.waited, c.ms);
    report({{"kind", "concurrency"},
            {"engine", engine_label()},
            {"round", round},
            {"processes", kProcesses},
            {"exit_0", c.ok},
            {"exits", exits_text(c.exits)},
            {"applied_1_0_by", c.applied_first},
            {"applied_2_0_by", c.applied_second},
            {"nothing_to_do", c.nothing_to_do},
            {"waited_for_lock", c.waited},
            {"journal_consistent", problems.empty()},
            {"attempts", db.journal_attempts()},
            {"ms", c.ms},
            {"ok", c.ok == kProcesses && c.applied_first == 1 && c.applied_second == 1 &&
                       c.nothing_to_do == kProcesses - 1 && problems.empty()}});
  }
}

TEST_CASE("a lock holder killed in the middle of an update: the waiting installer takes over, recovers and applies") {
  // Step 003 starts with a 2 s statement (outside the transaction on PostgreSQL, so the
  // attempt is journaled applying and there is something to recover).
  UpdateShape shape;
  shape.slow_seconds = 2;
  Bench bench(shape);
  Background holder({"migrate"}, bench.env());
  REQUIRE(wait_until([&] { return !sleeping_session(bench.db()).empty(); }, std::chrono::seconds(20)));
  Background waiter({"migrate", "--lock-timeout", "120s"}, bench.env());
  REQUIRE(wait_until(
      [&] {
        return waiter.err_so_far().find("another installer holds the migration lock; waiting") != std::string::npos;
      },
      std::chrono::seconds(20)));
  ::kill(holder.pid(), SIGKILL);
  auto killed = Clock::now();
  RunResult h = holder.wait();
  CHECK(h.exit_code == 137);

  // The server ends the dead holder's session once its statement finishes (at most the
  // 2 s of the slow statement), which releases the lock.
  bool took_over = wait_until([&] { return waiter.err_so_far().find("was left applying") != std::string::npos; },
                              std::chrono::seconds(10));
  long long takeover_ms = ms_since(killed);
  CHECK(took_over);
  CHECK(takeover_ms < 6000);
  RunResult w = waiter.wait(std::chrono::seconds(60));
  long long done_ms = ms_since(killed);
  INFO(w.err);
  CHECK(w.exit_code == 0);
  CHECK(w.err.find("recovered: update 2.0 reverted, schema verified") != std::string::npos);
  CHECK(w.err.find("applied update 2.0 in") != std::string::npos);
  auto problems = bench.journal_problems_with(true);
  CHECK_MESSAGE(problems.empty(), join_lines(problems));
  std::string label = bench.label(fingerprint(bench.db()));
  CHECK(label == "after");
  std::cerr << fmt::format("[{}] lock holder killed: the waiter took over after {} ms and was done after {} ms\n",
                           engine_label(), takeover_ms, done_ms);
  report({{"kind", "lock-holder-killed"},
          {"engine", engine_label()},
          {"holder_exit", h.exit_code},
          {"waiter_exit", w.exit_code},
          {"takeover_ms", takeover_ms},
          {"done_ms", done_ms},
          {"fingerprint", label},
          {"recovered", took_over && w.exit_code == 0 && problems.empty() && label == "after"}});
}

namespace {

/// Sixteen installers against a database that does not exist yet, with the
/// administrator's URL to create it (--db-admin-url): a cold start of a replica set.
void crowd_creates_database() {
  constexpr int kProcesses = 16;
  UpdateTree tree;
  write_updates(tree, UpdateShape{});
  for (int round = 1; round <= rounds() + 1; ++round) {
    CAPTURE(round);
    ScratchDatabase db;  // reserves a name and drops it at the end
    open_database(admin_session_url_for_tests())->execute("DROP DATABASE " + db.name());
    auto env = crash_env_for(db, tree);
    env["INSTALLER_DB_ADMIN_URL"] = server().admin_url;
    CrowdResult c = crowd(kProcesses, {"migrate", "--lock-timeout", "120s"}, env);
    INFO(c.logs);
    CHECK(c.ok == kProcesses);
    CHECK(c.applied_first == 1);
    CHECK(c.applied_second == 1);
    CHECK(c.nothing_to_do == kProcesses - 1);
    // At least one says it created the database. (On MariaDB two replicas may both say so:
    // each saw it missing, and CREATE DATABASE IF NOT EXISTS does not tell who made it.)
    CHECK(c.created >= 1);
    auto problems = journal_problems(db, {"1.0", "2.0"}, {{"1.0", 1}, {"2.0", 4}});
    CHECK_MESSAGE(problems.empty(), join_lines(problems));
    std::cerr << fmt::format("[{}] 16 installers creating the database, round {}: {}; created by {}, {} ms\n",
                             engine_label(), round, exits_text(c.exits), c.created, c.ms);
    report({{"kind", "concurrency-create-database"},
            {"engine", engine_label()},
            {"round", round},
            {"processes", kProcesses},
            {"exit_0", c.ok},
            {"exits", exits_text(c.exits)},
            {"created_by", c.created},
            {"applied_2_0_by", c.applied_second},
            {"ok", c.ok == kProcesses && c.applied_second == 1 && c.created >= 1 && problems.empty()}});
  }
}

}  // namespace

TEST_CASE("16 installers started together against a missing database (--db-admin-url): created once, applied once") {
  // PostgreSQL: a CREATE DATABASE racing another fails with 23505 on
  // pg_database_datname_index (or 55006, template1 busy); until 3225eba that ended the
  // losers with exit 71.
  crowd_creates_database();
}
