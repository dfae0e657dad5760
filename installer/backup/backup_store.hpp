#pragma once
#include <boost/filesystem/path.hpp>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace installer {

/// One backup in the backup directory: DB-UTC-before-WHAT.dump and its .sha256 beside it.
struct BackupFile {
  boost::filesystem::path path;
  std::string database;  ///< as in the name (characters a file name cannot hold replaced)
  std::string taken_at;  ///< 20261206T223000Z
  std::string before;    ///< the update it was taken before, or remove-ID
  std::uintmax_t bytes = 0;
  std::string sha256;  ///< from the .sha256 file; "" when it is missing
};

/// The file name for a backup of `database` taken at `when` before `before`.
std::string backup_file_name(const std::string& database, std::time_t when, const std::string& before);

/// The backups of `database` in `dir`, oldest first ("" : of every database).
std::vector<BackupFile> list_backups(const boost::filesystem::path& dir, const std::string& database = "");

/// Removes all but the newest `keep` backups of `database` (and their .sha256 files);
/// returns the paths removed.
std::vector<boost::filesystem::path> prune_backups(const boost::filesystem::path& dir, const std::string& database,
                                                   int keep);

/// The .sha256 file of a backup, in sha256sum's format (`sha256sum -c` checks it).
boost::filesystem::path checksum_path(const boost::filesystem::path& backup);
std::string checksum_line(const std::string& sha256, const boost::filesystem::path& backup);

}  // namespace installer
