// TLS to the database on both engines: off, required, and verified against a CA file.
// scripts/test.sh starts the servers with a certificate from a throwaway CA and exports
// the CA (INSTALLER_TEST_*_TLS_CA) and an unrelated one (INSTALLER_TEST_*_OTHER_CA).
#define DOCTEST_CONFIG_IMPLEMENT
#include "installer/db/connection_url.hpp"
#include "installer/db/db_error.hpp"
#include "installer/mariadb/maria_database.hpp"
#include "installer/postgres/pg_database.hpp"
#include "installer/util/log.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>

using namespace installer;

namespace {

struct Target {
  Engine engine = Engine::postgres;
  std::string url, ca, other_ca;
};
Target target;

std::unique_ptr<Database> open_with(TlsMode mode, const std::string& ca) {
  ConnectionSpec spec = parse_connection_url(target.url);
  if (spec.database.empty()) spec.database = "mysql";
  spec.tls = mode;
  spec.tls_ca_file = ca;
  return spec.engine == Engine::postgres ? open_postgres(spec, std::chrono::seconds(5))
                                         : open_mariadb(spec, std::chrono::seconds(5));
}

bool encrypted(Database& db) {
  if (db.engine() == Engine::postgres)
    return db.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", {})[0][0] == std::string("t");
  auto rows = db.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'", {});
  return !rows.empty() && rows[0][1] && !rows[0][1]->empty();
}

/// Exit code and output of `installer status` with the given URL.
std::pair<int, std::string> run_status(const std::string& url) {
  std::string command = std::string("INSTALLER_DB_URL='") + url + "' " + INSTALLER_BINARY +
                        " status --connect-timeout 5s 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  std::array<char, 4096> buffer{};
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string url_with(const std::string& query) {
  std::string url = target.url;
  if (target.engine != Engine::postgres && url.back() == '/') url += "mysql";
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

}  // namespace

TEST_CASE("TLS off: the session is not encrypted") {
  auto db = open_with(TlsMode::disable, "");
  CHECK_FALSE(encrypted(*db));
}

TEST_CASE("TLS required: the session is encrypted, without checking the certificate") {
  auto db = open_with(TlsMode::require, "");
  CHECK(encrypted(*db));
}

TEST_CASE("TLS verified against the right CA: encrypted; against another CA: refused") {
  auto db = open_with(TlsMode::verify_full, target.ca);
  CHECK(encrypted(*db));
  CHECK_THROWS_AS(open_with(TlsMode::verify_full, target.other_ca), DbError);
  if (target.engine == Engine::postgres) {
    auto ca_only = open_with(TlsMode::verify_ca, target.ca);
    CHECK(encrypted(*ca_only));
  }
}

TEST_CASE("the command line: sslmode and sslrootcert in the URL, a wrong CA is a clear exit 69") {
  auto [ok, ok_out] = run_status(url_with("sslmode=verify-full&sslrootcert=" + target.ca));
  INFO(ok_out);
  CHECK(ok == 0);
  auto [bad, bad_out] = run_status(url_with("sslmode=verify-full&sslrootcert=" + target.other_ca));
  INFO(bad_out);
  CHECK(bad == 69);
  CHECK(bad_out.find("cannot connect to") != std::string::npos);
  CHECK(bad_out.find(parse_connection_url(target.url).password) == std::string::npos);
}

int main(int argc, char** argv) {
  std::string engine = "postgres";
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--engine=", 9) == 0) engine = argv[i] + 9;
    else args.push_back(argv[i]);
  }
  std::string prefix = engine == "postgres" ? "INSTALLER_TEST_PG" : "INSTALLER_TEST_MARIADB";
  const char* url = std::getenv((prefix + "_URL").c_str());
  const char* ca = std::getenv((prefix + "_TLS_CA").c_str());
  const char* other = std::getenv((prefix + "_OTHER_CA").c_str());
  if (!url || !ca || !other) {
    std::cerr << prefix << "_URL, _TLS_CA and _OTHER_CA are not all set: no " << engine
              << " server with TLS to test against (scripts/test.sh starts one)\n";
    return 77;
  }
  target = {engine == "postgres" ? Engine::postgres : Engine::mariadb, url, ca, other};
  log::set_level(log::Level::error);
  doctest::Context context(static_cast<int>(args.size()), args.data());
  return context.run();
}
