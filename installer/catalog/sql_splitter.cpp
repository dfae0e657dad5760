#include "installer/catalog/sql_splitter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <initializer_list>

namespace installer {
namespace {

bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
}
bool is_ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

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

bool equals_ci(std::string_view text, std::string_view upper_word) {
  return text.size() == upper_word.size() && starts_with_ci(text, 0, upper_word);
}

bool is_any(const std::string& word, std::initializer_list<std::string_view> words) {
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
    throw SqlSplitError(line_of(open), fmt::format("unterminated {} starting here",
                                                   quote == '\'' ? "string" : quote == '"' ? "quoted identifier"
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

bool is_punct(const Token& t, std::string_view text, char c) {
  return t.kind == TokenKind::punct && t.end == t.begin + 1 && text[0] == c;
}

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

/// Where a MariaDB statement sent without DELIMITER ends: the server's parser reads a
/// stored program's body, or a compound statement, as a whole, so the semicolons inside it
/// end nothing. The rules follow sql_yacc.yy: the body of CREATE PROCEDURE|FUNCTION (after
/// the parameters, RETURNS type and characteristics), of CREATE TRIGGER (after FOR EACH ROW
/// [FOLLOWS|PRECEDES t]) and of CREATE|ALTER EVENT (after DO) is one statement, simple (it
/// ends at the first ';') or compound; so are BEGIN NOT ATOMIC, IF, CASE, WHILE, LOOP,
/// REPEAT and FOR at the top of a script. Inside a compound statement only a word at the
/// start of a statement (sp_proc_stmt) opens one: IF( the function, IF EXISTS, REPEAT('x', 2),
/// END IF's IF and LEAVE's label open nothing, and a CASE expression's END closes nothing.
class MariaProgramTracker {
 public:
  explicit MariaProgramTracker(const Lexer& lexer) : lexer_(&lexer) {}
  void on_token(const Token& t);
  bool semicolon_ends_statement() const { return phase_ != Phase::body || frames_.empty(); }
  void reset() { *this = MariaProgramTracker(*lexer_); }

 private:
  enum class Phase {
    first_word, plain, begin_word, begin_not, create_prefix, alter_prefix,
    routine_name, routine_parameters, routine_header, trigger_header, event_header, body
  };
  enum class Frame { block, if_statement, case_statement, loop, while_loop, repeat_loop, for_loop };
  // Where in the body the next token is.
  enum class At { statement_start, simple, declare, handler_conditions, condition, after_end };
  // The word that ends an IF/ELSEIF/WHEN/WHILE/FOR/UNTIL/CASE condition.
  enum class Until { then_word, when_word, do_word, end_word };
  enum class TriggerStep { before_for, after_for, after_each, after_row, after_order, after_other_trigger };
  enum class DeclareStep { start, handler_type, handler_word };
  enum class ConditionStep { expected, after_sqlstate, after_not, done };

  bool is_punct(const Token& t, char c) const { return installer::is_punct(t, lexer_->text(t), c); }
  std::string keyword(const Token& t) const {
    return t.kind == TokenKind::word && !t.after_dot ? upper(lexer_->text(t)) : std::string();
  }

  void on_first_word(const Token& t);
  void on_begin(const Token& t);
  void on_prefix(const Token& t);
  void on_routine_name(const Token& t);
  void on_routine_header(const Token& t);
  static bool is_routine_header_word(const std::string& word);
  void on_trigger_header(const Token& t);
  void start_body(const Token& t);
  void on_body_token(const Token& t);
  void on_statement_start(const Token& t);
  bool open_compound(const std::string& word);
  bool continue_compound(const std::string& word);
  void on_condition(const Token& t);
  void on_declare(const Token& t);
  void on_handler_condition(const Token& t);
  void expect_condition(Until until);

  const Lexer* lexer_;
  Phase phase_ = Phase::first_word;
  int paren_depth_ = 0;
  bool name_follows_ = false;  // the next token names a definer, type, charset or collation
  std::string previous_word_;
  TriggerStep trigger_step_ = TriggerStep::before_for;

  std::vector<Frame> frames_;
  At at_ = At::statement_start;
  Until until_ = Until::then_word;
  int case_depth_ = 0;  // CASE expressions inside a condition
  bool after_begin_ = false;
  bool maybe_label_ = false;
  DeclareStep declare_step_ = DeclareStep::start;
  ConditionStep condition_step_ = ConditionStep::expected;
};

void MariaProgramTracker::on_token(const Token& t) {
  switch (phase_) {
    case Phase::first_word: return on_first_word(t);
    case Phase::plain: return;
    case Phase::begin_word:
    case Phase::begin_not: return on_begin(t);
    case Phase::create_prefix:
    case Phase::alter_prefix: return on_prefix(t);
    case Phase::routine_name:
    case Phase::routine_parameters: return on_routine_name(t);
    case Phase::routine_header: return on_routine_header(t);
    case Phase::trigger_header: return on_trigger_header(t);
    case Phase::event_header:
      if (keyword(t) == "DO") phase_ = Phase::body;
      return;
    case Phase::body: return on_body_token(t);
  }
}

void MariaProgramTracker::on_first_word(const Token& t) {
  std::string word = keyword(t);
  if (word == "CREATE") {
    phase_ = Phase::create_prefix;
  } else if (word == "ALTER") {
    phase_ = Phase::alter_prefix;
  } else if (word == "BEGIN") {
    phase_ = Phase::begin_word;
  } else if (is_any(word, {"IF", "CASE", "WHILE", "LOOP", "REPEAT", "FOR"})) {
    start_body(t);  // MariaDB runs these compound statements outside stored programs too
  } else {
    phase_ = Phase::plain;
  }
}

// At the top of a script BEGIN [WORK] starts a transaction; BEGIN NOT ATOMIC is a block.
void MariaProgramTracker::on_begin(const Token& t) {
  std::string word = keyword(t);
  if (phase_ == Phase::begin_word && word == "NOT") {
    phase_ = Phase::begin_not;
  } else if (phase_ == Phase::begin_not && word == "ATOMIC") {
    phase_ = Phase::body;
    frames_.push_back(Frame::block);
  } else {
    phase_ = Phase::plain;
  }
}

// CREATE [OR REPLACE] [DEFINER = user] [AGGREGATE] {PROCEDURE|FUNCTION|TRIGGER|EVENT},
// ALTER [DEFINER = user] EVENT; anything else is an ordinary statement.
void MariaProgramTracker::on_prefix(const Token& t) {
  if (name_follows_) {
    name_follows_ = false;
    return;
  }
  if (is_punct(t, '=')) {
    name_follows_ = true;
    return;
  }
  // The rest of 'user'@'host', user@host or CURRENT_USER().
  if (t.kind == TokenKind::variable || is_punct(t, '@') || is_punct(t, '(') || is_punct(t, ')')) return;
  std::string word = keyword(t);
  bool create = phase_ == Phase::create_prefix;
  if (is_any(word, {"DEFINER", "CURRENT_USER", "CURRENT_ROLE"}) ||
      (create && is_any(word, {"OR", "REPLACE", "AGGREGATE"})))
    return;
  if (create && (word == "PROCEDURE" || word == "FUNCTION")) {
    phase_ = Phase::routine_name;
  } else if (create && word == "TRIGGER") {
    phase_ = Phase::trigger_header;
  } else if (word == "EVENT") {
    phase_ = Phase::event_header;
  } else {
    phase_ = Phase::plain;
  }
}

// The name and the parameter list; a function without one is a UDF (RETURNS ... SONAME).
void MariaProgramTracker::on_routine_name(const Token& t) {
  if (is_punct(t, '(')) {
    ++paren_depth_;
    phase_ = Phase::routine_parameters;
  } else if (is_punct(t, ')') && phase_ == Phase::routine_parameters) {
    if (--paren_depth_ == 0) phase_ = Phase::routine_header;
  } else if (phase_ == Phase::routine_name && keyword(t) == "RETURNS") {
    phase_ = Phase::plain;
  }
}

// RETURNS type and the characteristics (sp_c_chistics) come before the body; the first
// word that is neither starts it. A ':' means the word before it labelled the body.
void MariaProgramTracker::on_routine_header(const Token& t) {
  if (is_punct(t, '(')) ++paren_depth_;
  if (is_punct(t, ')') && paren_depth_ > 0) --paren_depth_;
  if (paren_depth_ > 0 || is_punct(t, '(') || is_punct(t, ')')) return;  // VARCHAR(10), ENUM('a', 'b')
  if (is_punct(t, ':')) {
    phase_ = Phase::body;
    return;
  }
  if (name_follows_) {
    name_follows_ = false;
    return;
  }
  std::string word = keyword(t);
  bool skipped = t.kind == TokenKind::string || t.kind == TokenKind::executable_comment || is_punct(t, '.') ||
                 (t.kind == TokenKind::word && t.after_dot);  // COMMENT 'text', TYPE OF t.c
  if (is_any(word, {"RETURNS", "CHARSET", "COLLATE", "OF"}) ||
      (word == "SET" && (previous_word_ == "CHARACTER" || previous_word_ == "CHAR"))) {
    name_follows_ = true;
  } else if (!skipped && !is_routine_header_word(word)) {
    return start_body(t);
  }
  previous_word_ = word;
}

// The words of sp_c_chistics and of a return type after its name (INT UNSIGNED, DOUBLE
// PRECISION, NATIONAL CHAR VARYING, CHAR(5) CHARACTER SET x BINARY, ROW TYPE OF t). No
// statement starts with one of them, so the body cannot be mistaken for the header.
bool MariaProgramTracker::is_routine_header_word(const std::string& word) {
  return is_any(word, {"COMMENT", "LANGUAGE", "SQL", "NO", "CONTAINS", "READS", "MODIFIES", "DATA", "SECURITY",
                       "DEFINER", "INVOKER", "NOT", "DETERMINISTIC", "SIGNED", "UNSIGNED", "ZEROFILL", "BINARY",
                       "ASCII", "UNICODE", "BYTE", "CHARACTER", "CHAR", "VARYING", "PRECISION", "VARCHAR", "VARCHAR2",
                       "VARBINARY", "NATIONAL", "LONG", "TYPE", "ROW"});
}

void MariaProgramTracker::on_trigger_header(const Token& t) {
  std::string word = keyword(t);
  switch (trigger_step_) {
    case TriggerStep::before_for:
    case TriggerStep::after_for:
    case TriggerStep::after_each:
      if (word == "FOR") trigger_step_ = TriggerStep::after_for;
      else if (word == "EACH" && trigger_step_ == TriggerStep::after_for) trigger_step_ = TriggerStep::after_each;
      else if (word == "ROW" && trigger_step_ == TriggerStep::after_each) trigger_step_ = TriggerStep::after_row;
      else trigger_step_ = TriggerStep::before_for;
      return;
    case TriggerStep::after_row:
      if (word == "FOLLOWS" || word == "PRECEDES") {
        trigger_step_ = TriggerStep::after_order;
        return;
      }
      break;
    case TriggerStep::after_order:
      trigger_step_ = TriggerStep::after_other_trigger;
      return;
    case TriggerStep::after_other_trigger:
      break;
  }
  start_body(t);
}

void MariaProgramTracker::start_body(const Token& t) {
  phase_ = Phase::body;
  at_ = At::statement_start;
  on_statement_start(t);
}

void MariaProgramTracker::on_body_token(const Token& t) {
  if (is_punct(t, ';')) {  // one that does not end the statement: the next one starts here
    at_ = At::statement_start;
    paren_depth_ = 0;
    after_begin_ = maybe_label_ = false;
    return;
  }
  switch (at_) {
    case At::statement_start: return on_statement_start(t);
    case At::simple:
      // lbl: BEGIN ..., lbl: LOOP ...
      if (maybe_label_ && is_punct(t, ':') && lexer_->at(t.end) != '=') at_ = At::statement_start;
      maybe_label_ = false;
      return;
    case At::declare: return on_declare(t);
    case At::handler_conditions: return on_handler_condition(t);
    case At::condition: return on_condition(t);
    case At::after_end: return;  // END IF, END LOOP lbl, ...
  }
}

void MariaProgramTracker::on_statement_start(const Token& t) {
  std::string word = keyword(t);
  if (after_begin_ && (word == "NOT" || word == "ATOMIC")) {
    after_begin_ = word == "NOT";
    return;
  }
  after_begin_ = false;
  if (open_compound(word) || continue_compound(word)) return;
  if (word == "DECLARE") {
    at_ = At::declare;
    declare_step_ = DeclareStep::start;
    return;
  }
  at_ = At::simple;
  maybe_label_ = (t.kind == TokenKind::word && !t.after_dot) || t.kind == TokenKind::quoted_identifier;
}

bool MariaProgramTracker::open_compound(const std::string& word) {
  if (word == "BEGIN") {
    frames_.push_back(Frame::block);
    after_begin_ = true;
  } else if (word == "IF") {
    frames_.push_back(Frame::if_statement);
    expect_condition(Until::then_word);
  } else if (word == "CASE") {
    frames_.push_back(Frame::case_statement);
    expect_condition(Until::when_word);
  } else if (word == "WHILE" || word == "FOR") {
    frames_.push_back(word == "WHILE" ? Frame::while_loop : Frame::for_loop);
    expect_condition(Until::do_word);
  } else if (word == "LOOP" || word == "REPEAT") {
    frames_.push_back(word == "LOOP" ? Frame::loop : Frame::repeat_loop);
  } else {
    return false;
  }
  return true;
}

// END, and the words that start the next branch of an IF, a CASE or a REPEAT.
bool MariaProgramTracker::continue_compound(const std::string& word) {
  if (word == "END") {
    if (!frames_.empty()) frames_.pop_back();
    at_ = At::after_end;
    return true;
  }
  if (frames_.empty()) return false;
  Frame frame = frames_.back();
  bool branching = frame == Frame::if_statement || frame == Frame::case_statement;
  if ((word == "ELSEIF" && frame == Frame::if_statement) || (word == "WHEN" && frame == Frame::case_statement)) {
    expect_condition(Until::then_word);
  } else if (word == "UNTIL" && frame == Frame::repeat_loop) {
    expect_condition(Until::end_word);
  } else if (!(word == "ELSE" && branching)) {
    return false;
  }
  return true;
}

void MariaProgramTracker::expect_condition(Until until) {
  at_ = At::condition;
  until_ = until;
  case_depth_ = 0;
  paren_depth_ = 0;
}

// An expression up to THEN, DO, WHEN or (after UNTIL) END; CASE ... END expressions
// inside it have WHEN, THEN and END of their own.
void MariaProgramTracker::on_condition(const Token& t) {
  if (is_punct(t, '(')) ++paren_depth_;
  if (is_punct(t, ')') && paren_depth_ > 0) --paren_depth_;
  if (paren_depth_ > 0) return;
  std::string word = keyword(t);
  if (word == "CASE") {
    ++case_depth_;
  } else if (word == "END" && case_depth_ > 0) {
    --case_depth_;
  } else if (case_depth_ > 0) {
    return;
  } else if (word == "END" && until_ == Until::end_word) {
    frames_.pop_back();
    at_ = At::after_end;
  } else if ((word == "THEN" && until_ == Until::then_word) || (word == "DO" && until_ == Until::do_word)) {
    at_ = At::statement_start;
  } else if (word == "WHEN" && until_ == Until::when_word) {
    until_ = Until::then_word;
  }
}

// DECLARE {CONTINUE|EXIT|UNDO} HANDLER FOR conditions <statement>: the handler's statement
// may be compound. Every other DECLARE (variables, conditions, CURSOR FOR SELECT ...) ends at ';'.
void MariaProgramTracker::on_declare(const Token& t) {
  std::string word = keyword(t);
  if (declare_step_ == DeclareStep::start && is_any(word, {"CONTINUE", "EXIT", "UNDO"})) {
    declare_step_ = DeclareStep::handler_type;
  } else if (declare_step_ == DeclareStep::handler_type && word == "HANDLER") {
    declare_step_ = DeclareStep::handler_word;
  } else if (declare_step_ == DeclareStep::handler_word && word == "FOR") {
    at_ = At::handler_conditions;
    condition_step_ = ConditionStep::expected;
  } else {
    at_ = At::simple;
  }
}

// SQLSTATE [VALUE] 'xxxxx' | NOT FOUND | SQLWARNING | SQLEXCEPTION | error code | name, ...
void MariaProgramTracker::on_handler_condition(const Token& t) {
  std::string word = keyword(t);
  switch (condition_step_) {
    case ConditionStep::expected:
      condition_step_ = word == "SQLSTATE" ? ConditionStep::after_sqlstate
                        : word == "NOT"    ? ConditionStep::after_not
                                           : ConditionStep::done;
      return;
    case ConditionStep::after_sqlstate:
      if (word != "VALUE") condition_step_ = ConditionStep::done;
      return;
    case ConditionStep::after_not:
      condition_step_ = ConditionStep::done;
      return;
    case ConditionStep::done:
      if (is_punct(t, ',')) {
        condition_step_ = ConditionStep::expected;
        return;
      }
      at_ = At::statement_start;
      return on_statement_start(t);
  }
}

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
