// update.toml values that would break a terminal, a pasted command or the journal's
// columns: refused when the catalog is read, naming the manifest.
#include "adversarial.hpp"

#include <fmt/format.h>

using namespace installer;
using namespace installer::adversarial;

namespace {

void check_manifest_refused(const std::string& manifest, const std::string& words) {
  ScratchDatabase db;
  UpdateTree tree;
  write_base_update(tree);
  REQUIRE(testing::run_installer({"migrate"}, env_for(db, tree.root().string())).exit_code == 0);
  auto before = state_of(db);
  tree.write("2.0/update.toml", manifest);
  tree.write("2.0/001_x.up.sql", "CREATE TABLE adv_x (id INT);\n");
  tree.write("2.0/001_x.down.sql", "DROP TABLE adv_x;\n");
  auto r = testing::run_installer({"migrate"}, env_for(db, tree.root().string()));
  INFO(manifest);
  INFO(r.err);
  CHECK(r.exit_code == 65);
  CHECK(r.err.find("2.0/update.toml") != std::string::npos);
  CHECK(r.err.find(words) != std::string::npos);
  CHECK(r.err.find('\x1b') == std::string::npos);  // nothing the terminal acts on is echoed
  CHECK(r.err.find('\r') == std::string::npos);
  CHECK(state_of(db) == before);
}

}  // namespace

TEST_CASE("update ids with control characters or shell metacharacters are refused, shown escaped") {
  for (const char* id : {"a\\u0000b", "a\\u001b[31mb", "a\\rb", "a\\nb", "a\\tb", "$(touch /tmp/adv)", "a;b", "a`b`",
                         "a'b", "a b", "a/b", "caf\\u00e9"})
    check_manifest_refused(fmt::format("id = \"{}\"\nversion = \"2.0\"\n", id), "update id");
  check_manifest_refused("id = \"x\"\nversion = \"2.0\"\nrequires = \"a\\u001bb\"\n", "requires: update id");
}

TEST_CASE("manifest values longer than the journal's columns are refused when the catalog is read") {
  check_manifest_refused(fmt::format("id = \"{}\"\nversion = \"2.0\"\n", std::string(256, 'a')), "256 characters long");
  check_manifest_refused(fmt::format("version = \"2.{}\"\n", std::string(300, '1')), "version is 302 characters long");
  check_manifest_refused(fmt::format("version = \"2.0\"\ndescription = \"{}\"\n", std::string(70000, 'd')),
                         "description is 70000 bytes long");
  check_manifest_refused("version = \"2.0\"\ndescription = \"red \\u001b[31m alert\"\n", "control character");
}
