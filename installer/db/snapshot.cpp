#include "installer/db/snapshot.hpp"

#include "installer/util/sha256.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace installer {
namespace {

bool key_less(const SchemaObject& a, const SchemaObject& b) {
  return std::tie(a.kind, a.name, a.definition) < std::tie(b.kind, b.name, b.definition);
}

auto key_of(const SchemaObject& o) { return std::tie(o.kind, o.name); }

bool same_key(const SchemaObject& a, const SchemaObject& b) { return key_of(a) == key_of(b); }

std::string unescape(std::string_view field, size_t line) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\') {
      out += field[i];
      continue;
    }
    char next = i + 1 < field.size() ? field[++i] : '\0';
    switch (next) {
      case '\\': out += '\\'; break;
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      default: throw std::invalid_argument(fmt::format("snapshot line {}: bad escape", line));
    }
  }
  return out;
}

SchemaObject parse_line(std::string_view text, size_t line) {
  std::vector<std::string> fields = split_snapshot_line(text, line);
  if (fields.size() != 4)
    throw std::invalid_argument(fmt::format("snapshot line {}: not kind, name, definition and table", line));
  return SchemaObject{std::move(fields[0]), std::move(fields[1]), std::move(fields[2]), std::move(fields[3])};
}

// Definitions are one line for people: newlines of a routine's body become spaces and
// a long one is cut, around the first place where the two differ when there are two.
constexpr size_t kShownLength = 100;

// A name or definition is the catalog's, and the catalog holds what a script (or anyone
// with DDL rights) wrote: other control characters are shown escaped, so that none
// reaches the operator's terminal (an ESC sequence in a table's name) or splits a line.
void append_shown(std::string& out, char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte < 0x20 || byte == 0x7f) out += fmt::format("\\x{:02x}", byte);
  else out += c;
}

std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    bool blank = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (blank && space) continue;
    if (blank) out += ' ';
    else append_shown(out, c);
    space = blank;
  }
  return out;
}

std::string shown_name(std::string_view name) {
  std::string out;
  for (char c : name) append_shown(out, c);
  return out;
}

std::string cut(const std::string& text, size_t from) {
  if (text.size() <= kShownLength) return text;
  from = std::min(from, text.size() - std::min(text.size(), kShownLength));
  std::string out = from > 0 ? "…" + text.substr(from, kShownLength) : text.substr(0, kShownLength);
  if (from + kShownLength < text.size()) out += "…";
  return out;
}

std::pair<std::string, std::string> shown_pair(std::string_view before, std::string_view after) {
  std::string a = one_line(before), b = one_line(after);
  size_t first = 0;
  while (first < a.size() && first < b.size() && a[first] == b[first]) ++first;
  size_t from = first > kShownLength / 4 ? first - kShownLength / 4 : 0;
  return {cut(a, from), cut(b, from)};
}

}  // namespace

const char* to_string(ObjectDifference::Change change) {
  switch (change) {
    case ObjectDifference::Change::added: return "added";
    case ObjectDifference::Change::removed: return "removed";
    case ObjectDifference::Change::changed: return "changed";
  }
  return "changed";
}

bool SnapshotScope::covers(const SchemaObject& object) const {
  if (everything) return true;
  if (object.table.empty()) return table_less;
  return std::find(tables.begin(), tables.end(), object.table) != tables.end();
}

