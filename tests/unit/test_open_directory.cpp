// A directory listed once, with the kinds readdir reports, and files opened relative to it:
// what the catalog reads a long history with. Each kind of entry an update folder can hold
// by accident (a link, a broken link, a FIFO, a folder where a file should be) is told
// apart without a stat of its own, and nothing blocks.
#include "catalog_fixture.hpp"
#include "installer/catalog/update_files.hpp"
#include "installer/util/file_reading.hpp"
#include "installer/util/open_directory.hpp"

#include <doctest/doctest.h>

#include <string>

#include <sys/stat.h>
#include <unistd.h>

using namespace installer;
using installer::unit_fixture::TempDir;
namespace fs = boost::filesystem;

namespace {

struct Layout {
  TempDir tmp;
  Layout() {
    tmp.write("d/b.sql", "SELECT 2;\n");
    tmp.write("d/a.sql", "SELECT 1;\n");
    tmp.mkdir("d/folder");
    fs::create_symlink("a.sql", tmp / "d/link.sql");
    fs::create_symlink("missing.sql", tmp / "d/broken.sql");
    REQUIRE(::mkfifo((tmp / "d/fifo.sql").c_str(), 0600) == 0);
  }
};

}  // namespace

TEST_CASE("open directory: entries sorted by name with their kinds, found by name") {
  Layout layout;
  std::string why;
  auto dir = OpenDirectory::open((layout.tmp / "d").string(), why);
  REQUIRE_MESSAGE(dir, why);
  std::string names;
  for (const auto& e : dir->entries()) names += e.name + " ";
  CHECK(names == "a.sql b.sql broken.sql fifo.sql folder link.sql ");
  using Kind = OpenDirectory::Kind;
  auto kind = [&](const char* name) { return dir->find(name) ? dir->find(name)->kind : Kind::unknown; };
  // ext4 and tmpfs report every kind; a file system that reports none would give unknown,
  // which every caller treats like a link (a stat decides).
  CHECK(kind("a.sql") == Kind::file);
  CHECK(kind("folder") == Kind::directory);
  CHECK(kind("link.sql") == Kind::link);
  CHECK(kind("fifo.sql") == Kind::other);
  CHECK(dir->find("nothing.sql") == nullptr);
  CHECK(dir->find("a.sq") == nullptr);
  CHECK(dir->leads_somewhere(*dir->find("link.sql")));
  CHECK_FALSE(dir->leads_somewhere(*dir->find("broken.sql")));
  CHECK(dir->leads_somewhere(*dir->find("a.sql")));
}

TEST_CASE("open directory: files read relative to it; a FIFO, a folder and a broken link are refused at once") {
  Layout layout;
  std::string why;
  auto dir = OpenDirectory::open((layout.tmp / "d").string(), why);
  REQUIRE(dir);
  CHECK(dir->read_file("a.sql", kMaxSourceFileBytes, why) == std::string("SELECT 1;\n"));
  CHECK(dir->read_file("link.sql", kMaxSourceFileBytes, why) == std::string("SELECT 1;\n"));
  why.clear();
  CHECK_FALSE(dir->read_file("fifo.sql", kMaxSourceFileBytes, why));  // returns: opened without blocking
  CHECK(why.find("not a regular file") != std::string::npos);
  CHECK_FALSE(dir->read_file("folder", kMaxSourceFileBytes, why));
  CHECK(why.find("directory") != std::string::npos);
  CHECK_FALSE(dir->read_file("broken.sql", kMaxSourceFileBytes, why));
  CHECK(why.find("No such file") != std::string::npos);
  CHECK_FALSE(dir->read_file("b.sql", 4, why));
  CHECK(why.find("larger than") != std::string::npos);
}

TEST_CASE("open directory: a missing directory or a file is refused with errno's text") {
  TempDir tmp;
  tmp.write("file", "x");
  std::string why;
  CHECK_FALSE(OpenDirectory::open((tmp / "missing").string(), why));
  CHECK(why.find("No such file") != std::string::npos);
  CHECK_FALSE(OpenDirectory::open((tmp / "file").string(), why));
  CHECK(why.find("Not a directory") != std::string::npos);
}

TEST_CASE("update folder: the listing answers has/broken_link; a name with '/' is read by path") {
  Layout layout;
  layout.tmp.write("d/folder/inner.sql", "SELECT 3;\n");
  DirectoryFiles tree(layout.tmp / "d");
  CHECK(tree.has("a.sql"));
  CHECK(tree.has("link.sql"));
  CHECK_FALSE(tree.has("broken.sql"));
  CHECK_FALSE(tree.has("nothing.sql"));
  CHECK_FALSE(tree.broken_link("a.sql"));
  CHECK_FALSE(tree.broken_link("link.sql"));
  CHECK_FALSE(tree.broken_link("nothing.sql"));
  auto broken = tree.broken_link("broken.sql");
  REQUIRE(broken);
  CHECK(broken->find("missing.sql") != std::string::npos);
  std::vector<Problem> problems;
  CHECK(tree.read("folder/inner.sql", problems) == std::string("SELECT 3;\n"));
  CHECK(problems.empty());
  CHECK_FALSE(tree.read("fifo.sql", problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (layout.tmp / "d/fifo.sql").string());
  CHECK(problems[0].message.find("cannot read: it is not a regular file") == 0);
}

TEST_CASE("update folder: one that cannot be listed is a problem naming it, and nothing else breaks") {
  TempDir tmp;
  DirectoryFiles tree(tmp / "gone");
  std::vector<Problem> problems;
  CHECK_FALSE(tree.top_level(problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message.find("cannot list: No such file") == 0);
  CHECK_FALSE(tree.has("update.toml"));
  CHECK_FALSE(tree.broken_link("update.toml"));
}
