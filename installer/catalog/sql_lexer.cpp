#include "installer/catalog/sql_lexer.hpp"

#include <fmt/format.h>

namespace installer::sql {

// psqlscan.l: identifiers may hold '$' but not start with it; E'' strings take backslash
// escapes; B'', X'', N'' and U&'' strings do not; U&"" is a quoted identifier.
Token Lexer::postgres_token(size_t pos) const {
  char c = s_[pos];
  char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == 'e' && at(pos + 1) == '\'') return {TokenKind::string, pos, end_of_quoted(pos + 1, true)};
  if ((lower == 'b' || lower == 'x' || lower == 'n') && at(pos + 1) == '\'')
    return {TokenKind::string, pos, end_of_quoted(pos + 1, false)};
  if (lower == 'u' && at(pos + 1) == '&') {
    if (at(pos + 2) == '\'') return {TokenKind::string, pos, end_of_quoted(pos + 2, false)};
    if (at(pos + 2) == '"') return {TokenKind::quoted_identifier, pos, end_of_quoted(pos + 2, false)};
    return {TokenKind::punct, pos, pos + 1};  // psql's {xufailed}: the "u" is not an identifier
  }
  if (c == '\'') return {TokenKind::string, pos, end_of_quoted(pos, false)};
  if (c == '"') return {TokenKind::quoted_identifier, pos, end_of_quoted(pos, false)};
  if (c == '$') return postgres_dollar(pos);
  if (is_digit(c) || (c == '.' && is_digit(at(pos + 1)))) return postgres_number(pos);
  if (is_ident_start(c)) return {TokenKind::word, pos, end_of_word(pos + 1)};
  return {TokenKind::punct, pos, pos + 1};
}

// Letters right after a number belong to it ("trailing junk" that the server refuses),
// so "1end" holds no END.
Token Lexer::postgres_number(size_t pos) const {
  size_t i = pos;
  auto digits = [&] {
    while (is_digit(at(i)) || at(i) == '_') ++i;
  };
  digits();
  if (at(i) == '.' && at(i + 1) != '.') {
    ++i;
    digits();
  }
  char sign = at(i + 1);
  if ((at(i) == 'e' || at(i) == 'E') && (is_digit(sign) || ((sign == '+' || sign == '-') && is_digit(at(i + 2))))) {
    i += is_digit(sign) ? 1 : 2;
    digits();
  }
  if (is_ident_start(at(i))) i = end_of_word(i);
  return {TokenKind::number, pos, i};
}

// $tag$ opens a dollar quote ({dolqdelim}: the tag is an identifier without '$'); $1 is a
// parameter; any other '$' stands alone, and what follows it is lexed on its own.
Token Lexer::postgres_dollar(size_t pos) const {
  size_t i = pos + 1;
  if (is_digit(at(i))) {
    while (is_digit(at(i))) ++i;
    if (is_ident_start(at(i))) i = end_of_word(i);
    return {TokenKind::number, pos, i};
  }
  if (is_ident_start(at(i))) {
    while (i < s_.size() && is_ident_char(s_[i]) && s_[i] != '$') ++i;
  }
  if (at(i) != '$') return {TokenKind::punct, pos, pos + 1};
  std::string_view tag = s_.substr(pos, i + 1 - pos);
  size_t close = s_.find(tag, i + 1);
  if (close == std::string_view::npos)
    throw SqlSplitError(line_of(pos), fmt::format("unterminated dollar-quoted string {} starting here", tag));
  return {TokenKind::dollar_quoted, pos, close + tag.size()};
}

// MariaDB: both quotes make strings with backslash escapes, backticks make identifiers,
// and a word may start with a digit or hold '$'.
Token Lexer::mariadb_token(size_t pos) const {
  char c = s_[pos];
  if (c == '\'' || c == '"') return {TokenKind::string, pos, end_of_quoted(pos, true)};
  if (c == '`') return {TokenKind::quoted_identifier, pos, end_of_quoted(pos, false)};
  if (c == '/' && at(pos + 1) == '*') return {TokenKind::executable_comment, pos, end_of_block_comment(pos)};
  if (c == '@') return mariadb_variable(pos);
  if (is_ident_char(c) && !word_stops_at(pos)) return {TokenKind::word, pos, end_of_word(pos)};
  return {TokenKind::punct, pos, pos + 1};
}

// @end and @@session.x are variables, not keywords; so is the host of user@host.
Token Lexer::mariadb_variable(size_t pos) const {
  size_t i = pos + 1;
  if (at(i) == '@') ++i;
  char c = at(i);
  if (c == '\'' || c == '"' || c == '`') return {TokenKind::variable, pos, end_of_quoted(i, c != '`')};
  size_t end = end_of_word(i);
  return {end > i ? TokenKind::variable : TokenKind::punct, pos, std::max(end, pos + 1)};
}

}  // namespace installer::sql
