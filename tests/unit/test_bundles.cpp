// Bundles: an update as one .tar/.tar.gz/.tar.zst file, read in memory. Hostile archives
// are refused naming the entry; what `installer bundle` writes is the same bytes each time.
#include "../support/archive_maker.hpp"
#include "catalog_fixture.hpp"
#include "installer/catalog/bundle_reader.hpp"
#include "installer/catalog/bundle_writer.hpp"
#include "installer/catalog/catalog.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <random>

using namespace installer;
using installer::testing::file;
using installer::testing::folder;
using installer::testing::make_tar;
using installer::testing::RawEntry;
using installer::unit_fixture::TempDir;
namespace fs = boost::filesystem;

namespace {

const std::vector<RawEntry> kGoodUpdate = {folder("2.0/"), file("2.0/001_sp.up.sql", "CREATE TABLE sp (id int);\n"),
                                           file("2.0/001_sp.down.sql", "DROP TABLE sp;\n")};

std::string bytes_of(const fs::path& path) {
  std::ifstream in(path.string(), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The one problem reading `entries` as a bundle gives.
std::string refusal(const std::vector<RawEntry>& entries, const BundleLimits& limits = {}) {
  TempDir tmp;
  make_tar(tmp / "b.tar", entries);
  std::vector<Problem> problems;
  auto tree = read_bundle(tmp / "b.tar", problems, limits);
  CHECK_FALSE(tree.has_value());
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "b.tar").string());
  return problems[0].message;
}

std::vector<RawEntry> good_plus(RawEntry extra) {
  auto entries = kGoodUpdate;
  entries.push_back(std::move(extra));
  return entries;
}

}  // namespace

TEST_CASE("bundles: a plain, gzip or zstd tar of one update folder is read whole, in memory") {
  for (std::string filter : {"", "gzip", "zstd"}) {
    INFO(filter);
    TempDir tmp;
    make_tar(tmp / "sp.tar", kGoodUpdate, filter);
    std::vector<Problem> problems;
    auto tree = read_bundle(tmp / "sp.tar", problems);
    REQUIRE(tree);
    CHECK(problems.empty());
    CHECK(tree->folder() == "2.0");
    CHECK(tree->root().string() == (tmp / "sp.tar").string() + ":2.0");
    CHECK(tree->read("001_sp.down.sql", problems) == "DROP TABLE sp;\n");
    CHECK(*tree->top_level(problems) == std::vector<std::string>{"001_sp.down.sql", "001_sp.up.sql"});
  }
}

TEST_CASE("bundles: GNU tar's ./ prefix and folders listed or not are both understood") {
  TempDir tmp;
  make_tar(tmp / "b.tar", {folder("./"), file("./2.0/001_sp.up.sql", "x"), file("./2.0/docs/notes.txt", "n")});
  std::vector<Problem> problems;
  auto tree = read_bundle(tmp / "b.tar", problems);
  REQUIRE(tree);
  CHECK(*tree->all_files(problems) == std::vector<std::string>{"001_sp.up.sql", "docs/notes.txt"});
}

TEST_CASE("bundles: each hostile entry is refused, naming the entry") {
  struct Case {
    RawEntry entry;
    std::string message;
  };
  std::vector<Case> cases = {
      {file("/etc/cron.d/x", "x"), "entry '/etc/cron.d/x': an absolute path"},
      {file("2.0/../../escape.sql", "x"), "entry '2.0/../../escape.sql': '..' in the path"},
      {{"2.0/002_x.up.sql", "", AE_IFLNK, "/etc/shadow", ""},
       "entry '2.0/002_x.up.sql': a symbolic link (to '/etc/shadow')"},
      {{"2.0/002_x.up.sql", "", AE_IFREG, "", "2.0/001_sp.up.sql"}, "entry '2.0/002_x.up.sql': a hard link"},
      {{"2.0/tty", "", AE_IFCHR, "", ""}, "entry '2.0/tty': a device"},
      {{"2.0/disk", "", AE_IFBLK, "", ""}, "entry '2.0/disk': a device"},
      {{"2.0/pipe", "", AE_IFIFO, "", ""}, "entry '2.0/pipe': a FIFO"},
      {file("2.0/001_sp.up.sql", "DROP TABLE users;\n"), "entry '2.0/001_sp.up.sql': a duplicate entry"},
      {folder("2.0/"), "entry '2.0/': a duplicate entry"},
      {file("3.0/001_other.up.sql", "x"), "entry '3.0/001_other.up.sql': outside the top folder '2.0'"},
      {file("README", "x"), "entry 'README': a file beside the update folder"},
      {file("2.0/a\x1b[2Jb.sql", "x"), "entry '2.0/a\\x1B[2Jb.sql': a control character in the name"},
      {file("2.0//x.sql", "x"), "entry '2.0//x.sql': an empty part ('//') in the path"},
      {file("2.0/./x.sql", "x"), "entry '2.0/./x.sql': a '.' part in the path"},
      {file("2.0/001_sp.up.sql/inner", "x"), "inside '001_sp.up.sql', which is a file"},
      {file("2.0/" + std::string(2000, 'a'), "x"), "the name is 2004 bytes long; at most 1024 are allowed"},
  };
  for (const auto& c : cases) {
    INFO(c.message);
    std::string message = refusal(good_plus(c.entry));
    CHECK(message.find("bundle refused: ") == 0);
    CHECK(message.find(c.message) != std::string::npos);
  }
}

