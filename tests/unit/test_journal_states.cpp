// The journal's state machine (journal/records.hpp, docs/journal.md): every legal
// transition is accepted for its actors and refused for the others, and no other
// transition is accepted at all.
#include "installer/journal/records.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <set>
#include <tuple>

using namespace installer;

namespace {

const Actor kActors[] = {Actor::apply, Actor::revert, Actor::recovery, Actor::remove_update};
const UpdateState kUpdateStates[] = {UpdateState::applying,  UpdateState::applied, UpdateState::failed,
                                     UpdateState::reverting, UpdateState::removed, UpdateState::revert_failed};
const StepState kStepStates[] = {StepState::applying,    StepState::applied,   StepState::failed,
                                 StepState::rolled_back, StepState::reverting, StepState::reverted};

template <typename State>
using Legal = std::set<std::tuple<std::optional<State>, State, Actor>>;

const std::set<Actor> kReverts = {Actor::revert, Actor::recovery, Actor::remove_update};

template <typename State>
void add(Legal<State>& legal, std::optional<State> from, State to, const std::set<Actor>& actors) {
  for (Actor a : actors) legal.insert({from, to, a});
}

/// The table of docs/journal.md, written out again independently of records.cpp.
Legal<UpdateState> legal_update_transitions() {
  Legal<UpdateState> l;
  add<UpdateState>(l, std::nullopt, UpdateState::applying, {Actor::apply});
  add<UpdateState>(l, std::nullopt, UpdateState::applied, {Actor::apply});
  add<UpdateState>(l, std::nullopt, UpdateState::failed, {Actor::apply});
  add<UpdateState>(l, UpdateState::applying, UpdateState::applied, {Actor::apply});
  add<UpdateState>(l, UpdateState::applying, UpdateState::reverting, kReverts);
  add<UpdateState>(l, UpdateState::applied, UpdateState::reverting, {Actor::remove_update});
  add<UpdateState>(l, UpdateState::revert_failed, UpdateState::reverting, {Actor::recovery, Actor::remove_update});
  add<UpdateState>(l, UpdateState::reverting, UpdateState::failed, {Actor::revert, Actor::recovery});
  add<UpdateState>(l, UpdateState::reverting, UpdateState::removed, {Actor::remove_update});
  add<UpdateState>(l, UpdateState::reverting, UpdateState::revert_failed, kReverts);
  return l;
}

Legal<StepState> legal_step_transitions() {
  Legal<StepState> l;
  for (StepState s : {StepState::applying, StepState::applied, StepState::failed, StepState::rolled_back})
    add<StepState>(l, std::nullopt, s, {Actor::apply});
  add<StepState>(l, StepState::applying, StepState::applied, {Actor::apply});
  add<StepState>(l, StepState::applying, StepState::rolled_back, kReverts);
  add<StepState>(l, StepState::applying, StepState::reverting, kReverts);
  add<StepState>(l, StepState::applied, StepState::reverting, kReverts);
  add<StepState>(l, StepState::applied, StepState::reverted, kReverts);
  add<StepState>(l, StepState::reverting, StepState::reverted, kReverts);
  return l;
}

template <typename State, size_t N>
void check_every_transition(const Legal<State>& legal, const State (&states)[N]) {
  std::vector<std::optional<State>> froms{std::nullopt};
  for (State s : states) froms.push_back(s);
  for (const auto& from : froms)
    for (State to : states)
      for (Actor actor : kActors) {
        CAPTURE(std::string(from ? to_string(*from) : "(new)"));
        CAPTURE(std::string(to_string(to)));
        CAPTURE(std::string(to_string(actor)));
        const bool same = from && *from == to;  // a rewrite, not a transition
        CHECK(allowed_transition(from, to, actor) == (same || legal.count({from, to, actor}) > 0));
      }
}

}  // namespace

TEST_CASE("journal states: each update transition is allowed to its actors only, and no other is") {
  check_every_transition(legal_update_transitions(), kUpdateStates);
}

TEST_CASE("journal states: each step transition is allowed to its actors only, and no other is") {
  check_every_transition(legal_step_transitions(), kStepStates);
}

TEST_CASE("journal states: the final states are left by no actor") {
  for (Actor actor : kActors)
    for (UpdateState to : kUpdateStates) {
      if (to != UpdateState::failed) CHECK_FALSE(allowed_transition(UpdateState::failed, to, actor));
      if (to != UpdateState::removed) CHECK_FALSE(allowed_transition(UpdateState::removed, to, actor));
    }
  for (Actor actor : kActors)
    for (StepState to : kStepStates)
      for (StepState final_state : {StepState::failed, StepState::rolled_back, StepState::reverted})
        if (to != final_state) CHECK_FALSE(allowed_transition(final_state, to, actor));
}

TEST_CASE("journal states: a refused transition throws, naming actor and states") {
  CHECK_THROWS_WITH_AS(check_transition(UpdateState::applied, UpdateState::removed, Actor::remove_update),
                       "journal: remove-update may not move an update attempt from applied to removed",
                       std::logic_error);
  CHECK_THROWS_WITH_AS(check_transition(UpdateState::applying, UpdateState::removed, Actor::recovery),
                       "journal: recovery may not move an update attempt from applying to removed", std::logic_error);
  CHECK_THROWS_WITH_AS(check_transition(UpdateState::reverting, UpdateState::failed, Actor::remove_update),
                       "journal: remove-update may not move an update attempt from reverting to failed",
                       std::logic_error);
  CHECK_THROWS_WITH_AS(check_transition(std::nullopt, UpdateState::reverting, Actor::apply),
                       "journal: apply may not move an update attempt from (new) to reverting", std::logic_error);
  CHECK_THROWS_WITH_AS(check_transition(StepState::reverted, StepState::applied, Actor::apply),
                       "journal: apply may not move a step from reverted to applied", std::logic_error);
  CHECK_THROWS_WITH_AS(check_transition(StepState::applied, StepState::reverted, Actor::apply),
                       "journal: apply may not move a step from applied to reverted", std::logic_error);
  CHECK_NOTHROW(check_transition(UpdateState::revert_failed, UpdateState::reverting, Actor::recovery));
  CHECK_NOTHROW(check_transition(StepState::reverting, StepState::reverting, Actor::recovery));
}
