// The journal's schema snapshots on both engines: stored whole or as deltas, read back by a
// journal with nothing in memory, refused clearly when damaged, written inside (and rolled
// back with) the session's transaction, and the table brought to a journal of format 3.
#include "db_fixture.hpp"
#include "installer/journal/journal_ddl.hpp"
#include "installer/journal/schema_record.hpp"
#include "installer/journal/snapshot_codec.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <stdexcept>

using namespace installer;
using namespace installer::testing;

namespace {

/// Ten objects a table: the table, six columns, a key and two indexes.
std::vector<SchemaObject> schema_objects(int tables) {
  std::vector<SchemaObject> out;
  for (int t = 0; t < tables; ++t) {
    std::string table = fmt::format("table_{:05}", t);
    std::string name = "public." + table;
    out.push_back({"table", name, "kind=r owner=app", table});
    for (int c = 0; c < 6; ++c)
      out.push_back({"column", fmt::format("{}.col_{}", name, c), c % 2 ? "text" : "integer NOT NULL", table});
    out.push_back({"constraint", name + "." + table + "_pkey", "PRIMARY KEY (col_0)", table});
    out.push_back({"index", name + "." + table + "_pkey",
                   fmt::format("CREATE UNIQUE INDEX {0}_pkey ON {1} USING btree (col_0)", table, name), table});
    out.push_back({"index", name + "." + table + "_idx",
                   fmt::format("CREATE INDEX {0}_idx ON {1} USING btree (col_{2})", table, name, t % 6), table});
  }
  return out;
}

/// The i-th of a run of small changes: a column changes type, and every third one a
/// column comes or goes.
void change(std::vector<SchemaObject>& objects, int i) {
  objects[static_cast<size_t>(i * 7919) % objects.size()].definition = fmt::format("numeric({}, 2)", i);
  if (i % 3 == 1) objects.push_back({"column", fmt::format("public.table_00000.added_{}", i), "text", "table_00000"});
  if (i % 3 == 2) objects.pop_back();
}

/// `count` snapshots, each a small change from the one before.
std::vector<Snapshot> successive(int tables, int count) {
  std::vector<SchemaObject> objects = schema_objects(tables);
  std::vector<Snapshot> out;
  for (int i = 0; i < count; ++i) {
    if (i > 0) change(objects, i);
    out.emplace_back(objects);
  }
  return out;
}

const std::string& table() {
  static const std::string name = journal("schema_snapshots");
  return name;
}

/// A journal of its own session, with nothing in memory.
struct FreshJournal {
  explicit FreshJournal(const ScratchDatabase& scratch) : db(scratch.connect()), journal(*db, "installer") {}
  std::unique_ptr<Database> db;
  SqlJournal journal;
};

std::string digest_of(const std::string& reference) { return snapshot_digest_of(reference); }

/// Stores each snapshot in turn; their references.
std::vector<std::string> store_all(SqlJournal& journal, const std::vector<Snapshot>& snapshots) {
  std::vector<std::string> references;
  for (const auto& snapshot : snapshots) references.push_back(journal.store_snapshot(snapshot));
  return references;
}

}  // namespace

TEST_CASE("snapshots: stored whole once, then as deltas, read back in any order by a journal with none in memory") {
  ScratchDatabase scratch;
  EngineSession s(scratch);
  s.journal->ensure();
  std::vector<Snapshot> snapshots = successive(100, 40);
  std::vector<std::string> references = store_all(*s.journal, snapshots);
  CHECK(references[0] == "snapshot:" + snapshots[0].digest());
  CHECK(scratch.count("SELECT count(*) FROM " + table()) == 40);
  // One full snapshot. The deltas count as a binary counter does: the n-th is made against
  // the n & (n - 1)-th, so the 1st, 2nd, 4th, 8th, 16th and 32nd against the full one, and
  // none is more than 6 deltas from it.
  CHECK(scratch.count("SELECT count(*) FROM " + table() + " WHERE base_digest = ''") == 1);
  CHECK(scratch.count(
            fmt::format("SELECT count(*) FROM {} WHERE base_digest = '{}'", table(), snapshots[0].digest())) == 6);
  for (int n : {12, 39}) {
    CAPTURE(n);
    CHECK(scratch.scalar(fmt::format("SELECT base_digest FROM {} WHERE digest = '{}'", table(),
                                     snapshots[static_cast<size_t>(n)].digest())) ==
          snapshots[static_cast<size_t>(n & (n - 1))].digest());
  }
  auto row = scratch.query(
      fmt::format("SELECT objects, bytes FROM {} WHERE digest = '{}'", table(), snapshots[0].digest()));
  CHECK(*row[0][0] == std::to_string(snapshots[0].objects().size()));
  CHECK(*row[0][1] == std::to_string(snapshots[0].serialize().size()));

  FreshJournal fresh(scratch);
  for (size_t i = snapshots.size(); i-- > 0;) {
    CAPTURE(i);
    CHECK(fresh.journal.load_snapshot(references[i]).digest() == snapshots[i].digest());
  }
  FreshJournal other(scratch);
  for (size_t i : {39, 16, 17, 33, 0, 1}) CHECK(other.journal.load_snapshot(references[i]) == snapshots[i]);

  // A schema that is mostly new is stored whole again.
  Snapshot unrelated(schema_objects(3));
  std::string reference = s.journal->store_snapshot(unrelated);
  CHECK(scratch.scalar(fmt::format("SELECT base_digest FROM {} WHERE digest = '{}'", table(), digest_of(reference)))
            .empty());
  CHECK(FreshJournal(scratch).journal.load_snapshot(reference) == unrelated);
}

