#include "installer/journal/snapshot_codec.hpp"
#include "installer/util/base64.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

using namespace installer;

namespace {

/// A schema of `tables` tables, each with a table, six columns, a key and two indexes:
/// ten objects a table, with the repetition real catalogs have.
std::vector<SchemaObject> schema_objects(int tables) {
  static const char* const types[] = {"integer NOT NULL",
                                      "text",
                                      "bigint NOT NULL DEFAULT nextval('s'::regclass)",
                                      "timestamp with time zone NOT NULL DEFAULT now()",
                                      "numeric(12,2)",
                                      "boolean NOT NULL DEFAULT false"};
  std::vector<SchemaObject> out;
  for (int t = 0; t < tables; ++t) {
    std::string table = fmt::format("table_{:05}", t);
    std::string name = "public." + table;
    out.push_back({"table", name, "kind=r owner=app", table});
    for (int c = 0; c < 6; ++c) out.push_back({"column", fmt::format("{}.col_{}", name, c), types[(t + c) % 6], table});
    out.push_back({"constraint", name + "." + table + "_pkey", "PRIMARY KEY (col_0)", table});
    out.push_back({"index", name + "." + table + "_pkey",
                   fmt::format("CREATE UNIQUE INDEX {0}_pkey ON {1} USING btree (col_0)", table, name), table});
    out.push_back({"index", name + "." + table + "_idx",
                   fmt::format("CREATE INDEX {0}_idx ON {1} USING btree (col_{2})", table, name, t % 6), table});
  }
  return out;
}

Snapshot with_changes(std::vector<SchemaObject> objects) {
  objects[3].definition = "text NOT NULL DEFAULT 'changed'::text";                            // changed
  objects[10].table = "moved";                                                                // only its table changed
  objects.erase(objects.begin() + 20);                                                        // removed
  objects.push_back({"column", "public.table_00001.added", "a\tb\nc\\d\re", "table_00001"});  // added, odd bytes
  objects.push_back({"extension", "pg_trgm", "1.6 in public", ""});  // added, a kind of its own
  return Snapshot(std::move(objects));
}

Snapshot applied(const Snapshot& base, const std::string& delta) {
  std::vector<SchemaObject> objects = base.objects();
  apply_snapshot_delta(objects, delta);
  return Snapshot(std::move(objects));
}

}  // namespace

TEST_CASE("base64 is RFC 4648's, and only its canonical text decodes") {
  const std::vector<std::pair<std::string, std::string>> vectors{{"", ""},
                                                                 {"f", "Zg=="},
                                                                 {"fo", "Zm8="},
                                                                 {"foo", "Zm9v"},
                                                                 {"foob", "Zm9vYg=="},
                                                                 {"fooba", "Zm9vYmE="},
                                                                 {"foobar", "Zm9vYmFy"}};
  for (const auto& [bytes, text] : vectors) {
    CAPTURE(bytes);
    CHECK(base64_encode(bytes) == text);
    CHECK(base64_decode(text) == bytes);
  }
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
  CHECK(base64_decode(base64_encode(binary)) == binary);
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zm9v\n", " Zm9v", "Zm=v", "Zm9-", "====", "Zg=A"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(base64_decode(bad), std::invalid_argument);
  }
}

TEST_CASE("a full snapshot survives packing, and a delta turns its base into its target") {
  Snapshot base(schema_objects(100));
  std::string text = base.serialize();
  std::string body = pack_snapshot_text(text);
  CHECK(body.size() < text.size() / 4);
  CHECK(Snapshot::parse(unpack_snapshot_text(body, text.size())) == base);

  Snapshot target = with_changes(base.objects());
  std::string delta = snapshot_delta(base, target);
  CHECK(delta.find("~column\tpublic.table_00000.col_3\ttext NOT NULL DEFAULT 'changed'::text\ttable_00000\n") !=
        std::string::npos);
  CHECK(delta.find("+column\tpublic.table_00001.added\ta\\tb\\nc\\\\d\\re\ttable_00001\n") != std::string::npos);
  Snapshot back = applied(base, unpack_snapshot_text(pack_snapshot_text(delta), delta.size()));
  CHECK(back == target);
  CHECK(back.digest() == target.digest());
  // Back again, and nothing between equal snapshots.
  CHECK(applied(target, snapshot_delta(target, base)) == base);
  CHECK(snapshot_delta(base, base).empty());
  CHECK(applied(Snapshot(), snapshot_delta(Snapshot(), base)) == base);
  CHECK(applied(base, snapshot_delta(base, Snapshot())).objects().empty());
}

