#pragma once
#include "installer/backup/backup_store.hpp"
#include "installer/backup/dump_tool.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace installer {

struct BackupRequest {
  boost::filesystem::path dir;
  ConnectionSpec connection;
  int server_major = 0;
  std::string before;                     ///< the update it is taken before, or remove-ID
  int keep = 3;                           ///< backups of this database kept afterwards
  std::vector<std::string> withheld_env;  ///< the installer's own secrets, kept from the tool
  const std::atomic<int>* stop = nullptr;
  std::chrono::milliseconds grace{5000};
  std::chrono::milliseconds progress_interval{30000};
};

/// What was written: the journal's note reads "FILE (N bytes, sha256 X)".
struct BackupTaken {
  boost::filesystem::path path;
  std::uintmax_t bytes = 0;
  std::string sha256;
  std::string note() const;
};

/// Dumps the database into DIR/.NAME.partial, fsyncs it, renames it to NAME, writes
/// NAME.sha256, then prunes to `keep`. On any failure the partial file is removed and
/// BackupError says why (the tool's own message included); a stop signal ends the dump and
/// throws StoppedDuringBackup.
BackupTaken take_backup(const BackupRequest& request);

class StoppedDuringBackup : public BackupError {
 public:
  explicit StoppedDuringBackup(int signal) : BackupError("stopped by a signal during the backup"), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

}  // namespace installer
