// The installer binary as an operator uses it: commands, exit codes, messages, the
// lock between processes, and no password anywhere in what it prints.
#include "db_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>

using namespace installer;
using namespace installer::testing;
using nlohmann::json;

namespace {

std::map<std::string, std::string> env_for(const ScratchDatabase& db, std::string updates = {}) {
  if (updates.empty()) updates = source_dir() + "/migrations";
  return {{"INSTALLER_DB_URL", db.url()}, {"INSTALLER_UPDATES", updates}};
}

std::string password_of(const std::string& url) { return parse_connection_url(url).password; }

void check_no_password(const RunResult& r, const std::string& url) {
  std::string password = password_of(url);
  REQUIRE(password.size() >= 3);
  CHECK(r.all().find(password) == std::string::npos);
}

/// A URL for the engine under test with the given parts.
std::string url_for(const std::string& userinfo, const std::string& host, int port, const std::string& database) {
  return fmt::format("{}://{}@{}:{}/{}", url_scheme(), userinfo, host, port, database);
}

}  // namespace

TEST_CASE("migrate, status, plan, history and --remove-update on the example product") {
  ScratchDatabase db;
  auto env = env_for(db);

  RunResult plan = run_installer({"plan", "--json"}, env);
  REQUIRE(plan.exit_code == 0);
  json p = json::parse(plan.out);
  REQUIRE(p["pending"].size() == 3);
  CHECK(p["pending"][0]["id"] == "2024.01.0");
  CHECK(p["pending"][2]["steps"][2]["transaction"] == false);

  RunResult migrate = run_installer({"migrate"}, env);
  INFO(migrate.err);
  REQUIRE(migrate.exit_code == 0);
  CHECK(migrate.err.find("applied 3 updates") != std::string::npos);
  check_no_password(migrate, db.url());

  RunResult again = run_installer({"migrate"}, env);
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("nothing to do") != std::string::npos);

  RunResult status = run_installer({"status", "--json"}, env);
  REQUIRE(status.exit_code == 0);
  json s = json::parse(status.out);
  CHECK(s["summary"]["applied"] == 3);
  CHECK(s["summary"]["pending"] == 0);
  CHECK(s["schema"]["matches_journal"] == true);
  CHECK(s["database"].get<std::string>().find(":***@") != std::string::npos);
  check_no_password(status, db.url());

  RunResult text = run_installer({"status"}, env);
  CHECK(text.out.find("3 applied, 0 pending") != std::string::npos);
  CHECK(text.out.find("as recorded after the last update") != std::string::npos);
  check_no_password(text, db.url());

  RunResult refused = run_installer({"--remove-update", "2024.02.0"}, env);
  CHECK(refused.exit_code == 65);
  CHECK(refused.err.find("applied update 2024.03.0 requires it") != std::string::npos);
  CHECK(refused.err.find("installer --remove-update 2024.03.0") != std::string::npos);

  RunResult dry = run_installer({"--remove-update", "2024.03.0", "--dry-run"}, env);
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find(by_engine("DROP INDEX CONCURRENTLY IF EXISTS products_name_idx",
                               "DROP INDEX IF EXISTS products_name_idx ON products")) != std::string::npos);
  CHECK(dry.out.find("(dry run: nothing was changed)") != std::string::npos);
  CHECK(db.column_exists("users", "order_count"));
  CHECK(db.index_exists("products", "products_name_idx"));

  RunResult removed = run_installer({"--remove-update", "2024.03.0"}, env);
  INFO(removed.err);
  CHECK(removed.exit_code == 0);
  CHECK(removed.out.find("verified") != std::string::npos);
  CHECK_FALSE(db.column_exists("users", "order_count"));
  CHECK_FALSE(db.index_exists("products", "products_name_idx"));
  CHECK(db.table_exists("orders"));

  RunResult history = run_installer({"history", "--json"}, env);
  REQUIRE(history.exit_code == 0);
  json h = json::parse(history.out);
  REQUIRE(h.size() == 3);
  CHECK(h[2]["state"] == "removed");
  CHECK(h[2]["reason"] == "remove-update");

  RunResult status_after = run_installer({"status", "--json"}, env);
  json s2 = json::parse(status_after.out);
  CHECK(s2["summary"]["pending"] == 1);
  CHECK(s2["schema"]["matches_journal"] == true);
}

