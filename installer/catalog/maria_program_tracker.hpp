#pragma once
#include "installer/catalog/sql_lexer.hpp"

#include <string>
#include <vector>

namespace installer::sql {

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
    first_word,
    plain,
    begin_word,
    begin_not,
    create_prefix,
    alter_prefix,
    routine_name,
    routine_parameters,
    routine_header,
    trigger_header,
    event_header,
    body
  };
  enum class Frame { block, if_statement, case_statement, loop, while_loop, repeat_loop, for_loop };
  // Where in the body the next token is.
  enum class At { statement_start, simple, declare, handler_conditions, condition, after_end };
  // The word that ends an IF/ELSEIF/WHEN/WHILE/FOR/UNTIL/CASE condition.
  enum class Until { then_word, when_word, do_word, end_word };
  enum class TriggerStep { before_for, after_for, after_each, after_row, after_order, after_other_trigger };
  enum class DeclareStep { start, handler_type, handler_word };
  enum class ConditionStep { expected, after_sqlstate, after_not, done };

  bool is_punct(const Token& t, char c) const { return sql::is_punct(t, lexer_->text(t), c); }
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

}  // namespace installer::sql
