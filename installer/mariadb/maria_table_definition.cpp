#include "installer/mariadb/maria_table_definition.hpp"

#include "installer/db/undo.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <regex>

namespace installer {

std::string backtick(const std::string& name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

/// The backtick-quoted name at `pos`, unquoted; pos moves past it.
std::string quoted_name(const std::string& line, size_t& pos) {
  if (pos >= line.size() || line[pos] != '`') throw NotExact("unexpected SHOW CREATE TABLE line: " + line);
  std::string name;
  for (size_t i = pos + 1; i < line.size(); ++i) {
    if (line[i] == '`') {
      if (i + 1 < line.size() && line[i + 1] == '`') {
        name += '`';
        ++i;
        continue;
      }
      pos = i + 1;
      return name;
    }
    name += line[i];
  }
  throw NotExact("unterminated name in SHOW CREATE TABLE line: " + line);
}

std::string name_after(const std::string& line, const char* prefix) {
  size_t pos = std::string(prefix).size();
  return quoted_name(line, pos);
}

void read_body_line(std::string line, TableDefinition& t) {
  if (!line.empty() && line.back() == ',') line.pop_back();
  if (starts_with(line, "`")) {
    size_t pos = 0;
    std::string name = quoted_name(line, pos);
    t.columns.emplace_back(name, pos < line.size() ? line.substr(pos + 1) : "");
  } else if (starts_with(line, "PRIMARY KEY ")) {
    t.keys["PRIMARY"] = line;
  } else if (starts_with(line, "CONSTRAINT `")) {
    std::string name = name_after(line, "CONSTRAINT ");
    (line.find("` FOREIGN KEY ") != std::string::npos ? t.foreign_keys : t.checks)[name] = line;
  } else {
    for (const char* kind : {"UNIQUE KEY ", "KEY ", "FULLTEXT KEY ", "SPATIAL KEY ", "VECTOR KEY "})
      if (starts_with(line, kind)) {
        t.keys[name_after(line, kind)] = line;
        return;
      }
    t.other_lines.push_back(line);
  }
}

std::string without_auto_increment(const std::string& options) {
  static const std::regex counter(" ?AUTO_INCREMENT=[0-9]+");
  return std::regex_replace(options, counter, "");
}

}  // namespace

namespace {

/// SHOW CREATE TABLE's lines; a newline inside a `name` (it may hold one) does not end one.
std::vector<std::string> definition_lines(const std::string& text) {
  std::vector<std::string> lines(1);
  bool in_name = false;
  for (char c : text) {
    if (c == '`') in_name = !in_name;  // a doubled backtick toggles twice
    if (c == '\n' && !in_name) {
      lines.emplace_back();
      continue;
    }
    lines.back() += c;
  }
  return lines;
}

}  // namespace

TableDefinition parse_table_definition(const std::string& show_create) {
  TableDefinition t;
  std::vector<std::string> lines = definition_lines(show_create);
  if (lines.empty() || !starts_with(lines[0], "CREATE ") || lines[0].back() != '(')
    throw NotExact("SHOW CREATE TABLE did not describe a table");
  size_t i = 1;
  for (; i < lines.size() && starts_with(lines[i], "  "); ++i) read_body_line(lines[i].substr(2), t);
  if (i >= lines.size() || !starts_with(lines[i], ")")) throw NotExact("SHOW CREATE TABLE ended unexpectedly");
  t.options = without_auto_increment(lines[i].size() > 2 ? lines[i].substr(2) : "");
  for (++i; i < lines.size(); ++i) t.trailer += lines[i] + "\n";
  return t;
}

namespace {

std::string find_column(const TableDefinition& t, const std::string& name) {
  for (const auto& [n, def] : t.columns)
    if (n == name) return def;
  return {};
}
bool has_column(const TableDefinition& t, const std::string& name) {
  return std::any_of(t.columns.begin(), t.columns.end(), [&](const auto& c) { return c.first == name; });
}

/// Drops of what `now` has that `before` lacks or has otherwise, adds of the reverse.
void diff_named(const std::map<std::string, std::string>& now, const std::map<std::string, std::string>& before,
                const std::function<std::string(const std::string&)>& drop, std::vector<std::string>& drops,
                std::vector<std::string>& adds) {
  for (const auto& [name, line] : now) {
    auto was = before.find(name);
    if (was == before.end() || was->second != line) drops.push_back(drop(name));
  }
  for (const auto& [name, line] : before) {
    auto is = now.find(name);
    if (is == now.end() || is->second != line) adds.push_back("ADD " + line);
  }
}

std::string option_value_reset(const std::string& now, const std::string& before, const char* option,
                               const char* neutral) {
  std::string key = std::string(option) + "=";
  bool in_now = now.find(key) != std::string::npos, in_before = before.find(key) != std::string::npos;
  return in_now && !in_before ? fmt::format(" {}={}", option, neutral) : "";
}

void restore_columns(const TableDefinition& now, const TableDefinition& before,
                     const std::vector<std::pair<std::string, std::string>>& column_renames,
                     std::vector<std::string>& specs) {
  std::map<std::string, std::string> origin;  // name after the renames -> name before them
  for (const auto& [old_name, new_name] : column_renames) {
    auto chained = origin.find(old_name);
    std::string first = chained == origin.end() ? old_name : chained->second;
    if (chained != origin.end()) origin.erase(chained);
    origin[new_name] = first;
  }
  std::map<std::string, std::string> renamed_from;  // name now -> name before
  for (const auto& [name_now, name_before] : origin)
    if (name_now != name_before && has_column(now, name_now) && has_column(before, name_before) &&
        !has_column(now, name_before))
      renamed_from[name_now] = name_before;
  std::vector<std::string> restored;
  for (const auto& [name, def] : now.columns) {
    if (auto from = renamed_from.find(name); from != renamed_from.end()) {
      specs.push_back(fmt::format("CHANGE COLUMN {} {} {}", backtick(name), backtick(from->second),
                                  find_column(before, from->second)));
      restored.push_back(from->second);
    } else if (has_column(before, name)) {
      if (find_column(before, name) != def)
        specs.push_back(fmt::format("MODIFY COLUMN {} {}", backtick(name), find_column(before, name)));
      restored.push_back(name);
    } else {
      specs.push_back("DROP COLUMN " + backtick(name));
    }
  }
  for (const auto& [name, def] : before.columns)
    if (std::find(restored.begin(), restored.end(), name) == restored.end())
      throw NotExact(fmt::format("column {} was dropped: its data cannot be restored", backtick(name)));
}

/// A key's line without its name, to tell an index renamed from one dropped and added.
std::string key_shape(const std::string& name, const std::string& line) {
  std::string out = line;
  size_t at = out.find(backtick(name));
  if (at != std::string::npos) out.erase(at, backtick(name).size());
  return out;
}

/// Indexes of `now` that are an index of `before` under another name: renamed back rather
/// than dropped and added (MariaDB renames an index it made for a foreign key when a key
/// of that name is added back). Taken out of both maps.
std::vector<std::string> rename_keys(std::map<std::string, std::string>& now,
                                     std::map<std::string, std::string>& before) {
  std::vector<std::string> out;
  for (auto is = now.begin(); is != now.end();) {
    auto match = before.end();
    if (!before.count(is->first) && is->first != "PRIMARY")
      for (auto was = before.begin(); was != before.end(); ++was)
        if (!now.count(was->first) && was->first != "PRIMARY" &&
            key_shape(was->first, was->second) == key_shape(is->first, is->second))
          match = was;
    if (match == before.end()) {
      ++is;
      continue;
    }
    out.push_back(fmt::format("RENAME INDEX {} TO {}", backtick(is->first), backtick(match->first)));
    before.erase(match);
    is = now.erase(is);
  }
  return out;
}

std::string alter(const std::string& table, const std::vector<std::string>& specs) {
  std::string out = "ALTER TABLE " + table;
  for (size_t i = 0; i < specs.size(); ++i) out += (i == 0 ? " " : ", ") + specs[i];
  return out;
}

}  // namespace

std::vector<std::string> restore_table_statements(
    const std::string& table, const TableDefinition& now, const TableDefinition& before,
    const std::vector<std::pair<std::string, std::string>>& column_renames) {
  if (now.trailer != before.trailer) throw NotExact("its partitioning or versioning changed");
  if (now.other_lines != before.other_lines)
    throw NotExact("a part of its definition changed that is not a column, index or constraint");
  std::vector<std::string> drop_foreign, add_foreign, drops, adds, columns;
  diff_named(
      now.foreign_keys, before.foreign_keys, [](const std::string& n) { return "DROP FOREIGN KEY " + backtick(n); },
      drop_foreign, add_foreign);
  diff_named(
      now.checks, before.checks, [](const std::string& n) { return "DROP CONSTRAINT " + backtick(n); }, drops, adds);
  std::map<std::string, std::string> now_keys = now.keys, before_keys = before.keys;
  std::vector<std::string> key_renames = rename_keys(now_keys, before_keys);
  std::vector<std::string> key_drops, key_adds;
  diff_named(
      now_keys, before_keys,
      [](const std::string& n) {
        return n == "PRIMARY" ? std::string("DROP PRIMARY KEY") : "DROP INDEX " + backtick(n);
      },
      key_drops, key_adds);
  restore_columns(now, before, column_renames, columns);
  // One statement: drops first, then columns, then what is added back.
  std::vector<std::string> main = drops;
  main.insert(main.end(), key_renames.begin(), key_renames.end());
  main.insert(main.end(), key_drops.begin(), key_drops.end());
  main.insert(main.end(), columns.begin(), columns.end());
  main.insert(main.end(), key_adds.begin(), key_adds.end());
  main.insert(main.end(), adds.begin(), adds.end());
  if (now.options != before.options)
    main.push_back(before.options + option_value_reset(now.options, before.options, "COMMENT", "''") +
                   option_value_reset(now.options, before.options, "ROW_FORMAT", "DEFAULT"));
  // Foreign keys on their own: InnoDB refuses to drop and add one of the same name in
  // one statement, and a key added back may need an index added back before it.
  std::vector<std::string> out;
  if (!drop_foreign.empty()) out.push_back(alter(table, drop_foreign));
  if (!main.empty()) out.push_back(alter(table, main));
  if (!add_foreign.empty()) out.push_back(alter(table, add_foreign));
  return out;
}

}  // namespace installer
