#include "installer/db/snapshot.hpp"
#include "installer/journal/schema_record.hpp"
#include "installer/util/sha256.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <stdexcept>
#include <unordered_set>

using namespace installer;

namespace {
Snapshot sample() {
  return Snapshot({{"table", "public.orders", "kind=r", "orders"},
                   {"column", "public.orders.status", "text NOT NULL DEFAULT 'new'::text", "orders"},
                   {"extension", "pg_trgm", "1.6 in public", ""}});
}
}  // namespace

TEST_CASE("a snapshot sorts its objects by kind and name and survives its own text") {
  Snapshot s = sample();
  REQUIRE(s.objects().size() == 3);
  CHECK(s.objects()[0].kind == "column");
  CHECK(s.objects()[2].kind == "table");
  CHECK(Snapshot::parse(s.serialize()) == s);
  CHECK(s.digest().size() == 64);
  CHECK(s.find("column", "public.orders.status") != nullptr);
  CHECK(s.find("column", "public.orders.missing") == nullptr);
}

TEST_CASE("every byte of a definition survives the snapshot's text") {
  std::string odd = "a\tb\nc\\d\re\x01\xff'\"";
  Snapshot s({{"function", "f(integer)", odd, ""}, {"view", "v\tname", "", "v\tname"}});
  Snapshot back = Snapshot::parse(s.serialize());
  CHECK(back == s);
  CHECK(back.find("function", "f(integer)")->definition == odd);
}

TEST_CASE("damaged snapshot text is refused with its line") {
  CHECK_THROWS_WITH_AS(Snapshot::parse("table\tt\tdef\tt\nbroken\n"),
                       "snapshot line 2: not kind, name, definition and table", std::invalid_argument);
  CHECK_THROWS_AS(Snapshot::parse("table\tt\tdef\\q\tt\n"), std::invalid_argument);
  CHECK_THROWS_AS(Snapshot::parse("table\tt\tdef\tt"), std::invalid_argument);
}

TEST_CASE("objects with the same key are folded, not dropped") {
  Snapshot s({{"index", "i", "b", "t"}, {"index", "i", "a", "t"}});
  REQUIRE(s.objects().size() == 1);
  CHECK(s.objects()[0].definition == "a\nb");
}

TEST_CASE("differences name each object added, removed or changed") {
  Snapshot before = sample();
  Snapshot after({{"table", "public.orders", "kind=r", "orders"},
                  {"column", "public.orders.status", "text", "orders"},
                  {"extension", "hstore", "1.8 in public", ""},
                  {"index", "public.users_email_idx",
                   "CREATE INDEX users_email_idx ON public.users USING btree (email)", "users"}});
  auto d = after.differences_from(before);
  REQUIRE(d.size() == 4);
  auto lines = describe_differences(d, 10);
  CHECK(lines[0] == "column public.orders.status: definition changed: text NOT NULL DEFAULT 'new'::text → text");
  CHECK(lines[1] == "extension hstore: present, was absent (1.8 in public)");
  CHECK(lines[2] == "extension pg_trgm: absent, was present (1.6 in public)");
  CHECK(
      lines[3] ==
      "index public.users_email_idx: present, was absent (CREATE INDEX users_email_idx ON public.users USING btree (email))");
  CHECK(after.differences_from(after).empty());
}

TEST_CASE("a long list of differences is capped with a count") {
  std::vector<SchemaObject> many;
  for (int i = 0; i < 30; ++i) many.push_back({"table", "t" + std::to_string(i), "", ""});
  auto lines = describe_differences(Snapshot(many).differences_from(Snapshot()), 5);
  REQUIRE(lines.size() == 6);
  CHECK(lines[5] == "… and 25 more differences (installer diff --json lists them all)");
}

TEST_CASE("a long definition is shown around the place where it changed") {
  std::string body(300, 'x');
  std::string changed = body;
  changed[200] = 'Y';
  auto line = describe_difference({"function", "f()", ObjectDifference::Change::changed, body, changed});
  CHECK(line.find('Y') != std::string::npos);
  CHECK(line.size() < 300);
}

