#pragma once

namespace installer {

/// Exit codes in the spirit of sysexits.h; docs/cli.md lists them for operators.
enum ExitCode : int {
  exit_ok = 0,
  exit_usage = 64,           ///< bad command line
  exit_data = 65,            ///< invalid update files, downgrade guard, changed applied update
  exit_unavailable = 69,     ///< database unreachable
  exit_update_failed = 70,   ///< an update failed; it was reverted and verified
  exit_internal = 71,        ///< an unexpected error stopped the run; the next start recovers from the journal
  exit_install_failed = 72,  ///< an install hook failed; its output is shown; it runs again at the next start
  exit_cantcreat = 73,       ///< an output file (a key, a bundle) could not be written
  exit_tempfail = 75,        ///< lock not obtained in time
  exit_noperm = 77,          ///< authentication refused
  exit_config = 78,          ///< configuration error
  exit_revert_failed = 79,   ///< a revert failed or did not restore the schema: needs attention
};

}  // namespace installer
