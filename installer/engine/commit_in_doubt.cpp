#include "installer/engine/commit_in_doubt.hpp"

#include "installer/engine/reconcile.hpp"

namespace installer {

InDoubtVerdict commit_in_doubt_verdict(const std::vector<AttemptRecord>& attempts, const std::string& update_id) {
  auto latest = latest_attempts(attempts);
  auto it = latest.find(update_id);
  if (it == latest.end()) return InDoubtVerdict::not_committed;
  switch (it->second->state) {
    case UpdateState::applied:
    case UpdateState::adopted: return InDoubtVerdict::committed;
    case UpdateState::applying:
    case UpdateState::reverting: return InDoubtVerdict::reverting_committed;
    case UpdateState::revert_failed: return InDoubtVerdict::revert_failed;
    case UpdateState::failed:
    case UpdateState::removed: return InDoubtVerdict::not_committed;
  }
  return InDoubtVerdict::not_committed;
}

const char* describe(InDoubtVerdict verdict) {
  switch (verdict) {
    case InDoubtVerdict::committed: return "went through: the update is applied";
    case InDoubtVerdict::not_committed: return "did not happen: nothing of the update is in the database";
    case InDoubtVerdict::reverting_committed:
      return "did not happen: the parts of the update that had committed before it are reverted now";
    case InDoubtVerdict::revert_failed:
      return "did not happen, and the revert of the parts of the update that had committed before it failed: it is "
             "tried again now";
  }
  return "did not happen: nothing of the update is in the database";
}

}  // namespace installer
