#pragma once
#include <string>

namespace installer {

/// What the engine reports as it goes, for whoever shows progress (the health
/// endpoint's /status, the progress log line). Every hook is optional.
class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  virtual void update_started(const std::string& /*update_id*/, int /*steps*/) {}
  virtual void step_started(const std::string& /*step*/, int /*position*/, int /*statements*/) {}
  virtual void statement_done(int /*done*/) {}
  virtual void reverting(const std::string& /*update_id*/) {}
  virtual void update_finished(const std::string& /*update_id*/, bool /*applied*/) {}
};

}  // namespace installer
