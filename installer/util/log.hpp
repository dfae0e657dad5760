#pragma once
#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace installer::log {

enum class Level { debug, info, warn, error };
enum class Format { human, json };

/// Lines below this level are dropped. Default: info.
void set_level(Level level);
/// human: "2026-…Z info  message key=value"; json: one object per line. Default: human.
void set_format(Format format);

/// Named values that travel with a line: in JSON as keys, for humans after the message.
using Fields = std::vector<std::pair<std::string, std::string>>;

/// Writes one line to stderr: UTC timestamp, level, message. Secrets are redacted.
void write(Level level, std::string_view message, const Fields& fields = {});

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}
/// An info line with fields (update, step, duration_ms, ...).
template <typename... Args>
void event(const Fields& fields, fmt::format_string<Args...> f, Args&&... args) {
  write(Level::info, fmt::format(f, std::forward<Args>(args)...), fields);
}

}  // namespace installer::log
