#pragma once
// The splitter's tokens: only the splitter and its trackers include this.
#include "installer/catalog/sql_splitter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace installer::sql {

inline bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
}
inline bool is_ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
inline bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
inline bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

inline std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

inline bool starts_with_ci(std::string_view text, size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(text[pos + i])) != word[i]) return false;
  return true;
}

inline bool equals_ci(std::string_view text, std::string_view upper_word) {
  return text.size() == upper_word.size() && starts_with_ci(text, 0, upper_word);
}

inline bool is_any(const std::string& word, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

enum class TokenKind { word, quoted_identifier, string, number, variable, dollar_quoted, executable_comment, punct };

struct Token {
  TokenKind kind = TokenKind::punct;
  size_t begin = 0;
  size_t end = 0;
  /// MariaDB: a word right after '.' (NEW.end, t.begin) is a name, never a keyword.
  bool after_dot = false;
};

/// Cuts a script into tokens the way the dialect's own lexer does (psqlscan.l for
/// PostgreSQL, sql_lex.cc for MariaDB), so that what the splitter sees as a keyword is
/// one to psql and the server, and nothing inside a quote or comment is.
class Lexer {
 public:
  Lexer(std::string_view script, SqlDialect dialect) : s_(script), dialect_(dialect) {
    for (size_t i = 0; i < s_.size(); ++i)
      if (s_[i] == '\n') newlines_.push_back(i);
  }

  int line_of(size_t pos) const {
    return 1 + static_cast<int>(std::lower_bound(newlines_.begin(), newlines_.end(), pos) - newlines_.begin());
  }
  char at(size_t pos) const { return pos < s_.size() ? s_[pos] : '\0'; }
  std::string_view text(const Token& t) const { return s_.substr(t.begin, t.end - t.begin); }
  /// With DELIMITER $$ the mariadb client ends "END$$" before the delimiter.
  void stop_words_at(std::string delimiter) { word_stop_ = std::move(delimiter); }

  /// The position of the next token at or after pos: past whitespace and comments.
  size_t skip_trivia(size_t pos) const {
    while (pos < s_.size()) {
      char c = s_[pos];
      if (is_space(c)) {
        ++pos;
      } else if (c == '-' && at(pos + 1) == '-' && (postgres() || is_comment_space(at(pos + 2)))) {
        pos = end_of_line_comment(pos);
      } else if (c == '#' && !postgres()) {
        pos = end_of_line_comment(pos);
      } else if (c == '/' && at(pos + 1) == '*' && !is_executable_comment(pos)) {
        pos = end_of_block_comment(pos);
      } else {
        break;
      }
    }
    return pos;
  }

  /// The token that starts at pos (which skip_trivia returned).
  Token token_at(size_t pos) const {
    Token t = postgres() ? postgres_token(pos) : mariadb_token(pos);
    if (t.kind == TokenKind::word && !postgres()) t.after_dot = pos > 0 && s_[pos - 1] == '.';
    return t;
  }

 private:
  bool postgres() const { return dialect_ == SqlDialect::postgres; }
  // MariaDB's "--" starts a comment only before a space or a control character.
  static bool is_comment_space(char c) { return static_cast<unsigned char>(c) <= ' ' || c == '\x7f'; }
  // MariaDB runs /*! ... */ and /*M! ... */ as SQL: they belong to the statement.
  bool is_executable_comment(size_t pos) const {
    return !postgres() && (at(pos + 2) == '!' || (at(pos + 2) == 'M' && at(pos + 3) == '!'));
  }

  size_t end_of_line_comment(size_t pos) const {
    while (pos < s_.size() && s_[pos] != '\n' && !(postgres() && s_[pos] == '\r')) ++pos;
    return pos;
  }

  // PostgreSQL's comments nest, MariaDB's do not.
  size_t end_of_block_comment(size_t open) const {
    int depth = 0;
    size_t i = open;
    while (i < s_.size()) {
      if (s_[i] == '/' && at(i + 1) == '*') {
        if (postgres() || depth == 0) ++depth;
        i += 2;
      } else if (s_[i] == '*' && at(i + 1) == '/') {
        i += 2;
        if (--depth == 0) return i;
      } else {
        ++i;
      }
    }
    throw SqlSplitError(line_of(open), "unterminated /* comment starting here");
  }

  size_t end_of_quoted(size_t open, bool backslash_escapes) const {
    char quote = s_[open];
    size_t i = open + 1;
    while (i < s_.size()) {
      if (backslash_escapes && s_[i] == '\\') {
        i += 2;
      } else if (s_[i] == quote && at(i + 1) == quote) {
        i += 2;
      } else if (s_[i] == quote) {
        return i + 1;
      } else {
        ++i;
      }
    }
    throw SqlSplitError(line_of(open),
                        fmt::format("unterminated {} starting here", quote == '\''  ? "string"
                                                                     : quote == '"' ? "quoted identifier"
                                                                                    : "backtick identifier"));
  }

  bool word_stops_at(size_t pos) const {
    return !word_stop_.empty() && s_.compare(pos, word_stop_.size(), word_stop_) == 0;
  }

  size_t end_of_word(size_t pos) const {
    while (pos < s_.size() && is_ident_char(s_[pos]) && !word_stops_at(pos)) ++pos;
    return pos;
  }

  Token postgres_token(size_t pos) const;
  Token postgres_number(size_t pos) const;
  Token postgres_dollar(size_t pos) const;
  Token mariadb_token(size_t pos) const;
  Token mariadb_variable(size_t pos) const;

  std::string_view s_;
  SqlDialect dialect_;
  std::vector<size_t> newlines_;
  std::string word_stop_;
};

inline bool is_punct(const Token& t, std::string_view text, char c) {
  return t.kind == TokenKind::punct && t.end == t.begin + 1 && text[0] == c;
}

}  // namespace installer::sql
