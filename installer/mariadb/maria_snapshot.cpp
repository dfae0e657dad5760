#include "installer/mariadb/maria_database.hpp"

#include <stdexcept>

namespace installer {

Snapshot mariadb_snapshot(Database&, const ExcludedObjects&, const SnapshotScope&) {
  throw std::logic_error("mariadb_snapshot: not written yet");
}

}  // namespace installer
