#include "installer/util/redact.hpp"

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
  for (const std::string& form : {std::string(secret), percent_encode(secret)}) {
    if (std::find(secrets().begin(), secrets().end(), form) == secrets().end())
      secrets().push_back(form);
  }
  // Longest first, so a secret that contains another is replaced whole.
  std::sort(secrets().begin(), secrets().end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string redact(std::string_view text) {
  std::string out(text);
  std::lock_guard<std::mutex> lock(secrets_mutex);
  for (const auto& s : secrets()) replace_all(out, s);
  return out;
}

void clear_secrets_for_testing() {
  std::lock_guard<std::mutex> lock(secrets_mutex);
  secrets().clear();
}

}  // namespace installer
