#include "installer/db/snapshot.hpp"

#include "installer/util/sha256.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
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

namespace {

// Tables per chunk: a changed chunk costs copying and hashing this many lines again, and
// a walk over every chunk costs the number of tables over this.
constexpr size_t kChunkTables = 32;

}  // namespace

/// Every table of a snapshot in name order, chunk by chunk.
class Snapshot::Cursor {
 public:
  explicit Cursor(const Chunks& chunks) : chunks_(chunks) {}
  bool done() const { return chunk_ == chunks_.size(); }
  const Entry& operator*() const { return chunks_[chunk_]->entries[entry_]; }
  const Entry* operator->() const { return &**this; }
  void next() {
    if (++entry_ == chunks_[chunk_]->entries.size()) ++chunk_, entry_ = 0;
  }
  /// The chunk this cursor is at the start of, else null.
  const Chunk* at_start_of() const { return !done() && entry_ == 0 ? chunks_[chunk_].get() : nullptr; }
  void skip_chunk() { ++chunk_, entry_ = 0; }

 private:
  const Chunks& chunks_;
  size_t chunk_ = 0;
  size_t entry_ = 0;
};

std::shared_ptr<const Snapshot::Table> Snapshot::make_table(std::vector<SchemaObject> objects) {
  std::string text;
  for (const auto& o : objects) append_snapshot_line(text, o);
  size_t text_size = 0;
  for (const auto& o : objects) text_size += line_size(o);
  return std::make_shared<const Table>(Table{std::move(objects), sha256_hex(text), text_size});
}

void Snapshot::append_chunks(Chunks& out, std::vector<Entry> entries) {
  // Pieces of kChunkTables to twice that; a chunk that grew past it is split.
  const size_t pieces = std::max<size_t>(1, entries.size() / kChunkTables);
  for (size_t piece = 0, from = 0; piece < pieces && from < entries.size(); ++piece) {
    const size_t to = piece + 1 == pieces ? entries.size() : from + entries.size() / pieces;
    auto chunk = std::make_shared<Chunk>();
    chunk->entries.assign(std::make_move_iterator(entries.begin() + static_cast<std::ptrdiff_t>(from)),
                          std::make_move_iterator(entries.begin() + static_cast<std::ptrdiff_t>(to)));
    for (const auto& e : chunk->entries) {
      chunk->objects += e.table->objects.size();
      chunk->text_size += e.table->text_size;
      append_snapshot_field(chunk->digest_lines, e.name);
      chunk->digest_lines += '\t';
      chunk->digest_lines += e.table->digest;
      chunk->digest_lines += '\n';
    }
    out.push_back(std::move(chunk));
    from = to;
  }
}

Snapshot::Snapshot() = default;

Snapshot::Snapshot(std::vector<SchemaObject> objects) {
  std::sort(objects.begin(), objects.end(), key_less);
  auto sorted = std::make_shared<const std::vector<SchemaObject>>(folded(std::move(objects)));
  std::map<std::string, std::vector<SchemaObject>> by_table;
  for (const auto& o : *sorted) by_table[o.table].push_back(o);  // each table's stays in key order
  std::vector<Entry> entries;
  entries.reserve(by_table.size());
  for (auto& [table, of_table] : by_table) entries.push_back({table, make_table(std::move(of_table))});
  Chunks chunks;
  append_chunks(chunks, std::move(entries));
  *this = Snapshot(std::move(chunks));
  sorted_ = std::move(sorted);
}

Snapshot::Snapshot(Chunks chunks) : chunks_(std::move(chunks)) {
  for (const auto& chunk : chunks_) {
    size_ += chunk->objects;
    text_size_ += chunk->text_size;
  }
}

const std::vector<SchemaObject>& Snapshot::objects() const {
  if (!sorted_) {
    std::vector<SchemaObject> all;
    all.reserve(size_);
    for (Cursor c(chunks_); !c.done(); c.next())
      all.insert(all.end(), c->table->objects.begin(), c->table->objects.end());
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
    // Taken after every update of a run: the lines of the chunks before the first one
    // that changed are not hashed again.
    if (digest_states_.empty()) digest_states_.push_back(std::make_shared<const Sha256>());
    Sha256 state = *digest_states_.back();
    for (size_t i = digest_states_.size() - 1; i < chunks_.size(); ++i) {
      state.update(chunks_[i]->digest_lines);
      digest_states_.push_back(std::make_shared<const Sha256>(state));
    }
    digest_ = state.hex();
  }
  return digest_;
}

std::string Snapshot::text_digest() const { return sha256_hex(serialize()); }

