#include "crash_support.hpp"
#include "installer/journal/journal_tables.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace installer::crash {

using namespace installer::testing;

const char* const kFailingStatement = "CREATE INDEX it_never_idx ON it_no_such_table (id)";

namespace {

std::string script(const std::vector<std::string>& statements) {
  std::string out;
  for (const auto& s : statements) out += s + ";\n";
  return out;
}

void write_update(UpdateTree& tree, const std::string& id, const std::string& requires_id,
                  const std::vector<StepDef>& steps) {
  std::string manifest = requires_id.empty() ? "" : fmt::format("requires = \"{}\"\n", requires_id);
  for (const auto& s : steps) {
    tree.write(id + "/" + s.name + ".up.sql", script(s.up));
    tree.write(id + "/" + s.name + ".down.sql", script(s.down));
    if (!s.transactional) manifest += fmt::format("[steps.{}]\ntransaction = false\n", s.name);
  }
  if (!manifest.empty()) tree.write(id + "/update.toml", manifest);
}

}  // namespace

std::vector<StepDef> base_steps() {
  return {{"001_accounts",
           {"CREATE TABLE accounts (id int PRIMARY KEY, name varchar(100) NOT NULL)",
            "INSERT INTO accounts (id, name) VALUES (1, 'ada')"},
           {"DROP TABLE IF EXISTS accounts"}}};
}

std::vector<StepDef> update_steps(const UpdateShape& shape) {
  const bool pg = on_postgres();
  const bool outside = pg && !shape.atomic;  // step 003 outside the transaction
  std::vector<StepDef> steps;
  steps.push_back({"001_customers",
                   {"CREATE TABLE customers (id int PRIMARY KEY, email varchar(200) NOT NULL)",
                    "CREATE TABLE customer_notes (id int PRIMARY KEY, customer_id int NOT NULL, note varchar(200))",
                    "CREATE INDEX customer_notes_customer_idx ON customer_notes (customer_id)"},
                   {"DROP TABLE IF EXISTS customer_notes", "DROP TABLE IF EXISTS customers"}});
  steps.push_back({"002_invoices",
                   {"CREATE TABLE invoices (id int PRIMARY KEY, customer_id int NOT NULL, total_cents int NOT NULL)",
                    "CREATE INDEX invoices_customer_idx ON invoices (customer_id)"},
                   {"DROP TABLE IF EXISTS invoices"}});
  StepDef accounts{
      "003_account_columns",
      {"ALTER TABLE accounts ADD COLUMN phone varchar(40)",
       "ALTER TABLE accounts ADD COLUMN tier int NOT NULL DEFAULT 0",
       outside ? "CREATE INDEX CONCURRENTLY accounts_tier_idx ON accounts (tier)"
               : "CREATE INDEX accounts_tier_idx ON accounts (tier)"},
      {pg ? (outside ? "DROP INDEX CONCURRENTLY IF EXISTS accounts_tier_idx" : "DROP INDEX IF EXISTS accounts_tier_idx")
          : "DROP INDEX IF EXISTS accounts_tier_idx ON accounts",
       "ALTER TABLE accounts DROP COLUMN IF EXISTS tier", "ALTER TABLE accounts DROP COLUMN IF EXISTS phone"},
      !outside};
  if (shape.slow_seconds > 0)
    accounts.up.insert(accounts.up.begin(), pg ? fmt::format("SELECT pg_sleep({})", shape.slow_seconds)
                                               : fmt::format("DO SLEEP({})", shape.slow_seconds));
  if (shape.slow_down_seconds > 0)
    accounts.down.insert(accounts.down.begin() + 1, pg ? fmt::format("SELECT pg_sleep({})", shape.slow_down_seconds)
                                                       : fmt::format("DO SLEEP({})", shape.slow_down_seconds));
  steps.push_back(accounts);
  steps.push_back({"004_open_invoices",
                   {"ALTER TABLE invoices ADD COLUMN paid_cents int NOT NULL DEFAULT 0",
                    "CREATE VIEW open_invoices AS SELECT id, customer_id, total_cents - paid_cents AS due_cents "
                    "FROM invoices WHERE paid_cents < total_cents"},
                   {"DROP VIEW IF EXISTS open_invoices", "ALTER TABLE invoices DROP COLUMN IF EXISTS paid_cents"}});
  if (shape.failing)
    steps.push_back({"005_broken",
                     {"CREATE TABLE broken_marker (id int PRIMARY KEY)", kFailingStatement},
                     {"DROP TABLE IF EXISTS broken_marker"}});
  return steps;
}

