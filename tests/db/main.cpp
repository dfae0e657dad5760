// Tests against a real server. scripts/test.sh starts throwaway servers and exports
// their URLs; without one this binary exits 77, which ctest reports as skipped.
//
//   installer_db_tests --engine=postgres   reads INSTALLER_TEST_PG_URL
//   installer_db_tests --engine=mariadb    reads INSTALLER_TEST_MARIADB_URL
//                                          (mariadb://USER:PW@HOST:PORT/, no database needed)
//
// Every test runs on both engines unless it is in the doctest suite "postgres-only" or
// "mariadb-only"; the other engine's suite is left out here, so the summary line counts
// exactly the tests that ran.
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
  installer::Engine expected;
  const char* variable;
  if (engine == "postgres") {
    expected = installer::Engine::postgres;
    variable = "INSTALLER_TEST_PG_URL";
  } else if (engine == "mariadb") {
    expected = installer::Engine::mariadb;
    variable = "INSTALLER_TEST_MARIADB_URL";
  } else {
    std::cerr << "--engine must be postgres or mariadb, not '" << engine << "'\n";
    return 2;
  }
  const char* url = std::getenv(variable);
  if (!url || !*url) {
    std::cerr << variable << " is not set: no " << engine << " server to test against (scripts/test.sh starts one)\n";
    return 77;
  }
  installer::Engine engine_of_url;
  try {
    engine_of_url = installer::parse_connection_url(url).engine;
  } catch (const std::exception& e) {
    std::cerr << variable << ": " << e.what() << "\n";
    return 2;
  }
  // A mysql:// URL is a MariaDB-family server for these tests; the fixture and the
  // step files follow the MariaDB flavour.
  bool matches = engine_of_url == expected ||
                 (expected == installer::Engine::mariadb && engine_of_url == installer::Engine::mysql);
  if (!matches) {
    std::cerr << variable << " names a " << installer::engine_name(engine_of_url) << " server, but --engine=" << engine
              << "\n";
    return 2;
  }
  installer::testing::set_server({expected, url});
  installer::log::set_level(installer::log::Level::error);
  doctest::Context context(static_cast<int>(args.size()), args.data());
  context.addFilter("test-suite-exclude", expected == installer::Engine::postgres ? installer::testing::kMariadbOnly
                                                                                  : installer::testing::kPostgresOnly);
  return context.run();
}
