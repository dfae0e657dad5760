#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/db/database.hpp"
#include "installer/engine/exact_undo.hpp"
#include "installer/engine/observer.hpp"
#include "installer/journal/journal.hpp"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace installer {

/// What every part of the engine needs: the session, its journal, and who we are.
struct EngineContext {
  Database& db;
  Journal& journal;
  std::string journal_schema;  ///< excluded from fingerprints
  std::string host;
  std::string installer_version = INSTALLER_VERSION;
  /// Set (to the signal number) when the operator asked to stop: applying stops after
  /// the current statement and the update is reverted. Reverts are never interrupted.
  const std::atomic<int>* stop_signal = nullptr;
  EngineObserver* observer = nullptr;
  class FaultPoint* fault = nullptr;  ///< tests only (INSTALLER_TEST_FAULT)
  PartialRevert partial_revert = PartialRevert::exact;
  /// Called once, before a run's first change to the schema (an update applied or
  /// removed; `before` says which, e.g. "2024.05.0" or "remove-2024.05.0"; `applying`: the
  /// updates the run is about to apply, none for a removal): takes the backup
  /// (--backup-dir) and returns what the journal records of it, or "". Never called on a
  /// run that changes nothing.
  std::function<std::string(const std::string& before, const std::vector<const Update*>& applying)>
      before_first_change{};
  std::string backup{};  ///< what it returned: recorded in the attempts this run writes

  /// before_first_change, the first time only.
  void about_to_change(const std::string& before, const std::vector<const Update*>& applying = {});

  /// Marks a point where tests may inject a crash.
  void reached(const char* phase, const std::string& update, const std::string& step, const std::string& point);

  EngineObserver& observe() {
    static EngineObserver nobody;
    return observer ? *observer : nobody;
  }
};

}  // namespace installer