void write_updates(UpdateTree& tree, const UpdateShape& shape) {
  write_update(tree, "1.0", "", base_steps());
  write_update(tree, "2.0", "1.0", update_steps(shape));
}

// ---------------------------------------------------------------- the bench

Bench::Bench(UpdateShape shape) : shape_(shape) {
  write_updates(tree_, shape_);
  write_updates(base_only_, shape_);
  base_only_.remove("2.0");
  steps_ = update_steps(shape_);
  build();
}

void Bench::build() {
  db_.reset();
  db_ = std::make_unique<ScratchDatabase>();
  env_ = crash_env_for(*db_, tree_);
  RunResult base = run_installer({"migrate"}, crash_env_for(*db_, base_only_));
  REQUIRE_MESSAGE(base.exit_code == 0, base.err);
  fp_before_ = status_fingerprint(env_);
  REQUIRE(fp_before_ == fingerprint(*db_));
  objects_before_ = db_->objects();
  RunResult full = run_installer({"migrate"}, env_);
  if (shape_.failing) {
    REQUIRE_MESSAGE(full.exit_code == 70, full.err);
    REQUIRE(fingerprint(*db_) == fp_before_);
    fp_after_.clear();
  } else {
    REQUIRE_MESSAGE(full.exit_code == 0, full.err);
    fp_after_ = status_fingerprint(env_);
    REQUIRE(fp_after_ != fp_before_);
    REQUIRE(fp_after_ == fingerprint(*db_));
    objects_after_ = db_->objects();
    RunResult removed = run_installer({"--remove-update", "2.0"}, env_);
    REQUIRE_MESSAGE(removed.exit_code == 0, removed.err);
    REQUIRE(fingerprint(*db_) == fp_before_);
  }
}

void Bench::compact() {
  if (!on_postgres()) db_->execute("ALTER TABLE accounts FORCE");
}

std::vector<StepDef> Bench::reverted_after_failure() const {
  std::vector<StepDef> out;
  size_t failing = steps_.size() - 1;
  size_t group_start = failing;
  if (on_postgres())
    while (group_start > 0 && steps_[group_start - 1].transactional) --group_start;
  else group_start = failing + 1;  // 005_broken's first statement committed
  for (size_t i = 0; i < group_start; ++i) out.push_back(steps_[i]);
  if (group_start == failing + 1) out.back().undone = {1};
  std::reverse(out.begin(), out.end());
  return out;
}

std::string Bench::label(const std::string& fp) const {
  if (!fp_after_.empty() && fp == fp_after_) return "after";
  if (fp == fp_before_) return "before";
  return "neither";
}

std::vector<std::string> Bench::journal_problems_with(bool update_applied) const {
  std::set<std::string> applied{"1.0"};
  if (update_applied) applied.insert("2.0");
  return journal_problems(*db_, applied, {{"1.0", 1}, {"2.0", static_cast<int>(steps_.size())}});
}

// ---------------------------------------------------------------- kill points

