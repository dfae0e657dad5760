#include "installer/journal/records.hpp"

#include <stdexcept>

namespace installer {

const char* to_string(UpdateState state) {
  switch (state) {
    case UpdateState::applying: return "applying";
    case UpdateState::applied: return "applied";
    case UpdateState::failed: return "failed";
    case UpdateState::reverting: return "reverting";
    case UpdateState::removed: return "removed";
    case UpdateState::revert_failed: return "revert_failed";
    case UpdateState::adopted: return "adopted";
  }
  return "applying";
}

const char* to_string(StepState state) {
  switch (state) {
    case StepState::applying: return "applying";
    case StepState::applied: return "applied";
    case StepState::failed: return "failed";
    case StepState::rolled_back: return "rolled_back";
    case StepState::reverting: return "reverting";
    case StepState::reverted: return "reverted";
  }
  return "applying";
}

const char* to_string(Actor actor) {
  switch (actor) {
    case Actor::apply: return "apply";
    case Actor::revert: return "revert";
    case Actor::recovery: return "recovery";
    case Actor::remove_update: return "remove-update";
    case Actor::adopt: return "adopt";
  }
  return "apply";
}

namespace {

constexpr unsigned bit(Actor actor) { return 1u << static_cast<unsigned>(actor); }
constexpr unsigned kApply = bit(Actor::apply);
constexpr unsigned kAnyRevert = bit(Actor::revert) | bit(Actor::recovery) | bit(Actor::remove_update);

template <typename State>
struct Transition {
  std::optional<State> from;  ///< none: a new record
  State to;
  unsigned actors;
};

// Keep in step with the tables in docs/journal.md.
const Transition<UpdateState> kUpdateTransitions[] = {
    {std::nullopt, UpdateState::applying, kApply},  // journaled before a step that commits on its own
    {std::nullopt, UpdateState::applied, kApply},   // with its steps, in one transaction
    {std::nullopt, UpdateState::failed, kApply},    // after the rollback of that transaction
    {UpdateState::applying, UpdateState::applied, kApply},
    {UpdateState::applying, UpdateState::reverting, kAnyRevert},
    {std::nullopt, UpdateState::adopted, bit(Actor::adopt)},  // with its steps, by adoption or a baseline
    {UpdateState::applied, UpdateState::reverting, bit(Actor::remove_update)},
    {UpdateState::adopted, UpdateState::reverting, bit(Actor::remove_update)},
    {UpdateState::revert_failed, UpdateState::reverting, bit(Actor::recovery) | bit(Actor::remove_update)},
    {UpdateState::reverting, UpdateState::failed, bit(Actor::revert) | bit(Actor::recovery)},
    {UpdateState::reverting, UpdateState::removed, bit(Actor::remove_update)},
    {UpdateState::reverting, UpdateState::revert_failed, kAnyRevert},
};

const Transition<StepState> kStepTransitions[] = {
    {std::nullopt, StepState::applying, kApply},  // a step outside a transaction, before its first statement
    {std::nullopt, StepState::applied, kApply | bit(Actor::adopt)},  // in a transaction, or adopted
    {std::nullopt, StepState::failed, kApply},                       // the step whose statement failed in a transaction
    {std::nullopt, StepState::rolled_back, kApply},                  // steps of a transaction that rolled back
    {StepState::applying, StepState::applied, kApply},
    {StepState::applying, StepState::rolled_back, kAnyRevert},  // nothing of it reached the database
    {StepState::applying, StepState::reverting, kAnyRevert},    // partly applied
    {StepState::applied, StepState::reverting, kAnyRevert},     // its down script outside a transaction
    {StepState::applied, StepState::reverted, kAnyRevert},      // its down script in a transaction
    {StepState::reverting, StepState::reverted, kAnyRevert},
};

template <typename State, size_t N>
bool allowed(const Transition<State> (&table)[N], std::optional<State> from, State to, Actor actor) {
  if (from && *from == to) return true;
  for (const auto& t : table)
    if (t.from == from && t.to == to) return (t.actors & bit(actor)) != 0;
  return false;
}

template <typename State>
void check(bool ok, std::optional<State> from, State to, Actor actor, const char* what) {
  if (ok) return;
  throw std::logic_error(std::string("journal: ") + to_string(actor) + " may not move " + what + " from " +
                         (from ? to_string(*from) : "(new)") + " to " + to_string(to));
}

}  // namespace

bool allowed_transition(std::optional<UpdateState> from, UpdateState to, Actor actor) {
  return allowed(kUpdateTransitions, from, to, actor);
}

bool allowed_transition(std::optional<StepState> from, StepState to, Actor actor) {
  return allowed(kStepTransitions, from, to, actor);
}

void check_transition(std::optional<UpdateState> from, UpdateState to, Actor actor) {
  check(allowed_transition(from, to, actor), from, to, actor, "an update attempt");
}

void check_transition(std::optional<StepState> from, StepState to, Actor actor) {
  check(allowed_transition(from, to, actor), from, to, actor, "a step");
}

UpdateState parse_update_state(const std::string& text) {
  for (auto s : {UpdateState::applying, UpdateState::applied, UpdateState::failed, UpdateState::reverting,
                 UpdateState::removed, UpdateState::revert_failed, UpdateState::adopted})
    if (text == to_string(s)) return s;
  throw std::runtime_error("journal: unknown update state '" + text + "'");
}

StepState parse_step_state(const std::string& text) {
  for (auto s : {StepState::applying, StepState::applied, StepState::failed, StepState::rolled_back,
                 StepState::reverting, StepState::reverted})
    if (text == to_string(s)) return s;
  throw std::runtime_error("journal: unknown step state '" + text + "'");
}

}  // namespace installer
