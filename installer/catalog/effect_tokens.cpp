#include "installer/catalog/effect_tokens.hpp"

#include <cctype>

namespace installer::effect {
namespace {

bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool ident_char(char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$'; }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

class Lexer {
 public:
  Lexer(std::string_view s, SqlDialect d) : s_(s), d_(d) {}

  std::vector<Token> run(size_t limit) {
    std::vector<Token> out;
    while (out.size() < limit) {
      Token t = next();
      if (t.kind == Token::end) break;
      out.push_back(std::move(t));
    }
    return out;
  }

 private:
  char at(size_t i) const { return i < s_.size() ? s_[i] : '\0'; }

  bool skip_space_and_comments() {
    while (p_ < s_.size()) {
      char c = s_[p_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++p_;
      } else if ((c == '-' && at(p_ + 1) == '-') || (c == '#' && d_ == SqlDialect::mariadb)) {
        while (p_ < s_.size() && s_[p_] != '\n') ++p_;
      } else if (c == '/' && at(p_ + 1) == '*') {
        if (d_ == SqlDialect::mariadb && (at(p_ + 2) == '!' || (at(p_ + 2) == 'M' && at(p_ + 3) == '!'))) {
          p_ += at(p_ + 2) == '!' ? 3 : 4;
          while (std::isdigit(static_cast<unsigned char>(at(p_)))) ++p_;
          ++executable_depth_;
          continue;
        }
        skip_block_comment();
      } else if (c == '*' && at(p_ + 1) == '/' && executable_depth_ > 0) {
        --executable_depth_;
        p_ += 2;
      } else {
        return true;
      }
    }
    return false;
  }

  // PostgreSQL's block comments nest; MariaDB's end at the first */.
  void skip_block_comment() {
    int depth = 0;
    while (p_ < s_.size()) {
      if (s_[p_] == '/' && at(p_ + 1) == '*') {
        depth = d_ == SqlDialect::postgres ? depth + 1 : 1;
        p_ += 2;
      } else if (s_[p_] == '*' && at(p_ + 1) == '/') {
        p_ += 2;
        if (--depth == 0) return;
      } else {
        ++p_;
      }
    }
  }

  size_t quoted_end(size_t open, char quote, bool backslash) const {
    size_t i = open + 1;
    while (i < s_.size()) {
      if (backslash && s_[i] == '\\') {
        i += 2;
        continue;
      }
      if (s_[i] == quote) {
        if (at(i + 1) == quote) {
          i += 2;
          continue;
        }
        return i + 1;
      }
      ++i;
    }
    return s_.size();
  }

  Token quoted(char quote, bool backslash, Token::Kind kind) {
    size_t end = quoted_end(p_, quote, backslash);
    Token t{kind, "", std::string(s_.substr(p_, end - p_))};
    if (kind == Token::quoted_name) {
      std::string inner = t.raw.substr(1, t.raw.size() >= 2 ? t.raw.size() - 2 : 0);
      std::string doubled(2, quote);
      for (size_t at = inner.find(doubled); at != std::string::npos; at = inner.find(doubled, at + 1))
        inner.erase(at, 1);
      t.text = inner;
    }
    p_ = end;
    return t;
  }

  Token dollar_quoted() {
    size_t tag_end = s_.find('$', p_ + 1);
    std::string_view tag = s_.substr(p_, tag_end - p_ + 1);
    size_t close = s_.find(tag, tag_end + 1);
    size_t end = close == std::string_view::npos ? s_.size() : close + tag.size();
    Token t{Token::literal, "", std::string(s_.substr(p_, end - p_))};
    p_ = end;
    return t;
  }

  bool at_dollar_quote() const {
    if (d_ != SqlDialect::postgres || s_[p_] != '$') return false;
    size_t i = p_ + 1;
    if (at(i) == '$') return true;
    if (!ident_start(at(i))) return false;
    while (i < s_.size() && ident_char(s_[i]) && s_[i] != '$') ++i;
    return at(i) == '$';
  }

  Token next() {
    if (!skip_space_and_comments()) return {};
    char c = s_[p_];
    if (c == '\'') {
      bool escapes = d_ == SqlDialect::mariadb;
      return quoted('\'', escapes, Token::literal);
    }
    if (c == '"')
      return quoted('"', d_ == SqlDialect::mariadb, d_ == SqlDialect::postgres ? Token::quoted_name : Token::literal);
    if (c == '`' && d_ == SqlDialect::mariadb) return quoted('`', false, Token::quoted_name);
    if (at_dollar_quote()) return dollar_quoted();
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t b = p_;
      while (p_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[p_])) || s_[p_] == '.')) ++p_;
      return {Token::literal, "", std::string(s_.substr(b, p_ - b))};
    }
    if (ident_start(c)) {
      size_t b = p_;
      while (p_ < s_.size() && ident_char(s_[p_])) ++p_;
      std::string raw(s_.substr(b, p_ - b));
      // E'...', X'...', B'...', N'...', U&'...': a prefixed literal, not a word.
      if (at(p_) == '\'' && raw.size() == 1) {
        Token t = quoted('\'', d_ == SqlDialect::mariadb || std::toupper(static_cast<unsigned char>(raw[0])) == 'E',
                         Token::literal);
        t.raw = raw + t.raw;
        return t;
      }
      return {Token::word, upper(raw), raw};
    }
    ++p_;
    return {Token::symbol, std::string(1, c), std::string(1, c)};
  }

  std::string_view s_;
  SqlDialect d_;
  size_t p_ = 0;
  int executable_depth_ = 0;
};

}  // namespace

std::vector<Token> leading_tokens(std::string_view statement, SqlDialect dialect, size_t limit) {
  return Lexer(statement, dialect).run(limit);
}

}  // namespace installer::effect
