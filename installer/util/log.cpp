#include "installer/util/log.hpp"

#include "installer/util/redact.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace installer::log {
namespace {
Level threshold = Level::info;
Format format = Format::human;

const char* level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto seconds = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", stamp, millis);
}
}  // namespace

void set_level(Level level) { threshold = level; }
void set_format(Format f) { format = f; }

void write(Level level, std::string_view message, const Fields& fields) {
  if (level < threshold) return;
  std::string line;
  if (format == Format::json) {
    nlohmann::ordered_json j;  // ts, level, msg first, as people read them
    j["ts"] = timestamp();
    j["level"] = level_name(level);
    j["msg"] = redact(message);
    for (const auto& [k, v] : fields) j[k] = redact(v);
    // Invalid UTF-8 from a server message must not cost the whole line.
    line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  } else {
    line = fmt::format("{} {:<5} {}\n", timestamp(), level_name(level), redact(message));
  }
  // One fputs per line keeps lines whole when several processes share stderr.
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace installer::log
