#include "installer/util/shell_quote.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace installer {

std::string shell_quote(std::string_view word) {
  auto plain = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || (c != '\0' && std::strchr("._-+@:,=/", c));
  };
  auto printable = [](char c) { return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F; };
  if (!word.empty() && word[0] != '~' && std::all_of(word.begin(), word.end(), plain)) return std::string(word);
  if (std::all_of(word.begin(), word.end(), printable)) {
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }
  std::string out = "$'";
  for (char c : word) {
    if (c == '\'' || c == '\\') out += std::string("\\") + c;
    else if (printable(c)) out += c;
    else out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
  }
  return out + "'";
}

}  // namespace installer
