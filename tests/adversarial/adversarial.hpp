#pragma once
// Shared pieces of the adversarial suite: careless or hostile input given to the built
// installer, each case asserting the exact outcome (exit code, the file or setting named,
// the database unchanged, no secret anywhere, the run bounded in time).
#include "../db/db_fixture.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>

namespace installer::adversarial {

using testing::RunResult;
using testing::ScratchDatabase;
using testing::UpdateTree;

/// The environment of a run against db with the update directory `updates`.
inline std::map<std::string, std::string> env_for(const ScratchDatabase& db, const std::string& updates) {
  return {{"INSTALLER_DB_URL", db.url()}, {"INSTALLER_UPDATES", updates}};
}

/// One harmless update (a table `adv_base` with one row): what a case starts from.
inline void write_base_update(UpdateTree& tree, const std::string& folder = "1.0") {
  tree.write(folder + "/001_base.up.sql",
             "CREATE TABLE adv_base (id INT PRIMARY KEY);\nINSERT INTO adv_base VALUES (1);\n");
  tree.write(folder + "/001_base.down.sql", "DROP TABLE adv_base;\n");
}

/// What refused input must leave alone: the application's objects and the journal's attempts.
struct DatabaseState {
  std::set<std::string> objects;
  long attempts = 0;
  bool operator==(const DatabaseState& o) const { return objects == o.objects && attempts == o.attempts; }
};
inline DatabaseState state_of(const ScratchDatabase& db) {
  return {db.objects(), db.journal_exists() ? db.journal_attempts() : 0};
}

/// Applies the base update, then returns what a refused run must leave as it is.
inline DatabaseState applied_base(const ScratchDatabase& db, UpdateTree& tree) {
  write_base_update(tree);
  REQUIRE(testing::run_installer({"migrate"}, env_for(db, tree.root().string())).exit_code == 0);
  return state_of(db);
}

/// Runs migrate on the tree and checks that it was refused (exit 65) with a message that
/// holds `where` ("FILE:LINE:") and `words`, and that the database is as it was.
inline void check_refused(const ScratchDatabase& db, const UpdateTree& tree, const DatabaseState& before,
                          const std::string& where, const std::string& words) {
  auto r = testing::run_installer({"migrate"}, env_for(db, tree.root().string()), std::chrono::seconds(30));
  INFO(r.err);
  CHECK(r.exit_code == 65);
  CHECK(r.err.find(where) != std::string::npos);
  CHECK(r.err.find(words) != std::string::npos);
  CHECK(state_of(db) == before);
}

}  // namespace installer::adversarial
