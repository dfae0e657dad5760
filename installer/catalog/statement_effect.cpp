#include "installer/catalog/statement_effect.hpp"

#include "installer/catalog/effect_tokens.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>

namespace installer {

namespace {

using effect::Token;

class Reader {
 public:
  Reader(std::vector<Token> tokens, SqlDialect dialect) : t_(std::move(tokens)), dialect_(dialect) {}

  const Token& peek(size_t ahead = 0) const {
    static const Token none;
    return i_ + ahead < t_.size() ? t_[i_ + ahead] : none;
  }
  bool at_end() const { return i_ >= t_.size(); }
  bool is(const char* word, size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.kind == Token::word && t.text == word;
  }
  bool is_symbol(char c, size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.kind == Token::symbol && t.text[0] == c;
  }
  bool accept(const char* word) {
    if (!is(word)) return false;
    ++i_;
    return true;
  }
  bool accept_all(std::initializer_list<const char*> words) {
    size_t k = 0;
    for (const char* w : words)
      if (!is(w, k++)) return false;
    i_ += words.size();
    return true;
  }
  bool accept_any(std::initializer_list<const char*> words) {
    for (const char* w : words)
      if (accept(w)) return true;
    return false;
  }
  bool accept_symbol(char c) {
    if (!is_symbol(c)) return false;
    ++i_;
    return true;
  }
  void skip() { ++i_; }

  /// name or schema.name; empty when the next token is no name.
  ObjectName name() {
    auto part = [&]() -> std::string {
      const Token& t = peek();
      if (t.kind == Token::quoted_name) return ++i_, t.text;
      if (t.kind != Token::word) return {};
      ++i_;
      // PostgreSQL folds unquoted names to lower case; MariaDB keeps them as written.
      if (dialect_ == SqlDialect::postgres) {
        std::string lower = t.raw;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return lower;
      }
      return t.raw;
    };
    ObjectName n;
    n.name = part();
    if (!n.name.empty() && is_symbol('.')) {
      ++i_;
      n.schema = n.name;
      n.name = part();
    }
    return n;
  }

  /// DEFINER = user@host | CURRENT_USER[()] | CURRENT_ROLE
  void skip_definer() {
    if (!is("DEFINER") || !is_symbol('=', 1)) return;
    i_ += 2;
    skip();
    if (accept_symbol('(')) accept_symbol(')');
    if (accept_symbol('@')) skip();
  }

  /// Skips a parenthesised group, if one starts here.
  void skip_group() {
    if (!is_symbol('(')) return;
    int depth = 0;
    do {
      if (is_symbol('(')) ++depth;
      else if (is_symbol(')')) --depth;
      skip();
    } while (!at_end() && depth > 0);
  }

