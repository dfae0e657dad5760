#include "installer/os/child_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

extern char** environ;

namespace installer {

std::string find_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  std::string first_found;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    std::string dir = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + program;
    struct stat st {};
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
      if (first_found.empty()) first_found = candidate;  // exists but not executable: 126 later
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return first_found;
}

namespace {

/// The installer's environment, less what the child must not see, plus the user's
/// identity when it runs as another user.
std::vector<std::string> child_environment(const SpawnOptions& options) {
  std::set<std::string> left_out(options.withheld_env.begin(), options.withheld_env.end());
  if (options.user) left_out.insert({"HOME", "USER", "LOGNAME"});
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    // An entry without '=' is malformed; its whole text is taken as the name.
    if (left_out.count(entry.substr(0, entry.find('='))) == 0) env.push_back(std::move(entry));
  }
  if (options.user) {
    env.push_back("HOME=" + options.user->home);
    env.push_back("USER=" + options.user->name);
    env.push_back("LOGNAME=" + options.user->name);
  }
  return env;
}

}  // namespace

Spawned spawn_child(const SpawnOptions& options) {
  Spawned result;
  if (options.argv.empty()) {
    result.exit_code = 127;
    result.error = "no command given";
    return result;
  }
  std::string program = find_program(options.argv[0]);
  if (program.empty()) {
    result.exit_code = 127;
    result.error = fmt::format("{}: command not found", options.argv[0]);
    return result;
  }

  std::vector<std::string> env_storage = child_environment(options);
  std::vector<char*> envp, argv;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_storage = options.argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    result.exit_code = 126;
    result.error = fmt::format("cannot start {}: pipe: {}", options.argv[0], std::strerror(errno));
    return result;
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(report[0]);
    close(report[1]);
    result.exit_code = 126;
    result.error = fmt::format("cannot start {}: fork: {}", options.argv[0], std::strerror(errno));
    return result;
  }
  if (pid == 0) {
    // In the child only async-signal-safe calls until execve.
    int failed_step = 0;
    if (options.own_process_group && setpgid(0, 0) != 0) failed_step = 1;
    if (!failed_step && options.user) {
      if (setgroups(options.user->groups.size(), options.user->groups.data()) != 0) failed_step = 2;
      else if (setgid(options.user->gid) != 0) failed_step = 3;
      else if (setuid(options.user->uid) != 0) failed_step = 4;
    }
    if (!failed_step) {
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      execve(program.c_str(), argv.data(), envp.data());
      failed_step = 5;
    }
    int message[2] = {failed_step, errno};
    ssize_t ignored = write(report[1], message, sizeof message);
    (void)ignored;
    _exit(failed_step == 5 && (message[1] == ENOENT) ? 127 : 126);
  }
  close(report[1]);
  int message[2] = {0, 0};
  ssize_t n;
  do {
    n = read(report[0], message, sizeof message);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == static_cast<ssize_t>(sizeof message)) {
    static const char* const what[] = {"", "setpgid", "setgroups", "setgid", "setuid", "exec"};
    result.pid = -1;
    result.exit_code = message[0] == 5 && message[1] == ENOENT ? 127 : 126;
    result.error = fmt::format("cannot run {}: {}: {}", options.argv[0], what[message[0]], std::strerror(message[1]));
    // The failed child exits at once; reap it so it does not linger as a zombie.
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return result;
  }
  result.pid = pid;
  return result;
}

}  // namespace installer
