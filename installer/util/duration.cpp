#include "installer/util/duration.hpp"

#include <fmt/format.h>

#include <cctype>
#include <stdexcept>

namespace installer {

std::chrono::milliseconds parse_duration(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 12)
    throw std::invalid_argument(fmt::format("'{}' is not a duration (examples: 30s, 1500ms, 2m)", text));
  long long value = std::stoll(std::string(text.substr(0, i)));
  std::string_view unit = text.substr(i);
  long long factor = 0;
  if (unit.empty() || unit == "s") factor = 1000;
  else if (unit == "ms") factor = 1;
  else if (unit == "m") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else throw std::invalid_argument(fmt::format("'{}' is not a duration (examples: 30s, 1500ms, 2m)", text));
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

}  // namespace installer
