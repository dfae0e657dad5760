// Version ordering (which update comes first) and the duration syntax of the settings.
#include "installer/util/duration.hpp"
#include "installer/util/version_order.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

using namespace installer;
using std::chrono::milliseconds;

namespace {

int sign(int v) { return (v > 0) - (v < 0); }

/// compare_versions(a, b), checked to be the mirror image of compare_versions(b, a).
int order(const std::string& a, const std::string& b) {
  int forward = sign(compare_versions(a, b));
  int backward = sign(compare_versions(b, a));
  INFO("comparing '", a, "' with '", b, "'");
  CHECK(forward == -backward);
  return forward;
}

}  // namespace

TEST_CASE("compare_versions compares numeric parts as numbers, not as text") {
  CHECK(order("2024.10.0", "2024.9.0") == 1);
  CHECK(order("1.10", "1.9") == 1);
  CHECK(order("2", "10") == -1);
  CHECK(order("1.2.3", "1.2.4") == -1);
  CHECK(order("1.2.3", "1.3.0") == -1);
  CHECK(order("2.0", "1.99.99") == 1);
  CHECK(order("1.0.0", "1.0.0") == 0);
  // Any length: no overflow at 64 bits.
  CHECK(order("1.99999999999999999999", "1.100000000000000000000") == -1);
  CHECK(order("123456789012345678901234567890", "123456789012345678901234567891") == -1);
}

TEST_CASE("compare_versions treats missing parts as 0") {
  CHECK(order("1.2", "1.2.0") == 0);
  CHECK(order("1", "1.0.0.0") == 0);
  CHECK(order("1.2", "1.2.1") == -1);
  CHECK(order("1.2.0.1", "1.2") == 1);
}

TEST_CASE("compare_versions ignores leading zeros of numeric parts") {
  CHECK(order("01", "1") == 0);
  CHECK(order("1.01", "1.1") == 0);
  CHECK(order("000", "0") == 0);
  CHECK(order("2024.01.05", "2024.1.10") == -1);
  CHECK(order("1.010", "1.9") == 1);
  CHECK(order("0010", "9") == 1);
}

TEST_CASE("'.', '-' and '_' are equivalent separators") {
  CHECK(order("1-2", "1.2") == 0);
  CHECK(order("1_2_3", "1.2.3") == 0);
  CHECK(order("2024_10", "2024.9") == 1);
}

TEST_CASE("a numeric part sorts before a textual one; textual parts compare as text") {
  CHECK(order("1.0.1", "1.0.a") == -1);
  CHECK(order("1.9", "1.a") == -1);
  CHECK(order("1.999", "1.x") == -1);
  // As documented (not semver): the missing part of "1.0" counts as the number 0, which
  // sorts before the text "rc1", so a release candidate comes after the release.
  CHECK(order("1.0-rc1", "1.0") == 1);
  CHECK(order("1.0-rc1", "1.0.0") == 1);
  CHECK(order("1.0-rc1", "1.0-rc2") == -1);
  CHECK(order("1.0-beta", "1.0-rc") == -1);
  CHECK(order("1.0-rc1", "1.1") == -1);
  CHECK(order("v2", "v2") == 0);
  CHECK(order("2a", "2") == 1);  // "2a" is text, "2" a number
}

