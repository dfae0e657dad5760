#include "installer/catalog/script_text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace installer {
namespace {

/// The length of the well-formed UTF-8 sequence at text[i], or 0 when it is not one
/// (overlong forms, surrogates and code points past U+10FFFF included, as RFC 3629 says).
std::size_t utf8_sequence_length(const std::string& text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = lead >= 0xC2 && lead <= 0xDF   ? 2
                       : lead >= 0xE0 && lead <= 0xEF ? 3
                       : lead >= 0xF0 && lead <= 0xF4 ? 4
                                                      : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  unsigned char second = byte(i + 1);
  if (lead == 0xE0 && second < 0xA0) return 0;  // overlong
  if (lead == 0xED && second > 0x9F) return 0;  // UTF-16 surrogates
  if (lead == 0xF0 && second < 0x90) return 0;  // overlong
  if (lead == 0xF4 && second > 0x8F) return 0;  // past U+10FFFF
  return length;
}

int line_of(const std::string& text, std::size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

}  // namespace

std::optional<Problem> check_script_text(const std::string& text, const std::string& path) {
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\0')
      return Problem{path, line_of(text, i),
                     "contains a NUL byte: the server would end the statement there and run only what comes before it"};
    std::size_t length = utf8_sequence_length(text, i);
    if (length == 0)
      return Problem{path, line_of(text, i),
                     fmt::format("byte 0x{:02X} is not UTF-8: save the script as UTF-8 (the journal keeps it as text)",
                                 static_cast<unsigned char>(text[i]))};
    i += length;
  }
  return std::nullopt;
}

}  // namespace installer
