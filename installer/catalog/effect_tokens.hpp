#pragma once
// The tokens statement_effect reads; only it includes this.
#include "installer/catalog/sql_splitter.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace installer::effect {

struct Token {
  enum Kind { word, quoted_name, literal, symbol, end };
  Kind kind = end;
  std::string text;  ///< word: upper-cased; quoted_name: unquoted; symbol: the character
  std::string raw;   ///< as written
};

/// The first `limit` tokens of `statement`: just enough of each engine's lexer to read a
/// statement's leading clauses: comments are skipped, quoted names unquoted, literals kept
/// opaque. MariaDB's executable comments (/*! ... */) are code, so their content is read
/// as such.
std::vector<Token> leading_tokens(std::string_view statement, SqlDialect dialect, size_t limit);

}  // namespace installer::effect