namespace {

size_t line_size(const SchemaObject& o) {
  return o.kind.size() + o.name.size() + o.definition.size() + o.table.size() + 4;
}

std::vector<SchemaObject> folded(std::vector<SchemaObject> sorted) {
  if (std::adjacent_find(sorted.begin(), sorted.end(), same_key) == sorted.end()) return sorted;
  std::vector<SchemaObject> out;
  out.reserve(sorted.size());
  for (auto& o : sorted) {
    if (!out.empty() && same_key(out.back(), o)) out.back().definition += "\n" + o.definition;
    else out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

std::shared_ptr<const Snapshot::Table> Snapshot::make_table(std::vector<SchemaObject> objects) {
  std::string text;
  for (const auto& o : objects) append_snapshot_line(text, o);
  size_t text_size = 0;
  for (const auto& o : objects) text_size += line_size(o);
  return std::make_shared<const Table>(Table{std::move(objects), sha256_hex(text), text_size});
}

Snapshot::Snapshot() : tables_(std::make_shared<const Tables>()) {}

Snapshot::Snapshot(std::vector<SchemaObject> objects) {
  std::sort(objects.begin(), objects.end(), key_less);
  auto sorted = std::make_shared<const std::vector<SchemaObject>>(folded(std::move(objects)));
  std::map<std::string, std::vector<SchemaObject>> by_table;
  for (const auto& o : *sorted) by_table[o.table].push_back(o);  // each table's stays in key order
  auto tables = std::make_shared<Tables>();
  for (auto& [table, of_table] : by_table) tables->emplace(table, make_table(std::move(of_table)));
  *this = Snapshot(std::move(tables));
  sorted_ = std::move(sorted);
}

Snapshot::Snapshot(std::shared_ptr<const Tables> tables) : tables_(std::move(tables)) {
  for (const auto& [name, table] : *tables_) {
    size_ += table->objects.size();
    text_size_ += table->text_size;
  }
}

const std::vector<SchemaObject>& Snapshot::objects() const {
  if (!sorted_) {
    std::vector<SchemaObject> all;
    all.reserve(size_);
    for (const auto& [name, table] : *tables_) all.insert(all.end(), table->objects.begin(), table->objects.end());
    std::sort(all.begin(), all.end(), key_less);
    sorted_ = std::make_shared<const std::vector<SchemaObject>>(std::move(all));
  }
  return *sorted_;
}

const SchemaObject* Snapshot::find(std::string_view kind, std::string_view name) const {
  const auto& all = objects();
  auto it = std::lower_bound(all.begin(), all.end(), std::make_pair(kind, name),
                             [](const SchemaObject& o, const std::pair<std::string_view, std::string_view>& key) {
                               return std::tie(o.kind, o.name) < std::tie(key.first, key.second);
                             });
  if (it == all.end() || it->kind != kind || it->name != name) return nullptr;
  return &*it;
}

std::string Snapshot::digest() const {
  if (digest_.empty()) {
    // Taken after every update of a run, over every table: one buffer, no temporaries.
    std::string lines;
    lines.reserve(tables_->size() * 100);
    for (const auto& [name, table] : *tables_) {
      append_snapshot_field(lines, name);
      lines += '\t';
      lines += table->digest;
      lines += '\n';
    }
    digest_ = sha256_hex(lines);
  }
  return digest_;
}

std::string Snapshot::text_digest() const { return sha256_hex(serialize()); }

bool Snapshot::operator==(const Snapshot& o) const {
  if (tables_ == o.tables_) return true;
  if (size_ != o.size_ || tables_->size() != o.tables_->size()) return false;
  return std::equal(tables_->begin(), tables_->end(), o.tables_->begin(), [](const auto& a, const auto& b) {
    return a.first == b.first && (a.second == b.second || a.second->objects == b.second->objects);
  });
}

void Snapshot::objects_differing_from(const Snapshot& before, std::vector<const SchemaObject*>& was,
                                      std::vector<const SchemaObject*>& now) const {
  auto add = [](const Table& table, std::vector<const SchemaObject*>& to) {
    for (const auto& o : table.objects) to.push_back(&o);
  };
  auto b = before.tables_->begin(), n = tables_->begin();
  while (b != before.tables_->end() || n != tables_->end()) {
    if (n == tables_->end() || (b != before.tables_->end() && b->first < n->first)) {
      add(*(b++)->second, was);
    } else if (b == before.tables_->end() || n->first < b->first) {
      add(*(n++)->second, now);
    } else {
      if (b->second != n->second && b->second->digest != n->second->digest) {
        add(*b->second, was);
        add(*n->second, now);
      }
      ++b, ++n;
    }
  }
  auto by_key = [](const SchemaObject* x, const SchemaObject* y) { return key_less(*x, *y); };
  std::sort(was.begin(), was.end(), by_key);
  std::sort(now.begin(), now.end(), by_key);
}

Snapshot Snapshot::with_tables_replaced(const std::unordered_set<std::string>& tables, bool table_less,
                                        const Snapshot& fresh) const {
  auto replaced = std::make_shared<Tables>(*tables_);
  for (const auto& t : tables) replaced->erase(t);
  if (table_less) replaced->erase("");
  for (const auto& [name, table] : *fresh.tables_) (*replaced)[name] = table;
  return Snapshot(std::move(replaced));
}

std::vector<const SchemaObject*> Snapshot::objects_of(const std::unordered_set<std::string>& tables,
                                                      bool table_less) const {
  std::vector<const SchemaObject*> out;
  auto add = [&](const std::string& name) {
    auto it = tables_->find(name);
    if (it != tables_->end())
      for (const auto& o : it->second->objects) out.push_back(&o);
  };
  for (const auto& t : tables) add(t);
  if (table_less) add("");
  return out;
}

void append_snapshot_field(std::string& out, std::string_view field) {
  // Most fields hold nothing to escape: they are appended in runs, not byte by byte.
  size_t from = 0;
  for (size_t i = 0; i < field.size(); ++i) {
    const char* escaped = nullptr;
    switch (field[i]) {
      case '\\': escaped = "\\\\"; break;
      case '\t': escaped = "\\t"; break;
      case '\n': escaped = "\\n"; break;
      case '\r': escaped = "\\r"; break;
      default: continue;
    }
    out.append(field.substr(from, i - from));
    out += escaped;
    from = i + 1;
  }
  out.append(field.substr(from));
}

void append_snapshot_line(std::string& out, const SchemaObject& o) {
  append_snapshot_field(out, o.kind);
  out += '\t';
  append_snapshot_field(out, o.name);
  out += '\t';
  append_snapshot_field(out, o.definition);
  out += '\t';
  append_snapshot_field(out, o.table);
  out += '\n';
}

std::vector<std::string> split_snapshot_line(std::string_view line, size_t number) {
  std::vector<std::string> fields;
  for (size_t from = 0;;) {
    auto tab = line.find('\t', from);
    fields.push_back(unescape(line.substr(from, tab == std::string_view::npos ? tab : tab - from), number));
    if (tab == std::string_view::npos) break;
    from = tab + 1;
  }
  return fields;
}

std::string Snapshot::serialize() const {
  std::string out;
  out.reserve(text_size_ + text_size_ / 64);
  for (const auto& o : objects()) append_snapshot_line(out, o);
  return out;
}

Snapshot Snapshot::parse(std::string_view text) {
  std::vector<SchemaObject> objects;
  size_t line = 0;
  while (!text.empty()) {
    ++line;
    auto end = text.find('\n');
    if (end == std::string_view::npos) throw std::invalid_argument(fmt::format("snapshot line {}: unterminated", line));
    objects.push_back(parse_line(text.substr(0, end), line));
    text.remove_prefix(end + 1);
  }
  return Snapshot(std::move(objects));
}

std::vector<ObjectDifference> Snapshot::differences_from(const Snapshot& before) const {
  std::vector<const SchemaObject*> was_objects, now_objects;
  objects_differing_from(before, was_objects, now_objects);
  std::vector<ObjectDifference> out;
  auto was = was_objects.begin(), now = now_objects.begin();
  while (was != was_objects.end() || now != now_objects.end()) {
    if (now == now_objects.end() || (was != was_objects.end() && key_of(**was) < key_of(**now))) {
      out.push_back({(*was)->kind, (*was)->name, ObjectDifference::Change::removed, (*was)->definition, ""});
      ++was;
    } else if (was == was_objects.end() || key_of(**now) < key_of(**was)) {
      out.push_back({(*now)->kind, (*now)->name, ObjectDifference::Change::added, "", (*now)->definition});
      ++now;
    } else {
      if ((*was)->definition != (*now)->definition)
        out.push_back(
            {(*now)->kind, (*now)->name, ObjectDifference::Change::changed, (*was)->definition, (*now)->definition});
      ++was, ++now;
    }
  }
  return out;
}

std::string describe_difference(const ObjectDifference& d) {
  switch (d.change) {
    case ObjectDifference::Change::added:
      return fmt::format("{} {}: present, was absent ({})", d.kind, shown_name(d.name), cut(one_line(d.after), 0));
    case ObjectDifference::Change::removed:
      return fmt::format("{} {}: absent, was present ({})", d.kind, shown_name(d.name), cut(one_line(d.before), 0));
    case ObjectDifference::Change::changed: break;
  }
  auto [before, after] = shown_pair(d.before, d.after);
  return fmt::format("{} {}: definition changed: {} → {}", d.kind, shown_name(d.name), before, after);
}

std::vector<std::string> describe_differences(const std::vector<ObjectDifference>& differences, size_t limit) {
  // differences_from() gives them in key order, which groups them by kind.
  std::vector<std::string> out;
  for (const auto& d : differences) {
    if (out.size() == limit) break;
    out.push_back(describe_difference(d));
  }
  if (differences.size() > out.size())
    out.push_back(fmt::format("… and {} more difference{} (installer diff --json lists them all)",
                              differences.size() - out.size(), differences.size() - out.size() == 1 ? "" : "s"));
  return out;
}

}  // namespace installer