namespace {

void step_points(std::vector<KillPoint>& out, const std::string& phase, const StepDef& step,
                 const std::vector<std::string>& statements, const std::string& action) {
  out.push_back({phase, "2.0", step.name, "before", action});
  if (phase == "revert" && !step.undone.empty()) {
    for (int n : step.undone) out.push_back({phase, "2.0", step.name, fmt::format("undo={}", n), action});
  } else {
    for (size_t n = 1; n <= statements.size(); ++n)
      out.push_back({phase, "2.0", step.name, fmt::format("statement={}", n), action});
  }
  out.push_back({phase, "2.0", step.name, "after", action});
}

/// Adds the points of `steps` in the order given, with a commit point after each run of
/// consecutive transactional steps on PostgreSQL.
std::vector<KillPoint> points(const std::vector<StepDef>& steps, const std::string& phase, bool downs,
                              const std::string& action) {
  std::vector<KillPoint> out;
  for (size_t i = 0; i < steps.size(); ++i) {
    step_points(out, phase, steps[i], downs ? steps[i].down : steps[i].up, action);
    bool group_ends = i + 1 == steps.size() || !steps[i + 1].transactional;
    if (on_postgres() && steps[i].transactional && group_ends)
      out.push_back({phase, "2.0", steps[i].name, "commit", action});
  }
  return out;
}

}  // namespace

std::vector<KillPoint> apply_points(const std::vector<StepDef>& steps, const std::string& action) {
  return points(steps, "apply", false, action);
}

std::vector<KillPoint> revert_points(const std::vector<StepDef>& reverted, const std::string& action) {
  return points(reverted, "revert", true, action);
}

// ---------------------------------------------------------------- checks

std::string fingerprint(const ScratchDatabase& db) { return schema_snapshot(*db.connect(), "installer").digest(); }

std::string status_fingerprint(const std::map<std::string, std::string>& env) {
  RunResult r = run_installer({"status", "--json"}, env);
  if (r.exit_code != 0) throw std::runtime_error("installer status failed: " + r.err);
  return nlohmann::json::parse(r.out)["schema"]["fingerprint"].get<std::string>();
}

