#include "installer/postgres/pg_connection.hpp"

#include "installer/db/sql_text.hpp"
#include "installer/util/log.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace installer {

namespace {

std::string quote_conninfo(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string conninfo(const ConnectionSpec& spec, std::chrono::seconds connect_timeout) {
  std::string info = fmt::format("host={} port={} connect_timeout={} application_name={}", quote_conninfo(spec.host),
                                 spec.effective_port(), std::max<long>(1, connect_timeout.count()),
                                 quote_conninfo(application_name().substr(0, 63)));
  if (!spec.user.empty()) info += " user=" + quote_conninfo(spec.user);
  if (!spec.password.empty()) info += " password=" + quote_conninfo(spec.password);
  if (!spec.database.empty()) info += " dbname=" + quote_conninfo(spec.database);
  if (spec.tls) info += std::string(" sslmode=") + tls_mode_name(*spec.tls);
  if (!spec.tls_ca_file.empty()) info += " sslrootcert=" + quote_conninfo(spec.tls_ca_file);
  for (const auto& [k, v] : spec.options) info += " " + k + "=" + quote_conninfo(v);
  return info;
}

std::string tidy(const char* message) {
  std::string out = message ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

bool is_auth_failure(const std::string& message) {
  return message.find("password authentication failed") != std::string::npos ||
         message.find("no password supplied") != std::string::npos ||
         message.find("authentication failed") != std::string::npos || message.find("pg_hba.conf") != std::string::npos;
}

void notice_to_log(void*, const char* message) {
  try {
    log::debug("server notice: {}", tidy(message));
  } catch (...) {
  }
}

}  // namespace installer
