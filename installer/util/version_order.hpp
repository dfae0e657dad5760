#pragma once
#include <string>
#include <string_view>

namespace installer {

/// Compares update versions part by part: parts are split on '.', '-' and '_';
/// numeric parts compare as numbers of any length, other parts as text, and a
/// numeric part sorts before a textual one. Missing parts count as 0, so "1.2"
/// and "1.2.0" are the same version. Returns <0, 0 or >0.
int compare_versions(std::string_view a, std::string_view b);

/// The same text for two versions exactly when compare_versions() says they are equal:
/// a key for hashing, where a long history would otherwise compare versions thousands
/// of times to find a duplicate.
std::string version_key(std::string_view v);

/// True when the text is usable as a version: non-empty parts of letters and digits.
bool is_valid_version(std::string_view v);

}  // namespace installer
