// Scripts whose bytes are not the statements they show: a NUL that ends a statement early,
// bytes that are not UTF-8, sizes no schema change has, and COPY through a client the
// installer is not. Each is refused before any connection, naming the file and line.
#include "adversarial.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <chrono>

using namespace installer;
using namespace installer::adversarial;
namespace fs = boost::filesystem;

namespace {

/// check_refused for `file` at `line` (0: the file as a whole); the base update's row stays.
void check_refused(const ScratchDatabase& db, const UpdateTree& tree, const DatabaseState& before,
                   const std::string& file, int line, const std::string& words) {
  adversarial::check_refused(db, tree, before, line > 0 ? fmt::format("{}:{}:", file, line) : file + ":", words);
  CHECK(db.count("SELECT count(*) FROM adv_base") == 1);
}

}  // namespace

TEST_CASE("a NUL byte in a step is refused: the server would run the statement only up to it") {
  ScratchDatabase db;
  UpdateTree tree;
  auto before = applied_base(db, tree);
  tree.write("2.0/001_delete.up.sql", std::string("SELECT 1;\nDELETE FROM adv_base\0 WHERE id = 2;\n", 43));
  tree.write("2.0/001_delete.down.sql", "SELECT 1;\n");
  check_refused(db, tree, before, "2.0/001_delete.up.sql", 2, "NUL byte");

  // A file of NULs only, as a truncated or zeroed copy gives.
  tree.write("2.0/001_delete.up.sql", std::string(1 << 20, '\0'));
  check_refused(db, tree, before, "2.0/001_delete.up.sql", 1, "NUL byte");
  // In a down script too: it would be journaled and run later.
  tree.write("2.0/001_delete.up.sql", "SELECT 1;\n");
  tree.write("2.0/001_delete.down.sql", std::string("SELECT 1;\n\n\0", 12));
  check_refused(db, tree, before, "2.0/001_delete.down.sql", 3, "NUL byte");
}

TEST_CASE("bytes that are not UTF-8 are refused with the file and line, not at the journal write") {
  ScratchDatabase db;
  UpdateTree tree;
  auto before = applied_base(db, tree);
  tree.write("2.0/001_latin1.down.sql", "SELECT 1;\n");
  for (const std::string& bad : {std::string("\xe9"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
                                 std::string("\xf4\x90\x80\x80"), std::string("\xe2\x82")}) {
    tree.write("2.0/001_latin1.up.sql", "SELECT 1;\n-- line two\nINSERT INTO adv_base VALUES (2); -- caf" + bad + "\n");
    check_refused(db, tree, before, "2.0/001_latin1.up.sql", 3, "is not UTF-8");
  }
  // Well-formed multi-byte text is fine.
  tree.write("2.0/001_latin1.up.sql", "SELECT 'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80';\n");
  CHECK(testing::run_installer({"migrate"}, env_for(db, tree.root().string())).exit_code == 0);
}

TEST_CASE("a script over the size limit is refused before it is read, and before any connection") {
  ScratchDatabase db;
  UpdateTree tree;
  auto before = applied_base(db, tree);
  tree.write("2.0/001_huge.down.sql", "SELECT 1;\n");
  tree.write("2.0/001_huge.up.sql", "");
  fs::resize_file(tree.root() / "2.0/001_huge.up.sql", 1ull << 30);  // sparse: 1 GiB of NULs, no disk
  auto started = std::chrono::steady_clock::now();
  check_refused(db, tree, before, "2.0/001_huge.up.sql", 0, "larger than 64 MiB");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));  // not read into memory

  // Refused before connecting: a server that is not there makes no difference.
  auto unreachable = env_for(db, tree.root().string());
  unreachable["INSTALLER_DB_URL"] = testing::url_scheme() + "://nobody:secret@127.0.0.1:1/nowhere";
  auto r = testing::run_installer({"migrate"}, unreachable);
  CHECK(r.exit_code == 65);
}

TEST_CASE("COPY through the client is refused in steps, however it is written") {
  ScratchDatabase db;
  UpdateTree tree;
  auto before = applied_base(db, tree);
  tree.write("2.0/001_copy.down.sql", "SELECT 1;\n");
  for (const char* copy : {"COPY adv_base FROM STDIN;", "copy adv_base\n  from\n  stdin\n  with (format csv);",
                           "COPY (SELECT id FROM adv_base) TO STDOUT;", "/* load */ COPY adv_base TO stdout;"}) {
    INFO(copy);
    tree.write("2.0/001_copy.up.sql", std::string("SELECT 1;\n") + copy + "\n");
    check_refused(db, tree, before, "2.0/001_copy.up.sql", 2, "COPY ... FROM STDIN / TO STDOUT");
  }
}

TEST_SUITE(testing::kPostgresOnly) {
  TEST_CASE("PostgreSQL: a COPY that reaches the server anyway fails the statement; it never loops") {
    ScratchDatabase db;
    db.execute("CREATE TABLE adv_copy (id int)");
    db.execute("INSERT INTO adv_copy VALUES (1), (2)");
    auto session = db.connect();
    for (bool in_transaction : {false, true}) {
      for (const char* copy : {"COPY adv_copy FROM STDIN", "COPY adv_copy TO STDOUT"}) {
        INFO(copy, in_transaction);
        if (in_transaction) session->begin();
        std::vector<std::string_view> statements{"SELECT 1", copy, "SELECT 2"};
        auto started = std::chrono::steady_clock::now();
        try {
          session->execute_batch(statements, nullptr, {});
          FAIL("the COPY did not fail");
        } catch (const BatchError& e) {
          CHECK(e.index() == 1);
          CHECK(std::string(e.what()).find("COPY to or from the client is not supported") != std::string::npos);
        }
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
        if (in_transaction) session->rollback();
        CHECK(session->query("SELECT count(*) FROM adv_copy")[0][0] == std::string("2"));  // usable, unchanged
      }
    }
  }
}