TEST_CASE("snapshots: a snapshot stored twice, by this journal or by another, is one row") {
  ScratchDatabase scratch;
  EngineSession s(scratch);
  s.journal->ensure();
  std::vector<Snapshot> snapshots = successive(10, 3);
  std::string first = s.journal->store_snapshot(snapshots[0]);
  CHECK(s.journal->store_snapshot(snapshots[0]) == first);
  FreshJournal fresh(scratch);
  CHECK(fresh.journal.store_snapshot(snapshots[0]) == first);
  CHECK(scratch.count("SELECT count(*) FROM " + table()) == 1);
  // The other journal found it stored and bases its next delta on it.
  std::string second = fresh.journal.store_snapshot(snapshots[1]);
  CHECK(scratch.scalar(fmt::format("SELECT base_digest FROM {} WHERE digest = '{}'", table(), digest_of(second))) ==
        digest_of(first));
  CHECK(s.journal->store_snapshot(snapshots[1]) == second);
  CHECK(scratch.count("SELECT count(*) FROM " + table()) == 2);
}

TEST_CASE("snapshots: a damaged, missing or swapped row is refused with the snapshot and the table named") {
  ScratchDatabase scratch;
  EngineSession s(scratch);
  s.journal->ensure();
  std::vector<Snapshot> snapshots = successive(50, 3);
  std::vector<std::string> references = store_all(*s.journal, snapshots);
  auto load_fails = [&](const std::string& reference, const std::string& why) {
    CAPTURE(why);
    FreshJournal fresh(scratch);
    try {
      fresh.journal.load_snapshot(reference);
      FAIL("loaded");
    } catch (const std::runtime_error& e) {
      std::string message = e.what();
      CHECK(message.find(digest_of(reference).substr(0, 12)) != std::string::npos);
      CHECK(message.find(on_postgres() ? "installer.schema_snapshots" : "installer_schema_snapshots") !=
            std::string::npos);
      CHECK(message.find(why) != std::string::npos);
    }
  };
  auto update = [&](const std::string& set, const std::string& reference) {
    scratch.execute(fmt::format("UPDATE {} SET {} WHERE digest = '{}'", table(), set, digest_of(reference)));
  };
  load_fails("snapshot:" + std::string(64, 'a'), "is not there");
  update("body = 'AAAA'", references[2]);
  load_fails(references[2], "damaged");
  update("body = 'not base64!'", references[2]);
  load_fails(references[2], "damaged");
  update("bytes = 999999999999", references[2]);
  load_fails(references[2], "512 MiB");
  // The body of another delta: whole and readable, but not this snapshot.
  scratch.execute(fmt::format("UPDATE {0} SET body = (SELECT body FROM (SELECT body FROM {0} WHERE digest = '{1}') b), "
                              "bytes = (SELECT bytes FROM (SELECT bytes FROM {0} WHERE digest = '{1}') b) "
                              "WHERE digest = '{2}'",
                              table(), digest_of(references[1]), digest_of(references[2])));
  update(fmt::format("base_digest = '{}'", digest_of(references[0])), references[2]);
  load_fails(references[2], "instead");
  // The full snapshot under the chain.
  scratch.execute(fmt::format("DELETE FROM {} WHERE digest = '{}'", table(), digest_of(references[0])));
  load_fails(references[1], "not there");
  CHECK_THROWS_WITH_AS(FreshJournal(scratch).journal.load_snapshot("column=3:abc"),
                       doctest::Contains("names no schema snapshot"), std::runtime_error);
}

