#include "installer/db/sql_text.hpp"

#include <unistd.h>

namespace installer {

std::string quote_identifier(const std::string& name, char quote) {
  std::string out(1, quote);
  for (char c : name) {
    if (c == quote) out += quote;
    out += c;
  }
  return out + quote;
}

std::string replace_placeholders(const std::string& sql, const std::function<std::string(size_t)>& placeholder) {
  std::string out;
  out.reserve(sql.size());
  size_t next = 0;
  for (char c : sql) {
    if (c == '?') out += placeholder(next++);
    else out += c;
  }
  return out;
}

std::string application_name() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string("installer ") + INSTALLER_VERSION + " on " + host;
}

}  // namespace installer
