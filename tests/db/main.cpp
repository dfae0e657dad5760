// Tests against a real server. scripts/test.sh starts throwaway servers and exports
// their URLs; without one this binary exits 77, which ctest reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include "db_fixture.hpp"
#include "installer/util/log.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

int main(int argc, char** argv) {
  std::string engine = "postgres";
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--engine=", 9) == 0) engine = argv[i] + 9;
    else args.push_back(argv[i]);
  }
  const char* variable = "INSTALLER_TEST_PG_URL";
  const char* url = std::getenv(variable);
  if (!url || !*url) {
    std::cerr << variable << " is not set: no " << engine << " server to test against (scripts/test.sh starts one)\n";
    return 77;
  }
  installer::testing::set_server({installer::Engine::postgres, url});
  installer::log::set_level(installer::log::Level::error);
  doctest::Context context(static_cast<int>(args.size()), args.data());
  return context.run();
}
