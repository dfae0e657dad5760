// Flyway's and Sqitch's folders: a migration's directions in files of their own, named
// by a version (Flyway) or listed in a plan (Sqitch).
#include "installer/catalog/foreign_files.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

namespace fs = boost::filesystem;

namespace installer {
namespace {

std::string replaced(std::string s, char from, char to) {
  std::replace(s.begin(), s.end(), from, to);
  return s;
}

/// V1_1__x.sql.conf: Flyway's per-script settings; executeInTransaction=false is the one
/// that changes how the script runs.
bool flyway_in_transaction(const fs::path& script, std::vector<Problem>& problems) {
  fs::path conf = script.string() + ".conf";
  boost::system::error_code ec;
  if (!fs::exists(conf, ec)) return true;
  static const std::regex setting(R"((^|\n)[ \t]*executeInTransaction[ \t]*=[ \t]*false[ \t]*(\r?\n|$))");
  auto text = read_script_text(conf, problems);
  return !(text && std::regex_search(*text, setting));
}

struct FlywayName {
  char prefix;
  std::string version, description;
};

std::optional<FlywayName> flyway_name(const fs::path& path, std::vector<Problem>& problems) {
  static const std::regex versioned(R"(^([VU])(\d+(?:[._]\d+)*)__(.+)\.sql$)");
  std::string file = path.filename().string();
  std::smatch m;
  if (std::regex_match(file, m, versioned)) return FlywayName{m[1].str()[0], replaced(m[2], '_', '.'), m[3]};
  if (file.rfind("R__", 0) == 0)
    problems.push_back({path.string(), 0,
                        "a Flyway repeatable migration (R__): it has no version to order it by; the installer "
                        "applies versioned migrations only"});
  else if (file.size() > 1 && file[0] == 'B' && file.find("__") != std::string::npos)
    problems.push_back({path.string(), 0, "a Flyway baseline migration (B...__): not supported; see docs/adopt.md"});
  else
    problems.push_back({path.string(), 0,
                        "not a Flyway migration name: V<version>__<description>.sql or U<version>__<description>.sql"});
  return std::nullopt;
}

/// Sqitch's deploy scripts wrap their statements in BEGIN; ... COMMIT; on lines of their
/// own. The installer runs the change in a transaction of its own, so those two lines are
/// left out (blank, keeping the numbering); a BEGIN anywhere else is refused by the lint.
void unwrap_transaction(std::string& text) {
  static const std::regex begin_line(R"(^[ \t]*(BEGIN|START[ \t]+TRANSACTION)[ \t]*;[ \t]*\r?$)", std::regex::icase);
  static const std::regex commit_line(R"(^[ \t]*COMMIT[ \t]*;[ \t]*\r?$)", std::regex::icase);
  std::vector<std::pair<size_t, size_t>> lines;  // start, length without '\n'
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.emplace_back(start, end - start);
    start = end + 1;
  }
  auto is_code = [&](const std::pair<size_t, size_t>& l) {
    std::string line = text.substr(l.first, l.second);
    size_t first = line.find_first_not_of(" \t\r");
    return first != std::string::npos && line.compare(first, 2, "--") != 0;
  };
  auto first = std::find_if(lines.begin(), lines.end(), is_code);
  auto last = std::find_if(lines.rbegin(), lines.rend(), is_code);
  if (first == lines.end() || first == last.base() - 1) return;
  std::string first_text = text.substr(first->first, first->second);
  std::string last_text = text.substr(last->first, last->second);
  if (!std::regex_match(first_text, begin_line) || !std::regex_match(last_text, commit_line)) return;
  for (auto* l : {&*first, &*last}) text.replace(l->first, l->second, std::string(l->second, ' '));
}

}  // namespace

