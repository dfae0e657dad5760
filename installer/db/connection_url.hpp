#pragma once
#include "installer/db/database.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace installer {

enum class TlsMode { disable, prefer, require, verify_ca, verify_full };

/// Where and how to connect, from INSTALLER_DB_URL or its parts.
struct ConnectionSpec {
  Engine engine = Engine::postgres;
  std::string host = "127.0.0.1";
  std::optional<int> port;
  std::string user;
  std::string password;  ///< never printed; see redacted_url()
  std::string database;
  std::optional<TlsMode> tls;
  std::string tls_ca_file;
  std::map<std::string, std::string> options;  ///< other query parameters, passed through

  int effective_port() const;
  /// The URL with the password replaced by "***", for logs and status.
  std::string redacted_url() const;
};

/// The database an administrator's session opens when its URL names none: the one
/// every server has.
const char* default_admin_database(Engine engine);

/// "disable", "prefer", "require", "verify-ca", "verify-full" (libpq's sslmode words).
const char* tls_mode_name(TlsMode mode);

/// Parses postgresql://, postgres://, mariadb:// and mysql:// URLs.
/// Throws std::invalid_argument with a message that never contains the password.
ConnectionSpec parse_connection_url(std::string_view url);

}  // namespace installer
