#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace installer {

/// A helper program the installer runs to its end: an install hook, a dump tool.
struct ProgramRun {
  std::vector<std::string> argv;  ///< argv[0] a path (find_program() finds one on PATH)
  /// Set in (or replacing in) the installer's environment for it: how a password reaches
  /// a tool without appearing on its command line.
  std::map<std::string, std::string> extra_env;
  std::vector<std::string> withheld_env;  ///< names it does not inherit
  int stdout_fd = -1;                     ///< -1: its stdout goes with its stderr into the output kept
  int stdin_fd = -1;                      ///< -1: /dev/null
  /// A stop signal is passed on to its process group at once; after `grace` the group is
  /// killed, so a program that ignores SIGTERM cannot keep the run from ending.
  const std::atomic<int>* stop = nullptr;
  std::chrono::milliseconds grace{5000};
  std::function<void()> every_tick;  ///< about every 100 ms while it runs (progress)
};

struct ProgramResult {
  int code = 0;        ///< its exit code, 128+N when killed by signal N, 127 when it could not start
  std::string output;  ///< the last 64 KiB of what it printed (stderr, and stdout unless redirected)
  int stopped_by = 0;  ///< the stop signal that ended it, or 0
};

/// Runs the program in a process group of its own, its signal mask and dispositions reset,
/// and waits for it and everything it started to close the output.
ProgramResult run_program(const ProgramRun& run);

}  // namespace installer
