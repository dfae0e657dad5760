#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/verify/report.hpp"
#include "installer/verify/scratch.hpp"

#include <atomic>
#include <functional>
#include <optional>
#include <string>

namespace installer {

struct VerifyOptions {
  /// The previous release's updates (--from), for the upgrade path; null: not checked.
  const Catalog* previous = nullptr;
  /// Set to the signal number when the run must stop: no new check starts.
  const std::atomic<int>* stop = nullptr;
  /// A line per update on long runs.
  std::function<void(const std::string&)> progress;
  /// Called for each update whose round trip passed, with the schema it left (what
  /// verify --record ships), in update order.
  std::function<void(size_t index, ScratchSession& db, const Snapshot& schema)> applied;
};

/// installer verify's checks on one engine, each on scratch databases of `pool`: per
/// update in version order, the round trip (apply, revert, apply again, each compared
/// object by object) and every partial failure of its steps that do not commit
/// together; then, with a previous release, the upgrade and the downgrade.
class Verifier {
 public:
  Verifier(ScratchPool& pool, const Catalog& catalog, VerifyOptions options, VerifyReport& report);
  void run();

 private:
  bool stopping() const { return options_.stop && options_.stop->load() != 0; }
  void verify_update(size_t index, std::unique_ptr<ScratchSession>& db);
  enum class RoundTrip { passed, failed, not_applied };
  RoundTrip round_trip(size_t index, const Snapshot& before, ScratchSession& db);
  void partial_failures(size_t index, const Snapshot& before, std::unique_ptr<ScratchSession>& db);
  bool partial_failure(size_t index, size_t step, size_t statement, const Snapshot& before, ScratchSession& db);
  void upgrade_path();
  void downgrade_path(ScratchSession& installed);
  /// A fresh database holding the first `count` updates; null (and a failed check) when
  /// they do not apply.
  std::unique_ptr<ScratchSession> rebuilt(size_t count);
  void record(CheckResult result);

  ScratchPool& pool_;
  const Catalog& catalog_;
  VerifyOptions options_;
  VerifyReport& report_;
  std::string engine_;
};

/// The updates of `catalog` up to `count` (a release as it was at that update).
Catalog first_updates(const Catalog& catalog, size_t count);

}  // namespace installer
