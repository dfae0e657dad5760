#include "installer/engine/context.hpp"

namespace installer {

void EngineContext::about_to_change(const std::string& before, const std::vector<const Update*>& applying) {
  if (!before_first_change) return;
  auto take = std::move(before_first_change);
  before_first_change = nullptr;  // once a run, whatever it returns or throws
  backup = take(before, applying);
}

}  // namespace installer
