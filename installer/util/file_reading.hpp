#pragma once
#include <cstddef>
#include <optional>
#include <string>

namespace installer {

/// Reads the regular file at `path` (links followed) whole, or says why not in `why`: it is
/// missing or unreadable, a directory, not a regular file (a FIFO, /dev/zero, a socket: they
/// would hang the start or never end), or longer than `max_bytes`. Never blocks on a FIFO
/// and never holds more than max_bytes + 1 bytes, even for a file that grows while read.
std::optional<std::string> read_regular_file(const std::string& path, std::size_t max_bytes, std::string& why);

/// The same for a file already open at `fd` (which stays open): one opened below a
/// directory without following links, say.
std::optional<std::string> read_regular_file(int fd, std::size_t max_bytes, std::string& why);

/// Limits of what the installer reads (docs/cli.md, docs/update-format.md).
inline constexpr std::size_t kMaxSecretFileBytes = 64u << 10;  ///< a *_FILE secret
inline constexpr std::size_t kMaxConfigFileBytes = 1u << 20;   ///< --config
inline constexpr std::size_t kMaxSourceFileBytes = 64u << 20;  ///< a script, template, default or hook

}  // namespace installer
