#pragma once
#include "installer/db/database.hpp"
#include "installer/postgres/libpq_api.hpp"

#include <libpq-fe.h>

#include <memory>
#include <string_view>
#include <vector>

// Small pieces around libpq's C interface, for the PostgreSQL backend.
namespace installer {

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { libpq().PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

/// The parameters as libpq takes them (NULL for nullopt); they point into params.
std::vector<const char*> value_pointers(const std::vector<SqlValue>& params);
/// Every row of a result, as text.
std::vector<SqlRow> rows_of(const PGresult* result);
bool is_copy(ExecStatusType status);
/// Whether a statement outside a transaction may have set a timeout that outlives it.
bool mentions_timeout(std::string_view sql);

/// Whether the text mentions DEALLOCATE or DISCARD anywhere, in any case.
bool may_drop_prepared_statements(std::string_view sql);
/// Whether the statement is a COPY (comments before it skipped), which a pipeline must not carry.
bool starts_with_copy(std::string_view sql);

}  // namespace installer
