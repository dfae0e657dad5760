// Loading update directories: discovery, ordering, engine variants, and every problem
// a vendor can make in the files, each pinned to its file (and line).
#include "catalog_fixture.hpp"
#include "installer/catalog/catalog.hpp"
#include "installer/catalog/problems.hpp"

#include <doctest/doctest.h>

#include <boost/filesystem.hpp>

#include <string>
#include <vector>

using namespace installer;
using installer::unit_fixture::TempDir;
namespace fs = boost::filesystem;

namespace {

std::vector<Problem> problems_of(const std::vector<fs::path>& dirs, Engine engine = Engine::postgres) {
  try {
    load_catalog(dirs, engine);
  } catch (const CatalogError& e) {
    return e.problems();
  }
  FAIL("load_catalog accepted update files it should refuse");
  return {};
}

std::string describe(const std::vector<Problem>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  " + p.to_string();
  return out;
}

/// The one problem whose message contains `needle`; fails the test unless exactly one does.
Problem problem_with(const std::vector<Problem>& problems, const std::string& needle) {
  std::vector<Problem> found;
  for (const auto& p : problems)
    if (p.message.find(needle) != std::string::npos) found.push_back(p);
  INFO("looking for '", needle, "' in:", describe(problems));
  REQUIRE(found.size() == 1);
  return found[0];
}

std::vector<std::string> ids(const Catalog& catalog) {
  std::vector<std::string> out;
  for (const auto& u : catalog.updates) out.push_back(u.id);
  return out;
}

std::vector<std::string> step_names(const Update& update) {
  std::vector<std::string> out;
  for (const auto& s : update.steps) out.push_back(s.name);
  return out;
}

const Update& update_named(const Catalog& catalog, const std::string& id) {
  const Update* u = catalog.find(id);
  INFO("update ", id);
  REQUIRE(u != nullptr);
  return *u;
}

const char* const kUsersUp = "CREATE TABLE users (id int);\n";
// sha256sum of the bytes above and below, computed outside the program.
const char* const kUsersUpSha = "537129faaa4be351bd58fa07b80cf56476785f89e597a6820328d2c49ac6ae05";
const char* const kUsersDown = "DROP TABLE users;\r\n";
const char* const kUsersDownSha = "37133bf5b903fa705b0c31e9df32780ff8881a608a53361e8c8d2ef33413a917";

/// Two update roots as a product image and an operator volume would hold them.
struct TwoRoots {
  TempDir tmp;
  fs::path image = tmp.mkdir("image");
  fs::path volume = tmp.mkdir("volume");

  TwoRoots() {
    // image/2024.9.0: id from the manifest, version from the folder name.
    tmp.write("image/2024.9.0/update.toml", "id = \"base\"\ndescription = \"users table\"\n");
    tmp.step("image/2024.9.0", "001_users", kUsersUp, kUsersDown);
    tmp.write("image/2024.9.0/README.md", "not a step\n");

    // image/2024.10.0: neither id nor version in a manifest (there is none); steps are
    // written out of order, and 002_a has a PostgreSQL-specific up script.
    tmp.step("image/2024.10.0", "010_b", "ALTER TABLE users ADD COLUMN b int;\n", "ALTER TABLE users DROP COLUMN b;\n");
    tmp.write("image/2024.10.0/010_b.mariadb.down.sql", "ALTER TABLE users DROP b;\n");
    tmp.step("image/2024.10.0", "002_a", "ALTER TABLE users ADD COLUMN a text;\n",
             "ALTER TABLE users DROP COLUMN a;\n");
    tmp.write("image/2024.10.0/002_a.postgres.up.sql", "ALTER TABLE users ADD COLUMN a text COLLATE \"C\";\n");
    tmp.write("image/2024.10.0/update.toml.orig", "ignored: not .sql\n");

    // volume/feature-x: version in the manifest, a non-transactional step, a MariaDB-only step.
    tmp.write("volume/feature-x/update.toml", "version = \"2024.9.5\"\n"
                                              "requires = [\"base\"]\n"
                                              "\n"
                                              "[steps.003_idx]\n"
                                              "transaction = false\n");
    tmp.step("volume/feature-x", "003_idx", "CREATE INDEX CONCURRENTLY users_id ON users (id);\n",
             "DROP INDEX CONCURRENTLY users_id;\n");
    tmp.write("volume/feature-x/004_m.mariadb.up.sql", "ALTER TABLE users ENGINE=InnoDB;\n");
    tmp.write("volume/feature-x/004_m.mariadb.down.sql", "SELECT 1;\n");
    tmp.mkdir("volume/.hidden-update");  // hidden entries are ignored, even invalid ones
  }
};

}  // namespace

TEST_CASE("catalog: updates from several directories in numeric version order") {
  TwoRoots roots;
  Catalog catalog = load_catalog({roots.image, roots.volume}, Engine::postgres);

  // Text order would put 2024.10.0 first.
  CHECK(ids(catalog) == std::vector<std::string>{"base", "feature-x", "2024.10.0"});
  CHECK(catalog.find("nope") == nullptr);

  const Update& base = update_named(catalog, "base");
  CHECK(base.version == "2024.9.0");
  CHECK(base.description == "users table");
  CHECK(base.source == roots.image / "2024.9.0");
  CHECK(base.required.empty());
  CHECK(step_names(base) == std::vector<std::string>{"001_users"});
  CHECK(base.checksum.size() == 64);

  const Update& feature = update_named(catalog, "feature-x");
  CHECK(feature.version == "2024.9.5");
  CHECK(feature.required == std::vector<std::string>{"base"});
  CHECK(feature.source == roots.volume / "feature-x");
  // 004_m only exists for MariaDB.
  CHECK(step_names(feature) == std::vector<std::string>{"003_idx"});
  CHECK_FALSE(feature.steps.at(0).transactional);

  const Update& october = update_named(catalog, "2024.10.0");
  CHECK(october.version == "2024.10.0");
  CHECK(october.description.empty());
  CHECK(step_names(october) == std::vector<std::string>{"002_a", "010_b"});
  CHECK(october.steps.at(0).transactional);
  CHECK(october.steps.at(1).transactional);
}

