#include "installer/util/version_order.hpp"

#include <cctype>
#include <string>
#include <vector>

namespace installer {
namespace {

bool is_separator(char c) { return c == '.' || c == '-' || c == '_'; }

std::vector<std::string_view> split_parts(std::string_view v) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= v.size(); ++i) {
    if (i == v.size() || is_separator(v[i])) {
      parts.push_back(v.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string_view strip_leading_zeros(std::string_view s) {
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == '0') ++i;
  return s.substr(i);
}

int compare_numbers(std::string_view a, std::string_view b) {
  a = strip_leading_zeros(a);
  b = strip_leading_zeros(b);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int compare_parts(std::string_view a, std::string_view b) {
  bool a_num = all_digits(a), b_num = all_digits(b);
  if (a_num && b_num) return compare_numbers(a, b);
  if (a_num != b_num) return a_num ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

/// The parts of a version one by one, as split_parts gives them, then "0" for ever: a
/// shorter version compares as if padded with zeros. Without a vector: sorting a long
/// history compares versions tens of thousands of times.
class PartCursor {
 public:
  explicit PartCursor(std::string_view version) : version_(version) {}
  bool done() const { return position_ > version_.size(); }
  std::string_view next() {
    if (done()) return "0";
    size_t end = position_;
    while (end < version_.size() && !is_separator(version_[end])) ++end;
    std::string_view part = version_.substr(position_, end - position_);
    position_ = end + 1;
    return part;
  }

 private:
  std::string_view version_;
  size_t position_ = 0;
};

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
  PartCursor pa(a), pb(b);
  while (!pa.done() || !pb.done())
    if (int c = compare_parts(pa.next(), pb.next()); c != 0) return c;
  return 0;
}

std::string version_key(std::string_view v) {
  std::vector<std::string_view> parts = split_parts(v);
  // Missing parts count as 0: trailing zeros say nothing.
  while (!parts.empty() && all_digits(parts.back()) && strip_leading_zeros(parts.back()) == "0") parts.pop_back();
  std::string key;
  for (auto part : parts) {
    // Tagged, so that a numeric part never equals a textual one; no part holds a separator.
    bool numeric = all_digits(part);
    key += numeric ? '#' : '=';
    key += numeric ? strip_leading_zeros(part) : part;
    key += '.';
  }
  return key;
}

bool is_valid_version(std::string_view v) {
  if (v.empty()) return false;
  for (auto part : split_parts(v)) {
    if (part.empty()) return false;
    for (char c : part)
      if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace installer
