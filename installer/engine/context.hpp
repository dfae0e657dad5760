#pragma once
#include "installer/db/database.hpp"
#include "installer/journal/journal.hpp"

#include <string>

namespace installer {

/// What every part of the engine needs: the session, its journal, and who we are.
struct EngineContext {
  Database& db;
  Journal& journal;
  std::string journal_schema;  ///< excluded from fingerprints
  std::string host;
  std::string installer_version = INSTALLER_VERSION;
};

}  // namespace installer
