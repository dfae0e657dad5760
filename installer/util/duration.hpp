#pragma once
#include <chrono>
#include <string>
#include <string_view>

namespace installer {

/// Parses "30", "30s", "1500ms", "2m", "1h" (a bare number means seconds).
/// Throws std::invalid_argument naming the text when it is not a duration.
std::chrono::milliseconds parse_duration(std::string_view text);

/// "850ms", "12.3s", "4m05s".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace installer
