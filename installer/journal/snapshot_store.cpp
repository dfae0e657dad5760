#include "installer/journal/snapshot_store.hpp"

#include "installer/journal/schema_record.hpp"
#include "installer/journal/snapshot_codec.hpp"
#include "installer/journal/sql_journal.hpp"
#include "installer/util/sha256.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace installer {
namespace {

// The first format with the table.
constexpr int kSnapshotFormat = 4;

std::string short_digest(const std::string& digest) { return digest.substr(0, 12); }

bool is_digest(const std::string& s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string text_of(const SqlValue& v) { return v.value_or(""); }

}  // namespace

SnapshotStore::SnapshotStore(Database& db, std::string table, std::string shown)
    : db_(db), table_(std::move(table)), shown_(std::move(shown)) {}

void SnapshotStore::fail(const std::string& digest, const std::string& what) const {
  throw SnapshotUnreadable(fmt::format("journal: schema snapshot {} in {} {}", short_digest(digest), shown_, what));
}

std::string SnapshotStore::store(const Snapshot& snapshot) {
  std::string digest = snapshot.digest();
  auto known = known_.find(digest);
  if (known == known_.end() || !known->second.committed) {
    std::optional<Base> base = choose_base();
    auto base_known = base ? known_.find(base->digest) : known_.end();
    // A base this session wrote or saw inside a transaction may have been rolled back
    // since: a delta is made against it only if the lookup still sees it (then it commits
    // with the delta or was committed already).
    const bool check_base = base && (base_known == known_.end() || !base_known->second.committed);
    Probe found = probe(digest, check_base ? base->digest : "");
    if (found.base_visible && !db_.in_transaction()) {
      known_[base->digest] = base->known;
      known_[base->digest].committed = true;
    }
    if (found.target) known_[digest] = *found.target;
    else write(snapshot, digest, check_base && !found.base_visible ? std::nullopt : std::move(base));
  }
  if (spine_.empty() || spine_.back().digest != digest) keep_last(snapshot, digest);
  return digest;
}

std::optional<SnapshotStore::Base> SnapshotStore::choose_base() const {
  if (spine_.empty()) return std::nullopt;
  unsigned long span = 1;
  size_t link = spine_.size() - 1;
  while (link > 0 && spine_[link].span == span) span += spine_[link--].span;
  auto known = known_.find(spine_[link].digest);
  if (known == known_.end() || known->second.depth < 0) return std::nullopt;
  if (known->second.depth < kMaxDeltas)
    return Base{spine_[link].digest, known->second, spine_[link].snapshot, link, span};
  // The chain is as long as it may be: one delta against its full snapshot holds all that
  // changed since, and starts the count again.
  const std::string& root = known->second.root;
  if (spine_[0].digest != root) return std::nullopt;
  return Base{root, Known{0, root, false}, cached(root), 0, 0};
}

void SnapshotStore::push(const std::string& digest, const Snapshot& snapshot, const Base& base) {
  spine_.resize(base.link + 1);
  if (!spine_.back().snapshot) spine_.back().snapshot = base.snapshot ? base.snapshot : cached(base.digest);
  spine_.push_back(Link{digest, std::make_shared<const Snapshot>(snapshot), base.span});
}

void SnapshotStore::keep_last(const Snapshot& snapshot, const std::string& digest) {
  for (size_t i = 0; i < spine_.size(); ++i)
    if (spine_[i].digest == digest) {
      if (!spine_[i].snapshot) spine_[i].snapshot = std::make_shared<const Snapshot>(snapshot);
      spine_.resize(i + 1);  // the links above are of snapshots after it
      return;
    }
  // One found stored (or read): new deltas go on from it, uncounted, in its chain.
  auto known = known_.find(digest);
  const bool in_chain = known != known_.end() && known->second.depth > 0;
  if (in_chain && !spine_.empty() && spine_[0].digest == known->second.root) {
    spine_.resize(1);
  } else {
    spine_.clear();
    if (in_chain) spine_.push_back(Link{known->second.root, cached(known->second.root), 0});
  }
  spine_.push_back(Link{digest, std::make_shared<const Snapshot>(snapshot), 0});
}

std::string SnapshotStore::chain_query(size_t stops) const {
  // At most kMaxDeltas + 1 rows, and none past a snapshot this session has (the
  // parameters after the first): one round trip whatever the chain.
  std::string none_of = "?";
  for (size_t i = 1; i < stops; ++i) none_of += ", ?";
  return fmt::format(
      "WITH RECURSIVE chain (digest, base_digest, n) AS (SELECT digest, base_digest, 1 FROM {0} WHERE digest = ? "
      "UNION ALL SELECT s.digest, s.base_digest, c.n + 1 FROM {0} s JOIN chain c ON s.digest = c.base_digest "
      "WHERE c.n < {1} AND c.base_digest NOT IN ({2})) ",
      table_, kMaxDeltas + 1, none_of);
}

/// The snapshots this session has, where a read of a chain can stop.
std::vector<std::string> SnapshotStore::chain_stops() const {
  std::vector<std::string> out;
  for (const auto& link : spine_)
    if (link.snapshot) out.push_back(link.digest);
  if (root_ && std::find(out.begin(), out.end(), root_digest_) == out.end()) out.push_back(root_digest_);
  if (out.empty()) out.emplace_back();
  return out;
}

SnapshotStore::Probe SnapshotStore::probe(const std::string& digest, const std::string& base) {
  // The row asked for with its chain's digests (which say its depth), and the base's row.
  auto rows = db_.query(chain_query(1) + fmt::format("SELECT n, digest, base_digest FROM chain UNION ALL SELECT 0, "
                                                     "digest, base_digest FROM {} WHERE digest = ?",
                                                     table_),
                        {digest, std::string(), base});
  Probe out;
  std::vector<std::pair<std::string, std::string>> chain(kMaxDeltas + 2);  // by n: digest, base_digest
  size_t length = 0;
  for (const auto& r : rows) {
    size_t n = std::stoul(text_of(r[0]));
    if (n == 0) out.base_visible = !base.empty();
    else if (n < chain.size()) chain[n] = {text_of(r[1]), text_of(r[2])}, length = std::max(length, n);
  }
  const bool committed = !db_.in_transaction();
  if (length == 0) return out;
  // A chain that ends nowhere (damaged, or longer than a load reads) is no base for another.
  if (chain[length].second.empty()) out.target = Known{static_cast<int>(length) - 1, chain[length].first, committed};
  else out.target = Known{-1, "", committed};
  return out;
}

void SnapshotStore::write(const Snapshot& snapshot, const std::string& digest, std::optional<Base> base) {
  std::string delta;
  if (base) {
    std::shared_ptr<const Snapshot> from = base->snapshot ? base->snapshot : root_snapshot(base->digest);
    if (from) delta = snapshot_delta(*from, snapshot);
    // A delta that is most of the snapshot saves little and costs a longer chain.
    if (!from || delta.size() > snapshot.text_size() / 2) base.reset();
  }
  const bool committed = !db_.in_transaction();
  insert(digest, base ? base->digest : "", snapshot.size(), base ? delta : snapshot.serialize());
  if (!base) {
    auto whole = std::make_shared<const Snapshot>(snapshot);
    keep_root(whole, digest, Known{0, digest, committed});
    spine_ = {Link{digest, whole, 0}};
  } else {
    known_[digest] = Known{base->known.depth + 1, base->known.root, committed};
    push(digest, snapshot, *base);
  }
}

void SnapshotStore::insert(const std::string& digest, const std::string& base, size_t objects,
                           const std::string& text) {
  // Only a duplicate digest is let pass (another session stored the same snapshot): MariaDB's
  // INSERT IGNORE would also turn any other error into a warning and a row that is not what
  // was written.
  const char* duplicate = db_.dialect().family == ServerDialect::Family::postgresql
                              ? "ON CONFLICT (digest) DO NOTHING"
                              : "ON DUPLICATE KEY UPDATE digest = digest";
  db_.query(fmt::format("INSERT INTO {} (digest, base_digest, objects, bytes, body, created_at) VALUES (?, ?, ?, ?, ?, "
                        "{}) {}",
                        table_, db_.dialect().statement_time, duplicate),
            {digest, base, std::to_string(objects), std::to_string(text.size()), pack_snapshot_text(text)});
}

std::shared_ptr<const Snapshot> SnapshotStore::cached(const std::string& digest) const {
  for (auto link = spine_.rbegin(); link != spine_.rend(); ++link)
    if (link->digest == digest && link->snapshot) return link->snapshot;
  if (root_ && digest == root_digest_) return root_;
  return nullptr;
}

/// The full snapshot a chain starts from, read when this session does not have it; null
/// when it cannot be read (then the new snapshot is stored whole).
std::shared_ptr<const Snapshot> SnapshotStore::root_snapshot(const std::string& digest) {
  Known known;
  try {
    keep_root(std::make_shared<const Snapshot>(read(digest, known)), digest, known);
  } catch (const SnapshotUnreadable&) {
    return nullptr;
  }
  return root_;
}

void SnapshotStore::keep_root(std::shared_ptr<const Snapshot> snapshot, const std::string& digest, Known known) {
  root_ = std::move(snapshot);
  root_digest_ = digest;
  known_[digest] = std::move(known);
}

Snapshot SnapshotStore::load(const std::string& digest) {
  if (auto have = cached(digest)) {
    keep_last(*have, digest);
    return *have;
  }
  Known known;
  Snapshot loaded = read(digest, known);
  known_[digest] = known;
  keep_last(loaded, digest);
  return loaded;
}

/// The rows from `digest` back to a full snapshot (or one this session has), decoded and
/// checked against the digest.
Snapshot SnapshotStore::read(const std::string& digest, Known& known) {
  std::vector<std::string> stops = chain_stops();
  std::vector<SqlValue> parameters{digest};
  parameters.insert(parameters.end(), stops.begin(), stops.end());
  auto rows = db_.query(chain_query(stops.size()) + fmt::format("SELECT c.digest, c.base_digest, s.bytes, s.body FROM "
                                                                "chain c JOIN {} s ON s.digest = c.digest ORDER BY c.n",
                                                                table_),
                        parameters);
  if (rows.empty()) fail(digest, "is not there");
  std::vector<SchemaObject> objects = start_of_chain(digest, rows, known);
  for (size_t i = rows.size() - (text_of(rows.back()[1]).empty() ? 1 : 0); i-- > 0;) {
    try {
      apply_snapshot_delta(objects, unpack(digest, rows[i]));
    } catch (const std::invalid_argument& e) {
      fail(digest,
           fmt::format("cannot be read: the delta {} is damaged: {}", short_digest(text_of(rows[i][0])), e.what()));
    }
  }
  Snapshot snapshot(std::move(objects));
  // A snapshot journaled before they were kept by table has the digest of its text.
  if (std::string got = snapshot.digest(); got != digest && snapshot.text_digest() != digest)
    fail(digest, fmt::format("cannot be read: its rows make snapshot {} instead", short_digest(got)));
  known.committed = !db_.in_transaction();
  return snapshot;
}

/// The objects the chain's deltas apply to: the full snapshot its last row holds, or the
/// one of this session that row is a delta against.
std::vector<SchemaObject> SnapshotStore::start_of_chain(const std::string& digest, const std::vector<SqlRow>& rows,
                                                        Known& known) {
  const SqlRow& last = rows.back();
  const std::string base = text_of(last[1]);
  if (base.empty()) {
    const std::string root = text_of(last[0]);
    known = Known{static_cast<int>(rows.size()) - 1, root, false};
    try {
      auto parsed = std::make_shared<const Snapshot>(Snapshot::parse(unpack(digest, last)));
      // Kept as root_snapshot() keeps one, once its digest holds: the next load of this
      // chain applies its deltas to it instead of parsing it again (a removal of many
      // updates loads one snapshot per update, each on the same few chains).
      if (parsed->digest() == root) keep_root(parsed, root, Known{0, root, !db_.in_transaction()});
      return parsed->objects();
    } catch (const std::invalid_argument& e) {
      fail(digest, fmt::format("cannot be read: the full snapshot {} is damaged: {}", short_digest(text_of(last[0])),
                               e.what()));
    }
  }
  if (auto have = cached(base)) {
    auto of_base = known_.find(base);
    if (of_base != known_.end() && of_base->second.depth >= 0)
      known = Known{of_base->second.depth + static_cast<int>(rows.size()), of_base->second.root, false};
    return have->objects();
  }
  if (rows.size() > static_cast<size_t>(kMaxDeltas))
    fail(digest, fmt::format("cannot be read: its chain of deltas is longer than {}", kMaxDeltas));
  fail(digest, fmt::format("cannot be read: its chain needs snapshot {}, which is not there", short_digest(base)));
}

std::string SnapshotStore::unpack(const std::string& digest, const SqlRow& row) const {
  const std::string bytes = text_of(row[2]);
  if (bytes.empty() || !std::all_of(bytes.begin(), bytes.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      bytes.size() > 12)
    fail(digest, fmt::format("cannot be read: row {} has bytes '{}'", short_digest(text_of(row[0])), bytes));
  return unpack_snapshot_text(text_of(row[3]), std::stoull(bytes));
}

std::string SqlJournal::store_snapshot(const Snapshot& snapshot) {
  return snapshot_reference(snapshot_store().store(snapshot));
}

Snapshot SqlJournal::load_snapshot(const std::string& reference) {
  std::string digest = snapshot_digest_of(reference);
  if (!is_digest(digest)) throw SnapshotUnreadable(fmt::format("journal: '{}' names no schema snapshot", reference));
  return snapshot_store().load(digest);
}

SnapshotStore& SqlJournal::snapshot_store() {
  if (!snapshots_) {
    if (int format = known_format(); format < kSnapshotFormat)
      throw std::runtime_error(fmt::format("journal: the journal in schema '{}' has format {}, which stores no schema "
                                           "snapshots (format {} does; migrate brings it forward)",
                                           schema_, format, kSnapshotFormat));
    auto [schema, name] = location("schema_snapshots");
    snapshots_ = std::make_unique<SnapshotStore>(db_, table("schema_snapshots"),
                                                 schema.empty() ? name : schema + "." + name);
  }
  return *snapshots_;
}

}  // namespace installer
