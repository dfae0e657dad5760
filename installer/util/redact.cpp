#include "installer/util/redact.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

namespace installer {
namespace {

std::mutex secrets_mutex;
std::vector<std::string>& secrets() {
  static std::vector<std::string> list;
  return list;
}

std::string percent_encode(std::string_view s) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

/// The secret as a JSON string holds it (without the quotes), escaped by the same library
/// that writes the JSON logs and reports: a line that escapes before it is scrubbed must not
/// slip past the scrubber.
std::string json_escaped(std::string_view s) {
  std::string quoted = nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

/// The secret inside an SQL string literal, as a statement echoed in an error shows it:
/// quotes doubled (standard SQL), or backslash-escaped (MariaDB's default).
std::string sql_doubled(std::string_view s) {
  std::string out;
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out;
}
std::string backslash_escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\'' || c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

/// Tabs and line breaks as one-line excerpts show them: the installer's own abbreviations
/// and the server's "LINE 1:" echo of a statement turn them into spaces.
std::string flattened(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return out;
}

/// Every form in which a secret may reach an output: as it is, percent-encoded (URLs),
/// inside an SQL literal either way it is escaped, flattened to one line, and each of
/// those escaped for JSON.
std::vector<std::string> forms_of(std::string_view secret) {
  std::vector<std::string> forms{percent_encode(secret)};
  for (const std::string& literal : {std::string(secret), sql_doubled(secret), backslash_escaped(secret)})
    for (const std::string& line : {literal, flattened(literal)})
      for (const std::string& form : {line, json_escaped(line)}) forms.push_back(form);
  return forms;
}

/// A secret cut short by an abbreviation ("p@ssw..." or "...ssword"): its start before an
/// ellipsis, its end after one, down to a few characters.
void replace_truncated(std::string& text, const std::string& secret) {
  constexpr size_t kShortest = 4;
  if (secret.size() <= kShortest) return;
  for (size_t dots = text.find("..."); dots != std::string::npos; dots = text.find("...", dots + 3)) {
    for (size_t n = secret.size() - 1; n >= kShortest; --n) {
      if (dots >= n && text.compare(dots - n, n, secret, 0, n) == 0) {
        text.replace(dots - n, n, "***");
        dots = dots - n + 3;
        break;
      }
    }
    for (size_t n = secret.size() - 1; n >= kShortest; --n) {
      if (dots + 3 + n <= text.size() && text.compare(dots + 3, n, secret, secret.size() - n, n) == 0) {
        text.replace(dots + 3, n, "***");
        break;
      }
    }
  }
}

void replace_all(std::string& text, const std::string& needle) {
  if (needle.empty()) return;
  size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    text.replace(pos, needle.size(), "***");
    pos += 3;
  }
}

}  // namespace

void register_secret(std::string_view secret) {
  // Very short secrets would redact ordinary words; they are weak anyway and still
  // never printed on purpose.
  if (secret.size() < 3) return;
  std::lock_guard<std::mutex> lock(secrets_mutex);
  for (const std::string& form : forms_of(secret)) {
    if (std::find(secrets().begin(), secrets().end(), form) == secrets().end()) secrets().push_back(form);
  }
  // Longest first, so a secret that contains another is replaced whole.
  std::sort(secrets().begin(), secrets().end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string redact(std::string_view text) {
  std::string out(text);
  std::lock_guard<std::mutex> lock(secrets_mutex);
  for (const auto& s : secrets()) replace_all(out, s);
  if (out.find("...") != std::string::npos)
    for (const auto& s : secrets()) replace_truncated(out, s);
  return out;
}

void clear_secrets_for_testing() {
  std::lock_guard<std::mutex> lock(secrets_mutex);
  secrets().clear();
}

}  // namespace installer
