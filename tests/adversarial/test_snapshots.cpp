// Schema snapshots as a hostile schema or a damaged journal presents them: names with
// control characters, a snapshot row someone edited, a routine body of a megabyte.
#include "adversarial.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace installer::adversarial {
namespace {

using testing::by_engine;
using testing::journal;
using testing::run_installer;

bool has_control_bytes(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return (b < 0x20 && c != '\n') || b == 0x7f;
  });
}

/// The base update and update 2.0 (table adv_more) applied; the environment to run with.
std::map<std::string, std::string> applied_base_and_more(const ScratchDatabase& db, UpdateTree& tree) {
  applied_base(db, tree);
  tree.write("2.0/001_more.up.sql", "CREATE TABLE adv_more (id INT);\n");
  tree.write("2.0/001_more.down.sql", "DROP TABLE adv_more;\n");
  auto env = env_for(db, tree.root().string());
  REQUIRE(run_installer({"migrate"}, env).exit_code == 0);
  return env;
}

}  // namespace

TEST_CASE("a name with an escape sequence and a newline reaches no terminal raw") {
  ScratchDatabase db;
  UpdateTree tree;
  applied_base(db, tree);
  auto env = env_for(db, tree.root().string());
  // ESC ] 0 ; ... BEL would retitle the operator's terminal; the newline would forge a line.
  db.execute(by_engine("CREATE TABLE \"evil\x1b]0;owned\x07\nline\" (id int)",
                       "CREATE TABLE `evil\x1b]0;owned\x07\nline` (id int)"));
  for (const auto& args : std::vector<std::vector<std::string>>{{"diff"}, {"status"}}) {
    RunResult r = run_installer(args, env);
    INFO(r.all());
    CHECK(r.exit_code == (args[0] == "diff" ? 1 : 0));
    CHECK_FALSE(has_control_bytes(r.out));
    CHECK(r.out.find("evil\\x1b]0;owned\\x07\\x0aline") != std::string::npos);
  }
  RunResult as_json = run_installer({"diff", "--json"}, env);
  CHECK_FALSE(has_control_bytes(as_json.out));
  CHECK(as_json.out.find("\\u001b") != std::string::npos);
}

TEST_CASE("a damaged snapshot row is named, and never taken for a verification") {
  ScratchDatabase db;
  UpdateTree tree;
  auto env = applied_base_and_more(db, tree);
  // A column added by hand: the schema is not the one recorded, so only the recorded
  // objects could say how it differs, and they cannot be read.
  db.execute("ALTER TABLE adv_base ADD COLUMN adv_hand INT");
  db.execute("UPDATE " + journal("schema_snapshots") + " SET body = 'AAAA'");

  RunResult diff = run_installer({"diff"}, env);
  INFO(diff.all());
  CHECK(diff.exit_code == 65);
  CHECK(diff.err.find("cannot compare the schema with the snapshot recorded after update 2.0") != std::string::npos);
  CHECK(diff.err.find("schema_snapshots") != std::string::npos);

  RunResult status = run_installer({"status"}, env);
  INFO(status.all());
  CHECK(status.exit_code == 0);
  CHECK(status.out.find("cannot be read, so the schema was not compared") != std::string::npos);

  RunResult removed = run_installer({"--remove-update", "2.0"}, env);
  INFO(removed.all());
  CHECK(removed.exit_code == 0);
  CHECK(removed.out.find("the schema was not compared: the snapshot recorded before it cannot be read") !=
        std::string::npos);
  CHECK(removed.out.find("verified") == std::string::npos);
  CHECK_FALSE(db.table_exists("adv_more"));
}

TEST_CASE("a schema with the recorded digest is verified by the digest, whatever the snapshot rows hold") {
  // The digest in the attempt's row is of the objects themselves: equal digests are equal
  // schemas, and the rows are read only to name differences.
  ScratchDatabase db;
  UpdateTree tree;
  auto env = applied_base_and_more(db, tree);
  db.execute("UPDATE " + journal("schema_snapshots") + " SET body = 'AAAA'");
  RunResult diff = run_installer({"diff"}, env);
  INFO(diff.all());
  CHECK(diff.exit_code == 0);
  RunResult removed = run_installer({"--remove-update", "2.0"}, env);
  INFO(removed.all());
  CHECK(removed.exit_code == 0);
  CHECK(removed.out.find("schema verified equal to its snapshot ") != std::string::npos);
}

TEST_CASE("a routine body of a megabyte is stored, compared, and shown cut") {
  ScratchDatabase db;
  UpdateTree tree;
  applied_base(db, tree);
  std::string body(1 << 20, 'x');
  db.execute(by_engine(fmt::format("CREATE FUNCTION adv_big() RETURNS text LANGUAGE sql AS $$ SELECT '{}' $$", body),
                       fmt::format("CREATE FUNCTION adv_big() RETURNS TEXT DETERMINISTIC RETURN '{}'", body)));
  RunResult diff = run_installer({"diff"}, env_for(db, tree.root().string()));
  INFO(diff.err);
  CHECK(diff.exit_code == 1);
  CHECK(diff.out.find("function ") != std::string::npos);
  CHECK(diff.out.size() < 2000);
}

}  // namespace installer::adversarial