TEST_CASE("the demo's broken update fails, is reverted and verified, exit 70") {
  ScratchDatabase db;
  auto env = env_for(db);
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  RunResult status_before = run_installer({"status", "--json"}, env);
  std::string fingerprint_before = json::parse(status_before.out)["schema"]["fingerprint"];

  env["INSTALLER_UPDATES"] += ":" + source_dir() + "/demo/updates-failing";
  RunResult failed = run_installer({"migrate"}, env);
  CHECK(failed.exit_code == 70);
  CHECK(failed.err.find("update 2024.04.0 failed at step 003_coupon_usage, statement 2") != std::string::npos);
  CHECK(failed.err.find("003_coupon_usage." + engine_word() + ".up.sql:") != std::string::npos);
  CHECK(failed.err.find("[" + sqlstate("42P01", "1146/42S02") + "]") != std::string::npos);
  CHECK(failed.err.find("verified equal to its snapshot ") != std::string::npos);
  CHECK(failed.err.find("nothing needs repair") != std::string::npos);
  // How it was undone: one transaction rolled back on PostgreSQL, where no down script
  // runs; on MariaDB the two committed steps and the index of the third reverted by
  // their down scripts, newest first.
  auto steps = journal_steps(db, db.latest_attempt("2024.04.0"));
  if (on_postgres()) {
    CHECK(failed.err.find("its transaction was rolled back") != std::string::npos);
    CHECK(failed.err.find("reverted 2024.04.0 step") == std::string::npos);
    // The two steps that ran are journaled as rolled back, the failing one as failed.
    REQUIRE(steps.size() == 3);
    CHECK(steps[0].state == "rolled_back");
    CHECK(steps[1].state == "rolled_back");
    CHECK(steps[2].state == "failed");
    CHECK(steps[2].statements_done == 1);
  } else {
    CHECK(failed.err.find("was reverted from the journal, newest first") != std::string::npos);
    auto third = failed.err.find("reverted 2024.04.0 step 003_coupon_usage");
    auto second = failed.err.find("reverted 2024.04.0 step 002_orders_coupon_id");
    auto first = failed.err.find("reverted 2024.04.0 step 001_create_coupons");
    CHECK(third < second);
    CHECK(second < first);
    CHECK(first != std::string::npos);
    REQUIRE(steps.size() == 3);
    for (const auto& step : steps) CHECK(step.state == "reverted");
    CHECK(steps[2].statements_done == 1);  // the index, before the failing view
  }
  RunResult status_after = run_installer({"status", "--json"}, env);
  CHECK(json::parse(status_after.out)["schema"]["fingerprint"] == fingerprint_before);
  CHECK_FALSE(db.table_exists("coupons"));
  CHECK_FALSE(db.column_exists("orders", "coupon_id"));
  CHECK(db.journal_attempts("failed", "2024.04.0") == 1);
}

TEST_CASE("downgrade guard: an older image refuses, names the updates and the command; auto-remove removes") {
  ScratchDatabase db;
  REQUIRE(run_installer({"migrate"}, env_for(db)).exit_code == 0);
  UpdateTree older;
  older.write("2024.01.0/001_placeholder.up.sql", "SELECT 1;\n");
  older.write("2024.01.0/001_placeholder.down.sql", "SELECT 1;\n");
  // An image that only has the first update: copy it as it is.
  const std::string e = engine_word();
  for (const std::string& f :
       {"001_create_users." + e + ".up.sql", "001_create_users." + e + ".down.sql",
        "002_create_products." + e + ".up.sql", "002_create_products." + e + ".down.sql", std::string("update.toml")}) {
    std::ifstream in(source_dir() + "/migrations/2024.01.0/" + f);
    REQUIRE(in.good());
    std::stringstream b;
    b << in.rdbuf();
    older.write("2024.01.0/" + f, b.str());
  }
  older.remove("2024.01.0/001_placeholder.up.sql");
  older.remove("2024.01.0/001_placeholder.down.sql");
  auto env = env_for(db, older.root().string());

  RunResult guard = run_installer({"migrate"}, env);
  CHECK(guard.exit_code == 65);
  CHECK(guard.err.find("2024.03.0") != std::string::npos);
  CHECK(guard.err.find("installer --remove-update 2024.03.0\n  installer --remove-update 2024.02.0") !=
        std::string::npos);
  CHECK(db.table_exists("orders"));
  CHECK(db.journal_attempts("applied") == 3);

  RunResult guard_run = run_installer({"--", "true"}, env);
  CHECK(guard_run.exit_code == 65);  // the application is not started

  env["INSTALLER_AUTO_REMOVE_UNKNOWN"] = "true";
  RunResult removed = run_installer({"migrate"}, env);
  INFO(removed.err);
  CHECK(removed.exit_code == 0);
  CHECK_FALSE(db.table_exists("orders"));
  CHECK_FALSE(db.column_exists("users", "order_count"));
  CHECK(db.table_exists("users"));
  CHECK(db.count("SELECT count(*) FROM " + journal("updates") + " WHERE reason = 'auto-remove-unknown'") == 2);
}

