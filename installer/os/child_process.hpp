#pragma once
#include "installer/os/user_identity.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace installer {

struct SpawnOptions {
  std::vector<std::string> argv;
  std::optional<UserIdentity> user;  ///< drop to this user in the child
  bool own_process_group = false;    ///< the child leads a new process group
  /// Names of variables the child does not inherit (the installer's own secrets).
  std::vector<std::string> withheld_env;
};

/// The outcome of starting a program.
struct Spawned {
  pid_t pid = -1;     ///< > 0 when the program is running
  int exit_code = 0;  ///< 127 not found, 126 cannot execute, when pid < 0
  std::string error;  ///< why it could not start
};

/// Starts the application: finds the program on PATH first (so the forked child only
/// makes async-signal-safe calls), drops privileges if asked, restores the default
/// signal mask and dispositions, and execs with the installer's environment less the
/// withheld variables. An exec failure in the child comes back through a close-on-exec
/// pipe, so it is reported with the shell's 126/127 codes.
Spawned spawn_child(const SpawnOptions& options);

/// Finds `program` the way execvp would; empty when it is not there.
std::string find_program(const std::string& program);

}  // namespace installer
