#include "installer/postgres/pg_libpq.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace installer {

std::vector<const char*> value_pointers(const std::vector<SqlValue>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}

std::vector<SqlRow> rows_of(const PGresult* result) {
  std::vector<SqlRow> rows;
  const int row_count = libpq().PQntuples(result), column_count = libpq().PQnfields(result);
  rows.reserve(static_cast<size_t>(row_count));
  for (int row = 0; row < row_count; ++row) {
    SqlRow r;
    r.reserve(static_cast<size_t>(column_count));
    for (int column = 0; column < column_count; ++column)
      r.push_back(libpq().PQgetisnull(result, row, column) ? SqlValue()
                                                           : SqlValue(libpq().PQgetvalue(result, row, column)));
    rows.push_back(std::move(r));
  }
  return rows;
}

bool is_copy(ExecStatusType status) {
  return status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH;
}

bool mentions_timeout(std::string_view sql) {
  std::string lower(sql.substr(0, 4096));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("_timeout") != std::string::npos;
}

bool may_drop_prepared_statements(std::string_view sql) {
  auto mentions = [&](std::string_view word) {
    return std::search(sql.begin(), sql.end(), word.begin(), word.end(),
                       [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }) != sql.end();
  };
  return mentions("deallocate") || mentions("discard");
}

bool starts_with_copy(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
    else if (sql.compare(i, 2, "--") == 0) i = std::min(sql.size(), sql.find('\n', i));
    else if (sql.compare(i, 2, "/*") == 0) i = std::min(sql.size(), sql.find("*/", i) + 2);
    else break;
  }
  if (sql.size() < i + 4) return false;
  for (size_t k = 0; k < 4; ++k)
    if (std::toupper(static_cast<unsigned char>(sql[i + k])) != "COPY"[k]) return false;
  return sql.size() == i + 4 || !(std::isalnum(static_cast<unsigned char>(sql[i + 4])) || sql[i + 4] == '_');
}

}  // namespace installer
