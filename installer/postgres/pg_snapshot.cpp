#include "installer/postgres/pg_database.hpp"

#include <stdexcept>

namespace installer {

Snapshot postgres_snapshot(Database&, const ExcludedObjects&, const SnapshotScope&) {
  throw std::logic_error("postgres_snapshot: not written yet");
}

}  // namespace installer