TEST_CASE("catalog: the engine-specific script wins over the generic one, per direction") {
  TwoRoots roots;
  Catalog pg = load_catalog({roots.image, roots.volume}, Engine::postgres);
  const Update& pg_october = update_named(pg, "2024.10.0");
  CHECK(pg_october.steps.at(0).up.path.filename() == "002_a.postgres.up.sql");
  CHECK(pg_october.steps.at(0).up.text == "ALTER TABLE users ADD COLUMN a text COLLATE \"C\";\n");
  CHECK(pg_october.steps.at(0).down.path.filename() == "002_a.down.sql");
  CHECK(pg_october.steps.at(1).up.path.filename() == "010_b.up.sql");
  CHECK(pg_october.steps.at(1).down.path.filename() == "010_b.down.sql");

  Catalog maria = load_catalog({roots.image, roots.volume}, Engine::mariadb);
  CHECK(ids(maria) == std::vector<std::string>{"base", "feature-x", "2024.10.0"});
  const Update& maria_october = update_named(maria, "2024.10.0");
  CHECK(maria_october.steps.at(0).up.path.filename() == "002_a.up.sql");
  CHECK(maria_october.steps.at(1).down.path.filename() == "010_b.mariadb.down.sql");
  CHECK(maria_october.steps.at(1).down.text == "ALTER TABLE users DROP b;\n");
  const Update& maria_feature = update_named(maria, "feature-x");
  CHECK(step_names(maria_feature) == std::vector<std::string>{"003_idx", "004_m"});
  CHECK(maria_feature.steps.at(1).up.path.filename() == "004_m.mariadb.up.sql");
  // Different scripts, different update checksum.
  CHECK(maria_october.checksum != pg_october.checksum);
}

TEST_CASE("catalog: scripts carry their bytes, SHA-256 and statements") {
  TwoRoots roots;
  Catalog catalog = load_catalog({roots.image}, Engine::postgres);
  const Step& step = update_named(catalog, "base").steps.at(0);
  CHECK(step.up.text == kUsersUp);
  CHECK(step.up.checksum == kUsersUpSha);
  CHECK(step.down.text == kUsersDown);  // the \r\n survives: bytes, not text mode
  CHECK(step.down.checksum == kUsersDownSha);
  REQUIRE(step.up.statements.size() == 1);
  CHECK(step.up.statements[0].text == "CREATE TABLE users (id int)");
  CHECK(step.up.statements[0].line == 1);
  CHECK(step.up.path == roots.image / "2024.9.0" / "001_users.up.sql");
}

TEST_CASE("catalog: the update checksum follows the up scripts") {
  TempDir a, b;
  a.step("u/1.0", "001_x", "CREATE TABLE x (a int);\n", "DROP TABLE x;\n");
  b.step("u/1.0", "001_x", "CREATE TABLE x (a bigint);\n", "DROP TABLE x;\n");
  std::string first = load_catalog({a / "u"}, Engine::postgres).updates.at(0).checksum;
  std::string again = load_catalog({a / "u"}, Engine::postgres).updates.at(0).checksum;
  std::string other = load_catalog({b / "u"}, Engine::postgres).updates.at(0).checksum;
  CHECK(first == again);
  CHECK(first != other);
}

