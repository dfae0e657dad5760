#pragma once
#include <string>
#include <string_view>

namespace installer {

/// Standard base64 (RFC 4648, with padding, no line breaks) of the bytes: what binary
/// data becomes to be stored in a text column.
std::string base64_encode(std::string_view bytes);
/// The bytes back; throws std::invalid_argument on anything but that text (whitespace,
/// another alphabet, missing or misplaced padding).
std::string base64_decode(std::string_view text);

}  // namespace installer
