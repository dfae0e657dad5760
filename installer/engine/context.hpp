#pragma once
#include "installer/db/database.hpp"
#include "installer/engine/exact_undo.hpp"
#include "installer/engine/observer.hpp"
#include "installer/journal/journal.hpp"

#include <atomic>
#include <string>

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

  /// Marks a point where tests may inject a crash.
  void reached(const char* phase, const std::string& update, const std::string& step, const std::string& point);

  EngineObserver& observe() {
    static EngineObserver nobody;
    return observer ? *observer : nobody;
  }
};

}  // namespace installer
