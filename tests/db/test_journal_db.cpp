// The journal read ahead (SqlJournal::read_ahead): migrate reads the journal under the
// lock while the update directories are still being read, and hands what it read to the
// engine. What is handed over must be what the journal says when it is used: a write in
// between makes the next load() read the tables again. Both engines.
#include "db_fixture.hpp"

#include "installer/journal/journal_tables.hpp"
#include "installer/util/error.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace installer;
using namespace installer::testing;

namespace {

AttemptRecord applied_attempt(const std::string& update_id) {
  AttemptRecord attempt;
  attempt.update_id = update_id;
  attempt.version = update_id;
  attempt.checksum = std::string(64, '0');
  attempt.state = UpdateState::applying;
  attempt.host = "test-host";
  attempt.installer_version = "test";
  StepRecord step;
  step.position = 1;
  step.name = "001_a";
  step.up_checksum = std::string(64, '1');
  step.down_checksum = std::string(64, '2');
  step.state = StepState::applying;
  attempt.steps.push_back(step);
  return attempt;
}

}  // namespace

TEST_CASE("a journal read ahead is what load() returns until an attempt or a step is written") {
  ScratchDatabase scratch;
  {
    EngineSession s(scratch);
    s.journal->ensure();
    s.journal->insert_attempt(applied_attempt("1.0"));
  }
  EngineSession s(scratch);
  REQUIRE(s.journal->read_ahead());
  // Another session's write after the read ahead is not seen: the lock keeps other
  // installers out between the two, so what was read is what is there.
  {
    EngineSession other(scratch);
    other.journal->insert_attempt(applied_attempt("2.0"));
  }
  CHECK(s.journal->records_anything());
  auto first = s.journal->load();
  REQUIRE(first.size() == 1);
  CHECK(first[0].update_id == "1.0");
  REQUIRE(first[0].steps.size() == 1);
  CHECK(first[0].steps[0].name == "001_a");
  // Used once: the next load reads the tables.
  CHECK(s.journal->load().size() == 2);

  SUBCASE("a write through the session drops what was read ahead") {
    REQUIRE(s.journal->read_ahead());
    AttemptRecord third = applied_attempt("3.0");
    third.attempt_id = s.journal->insert_attempt(third);
    CHECK(s.journal->load().size() == 3);

    REQUIRE(s.journal->read_ahead());
    third.state = UpdateState::applied;
    s.journal->update_attempt(third);
    auto after = s.journal->load();
    REQUIRE(after.size() == 3);
    CHECK(after[2].state == UpdateState::applied);

    REQUIRE(s.journal->read_ahead());
    third.steps[0].state = StepState::applied;
    s.journal->update_step(third.attempt_id, third.steps[0]);
    auto stepped = s.journal->load();
    REQUIRE(stepped.size() == 3);
    REQUIRE(stepped[2].steps.size() == 1);
    CHECK(stepped[2].steps[0].state == StepState::applied);
  }
}

TEST_CASE("no journal, or one in another format, is not read ahead: ensure() decides about it later") {
  ScratchDatabase scratch;
  EngineSession s(scratch);
  CHECK_FALSE(s.journal->read_ahead());
  CHECK_FALSE(scratch.journal_exists());  // reading ahead created nothing
  s.journal->ensure();
  CHECK(s.journal->read_ahead());
  CHECK(s.journal->load().empty());

  // A newer installer's journal: ensure() refuses it, and reading ahead does not read it.
  auto [schema, table] = journal_table(s.db->dialect(), "installer", "journal_format");
  s.db->query(fmt::format("INSERT INTO {} (format_version, written_by) VALUES ({}, 'installer 99')",
                          s.db->dialect().quote_qualified(schema, table), kJournalFormat + 1));
  EngineSession later(scratch);
  CHECK_FALSE(later.journal->read_ahead());
  CHECK_THROWS_WITH_AS(later.journal->ensure(), doctest::Contains("written by a newer installer"), UserError);
}
