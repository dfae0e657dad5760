#include "installer/util/shell_quote.hpp"

#include <doctest/doctest.h>

using installer::shell_quote;

TEST_CASE("shell_quote: plain ids stay as they are, the rest reads back unchanged in a shell") {
  CHECK(shell_quote("2024.01.0") == "2024.01.0");
  CHECK(shell_quote("V0012.WebAuthn_x-y+z@a:b,c=d") == "V0012.WebAuthn_x-y+z@a:b,c=d");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("~root") == "'~root'");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("$(touch /tmp/x)") == "'$(touch /tmp/x)'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote(std::string("a\x1b[31mb\r", 8)) == "$'a\\x1b[31mb\\x0d'");
  CHECK(shell_quote(std::string("q'\\\0", 4)) == "$'q\\'\\\\\\x00'");
}