TEST_CASE("snapshots: a row whose base is changed to a snapshot this session has is refused, not applied to it") {
  ScratchDatabase scratch;
  EngineSession s(scratch);
  s.journal->ensure();
  std::vector<Snapshot> snapshots = successive(30, 6);
  std::vector<std::string> references = store_all(*s.journal, snapshots);
  // The session has snapshots 0, 4 and 5 in memory; snapshot 3 is a delta against snapshot
  // 2, which it does not have. Its row is made to name snapshot 4: the read stops there.
  scratch.execute(fmt::format("UPDATE {} SET base_digest = '{}' WHERE digest = '{}'", table(), digest_of(references[4]),
                              digest_of(references[3])));
  try {
    s.journal->load_snapshot(references[3]);
    FAIL("loaded");
  } catch (const SnapshotUnreadable& e) {
    CHECK(std::string(e.what()).find(digest_of(references[3]).substr(0, 12)) != std::string::npos);
  }
  CHECK(s.journal->load_snapshot(references[2]) == snapshots[2]);
  CHECK(s.journal->load_snapshot(references[5]) == snapshots[5]);
}

TEST_CASE("snapshots: a row journaled under the digest of the snapshot's text (before snapshots were kept by table) "
          "still loads") {
  ScratchDatabase scratch;
  EngineSession s(scratch);
  s.journal->ensure();
  const Snapshot snapshot = successive(20, 1).front();
  REQUIRE(snapshot.text_digest() != snapshot.digest());
  // What the earlier installer wrote: the whole text, keyed by its SHA-256.
  const std::string text = snapshot.serialize();
  scratch.execute(
      fmt::format("INSERT INTO {} (digest, base_digest, objects, bytes, body, created_at) VALUES ('{}', '', "
                  "{}, {}, '{}', {})",
                  table(), snapshot.text_digest(), snapshot.size(), text.size(), pack_snapshot_text(text),
                  on_postgres() ? "now()" : "NOW(6)"));
  FreshJournal fresh(scratch);
  const Snapshot loaded = fresh.journal.load_snapshot("snapshot:" + snapshot.text_digest());
  CHECK(loaded == snapshot);
  CHECK(loaded.differences_from(snapshot).empty());
}

TEST_CASE("snapshots: stored in a transaction that rolls back, they leave no row and are stored again after") {
  ScratchDatabase scratch;
  EngineSession s(scratch);
  s.journal->ensure();
  std::vector<Snapshot> snapshots = successive(20, 7);
  s.journal->store_snapshot(snapshots[0]);
  auto base_of = [&](const std::string& reference) {
    return scratch.scalar(fmt::format("SELECT base_digest FROM {} WHERE digest = '{}'", table(), digest_of(reference)));
  };

  s.db->begin();
  std::string second = s.journal->store_snapshot(snapshots[1]);
  CHECK(s.db->query("SELECT count(*) FROM " + table())[0][0] == std::string("2"));
  s.db->rollback();
  CHECK(scratch.count("SELECT count(*) FROM " + table()) == 1);
  // Neither the rolled-back row nor a delta against it is taken for stored.
  CHECK(s.journal->store_snapshot(snapshots[1]) == second);
  s.journal->store_snapshot(snapshots[2]);
  // The 4th store of the chain is made against its full snapshot, the 5th against the 4th:
  // which this rollback takes away.
  s.db->begin();
  s.journal->store_snapshot(snapshots[3]);
  s.db->rollback();
  std::string fifth = s.journal->store_snapshot(snapshots[4]);
  CHECK(scratch.count("SELECT count(*) FROM " + table()) == 4);
  CHECK(base_of(fifth).empty());  // its base was the rolled-back row
  CHECK(FreshJournal(scratch).journal.load_snapshot(second) == snapshots[1]);
  CHECK(FreshJournal(scratch).journal.load_snapshot(fifth) == snapshots[4]);

  // Inside a transaction that commits, a delta against a row of the same transaction (the
  // 3rd of the chain that starts at the 5th is made against the 2nd).
  s.db->begin();
  s.journal->store_snapshot(snapshots[3]);
  std::string sixth = s.journal->store_snapshot(snapshots[5]);
  std::string seventh = s.journal->store_snapshot(snapshots[6]);
  s.db->commit();
  CHECK(base_of(seventh) == digest_of(sixth));
  CHECK(FreshJournal(scratch).journal.load_snapshot(seventh) == snapshots[6]);
  CHECK(scratch.count("SELECT count(*) FROM " + table()) == 7);
}

