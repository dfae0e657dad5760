#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/db/database.hpp"
#include "installer/db/snapshot.hpp"

#include <boost/filesystem/path.hpp>

#include <optional>
#include <string>
#include <vector>

namespace installer {

/// The schema after each update of a release on one engine, as `installer verify --record`
/// took it on a scratch database, shipped beside the updates (docs/adopt.md). It is what a
/// database that hand-written scripts made is recognised by.
struct ReleaseSnapshots {
  struct Entry {
    std::string update_id;
    std::string checksum;  ///< the update's, when the snapshot was taken
    Snapshot schema;       ///< portable_snapshot(): no database name in it
  };
  Engine engine = Engine::postgres;
  std::string server_version;  ///< as the server reports it: "15.5 (Debian 15.5-0+deb12u1)"
  std::string server_release;  ///< server_release(): what snapshots are compared exactly within
  std::string installer_version;
  std::vector<Entry> entries;  ///< in update order
  std::string file;            ///< where it was read from
};

/// "installer-snapshots.postgres.json": the file's name in an update directory.
std::string release_snapshots_file_name(Engine engine);

/// Writes the file atomically (a temporary file renamed into place), with its own checksum.
void write_release_snapshots(const boost::filesystem::path& file, const ReleaseSnapshots& snapshots);

/// The first update directory's file for `engine` that exists, read and checked; none:
/// std::nullopt. A damaged or edited file is a UserError (exit 65) naming it.
std::optional<ReleaseSnapshots> read_release_snapshots(const std::vector<boost::filesystem::path>& dirs, Engine engine);

/// The server's version as it reports it.
std::string server_version(Database& db);
/// The release line a version belongs to ("PostgreSQL 15", "MariaDB 10.11", "MySQL 8.0"):
/// within one, the catalogs spell definitions alike.
std::string server_release(Engine engine, const std::string& version);

/// `snapshot` without what names the database it was read in (MariaDB's view bodies
/// qualify every column with it), so that a scratch database's and a customer's compare.
Snapshot portable_snapshot(Database& db, const Snapshot& snapshot);

/// A definition as it reads whatever server release wrote it: lower case, one space for
/// any run of blanks, and what the catalogs of some releases add or spell otherwise left
/// out (PostgreSQL: casts and parentheses; MariaDB: integer display widths, "()" after
/// current_timestamp, DEFAULT NULL, utf8mb3).
std::string release_neutral_definition(Engine engine, const std::string& definition);

/// How the schema now stands against a release's snapshots.
struct SnapshotMatch {
  /// The newest update whose snapshot the schema matches; null when none does.
  const ReleaseSnapshots::Entry* exact = nullptr;
  /// Otherwise the one it differs least from, and how.
  const ReleaseSnapshots::Entry* closest = nullptr;
  std::vector<ObjectDifference> differences;
  /// Definitions that differ only as two server releases spell them (only when the
  /// snapshots were taken on another release than the server's).
  size_t tolerated = 0;
  /// Entries past this update are not used: its content is not what was recorded.
  std::string stale_from;
  size_t usable = 0;  ///< how many entries were compared
};

/// Compares `now` (a portable_snapshot()) with each usable entry: those whose update and
/// every one before it are the catalog's first updates, with the same checksums.
SnapshotMatch match_release_snapshots(const ReleaseSnapshots& snapshots, const Catalog& catalog, const Snapshot& now,
                                      const std::string& now_release);

/// The entry of update `id`, when it is usable as match_release_snapshots() says.
SnapshotMatch match_at(const ReleaseSnapshots& snapshots, const Catalog& catalog, const std::string& id,
                       const Snapshot& now, const std::string& now_release);

}  // namespace installer
