#pragma once
#include <string>

namespace installer {

/// What the installer's own statements (the journal's) spell differently from one server
/// to the next. Each backend describes its own; the journal writes from it and never
/// asks which server it talks to.
struct ServerDialect {
  /// Whose SQL beyond the standard the journal's CREATE TABLE statements are written in.
  enum class Family { postgresql, mysql };
  Family family{};
  char identifier_quote{};
  /// A schema is a namespace inside the database (PostgreSQL), not a database of its own
  /// (MariaDB/MySQL).
  bool schemas_inside_database{};
  /// The time in UTC as the transaction began, and as the statement runs.
  std::string transaction_time;
  std::string statement_time;
  /// What turns a timestamp column into ISO 8601 text in UTC: the text before and after it.
  std::string iso_text_before;
  std::string iso_text_after;
  /// INSERT ... RETURNING; without it, last_insert_id reads the key just generated.
  bool insert_returning{};
  std::string last_insert_id;
  /// WITH a AS (INSERT ... RETURNING ...) INSERT ...: rows of several tables in one statement.
  bool data_modifying_ctes{};
  /// A '?' outside an INSERT's own VALUES has no type until one is spelled out ("?::integer").
  bool untyped_placeholders{};

  std::string quote_identifier(const std::string& name) const;
  /// schema.name, each quoted; just the name when the schema is empty.
  std::string quote_qualified(const std::string& schema, const std::string& name) const;
  std::string iso_timestamp(const std::string& column) const;
  /// '?' for a parameter of `sql_type` (integer, bigint, boolean; nullptr for text).
  std::string placeholder(const char* sql_type) const;
};

}  // namespace installer
