#include "installer/catalog/release_lint.hpp"

#include "installer/catalog/effect_tokens.hpp"
#include "installer/catalog/statement_effect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

namespace installer {
namespace {

// docs/verify.md says what each means and when to allow it.
constexpr std::array<const char*, 6> kCodes{"call-in-down",
                                            "destructive-up",
                                            "down-drops-data",
                                            "drop-without-if-exists",
                                            "index-without-concurrently",
                                            "not-null-without-default"};

using effect::Token;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// A statement's tokens as clauses split at top-level commas (ALTER TABLE's actions).
std::vector<std::vector<Token>> clauses_of(const std::vector<Token>& tokens, size_t from) {
  std::vector<std::vector<Token>> clauses(1);
  int depth = 0;
  for (size_t i = from; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (t.kind == Token::symbol && t.text == "(") ++depth;
    if (t.kind == Token::symbol && t.text == ")") --depth;
    if (depth == 0 && t.kind == Token::symbol && t.text == ",") {
      clauses.emplace_back();
      continue;
    }
    clauses.back().push_back(t);
  }
  return clauses;
}

bool is_word(const std::vector<Token>& c, size_t i, const char* word) {
  return i < c.size() && c[i].kind == Token::word && c[i].text == word;
}

bool has_word(const std::vector<Token>& c, size_t from, std::initializer_list<const char*> words) {
  for (size_t i = from; i < c.size(); ++i)
    for (const char* w : words)
      if (is_word(c, i, w)) return true;
  return false;
}

/// DROP [COLUMN | INDEX | FOREIGN KEY ...] IF EXISTS: within the clause's first words.
bool names_if_exists(const std::vector<Token>& c) {
  for (size_t i = 1; i < 4; ++i)
    if (is_word(c, i, "IF") && is_word(c, i + 1, "EXISTS")) return true;
  return false;
}

/// The name a clause's action applies to, after its optional keywords.
std::string name_after(const std::vector<Token>& c, size_t& i, std::initializer_list<const char*> optional) {
  for (const char* w : optional)
    if (is_word(c, i, w)) ++i;
  if (is_word(c, i, "IF")) i += is_word(c, i + 1, "NOT") ? 3 : 2;
  return i < c.size() && (c[i].kind == Token::word || c[i].kind == Token::quoted_name) ? lower(c[i].text) : "";
}

/// One ALTER TABLE action, read enough to name what it adds, drops or rewrites.
struct AlterAction {
  enum Kind { other, add_column, drop_column, drop_other, change_type } kind = other;
  std::string column;
  bool if_exists = false;
  bool not_null_without_default = false;
};

AlterAction read_alter_action(const std::vector<Token>& c, SqlDialect dialect) {
  AlterAction a;
  if (c.empty()) return a;
  size_t i = 1;
  if (is_word(c, 0, "ADD")) {
    static const std::set<std::string> not_a_column{"CONSTRAINT", "INDEX",     "KEY",    "PRIMARY",
                                                    "UNIQUE",     "FOREIGN",   "CHECK",  "FULLTEXT",
                                                    "SPATIAL",    "PARTITION", "EXCLUDE"};
    if (c.size() > 1 && c[1].kind == Token::word && not_a_column.count(c[1].text)) return a;
    a.kind = AlterAction::add_column;
    a.column = name_after(c, i, {"COLUMN"});
    bool not_null = false;
    for (size_t k = i; k + 1 < c.size(); ++k)
      if (is_word(c, k, "NOT") && is_word(c, k + 1, "NULL")) not_null = true;
    bool filled = has_word(c, i,
                           {"DEFAULT", "GENERATED", "AUTO_INCREMENT", "SERIAL", "BIGSERIAL", "SMALLSERIAL", "IDENTITY",
                            "AS"});
    a.not_null_without_default = not_null && !filled;
    return a;
  }
  if (is_word(c, 0, "DROP")) {
    if (is_word(c, 1, "CONSTRAINT") || is_word(c, 1, "INDEX") || is_word(c, 1, "KEY") || is_word(c, 1, "PRIMARY") ||
        is_word(c, 1, "FOREIGN") || is_word(c, 1, "CHECK") || is_word(c, 1, "PARTITION") || is_word(c, 1, "DEFAULT") ||
        is_word(c, 1, "NOT") || is_word(c, 1, "SYSTEM") || is_word(c, 1, "PERIOD")) {
      a.kind = AlterAction::drop_other;
      a.if_exists = names_if_exists(c) || is_word(c, 1, "PRIMARY") || is_word(c, 1, "DEFAULT") || is_word(c, 1, "NOT");
      return a;
    }
    a.kind = AlterAction::drop_column;
    a.if_exists = names_if_exists(c);
    a.column = name_after(c, i, {"COLUMN"});
    return a;
  }
  // PostgreSQL: ALTER [COLUMN] c [SET DATA] TYPE t; MariaDB: MODIFY / CHANGE [COLUMN].
  bool pg_type = dialect == SqlDialect::postgres && is_word(c, 0, "ALTER") && has_word(c, 1, {"TYPE"});
  bool maria_type = dialect == SqlDialect::mariadb && (is_word(c, 0, "MODIFY") || is_word(c, 0, "CHANGE"));
  if (pg_type || maria_type) {
    a.kind = AlterAction::change_type;
    a.column = name_after(c, i, {"COLUMN"});
  }
  return a;
}

/// ALTER TABLE's actions (MariaDB's CREATE/DROP INDEX are alter_table too, and have none).
std::vector<std::vector<Token>> alter_actions(const std::vector<Token>& t) {
  if (!is_word(t, 0, "ALTER")) return {};
  size_t i = 2;  // past ALTER TABLE [IF EXISTS] [ONLY] name
  if (is_word(t, i, "IF")) i += 2;
  if (is_word(t, i, "ONLY")) ++i;
  ++i;  // the name
  while (i + 1 < t.size() && t[i].kind == Token::symbol && t[i].text == ".") i += 2;
  return clauses_of(t, i);
}

/// CALL [schema.]name(...): the routine's bare name, lower-cased; "" for another statement.
std::string called_routine(const std::vector<Token>& t) {
  if (!is_word(t, 0, "CALL")) return "";
  std::string name;
  for (size_t i = 1; i < t.size(); ++i) {
    if (t[i].kind == Token::word || t[i].kind == Token::quoted_name) name = lower(t[i].text);
    else if (!(t[i].kind == Token::symbol && t[i].text == ".")) break;
  }
  return name;
}

struct ReadStatement {
  const Statement* statement;
  StatementEffect effect;
  std::vector<Token> tokens;
};

/// What one update's ups create, for telling "its own" objects from the customer's.
struct Created {
  std::set<std::string> tables, routines;
  std::set<std::pair<std::string, std::string>> columns;  ///< table, column
};

class UpdateLint {
 public:
  UpdateLint(const Update& update, Engine engine, std::vector<ReleaseWarning>& out)
      : update_(update), dialect_(dialect_for(engine)), out_(out) {}

