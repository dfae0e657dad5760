#pragma once

namespace installer {

/// Parses the command line, runs the command, and returns the process exit code.
/// The only place that turns errors into messages and exit codes.
int run_cli(int argc, char** argv);

}  // namespace installer
