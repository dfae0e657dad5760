#include "installer/postgres/pg_dialect.hpp"

namespace installer {
namespace {

ServerDialect make_postgres_dialect() {
  ServerDialect d;
  d.family = ServerDialect::Family::postgresql;
  d.identifier_quote = '"';
  d.schemas_inside_database = true;
  d.transaction_time = "now()";
  // now() is when the transaction began: an update journaled in its own transaction
  // would seem to finish when it started.
  d.statement_time = "clock_timestamp()";
  d.iso_text_before = "to_char(";
  d.iso_text_after = " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";
  d.insert_returning = true;
  d.data_modifying_ctes = true;
  d.untyped_placeholders = true;
  return d;
}

}  // namespace

const ServerDialect& postgres_dialect() {
  static const ServerDialect dialect = make_postgres_dialect();
  return dialect;
}

}  // namespace installer
