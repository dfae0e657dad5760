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

/// Strings as the NULL-ended array of char* that execve takes, prepared before the fork.
class CStrings {
 public:
  explicit CStrings(std::vector<std::string> strings) : storage_(std::move(strings)) {
    for (auto& s : storage_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  char** get() { return pointers_.data(); }

 private:
  std::vector<std::string> storage_;
  std::vector<char*> pointers_;
};

Spawned not_started(int exit_code, std::string error) {
  Spawned result;
  result.exit_code = exit_code;
  result.error = std::move(error);
  return result;
}

/// The steps of exec_in_child, as the report pipe numbers them.
enum ChildStep : int { step_setpgid = 1, step_setgroups, step_setgid, step_setuid, step_exec };

/// In the child only async-signal-safe calls until execve; a failure is written to
/// `report` as {step, errno}.
[[noreturn]] void exec_in_child(const SpawnOptions& options, const std::string& program, char** argv, char** envp,
                                int report) {
  int failed_step = 0;
  if (options.own_process_group && setpgid(0, 0) != 0) failed_step = step_setpgid;
  if (!failed_step && options.user) {
    if (setgroups(options.user->groups.size(), options.user->groups.data()) != 0) failed_step = step_setgroups;
    else if (setgid(options.user->gid) != 0) failed_step = step_setgid;
    else if (setuid(options.user->uid) != 0) failed_step = step_setuid;
  }
  if (!failed_step) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(program.c_str(), argv, envp);
    failed_step = step_exec;
  }
  int message[2] = {failed_step, errno};
  ssize_t ignored = write(report, message, sizeof message);
  (void)ignored;
  _exit(failed_step == step_exec && (message[1] == ENOENT) ? 127 : 126);
}

/// The report pipe closes unread at a successful exec; a message on it is the failure.
Spawned await_exec(pid_t pid, int report, const SpawnOptions& options) {
  int message[2] = {0, 0};
  ssize_t n;
  do {
    n = read(report, message, sizeof message);
  } while (n < 0 && errno == EINTR);
  close(report);
  Spawned result;
  if (n != static_cast<ssize_t>(sizeof message)) {
    result.pid = pid;
    return result;
  }
  static const char* const what[] = {"", "setpgid", "setgroups", "setgid", "setuid", "exec"};
  result.pid = -1;
  result.exit_code = message[0] == step_exec && message[1] == ENOENT ? 127 : 126;
  result.error = fmt::format("cannot run {}: {}: {}", options.argv[0], what[message[0]], std::strerror(message[1]));
  // The failed child exits at once; reap it so it does not linger as a zombie.
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

}  // namespace

Spawned spawn_child(const SpawnOptions& options) {
  if (options.argv.empty()) return not_started(127, "no command given");
  std::string program = find_program(options.argv[0]);
  if (program.empty()) return not_started(127, fmt::format("{}: command not found", options.argv[0]));
  CStrings envp(child_environment(options));
  CStrings argv(options.argv);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0)
    return not_started(126, fmt::format("cannot start {}: pipe: {}", options.argv[0], std::strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(report[0]);
    close(report[1]);
    return not_started(126, fmt::format("cannot start {}: fork: {}", options.argv[0], std::strerror(err)));
  }
  if (pid == 0) exec_in_child(options, program, argv.get(), envp.get(), report[1]);
  close(report[1]);
  return await_exec(pid, report[0], options);
}

}  // namespace installer