TEST_CASE("an applied update whose step file changed on disk is refused, naming the file") {
  ScratchDatabase db;
  UpdateTree tree;
  tree.write("1/001_a.up.sql", "CREATE TABLE a (id int);\n");
  tree.write("1/001_a.down.sql", "DROP TABLE IF EXISTS a;\n");
  auto env = env_for(db, tree.root().string());
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  tree.write("1/001_a.up.sql", "CREATE TABLE a (id bigint);\n");
  RunResult r = run_installer({"migrate"}, env);
  CHECK(r.exit_code == 65);
  CHECK(r.err.find((tree.root() / "1/001_a.up.sql").string()) != std::string::npos);
  CHECK(r.err.find("changed since update 1 was applied") != std::string::npos);
  RunResult status = run_installer({"status"}, env);
  CHECK(status.out.find("changed after it was applied") != std::string::npos);
}

TEST_CASE("invalid update files: exit 65, the file and line named, the database untouched") {
  struct Case {
    const char* what;
    std::vector<std::pair<std::string, std::string>> files;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"invalid TOML",
       {{"1/update.toml", "version = \"1\"\nrequires = [\n"},
        {"1/001_a.up.sql", "SELECT 1;"},
        {"1/001_a.down.sql", "SELECT 1;"}},
       "update.toml:2: invalid TOML"},
      {"unknown key",
       {{"1/update.toml", "version = \"1\"\nautor = \"x\"\n"},
        {"1/001_a.up.sql", "SELECT 1;"},
        {"1/001_a.down.sql", "SELECT 1;"}},
       "update.toml:2: unknown key 'autor'"},
      {"missing down", {{"1/001_a.up.sql", "SELECT 1;"}}, "001_a.up.sql: step '001_a' has no down script"},
      {"duplicate version",
       {{"1/001_a.up.sql", "SELECT 1;"},
        {"1/001_a.down.sql", "SELECT 1;"},
        {"b/update.toml", "version = \"1.0\"\n"},
        {"b/001_a.up.sql", "SELECT 2;"},
        {"b/001_a.down.sql", "SELECT 1;"}},
       "duplicate version"},
      {"unsatisfiable requires",
       {{"1/update.toml", "requires = \"0.9\"\n"}, {"1/001_a.up.sql", "SELECT 1;"}, {"1/001_a.down.sql", "SELECT 1;"}},
       "requires '0.9', which is in none of the update directories"},
      {"transaction control",
       {{"1/001_a.up.sql", "SELECT 1;\nCOMMIT;\n"}, {"1/001_a.down.sql", "SELECT 1;"}},
       "001_a.up.sql:2: 'COMMIT' controls the transaction"},
      {"unterminated string",
       {{"1/001_a.up.sql", "SELECT 1;\nSELECT 'oops;\n"}, {"1/001_a.down.sql", "SELECT 1;"}},
       "001_a.up.sql:2: unterminated string"},
      {"transaction control in a down script",
       {{"1/001_a.up.sql", "SELECT 1;"}, {"1/001_a.down.sql", "SELECT 1;\nROLLBACK;\n"}},
       "001_a.down.sql:2: 'ROLLBACK' controls the transaction"},
  };
  // What only one engine refuses.
  if (on_postgres())
    cases.push_back({"concurrently in a transaction",
                     {{"1/001_a.up.sql", "CREATE INDEX CONCURRENTLY i ON t (c);\n"}, {"1/001_a.down.sql", "SELECT 1;"}},
                     "transaction = false"});
  else
    cases.push_back({"autocommit switched off",
                     {{"1/001_a.mariadb.up.sql", "CREATE TABLE t (c int);\nSET autocommit = 0;\n"},
                      {"1/001_a.down.sql", "DROP TABLE IF EXISTS t;"}},
                     "001_a.mariadb.up.sql:2: SET autocommit would hold back the commits"});
  for (const auto& c : cases) {
    std::string what = c.what;
    CAPTURE(what);
    ScratchDatabase db;
    UpdateTree tree;
    for (const auto& [path, text] : c.files) tree.write(path, text);
    RunResult r = run_installer({"migrate"}, env_for(db, tree.root().string()));
    CHECK(r.exit_code == 65);
    CHECK(r.err.find(c.expected) != std::string::npos);
    CHECK(r.err.find("nothing was changed in the database") != std::string::npos);
    CHECK_FALSE(db.journal_exists());
    CHECK(db.objects().empty());
  }
}

