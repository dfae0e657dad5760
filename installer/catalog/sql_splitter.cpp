#include "installer/catalog/sql_splitter.hpp"

#include <fmt/format.h>

#include <cctype>

namespace installer {
namespace {

bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
}
bool is_ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool starts_with_ci(std::string_view text, size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(text[pos + i])) != word[i]) return false;
  return true;
}

class Splitter {
 public:
  Splitter(std::string_view script, SqlDialect dialect) : s_(script), dialect_(dialect) {}

  std::vector<Statement> run() {
    while (pos_ < s_.size()) {
      if (at_line_start_ && dialect_ == SqlDialect::mariadb && try_delimiter_command()) continue;
      char c = s_[pos_];
      if (!delimiter_.empty() && begin_depth_ == 0 && paren_depth_ == 0 &&
          s_.compare(pos_, delimiter_.size(), delimiter_) == 0) {
        finish_statement();
        pos_ += delimiter_.size();
        continue;
      }
      if (c == '\n') {
        advance();
        continue;
      }
      if (c == '-' && peek(1) == '-' && (dialect_ == SqlDialect::postgres || is_space_or_end(peek(2)))) {
        skip_line_comment();
      } else if (c == '#' && dialect_ == SqlDialect::mariadb) {
        skip_line_comment();
      } else if (c == '/' && peek(1) == '*') {
        skip_block_comment();
      } else if (c == '\'') {
        mark_content();
        skip_quoted('\'', backslash_escapes_in_string());
      } else if (c == '"') {
        mark_content();
        skip_quoted('"', dialect_ == SqlDialect::mariadb);
      } else if (c == '`' && dialect_ == SqlDialect::mariadb) {
        mark_content();
        skip_quoted('`', false);
      } else if (c == '$' && dialect_ == SqlDialect::postgres && try_dollar_quote()) {
        // consumed
      } else if (is_ident_start(c)) {
        mark_content();
        read_word();
      } else {
        if (!std::isspace(static_cast<unsigned char>(c))) mark_content();
        // Like psql, a semicolon inside parentheses does not end a statement
        // (CREATE RULE ... DO (INSERT ...; INSERT ...)).
        if (dialect_ == SqlDialect::postgres) {
          if (c == '(') ++paren_depth_;
          else if (c == ')' && paren_depth_ > 0) --paren_depth_;
        }
        advance();
      }
    }
    if (has_content_) {
      finish_statement();
    }
    return std::move(out_);
  }

 private:
  char peek(size_t ahead) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
  static bool is_space_or_end(char c) { return c == '\0' || std::isspace(static_cast<unsigned char>(c)); }

  void advance() {
    if (s_[pos_] == '\n') {
      ++line_;
      at_line_start_ = true;
    } else if (!std::isspace(static_cast<unsigned char>(s_[pos_]))) {
      at_line_start_ = false;
    }
    ++pos_;
  }

  void mark_content() {
    if (!has_content_) {
      has_content_ = true;
      start_ = pos_;
      start_line_ = line_;
    }
    end_ = pos_ + 1;
  }

  void finish_statement() {
    if (has_content_) {
      std::string_view text = s_.substr(start_, content_end() - start_);
      out_.push_back(Statement{std::string(text), start_line_});
    }
    has_content_ = false;
    words_seen_ = 0;
    routine_ = false;
    begin_depth_ = 0;
    paren_depth_ = 0;
    first_words_.clear();
  }

  size_t content_end() const {
    size_t e = std::max(end_, start_);
    return e;
  }