TEST_CASE("catalog: an identical update in two directories counts once") {
  TempDir tmp;
  for (const char* root : {"image", "volume"}) {
    tmp.write(std::string(root) + "/1.0/update.toml", "id = \"shared\"\n");
    tmp.step(std::string(root) + "/1.0", "001_t", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  }
  tmp.step("volume/2.0", "001_u", "CREATE TABLE u (a int);\n", "DROP TABLE u;\n");
  Catalog catalog = load_catalog({tmp / "image", tmp / "volume"}, Engine::postgres);
  CHECK(ids(catalog) == std::vector<std::string>{"shared", "2.0"});
  CHECK(catalog.updates.at(0).source == tmp / "image" / "1.0");  // the first directory's copy
}

TEST_CASE("catalog: requires satisfied by an earlier version, as a string or a list") {
  TempDir tmp;
  tmp.step("u/1.0", "001_a", "CREATE TABLE a (x int);\n", "DROP TABLE a;\n");
  tmp.write("u/1.1/update.toml", "requires = \"1.0\"\n");
  tmp.step("u/1.1", "001_b", "CREATE TABLE b (x int);\n", "DROP TABLE b;\n");
  tmp.write("u/1.2/update.toml", "requires = [\"1.0\", \"1.1\"]\n");
  tmp.step("u/1.2", "001_c", "CREATE TABLE c (x int);\n", "DROP TABLE c;\n");
  Catalog catalog = load_catalog({tmp / "u"}, Engine::postgres);
  CHECK(update_named(catalog, "1.1").required == std::vector<std::string>{"1.0"});
  CHECK(update_named(catalog, "1.2").required == std::vector<std::string>{"1.0", "1.1"});
}

TEST_CASE("catalog: transaction = false lets CREATE INDEX CONCURRENTLY through") {
  TempDir tmp;
  tmp.write("u/1.0/update.toml", "[steps.001_idx]\ntransaction = false\n");
  tmp.step("u/1.0", "001_idx", "CREATE INDEX CONCURRENTLY i ON t (a);\n", "DROP INDEX CONCURRENTLY i;\n");
  Catalog catalog = load_catalog({tmp / "u"}, Engine::postgres);
  REQUIRE(catalog.updates.at(0).steps.size() == 1);
  CHECK_FALSE(catalog.updates.at(0).steps[0].transactional);
}

TEST_CASE("catalog: MariaDB scripts may use DELIMITER and BEGIN NOT ATOMIC") {
  TempDir tmp;
  tmp.step("u/1.0", "001_proc",
           "DELIMITER //\n"
           "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END //\n"
           "BEGIN NOT ATOMIC\n  SELECT 1;\nEND //\n"
           "DELIMITER ;\n"
           "SELECT 3;\n",
           "DROP PROCEDURE p;\n");
  Catalog catalog = load_catalog({tmp / "u"}, Engine::mariadb);
  const auto& statements = catalog.updates.at(0).steps.at(0).up.statements;
  REQUIRE(statements.size() == 3);
  CHECK(statements[0].text == "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END");
  CHECK(statements[1].text == "BEGIN NOT ATOMIC\n  SELECT 1;\nEND");
  CHECK(statements[1].line == 3);
  CHECK(statements[2].text == "SELECT 3");
}

// ------------------------------------------------------------------ problems

TEST_CASE("catalog problem: no update directory at all") {
  CHECK_THROWS_WITH_AS(load_catalog({}, Engine::postgres), doctest::Contains("no update directory given"),
                       CatalogError);
}

TEST_CASE("catalog problem: an update directory that does not exist or is a file") {
  TempDir tmp;
  tmp.write("file", "x");
  auto problems = problems_of({tmp / "missing", tmp / "file"});
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].file == (tmp / "missing").string());
  CHECK(problems[0].message == "update directory does not exist");
  CHECK(problems[1].file == (tmp / "file").string());
  CHECK(problems[1].message == "not a directory");
}

