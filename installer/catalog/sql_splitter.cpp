#include "installer/catalog/sql_splitter.hpp"

#include "installer/catalog/maria_program_tracker.hpp"
#include "installer/catalog/sql_lexer.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>

namespace installer {
// A named namespace, not an anonymous one, holds the using-directive: in a unity build an
// anonymous namespace's names reach every later file of the same translation unit.
namespace splitting {

using namespace sql;

/// psql's rule for semicolons inside SQL-standard bodies (psqlscan.l, {identifier}): only
/// when the first identifiers of the statement are CREATE [OR REPLACE] FUNCTION|PROCEDURE,
/// BEGIN and (inside a BEGIN) CASE open a block that END closes, and only outside
/// parentheses. Quoted identifiers, strings and dollar quotes are not identifiers.
class PsqlBodyTracker {
 public:
  void on_token(const Token& t, std::string_view text) {
    if (is_punct(t, text, '(')) ++paren_depth_;
    if (is_punct(t, text, ')') && paren_depth_ > 0) --paren_depth_;
    if (t.kind == TokenKind::word) on_identifier(text);
  }
  bool semicolon_ends_statement() const { return paren_depth_ == 0 && begin_depth_ == 0; }
  void reset() { *this = PsqlBodyTracker(); }

 private:
  void on_identifier(std::string_view word) {
    if (identifier_count_ == 0) identifiers_.fill('\0');
    bool noted = equals_ci(word, "CREATE") || equals_ci(word, "FUNCTION") || equals_ci(word, "PROCEDURE") ||
                 equals_ci(word, "OR") || equals_ci(word, "REPLACE");
    if (noted && identifier_count_ < identifiers_.size())
      identifiers_[identifier_count_] = static_cast<char>(std::tolower(static_cast<unsigned char>(word[0])));
    ++identifier_count_;
    if (!creates_routine() || paren_depth_ > 0) return;
    if (equals_ci(word, "BEGIN")) {
      ++begin_depth_;
    } else if (equals_ci(word, "CASE")) {
      if (begin_depth_ >= 1) ++begin_depth_;  // CASE ends with END too
    } else if (equals_ci(word, "END")) {
      if (begin_depth_ > 0) --begin_depth_;
    }
  }

  bool creates_routine() const {
    const auto& id = identifiers_;
    return id[0] == 'c' &&
           (id[1] == 'f' || id[1] == 'p' || (id[1] == 'o' && id[2] == 'r' && (id[3] == 'f' || id[3] == 'p')));
  }

  int paren_depth_ = 0;
  int begin_depth_ = 0;
  size_t identifier_count_ = 0;
  std::array<char, 4> identifiers_{};
};

class Splitter {
 public:
  Splitter(std::string_view script, SqlDialect dialect)
      : s_(script), dialect_(dialect), lexer_(script, dialect), maria_(lexer_) {}

  std::vector<Statement> run() {
    for (;;) {
      size_t p = lexer_.skip_trivia(pos_);
      if (p >= s_.size()) break;
      if (dialect_ == SqlDialect::mariadb && !has_content_ && at_line_start(p) && try_delimiter_command(p)) continue;
      if (custom_delimiter() && s_.compare(p, delimiter_.size(), delimiter_) == 0) {
        finish_statement();
        pos_ = p + delimiter_.size();
        continue;
      }
      Token t = lexer_.token_at(p);
      pos_ = t.end;
      if (is_punct(t, lexer_.text(t), ';') && !custom_delimiter() && semicolon_ends_statement()) {
        finish_statement();
        continue;
      }
      if (!has_content_) start_ = t.begin;
      has_content_ = true;
      end_ = t.end;
      track(t);
    }
    finish_statement();
    return std::move(out_);
  }

 private:
  // With a DELIMITER other than ';' only the delimiter ends a statement, as in the mariadb client.
  bool custom_delimiter() const { return delimiter_ != ";"; }

  bool semicolon_ends_statement() const {
    return dialect_ == SqlDialect::postgres ? psql_.semicolon_ends_statement() : maria_.semicolon_ends_statement();
  }

  void track(const Token& t) {
    if (dialect_ == SqlDialect::postgres) psql_.on_token(t, lexer_.text(t));
    else if (!custom_delimiter()) maria_.on_token(t);
  }

  void finish_statement() {
    if (has_content_) out_.push_back(Statement{std::string(s_.substr(start_, end_ - start_)), lexer_.line_of(start_)});
    has_content_ = false;
    psql_.reset();
    maria_.reset();
  }

  bool at_line_start(size_t pos) const {
    while (pos > 0 && s_[pos - 1] != '\n' && is_space(s_[pos - 1])) --pos;
    return pos == 0 || s_[pos - 1] == '\n';
  }

  // Like the mariadb client, DELIMITER is a command only at the start of a line between
  // statements; inside one it is an ordinary word (a column may be called "delimiter").
  bool try_delimiter_command(size_t p) {
    if (!starts_with_ci(s_, p, "DELIMITER")) return false;
    size_t after = p + 9;
    if (after >= s_.size() || (s_[after] != ' ' && s_[after] != '\t')) return false;
    int line = lexer_.line_of(p);
    size_t eol = s_.find('\n', after);
    std::string_view rest = s_.substr(after, eol == std::string_view::npos ? std::string_view::npos : eol - after);
    size_t b = rest.find_first_not_of(" \t\r");
    size_t e = rest.find_last_not_of(" \t\r");
    if (b == std::string_view::npos) throw SqlSplitError(line, "DELIMITER needs a delimiter, e.g. DELIMITER //");
    delimiter_ = std::string(rest.substr(b, e - b + 1));
    if (delimiter_.find_first_of(" \t") != std::string::npos || delimiter_.find('\\') != std::string::npos)
      throw SqlSplitError(line, fmt::format("DELIMITER '{}' must be one word without backslashes", delimiter_));
    lexer_.stop_words_at(custom_delimiter() ? delimiter_ : std::string());
    pos_ = eol == std::string_view::npos ? s_.size() : eol;
    return true;
  }

  std::string_view s_;
  SqlDialect dialect_;
  Lexer lexer_;
  size_t pos_ = 0;
  std::string delimiter_ = ";";

  bool has_content_ = false;
  size_t start_ = 0, end_ = 0;
  PsqlBodyTracker psql_;
  MariaProgramTracker maria_;

  std::vector<Statement> out_;
};

}  // namespace splitting

std::vector<Statement> split_sql(std::string_view script, SqlDialect dialect) {
  return splitting::Splitter(script, dialect).run();
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
    } else if (sql::is_ident_start(c)) {
      size_t b = i;
      while (i < s.size() && sql::is_ident_char(s[i])) ++i;
      words.push_back(sql::upper(s.substr(b, i - b)));
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
