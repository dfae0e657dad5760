#include "installer/util/base64.hpp"

#include "installer/util/libcrypto_api.hpp"

#include <climits>
#include <stdexcept>

namespace installer {
namespace {

bool in_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// EVP_DecodeBlock skips surrounding whitespace and, with padding, counts the bytes the
// '=' stand for as zeros: the text is checked first so that only the canonical form passes
// and the padding is known.
size_t padding_of(std::string_view text) {
  if (text.size() % 4 != 0) throw std::invalid_argument("base64: length is not a multiple of 4");
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  for (size_t i = 0; i < text.size() - padding; ++i)
    if (!in_alphabet(text[i])) throw std::invalid_argument("base64: a character outside its alphabet");
  return padding;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX) / 4 * 3) throw std::invalid_argument("base64: input too long");
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock writes a NUL after the text
  int length = libcrypto().EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                           reinterpret_cast<const unsigned char*>(bytes.data()),
                                           static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

std::string base64_decode(std::string_view text) {
  if (text.size() > static_cast<size_t>(INT_MAX)) throw std::invalid_argument("base64: input too long");
  size_t padding = padding_of(text);
  std::string out(text.size() / 4 * 3, '\0');
  int length = libcrypto().EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                           reinterpret_cast<const unsigned char*>(text.data()),
                                           static_cast<int>(text.size()));
  if (length < 0 || static_cast<size_t>(length) != out.size()) throw std::invalid_argument("base64: not decodable");
  out.resize(out.size() - padding);
  return out;
}

}  // namespace installer
