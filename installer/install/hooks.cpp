#include "installer/install/hooks.hpp"

#include "installer/catalog/catalog.hpp"
#include "installer/catalog/script_lint.hpp"
#include "installer/db/transaction.hpp"
#include "installer/engine/statement_runner.hpp"
#include "installer/install/templates.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"
#include "installer/util/sha256.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/filesystem.hpp>

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <set>

extern char** environ;

namespace fs = boost::filesystem;

namespace installer {
namespace {

std::string tail(const std::string& s, size_t n = 4000) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

/// Starts a program in a process group of its own (so that a stop reaches whatever it
/// starts too), its stdout and stderr into one pipe; the read end in *out.
pid_t spawn_program(const std::vector<std::string>& argv, int* out, std::string& error) {
  int pipe_ends[2];
  if (pipe2(pipe_ends, O_CLOEXEC) != 0)
    throw UserError(exit_install_failed, fmt::format("pipe: {}", std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  // The installer blocks every signal in its own threads; a hook must get them normally.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<std::string> storage = argv;
  std::vector<char*> args;
  for (auto& a : storage) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(pipe_ends[1]);
  if (rc != 0) {
    close(pipe_ends[0]);
    error = fmt::format("cannot run {}: {}", argv[0], std::strerror(rc));
    return -1;
  }
  *out = pipe_ends[0];
  return pid;
}

/// Keeps the last kKeptOutput bytes a hook prints: a hook that prints without end must not
/// take the installer's memory with it.
constexpr size_t kKeptOutput = 64 << 10;

void keep_tail(std::string& output, const char* data, size_t n) {
  output.append(data, n);
  if (output.size() > 2 * kKeptOutput) output.erase(0, output.size() - kKeptOutput);
}

struct ProgramResult {
  int code = 0;
  std::string output;
  int stopped_by = 0;  ///< the stop signal that ended it, or 0
};

/// Runs a program to its end, its output merged. A stop signal (ctx.stop_signal) is passed
/// on to its process group at once, and after `grace` the group is killed: a hook that
/// ignores SIGTERM cannot keep the run from ending.
ProgramResult run_program(const std::vector<std::string>& argv, const std::atomic<int>* stop,
                          std::chrono::milliseconds grace) {
  ProgramResult result;
  int out = -1;
  pid_t pid = spawn_program(argv, &out, result.output);
  if (pid < 0) {
    result.code = 127;
    return result;
  }
  std::optional<Clock::time_point> kill_at;
  bool open = true;
  char buffer[4096];
  while (open) {
    if (stop && stop->load() != 0 && !kill_at) {
      result.stopped_by = stop->load();
      ::kill(-pid, SIGTERM);
      kill_at = Clock::now() + grace;
    }
    if (kill_at && Clock::now() >= *kill_at) ::kill(-pid, SIGKILL);
    pollfd p{out, POLLIN, 0};
    int ready = ::poll(&p, 1, 100);  // wakes to look at the stop flag
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    ssize_t n = ::read(out, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) open = false;
    else keep_tail(result.output, buffer, static_cast<size_t>(n));
  }
  close(out);
  // The pipe closes when the hook and everything it started have exited or closed it.
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (kill_at) ::kill(-pid, SIGKILL);  // what it left behind in its group
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

/// A hook not yet done, read (and for SQL split) before any hook runs.
struct PendingHook {
  fs::path path;
  std::string name;
  bool sql = false;
  bool executable = false;
  std::string text;
  std::vector<Statement> statements;
};

/// The lint speaks of update steps; a hook cannot opt out of its transaction.
Problem as_hook_problem(Problem problem) {
  if (problem.message.find("update.toml") != std::string::npos)
    problem.message = "this statement cannot run inside a transaction, and a .sql install hook on PostgreSQL runs in "
                      "one; run it from an executable hook, or from an update step with transaction = false";
  return problem;
}

std::vector<fs::path> hook_entries(const fs::path& dir, std::vector<Problem>& problems) {
  std::vector<fs::path> entries;
  boost::system::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string()[0] != '.') entries.push_back(it->path());
  if (ec) problems.push_back({dir.string(), 0, "cannot read the install hooks directory: " + ec.message()});
  std::sort(entries.begin(), entries.end());
  return entries;
}

/// Reads `hook` (a .sql one split and linted as steps are); false when it is no hook, or
/// has a problem, which then goes into `problems`.
bool prepare_hook(EngineContext& ctx, PendingHook& hook, std::vector<Problem>& problems) {
  std::string extension = hook.path.extension().string();
  struct stat st {};
  if (::stat(hook.path.c_str(), &st) != 0) {
    // A broken link, or a link loop: a hook by its name, a stray file otherwise.
    if (extension == ".sql" || extension == ".sh") problems.push_back({hook.path.string(), 0, std::strerror(errno)});
    else log::warn("install hook {} cannot be looked at ({}): ignored", hook.path.string(), std::strerror(errno));
    return false;
  }
  if (!S_ISREG(st.st_mode)) return false;
  hook.sql = extension == ".sql";
  hook.executable = (st.st_mode & S_IXUSR) != 0;
  if (!hook.sql && !hook.executable && extension != ".sh") {
    log::warn("install hook {} is neither a .sql file nor executable: ignored", hook.path.string());
    return false;
  }
  std::string error;
  auto text = read_source_file(hook.path, error);
  if (!text) {
    problems.push_back({hook.path.string(), 0, "cannot be read: " + error});
    return false;
  }
  hook.text = std::move(*text);
  if (!hook.sql) return true;
  SqlDialect dialect = dialect_for(ctx.db.engine());
  try {
    hook.statements = split_sql(hook.text, dialect);
  } catch (const SqlSplitError& e) {
    problems.push_back({hook.path.string(), e.line(), e.what()});
    return false;
  }
  std::vector<Problem> lint;
  lint_statements(hook.statements, dialect, ctx.db.capabilities().hooks_run_in_transaction, hook.path.string(),
                  hook.name, lint);
  for (auto& p : lint) problems.push_back(as_hook_problem(std::move(p)));
  return lint.empty();
}

/// The hooks in `dir` that are to run now, in name order, all read before any runs.
std::vector<PendingHook> pending_hooks(EngineContext& ctx, const fs::path& dir, std::vector<Problem>& problems) {
  std::set<std::string> done;
  for (const auto& record : ctx.journal.installs())
    if (record.state == "done") done.insert(record.name);
  std::vector<PendingHook> hooks;
  for (const auto& path : hook_entries(dir, problems)) {
    PendingHook hook;
    hook.path = path;
    hook.name = path.filename().string();
    if (!done.count(hook.name) && prepare_hook(ctx, hook, problems)) hooks.push_back(std::move(hook));
  }
  return hooks;
}

void run_sql_hook(EngineContext& ctx, const PendingHook& hook, InstallRecord& record, Clock::time_point started) {
  record.kind = "sql";
  try {
    std::optional<Transaction> transaction;
    if (ctx.db.capabilities().hooks_run_in_transaction) transaction.emplace(ctx.db);
    run_statements(ctx.db, hook.statements, 0, {"(install)", hook.name, hook.path.string()});
    record.state = "done";
    record.duration_ms = elapsed_ms(started);
    ctx.journal.record_install(record);
    if (transaction) transaction->commit();
  } catch (const StatementError& e) {
    if (e.failure().failure != DbFailure::statement) throw;
    record.state = "failed";
    record.output = e.failure().describe();
    record.duration_ms = elapsed_ms(started);
    ctx.journal.record_install(record);
    throw UserError(exit_install_failed, fmt::format("install hook {} failed at {}\n  it runs again at the next start",
                                                     hook.name, e.failure().describe()));
  }
}

void run_program_hook(EngineContext& ctx, const PendingHook& hook, InstallRecord& record, Clock::time_point started,
                      std::chrono::milliseconds stop_grace) {
  record.kind = "program";
  auto [code, output, stopped_by] = run_program(hook.executable
                                                    ? std::vector<std::string>{hook.path.string()}
                                                    : std::vector<std::string>{"/bin/sh", hook.path.string()},
                                                ctx.stop_signal, stop_grace);
  record.output = tail(output);
  record.duration_ms = elapsed_ms(started);
  record.state = code == 0 && !stopped_by ? "done" : "failed";
  ctx.journal.record_install(record);
  if (stopped_by)
    throw UserError(static_cast<ExitCode>(128 + stopped_by),
                    fmt::format("stopped by a signal while install hook {} ran; it was stopped too and runs again at "
                                "the next start",
                                hook.path.string()));
  if (code != 0)
    throw UserError(
        exit_install_failed,
        fmt::format("install hook {} exited with code {}; it printed:\n{}\n  it runs again at the next start",
                    hook.path.string(), code, tail(output)));
}

}  // namespace

std::vector<std::string> run_install_hooks(EngineContext& ctx, const fs::path& dir,
                                           std::chrono::milliseconds stop_grace) {
  boost::system::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw UserError(exit_config, fmt::format("install hooks directory {} does not exist", dir.string()));
  std::vector<Problem> problems;
  std::vector<PendingHook> hooks = pending_hooks(ctx, dir, problems);
  if (!problems.empty()) {
    std::string message = problems.size() == 1 ? "install hooks refused:"
                                               : fmt::format("install hooks refused ({} problems):", problems.size());
    for (const auto& p : problems) message += "\n  " + p.to_string();
    throw UserError(exit_install_failed, message + "\nno install hook was run.");
  }
  std::vector<std::string> ran;
  for (const auto& hook : hooks) {
    InstallRecord record;
    record.name = hook.name;
    record.host = ctx.host;
    record.installer_version = ctx.installer_version;
    record.checksum = sha256_hex(hook.text);
    auto started = Clock::now();
    log::info("running install hook {}", hook.name);
    if (hook.sql) run_sql_hook(ctx, hook, record, started);
    else run_program_hook(ctx, hook, record, started, stop_grace);
    log::event({{"hook", hook.name}, {"duration_ms", std::to_string(record.duration_ms)}},
               "install hook {} done ({}ms)", hook.name, record.duration_ms);
    ran.push_back(hook.name);
  }
  return ran;
}

}  // namespace installer
