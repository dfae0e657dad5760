#include "db_fixture.hpp"

#include "installer/engine/migrator.hpp"
#include "installer/journal/journal_tables.hpp"
#include "installer/util/error.hpp"

#include "installer/mariadb/maria_database.hpp"
#include "installer/postgres/pg_database.hpp"

#include <fmt/format.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>

#include <fcntl.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace fs = boost::filesystem;

namespace installer::testing {
namespace {

ServerUnderTest& server_slot() {
  static ServerUnderTest s;
  return s;
}

std::string random_suffix() {
  static std::mt19937_64 rng(std::random_device{}());
  return fmt::format("{:012x}", rng() & 0xffffffffffffULL);
}

std::string with_database(const std::string& url, const std::string& database) {
  auto slash = url.find('/', url.find("://") + 3);
  auto query = url.find('?');
  std::string base = slash == std::string::npos ? url.substr(0, query) : url.substr(0, slash);
  std::string suffix = query == std::string::npos ? "" : url.substr(query);
  return base + "/" + database + suffix;
}

/// Where the fixture creates and drops databases. The MariaDB backend insists on a
/// database in the URL (by design: the journal lives in it), so a URL without one is
/// pointed at the always-present `mysql` database for these administrative sessions.
std::string admin_session_url() {
  const std::string& url = server().admin_url;
  if (on_postgres() || !parse_connection_url(url).database.empty()) return url;
  return with_database(url, "mysql");
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream b;
  b << in.rdbuf();
  return b.str();
}

/// A SQL string literal; the names tests pass are their own, but quote them properly.
std::string literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    if (c == '\\' && !on_postgres()) out += '\\';
    out += c;
  }
  return out + "'";
}

/// The application's schema in information_schema terms.
std::string app_schema() { return on_postgres() ? "current_schema()" : "DATABASE()"; }

std::string not_journal(const std::string& column) {
  std::string list;
  for (const auto& t : journal_tables_on_engine()) list += (list.empty() ? "" : ", ") + literal(t);
  return column + " NOT IN (" + list + ")";
}

}  // namespace

const ServerUnderTest& server() { return server_slot(); }
std::string admin_session_url_for_tests() { return admin_session_url(); }
void set_server(ServerUnderTest s) { server_slot() = std::move(s); }
std::string source_dir() { return INSTALLER_SOURCE_DIR; }

