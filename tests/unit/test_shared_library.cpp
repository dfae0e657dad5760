// Libraries opened on first use: a missing one, or one too old for a function, is a
// configuration error that names the library and the package to install.
#include "installer/util/error.hpp"
#include "installer/util/shared_library.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

using namespace installer;

TEST_CASE("shared library: a missing one is exit 78 naming it and its package") {
  try {
    SharedLibrary missing("libinstaller-does-not-exist.so.9", "libinstaller-none9");
    FAIL("a library that does not exist was opened");
  } catch (const UserError& e) {
    CHECK(e.code() == exit_config);
    std::string message = e.what();
    CHECK(message.find("libinstaller-does-not-exist.so.9 cannot be loaded") != std::string::npos);
    CHECK(message.find("install the package libinstaller-none9") != std::string::npos);
  }
}

TEST_CASE("shared library: a function it lacks is exit 78; one it has is bound") {
  SharedLibrary libc("libc.so.6", "libc6");
  decltype(&::strlen) length = nullptr;
  libc.bind(length, "strlen");
  REQUIRE(static_cast<bool>(length));
  CHECK(length("four") == 4);
  void (*absent)() = nullptr;
  try {
    libc.bind(absent, "installer_no_such_function");
    FAIL("a function that does not exist was bound");
  } catch (const UserError& e) {
    CHECK(e.code() == exit_config);
    CHECK(std::string(e.what()).find("has no function installer_no_such_function") != std::string::npos);
  }
}