TEST_CASE("bundles: the limits on entries, a file's size and the total are enforced while reading") {
  BundleLimits limits;
  limits.max_entries = 3;
  CHECK(refusal(good_plus(file("2.0/README", "x")), limits).find("more than 3 entries") != std::string::npos);
  limits = {};
  limits.max_file_bytes = 100;
  CHECK(refusal(good_plus(file("2.0/big.sql", std::string(101, 'x'))), limits)
            .find("entry '2.0/big.sql': larger than 100 bytes, the most a file may have") != std::string::npos);
  limits = {};
  limits.max_total_bytes = 1000;
  auto entries = good_plus(file("2.0/a.txt", std::string(600, 'x')));
  entries.push_back(file("2.0/b.txt", std::string(600, 'x')));
  CHECK(refusal(entries, limits)
            .find("entry '2.0/b.txt': the files reach more than 1000 bytes together, the most a bundle may hold") !=
        std::string::npos);
}

TEST_CASE("bundles: a compressed bomb stops at the default limit of 64 MiB a file") {
  TempDir tmp;
  make_tar(tmp / "bomb.tar.zst", good_plus(file("2.0/zeros.sql", std::string((64u << 20) + 1, '\0'))), "zstd");
  CHECK(fs::file_size(tmp / "bomb.tar.zst") < (1u << 20));
  std::vector<Problem> problems;
  CHECK_FALSE(read_bundle(tmp / "bomb.tar.zst", problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message == "bundle refused: entry '2.0/zeros.sql': larger than 64 MiB, the most a file may have");
}

TEST_CASE("bundles: what is not a tar archive, an empty one and a cut-off one are refused") {
  TempDir tmp;
  std::vector<Problem> problems;
  tmp.write("zip.tar.gz", "PK\x03\x04 this is a zip file, not a tar\n");
  CHECK_FALSE(read_bundle(tmp / "zip.tar.gz", problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message.find("bundle refused: not a tar archive") == 0);
  problems.clear();
  make_tar(tmp / "empty.tar", {});
  CHECK_FALSE(read_bundle(tmp / "empty.tar", problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message == "bundle refused: empty: it holds no update folder");
  problems.clear();
  make_tar(tmp / "whole.tar.gz", good_plus(file("2.0/big.txt", std::string(100000, 'z'))), "gzip");
  std::string bytes = bytes_of(tmp / "whole.tar.gz");
  tmp.write("cut.tar.gz", bytes.substr(0, bytes.size() / 2));
  CHECK_FALSE(read_bundle(tmp / "cut.tar.gz", problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message.find("bundle refused:") == 0);
}

TEST_CASE("bundles: a FIFO or a directory named like a bundle is refused without blocking") {
  TempDir tmp;
  REQUIRE(::mkfifo((tmp / "pack.tar").c_str(), 0600) == 0);
  std::vector<Problem> problems;
  CHECK_FALSE(read_bundle(tmp / "pack.tar", problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message == "bundle refused: cannot read: not a regular file");
}

TEST_CASE("bundles: write_bundle gives the same bytes for the same files, whatever the order or the clock") {
  std::map<std::string, std::string> files = {{"001_sp.up.sql", "CREATE TABLE sp (id int);\n"},
                                              {"001_sp.down.sql", "DROP TABLE sp;\n"},
                                              {"docs/notes.md", "why\n"}};
  for (std::string name : {"sp.tar", "sp.tar.gz", "sp.tar.zst", "sp.tgz"}) {
    INFO(name);
    TempDir a, b;
    write_bundle("2.0", files, a / name);
    write_bundle("2.0", files, b / name);
    CHECK(bytes_of(a / name) == bytes_of(b / name));
    CHECK_FALSE(fs::exists(a / (name + ".partial")));
    std::vector<Problem> problems;
    auto tree = read_bundle(a / name, problems);
    REQUIRE(tree);
    for (const auto& [path, text] : files) CHECK(tree->read(path, problems) == text);
    CHECK(*tree->all_files(problems) == std::vector<std::string>{"001_sp.down.sql", "001_sp.up.sql", "docs/notes.md"});
  }
  TempDir tmp;
  CHECK_THROWS_AS(write_bundle("2.0", files, tmp / "sp.zip"), BundleWriteError);
}

TEST_CASE("bundles: in an update directory, a bundle is an update like a folder; a different copy is refused") {
  TempDir tmp;
  tmp.write("image/1.0/001_base.up.sql", "CREATE TABLE base (id int);\n");
  tmp.write("image/1.0/001_base.down.sql", "DROP TABLE base;\n");
  fs::create_directories(tmp / "volume");
  make_tar(tmp / "volume" / "sp-2.0.tar.zst", kGoodUpdate, "zstd");
  Catalog catalog = load_catalog({tmp / "image", tmp / "volume"}, Engine::postgres);
  REQUIRE(catalog.updates.size() == 2);
  CHECK(catalog.updates[1].id == "2.0");
  CHECK(catalog.updates[1].steps.at(0).up.path.string() ==
        (tmp / "volume" / "sp-2.0.tar.zst").string() + ":2.0/001_sp.up.sql");
  // The same update as a folder in the image: one update when identical, refused when not.
  tmp.write("image/2.0/001_sp.up.sql", "CREATE TABLE sp (id int);\n");
  tmp.write("image/2.0/001_sp.down.sql", "DROP TABLE sp;\n");
  CHECK(load_catalog({tmp / "image", tmp / "volume"}, Engine::postgres).updates.size() == 2);
  tmp.write("image/2.0/001_sp.up.sql", "CREATE TABLE sp (id bigint);\n");
  CHECK_THROWS_WITH_AS(load_catalog({tmp / "image", tmp / "volume"}, Engine::postgres),
                       doctest::Contains("duplicate update id '2.0'"), CatalogError);
}

TEST_CASE("bundles: a bundle's scripts are checked like a folder's, problems naming the file inside it") {
  TempDir tmp;
  fs::create_directories(tmp / "volume");
  make_tar(tmp / "volume" / "sp.tar", {folder("2.0/"), file("2.0/001_sp.up.sql", "CREATE TABLE sp (id int);\n")});
  CHECK_THROWS_WITH_AS(
      load_catalog({tmp / "volume"}, Engine::postgres),
      doctest::Contains(
          ((tmp / "volume" / "sp.tar").string() + ":2.0/001_sp.up.sql: step '001_sp' has no down script").c_str()),
      CatalogError);
}

TEST_CASE("bundles: random damage to a bundle never crashes the reader or passes the limits (bounded fuzz)") {
  TempDir tmp;
  auto entries = good_plus(file("2.0/notes.txt", std::string(3000, 'n')));
  std::mt19937 random(20261206);  // fixed: a failure reproduces
  BundleLimits limits;
  limits.max_file_bytes = 4096;
  limits.max_total_bytes = 16384;
  limits.max_entries = 16;
  int accepted = 0;
  for (std::string filter : {"", "gzip", "zstd"}) {
    make_tar(tmp / "good", entries, filter);
    const std::string good = bytes_of(tmp / "good");
    for (int round = 0; round < 400; ++round) {
      std::string bytes = good;
      int flips = 1 + static_cast<int>(random() % 8);
      for (int i = 0; i < flips; ++i) bytes[random() % bytes.size()] = static_cast<char>(random() % 256);
      if (random() % 4 == 0) bytes.resize(random() % bytes.size());
      tmp.write("fuzzed", bytes);
      std::vector<Problem> problems;
      auto tree = read_bundle(tmp / "fuzzed", problems, limits);
      if (!tree) {
        CHECK(problems.size() == 1);
        continue;
      }
      ++accepted;
      size_t total = 0;
      auto names = tree->all_files(problems);
      REQUIRE(names);
      for (const auto& name : *names) {
        auto text = tree->read(name, problems);
        REQUIRE(text);
        CHECK(text->size() <= limits.max_file_bytes);
        CHECK(name.find("..") == std::string::npos);
        total += text->size();
      }
      CHECK(total <= limits.max_total_bytes);
    }
  }
  MESSAGE("fuzzed bundles accepted as valid: " << accepted << " of 1200");
}
