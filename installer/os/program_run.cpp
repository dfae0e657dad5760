#include "installer/os/program_run.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

extern char** environ;

namespace installer {
namespace {

using Clock = std::chrono::steady_clock;

/// Keeps the last kKeptOutput bytes a program prints: one that prints without end must not
/// take the installer's memory with it.
constexpr size_t kKeptOutput = 64 << 10;

void keep_tail(std::string& output, const char* data, size_t n) {
  output.append(data, n);
  if (output.size() > 2 * kKeptOutput) output.erase(0, output.size() - kKeptOutput);
}

/// The installer's environment with the run's additions and without what it withholds.
std::vector<std::string> environment_for(const ProgramRun& run) {
  std::set<std::string> replaced(run.withheld_env.begin(), run.withheld_env.end());
  for (const auto& [name, value] : run.extra_env) replaced.insert(name);
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    if (!replaced.count(entry.substr(0, entry.find('=')))) env.push_back(std::move(entry));
  }
  for (const auto& [name, value] : run.extra_env) env.push_back(name + "=" + value);
  return env;
}

/// Starts the program; its output pipe's read end in *out.
pid_t spawn_program(const ProgramRun& run, int* out, std::string& error) {
  int pipe_ends[2];
  if (pipe2(pipe_ends, O_CLOEXEC) != 0) {
    error = fmt::format("pipe: {}", std::strerror(errno));
    return -1;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, run.stdout_fd >= 0 ? run.stdout_fd : pipe_ends[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], 2);
  if (run.stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, run.stdin_fd, 0);
  else posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  // The installer blocks every signal in its own threads; the program must get them normally.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<std::string> args = run.argv, env = environment_for(run);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  for (auto& e : env) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(pipe_ends[1]);
  if (rc != 0) {
    close(pipe_ends[0]);
    error = fmt::format("cannot run {}: {}", run.argv[0], std::strerror(rc));
    return -1;
  }
  *out = pipe_ends[0];
  return pid;
}

}  // namespace

ProgramResult run_program(const ProgramRun& run) {
  ProgramResult result;
  int out = -1;
  pid_t pid = spawn_program(run, &out, result.output);
  if (pid < 0) {
    result.code = 127;
    return result;
  }
  std::optional<Clock::time_point> kill_at;
  bool open = true;
  char buffer[4096];
  while (open) {
    if (run.stop && run.stop->load() != 0 && !kill_at) {
      result.stopped_by = run.stop->load();
      ::kill(-pid, SIGTERM);
      kill_at = Clock::now() + run.grace;
    }
    if (kill_at && Clock::now() >= *kill_at) ::kill(-pid, SIGKILL);
    if (run.every_tick) run.every_tick();
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
  // The pipe closes when the program and everything it started have exited or closed it.
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (kill_at) ::kill(-pid, SIGKILL);  // what it left behind in its group
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace installer
