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

Snapshot::Snapshot() : objects_(std::make_shared<const std::vector<SchemaObject>>()) {}

Snapshot::Snapshot(std::vector<SchemaObject> objects) {
  std::sort(objects.begin(), objects.end(), key_less);
  objects_ = std::make_shared<const std::vector<SchemaObject>>(folded(std::move(objects)));
}

Snapshot::Snapshot(std::vector<SchemaObject> sorted, Sorted)
    : objects_(std::make_shared<const std::vector<SchemaObject>>(folded(std::move(sorted)))) {}

bool Snapshot::sorted_before(const SchemaObject& a, const SchemaObject& b) { return key_less(a, b); }

std::vector<SchemaObject> Snapshot::folded(std::vector<SchemaObject> sorted) {
  if (std::adjacent_find(sorted.begin(), sorted.end(), same_key) == sorted.end()) return sorted;
  std::vector<SchemaObject> out;
  out.reserve(sorted.size());
  for (auto& o : sorted) {
    if (!out.empty() && same_key(out.back(), o)) out.back().definition += "\n" + o.definition;
    else out.push_back(std::move(o));
  }
  return out;
}

const SchemaObject* Snapshot::find(std::string_view kind, std::string_view name) const {
  auto it = std::lower_bound(objects_->begin(), objects_->end(), std::make_pair(kind, name),
                             [](const SchemaObject& o, const std::pair<std::string_view, std::string_view>& key) {
                               return std::tie(o.kind, o.name) < std::tie(key.first, key.second);
                             });
  if (it == objects_->end() || it->kind != kind || it->name != name) return nullptr;
  return &*it;
}

std::string Snapshot::digest() const { return sha256_hex(serialize()); }

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
  size_t size = 0;
  for (const auto& o : *objects_) size += o.kind.size() + o.name.size() + o.definition.size() + o.table.size() + 4;
  out.reserve(size + size / 64);
  for (const auto& o : *objects_) append_snapshot_line(out, o);
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
  std::vector<ObjectDifference> out;
  auto was = before.objects_->begin(), now = objects_->begin();
  while (was != before.objects_->end() || now != objects_->end()) {
    if (now == objects_->end() || (was != before.objects_->end() && key_of(*was) < key_of(*now))) {
      out.push_back({was->kind, was->name, ObjectDifference::Change::removed, was->definition, ""});
      ++was;
    } else if (was == before.objects_->end() || key_of(*now) < key_of(*was)) {
      out.push_back({now->kind, now->name, ObjectDifference::Change::added, "", now->definition});
      ++now;
    } else {
      if (was->definition != now->definition)
        out.push_back({now->kind, now->name, ObjectDifference::Change::changed, was->definition, now->definition});
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
