#include "installer/util/log.hpp"

#include "installer/util/redact.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace installer::log {
namespace {
Level threshold = Level::info;

const char* level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}
}  // namespace

void set_level(Level level) { threshold = level; }

void write(Level level, std::string_view message) {
  if (level < threshold) return;
  auto now = std::chrono::system_clock::now();
  auto seconds = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  // One fputs per line keeps lines whole when several processes share stderr.
  std::string line = fmt::format("{}.{:03}Z {:<5} {}\n", stamp, millis, level_name(level), redact(message));
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace installer::log
