#pragma once
#include "installer/catalog/problems.hpp"
#include "installer/util/file_reading.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace installer {

/// The largest script the installer reads (docs/update-format.md). A schema change is
/// kilobytes; a file near this size is a data dump or a mistake, and holding it (plus its
/// statements and journal copy) costs several times its size in memory.
inline constexpr std::size_t kMaxScriptBytes = kMaxSourceFileBytes;

/// Why `text` cannot be sent to a server as the statements it shows, or nothing: a NUL
/// byte (libpq and the server end the statement there, so the rest is silently dropped)
/// or bytes that are not UTF-8 (the journal keeps the script as text in a UTF-8 database).
/// The problem names `path` and the line of the first offending byte.
std::optional<Problem> check_script_text(const std::string& text, const std::string& path);

}  // namespace installer
