#pragma once
#include "installer/util/exit_codes.hpp"

#include <stdexcept>
#include <string>

namespace installer {

/// An error meant for the operator: a complete message (what, where, what was done,
/// what to do next) and the exit code main() should use. Lower layers throw their
/// own errors; the layer that knows the consequences turns them into this.
class UserError : public std::runtime_error {
 public:
  UserError(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

}  // namespace installer