TEST_CASE("catalog problem: duplicate id with different content") {
  TempDir tmp;
  tmp.step("image/1.0", "001_t", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.step("volume/1.0", "001_t", "CREATE TABLE t (a bigint);\n", "DROP TABLE t;\n");
  auto problems = problems_of({tmp / "image", tmp / "volume"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "volume" / "1.0").string());
  CHECK(problems[0].message.find("duplicate update id '1.0'") != std::string::npos);
  CHECK(problems[0].message.find((tmp / "image" / "1.0").string()) != std::string::npos);
}

TEST_CASE("catalog problem: duplicate id with the same scripts but another version") {
  TempDir tmp;
  tmp.write("image/a/update.toml", "id = \"same\"\nversion = \"1.0\"\n");
  tmp.step("image/a", "001_t", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.write("volume/a/update.toml", "id = \"same\"\nversion = \"1.1\"\n");
  tmp.step("volume/a", "001_t", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  auto problems = problems_of({tmp / "image", tmp / "volume"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "volume" / "a").string());
  CHECK(problems[0].message.find("duplicate update id 'same'") != std::string::npos);
}

TEST_CASE("catalog problem: two updates with the same version") {
  TempDir tmp;
  tmp.write("u/a/update.toml", "version = \"1.2\"\n");
  tmp.step("u/a", "001_t", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.write("u/b/update.toml", "version = \"1.2.0\"\n");  // the same version, written differently
  tmp.step("u/b", "001_u", "CREATE TABLE u (a int);\n", "DROP TABLE u;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u" / "b").string());
  CHECK(problems[0].message.find("duplicate version 1.2.0") != std::string::npos);
  CHECK(problems[0].message.find("update 'a'") != std::string::npos);
}

TEST_CASE("catalog problem: an up script without its down script") {
  TempDir tmp;
  tmp.step("u/1.0", "001_ok", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.write("u/1.0/002_oneway.up.sql", "CREATE TABLE u (a int);\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u/1.0/002_oneway.up.sql").string());
  CHECK(problems[0].line == 0);
  CHECK(problems[0].message.find("step '002_oneway' has no down script: add 002_oneway.down.sql") != std::string::npos);
}

TEST_CASE("catalog problem: a missing down script for another engine is reported too") {
  TempDir tmp;
  tmp.step("u/1.0", "001_t", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.write("u/1.0/002_m.mariadb.up.sql", "CREATE TABLE m (a int);\n");
  auto problems = problems_of({tmp / "u"}, Engine::postgres);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u/1.0/002_m.mariadb.up.sql").string());
  CHECK(problems[0].message.find("add 002_m.mariadb.down.sql") != std::string::npos);
}

TEST_CASE("catalog problem: a down script without an up script") {
  TempDir tmp;
  tmp.step("u/1.0", "001_ok", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.write("u/1.0/002_orphan.down.sql", "DROP TABLE u;\n");
  tmp.write("u/1.0/003_m.mariadb.down.sql", "DROP TABLE m;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 2);
  Problem generic = problem_with(problems, "step '002_orphan'");
  CHECK(generic.file == (tmp / "u/1.0/002_orphan.down.sql").string());
  CHECK(generic.message == "down script without an up script for step '002_orphan' (generic)");
  Problem maria = problem_with(problems, "step '003_m'");
  CHECK(maria.file == (tmp / "u/1.0/003_m.mariadb.down.sql").string());
  CHECK(maria.message.find("(mariadb)") != std::string::npos);
}

TEST_CASE("catalog problem: unknown keys in update.toml, with their lines") {
  TempDir tmp;
  tmp.write("u/1.0/update.toml", "# vendor notes\n"
                                 "id = \"a\"\n"
                                 "autor = \"me\"\n"
                                 "\n"
                                 "[steps.001_t]\n"
                                 "transaction = true\n"
                                 "retries = 3\n");
  tmp.step("u/1.0", "001_t", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 2);
  std::string manifest = (tmp / "u/1.0/update.toml").string();
  Problem top = problem_with(problems, "unknown key 'autor'");
  CHECK(top.file == manifest);
  CHECK(top.line == 3);
  Problem step = problem_with(problems, "unknown key 'retries' in [steps.001_t]");
  CHECK(step.file == manifest);
  CHECK(step.line == 7);
  CHECK(step.to_string() == manifest + ":7: unknown key 'retries' in [steps.001_t] (known: transaction, allow)");
}

TEST_CASE("catalog problem: values of the wrong type in update.toml, with their lines") {
  TempDir tmp;
  tmp.write("u/1.0/update.toml", "# line 1\n"
                                 "version = 3\n"
                                 "id = [\"x\"]\n"
                                 "description = false\n"
                                 "requires = [\"ok\", 4]\n"
                                 "\n"
                                 "[steps.001_t]\n"
                                 "transaction = \"no\"\n");
  tmp.step("u/1.0", "001_t", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  auto problems = problems_of({tmp / "u"});
  std::string manifest = (tmp / "u/1.0/update.toml").string();
  struct Expect {
    const char* needle;
    int line;
  };
  for (Expect e : {Expect{"'version' must be a string", 2}, Expect{"'id' must be a string", 3},
                   Expect{"'description' must be a string", 4}, Expect{"'requires' must list update ids as strings", 5},
                   Expect{"'transaction' must be true or false", 8}}) {
    Problem p = problem_with(problems, e.needle);
    CHECK(p.file == manifest);
    CHECK(p.line == e.line);
  }
  CHECK(problems.size() == 5);
}

TEST_CASE("catalog problem: requires and steps of the wrong shape") {
  TempDir tmp;
  tmp.write("u/1.0/update.toml", "requires = 5\nsteps = \"all\"\n");
  tmp.step("u/1.0", "001_t", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.write("u/2.0/update.toml", "steps = { 001_t = true }\n");
  tmp.step("u/2.0", "001_t", "CREATE TABLE u (a int);\n", "DROP TABLE u;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 3);
  CHECK(problem_with(problems, "'requires' must be an update id or a list of them").line == 1);
  CHECK(problem_with(problems, "'steps' must be a table").line == 2);
  Problem entry = problem_with(problems, "[steps] entry '001_t' must be a table");
  CHECK(entry.file == (tmp / "u/2.0/update.toml").string());
  CHECK(entry.line == 1);
}

TEST_CASE("catalog problem: [steps.NAME] naming no step") {
  TempDir tmp;
  tmp.write("u/1.0/update.toml", "id = \"a\"\n"
                                 "\n"
                                 "[steps.002_typo]\n"
                                 "transaction = false\n");
  tmp.step("u/1.0", "001_t", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.step("u/1.0", "002_type", "CREATE TABLE u (a int);\n", "DROP TABLE u;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u/1.0/update.toml").string());
  CHECK(problems[0].line == 3);
  CHECK(problems[0].message == "[steps.002_typo] names no step of this update (steps: 001_t, 002_type)");
}

TEST_CASE("catalog problem: an unknown engine in a step file name") {
  TempDir tmp;
  tmp.step("u/1.0", "001_a", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.write("u/1.0/001_a.oracle.up.sql", "CREATE TABLE t (a NUMBER);\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u/1.0/001_a.oracle.up.sql").string());
  CHECK(problems[0].message.find("unknown engine 'oracle'") != std::string::npos);
}

TEST_CASE("catalog problem: .sql files whose names are not step names") {
  TempDir tmp;
  tmp.step("u/1.0", "001_a", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.write("u/1.0/001 b.up.sql", "CREATE TABLE u (a int);\n");
  tmp.write("u/1.0/weird.sql", "SELECT 1;\n");
  tmp.write("u/1.0/_x.up.sql", "SELECT 1;\n");
  tmp.write("u/1.0/notes.txt", "allowed beside the steps\n");
  tmp.write("u/1.0/.001_hidden.up.sql", "ignored\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 3);
  CHECK(problems[0].file == (tmp / "u/1.0/001 b.up.sql").string());
  CHECK(problems[1].file == (tmp / "u/1.0/_x.up.sql").string());
  CHECK(problems[2].file == (tmp / "u/1.0/weird.sql").string());
  for (const auto& p : problems) CHECK(p.message.find("not a step file name") != std::string::npos);
}

TEST_CASE("catalog problem: invalid TOML, with its line") {
  TempDir tmp;
  tmp.write("u/1.0/update.toml", "id = \"a\"\n\nversion = = \"1\"\n");
  tmp.step("u/1.0", "001_a", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u/1.0/update.toml").string());
  CHECK(problems[0].line == 3);
  CHECK(problems[0].message.rfind("invalid TOML: ", 0) == 0);
}

TEST_CASE("catalog problem: requires an update that exists nowhere") {
  TempDir tmp;
  tmp.write("u/1.0/update.toml", "requires = [\"ghost\"]\n");
  tmp.step("u/1.0", "001_a", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u/1.0/update.toml").string());
  CHECK(problems[0].message.find("requires 'ghost', which is in none of the update directories") != std::string::npos);
}

TEST_CASE("catalog problem: requires a later (or the same) version") {
  TempDir tmp;
  tmp.write("u/1.0/update.toml", "requires = \"2.0\"\n");
  tmp.step("u/1.0", "001_a", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.write("u/2.0/update.toml", "requires = [\"2.0\"]\n");  // itself
  tmp.step("u/2.0", "001_b", "CREATE TABLE u (a int);\n", "DROP TABLE u;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 2);
  Problem later = problem_with(problems, "does not come before version 1.0");
  CHECK(later.file == (tmp / "u/1.0/update.toml").string());
  CHECK(later.message.find("requires '2.0' (version 2.0)") != std::string::npos);
  Problem self = problem_with(problems, "does not come before version 2.0");
  CHECK(self.file == (tmp / "u/2.0/update.toml").string());
}

TEST_CASE("catalog problem: a step file that cannot be read") {
  // Tests run as root, where permissions do not stop reads; a dangling symlink does.
  TempDir tmp;
  tmp.write("u/1.0/001_a.up.sql", "CREATE TABLE t (a int);\n");
  fs::create_symlink(tmp / "nowhere.sql", tmp / "u/1.0/001_a.down.sql");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u/1.0/001_a.down.sql").string());
  CHECK(problems[0].message.rfind("cannot read: ", 0) == 0);
  CHECK(problems[0].message.find("No such file") != std::string::npos);
}

TEST_CASE("catalog: an empty or comment-only up or down script is a step that runs nothing") {
  TempDir tmp;
  tmp.step("u/1.0", "001_a", "-- to be written; later\n/* nothing */\n", "-- nothing to undo\n");
  tmp.step("u/1.0", "002_b", "", "");
  tmp.step("u/1.0", "003_c", ";\n;\n", "CREATE TABLE t (a int);\n");
  Catalog c = load_catalog({tmp / "u"}, Engine::postgres);
  REQUIRE(c.updates.size() == 1);
  const Update& u = c.updates[0];
  REQUIRE(u.steps.size() == 3);
  CHECK(u.steps[0].up.statements.empty());
  CHECK(u.steps[0].down.statements.empty());
  CHECK(u.steps[1].up.statements.empty());
  CHECK(u.steps[2].up.statements.empty());
  CHECK(u.steps[2].down.statements.size() == 1);
  CHECK(u.steps[0].up.checksum != u.steps[1].up.checksum);  // still journaled and checked by content
}

TEST_CASE("catalog problem: an empty up script without its down file is still an error") {
  TempDir tmp;
  tmp.write("u/1.0/001_a.up.sql", "");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message.find("has no down script") != std::string::npos);
}

TEST_CASE("catalog problem: an invalid update is reported once, not again as missing by the next one's requires") {
  TempDir tmp;
  tmp.write("u/1.0/001_a.up.sql", "CREATE TABLE t (a int);\n");  // no down script
  tmp.write("u/2.0/update.toml", "requires = \"1.0\"\n");
  tmp.step("u/2.0", "001_b", "CREATE TABLE u (a int);\n", "DROP TABLE u;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u/1.0/001_a.up.sql").string());
  CHECK(problems[0].message.find("has no down script") != std::string::npos);
}

TEST_CASE("catalog problem: an update without steps") {
  TempDir tmp;
  tmp.write("u/1.0/update.toml", "description = \"forgot the scripts\"\n");
  tmp.write("u/1.0/README.md", "no steps here\n");
  tmp.mkdir("u/1.1");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].file == (tmp / "u/1.0").string());
  CHECK(problems[0].message.rfind("no steps: ", 0) == 0);
  CHECK(problems[1].file == (tmp / "u/1.1").string());
}

TEST_CASE("catalog: an update whose steps are all for another engine has no steps here") {
  TempDir tmp;
  tmp.write("u/1.0/001_m.mariadb.up.sql", "CREATE TABLE m (a int);\n");
  tmp.write("u/1.0/001_m.mariadb.down.sql", "DROP TABLE m;\n");
  Catalog catalog = load_catalog({tmp / "u"}, Engine::postgres);
  REQUIRE(catalog.updates.size() == 1);
  CHECK(catalog.updates[0].steps.empty());
}

TEST_CASE("catalog problem: a folder name that is not a version, without a manifest version") {
  TempDir tmp;
  tmp.step("u/1..2", "001_a", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u/1..2").string());
  CHECK(problems[0].message.find("the folder name '1..2' is not a version") != std::string::npos);
}

TEST_CASE("catalog: a manifest version rescues a folder name that is not a version") {
  TempDir tmp;
  tmp.write("u/add-users/update.toml", "version = \"3.1\"\n");
  tmp.step("u/add-users", "001_a", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  Catalog catalog = load_catalog({tmp / "u"}, Engine::postgres);
  CHECK(update_named(catalog, "add-users").version == "3.1");
}

TEST_CASE("catalog problem: an invalid version string in the manifest") {
  TempDir tmp;
  tmp.write("u/1.0/update.toml", "version = \"1.0 beta\"\n");
  tmp.step("u/1.0", "001_a", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u/1.0/update.toml").string());
  CHECK(problems[0].message.find("version '1.0 beta' is not a version") != std::string::npos);
}

TEST_CASE("catalog problem: an invalid id in the manifest") {
  TempDir tmp;
  tmp.write("u/1.0/update.toml", "id = \"a/b\"\n");
  tmp.step("u/1.0", "001_a", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.write("u/2.0/update.toml", "id = \"\"\n");
  tmp.step("u/2.0", "001_a", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 2);
  CHECK(problem_with(problems, "update id 'a/b' has the character '/' at position 2").file ==
        (tmp / "u/1.0/update.toml").string());
  CHECK(problem_with(problems, "the update id is empty").file == (tmp / "u/2.0/update.toml").string());
}

TEST_CASE("catalog problem: an unterminated quote in a script, with its line") {
  TempDir tmp;
  tmp.step("u/1.0", "001_a", "CREATE TABLE t (a text);\nINSERT INTO t VALUES ('oops);\nSELECT 1;\n", "DROP TABLE t;\n");
  tmp.step("u/1.0", "002_b", "CREATE TABLE u (a int);\n", "DROP TABLE u;\n/* never closed\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].file == (tmp / "u/1.0/001_a.up.sql").string());
  CHECK(problems[0].line == 2);
  CHECK(problems[0].message.find("unterminated string") != std::string::npos);
  CHECK(problems[1].file == (tmp / "u/1.0/002_b.down.sql").string());
  CHECK(problems[1].line == 2);
}

TEST_CASE("catalog problem: transaction control in scripts, with lines") {
  TempDir tmp;
  tmp.step("u/1.0", "001_a",
           "BEGIN;\n"
           "CREATE TABLE t (a int);\n"
           "COMMIT;\n"
           "SAVEPOINT s;\n"
           "ROLLBACK TO SAVEPOINT s;\n",
           "-- undo\nSTART TRANSACTION;\nDROP TABLE t;\nEND;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 4);
  std::string up = (tmp / "u/1.0/001_a.up.sql").string(), down = (tmp / "u/1.0/001_a.down.sql").string();
  CHECK(problems[0].file == up);
  CHECK(problems[0].line == 1);
  CHECK(problems[0].message.rfind("'BEGIN' controls the transaction", 0) == 0);
  CHECK(problems[1].file == up);
  CHECK(problems[1].line == 3);
  CHECK(problems[1].message.rfind("'COMMIT' controls the transaction", 0) == 0);
  CHECK(problems[2].file == down);
  CHECK(problems[2].line == 2);
  CHECK(problems[2].message.rfind("'START TRANSACTION' controls the transaction", 0) == 0);
  CHECK(problems[3].file == down);
  CHECK(problems[3].line == 4);
  CHECK(problems[3].message.rfind("'END' controls the transaction", 0) == 0);
}

TEST_CASE("catalog problem: transaction control is refused even in steps without a transaction") {
  TempDir tmp;
  tmp.write("u/1.0/update.toml", "[steps.001_a]\ntransaction = false\n");
  tmp.step("u/1.0", "001_a", "CREATE TABLE t (a int);\n  rollback;\n", "DROP TABLE t;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].line == 2);
  CHECK(problems[0].message.rfind("'ROLLBACK' controls the transaction", 0) == 0);
}

TEST_CASE("catalog problem: transaction control on MariaDB") {
  TempDir tmp;
  tmp.step("u/1.0", "001_a", "START TRANSACTION;\nCREATE TABLE t (a int);\nCOMMIT;\n", "DROP TABLE t;\n");
  auto problems = problems_of({tmp / "u"}, Engine::mariadb);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].line == 1);
  CHECK(problems[0].message.rfind("'START TRANSACTION'", 0) == 0);
  CHECK(problems[1].line == 3);
  CHECK(problems[1].message.rfind("'COMMIT'", 0) == 0);
}

TEST_CASE("catalog problem: psql meta-commands") {
  TempDir tmp;
  tmp.step("u/1.0", "001_a", "CREATE TABLE t (a int);\n\\set ON_ERROR_STOP on\n", "DROP TABLE t;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].line == 2);
  CHECK(problems[0].message.find("psql meta-commands") != std::string::npos);
}

TEST_CASE("catalog problem: CREATE INDEX CONCURRENTLY in a transactional step") {
  TempDir tmp;
  tmp.step("u/1.0", "007_idx", "CREATE TABLE t (a int);\nCREATE UNIQUE INDEX CONCURRENTLY i ON t (a);\n",
           "DROP INDEX i;\nDROP TABLE t;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u/1.0/007_idx.up.sql").string());
  CHECK(problems[0].line == 2);
  CHECK(problems[0].message.find("cannot run inside a transaction") != std::string::npos);
  CHECK(problems[0].message.find("[steps.007_idx]") != std::string::npos);
  CHECK(problems[0].message.find("transaction = false") != std::string::npos);
  // MariaDB has no such restriction to check.
  CHECK(load_catalog({tmp / "u"}, Engine::mariadb).updates.size() == 1);
}

TEST_CASE("catalog problem: other statements PostgreSQL refuses in a transaction") {
  TempDir tmp;
  tmp.step("u/1.0", "001_a", "VACUUM ANALYZE t;\nCREATE DATABASE other;\nALTER SYSTEM SET work_mem = '8MB';\n",
           "DROP INDEX CONCURRENTLY i;\n");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 4);
  CHECK(problems[0].line == 1);
  CHECK(problems[1].line == 2);
  CHECK(problems[2].line == 3);
  CHECK(problems[3].file == (tmp / "u/1.0/001_a.down.sql").string());
  for (const auto& p : problems) CHECK(p.message.find("cannot run inside a transaction") != std::string::npos);
}

TEST_CASE("catalog problem: a file named like a bundle that is not one is refused, hidden entries ignored") {
  TempDir tmp;
  tmp.step("u/1.0", "001_a", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.write("u/2.0.tar.gz", "not really");
  tmp.write("u/README.md", "files beside the updates are fine\n");
  tmp.mkdir("u/.git");
  auto problems = problems_of({tmp / "u"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == (tmp / "u/2.0.tar.gz").string());
  CHECK(problems[0].message.find("bundle refused: not a tar archive") != std::string::npos);
}

TEST_CASE("catalog problem: every problem is reported in one error") {
  TempDir tmp;
  tmp.write("image/1.0/update.toml", "version = \n");  // invalid TOML, line 1
  tmp.step("image/1.0", "001_a", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n");
  tmp.write("image/2.0/001_b.up.sql", "CREATE TABLE u (a int);\n");           // no down script
  tmp.step("volume/3.0", "001_c", "SELECT 'unterminated;\n", "SELECT 1;\n");  // unterminated string
  std::vector<fs::path> dirs = {tmp / "image", tmp / "missing", tmp / "volume"};
  std::vector<Problem> problems;
  std::string what;
  try {
    load_catalog(dirs, Engine::postgres);
  } catch (const CatalogError& e) {
    problems = e.problems();
    what = e.what();
  }
  INFO(what);
  REQUIRE(problems.size() == 4);
  CHECK(problem_with(problems, "invalid TOML").file == (tmp / "image/1.0/update.toml").string());
  CHECK(problem_with(problems, "no down script").file == (tmp / "image/2.0/001_b.up.sql").string());
  CHECK(problem_with(problems, "does not exist").file == (tmp / "missing").string());
  Problem quote = problem_with(problems, "unterminated string");
  CHECK(quote.file == (tmp / "volume/3.0/001_c.up.sql").string());
  CHECK(quote.line == 1);
  CHECK(what.rfind("invalid update files (4 problems):", 0) == 0);
  for (const auto& p : problems) CHECK(what.find("\n  " + p.to_string()) != std::string::npos);
}

TEST_CASE("Problem::to_string includes the line only when known") {
  CHECK(Problem{"a/b.sql", 3, "bad"}.to_string() == "a/b.sql:3: bad");
  CHECK(Problem{"a/b.sql", 0, "bad"}.to_string() == "a/b.sql: bad");
  CatalogError one({Problem{"x", 0, "m"}});
  CHECK(std::string(one.what()) == "invalid update files:\n  x: m");
}

TEST_CASE("catalog: a generic down script serves engine-specific up scripts") {
  TempDir dir;
  dir.write("u/1.0/001_t.postgres.up.sql", "CREATE TABLE t (id int);");
  dir.write("u/1.0/001_t.mariadb.up.sql", "CREATE TABLE t (id INT);");
  dir.write("u/1.0/001_t.down.sql", "DROP TABLE IF EXISTS t;");
  for (Engine engine : {Engine::postgres, Engine::mariadb}) {
    Catalog catalog = load_catalog({dir / "u"}, engine);
    REQUIRE(catalog.updates.size() == 1);
    CHECK(catalog.updates[0].steps[0].down.path.filename() == "001_t.down.sql");
  }
}

TEST_CASE("catalog problem: two copies of an update that differ only in a down script or the manifest") {
  TempDir dir;
  dir.step("image/1.0", "001_a", "CREATE TABLE a (id int);", "DROP TABLE a;");
  dir.step("volume/1.0", "001_a", "CREATE TABLE a (id int);", "DROP TABLE IF EXISTS a;");
  auto problems = problems_of({dir / "image", dir / "volume"});
  problem_with(problems, "duplicate update id '1.0'");

  TempDir dir2;
  dir2.step("image/1.0", "001_a", "CREATE TABLE a (id int);", "DROP TABLE a;");
  dir2.step("volume/1.0", "001_a", "CREATE TABLE a (id int);", "DROP TABLE a;");
  dir2.write("volume/1.0/update.toml", "[steps.001_a]\ntransaction = false\n");
  problem_with(problems_of({dir2 / "image", dir2 / "volume"}), "duplicate update id '1.0'");
}

TEST_CASE("catalog problem: a script that is a directory is unreadable, not empty") {
  TempDir dir;
  dir.write("u/1.0/001_a.up.sql", "SELECT 1;");
  dir.mkdir("u/1.0/001_a.down.sql");
  auto problems = problems_of({dir / "u"});
  Problem p = problem_with(problems, "cannot read");
  CHECK(p.file == (dir / "u/1.0/001_a.down.sql").string());
}

TEST_CASE("catalog problem: an upper-case .SQL file that is not a step file name is reported, not ignored") {
  TempDir dir;
  dir.step("u/1.0", "001_a", "SELECT 1;", "SELECT 1;");
  dir.write("u/1.0/002_b.UP.SQL", "SELECT 1;");
  Problem p = problem_with(problems_of({dir / "u"}), "not a step file name");
  CHECK(p.file == (dir / "u/1.0/002_b.UP.SQL").string());
}

TEST_CASE("catalog problem: REINDEX with options and DETACH PARTITION CONCURRENTLY need transaction = false") {
  for (const char* statement :
       {"REINDEX (VERBOSE) INDEX CONCURRENTLY i;", "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;"}) {
    CAPTURE(statement);
    TempDir dir;
    dir.step("u/1.0", "001_a", statement, "SELECT 1;");
    problem_with(problems_of({dir / "u"}), "transaction = false");
  }
  TempDir ok;
  ok.step("u/1.0", "001_a", "ALTER TABLE p DETACH PARTITION p1;", "SELECT 1;");
  CHECK(load_catalog({ok / "u"}, Engine::postgres).updates.size() == 1);
}

TEST_CASE("catalog problem: COPY FROM STDIN needs psql and is refused with its line") {
  TempDir dir;
  dir.step("u/1.0", "001_a", "SELECT 1;\nCOPY t (a) FROM stdin;\n", "SELECT 1;");
  Problem p = problem_with(problems_of({dir / "u"}), "COPY ... FROM STDIN");
  CHECK(p.line == 2);
}

TEST_CASE("catalog problem: SET autocommit in a MariaDB script is refused with its line") {
  TempDir dir;
  dir.step("u/1.0", "001_a", "CREATE TABLE a (id INT);\nSET autocommit = 0;\n", "DROP TABLE IF EXISTS a;");
  Problem p = problem_with(problems_of({dir / "u"}, Engine::mariadb), "SET autocommit");
  CHECK(p.line == 2);
  // PostgreSQL has no such setting to trip over; there it is the server's business.
  CHECK_NOTHROW(load_catalog({dir / "u"}, Engine::postgres));
}

TEST_CASE("catalog problem: LOCK TABLES and USE in a MariaDB script are refused with their lines") {
  TempDir dir;
  dir.step("u/1.0", "001_a",
           "CREATE TABLE a (id INT);\nLOCK TABLES a WRITE;\nINSERT INTO a VALUES (1);\nUNLOCK TABLES;\nUSE other;\n",
           "DROP TABLE IF EXISTS a;");
  auto problems = problems_of({dir / "u"}, Engine::mariadb);
  CHECK(problem_with(problems, "USE would switch").line == 5);
  int lock_lines = 0;
  for (const auto& p : problems)
    if (p.message.find("LOCK TABLES") != std::string::npos) lock_lines += p.line;
  CHECK(lock_lines == 2 + 4);
}

TEST_CASE("catalog: a generic up script may be undone by engine-specific downs for every engine") {
  TempDir dir;
  dir.write("u/1.0/001_t.up.sql", "CREATE TABLE t (id int);");
  dir.write("u/1.0/001_t.postgres.down.sql", "DROP TABLE IF EXISTS t;");
  dir.write("u/1.0/001_t.mariadb.down.sql", "DROP TABLE IF EXISTS t;");
  for (Engine engine : {Engine::postgres, Engine::mariadb, Engine::mysql}) {
    CAPTURE(engine_name(engine));
    Catalog catalog = load_catalog({dir / "u"}, engine);
    REQUIRE(catalog.updates.size() == 1);
  }
  TempDir missing;
  missing.write("u/1.0/001_t.up.sql", "CREATE TABLE t (id int);");
  missing.write("u/1.0/001_t.postgres.down.sql", "DROP TABLE IF EXISTS t;");
  problem_with(problems_of({missing / "u"}), "has no down script");
}

TEST_CASE("catalog: read for a start (ScriptParsing::when_run), scripts are hashed; parse_scripts splits and lints "
          "only the updates that will run") {
  TempDir tmp;
  tmp.step("u/1.0", "001_a", "CREATE TABLE a (x int);\nCREATE INDEX a_x ON a (x);\n", "DROP TABLE a;\n");
  tmp.step("u/2.0", "001_b", "SELECT 1;\nCOMMIT;\n", "SELECT 1;\n");
  tmp.step("u/3.0", "001_c", "SELECT 1;\nSELECT 'oops;\n", "SELECT 1;\n");
  Catalog lazy = load_catalog({tmp / "u"}, Engine::postgres, {}, {}, ScriptParsing::when_run);
  REQUIRE(ids(lazy) == std::vector<std::string>{"1.0", "2.0", "3.0"});
  for (const auto& update : lazy.updates) {
    CHECK_FALSE(update.parsed);
    CHECK(update.steps.at(0).up.statements.empty());
    CHECK(update.steps.at(0).down.statements.empty());
  }

  // The bytes, the checksums the journal compares and the rest are what a full read gives.
  tmp.write("v/1.0/001_a.up.sql", lazy.updates[0].steps[0].up.text);
  tmp.write("v/1.0/001_a.down.sql", lazy.updates[0].steps[0].down.text);
  Catalog read_whole = load_catalog({tmp / "v"}, Engine::postgres);
  const Update& full = read_whole.updates.at(0);
  CHECK(lazy.updates[0].checksum == full.checksum);
  CHECK(lazy.updates[0].content_checksum == full.content_checksum);
  CHECK(lazy.updates[0].steps[0].up.checksum == full.steps[0].up.checksum);

  // The applied ones (here 2.0 and 3.0) are neither split nor linted.
  parse_scripts(lazy, Engine::postgres, [](const Update& u) { return u.id == "1.0"; });
  CHECK(lazy.updates[0].parsed);
  CHECK(lazy.updates[0].steps[0].up.statements.size() == 2);
  CHECK(lazy.updates[0].steps[0].up.statements[1].line == 2);
  CHECK(lazy.updates[0].steps[0].down.statements.size() == 1);
  CHECK_FALSE(lazy.updates[1].parsed);

  // Those that will run get the same problems as on a full read, with file and line.
  std::vector<Problem> problems;
  try {
    parse_scripts(lazy, Engine::postgres, [](const Update&) { return true; });
    FAIL("parse_scripts accepted a COMMIT and an unterminated string");
  } catch (const CatalogError& e) {
    problems = e.problems();
  }
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].file == (tmp / "u/2.0/001_b.up.sql").string());
  CHECK(problems[0].line == 2);
  CHECK(problems[0].message.find("'COMMIT' controls the transaction") != std::string::npos);
  CHECK(problems[1].file == (tmp / "u/3.0/001_c.up.sql").string());
  CHECK(problems[1].line == 2);
  CHECK(problems[1].message.find("unterminated string") != std::string::npos);
  CHECK(problems_of({tmp / "u"}).size() == 2);

  // A problem found on load still comes in one error with every other.
  tmp.write("u/4.0/001_d.up.sql", "SELECT 1;\n");
  try {
    load_catalog({tmp / "u"}, Engine::postgres, {}, {}, ScriptParsing::when_run);
    FAIL("load_catalog accepted a step without its down script");
  } catch (const CatalogError& e) {
    problems = e.problems();
  }
  CHECK(problems.size() == 3);
  problem_with(problems, "has no down script");
  problem_with(problems, "'COMMIT' controls the transaction");
  problem_with(problems, "unterminated string");
}
