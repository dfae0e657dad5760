#pragma once
#include <string>

namespace installer {

/// The value of NAME given as NAME_FILE (`variable`): the file at `path`, read as a secret
/// (at most kMaxSecretFileBytes), less the line end such files usually have. Throws
/// UserError(exit_config) naming `variable` and the file when it cannot be read.
std::string read_secret_file(const std::string& path, const std::string& variable);

}  // namespace installer
