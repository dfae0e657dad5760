#include "installer/catalog/maria_program_tracker.hpp"

namespace installer::sql {

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
  return is_any(word,
                {"COMMENT",  "LANGUAGE", "SQL",       "NO",       "CONTAINS",      "READS",  "MODIFIES", "DATA",
                 "SECURITY", "DEFINER",  "INVOKER",   "NOT",      "DETERMINISTIC", "SIGNED", "UNSIGNED", "ZEROFILL",
                 "BINARY",   "ASCII",    "UNICODE",   "BYTE",     "CHARACTER",     "CHAR",   "VARYING",  "PRECISION",
                 "VARCHAR",  "VARCHAR2", "VARBINARY", "NATIONAL", "LONG",          "TYPE",   "ROW"});
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
    case TriggerStep::after_order: trigger_step_ = TriggerStep::after_other_trigger; return;
    case TriggerStep::after_other_trigger: break;
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
    case ConditionStep::after_not: condition_step_ = ConditionStep::done; return;
    case ConditionStep::done:
      if (is_punct(t, ',')) {
        condition_step_ = ConditionStep::expected;
        return;
      }
      at_ = At::statement_start;
      return on_statement_start(t);
  }
}

}  // namespace installer::sql