TEST_CASE("sorting with compare_versions gives release order") {
  std::vector<std::string> versions = {"2024.10.0", "1.0-rc1", "2024.9.0", "1.10", "1.9", "01.2", "1.0", "2024.9.1"};
  std::sort(versions.begin(), versions.end(),
            [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
  CHECK(versions ==
        std::vector<std::string>{"1.0", "1.0-rc1", "01.2", "1.9", "1.10", "2024.9.0", "2024.9.1", "2024.10.0"});
}

TEST_CASE("is_valid_version accepts non-empty alphanumeric parts") {
  for (const char* v : {"1", "1.2.3", "2024.10.0", "1.0-rc1", "v2", "1_2", "01", "20240131", "A.b.C"}) {
    INFO(v);
    CHECK(is_valid_version(v));
  }
}

TEST_CASE("is_valid_version rejects empty parts and other characters") {
  for (const char* v : {"", ".", "1.", ".1", "1..2", "-1", "1-", "1.2 ", " 1.2", "1 .2", "1/2", "1.0+build", "1,2",
                        "1.2.3\n", "caf\xc3\xa9"}) {
    INFO("'", v, "'");
    CHECK_FALSE(is_valid_version(v));
  }
}

TEST_CASE("parse_duration understands ms, s, m, h and bare seconds") {
  CHECK(parse_duration("30s") == milliseconds(30'000));
  CHECK(parse_duration("30") == milliseconds(30'000));
  CHECK(parse_duration("1500ms") == milliseconds(1'500));
  CHECK(parse_duration("2m") == milliseconds(120'000));
  CHECK(parse_duration("1h") == milliseconds(3'600'000));
  CHECK(parse_duration("0") == milliseconds(0));
  CHECK(parse_duration("0ms") == milliseconds(0));
  CHECK(parse_duration("007s") == milliseconds(7'000));
}

TEST_CASE("parse_duration refuses anything else, naming the text") {
  for (const char* bad :
       {"", "s", "ms", "-5s", "+5s", "1.5s", "30 s", " 30s", "30s ", "30sec", "1d", "10m5s", "5 ", "0x10"}) {
    INFO("'", bad, "'");
    const std::string expected = "'" + std::string(bad) + "' is not a duration";
    CHECK_THROWS_WITH_AS(parse_duration(bad), doctest::Contains(expected.c_str()), std::invalid_argument);
  }
}

TEST_CASE("format_duration picks milliseconds, tenths of seconds or minutes") {
  CHECK(format_duration(milliseconds(0)) == "0ms");
  CHECK(format_duration(milliseconds(850)) == "850ms");
  CHECK(format_duration(milliseconds(999)) == "999ms");
  CHECK(format_duration(milliseconds(1'000)) == "1.0s");
  CHECK(format_duration(milliseconds(12'300)) == "12.3s");
  CHECK(format_duration(milliseconds(12'340)) == "12.3s");
  CHECK(format_duration(milliseconds(59'000)) == "59.0s");
  CHECK(format_duration(milliseconds(60'000)) == "1m00s");
  CHECK(format_duration(milliseconds(245'000)) == "4m05s");
  CHECK(format_duration(milliseconds(245'999)) == "4m06s");  // rounded, like the seconds
  CHECK(format_duration(milliseconds(600'000)) == "10m00s");
  CHECK(format_duration(parse_duration("2m")) == "2m00s");
}

TEST_CASE("format_duration rounds before choosing the unit") {
  CHECK(format_duration(std::chrono::milliseconds(59999)) == "1m00s");
  CHECK(format_duration(std::chrono::milliseconds(59949)) == "59.9s");
  CHECK(format_duration(std::chrono::milliseconds(1000)) == "1.0s");
}

TEST_CASE("version_key is equal exactly when compare_versions says the versions are") {
  const std::vector<std::string> versions = {"",      "0",     "00",   "0.0", "1",   "01",    "1.0",   "1.0.0",
                                             "1-0",   "1_0_0", "1.00", "1.a", "1.A", "1.0.a", "1.a.0", "a",
                                             "a.0",   "0.a",   "1..0", "1.",  ".1",  "10",    "1.10",  "1.1.0",
                                             "2.0.1", "2.1",   "2.01", "x1",  "1x",  "1.0x",  "007",   "7"};
  for (const auto& a : versions)
    for (const auto& b : versions) {
      CAPTURE(a);
      CAPTURE(b);
      CHECK((version_key(a) == version_key(b)) == (compare_versions(a, b) == 0));
    }
}
