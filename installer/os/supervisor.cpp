#include "installer/os/supervisor.hpp"

#include "installer/os/signals.hpp"
#include "installer/util/duration.hpp"
#include "installer/util/log.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace installer {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Our direct children right now, orphans re-parented to us included.
std::vector<pid_t> direct_children() {
  std::vector<pid_t> out;
  pid_t self = getpid();
  DIR* proc = opendir("/proc");
  if (!proc) return out;
  while (struct dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    std::FILE* f = std::fopen(path, "r");
    if (!f) continue;
    char buffer[512];
    size_t n = std::fread(buffer, 1, sizeof buffer - 1, f);
    std::fclose(f);
    buffer[n] = '\0';
    // The command name may hold spaces and parentheses: the fields resume after the last ')'.
    char* close = std::strrchr(buffer, ')');
    if (!close) continue;
    char state = 0;
    long ppid = 0;
    if (std::sscanf(close + 1, " %c %ld", &state, &ppid) == 2 && ppid == self && state != 'Z')
      out.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return out;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

class Loop {
 public:
  Loop(pid_t child, const SupervisorOptions& options, const SupervisorEvents& events)
      : child_(child), options_(options), events_(events) {}

  int run() {
    while (true) {
      int sig = wait_for_signal(next_timeout());
      if (sig != 0 && sig != SIGCHLD) on_signal(sig);
      reap_zombies();
      fire_due_timers();
      if (child_exited_ && drain_descendants()) break;
    }
    return exit_code_;
  }

 private:
  milliseconds next_timeout() const {
    auto now = Clock::now();
    auto soonest = now + milliseconds(1000);
    for (const auto& t : {delayed_term_, kill_child_at_, kill_rest_at_})
      if (t && *t < soonest) soonest = *t;
    // While descendants drain, look for newly orphaned ones regularly.
    if (child_exited_) soonest = std::min(soonest, now + milliseconds(50));
    return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(soonest - now));
  }

  void forward(int sig) {
    if (child_exited_) return;
    pid_t target = options_.process_group ? -child_ : child_;
    if (kill(target, sig) != 0 && errno != ESRCH)
      log::warn("could not forward {} to {}: {}", signal_name(sig), target, std::strerror(errno));
  }

  void on_signal(int sig) {
    if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT || sig == SIGHUP) {
      if (events_.stopping && (sig != SIGHUP)) events_.stopping();
    }
    if (sig == SIGTERM && options_.stop_delay.count() > 0 && !delayed_term_ && !term_forwarded_ && !child_exited_) {
      log::info("SIGTERM received: holding it back {}ms so load balancers can drain, then forwarding it",
                options_.stop_delay.count());
      delayed_term_ = deadline_after(Clock::now(), options_.stop_delay);
      return;
    }
    forward(sig);
    if (sig == SIGTERM) arm_term_escalation();
  }

  void arm_term_escalation() {
    term_forwarded_ = true;
    delayed_term_.reset();
    if (!kill_child_at_) kill_child_at_ = deadline_after(Clock::now(), options_.grace);
  }

  void reap_zombies() {
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) != 0) {
      if (pid < 0) {
        // ECHILD: no child of ours is left, whatever /proc (maybe another namespace's) says.
        no_children_ = errno == ECHILD;
        break;
      }
      if (pid == child_ && !child_exited_) {
        child_exited_ = true;
        exit_code_ = exit_code_of(status);
        log::info("the application (pid {}) exited with code {}", child_, exit_code_);
        kill_child_at_.reset();
        delayed_term_.reset();
      }
    }
  }

  void fire_due_timers() {
    auto now = Clock::now();
    if (delayed_term_ && now >= *delayed_term_) {
      forward(SIGTERM);
      arm_term_escalation();
    }
    if (kill_child_at_ && now >= *kill_child_at_ && !child_exited_) {
      log::warn("the application did not exit within the grace period ({}ms) after SIGTERM: sending SIGKILL",
                options_.grace.count());
      forward(SIGKILL);
      kill_child_at_.reset();
    }
  }

  /// After the main child: TERM every remaining descendant once, KILL them when the
  /// grace period is over. True when none is left.
  bool drain_descendants() {
    if (no_children_) return true;
    auto children = direct_children();
    if (children.empty()) return true;
    auto now = Clock::now();
    if (!kill_rest_at_) {
      kill_rest_at_ = deadline_after(now, options_.grace);
      log::info("{} other process{} left after the application exited: SIGTERM, then up to {}ms before SIGKILL",
                children.size(), children.size() == 1 ? "" : "es", options_.grace.count());
    }
    bool kill_now = now >= *kill_rest_at_;
    for (pid_t pid : children) {
      if (kill_now) {
        kill(pid, SIGKILL);
      } else if (termed_.insert(pid).second) {
        kill(pid, SIGTERM);
      }
    }
    return false;
  }

  pid_t child_;
  SupervisorOptions options_;
  SupervisorEvents events_;
  bool child_exited_ = false;
  bool term_forwarded_ = false;
  bool no_children_ = false;
  int exit_code_ = 0;
  std::optional<Clock::time_point> delayed_term_, kill_child_at_, kill_rest_at_;
  std::set<pid_t> termed_;
};

}  // namespace

int supervise(pid_t child, const SupervisorOptions& options, const SupervisorEvents& events) {
  return Loop(child, options, events).run();
}

void become_subreaper() {
  if (getpid() == 1) return;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
    log::warn("cannot become a child subreaper ({}): orphaned descendants will not be reaped by the installer",
              std::strerror(errno));
}

}  // namespace installer
