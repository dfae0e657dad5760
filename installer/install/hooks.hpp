#pragma once
#include "installer/engine/context.hpp"

#include <boost/filesystem/path.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace installer {

/// Runs the install hooks in `dir` that have not run against this database yet, in
/// name order, like docker-entrypoint-initdb.d: `.sql` files through the session
/// (on PostgreSQL in one transaction with their journal record), executables (and `.sh`
/// files, through /bin/sh) as programs with the installer's environment. Each is
/// journaled; a hook that fails stops the run (UserError exit_install_failed) showing
/// its output, and runs again at the next start. Returns the hooks that ran now.
/// A stop signal (ctx.stop_signal) is passed on to a running program hook's process group,
/// which is killed `stop_grace` later; the run then ends with 128+N.
std::vector<std::string> run_install_hooks(EngineContext& ctx, const boost::filesystem::path& dir,
                                           std::chrono::milliseconds stop_grace);

}  // namespace installer