std::vector<std::string> journal_problems(const ScratchDatabase& db, const std::set<std::string>& applied,
                                          const std::map<std::string, int>& steps_of) {
  std::vector<std::string> problems;
  const std::string updates = journal("updates"), steps = journal("steps");
  for (const auto& r : db.query("SELECT attempt_id, update_id, state FROM " + updates +
                                " WHERE state IN ('applying', 'reverting', 'revert_failed')"))
    problems.push_back(fmt::format("attempt {} of {} is left {}", *r[0], *r[1], *r[2]));

  std::set<std::string> ids;
  for (const auto& r : db.query("SELECT DISTINCT update_id FROM " + updates)) ids.insert(*r[0]);
  for (const auto& id : applied) ids.insert(id);
  for (const auto& id : ids) {
    long n = db.journal_attempts("applied", id);
    bool should = applied.count(id) > 0;
    if (!should) {
      if (n != 0) problems.push_back(fmt::format("update {} has {} applied attempt(s), expected none", id, n));
      continue;
    }
    if (n != 1) {
      problems.push_back(fmt::format("update {} has {} applied attempts, expected exactly one", id, n));
      continue;
    }
    long long latest = db.latest_attempt(id);
    std::string state = db.attempt_field(latest, "state");
    if (state != "applied") problems.push_back(fmt::format("the latest attempt of {} ({}) is {}", id, latest, state));
    auto it = steps_of.find(id);
    auto rows = journal_steps(db, latest);
    if (it != steps_of.end() && static_cast<int>(rows.size()) != it->second)
      problems.push_back(
          fmt::format("applied attempt {} of {} has {} step rows, expected {}", latest, id, rows.size(), it->second));
    for (const auto& s : rows)
      if (s.state != "applied" || s.statements_done != s.statements_total)
        problems.push_back(fmt::format("step {} of applied attempt {} is {} with {}/{} statements", s.name, latest,
                                       s.state, s.statements_done, s.statements_total));
  }

  for (const auto& r : db.query(fmt::format("SELECT attempt_id, position, count(*) FROM {} GROUP BY attempt_id, "
                                            "position HAVING count(*) > 1",
                                            steps)))
    problems.push_back(fmt::format("attempt {} has {} step rows at position {}", *r[0], *r[2], *r[1]));
  for (const auto& r : db.query(fmt::format("SELECT s.attempt_id, s.name FROM {} s WHERE NOT EXISTS (SELECT 1 FROM {} "
                                            "u WHERE u.attempt_id = s.attempt_id)",
                                            steps, updates)))
    problems.push_back(fmt::format("step row {} of attempt {} has no attempt", *r[1], *r[0]));
  for (const auto& r : db.query(fmt::format(
           "SELECT u.attempt_id, u.state, s.name, s.state FROM {} u JOIN {} s ON s.attempt_id = u.attempt_id "
           "WHERE u.state IN ('failed', 'removed') AND s.state IN ('applying', 'applied', 'reverting')",
           updates, steps)))
    problems.push_back(fmt::format("step {} of {} attempt {} is still {}", *r[2], *r[1], *r[0], *r[3]));
  long formats = db.count("SELECT count(*) FROM " + journal("journal_format"));
  if (formats != 1) problems.push_back(fmt::format("journal_format has {} rows, expected 1", formats));
  return problems;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

int count_lines(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

std::string sleeping_session(const ScratchDatabase& db) {
  auto rows = db.query(
      by_engine("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
                "AND query LIKE 'SELECT pg_sleep%'",
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'DO SLEEP%'"));
  return rows.empty() ? "" : rows[0][0].value_or("");
}

void kill_session(const ScratchDatabase& db, const std::string& id) {
  if (on_postgres()) db.query("SELECT pg_terminate_backend(" + id + ")");
  else db.execute("KILL CONNECTION " + id);
}

// ---------------------------------------------------------------- report

std::string engine_label() { return engine_word(); }

void report(const nlohmann::json& line) {
  static std::mutex mutex;
  const char* path = std::getenv("INSTALLER_RELIABILITY_REPORT");
  if (!path || !*path) return;
  std::lock_guard<std::mutex> lock(mutex);
  std::ofstream(path, std::ios::app) << line.dump() << "\n";
}

// ---------------------------------------------------------------- environment

bool full_sweep() {
  const char* v = std::getenv("INSTALLER_CRASH_FULL");
  return v && *v && std::string(v) != "0";
}

std::map<std::string, std::string> sanitizer_env() {
  std::map<std::string, std::string> env;
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS"})
    if (const char* v = std::getenv(name)) env[name] = v;
  env["LSAN_OPTIONS"] = "suppressions=" + source_dir() + "/tests/crash/lsan.supp:print_suppressions=0";
  return env;
}

std::map<std::string, std::string> crash_env_for(const ScratchDatabase& db, const UpdateTree& tree,
                                                 const std::string& url) {
  auto env = sanitizer_env();
  env["INSTALLER_DB_URL"] = url.empty() ? db.url() : url;
  env["INSTALLER_UPDATES"] = tree.root().string();
  // A run that finds no database (a URL gone stale when a test rebuilt its Bench) ends
  // after 10 s with exit 69 and says why, instead of waiting out the default 60 s, which
  // is also run_installer()'s limit: one such run per kill point used to add up to the
  // ctest timeout. Tests of waiting pass --wait-timeout, which wins over this.
  env["INSTALLER_WAIT_TIMEOUT"] = "10s";
  return env;
}

std::string url_via(const ScratchDatabase& db, int port) {
  ConnectionSpec spec = parse_connection_url(db.url());
  std::string url = fmt::format("{}://{}:{}@127.0.0.1:{}/{}", url_scheme(), spec.user, spec.password, port,
                                spec.database);
  return on_postgres() ? url + "?sslmode=disable" : url;
}

int closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind failed");
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// ---------------------------------------------------------------- TCP proxy

namespace {

int connect_to(const std::string& host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(std::string target_host, int target_port, int listen_port)
    : target_host_(std::move(target_host)), target_port_(target_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(listen_port));
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listen_fd_, 64) != 0) {
    close(listen_fd_);
    throw std::runtime_error(fmt::format("proxy: cannot listen on port {}: {}", listen_port, strerror(errno)));
  }
  socklen_t len = sizeof a;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  if (pipe(wake_) != 0) throw std::runtime_error("proxy: pipe failed");
  thread_ = std::thread([this] { loop(); });
}

TcpProxy::~TcpProxy() {
  char c = 'x';
  if (write(wake_[1], &c, 1) != 1) {
  }
  thread_.join();
  close_all();
  close(listen_fd_);
  close(wake_[0]);
  close(wake_[1]);
}

void TcpProxy::cut_after_reply(std::string after_marker, std::string statement, bool repeat) {
  std::lock_guard<std::mutex> lock(mutex_);
  after_marker_ = std::move(after_marker);
  statement_ = std::move(statement);
  marker_seen_ = after_marker_.empty();
  armed_ = true;
  repeat_ = repeat;
  cuts_ = 0;
}

void TcpProxy::close_all() {
  for (auto& p : pairs_) {
    if (p.client >= 0) close(p.client);
    if (p.server >= 0) close(p.server);
  }
  pairs_.clear();
}

void TcpProxy::loop() {
  std::vector<char> buffer(65536);
  while (true) {
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const auto& p : pairs_) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), 1000) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents) return;
    if (fds[1].revents & POLLIN) {
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client >= 0) {
        int server = connect_to(target_host_, target_port_);
        if (server < 0) {
          close(client);
        } else {
          pairs_.push_back({client, server, {}});
          ++accepted_;
        }
      }
      continue;  // the pair list changed: poll again
    }
    std::set<size_t> dead;
    bool cut = false;
    for (size_t i = 0; i < pairs_.size() && !cut; ++i) {
      Pair& p = pairs_[i];
      const pollfd& from_client = fds[2 + 2 * i];
      const pollfd& from_server = fds[3 + 2 * i];
      if (from_client.revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = recv(p.client, buffer.data(), buffer.size(), 0);
        if (n <= 0) {
          dead.insert(i);
          continue;
        }
        std::string chunk(buffer.data(), static_cast<size_t>(n));
        p.window += chunk;
        bool cut_here = false;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (armed_ && !marker_seen_ && p.window.find(after_marker_) != std::string::npos) {
            marker_seen_ = true;
            // Only text sent after the marker counts for the statement.
            p.window = p.window.substr(p.window.find(after_marker_) + after_marker_.size());
          }
          if (armed_ && marker_seen_ && p.window.find(statement_) != std::string::npos) {
            cut_here = true;
            armed_ = repeat_;
          }
        }
        if (p.window.size() > 4096) p.window = p.window.substr(p.window.size() - 1024);
        if (!write_all(p.server, chunk.data(), chunk.size())) {
          dead.insert(i);
          continue;
        }
        if (cut_here) {
          // Wait (bounded) for the server's answer, drop it, and cut every connection.
          pollfd answer{p.server, POLLIN, 0};
          if (poll(&answer, 1, 10000) > 0) recv(p.server, buffer.data(), buffer.size(), 0);
          close_all();
          ++cuts_;
          cut = true;
        }
      }
      if (!cut && (from_server.revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = recv(p.server, buffer.data(), buffer.size(), 0);
        if (n <= 0 || !write_all(p.client, buffer.data(), static_cast<size_t>(n))) dead.insert(i);
      }
    }
    if (cut) continue;
    for (auto it = dead.rbegin(); it != dead.rend(); ++it) {
      size_t i = *it;
      close(pairs_[i].client);
      close(pairs_[i].server);
      pairs_.erase(pairs_.begin() + static_cast<long>(i));
    }
  }
}

}  // namespace installer::crash