TEST_CASE("a delta applied to another snapshot than its base is refused") {
  Snapshot base(schema_objects(20));
  Snapshot target = with_changes(base.objects());
  std::string delta = snapshot_delta(base, target);
  // Its target has the objects it adds and lacks the one it removes.
  CHECK_THROWS_WITH_AS(applied(target, delta), doctest::Contains("the snapshot it applies to"), std::invalid_argument);
  CHECK_THROWS_AS(applied(Snapshot(schema_objects(3)), delta), std::invalid_argument);
  CHECK_THROWS_AS(applied(Snapshot(), delta), std::invalid_argument);
}

TEST_CASE("damaged bodies and deltas fail with a reason, never a crash or a wrong snapshot") {
  Snapshot base(schema_objects(50));
  std::string text = base.serialize();
  std::string body = pack_snapshot_text(text);
  CHECK_THROWS_WITH_AS(unpack_snapshot_text(body.substr(0, body.size() - 4), text.size()), doctest::Contains("zlib"),
                       std::invalid_argument);
  std::string flipped = body;
  flipped[body.size() / 2] = flipped[body.size() / 2] == 'A' ? 'B' : 'A';
  CHECK_THROWS_AS(unpack_snapshot_text(flipped, text.size()), std::invalid_argument);
  CHECK_THROWS_AS(unpack_snapshot_text("not base64!", text.size()), std::invalid_argument);
  CHECK_THROWS_AS(unpack_snapshot_text(base64_encode("not zlib at all"), text.size()), std::invalid_argument);
  CHECK_THROWS_WITH_AS(unpack_snapshot_text(body, text.size() - 1), doctest::Contains("more than"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(unpack_snapshot_text(body, text.size() + 1), doctest::Contains("not the"),
                       std::invalid_argument);
  CHECK_THROWS_AS(unpack_snapshot_text(body + pack_snapshot_text("x"), text.size()), std::invalid_argument);
  // A bomb: a small body that claims (or unpacks to) more than a snapshot may be.
  CHECK_THROWS_WITH_AS(unpack_snapshot_text(body, kMaxSnapshotTextBytes + 1), doctest::Contains("512 MiB"),
                       std::invalid_argument);
  std::string zeros(64 << 20, '\0');
  std::string bomb = pack_snapshot_text(zeros);
  CHECK(bomb.size() < 200000);
  CHECK_THROWS_WITH_AS(unpack_snapshot_text(bomb, 1000), doctest::Contains("more than 1000"), std::invalid_argument);

  for (const char* delta : {"?table\tx\n", "-table\n", "-table\tx\tdef\tx\n", "+table\tx\n", "+table\tx\td\tt",
                            "+table\tb\td\tt\n+table\ta\td\tt\n", "-table\ta\n-table\ta\n", "~table\tx\\q\td\tt\n"}) {
    CAPTURE(delta);
    CHECK_THROWS_AS(applied(base, delta), std::invalid_argument);
  }
}

TEST_CASE("a delta of five changes to a snapshot of 10,000 objects is a few hundred bytes") {
  std::vector<SchemaObject> objects = schema_objects(1000);
  Snapshot base(objects);
  REQUIRE(base.objects().size() == 10000);
  objects[500].definition = "bigint NOT NULL";
  objects[5000].definition = "CREATE INDEX i ON t USING btree (a, b)";
  objects.erase(objects.begin() + 7000);
  objects.push_back({"column", "public.table_00999.note", "text", "table_00999"});
  objects.push_back(
      {"index", "public.table_00999.note_idx", "CREATE INDEX note_idx ON t USING btree (note)", "table_00999"});
  Snapshot target(std::move(objects));
  std::string delta = snapshot_delta(base, target);
  std::string packed = pack_snapshot_text(delta);
  std::string full = pack_snapshot_text(target.serialize());
  MESSAGE("10k objects: text ", target.serialize().size(), " B, full body ", full.size(), " B; delta of 5: text ",
          delta.size(), " B, body ", packed.size(), " B");
  CHECK(std::count(delta.begin(), delta.end(), '\n') == 5);
  CHECK(delta.size() < 400);
  CHECK(packed.size() < 400);
  CHECK(applied(base, delta) == target);
}