  // A quoted token extends the statement up to its closing quote.
  void skip_quoted(char quote, bool backslash_escapes) {
    int open_line = line_;
    advance();
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (backslash_escapes && c == '\\' && pos_ + 1 < s_.size()) {
        advance();
        advance();
        continue;
      }
      if (c == quote) {
        if (peek(1) == quote) {
          advance();
          advance();
          continue;
        }
        advance();
        end_ = pos_;
        return;
      }
      advance();
    }
    throw SqlSplitError(open_line, fmt::format("unterminated {} starting here",
                                               quote == '\'' ? "string" : quote == '"' ? "quoted identifier" : "backtick identifier"));
  }

  bool backslash_escapes_in_string() const {
    if (dialect_ == SqlDialect::mariadb) return true;
    // PostgreSQL: only E'...' strings treat backslash as an escape.
    if (pos_ == 0) return false;
    char prev = s_[pos_ - 1];
    if (prev != 'E' && prev != 'e') return false;
    return pos_ < 2 || !is_ident_char(s_[pos_ - 2]);
  }

  void skip_line_comment() {
    while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
  }

  void skip_block_comment() {
    int open_line = line_;
    // MariaDB executable comments (/*! ... */) are part of the statement.
    bool executable = dialect_ == SqlDialect::mariadb && peek(2) == '!';
    if (executable) mark_content();
    int depth = 0;
    while (pos_ < s_.size()) {
      if (s_[pos_] == '/' && peek(1) == '*') {
        ++depth;
        advance();
        advance();
        // MariaDB comments do not nest.
        if (dialect_ == SqlDialect::mariadb) depth = 1;
        continue;
      }
      if (s_[pos_] == '*' && peek(1) == '/') {
        advance();
        advance();
        if (--depth == 0) {
          if (executable) end_ = pos_;
          return;
        }
        continue;
      }
      advance();
    }
    throw SqlSplitError(open_line, "unterminated /* comment starting here");
  }

  bool try_dollar_quote() {
    // $tag$ or $$, where $ does not continue an identifier or a $1 parameter.
    if (pos_ > 0 && is_ident_char(s_[pos_ - 1])) return false;
    size_t i = pos_ + 1;
    if (i < s_.size() && s_[i] != '$') {
      if (!is_ident_start(s_[i])) return false;
      while (i < s_.size() && is_ident_char(s_[i]) && s_[i] != '$') ++i;
      if (i >= s_.size() || s_[i] != '$') return false;
    }
    std::string tag(s_.substr(pos_, i - pos_ + 1));
    int open_line = line_;
    mark_content();
    for (size_t k = 0; k < tag.size(); ++k) advance();
    while (pos_ < s_.size()) {
      if (s_[pos_] == '$' && s_.compare(pos_, tag.size(), tag) == 0) {
        for (size_t k = 0; k < tag.size(); ++k) advance();
        end_ = pos_;
        return true;
      }
      advance();
    }
    throw SqlSplitError(open_line, fmt::format("unterminated dollar-quoted string {} starting here", tag));
  }

  void read_word() {
    size_t begin = pos_;
    // With DELIMITER $$, "END$$" is a word followed by the delimiter, as in the mariadb client.
    while (pos_ < s_.size() && is_ident_char(s_[pos_]) &&
           !(delimiter_ != ";" && s_.compare(pos_, delimiter_.size(), delimiter_) == 0))
      advance();
    end_ = pos_;
    std::string word = upper(s_.substr(begin, pos_ - begin));
    note_word(word);
  }

  // SQL-standard routine bodies (PostgreSQL 14+: BEGIN ATOMIC ... END) contain
  // semicolons; like psql, count BEGIN/CASE against END inside CREATE FUNCTION or
  // CREATE PROCEDURE so those semicolons stay in the statement.
  void note_word(const std::string& word) {
    if (first_words_.size() < 4) first_words_.push_back(word);
    ++words_seen_;
    if (dialect_ != SqlDialect::postgres) return;
    if (!routine_ && first_words_.size() >= 2 && first_words_[0] == "CREATE") {
      for (size_t i = 1; i < first_words_.size(); ++i)
        if (first_words_[i] == "FUNCTION" || first_words_[i] == "PROCEDURE") routine_ = true;
    }
    if (!routine_) return;
    if (word == "BEGIN" || (word == "CASE" && begin_depth_ > 0)) ++begin_depth_;
    else if (word == "END" && begin_depth_ > 0) --begin_depth_;
  }

  bool try_delimiter_command() {
    size_t p = pos_;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t' || s_[p] == '\r')) ++p;
    if (!starts_with_ci(s_, p, "DELIMITER")) return false;
    size_t after = p + 9;
    if (after >= s_.size() || (s_[after] != ' ' && s_[after] != '\t')) return false;
    // Like the mariadb client, DELIMITER is a command only between statements; inside
    // one it is an ordinary word (a column may be called "delimiter").
    if (has_content_) return false;
    size_t eol = s_.find('\n', after);
    std::string_view rest = s_.substr(after, eol == std::string_view::npos ? std::string_view::npos : eol - after);
    size_t b = rest.find_first_not_of(" \t\r");
    size_t e = rest.find_last_not_of(" \t\r");
    if (b == std::string_view::npos) throw SqlSplitError(line_, "DELIMITER needs a delimiter, e.g. DELIMITER //");
    delimiter_ = std::string(rest.substr(b, e - b + 1));
    if (delimiter_.find_first_of(" \t") != std::string::npos || delimiter_.find('\\') != std::string::npos)
      throw SqlSplitError(line_, fmt::format("DELIMITER '{}' must be one word without backslashes", delimiter_));
    pos_ = eol == std::string_view::npos ? s_.size() : eol;
    return true;
  }

  std::string_view s_;
  SqlDialect dialect_;
  size_t pos_ = 0;
  int line_ = 1;
  bool at_line_start_ = true;
  std::string delimiter_ = ";";

  bool has_content_ = false;
  size_t start_ = 0, end_ = 0;
  int start_line_ = 1;
  size_t words_seen_ = 0;
  std::vector<std::string> first_words_;
  bool routine_ = false;
  int begin_depth_ = 0;
  int paren_depth_ = 0;

  std::vector<Statement> out_;
};

}  // namespace

std::vector<Statement> split_sql(std::string_view script, SqlDialect dialect) {
  return Splitter(script, dialect).run();
}

std::vector<std::string> leading_words(std::string_view s, size_t count, bool stop_at_parenthesis) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < s.size() && words.size() < count) {
    char c = s[i];
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      auto close = s.find("*/", i + 2);
      i = close == std::string_view::npos ? s.size() : close + 2;
    } else if (is_ident_start(c)) {
      size_t b = i;
      while (i < s.size() && is_ident_char(s[i])) ++i;
      words.push_back(upper(s.substr(b, i - b)));
    } else if (c == '(' || c == '\'' || c == '"' || c == '`') {
      if (stop_at_parenthesis) break;  // past the keywords that name the statement's kind
      if (c == '(') {
        ++i;
      } else {
        auto close = s.find(c, i + 1);
        i = close == std::string_view::npos ? s.size() : close + 1;
      }
    } else {
      ++i;
    }
  }
  return words;
}

}  // namespace installer