TEST_CASE("a scope of tables covers their objects and every object of no table") {
  auto scope = SnapshotScope::of_tables({"orders"});
  CHECK(scope.covers({"column", "public.orders.status", "", "orders"}));
  CHECK_FALSE(scope.covers({"column", "public.users.email", "", "users"}));
  CHECK(scope.covers({"extension", "pg_trgm", "", ""}));
  CHECK(SnapshotScope::all().covers({"column", "public.users.email", "", "users"}));
}

TEST_CASE("a journal column says which format of schema record it holds") {
  CHECK(schema_record_format("") == SchemaRecordFormat::none);
  CHECK(schema_record_format("column=3:abc;index=1:def") == SchemaRecordFormat::per_kind_digests);
  std::string ref = snapshot_reference("0123abcd");
  CHECK(schema_record_format(ref) == SchemaRecordFormat::snapshot);
  CHECK(snapshot_digest_of(ref) == "0123abcd");
}

TEST_CASE("control characters in a name or a definition are shown escaped") {
  auto line = describe_difference({"table", "t\x1b[31m\nx", ObjectDifference::Change::added, "",
                                   "a\x07"
                                   "b"});
  CHECK(line == "table t\\x1b[31m\\x0ax: present, was absent (a\\x07b)");
}

namespace {
// What Snapshot::digest() is defined as: one line per table, its name and the SHA-256 of
// its objects' lines (in key order), in name order.
std::string digest_by_definition(const std::map<std::string, std::vector<SchemaObject>>& tables) {
  std::string lines;
  for (const auto& [name, objects] : tables) {
    std::string text;
    const Snapshot of_table(objects);
    for (const auto& o : of_table.objects()) append_snapshot_line(text, o);
    append_snapshot_field(lines, name);
    lines += "\t" + sha256_hex(text) + "\n";
  }
  return sha256_hex(lines);
}

std::vector<SchemaObject> all_of(const std::map<std::string, std::vector<SchemaObject>>& tables) {
  std::vector<SchemaObject> out;
  for (const auto& [name, objects] : tables) out.insert(out.end(), objects.begin(), objects.end());
  return out;
}
}  // namespace

TEST_CASE("a snapshot made by replacing tables is the one read whole, whichever tables change") {
  // Tables added, changed and dropped at the start, middle and end of the name order, by
  // one and by hundreds, so that chunks of tables split, shrink and merge; the digest is
  // taken after some replacements only, so that its kept states are passed on over steps
  // that never computed it.
  std::map<std::string, std::vector<SchemaObject>> tables;
  Snapshot current;
  unsigned seed = 12345;
  auto next = [&seed](unsigned below) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % below;
  };
  for (int round = 0; round < 400; ++round) {
    std::map<std::string, std::vector<SchemaObject>> fresh;
    std::unordered_set<std::string> replaced;
    const unsigned count = round % 50 == 0 ? 300 : 1 + next(4);
    for (unsigned k = 0; k < count; ++k) {
      unsigned n = next(round < 200 ? 3000 : 600);
      std::string name = n == 0 ? "" : fmt::format("t{:04}", n);
      replaced.insert(name);
      if (next(3) == 0) {
        fresh.erase(name);
        continue;
      }
      auto kind = name.empty() ? "function" : "table";
      fresh[name] = {{kind, "public." + (name.empty() ? "f" : name), fmt::format("v{}", round), name},
                     {"column", "public." + name + ".id", "integer", name}};
    }
    for (const auto& name : replaced) tables.erase(name);
    for (const auto& [name, objects] : fresh) tables[name] = objects;
    Snapshot before = current;
    current = current.with_tables_replaced(replaced, replaced.count("") > 0, Snapshot(all_of(fresh)));
    Snapshot whole(all_of(tables));
    REQUIRE(current == whole);
    REQUIRE(current.size() == whole.size());
    REQUIRE(current.text_size() == whole.text_size());
    REQUIRE(describe_differences(current.differences_from(before), 100000) ==
            describe_differences(whole.differences_from(before), 100000));
    if (round % 3 != 1) REQUIRE(current.digest() == digest_by_definition(tables));
  }
  CHECK(tables.size() > 300);
  CHECK(current.digest() == Snapshot(all_of(tables)).digest());
}