ExitCode migrate_code(EngineSession& s, const Catalog& catalog, std::string* message) {
  try {
    Migrator(*s.ctx, catalog).migrate({});
  } catch (const UserError& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return exit_ok;
}

std::string journal(const std::string& table) { return on_postgres() ? "installer." + table : "installer_" + table; }

std::vector<std::string> journal_tables_on_engine() {
  std::vector<std::string> names;
  // The product's own list, so a table a new journal format adds is never an application's.
  for (const auto& t : journal_table_names()) names.push_back(on_postgres() ? t : "installer_" + t);
  return names;
}

bool truthy(const SqlValue& v) { return v && (*v == "t" || *v == "1" || *v == "true"); }

std::unique_ptr<Database> open_database(const std::string& url, std::chrono::seconds timeout) {
  ConnectionSpec spec = parse_connection_url(url);
  return spec.engine == Engine::postgres ? open_postgres(spec, timeout) : open_mariadb(spec, timeout);
}

ScratchDatabase::ScratchDatabase() {
  name_ = "it_" + random_suffix();
  open_database(admin_session_url())->execute("CREATE DATABASE " + name_);
  url_ = with_database(server().admin_url, name_);
}

ScratchDatabase::~ScratchDatabase() {
  try {
    open_database(admin_session_url())
        ->execute(on_postgres() ? "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"
                                : "DROP DATABASE IF EXISTS " + name_);
  } catch (const std::exception& e) {
    std::cerr << "warning: could not drop test database " << name_ << ": " << e.what() << "\n";
  }
}

std::unique_ptr<Database> ScratchDatabase::connect() const { return open_database(url_); }

std::vector<SqlRow> ScratchDatabase::query(const std::string& sql) const { return connect()->query(sql, {}); }

void ScratchDatabase::execute(const std::string& sql) const { connect()->execute(sql); }

std::string ScratchDatabase::scalar(const std::string& sql) const {
  auto rows = query(sql);
  if (rows.empty() || rows[0].empty()) throw std::runtime_error("no row from: " + sql);
  return rows[0][0].value_or("");
}

long ScratchDatabase::count(const std::string& sql) const { return std::stol(scalar(sql)); }

bool ScratchDatabase::table_exists(const std::string& table) const {
  return count(fmt::format("SELECT count(*) FROM information_schema.tables WHERE table_schema = {} AND table_name = {}",
                           app_schema(), literal(table))) > 0;
}

bool ScratchDatabase::column_exists(const std::string& table, const std::string& column) const {
  return !column_nullable(table, column).empty();
}

std::string ScratchDatabase::column_nullable(const std::string& table, const std::string& column) const {
  auto rows = query(fmt::format("SELECT is_nullable FROM information_schema.columns WHERE table_schema = {} AND "
                                "table_name = {} AND column_name = {}",
                                app_schema(), literal(table), literal(column)));
  return rows.empty() ? "" : rows[0][0].value_or("");
}

bool ScratchDatabase::index_exists(const std::string& table, const std::string& index) const {
  if (on_postgres())
    return count(fmt::format("SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = {} "
                             "AND indexname = {}",
                             literal(table), literal(index))) > 0;
  return count(fmt::format("SELECT count(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND "
                           "table_name = {} AND index_name = {}",
                           literal(table), literal(index))) > 0;
}

bool ScratchDatabase::constraint_exists(const std::string& table, const std::string& constraint) const {
  return count(fmt::format("SELECT count(*) FROM information_schema.table_constraints WHERE constraint_schema = {} AND "
                           "table_name = {} AND constraint_name = {}",
                           app_schema(), literal(table), literal(constraint))) > 0;
}

bool ScratchDatabase::routine_exists(const std::string& routine) const {
  return count(fmt::format("SELECT count(*) FROM information_schema.routines WHERE routine_schema = {} AND "
                           "routine_name = {}",
                           app_schema(), literal(routine))) > 0;
}

bool ScratchDatabase::trigger_exists(const std::string& trigger) const {
  return count(fmt::format("SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = {} AND "
                           "trigger_name = {}",
                           app_schema(), literal(trigger))) > 0;
}

std::set<std::string> ScratchDatabase::objects() const {
  const std::string s = app_schema();
  std::string sql = fmt::format(
      "SELECT CONCAT('table ', table_name, ' ', table_type) FROM information_schema.tables "
      "WHERE table_schema = {0} AND {1} "
      "UNION ALL SELECT CONCAT('column ', table_name, '.', column_name, ' ', data_type, ' ', is_nullable) "
      "FROM information_schema.columns WHERE table_schema = {0} AND {1} "
      "UNION ALL SELECT CONCAT('constraint ', table_name, '.', constraint_name, ' ', constraint_type) "
      "FROM information_schema.table_constraints WHERE constraint_schema = {0} AND {1} "
      // PostgreSQL lists NOT NULL as CHECK constraints named after OIDs; the columns say it already.
      "AND NOT (constraint_type = 'CHECK' AND constraint_name LIKE '%not_null') "
      "UNION ALL SELECT CONCAT('routine ', routine_type, ' ', routine_name) FROM information_schema.routines "
      "WHERE routine_schema = {0} "
      "UNION ALL SELECT DISTINCT CONCAT('trigger ', trigger_name, ' on ', event_object_table) "
      "FROM information_schema.triggers WHERE trigger_schema = {0} ",
      s, not_journal("table_name"));
  if (on_postgres())
    sql += "UNION ALL SELECT CONCAT('index ', tablename, '.', indexname) FROM pg_indexes WHERE schemaname = "
           "current_schema() "
           "UNION ALL SELECT CONCAT('sequence ', sequence_name) FROM information_schema.sequences "
           "WHERE sequence_schema = current_schema()";
  else
    sql += "UNION ALL SELECT DISTINCT CONCAT('index ', table_name, '.', index_name) FROM information_schema.statistics "
           "WHERE table_schema = DATABASE() AND " +
           not_journal("table_name");
  std::set<std::string> out;
  for (const auto& row : query(sql)) out.insert(row[0].value_or("(null)"));
  return out;
}

bool ScratchDatabase::journal_exists() const {
  long n = 0;
  for (const auto& t : journal_tables_on_engine())
    n += count(fmt::format("SELECT count(*) FROM information_schema.tables WHERE table_schema = {} AND table_name = {}",
                           on_postgres() ? "'installer'" : "DATABASE()", literal(t)));
  return n == static_cast<long>(journal_tables_on_engine().size());
}

long ScratchDatabase::journal_attempts(const std::string& state, const std::string& update_id) const {
  std::string sql = "SELECT count(*) FROM " + journal("updates") + " WHERE 1 = 1";
  if (!state.empty()) sql += " AND state = " + literal(state);
  if (!update_id.empty()) sql += " AND update_id = " + literal(update_id);
  return count(sql);
}

long long ScratchDatabase::latest_attempt(const std::string& update_id) const {
  std::string id = scalar(
      fmt::format("SELECT max(attempt_id) FROM {} WHERE update_id = {}", journal("updates"), literal(update_id)));
  return id.empty() ? 0 : std::stoll(id);
}

std::string ScratchDatabase::attempt_field(long long attempt_id, const std::string& column) const {
  return scalar(fmt::format("SELECT {} FROM {} WHERE attempt_id = {}", column, journal("updates"), attempt_id));
}

std::vector<JournalStep> journal_steps(const ScratchDatabase& db, long long attempt_id) {
  std::vector<JournalStep> steps;
  for (const auto& r : db.query(fmt::format(
           "SELECT position, name, state, statements_total, statements_done, down_statements_done, transactional, "
           "revert_method, undo_done FROM {} WHERE attempt_id = {} ORDER BY position",
           journal("steps"), attempt_id))) {
    JournalStep s;
    s.position = std::stoi(r[0].value_or("0"));
    s.name = r[1].value_or("");
    s.state = r[2].value_or("");
    s.statements_total = std::stoi(r[3].value_or("0"));
    s.statements_done = std::stoi(r[4].value_or("0"));
    s.down_statements_done = std::stoi(r[5].value_or("0"));
    s.transactional = truthy(r[6]);
    s.revert_method = r[7].value_or("");
    s.undo_done = std::stoi(r[8].value_or("0"));
    steps.push_back(s);
  }
  return steps;
}

std::vector<std::string> bullet_lines_after(const std::string& message, const std::string& heading) {
  std::vector<std::string> out;
  auto at = message.find(heading);
  if (at == std::string::npos) return out;
  std::istringstream lines(message.substr(at + heading.size()));
  std::string line;
  std::getline(lines, line);  // the rest of the heading's line
  while (std::getline(lines, line) && line.rfind("    ", 0) == 0) out.push_back(line.substr(4));
  return out;
}

EngineSession::EngineSession(const ScratchDatabase& scratch) {
  db = scratch.connect();
  journal = std::make_unique<SqlJournal>(*db, "installer");
  ctx = std::make_unique<EngineContext>(EngineContext{*db, *journal, "installer", "test-host"});
}

UpdateTree::UpdateTree() {
  root_ = fs::temp_directory_path() / fs::unique_path("installer-updates-%%%%%%%%");
  fs::create_directories(root_);
}

UpdateTree::~UpdateTree() {
  boost::system::error_code ec;
  fs::remove_all(root_, ec);
}

void UpdateTree::write(const std::string& relative, const std::string& text) {
  fs::path p = root_ / relative;
  fs::create_directories(p.parent_path());
  std::ofstream(p.string(), std::ios::binary) << text;
}

void UpdateTree::remove(const std::string& relative) { fs::remove_all(root_ / relative); }

Catalog UpdateTree::load(Engine engine) const { return load_catalog({root_}, engine); }

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

Background::Background(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  std::string base = (fs::temp_directory_path() / fs::unique_path("installer-run-%%%%%%%%")).string();
  out_path_ = base + ".out";
  err_path_ = base + ".err";
  // INSTALLER_TEST_BINARY runs the tests against another build (an older one, to show
  // that a test fails without the fix it guards).
  const char* other = std::getenv("INSTALLER_TEST_BINARY");
  std::vector<std::string> argv_storage{other && *other ? other : INSTALLER_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  // The child sees only the variables the test gives it (plus PATH, unless the test gives
  // its own), so a developer's own INSTALLER_* settings cannot change a test's outcome.
  std::vector<std::string> env_storage{"LANG=C.UTF-8"};
  if (!env.count("PATH")) env_storage.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  for (const auto& [k, v] : env) env_storage.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(fmt::format("cannot start {}: {}", argv[0], strerror(rc)));
  pid_ = pid;
}

Background::~Background() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  unlink(out_path_.c_str());
  unlink(err_path_.c_str());
}

std::string Background::err_so_far() const { return read_all(err_path_); }

RunResult Background::wait(std::chrono::seconds timeout) {
  RunResult result;
  int status = 0;
  bool exited = wait_until(
      [&] {
        pid_t r = waitpid(pid_, &status, WNOHANG);
        return r == pid_;
      },
      timeout);
  if (!exited) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    result.err = "(killed after timeout)\n";
  }
  reaped_ = true;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_all(out_path_);
  result.err += read_all(err_path_);
  return result;
}

RunResult run_installer(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                        std::chrono::seconds timeout) {
  Background process(args, env);
  return process.wait(timeout);
}

std::string bytes_of(const boost::filesystem::path& path) {
  std::ifstream in(path.string(), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace installer::testing
