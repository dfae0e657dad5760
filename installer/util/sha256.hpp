#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace installer {

/// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(std::string_view bytes);

/// The same of a file's bytes, read in pieces (a dump may be larger than memory), or
/// std::nullopt with `why`.
std::optional<std::string> sha256_of_file(const std::string& path, std::string& why);

}  // namespace installer