// A start reads the journal while the files are read, and splits and lints only the
// updates that will run: the refusal still comes before anything changes.
TEST_CASE("an invalid update after applied ones: exit 65, the file and line named, the database untouched") {
  ScratchDatabase db;
  UpdateTree tree;
  tree.write("1/001_a.up.sql", "CREATE TABLE a (id int);\n");
  tree.write("1/001_a.down.sql", "DROP TABLE IF EXISTS a;\n");
  auto env = env_for(db, tree.root().string());
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  const std::set<std::string> objects = db.objects();
  const long attempts = db.journal_attempts();
  tree.write("2/001_b.up.sql", "CREATE TABLE b (id int);\nSELECT 'oops;\n");
  tree.write("2/001_b.down.sql", "DROP TABLE IF EXISTS b;\n");
  tree.write("3/001_c.up.sql", "CREATE TABLE c (id int);\nCOMMIT;\n");
  tree.write("3/001_c.down.sql", "DROP TABLE IF EXISTS c;\n");
  for (const char* command : {"migrate", "run"}) {
    CAPTURE(command);
    std::vector<std::string> args = {command};
    if (std::string(command) == "run") args.insert(args.end(), {"--", "/bin/true"});
    RunResult r = run_installer(args, env);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find((tree.root() / "2/001_b.up.sql").string() + ":2: unterminated string") != std::string::npos);
    CHECK(r.err.find((tree.root() / "3/001_c.up.sql").string() + ":2: 'COMMIT' controls the transaction") !=
          std::string::npos);
    CHECK(r.err.find("nothing was changed in the database") != std::string::npos);
    CHECK(db.objects() == objects);
    CHECK(db.journal_attempts() == attempts);
  }
  // Fixed, they run: the first start's refusal left nothing half-read behind.
  tree.write("2/001_b.up.sql", "CREATE TABLE b (id int);\n");
  tree.write("3/001_c.up.sql", "CREATE TABLE c (id int);\n");
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  CHECK(db.table_exists("b"));
  CHECK(db.table_exists("c"));
  CHECK(db.journal_attempts("applied") == 3);
}