std::vector<ForeignMigration> read_flyway(const fs::path& dir, std::vector<Problem>& problems) {
  std::map<std::string, ForeignMigration> by_key;
  std::map<std::string, fs::path> undo;
  for (const auto& path : files_in(dir, problems)) {
    if (path.extension() != ".sql") continue;  // .conf files are read with their script
    auto name = flyway_name(path, problems);
    if (!name) continue;
    auto script = read_foreign_script(path, problems);
    if (!script) continue;
    if (name->prefix == 'U') {
      undo[name->version] = path;
      by_key[name->version].down = std::move(*script);
      continue;
    }
    ForeignMigration& m = by_key[name->version];
    if (!m.up.path.empty())
      problems.push_back({path.string(), 0,
                          fmt::format("version {} is also {}: Flyway needs one migration per version", name->version,
                                      m.up.path.filename().string())});
    m.key = m.version = name->version;
    m.name = path.stem().string();
    m.description = replaced(name->description, '_', ' ');
    m.transactional = flyway_in_transaction(path, problems);
    m.up = std::move(*script);
  }
  std::vector<ForeignMigration> out;
  for (auto& [version, m] : by_key) {
    if (m.up.path.empty()) {
      problems.push_back({undo[version].string(), 0, fmt::format("an undo migration without V{}__", version)});
      continue;
    }
    out.push_back(std::move(m));
  }
  return out;
}

namespace {

/// Whether a change name, as a path below deploy/, would lead out of it ("../x", "/x"):
/// a plan must not make the installer read and run a file from elsewhere.
bool leaves_its_directory(const std::string& name) {
  if (name.empty() || name[0] == '/') return true;
  for (const auto& part : fs::path(name))
    if (part == "..") return true;
  return false;
}

/// One change of the plan: its deploy script, and its revert script where there is one.
std::optional<ForeignMigration> read_sqitch_change(const fs::path& dir, const std::string& name,
                                                   const std::string& project, size_t position,
                                                   std::vector<Problem>& problems) {
  auto deploy = read_foreign_script(dir / "deploy" / (name + ".sql"), problems);
  if (!deploy) return std::nullopt;
  unwrap_transaction(deploy->text);
  ForeignMigration migration;
  migration.key = migration.name = name;
  migration.version = std::to_string(position);
  migration.description = name;
  migration.project = project;
  migration.up = std::move(*deploy);
  boost::system::error_code ec;
  fs::path revert = dir / "revert" / (name + ".sql");
  if (fs::exists(revert, ec))
    if (auto script = read_foreign_script(revert, problems)) {
      unwrap_transaction(script->text);
      migration.down = std::move(*script);
    }
  return migration;
}

}  // namespace

std::vector<ForeignMigration> read_sqitch(const fs::path& dir, std::vector<Problem>& problems) {
  fs::path plan = dir / "sqitch.plan";
  auto text = read_script_text(plan, problems);
  if (!text) return {};
  static const std::regex change_line(R"(^([^\s@%#:\[][^\s\[]*)(\s.*)?$)");
  static const std::regex project_pragma(R"(^%\s*project\s*=\s*(\S+)\s*$)");
  std::string project;
  std::vector<ForeignMigration> out;
  std::map<std::string, int> seen;
  int number = 0;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    std::string line = text->substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? text->size() : end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    std::smatch pragma;
    if (std::regex_match(line, pragma, project_pragma)) project = pragma[1];
    if (first == std::string::npos || line[first] == '#' || line[first] == '%' || line[first] == '@') continue;
    std::smatch m;
    std::string body = line.substr(first);
    if (body[0] == '+' || body[0] == '-') body = body.substr(1);
    if (!std::regex_match(body, m, change_line)) {
      problems.push_back({plan.string(), number, "not a Sqitch change line"});
      continue;
    }
    std::string name = m[1];
    if (auto it = seen.find(name); it != seen.end()) {
      problems.push_back(
          {plan.string(), number,
           fmt::format("change '{}' is reworked (also line {}): reworked Sqitch changes are not supported", name,
                       it->second)});
      continue;
    }
    seen[name] = number;
    if (leaves_its_directory(name)) {
      problems.push_back({plan.string(), number,
                          fmt::format("change '{}' names a script outside deploy/ and revert/: refused", name)});
      continue;
    }
    auto migration = read_sqitch_change(dir, name, project, out.size() + 1, problems);
    if (!migration) continue;
    out.push_back(std::move(*migration));
  }
  return out;
}

}  // namespace installer
