#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/db/database.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace installer {

/// What another migration tool's own history table says is applied (docs/adopt.md).
struct ForeignHistory {
  UpdatesFormat format = UpdatesFormat::installer;
  std::string table;  ///< as the operator would look for it: "schema_migrations", "sqitch.changes"
  /// The updates of the catalog it marks applied, in version order.
  std::vector<const Update*> applied;
};

/// Reads the history table of the tool `format` names, if the database has one that records
/// something (an empty one says nothing about the objects there), and maps
/// its rows onto the catalog's updates of that format. Throws UserError(exit_data) naming
/// the row for what makes adoption unsafe: a dirty or failed migration, or one applied
/// that the folder does not have.
std::optional<ForeignHistory> read_foreign_history(Database& db, UpdatesFormat format, const Catalog& catalog);

/// The other tools' history tables this database has that record something, by name, for
/// messages. Sqitch's only with rows of the catalog's project: its registry holds every
/// project's, and on MariaDB it is a database of the server's, not this database's.
std::vector<std::string> foreign_history_tables(Database& db, const Catalog& catalog);

}  // namespace installer