  void run() {
    Created all = collect_created();
    Created so_far;
    for (const Step& step : update_.steps) {
      step_ = &step;
      for (const Statement& s : step.up.statements) {
        ReadStatement st = read(s);
        check_up(st, so_far, step.up.path.string());
        add_created(st, so_far);
      }
      bool partial_possible = dialect_ == SqlDialect::mariadb || !step.transactional;
      for (const Statement& s : step.down.statements)
        check_down(read(s), all, partial_possible, step.down.path.string());
    }
  }

 private:
  ReadStatement read(const Statement& s) const {
    return {&s, statement_effect(s.text, dialect_), effect::leading_tokens(s.text, dialect_, 4096)};
  }

  static std::string bare(const ObjectName& n) { return lower(n.name); }

  void add_created(const ReadStatement& st, Created& into) const {
    const StatementEffect& e = st.effect;
    if (e.action == Action::create && !e.objects.empty()) {
      if (e.kind == ObjectKind::table) into.tables.insert(bare(e.objects[0]));
      if (e.kind == ObjectKind::procedure || e.kind == ObjectKind::function) into.routines.insert(bare(e.objects[0]));
    }
    for (const auto& [from, to] : e.renames) into.tables.insert(bare(to));
    if (e.action == Action::alter_table && !e.objects.empty()) {
      for (const auto& clause : alter_actions(st.tokens)) {
        AlterAction a = read_alter_action(clause, dialect_);
        if (a.kind == AlterAction::add_column) into.columns.insert({bare(e.objects[0]), a.column});
      }
    }
  }

  Created collect_created() const {
    Created all;
    for (const Step& step : update_.steps)
      for (const Statement& s : step.up.statements) add_created(read(s), all);
    return all;
  }

  void warn(const char* code, const std::string& file, const Statement& s, std::string message) {
    ReleaseWarning w{code, update_.id, step_->name, file, s.line, std::move(message), {}};
    if (auto it = step_->allowed.find(code); it != step_->allowed.end()) w.allowed_because = it->second;
    out_.push_back(std::move(w));
  }

