#include "installer/db/connection_url.hpp"

#include "installer/util/redact.hpp"

#include <fmt/format.h>

#include <cctype>
#include <stdexcept>

namespace installer {

const char* engine_name(Engine engine) {
  switch (engine) {
    case Engine::postgres: return "postgres";
    case Engine::mariadb: return "mariadb";
    case Engine::mysql: return "mysql";
  }
  return "postgres";
}

const char* default_admin_database(Engine engine) { return engine == Engine::postgres ? "postgres" : "mysql"; }

namespace {

std::string percent_decode(std::string_view s, std::string_view what) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
        throw std::invalid_argument(fmt::format("database URL: bad percent-encoding in the {}", what));
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string percent_encode_component(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

TlsMode parse_tls_mode(const std::string& v) {
  if (v == "disable" || v == "false" || v == "off") return TlsMode::disable;
  if (v == "prefer" || v == "allow") return TlsMode::prefer;
  if (v == "require" || v == "true" || v == "on") return TlsMode::require;
  if (v == "verify-ca" || v == "verify_ca") return TlsMode::verify_ca;
  if (v == "verify-full" || v == "verify_full" || v == "verify-identity") return TlsMode::verify_full;
  throw std::invalid_argument(
      fmt::format("database URL: unknown TLS mode '{}' (use disable, prefer, require, verify-ca or verify-full)", v));
}

}  // namespace

const char* tls_mode_name(TlsMode m) {
  switch (m) {
    case TlsMode::disable: return "disable";
    case TlsMode::prefer: return "prefer";
    case TlsMode::require: return "require";
    case TlsMode::verify_ca: return "verify-ca";
    case TlsMode::verify_full: return "verify-full";
  }
  return "prefer";
}

int ConnectionSpec::effective_port() const {
  if (port) return *port;
  return engine == Engine::postgres ? 5432 : 3306;
}

std::string ConnectionSpec::redacted_url() const {
  std::string scheme = engine == Engine::postgres ? "postgresql" : engine_name(engine);
  std::string auth;
  if (!user.empty()) auth = percent_encode_component(user) + (password.empty() ? "" : ":***") + "@";
  std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string url = fmt::format("{}://{}{}:{}/{}", scheme, auth, host_part, effective_port(),
                                percent_encode_component(database));
  char sep = '?';
  if (tls) {
    url += fmt::format("{}sslmode={}", sep, tls_mode_name(*tls));
    sep = '&';
  }
  if (!tls_ca_file.empty()) {
    url += fmt::format("{}sslrootcert={}", sep, tls_ca_file);
    sep = '&';
  }
  for (const auto& [k, v] : options) {
    url += fmt::format("{}{}={}", sep, k, k.find("password") != std::string::npos ? "***" : v);
    sep = '&';
  }
  return url;
}

namespace {

Engine parse_scheme(std::string scheme) {
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "postgresql" || scheme == "postgres") return Engine::postgres;
  if (scheme == "mariadb") return Engine::mariadb;
  if (scheme == "mysql") return Engine::mysql;
  throw std::invalid_argument(
      fmt::format("database URL scheme '{}' is not supported (use postgresql://, mariadb:// or mysql://)",
                  scheme.substr(0, 20)));
}

// Passwords often hold '/', '?' or ':' unencoded (base64 secrets): the user part ends
// at the last '@', so those never end up taken for the host, port or database.
// An '@' inside a query value must be percent-encoded.
std::string_view take_user_info(std::string_view rest, ConnectionSpec& spec) {
  auto at = rest.rfind('@');
  if (at == std::string_view::npos) return rest;
  std::string_view userinfo = rest.substr(0, at);
  if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
    spec.user = percent_decode(userinfo.substr(0, colon), "user name");
    spec.password = percent_decode(userinfo.substr(colon + 1), "password");
  } else {
    spec.user = percent_decode(userinfo, "user name");
  }
  return rest.substr(at + 1);
}

/// Sets the host; returns the port's text ("" when there is none).
std::string_view take_host(std::string_view hostport, ConnectionSpec& spec) {
  if (!hostport.empty() && hostport.front() == '[') {
    auto close = hostport.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("database URL: unterminated [IPv6] host");
    spec.host = std::string(hostport.substr(1, close - 1));
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') return hostport.substr(close + 2);
    return {};
  }
  auto colon = hostport.rfind(':');
  if (colon == std::string_view::npos) {
    if (!hostport.empty()) spec.host = std::string(hostport);
    return {};
  }
  spec.host = std::string(hostport.substr(0, colon));
  // No host name holds ':' (IPv6 addresses come in brackets): this is user:password
  // run into the host. Nothing of it is echoed, as it holds the password.
  if (spec.host.find(':') != std::string::npos)
    throw std::invalid_argument(
        "database URL: the host part holds more than one ':'; is the '@' between the password and the host "
        "missing? (an IPv6 host goes in [brackets])");
  return hostport.substr(colon + 1);
}

// The port's text is never echoed: with the '@' forgotten it is the password's start.
int parse_port(std::string_view port_text) {
  const char* not_a_port =
      "database URL: the port is not a number from 1 to 65535 (is the '@' between the password and the host missing?)";
  for (char c : port_text)
    if (!std::isdigit(static_cast<unsigned char>(c))) throw std::invalid_argument(not_a_port);
  int p = port_text.size() > 5 ? 0 : std::stoi(std::string(port_text));
  if (p < 1 || p > 65535) throw std::invalid_argument(not_a_port);
  return p;
}

void parse_query(std::string_view query, ConnectionSpec& spec) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq), "query");
    std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), "query");
    if (key == "sslmode" || key == "ssl-mode" || key == "tls") spec.tls = parse_tls_mode(value);
    else if (key == "sslrootcert" || key == "ssl-ca" || key == "tls-ca") spec.tls_ca_file = value;
    else if (key == "password")
      throw std::invalid_argument(
          "database URL: put the password in the user part or INSTALLER_DB_PASSWORD_FILE, not in the query");
    else spec.options[key] = value;
    if (key.find("password") != std::string::npos) register_secret(value);  // sslpassword: the key file's
  }
}

}  // namespace

ConnectionSpec parse_connection_url(std::string_view url) {
  ConnectionSpec spec;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    throw std::invalid_argument("database URL must start with postgresql://, mariadb:// or mysql://");
  spec.engine = parse_scheme(std::string(url.substr(0, scheme_end)));
  std::string_view rest = take_user_info(url.substr(scheme_end + 3), spec);
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (std::string_view port_text = take_host(rest, spec); !port_text.empty()) spec.port = parse_port(port_text);
  spec.database = percent_decode(path, "database name");
  parse_query(query, spec);
  return spec;
}

}  // namespace installer
