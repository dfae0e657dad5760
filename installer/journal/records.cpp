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

UpdateState parse_update_state(const std::string& text) {
  for (auto s : {UpdateState::applying, UpdateState::applied, UpdateState::failed, UpdateState::reverting,
                 UpdateState::removed, UpdateState::revert_failed})
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