TEST_CASE("snapshots: ensure() brings a journal of format 3 to format 4 and keeps its attempts") {
  ScratchDatabase scratch;
  {
    // The journal an installer of format 3 left: its tables, its format row, one attempt
    // with the per-kind digests it wrote.
    auto db = scratch.connect();
    auto name = [&](const char* t) {
      auto [schema, table] = journal_table(db->dialect(), "installer", t);
      return db->dialect().quote_qualified(schema, table);
    };
    for (const auto& statement : journal_ddl(db->dialect(), 0, db->quote_identifier("installer"), name, 3))
      db->query(statement);
    db->query(fmt::format("INSERT INTO {} (format_version, written_by) VALUES (3, 'installer 0.0.9')",
                          name("journal_format")));
    SqlJournal old(*db, "installer");
    AttemptRecord attempt;
    attempt.update_id = "1.0";
    attempt.version = "1.0";
    attempt.checksum = std::string(64, '0');
    attempt.state = UpdateState::applied;
    attempt.host = "old-host";
    attempt.installer_version = "0.0.9";
    attempt.fingerprint_before = "table=0:d41d8cd98f00b204e9800998ecf8427e";
    attempt.fingerprint_after = "column=2:0cc175b9c0f1b6a831c399e269772661;table=1:92eb5ffee6ae2fec3ad71c777531578f";
    old.insert_attempt(attempt);
  }
  CHECK_FALSE(scratch.journal_exists());  // no schema_snapshots yet
  FreshJournal fresh(scratch);
  CHECK_THROWS_WITH_AS(fresh.journal.store_snapshot(Snapshot(schema_objects(1))), doctest::Contains("format 3"),
                       std::runtime_error);
  FreshJournal s(scratch);
  s.journal.ensure();
  CHECK(scratch.journal_exists());
  CHECK(scratch.count("SELECT max(format_version) FROM " + journal("journal_format")) == kJournalFormat);
  CHECK(scratch.count("SELECT count(*) FROM " + journal("journal_format")) == 2);
  auto attempts = s.journal.load();
  REQUIRE(attempts.size() == 1);
  CHECK(attempts[0].host == "old-host");
  CHECK(schema_record_format(attempts[0].fingerprint_after) == SchemaRecordFormat::per_kind_digests);
  CHECK(attempts[0].fingerprint_after ==
        "column=2:0cc175b9c0f1b6a831c399e269772661;table=1:92eb5ffee6ae2fec3ad71c777531578f");
  Snapshot snapshot(schema_objects(5));
  std::string reference = s.journal.store_snapshot(snapshot);
  CHECK(FreshJournal(scratch).journal.load_snapshot(reference) == snapshot);
  // Run again (an installer stopped after the CREATE): nothing changes.
  for (const auto& statement : journal_ddl(s.db->dialect(), 3, s.db->quote_identifier("installer"), [&](const char* t) {
         auto [schema, name] = journal_table(s.db->dialect(), "installer", t);
         return s.db->dialect().quote_qualified(schema, name);
       }))
    s.db->query(statement);
  CHECK(scratch.count("SELECT count(*) FROM " + table()) == 1);
}

// Under ASan + UBSan the same claim is checked on a tenth of the changes: at full scale that
// build spends ten minutes here, and the sanitizers look at the same code either way.
#ifdef INSTALLER_SANITIZED
constexpr int kChanges = 100;
#else
constexpr int kChanges = 1000;
#endif

TEST_CASE("snapshots: 1000 small changes to a schema of 20,000 objects take a few MB") {
  ScratchDatabase scratch;
  EngineSession s(scratch);
  s.journal->ensure();
  std::vector<SchemaObject> objects = schema_objects(2000);
  REQUIRE(objects.size() == 20000);
  using Clock = std::chrono::steady_clock;
  Clock::duration storing{};
  std::string first, last, middle;
  Snapshot last_snapshot, middle_snapshot;
  for (int i = 0; i < kChanges; ++i) {
    if (i > 0) change(objects, i);
    Snapshot snapshot(objects);
    auto start = Clock::now();
    std::string reference = s.journal->store_snapshot(snapshot);
    storing += Clock::now() - start;
    if (i == 0) first = reference;
    if (i == kChanges / 2) middle = reference, middle_snapshot = snapshot;
    if (i == kChanges - 1) last = reference, last_snapshot = std::move(snapshot);
  }
  long total = scratch.count("SELECT sum(length(body)) FROM " + table());
  long full = scratch.count("SELECT count(*) FROM " + table() + " WHERE base_digest = ''");
  long first_body = scratch.count(
      fmt::format("SELECT length(body) FROM {} WHERE digest = '{}'", table(), digest_of(first)));
  auto start = Clock::now();
  Snapshot loaded = FreshJournal(scratch).journal.load_snapshot(last);
  auto loading = Clock::now() - start;
  CHECK(loaded == last_snapshot);
  CHECK(FreshJournal(scratch).journal.load_snapshot(middle) == middle_snapshot);
  auto ms = [](Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  MESSAGE(fmt::format("{}: {} snapshots of 20,000 objects ({} B of text): {} B of bodies ({} full, the first "
                      "{} B); storing {} ms in all, loading the last {} ms",
                      engine_word(), kChanges, last_snapshot.serialize().size(), total, full, first_body, ms(storing),
                      ms(loading)));
  CHECK(scratch.count("SELECT count(*) FROM " + table()) == kChanges);
  // A few MB for 1000: the first body, then about 4 KB a change at most.
  CHECK(total < first_body + long{kChanges} * 4000);
}