 private:
  std::vector<Token> t_;
  size_t i_ = 0;
  SqlDialect dialect_;
};

std::string summary_of(const std::vector<Token>& tokens) {
  std::string out;
  for (size_t k = 0; k < tokens.size() && k < 8; ++k) {
    const Token& t = tokens[k];
    if (t.kind == Token::literal || (t.kind == Token::symbol && t.text != "." && t.text != ",")) break;
    bool glue = t.text == "." || t.text == "," || (!out.empty() && out.back() == '.');
    out += (out.empty() || glue ? "" : " ") + t.raw;
  }
  return out;
}

void read_names(Reader& r, StatementEffect& e) {
  do {
    ObjectName n = r.name();
    if (n.empty()) {
      e.action = Action::unknown;
      return;
    }
    e.objects.push_back(n);
  } while (r.accept_symbol(','));
}

// [ALGORITHM = x] [DEFINER = u] [SQL SECURITY x], in any order, before VIEW, PROCEDURE,
// FUNCTION, TRIGGER or EVENT.
void skip_view_and_routine_options(Reader& r) {
  for (bool more = true; more;) {
    more = false;
    if (r.is("ALGORITHM") && r.is_symbol('=', 1)) {
      r.skip(), r.skip(), r.skip();
      more = true;
    }
    if (r.is("DEFINER")) {
      r.skip_definer();
      more = true;
    }
    if (r.accept_all({"SQL", "SECURITY"})) {
      r.skip();
      more = true;
    }
  }
}

ObjectKind routine_kind(Reader& r) {
  if (r.accept("PROCEDURE")) return ObjectKind::procedure;
  if (r.accept("FUNCTION")) return ObjectKind::function;
  if (r.accept("TRIGGER")) return ObjectKind::trigger;
  if (r.accept("EVENT")) return ObjectKind::event;
  if (r.accept("VIEW")) return ObjectKind::view;
  if (r.accept("SEQUENCE")) return ObjectKind::sequence;
  if (r.accept_all({"MATERIALIZED", "VIEW"})) return ObjectKind::materialized_view;
  return ObjectKind::none;
}

// CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] [USING x] ON [ONLY] table
void read_create_index(Reader& r, StatementEffect& e) {
  e.kind = ObjectKind::index;
  e.concurrently = r.accept("CONCURRENTLY");
  e.if_not_exists = r.accept_all({"IF", "NOT", "EXISTS"});
  if (!r.is("ON")) {
    ObjectName n = r.name();
    if (!n.empty()) e.objects.push_back(n);
  }
  if (r.accept("USING")) r.skip();
  if (!r.accept("ON")) return void(e.action = Action::unknown);
  r.accept("ONLY");
  e.table = r.name();
  if (e.table.empty()) e.action = Action::unknown;
}

void read_create(Reader& r, StatementEffect& e, SqlDialect d) {
  e.action = Action::create;
  e.or_replace = r.accept_all({"OR", "REPLACE"});
  r.accept_any({"GLOBAL", "LOCAL"});
  e.temporary = r.accept_any({"TEMPORARY", "TEMP"});
  r.accept("UNLOGGED");
  r.accept_any({"ONLINE", "OFFLINE"});
  skip_view_and_routine_options(r);
  r.accept("AGGREGATE");
  r.accept("RECURSIVE");
  if (r.accept_any({"UNIQUE", "FULLTEXT", "SPATIAL"}) || r.is("INDEX")) {
    if (!r.accept("INDEX")) return void(e.action = Action::unknown);
    read_create_index(r, e);
    // A MariaDB index is part of its table's definition, restored as such.
    if (d == SqlDialect::mariadb && e.action != Action::unknown) {
      e.action = Action::alter_table;
      e.objects = {e.table};
    }
    return;
  }
  if (r.accept("TABLE")) {
    e.kind = ObjectKind::table;
  } else {
    e.kind = routine_kind(r);
    if (e.kind == ObjectKind::none) return void(e.action = Action::unknown);
  }
  e.if_not_exists = r.accept_all({"IF", "NOT", "EXISTS"});
  ObjectName n = r.name();
  if (n.empty()) return void(e.action = Action::unknown);
  e.objects.push_back(n);
  if (e.kind == ObjectKind::trigger) {
    // ... {BEFORE | AFTER | INSTEAD OF} event [OR event ...] ON table: its table.
    while (!r.at_end() && !r.is("ON")) r.skip();
    if (r.accept("ON")) e.table = r.name();
  }
}

void read_drop(Reader& r, StatementEffect& e, SqlDialect d) {
  e.action = Action::drop;
  e.temporary = r.accept("TEMPORARY");
  if (r.accept("TABLE")) e.kind = ObjectKind::table;
  else if (r.accept("INDEX")) e.kind = ObjectKind::index;
  else e.kind = routine_kind(r);
  if (e.kind == ObjectKind::none) return void(e.action = Action::unknown);
  e.concurrently = e.kind == ObjectKind::index && r.accept("CONCURRENTLY");
  e.if_exists = r.accept_all({"IF", "EXISTS"});
  read_names(r, e);
  if (e.kind == ObjectKind::index && d == SqlDialect::mariadb) {
    // DROP INDEX i ON t changes the table's definition.
    if (e.objects.size() != 1 || !r.accept("ON")) return void(e.action = Action::unknown);
    e.table = r.name();
    e.action = e.table.empty() ? Action::unknown : Action::alter_table;
    e.objects = {e.table};
    return;
  }
  e.cascade = r.accept("CASCADE");
}

// ALTER TABLE t spec, spec, ...: the renames among the specs, which a restore of the
// table's definition must know to put names back rather than drop and re-add.
void read_alter_table_specs(Reader& r, StatementEffect& e) {
  while (!r.at_end()) {
    if (r.accept("RENAME")) {
      if (r.accept("COLUMN")) {
        ObjectName from = r.name();
        if (!r.accept("TO")) return void(e.action = Action::unknown);
        e.column_renames.emplace_back(from.name, r.name().name);
      } else if (!r.is("INDEX") && !r.is("KEY") && !r.is("CONSTRAINT")) {
        r.accept_any({"TO", "AS"});
        ObjectName to = r.name();
        if (to.empty()) return void(e.action = Action::unknown);
        e.renames.emplace_back(e.objects[0], to);
      }
    } else if (r.accept("CHANGE")) {
      r.accept("COLUMN");
      r.accept_all({"IF", "EXISTS"});
      std::string from = r.name().name, to = r.name().name;
      if (from.empty() || to.empty()) return void(e.action = Action::unknown);
      if (from != to) e.column_renames.emplace_back(from, to);
    }
    // On to the next spec: the next comma outside parentheses.
    while (!r.at_end() && !r.is_symbol(',')) {
      if (r.is_symbol('(')) r.skip_group();
      else r.skip();
    }
    r.accept_symbol(',');
  }
}

void read_alter(Reader& r, StatementEffect& e) {
  r.accept("ONLINE");
  r.accept("IGNORE");
  if (r.accept("TABLE")) {
    e.if_exists = r.accept_all({"IF", "EXISTS"});
    r.accept("ONLY");
    ObjectName n = r.name();
    if (n.empty()) return;
    e.action = Action::alter_table;
    e.kind = ObjectKind::table;
    e.objects.push_back(n);
    read_alter_table_specs(r, e);
    return;
  }
  skip_view_and_routine_options(r);
  ObjectKind kind = routine_kind(r);
  if (kind != ObjectKind::view && kind != ObjectKind::procedure && kind != ObjectKind::function &&
      kind != ObjectKind::event)
    return;
  ObjectName n = r.name();
  if (n.empty()) return;
  // ALTER EVENT ... RENAME TO moves the event: not a change of its definition.
  while (!r.at_end())
    if (r.accept("RENAME")) return;
    else r.skip();
  e.action = Action::alter_object;
  e.kind = kind;
  e.objects.push_back(n);
}

void read_rename(Reader& r, StatementEffect& e) {
  if (!r.accept_any({"TABLE", "TABLES"})) return;
  r.accept_all({"IF", "EXISTS"});
  do {
    ObjectName from = r.name();
    if (!r.accept("TO")) return;
    ObjectName to = r.name();
    if (from.empty() || to.empty()) return;
    e.renames.emplace_back(from, to);
  } while (r.accept_symbol(','));
  if (!r.at_end()) return;
  e.action = Action::rename_tables;
  e.kind = ObjectKind::table;
}

// INSERT/REPLACE [INTO] t, UPDATE t SET, DELETE FROM t, TRUNCATE [TABLE] t: one table
// written; anything with several tables stays unknown.
void read_write(Reader& r, StatementEffect& e, const std::string& verb) {
  r.accept_any({"LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY"});
  r.accept("QUICK");
  r.accept("IGNORE");
  if (verb == "INSERT" || verb == "REPLACE") r.accept("INTO");
  else if (verb == "DELETE" && !r.accept("FROM")) return;
  else if (verb == "TRUNCATE") r.accept("TABLE");
  r.accept("ONLY");
  ObjectName n = r.name();
  if (n.empty()) return;
  if (verb == "UPDATE") {
    if (!r.is("SET")) {
      r.accept("AS");
      if (r.peek().kind == Token::word && !r.is("SET")) r.skip();
      if (!r.is("SET")) return;
    }
  } else if (verb == "TRUNCATE" || verb == "DELETE") {
    if (r.is_symbol(',') || r.is("USING")) return;
  }
  e.action = Action::write_rows;
  e.kind = ObjectKind::table;
  e.objects.push_back(n);
}

bool changes_no_schema(const std::string& verb, Reader& r, const std::vector<Token>& tokens, SqlDialect d) {
  auto has_word = [&](const char* w) {
    return std::any_of(tokens.begin(), tokens.end(),
                       [&](const Token& t) { return t.kind == Token::word && t.text == w; });
  };
  if (verb == "SET") {
    // A session setting ends with the session; SET GLOBAL / PASSWORD / ROLE do not.
    return !has_word("GLOBAL") && !has_word("PERSIST") && !has_word("PERSIST_ONLY") && !r.is("PASSWORD") &&
           !r.is("ROLE") && !r.is("DEFAULT");
  }
  // PostgreSQL's SELECT ... INTO creates a table, and EXPLAIN ANALYZE runs its statement.
  if (verb == "SELECT") return d == SqlDialect::mariadb || !has_word("INTO");
  if (verb == "EXPLAIN") return !has_word("ANALYZE") && !has_word("ANALYSE");
  static const char* const common[] = {"SHOW", "ANALYZE", "ANALYSE", "PREPARE", "DEALLOCATE", "VALUES"};
  static const char* const mariadb[] = {"DO", "DESCRIBE", "DESC", "OPTIMIZE", "CHECK", "CHECKSUM", "HELP", "FLUSH"};
  static const char* const postgres[] = {"RESET",   "VACUUM", "REINDEX",  "CLUSTER", "CHECKPOINT",
                                         "DISCARD", "LISTEN", "UNLISTEN", "NOTIFY",  "REFRESH"};
  auto in = [&](const auto& list) { return std::find(std::begin(list), std::end(list), verb) != std::end(list); };
  return in(common) || (d == SqlDialect::mariadb ? in(mariadb) : in(postgres));
}

// Statements whose effect is the code they run: a procedure, a prepared statement, a
// compound block (MariaDB runs BEGIN NOT ATOMIC, IF, CASE, loops outside stored programs).
bool runs_code(const std::string& verb, Reader& r, SqlDialect d) {
  if (verb == "CALL" || verb == "EXECUTE") return true;
  if (d == SqlDialect::postgres) return verb == "DO";
  if (verb == "BEGIN") return r.is("NOT") && r.is("ATOMIC", 1);
  return verb == "IF" || verb == "CASE" || verb == "WHILE" || verb == "LOOP" || verb == "REPEAT" || verb == "FOR";
}

}  // namespace

StatementEffect statement_effect(std::string_view statement, SqlDialect dialect) {
  // The leading words say what a statement is; only ALTER's list of changes and
  // PostgreSQL's SELECT/EXPLAIN (INTO, ANALYZE anywhere) need more, and a seed's long
  // INSERT should not be read to its end.
  std::vector<Token> tokens = effect::leading_tokens(statement, dialect, 64);
  if (tokens.size() == 64 && tokens[0].kind == Token::word &&
      (tokens[0].text == "ALTER" ||
       (dialect == SqlDialect::postgres && (tokens[0].text == "SELECT" || tokens[0].text == "EXPLAIN"))))
    tokens = effect::leading_tokens(statement, dialect, 1 << 20);
  StatementEffect e;
  e.summary = summary_of(tokens);
  Reader r(tokens, dialect);
  if (r.peek().kind != Token::word) return e;
  std::string verb = r.peek().text;
  r.skip();
  if (verb == "CREATE") read_create(r, e, dialect);
  else if (verb == "DROP") read_drop(r, e, dialect);
  else if (verb == "ALTER") read_alter(r, e);
  else if (verb == "RENAME") read_rename(r, e);
  else if (verb == "INSERT" || verb == "REPLACE" || verb == "UPDATE" || verb == "DELETE" || verb == "TRUNCATE")
    read_write(r, e, verb);
  else if (changes_no_schema(verb, r, tokens, dialect)) e.action = Action::no_schema_change;
  else if (runs_code(verb, r, dialect)) e.action = Action::runs_code;
  if (e.action == Action::unknown) {
    e.kind = ObjectKind::none;
    e.objects.clear();
  }
  return e;
}

}  // namespace installer
