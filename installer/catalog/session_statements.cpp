#include "installer/catalog/session_statements.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace installer {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool has(const std::vector<std::string>& words, const char* word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

/// Where the statement's first word starts, past blanks and comments.
size_t first_word_offset(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
    } else if (s.compare(i, 2, "--") == 0 || s[i] == '#') {
      i = std::min(s.size(), s.find('\n', i));
    } else if (s.compare(i, 2, "/*") == 0) {
      auto close = s.find("*/", i + 2);
      i = close == std::string_view::npos ? s.size() : close + 2;
    } else {
      break;
    }
  }
  return i;
}

/// The assignments of a SET statement, split at the commas outside parentheses and quotes.
std::vector<std::string_view> set_assignments(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0, i = 0;
  int depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '\'' || c == '"' || c == '`') {
      for (++i; i < s.size() && s[i] != c; ++i)
        if (s[i] == '\\' && c != '`') ++i;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
    ++i;
  }
  parts.push_back(s.substr(start));
  return parts;
}

/// The variable an assignment sets, lower-case, without @@, SESSION/LOCAL/GLOBAL and their
/// "session." forms: "SESSION autocommit = 0" and "@@session.autocommit := 0" give "autocommit".
std::string assigned_variable(std::string_view assignment) {
  size_t i = assignment.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) return "";
  std::string_view rest = assignment.substr(i);
  auto end = rest.find_first_of(" \t\r\n=:");
  std::string name = lower(rest.substr(0, end));
  if (name == "session" || name == "local" || name == "global")
    return assigned_variable(end == std::string_view::npos ? std::string_view() : rest.substr(end));
  if (name.rfind("@@", 0) == 0) name = name.substr(2);
  for (const char* scope : {"session.", "local.", "global."})
    if (name.rfind(scope, 0) == 0) name = name.substr(std::string(scope).size());
  return name;
}

std::optional<std::string> mariadb_session_change(std::string_view statement) {
  auto words = leading_words(statement, 6);
  if (words.empty()) return std::nullopt;
  if (words[0] == "USE")
    return std::string("USE would switch the session to another database, and the journal's writes with it; qualify "
                       "names with the other database instead");
  if (words[0] != "SET") return std::nullopt;
  if (words.size() > 1 && words[1] == "ROLE")
    return std::string("SET ROLE would change the privileges the installer's journal writes run with; grant the "
                       "privileges to the installer's user instead");
  if (has(words, "TRANSACTION") && has(words, "READ") && has(words, "ONLY"))
    return std::string("SET TRANSACTION READ ONLY would make the installer's own journal writes fail");
  for (auto assignment : set_assignments(statement.substr(first_word_offset(statement) + 3))) {
    std::string variable = assigned_variable(assignment);
    if (variable == "autocommit")
      return std::string("SET autocommit would hold back the commits the installer journals statement by statement "
                         "(the server would roll the step and its journal back at the end of the session); remove it");
    if (variable == "tx_read_only" || variable == "transaction_read_only")
      return fmt::format("SET {} would make the installer's own journal writes fail; remove it", variable);
  }
  return std::nullopt;
}

std::optional<std::string> postgres_session_change(std::string_view statement, bool transactional) {
  auto words = leading_words(statement, 8);
  if (words.size() < 2 || (words[0] != "SET" && words[0] != "RESET")) return std::nullopt;
  size_t i = 1;
  if (words[0] == "SET" && (words[1] == "SESSION" || words[1] == "LOCAL") && words.size() > 2 &&
      words[2] != "AUTHORIZATION" && words[2] != "CHARACTERISTICS")
    i = 2;
  const std::string& what = words[i];
  if (what == "ROLE" || (what == "SESSION" && i + 1 < words.size() && words[i + 1] == "AUTHORIZATION"))
    return fmt::format("{} {} would change the user the installer's journal writes run as; grant the privileges to "
                       "the installer's user instead",
                       words[0], what == "ROLE" ? "ROLE" : "SESSION AUTHORIZATION");
  bool read_only_mode = (what == "TRANSACTION" || what == "CHARACTERISTICS" ||
                         (what == "SESSION" && i + 1 < words.size() && words[i + 1] == "CHARACTERISTICS")) &&
                        has(words, "READ") && has(words, "ONLY");
  if (read_only_mode) return std::string("a read-only transaction would make the installer's own journal writes fail");
  // A default only reaches the transactions after this one: inside the update's it is put
  // back at the end of the step, before the journal writes again.
  bool refused_default = what == "DEFAULT_TRANSACTION_READ_ONLY" && !transactional;
  if (words[0] == "SET" && (what == "TRANSACTION_READ_ONLY" || refused_default)) {
    // "SET transaction_read_only = off" is harmless; anything else is read-only mode.
    auto value = leading_words(statement, i + 3);
    bool off = value.size() > i + 1 && (value.back() == "OFF" || value.back() == "FALSE" || value.back() == "DEFAULT");
    if (!off) return fmt::format("SET {} would make the installer's own journal writes fail", lower(what));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> session_change(std::string_view statement, SqlDialect dialect, bool transactional) {
  return dialect == SqlDialect::mariadb ? mariadb_session_change(statement)
                                        : postgres_session_change(statement, transactional);
}

std::string unwrap_executable_comments(std::string_view statement) {
  std::string out(statement);
  size_t i = 0;
  while (i + 2 < out.size()) {
    char c = out[i];
    if (c == '\'' || c == '"' || c == '`') {
      for (++i; i < out.size() && out[i] != c; ++i)
        if (out[i] == '\\' && c != '`') ++i;
      ++i;
      continue;
    }
    bool marker = out.compare(i, 3, "/*!") == 0 || out.compare(i, 4, "/*M!") == 0;
    if (!marker) {
      ++i;
      continue;
    }
    size_t body = i + (out[i + 2] == 'M' ? 4 : 3);
    while (body < out.size() && std::isdigit(static_cast<unsigned char>(out[body]))) ++body;
    size_t close = out.find("*/", body);
    if (close == std::string::npos) break;  // the splitter reports an unterminated comment
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(i), out.begin() + static_cast<std::ptrdiff_t>(body), ' ');
    out[close] = out[close + 1] = ' ';
    i = body;
  }
  return out;
}

}  // namespace installer
