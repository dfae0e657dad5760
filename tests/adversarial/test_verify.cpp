// installer verify given careless input: a JUnit path it cannot write, statement text
// that XML cannot hold as it is, a scratch URL for a server that is not there, an update
// directory that does not exist.
#include "adversarial.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>

using namespace installer;
using namespace installer::adversarial;

namespace {

std::vector<std::string> verify_args(const UpdateTree& tree, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"verify", "--updates", tree.root().string(), "--scratch-url",
                                testing::server().admin_url};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("verify --junit to a path it cannot write: exit 78 naming it, after the report") {
  UpdateTree tree;
  write_base_update(tree);
  for (const std::string& path : {tree.root().string(), (tree.root() / "no/such/dir/v.xml").string()}) {
    auto r = testing::run_installer(verify_args(tree, {"--junit", path}));
    INFO(r.all());
    CHECK(r.exit_code == 78);
    CHECK(r.err.find("--junit " + path + ": cannot write the file") != std::string::npos);
    CHECK(r.out.find("verify: ") != std::string::npos);
  }
}

TEST_CASE("verify's JUnit XML holds statement text with markup, quotes and control bytes") {
  UpdateTree tree;
  write_base_update(tree);
  // A failing statement whose text XML must escape: markup, a CDATA end, quotes, a bell
  // and a form feed inside a comment.
  tree.write("2.0/001_x.up.sql", "SELECT '<a href=\"x\">]]>&amp;</a>' /* \x07\x0c */ FROM no_such_table;\n");
  tree.write("2.0/001_x.down.sql", "SELECT 1;\n");
  std::string junit = (tree.root() / "v.xml").string();
  auto r = testing::run_installer(verify_args(tree, {"--junit", junit}));
  INFO(r.all());
  CHECK(r.exit_code == 1);
  std::string xml = testing::bytes_of(junit);
  CHECK(xml.find("&lt;a href=&quot;x&quot;&gt;]]&gt;&amp;amp;&lt;/a&gt;") != std::string::npos);
  CHECK(xml.find('\x07') == std::string::npos);
  CHECK(xml.find('\x0c') == std::string::npos);
  CHECK(xml.find("<a href") == std::string::npos);
}

TEST_CASE("verify without a reachable server, or without update files: a clear error, bounded") {
  UpdateTree tree;
  write_base_update(tree);
  auto url = parse_connection_url(testing::server().admin_url);
  std::string dead = fmt::format("{}://{}@127.0.0.1:1/", testing::url_scheme(), url.user);
  // run_installer's own bound (20 s) kills a run that hangs: the exit code then is not 69.
  auto r = testing::run_installer({"verify", "--updates", tree.root().string(), "--scratch-url", dead, "--wait-timeout",
                                   "1s"},
                                  {}, std::chrono::seconds(20));
  CHECK(r.exit_code == 69);

  auto missing = testing::run_installer(
      {"verify", "--updates", (tree.root() / "nope").string(), "--scratch-url", testing::server().admin_url});
  CHECK(missing.exit_code == 65);
  CHECK(missing.err.find((tree.root() / "nope").string()) != std::string::npos);

  auto none = testing::run_installer({"verify", "--scratch-url", testing::server().admin_url});
  CHECK(none.exit_code == 64);
  CHECK(none.err.find("give the release's update directories with --updates DIR") != std::string::npos);
}
