#define DOCTEST_CONFIG_IMPLEMENT
#include "installer/util/log.hpp"

#include <doctest/doctest.h>

int main(int argc, char** argv) {
  // The engine logs every step; in unit tests that is noise around the assertions.
  installer::log::set_level(installer::log::Level::error);
  doctest::Context context(argc, argv);
  return context.run();
}
