#include "installer/util/duration.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace installer {

std::chrono::milliseconds parse_duration(std::string_view text) {
  const auto not_a_duration = [&] {
    return std::invalid_argument(fmt::format("'{}' is not a duration (examples: 30s, 1500ms, 2m)", text));
  };
  // Saturated well above the limit in any unit, so a long run of digits cannot overflow.
  constexpr long long saturated = max_duration.count() + 1;
  size_t i = 0;
  long long value = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i)
    value = std::min(saturated, value * 10 + (text[i] - '0'));
  if (i == 0) throw not_a_duration();
  std::string_view unit = text.substr(i);
  long long factor = 0;
  if (unit.empty() || unit == "s") factor = 1000;
  else if (unit == "ms") factor = 1;
  else if (unit == "m") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else throw not_a_duration();
  if (value > max_duration.count() / factor) {
    auto hours = std::chrono::duration_cast<std::chrono::hours>(max_duration).count();
    throw std::invalid_argument(
        fmt::format("'{}' is longer than the longest duration allowed, {}h ({} days)", text, hours, hours / 24));
  }
  return std::chrono::milliseconds(value * factor);
}

std::string format_duration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms < 1000) return fmt::format("{}ms", ms);
  long long tenths = (ms + 50) / 100;  // rounded first, so 59999ms is "1m00s", not "60.0s"
  if (tenths < 600) return fmt::format("{}.{}s", tenths / 10, tenths % 10);
  long long seconds = (ms + 500) / 1000;
  return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
}

std::chrono::steady_clock::time_point deadline_after(std::chrono::steady_clock::time_point now,
                                                     std::chrono::milliseconds d) {
  using Clock = std::chrono::steady_clock;
  auto room = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now);
  if (d >= room) return Clock::time_point::max();
  return now + d;
}

}  // namespace installer
