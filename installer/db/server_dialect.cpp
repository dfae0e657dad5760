#include "installer/db/server_dialect.hpp"

#include "installer/db/sql_text.hpp"

namespace installer {

std::string ServerDialect::quote_identifier(const std::string& name) const {
  return installer::quote_identifier(name, identifier_quote);
}

std::string ServerDialect::quote_qualified(const std::string& schema, const std::string& name) const {
  return schema.empty() ? quote_identifier(name) : quote_identifier(schema) + "." + quote_identifier(name);
}

std::string ServerDialect::iso_timestamp(const std::string& column) const {
  return iso_text_before + column + iso_text_after;
}

std::string ServerDialect::placeholder(const char* sql_type) const {
  if (!sql_type || !untyped_placeholders) return "?";
  return std::string("?::") + sql_type;
}

}  // namespace installer
