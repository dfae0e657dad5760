#pragma once
#include <sys/types.h>

#include <chrono>
#include <functional>

namespace installer {

struct SupervisorOptions {
  std::chrono::milliseconds grace{10'000};  ///< TERM to KILL, for the child and for leftovers
  std::chrono::milliseconds stop_delay{0};  ///< hold a received SIGTERM back this long
  bool process_group = false;               ///< signal the child's whole process group
};

/// Hooks for whoever reports the supervisor's state (the health endpoint).
struct SupervisorEvents {
  std::function<void()> stopping;  ///< a stop signal arrived
};

/// tini's loop as small verbs: wait for a signal with a timeout, forward everything but
/// SIGCHLD to the child (or its process group), reap every zombie including re-parented
/// orphans, escalate SIGTERM to SIGKILL after the grace period, and once the main child
/// has exited give the remaining descendants SIGTERM and the grace period before SIGKILL.
/// Returns the child's exit code, or 128+N when it died of signal N.
int supervise(pid_t child, const SupervisorOptions& options, const SupervisorEvents& events = {});

/// Makes this process the reaper of orphaned descendants when it is not PID 1.
void become_subreaper();

}  // namespace installer
