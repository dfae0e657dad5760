#include "installer/engine/fault_injection.hpp"

#include "installer/engine/context.hpp"
#include "installer/util/log.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <sstream>
#include <thread>

namespace installer {

/// Long beside anything the installer does between two statements of its own, short
/// beside a test's patience.
constexpr std::chrono::milliseconds kStall{300};

std::optional<FaultSpec> FaultSpec::parse(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ':')) parts.push_back(part);
  if (parts.size() < 4 || parts.size() > 5) return std::nullopt;
  FaultSpec spec;
  spec.phase = parts[0];
  spec.update = parts[1];
  spec.step = parts[2];
  spec.point = parts[3];
  if (parts.size() == 5) spec.action = parts[4];
  if (spec.phase != "apply" && spec.phase != "revert") return std::nullopt;
  if (spec.action != "kill" && spec.action != "kill-session" && spec.action != "stall" && spec.action != "fail")
    return std::nullopt;
  if (spec.action == "fail" && spec.point != "before" && spec.point.rfind("statement=", 0) != 0) return std::nullopt;
  return spec;
}

StatementFailure FaultPoint::injected_failure(const std::string& update, const std::string& step,
                                              const std::string& point) const {
  StatementFailure f = spec_.failure;
  if (f.update_id.empty()) f.update_id = update;
  if (f.step.empty()) f.step = step;
  if (f.statement == 0) f.statement = point == "before" ? 1 : std::stoi(point.substr(point.find('=') + 1)) + 1;
  if (f.message.empty()) f.message = "injected failure (INSTALLER_TEST_FAULT)";
  return f;
}

void FaultPoint::reached(Database& db, const char* phase, const std::string& update, const std::string& step,
                         const std::string& point) {
  if (fired_ || spec_.phase != phase || spec_.update != update || spec_.step != step || spec_.point != point) return;
  fired_ = true;  // once per process: the reconnect that follows must be able to succeed
  if (spec_.action == "fail") throw StatementError(injected_failure(update, step, point));
  log::warn("test fault injection: {} at {}:{}:{}:{}", spec_.action, phase, update, step, point);
  if (spec_.action == "kill-session") {
    db.terminate_session();
    return;
  }
  if (spec_.action == "stall") {
    std::this_thread::sleep_for(kStall);
    return;
  }
  kill(getpid(), SIGKILL);
  pause();  // SIGKILL cannot be caught: this is never reached
}

void EngineContext::reached(const char* phase, const std::string& update, const std::string& step,
                            const std::string& point) {
  if (fault) fault->reached(db, phase, update, step, point);
}

FaultPoint* fault_point() {
  static std::unique_ptr<FaultPoint> point = [] {
    const char* text = std::getenv("INSTALLER_TEST_FAULT");
    if (!text || !*text) return std::unique_ptr<FaultPoint>();
    auto spec = FaultSpec::parse(text);
    if (!spec) {
      log::error("INSTALLER_TEST_FAULT='{}' is not PHASE:UPDATE:STEP:POINT[:ACTION]; ignored", text);
      return std::unique_ptr<FaultPoint>();
    }
    return std::make_unique<FaultPoint>(*spec);
  }();
  return point.get();
}

}  // namespace installer
