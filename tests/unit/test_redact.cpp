// Keeping secrets out of output (redact, redacted URLs), parsing connection URLs, and
// the schema fingerprint's text form and wording.
#include "installer/db/connection_url.hpp"
#include "installer/db/fingerprint.hpp"
#include "installer/util/redact.hpp"
#include "installer/util/sha256.hpp"
#include "unit_support.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

using namespace installer;
using installer::unit_support::contains;
using installer::unit_support::SecretsReset;

namespace {

std::string url_error(const std::string& url) {
  try {
    parse_connection_url(url);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  FAIL("parse_connection_url accepted '" << url << "'");
  return {};
}

}  // namespace

// ------------------------------------------------------------------ redact

TEST_CASE("redact replaces every occurrence of a registered secret") {
  SecretsReset reset;
  CHECK(redact("nothing registered: hunter22") == "nothing registered: hunter22");
  register_secret("hunter22");
  CHECK(redact("password=hunter22; again hunter22!") == "password=***; again ***!");
  CHECK(redact("hunter22hunter22") == "******");
  CHECK(redact("hunter2 is not the secret") == "hunter2 is not the secret");
  CHECK(redact("") == "");
}

TEST_CASE("redact replaces the percent-encoded form too") {
  SecretsReset reset;
  register_secret("p@ss w/rd:%");
  CHECK(redact("url postgresql://u:p%40ss%20w%2Frd%3A%25@h/db") == "url postgresql://u:***@h/db");
  CHECK(redact("raw p@ss w/rd:% here") == "raw *** here");
}

TEST_CASE("redact replaces the longest secret first") {
  SecretsReset reset;
  register_secret("abc123");
  register_secret("abc123xyz");
  CHECK(redact("token abc123xyz and abc123") == "token *** and ***");
  SecretsReset again;
  register_secret("abc123xyz");  // registration order does not matter
  register_secret("abc123");
  CHECK(redact("abc123xyz") == "***");
}

TEST_CASE("redact ignores secrets shorter than three characters") {
  SecretsReset reset;
  register_secret("");
  register_secret("a");
  register_secret("ab");
  CHECK(redact("a cab is ab") == "a cab is ab");
  register_secret("abc");
  CHECK(redact("a cab is abc") == "a cab is ***");
}

TEST_CASE("registering a secret twice is harmless") {
  SecretsReset reset;
  register_secret("twice-secret");
  register_secret("twice-secret");
  CHECK(redact("twice-secret") == "***");
}

TEST_CASE("clear_secrets_for_testing forgets every secret") {
  SecretsReset reset;
  register_secret("forget-me");
  CHECK(redact("forget-me") == "***");
  clear_secrets_for_testing();
  CHECK(redact("forget-me") == "forget-me");
}

// ------------------------------------------------------------------ connection URLs

TEST_CASE("parse_connection_url: the schemes and their engines and default ports") {
  struct Case {
    const char* url;
    Engine engine;
    int port;
  };
  for (Case c : {Case{"postgresql://db/x", Engine::postgres, 5432}, Case{"postgres://db/x", Engine::postgres, 5432},
                 Case{"mariadb://db/x", Engine::mariadb, 3306}, Case{"mysql://db/x", Engine::mysql, 3306}}) {
    INFO(c.url);
    ConnectionSpec spec = parse_connection_url(c.url);
    CHECK(spec.engine == c.engine);
    CHECK_FALSE(spec.port.has_value());
    CHECK(spec.effective_port() == c.port);
    CHECK(spec.host == "db");
    CHECK(spec.database == "x");
  }
}

TEST_CASE("parse_connection_url: user, password, host, port and database") {
  ConnectionSpec spec = parse_connection_url("postgresql://app:s3cret@db.example.com:6432/shop");
  CHECK(spec.user == "app");
  CHECK(spec.password == "s3cret");
  CHECK(spec.host == "db.example.com");
  CHECK(spec.port == 6432);
  CHECK(spec.effective_port() == 6432);
  CHECK(spec.database == "shop");
  CHECK(spec.options.empty());
  CHECK_FALSE(spec.tls.has_value());

  ConnectionSpec user_only = parse_connection_url("mariadb://app@db/shop");
  CHECK(user_only.user == "app");
  CHECK(user_only.password.empty());

  ConnectionSpec bare = parse_connection_url("postgresql://");
  CHECK(bare.host == "127.0.0.1");
  CHECK(bare.user.empty());
  CHECK(bare.database.empty());
}

TEST_CASE("parse_connection_url: percent-decoding of user, password and database") {
  ConnectionSpec spec = parse_connection_url("postgresql://us%65r%40corp:p%40ss%3Aw%2Frd%25%3F@db/my%20db");
  CHECK(spec.user == "user@corp");
  CHECK(spec.password == "p@ss:w/rd%?");
  CHECK(spec.database == "my db");
  // An unencoded '@' or ':' in the password still parses: the last '@' ends the user part.
  ConnectionSpec raw = parse_connection_url("postgresql://app:p@ss:word@db:5432/x");
  CHECK(raw.user == "app");
  CHECK(raw.password == "p@ss:word");
  CHECK(raw.host == "db");
  CHECK(raw.port == 5432);
}

TEST_CASE("parse_connection_url: IPv6 hosts in brackets") {
  ConnectionSpec with_port = parse_connection_url("postgresql://app@[::1]:5433/x");
  CHECK(with_port.host == "::1");
  CHECK(with_port.port == 5433);
  ConnectionSpec without_port = parse_connection_url("postgresql://[2001:db8::7]/x");
  CHECK(without_port.host == "2001:db8::7");
  CHECK_FALSE(without_port.port.has_value());
  CHECK(url_error("postgresql://[::1:5432/x") == "database URL: unterminated [IPv6] host");
}

TEST_CASE("parse_connection_url: sslmode, sslrootcert and other options") {
  ConnectionSpec spec = parse_connection_url(
      "postgresql://db/x?sslmode=verify-full&sslrootcert=/etc/ca%20file.pem&application_name=inst&&flag");
  CHECK(spec.tls == TlsMode::verify_full);
  CHECK(spec.tls_ca_file == "/etc/ca file.pem");
  CHECK(spec.options == std::map<std::string, std::string>{{"application_name", "inst"}, {"flag", ""}});

  struct Case {
    const char* query;
    TlsMode mode;
  };
  for (Case c : {Case{"sslmode=disable", TlsMode::disable}, Case{"sslmode=prefer", TlsMode::prefer},
                 Case{"sslmode=allow", TlsMode::prefer}, Case{"sslmode=require", TlsMode::require},
                 Case{"sslmode=verify-ca", TlsMode::verify_ca}, Case{"sslmode=verify_ca", TlsMode::verify_ca},
                 Case{"sslmode=verify-full", TlsMode::verify_full}, Case{"tls=true", TlsMode::require},
                 Case{"tls=off", TlsMode::disable}}) {
    INFO(c.query);
    CHECK(parse_connection_url(std::string("mysql://db/x?") + c.query).tls == c.mode);
  }
  CHECK(parse_connection_url("mysql://db/x?ssl-mode=verify-identity&ssl-ca=/ca.pem").tls == TlsMode::verify_full);
  CHECK(parse_connection_url("mysql://db/x?tls-ca=/ca.pem").tls_ca_file == "/ca.pem");
  CHECK(contains(url_error("postgresql://db/x?sslmode=sometimes"), "unknown TLS mode 'sometimes'"));
}

TEST_CASE("parse_connection_url: errors") {
  CHECK(url_error("db.example.com/x") == "database URL must start with postgresql://, mariadb:// or mysql://");
  CHECK(url_error("oracle://db/x") ==
        "database URL scheme 'oracle' is not supported (use postgresql://, mariadb:// or mysql://)");
  const std::string not_a_port =
      "database URL: the port is not a number from 1 to 65535 (is the '@' between the password and the host missing?)";
  for (const char* url : {"postgresql://db:54a2/x", "postgresql://db:-1/x", "postgresql://db:0/x",
                          "postgresql://db:65536/x", "postgresql://db:99999999999999999999/x"})
    CHECK(url_error(url) == not_a_port);
  // The '@' forgotten: nothing of the password is echoed, as a port or a host.
  CHECK(url_error("postgresql://admin:12345678db.example.com/x") == not_a_port);
  CHECK(url_error("postgresql://admin:123456/x") == not_a_port);
  CHECK(contains(url_error("postgresql://admin:s3cretdb.example.com:5432/x"), "is the '@' between the password"));
  CHECK(url_error("postgresql://admin:s3cretdb.example.com:5432/x").find("s3cret") == std::string::npos);
  CHECK(parse_connection_url("postgresql://db:65535/x").port == 65535);
  CHECK(parse_connection_url("postgresql://db:1/x").port == 1);
  CHECK(url_error("postgresql://u:p%4@db/x") == "database URL: bad percent-encoding in the password");
  CHECK(url_error("postgresql://u%zz:p@db/x") == "database URL: bad percent-encoding in the user name");
  CHECK(url_error("postgresql://db/x%") == "database URL: bad percent-encoding in the database name");
  CHECK(url_error("postgresql://db/x?password=topsecret") ==
        "database URL: put the password in the user part or INSTALLER_DB_PASSWORD_FILE, not in the query");
  CHECK(contains(url_error("postgresql://db/x?pass%77ord=topsecret"), "not in the query"));
}

TEST_CASE("parse_connection_url: error messages never contain the password") {
  const std::string password = "Secr3tPassw0rd";
  for (const std::string& url : {
           "postgresql://app:" + password + "@db:port/x",
           "postgresql://app:" + password + "@db:99999/x",
           "postgresql://app:" + password + "%g1@db/x",
           "postgresql://app:" + password + "@[::1/x",
           "postgresql://app:" + password + "@db/x?sslmode=" + "maybe",
           "postgresql://app@db/x?password=" + password,
           "sqlserver://app:" + password + "@db/x",
           "app:" + password + "@db/x",
       }) {
    std::string message = url_error(url);
    INFO(message);
    CHECK_FALSE(contains(message, password));
  }
}

TEST_CASE("redacted_url shows everything but the password") {
  ConnectionSpec spec = parse_connection_url(
      "postgres://app:s3cret@db:6432/shop?sslmode=require&application_name=inst");
  CHECK(spec.redacted_url() == "postgresql://app:***@db:6432/shop?sslmode=require&application_name=inst");

  CHECK(parse_connection_url("mariadb://db/x").redacted_url() == "mariadb://db:3306/x");
  CHECK(parse_connection_url("mysql://root@db/x?ssl-ca=/ca.pem").redacted_url() ==
        "mysql://root@db:3306/x?sslrootcert=/ca.pem");
  CHECK(parse_connection_url("postgresql://u:pw@[::1]/x").redacted_url() == "postgresql://u:***@[::1]:5432/x");
  CHECK(parse_connection_url("postgresql://us%40er@db/my%20db").redacted_url() ==
        "postgresql://us%40er@db:5432/my%20db");
}

TEST_CASE("redacted_url never contains the password, whatever its characters") {
  auto encode = [](const std::string& text) {
    std::string out;
    char buffer[4];
    for (unsigned char c : text) {
      if (std::isalnum(c)) {
        out += static_cast<char>(c);
      } else {
        std::snprintf(buffer, sizeof buffer, "%%%02X", c);
        out += buffer;
      }
    }
    return out;
  };
  for (const std::string password : {"p@ss:w0rd", "pa/ss%word", "a:b@c/d%e?f#g&h=i", "[::1]pw", "p%40ss"}) {
    INFO(password);
    ConnectionSpec spec = parse_connection_url("postgresql://app:" + encode(password) + "@db.internal:5432/shop");
    REQUIRE(spec.password == password);
    std::string shown = spec.redacted_url();
    CHECK(shown == "postgresql://app:***@db.internal:5432/shop");
    CHECK_FALSE(contains(shown, password));
    CHECK_FALSE(contains(shown, encode(password)));

    ConnectionSpec by_parts;
    by_parts.engine = Engine::mariadb;
    by_parts.host = "m";
    by_parts.user = "root";
    by_parts.password = password;
    CHECK(by_parts.redacted_url() == "mariadb://root:***@m:3306/");
  }
}

// ------------------------------------------------------------------ fingerprints

namespace {

Fingerprint sample() {
  Fingerprint fp;
  fp.add_kind("table", 3, sha256_hex("t1\nt2\nt3"));
  fp.add_kind("column", 12, sha256_hex("columns"));
  fp.add_kind("index", 4, sha256_hex("indexes"));
  return fp;
}

}  // namespace

TEST_CASE("fingerprint: serialize and parse round-trip") {
  Fingerprint fp = sample();
  std::string text = fp.serialize();
  CHECK(text == "column=12:" + sha256_hex("columns") + ";index=4:" + sha256_hex("indexes") +
                    ";table=3:" + sha256_hex("t1\nt2\nt3"));
  Fingerprint back = Fingerprint::parse(text);
  CHECK(back == fp);
  CHECK_FALSE(back != fp);
  CHECK(back.serialize() == text);
  CHECK(back.kinds().at("index").count == 4);
  CHECK(back.kinds().at("index").digest == sha256_hex("indexes"));

  Fingerprint empty;
  CHECK(empty.serialize().empty());
  CHECK(Fingerprint::parse("") == empty);
  CHECK(Fingerprint::parse("x=0:").kinds().at("x").digest.empty());
}

TEST_CASE("fingerprint: parse refuses malformed items") {
  CHECK_THROWS_WITH_AS(Fingerprint::parse("table"), "malformed fingerprint item 'table'", std::invalid_argument);
  CHECK_THROWS_WITH_AS(Fingerprint::parse("table=3"), "malformed fingerprint item 'table=3'", std::invalid_argument);
  CHECK_THROWS_WITH_AS(Fingerprint::parse("table:abc=3"), "malformed fingerprint item 'table:abc=3'",
                       std::invalid_argument);
  CHECK_THROWS_WITH(Fingerprint::parse("table=1:aa;oops"), "malformed fingerprint item 'oops'");
}

TEST_CASE("fingerprint: the digest is stable and depends on every kind") {
  Fingerprint a = sample(), b = sample();
  CHECK(a.digest() == b.digest());
  CHECK(a.digest() == sha256_hex(a.serialize()));
  CHECK(a.digest().size() == 64);
  CHECK(a.short_digest() == a.digest().substr(0, 12));
  // Insertion order does not matter: kinds are kept sorted.
  Fingerprint reordered;
  reordered.add_kind("index", 4, sha256_hex("indexes"));
  reordered.add_kind("table", 3, sha256_hex("t1\nt2\nt3"));
  reordered.add_kind("column", 12, sha256_hex("columns"));
  CHECK(reordered.digest() == a.digest());

  b.add_kind("index", 5, sha256_hex("indexes"));
  CHECK(b.digest() != a.digest());
  Fingerprint c = sample();
  c.add_kind("column", 12, sha256_hex("columns changed"));
  CHECK(c.digest() != a.digest());
  CHECK(c != a);
}

TEST_CASE("fingerprint: differences_from words count and definition changes") {
  Fingerprint before = sample();
  CHECK(before.differences_from(sample()).empty());

  Fingerprint now = sample();
  now.add_kind("index", 5, sha256_hex("more indexes"));
  now.add_kind("column", 12, sha256_hex("a column type changed"));
  CHECK(now.differences_from(before) ==
        std::vector<std::string>{"column: 12 before and now, but their definitions differ", "index: 4 before, 5 now"});
  CHECK(before.differences_from(now) ==
        std::vector<std::string>{"column: 12 before and now, but their definitions differ", "index: 5 before, 4 now"});

  Fingerprint with_trigger = sample();
  with_trigger.add_kind("trigger", 1, sha256_hex("trg"));
  CHECK(with_trigger.differences_from(before) == std::vector<std::string>{"trigger: 0 before, 1 now"});
  CHECK(before.differences_from(with_trigger) == std::vector<std::string>{"trigger: 1 before, 0 now"});
}

TEST_CASE("parse_connection_url: unencoded '/', '?' and ':' in the password stay in the password") {
  for (const std::string password : {"hunter2/x", "Hunt?er2", "5432/s3cr3t", "a:b:c", "ab+/cd=="}) {
    CAPTURE(password);
    ConnectionSpec spec = parse_connection_url("postgresql://app:" + password +
                                               "@db.internal:6543/shop?sslmode=require");
    CHECK(spec.user == "app");
    CHECK(spec.password == password);
    CHECK(spec.host == "db.internal");
    CHECK(spec.effective_port() == 6543);
    CHECK(spec.database == "shop");
    CHECK(spec.tls == TlsMode::require);
    CHECK_FALSE(contains(spec.redacted_url(), password));
  }
}

TEST_CASE("parse_connection_url: the scheme is case-insensitive") {
  CHECK(parse_connection_url("POSTGRESQL://h/db").engine == Engine::postgres);
  CHECK(parse_connection_url("MariaDB://h/db").engine == Engine::mariadb);
}

TEST_CASE("redact: a secret escaped for JSON or SQL, flattened to one line or cut short is scrubbed too") {
  installer::clear_secrets_for_testing();
  installer::register_secret("se\"cr'et\\\tpw");
  CHECK(installer::redact(R"({"msg":"se\"cr'et\\\tpw"})") == R"({"msg":"***"})");
  CHECK(installer::redact("VALUES ('se\"cr''et\\\tpw')") == "VALUES ('***')");
  CHECK(installer::redact("VALUES ('se\\\"cr\\'et\\\\\tpw')") == "VALUES ('***')");
  CHECK(installer::redact("LINE 1: SELECT 'se\"cr''et\\ pw'::int") == "LINE 1: SELECT '***'::int");
  CHECK(installer::redact("SELECT 'se\"cr'e...") == "SELECT '***...");
  CHECK(installer::redact("...'et\\\tpw' FROM t") == "...***' FROM t");
  CHECK(installer::redact("a sec... b") == "a sec... b");  // too short to tell
  installer::clear_secrets_for_testing();
}

TEST_CASE("parse_connection_url: sslpassword is a secret and never shown") {
  installer::clear_secrets_for_testing();
  auto spec = parse_connection_url("postgresql://u@db/x?sslpassword=k3y-pass&application_name=app");
  CHECK(spec.redacted_url().find("k3y-pass") == std::string::npos);
  CHECK(spec.redacted_url().find("sslpassword=***") != std::string::npos);
  CHECK(installer::redact("could not decrypt with k3y-pass") == "could not decrypt with ***");
  installer::clear_secrets_for_testing();
}