  void check_up(const ReadStatement& st, const Created& own, const std::string& file) {
    const StatementEffect& e = st.effect;
    const Statement& s = *st.statement;
    if (e.action == Action::drop && e.kind == ObjectKind::table) {
      for (const auto& name : e.objects)
        if (!own.tables.count(bare(name)))
          warn("destructive-up", file, s,
               fmt::format("DROP TABLE {}: its rows are gone, and no down script brings them back", name.name));
    }
    if (dialect_ == SqlDialect::postgres && e.action == Action::create && e.kind == ObjectKind::index &&
        !e.concurrently && !e.table.empty() && !own.tables.count(bare(e.table)))
      warn("index-without-concurrently", file, s,
           fmt::format("CREATE INDEX on {}, a table this update did not create, blocks writes to it for the whole "
                       "build: use CREATE INDEX CONCURRENTLY in a step with transaction = false",
                       e.table.name));
    if (e.action != Action::alter_table || e.objects.empty()) return;
    const std::string table = bare(e.objects[0]);
    if (own.tables.count(table)) return;  // the update's own table holds no customer's rows yet
    for (const auto& clause : alter_actions(st.tokens)) {
      AlterAction a = read_alter_action(clause, dialect_);
      if (a.kind == AlterAction::drop_column && !own.columns.count({table, a.column}))
        warn("destructive-up", file, s,
             fmt::format("drops column {}.{}: its values are gone, and no down script brings them back",
                         e.objects[0].name, a.column));
      if (a.kind == AlterAction::change_type)
        warn("destructive-up", file, s,
             fmt::format("changes the type of {}.{}: the table is rewritten under a lock, and a down script that "
                         "changes it back may not restore every value",
                         e.objects[0].name, a.column));
      if (a.kind == AlterAction::add_column && a.not_null_without_default)
        warn("not-null-without-default", file, s,
             fmt::format("adds {}.{} NOT NULL without a default: {}", e.objects[0].name, a.column,
                         dialect_ == SqlDialect::postgres
                             ? "this fails on a customer's table that has rows"
                             : "a customer's existing rows get the type's zero value, silently"));
    }
  }

  void check_down(const ReadStatement& st, const Created& own, bool partial_possible, const std::string& file) {
    const StatementEffect& e = st.effect;
    const Statement& s = *st.statement;
    if (e.action == Action::drop) {
      if (partial_possible && !e.if_exists)
        warn("drop-without-if-exists", file, s,
             fmt::format("DROP {} {} without IF EXISTS: when the up stopped before creating it, this down fails",
                         sql_keyword(e.kind), e.objects.empty() ? std::string() : e.objects[0].name));
      if (e.kind == ObjectKind::table)
        for (const auto& name : e.objects)
          if (!own.tables.count(bare(name)))
            warn("down-drops-data", file, s,
                 fmt::format("drops table {}, which this update's up scripts did not create: its rows are lost when "
                             "the update is reverted",
                             name.name));
    }
    if (partial_possible && own.routines.count(called_routine(st.tokens)))
      warn("call-in-down", file, s,
           "CALL of a routine this update's up creates: when the up stopped before creating it, this down fails");
    if (e.action != Action::alter_table || e.objects.empty()) return;
    const std::string table = bare(e.objects[0]);
    if (partial_possible && is_word(st.tokens, 0, "DROP") && !is_word(st.tokens, 2, "IF"))  // MariaDB's DROP INDEX
      warn("drop-without-if-exists", file, s,
           "DROP INDEX without IF EXISTS: when the up stopped before creating it, this down fails");
    for (const auto& clause : alter_actions(st.tokens)) {
      AlterAction a = read_alter_action(clause, dialect_);
      if (a.kind != AlterAction::drop_column && a.kind != AlterAction::drop_other) continue;
      if (partial_possible && !a.if_exists && dialect_ == SqlDialect::mariadb)
        warn("drop-without-if-exists", file, s,
             fmt::format("ALTER TABLE {} DROP without IF EXISTS: when the up stopped before adding it, this down "
                         "fails",
                         e.objects[0].name));
      if (a.kind == AlterAction::drop_column && !own.tables.count(table) && !own.columns.count({table, a.column}))
        warn("down-drops-data", file, s,
             fmt::format("drops column {}.{}, which this update's up scripts did not add: its values are lost when "
                         "the update is reverted",
                         e.objects[0].name, a.column));
    }
  }

  const Update& update_;
  SqlDialect dialect_;
  std::vector<ReleaseWarning>& out_;
  const Step* step_ = nullptr;
};

}  // namespace

std::string ReleaseWarning::to_string() const {
  std::string where = line > 0 ? fmt::format("{}:{}", file, line) : file;
  return allowed() ? fmt::format("{}: allowed[{}]: {} (allowed: {})", where, code, message, allowed_because)
                   : fmt::format("{}: warning[{}]: {}", where, code, message);
}

std::vector<ReleaseWarning> release_warnings(const Catalog& catalog, Engine engine) {
  std::vector<ReleaseWarning> out;
  for (const Update& update : catalog.updates) UpdateLint(update, engine, out).run();
  return out;
}

bool is_release_warning_code(std::string_view code) {
  return std::any_of(kCodes.begin(), kCodes.end(), [&](const char* c) { return code == c; });
}

std::string release_warning_codes() {
  std::string out;
  for (const char* c : kCodes) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

}  // namespace installer
