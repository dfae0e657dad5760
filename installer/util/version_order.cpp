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

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
  auto pa = split_parts(a), pb = split_parts(b);
  size_t n = std::max(pa.size(), pb.size());
  for (size_t i = 0; i < n; ++i) {
    std::string_view x = i < pa.size() ? pa[i] : std::string_view("0");
    std::string_view y = i < pb.size() ? pb[i] : std::string_view("0");
    if (int c = compare_parts(x, y); c != 0) return c;
  }
  return 0;
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
