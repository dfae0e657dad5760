#pragma once
#include <chrono>
#include <string>
#include <string_view>

namespace installer {

/// The longest duration a setting may have: 1000 days. Far beyond any sensible timeout or
/// grace period, and far inside what steady_clock (nanoseconds in 64 bits, about 292
/// years) can add to its now() without overflowing.
inline constexpr std::chrono::milliseconds max_duration = std::chrono::hours(24'000);

/// Parses "30", "30s", "1500ms", "2m", "1h" (a bare number means seconds), up to
/// max_duration. Throws std::invalid_argument naming the text when it is not a duration
/// or is longer than that.
std::chrono::milliseconds parse_duration(std::string_view text);

/// "850ms", "12.3s", "4m05s".
std::string format_duration(std::chrono::milliseconds d);

/// now + d, saturated at the clock's farthest time point instead of wrapping around into
/// the past (which would make a deadline due at once).
std::chrono::steady_clock::time_point deadline_after(std::chrono::steady_clock::time_point now,
                                                     std::chrono::milliseconds d);

}  // namespace installer
