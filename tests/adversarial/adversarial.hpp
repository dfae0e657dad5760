#pragma once
// Shared pieces of the adversarial suite: careless or hostile input given to the built
// installer, each case asserting the exact outcome (exit code, the file or setting named,
// the database unchanged, no secret anywhere, the run bounded in time).
#include "../db/db_fixture.hpp"

#include <doctest/doctest.h>

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
  tree.write(folder + "/001_base.up.sql", "CREATE TABLE adv_base (id INT PRIMARY KEY);\nINSERT INTO adv_base VALUES (1);\n");
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

}  // namespace installer::adversarial
