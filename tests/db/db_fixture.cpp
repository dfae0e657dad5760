#include "db_fixture.hpp"

#include "installer/postgres/pg_database.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <fstream>
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

std::unique_ptr<Database> open(const std::string& url) {
  ConnectionSpec spec = parse_connection_url(url);
  return open_postgres(spec, std::chrono::seconds(10));
}

std::string with_database(const std::string& url, const std::string& database) {
  ConnectionSpec spec = parse_connection_url(url);
  auto slash = url.find('/', url.find("://") + 3);
  auto query = url.find('?');
  std::string base = slash == std::string::npos ? url : url.substr(0, slash);
  std::string suffix = query == std::string::npos ? "" : url.substr(query);
  (void)spec;
  return base + "/" + database + suffix;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream b;
  b << in.rdbuf();
  return b.str();
}

}  // namespace

const ServerUnderTest& server() { return server_slot(); }
void set_server(ServerUnderTest s) { server_slot() = std::move(s); }
std::string source_dir() { return INSTALLER_SOURCE_DIR; }

ScratchDatabase::ScratchDatabase() {
  name_ = "it_" + random_suffix();
  open(server().admin_url)->execute("CREATE DATABASE " + name_);
  url_ = with_database(server().admin_url, name_);
}

ScratchDatabase::~ScratchDatabase() {
  try {
    open(server().admin_url)->execute("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
  }
}

std::unique_ptr<Database> ScratchDatabase::connect() const { return open(url_); }

std::vector<SqlRow> ScratchDatabase::query(const std::string& sql) const { return connect()->query(sql, {}); }

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
  std::vector<std::string> argv_storage{INSTALLER_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  // The child sees only the variables the test gives it (plus PATH), so a developer's
  // own INSTALLER_* settings cannot change a test's outcome.
  std::vector<std::string> env_storage{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"};
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

}  // namespace installer::testing