bool Snapshot::operator==(const Snapshot& o) const {
  if (chunks_ == o.chunks_) return true;
  if (size_ != o.size_) return false;
  Cursor a(chunks_), b(o.chunks_);
  for (; !a.done() && !b.done(); a.next(), b.next())
    if (a->name != b->name || (a->table != b->table && a->table->objects != b->table->objects)) return false;
  return a.done() && b.done();
}

void Snapshot::objects_differing_from(const Snapshot& before, std::vector<const SchemaObject*>& was,
                                      std::vector<const SchemaObject*>& now) const {
  auto add = [](const Table& table, std::vector<const SchemaObject*>& to) {
    for (const auto& o : table.objects) to.push_back(&o);
  };
  Cursor b(before.chunks_), n(chunks_);
  while (!b.done() || !n.done()) {
    if (b.at_start_of() && b.at_start_of() == n.at_start_of()) {
      b.skip_chunk(), n.skip_chunk();
    } else if (n.done() || (!b.done() && b->name < n->name)) {
      add(*b->table, was), b.next();
    } else if (b.done() || n->name < b->name) {
      add(*n->table, now), n.next();
    } else {
      if (b->table != n->table && b->table->digest != n->table->digest) {
        add(*b->table, was);
        add(*n->table, now);
      }
      b.next(), n.next();
    }
  }
  auto by_key = [](const SchemaObject* x, const SchemaObject* y) { return key_less(*x, *y); };
  std::sort(was.begin(), was.end(), by_key);
  std::sort(now.begin(), now.end(), by_key);
}

Snapshot Snapshot::with_tables_replaced(const std::unordered_set<std::string>& tables, bool table_less,
                                        const Snapshot& fresh) const {
  // In name order: each table taken out (null) or put in.
  std::map<std::string_view, const std::shared_ptr<const Table>*> changes;
  for (const auto& t : tables) changes.emplace(t, nullptr);
  if (table_less) changes.emplace("", nullptr);
  for (Cursor c(fresh.chunks_); !c.done(); c.next()) changes[c->name] = &c->table;
  auto change = changes.begin();
  auto take_changes_before = [&](auto end, const std::string* name, std::vector<Entry>& into) {
    for (; change != end && (!name || change->first < *name); ++change)
      if (change->second) into.push_back({std::string(change->first), *change->second});
  };
  Chunks out;
  out.reserve(chunks_.size() + 1);
  size_t unchanged = chunks_.size();  // the chunks before the first changed one
  std::vector<Entry> pending;         // of changed chunks, not yet cut into chunks
  for (size_t i = 0; i < chunks_.size(); ++i) {
    const Chunk& chunk = *chunks_[i];
    const bool last = i + 1 == chunks_.size();
    auto end = last ? changes.end() : changes.upper_bound(chunk.entries.back().name);
    if (change == end && pending.empty()) {
      out.push_back(chunks_[i]);
      continue;
    }
    unchanged = std::min(unchanged, i);
    for (const auto& e : chunk.entries) {
      take_changes_before(end, &e.name, pending);
      if (change != end && change->first == e.name) {
        if (change->second) pending.push_back({e.name, *change->second});
        ++change;
      } else {
        pending.push_back(e);
      }
    }
    take_changes_before(end, nullptr, pending);
    // A chunk that shrank much is cut together with the next.
    if (last || pending.size() >= kChunkTables / 2) append_chunks(out, std::exchange(pending, {}));
  }
  if (chunks_.empty()) {
    unchanged = 0;
    take_changes_before(changes.end(), nullptr, pending);
    append_chunks(out, std::move(pending));
  }
  Snapshot replaced(std::move(out));
  const size_t states = std::min(digest_states_.size(), unchanged + 1);
  replaced.digest_states_.assign(digest_states_.begin(), digest_states_.begin() + static_cast<std::ptrdiff_t>(states));
  return replaced;
}

const Snapshot::Table* Snapshot::table_named(std::string_view name) const {
  auto chunk = std::lower_bound(chunks_.begin(), chunks_.end(), name,
                                [](const auto& c, std::string_view n) { return c->entries.back().name < n; });
  if (chunk == chunks_.end()) return nullptr;
  const auto& entries = (*chunk)->entries;
  auto it = std::lower_bound(entries.begin(), entries.end(), name,
                             [](const Entry& e, std::string_view n) { return e.name < n; });
  return it != entries.end() && it->name == name ? it->table.get() : nullptr;
}

std::vector<const SchemaObject*> Snapshot::objects_of(const std::unordered_set<std::string>& tables,
                                                      bool table_less) const {
  std::vector<const SchemaObject*> out;
  auto add = [&](const std::string& name) {
    if (const Table* table = table_named(name))
      for (const auto& o : table->objects) out.push_back(&o);
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
