// A database that is not there yet (docs/cli.md, --wait-timeout): migrate waits with
// back-off, logs at most one line every 5 s, and gives up with exit 69 and the last error;
// refused credentials end it at once with 77; a database that appears while it waits is
// used as soon as it answers; refused update directories end it at once with 65. No
// password in anything it prints. Both engines.
#include "crash_support.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <sstream>

using namespace installer;
using namespace installer::testing;
using namespace installer::crash;

namespace {

/// The milliseconds since the epoch of a log line's timestamp (2026-11-22T02:28:51.656Z).
long long line_time_ms(const std::string& line) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(line.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long long>(timegm(&tm)) * 1000 + ms;
}

std::vector<long long> times_of_lines(const std::string& text, const std::string& needle) {
  std::vector<long long> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) out.push_back(line_time_ms(line));
  return out;
}

const char* const kHiddenPassword = "Hidden-Pass-8472";

std::string unreachable_url(int port) {
  return fmt::format("{}://app:{}@127.0.0.1:{}/shop", url_scheme(), kHiddenPassword, port);
}

}  // namespace

TEST_CASE("an unreachable database: migrate waits up to --wait-timeout, logs at most every 5 s, exits 69") {
  UpdateTree tree;
  write_updates(tree, UpdateShape{});
  for (int timeout : {3, 7}) {
    CAPTURE(timeout);
    int port = closed_port();
    auto t0 = Clock::now();
    auto env = sanitizer_env();
    env["INSTALLER_DB_URL"] = unreachable_url(port);
    env["INSTALLER_UPDATES"] = tree.root().string();
    RunResult r = run_installer({"migrate", "--wait-timeout", fmt::format("{}s", timeout)}, env,
                                std::chrono::seconds(60));
    long long elapsed = ms_since(t0);
    INFO(r.err);
    CHECK(r.exit_code == 69);
    CHECK(elapsed >= timeout * 1000 - 100);
    CHECK(elapsed < timeout * 1000 + 2500);
    auto lines = times_of_lines(r.err, "waiting for the database");
    // One line at once, then at most one every 5 s: 1 line in 3 s; in 7 s a second one
    // (the attempt at 6.3 s, after the back-off's 0.1 s doubling) unless the machine is so
    // slow that it comes after the deadline.
    CHECK(!lines.empty());
    CHECK(lines.size() <= (timeout < 5 ? 1u : 2u));
    for (size_t i = 1; i < lines.size(); ++i) CHECK(lines[i] - lines[i - 1] >= 5000);
    CHECK(r.err.find("did not answer within the wait timeout") != std::string::npos);
    CHECK(r.err.find("last error: cannot connect to") != std::string::npos);
    CHECK(r.err.find(":***@127.0.0.1:" + std::to_string(port)) != std::string::npos);
    CHECK(r.all().find(kHiddenPassword) == std::string::npos);
    report({{"kind", "wait"},
            {"engine", engine_label()},
            {"what", fmt::format("closed port, --wait-timeout {}s", timeout)},
            {"exit", r.exit_code},
            {"ms", elapsed},
            {"log_lines", lines.size()},
            {"ok", r.exit_code == 69 && r.all().find(kHiddenPassword) == std::string::npos}});
  }
}

// The connection is opened while the update directories are read (cli/early_connection.hpp):
// refused updates end the run at once, and the wait for a server that does not answer
// ends with it instead of running out its timeout.
TEST_CASE("refused update directories exit 65 at once while the database does not answer") {
  UpdateTree tree;
  write_updates(tree, UpdateShape{});
  tree.write("3.0/001_orphan.up.sql", "CREATE TABLE orphan (id int);\n");  // no down script
  int port = closed_port();
  auto t0 = Clock::now();
  auto env = sanitizer_env();
  env["INSTALLER_DB_URL"] = unreachable_url(port);
  env["INSTALLER_UPDATES"] = tree.root().string();
  RunResult r = run_installer({"migrate", "--wait-timeout", "60s"}, env, std::chrono::seconds(60));
  long long elapsed = ms_since(t0);
  INFO(r.err);
  CHECK(r.exit_code == 65);
  CHECK(elapsed < 5000);
  CHECK(r.err.find("001_orphan.up.sql") != std::string::npos);
  CHECK(r.err.find("has no down script") != std::string::npos);
  CHECK(r.err.find("did not answer within the wait timeout") == std::string::npos);
  CHECK(r.all().find(kHiddenPassword) == std::string::npos);
  report({{"kind", "wait"},
          {"engine", engine_label()},
          {"what", "refused updates, closed port, --wait-timeout 60s"},
          {"exit", r.exit_code},
          {"ms", elapsed},
          {"ok", r.exit_code == 65 && elapsed < 5000}});
}

TEST_CASE("refused credentials exit 77 at once, well within the wait timeout") {
  ScratchDatabase db;
  UpdateTree tree;
  write_updates(tree, UpdateShape{});
  ConnectionSpec spec = parse_connection_url(db.url());
  const std::string wrong = "Wrong-Secret-5521";
  std::string url = fmt::format("{}://{}:{}@{}:{}/{}", url_scheme(), spec.user, wrong, spec.host, spec.effective_port(),
                                spec.database);
  auto t0 = Clock::now();
  auto env = sanitizer_env();
  env["INSTALLER_DB_URL"] = url;
  env["INSTALLER_UPDATES"] = tree.root().string();
  RunResult r = run_installer({"migrate", "--wait-timeout", "60s"}, env);
  long long elapsed = ms_since(t0);
  INFO(r.err);
  CHECK(r.exit_code == 77);
  CHECK(elapsed < 5000);
  CHECK(r.err.find("waiting for the database") == std::string::npos);
  CHECK(r.all().find(wrong) == std::string::npos);
  CHECK_FALSE(db.journal_exists());
  report({{"kind", "wait"},
          {"engine", engine_label()},
          {"what", "wrong password, --wait-timeout 60s"},
          {"exit", r.exit_code},
          {"ms", elapsed},
          {"ok", r.exit_code == 77 && elapsed < 5000}});
}

TEST_CASE("a database that appears while migrate waits is used as soon as it answers") {
  Bench bench(UpdateShape{});
  int port = closed_port();
  auto env = bench.env();
  env["INSTALLER_DB_URL"] = url_via(bench.db(), port);
  Background installer({"migrate", "--wait-timeout", "60s"}, env);
  REQUIRE(wait_until([&] { return installer.err_so_far().find("waiting for the database") != std::string::npos; },
                     std::chrono::seconds(20)));
  ConnectionSpec spec = parse_connection_url(bench.db().url());
  // The "server" comes up: a proxy to the real one, on the port the installer tries.
  auto t0 = Clock::now();
  TcpProxy proxy(spec.host == "localhost" ? "127.0.0.1" : spec.host, spec.effective_port(), port);
  RunResult r = installer.wait(std::chrono::seconds(60));
  long long after_up = ms_since(t0);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("the database answered after") != std::string::npos);
  CHECK(after_up < 10000);  // the back-off never sleeps more than 5 s
  auto problems = bench.journal_problems_with(true);
  CHECK_MESSAGE(problems.empty(), join_lines(problems));
  CHECK(bench.label(fingerprint(bench.db())) == "after");
  report({{"kind", "wait"},
          {"engine", engine_label()},
          {"what", "database appears while migrate waits"},
          {"exit", r.exit_code},
          {"ms", after_up},
          {"ok", r.exit_code == 0 && problems.empty()}});
}