TEST_CASE("two installers: the second waits for the lock, bounded, and exits 75 on timeout") {
  ScratchDatabase db;
  auto env = env_for(db);
  auto holder = db.connect();
  REQUIRE(holder->acquire_lock("journal:installer", std::chrono::milliseconds(0)));
  // The holder as the waiter names it: PostgreSQL's backend process, MariaDB's connection.
  std::string holder_id = *holder->query(by_engine("SELECT pg_backend_pid()", "SELECT CONNECTION_ID()"))[0][0];

  auto started = std::chrono::steady_clock::now();
  RunResult timed_out = run_installer({"migrate", "--lock-timeout", "1s"}, env);
  auto waited = std::chrono::steady_clock::now() - started;
  CHECK(timed_out.exit_code == 75);
  CHECK(timed_out.err.find("lock timeout (1.0s)") != std::string::npos);
  CHECK(timed_out.err.find(by_engine("held by server process ", "held by connection ") + holder_id + " (") !=
        std::string::npos);
  // PostgreSQL also names the holder's application (our session opened it as the installer does).
  if (on_postgres()) CHECK(timed_out.err.find("installer " INSTALLER_VERSION " on ") != std::string::npos);
  CHECK(waited >= std::chrono::milliseconds(900));
  CHECK_FALSE(db.journal_exists());

  // The lock is waited for while the update directories are read (cli/early_connection.hpp):
  // refused updates end the run at once, not when the lock wait would have.
  UpdateTree refused;
  refused.write("1/001_orphan.up.sql", "CREATE TABLE orphan (id int);\n");  // no down script
  started = std::chrono::steady_clock::now();
  RunResult bad = run_installer({"migrate", "--lock-timeout", "60s"}, env_for(db, refused.root().string()));
  auto refused_after = std::chrono::steady_clock::now() - started;
  INFO(bad.err);
  CHECK(bad.exit_code == 65);
  CHECK(bad.err.find("001_orphan.up.sql") != std::string::npos);
  CHECK(refused_after < std::chrono::seconds(10));
  CHECK_FALSE(db.journal_exists());

  // A waiter proceeds as soon as the holder lets go, and finds the work to do.
  Background waiter({"migrate", "--lock-timeout", "60s"}, env);
  bool waiting = wait_until([&] { return waiter.err_so_far().find("waiting up to") != std::string::npos; },
                            std::chrono::seconds(20));
  REQUIRE(waiting);
  holder->release_lock("journal:installer");
  RunResult done = waiter.wait();
  INFO(done.err);
  CHECK(done.exit_code == 0);
  CHECK(done.err.find("waiting up to") != std::string::npos);
  CHECK(db.journal_attempts("applied") == 3);

  // Two at once: one applies, the other then finds nothing to do.
  ScratchDatabase db2;
  auto env2 = env_for(db2);
  Background a({"migrate"}, env2), b({"migrate"}, env2);
  RunResult ra = a.wait(), rb = b.wait();
  CHECK(ra.exit_code == 0);
  CHECK(rb.exit_code == 0);
  CHECK(db2.journal_attempts() == 3);
  CHECK(db2.journal_attempts("applied") == 3);
  CHECK((ra.err.find("nothing to do") != std::string::npos) != (rb.err.find("nothing to do") != std::string::npos));
}

TEST_CASE("connection failures: refused credentials exit 77, no server exits 69, no password printed") {
  ScratchDatabase db;
  ConnectionSpec spec = parse_connection_url(db.url());
  std::string wrong = url_for(spec.user + ":Wrong-Secret-123", spec.host, spec.effective_port(), spec.database);
  RunResult refused = run_installer({"status"}, {{"INSTALLER_DB_URL", wrong}});
  CHECK(refused.exit_code == 77);
  CHECK(refused.all().find("Wrong-Secret-123") == std::string::npos);
  CHECK(refused.err.find(":***@") != std::string::npos);

  RunResult unreachable = run_installer({"status", "--connect-timeout", "2s"},
                                        {{"INSTALLER_DB_URL", url_for("u:Hidden-Pass-456", "127.0.0.1", 1, "x")}});
  CHECK(unreachable.exit_code == 69);
  CHECK(unreachable.all().find("Hidden-Pass-456") == std::string::npos);

  // The password from a file, the rest from the URL.
  UpdateTree files;
  files.write("password", spec.password + "\n");
  RunResult from_file = run_installer({"status"},
                                      {{"INSTALLER_DB_URL",
                                        url_for(spec.user, spec.host, spec.effective_port(), spec.database)},
                                       {"INSTALLER_DB_PASSWORD_FILE", (files.root() / "password").string()}});
  CHECK(from_file.exit_code == 0);
  check_no_password(from_file, db.url());
}

TEST_CASE("command line: usage errors exit 64, the application runs after --") {
  ScratchDatabase db;
  auto env = env_for(db);
  CHECK(run_installer({"--no-such-option"}, env).exit_code == 64);
  CHECK(run_installer({"--dry-run", "migrate"}, env).exit_code == 64);
  CHECK(run_installer({}, env).exit_code == 64);
  RunResult help = run_installer({"--help"}, env);
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--remove-update") != std::string::npos);
  RunResult version = run_installer({"--version"}, env);
  CHECK(version.out.find(INSTALLER_VERSION) != std::string::npos);

  RunResult app = run_installer({"--", "sh", "-c", "exit 7"}, env);
  CHECK(app.exit_code == 7);
  CHECK(db.journal_attempts("applied") == 3);
  CHECK(run_installer({"run", "--", "/no/such/program"}, env).exit_code == 127);

  CHECK(run_installer({"migrate"}, {{"INSTALLER_DB_URL", db.url()}}).exit_code == 65);  // no update directory
  CHECK(run_installer({"migrate"}, {{"INSTALLER_UPDATES", "/x"}}).exit_code == 78);     // no database
  CHECK(run_installer({"migrate"}, {{"INSTALLER_DB_URL", "oracle://x"}}).exit_code == 78);
}
