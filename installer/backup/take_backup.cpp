#include "installer/backup/take_backup.hpp"

#include "installer/util/log.hpp"
#include "installer/util/redact.hpp"
#include "installer/util/sha256.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

namespace fs = boost::filesystem;

namespace installer {
namespace {

using Clock = std::chrono::steady_clock;

/// Removes what it names when it goes, unless released: no partial dump and no password
/// file outlives a failure.
struct RemoveOnExit {
  std::string path;
  ~RemoveOnExit() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

std::string checksum_of(const fs::path& file) {
  std::string why;
  auto sha = sha256_of_file(file.string(), why);
  if (!sha) throw BackupError(fmt::format("cannot read {}: {}", file.string(), why));
  return *sha;
}

void write_synced(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) throw BackupError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
}

void sync_directory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

/// The final name, one not taken yet (two runs in the same second before the same update).
fs::path free_name(const fs::path& dir, const BackupRequest& request) {
  std::string name = backup_file_name(request.connection.database, std::time(nullptr), request.before);
  fs::path path = dir / name;
  boost::system::error_code ec;
  for (int n = 2; fs::exists(path, ec); ++n)
    path = dir / (name.substr(0, name.size() - 5) + fmt::format(".{}.dump", n));
  return path;
}

/// Logs the bytes written every progress_interval while the tool runs.
std::function<void()> progress_logger(int fd, const BackupRequest& request, const fs::path& target) {
  auto next = std::make_shared<Clock::time_point>(Clock::now() + request.progress_interval);
  return [fd, next, interval = request.progress_interval, target] {
    if (Clock::now() < *next) return;
    *next = Clock::now() + interval;
    struct stat st {};
    if (::fstat(fd, &st) == 0)
      log::info("backup: {} bytes written to {} so far", st.st_size, target.filename().string());
  };
}

}  // namespace

std::string BackupTaken::note() const { return fmt::format("{} ({} bytes, sha256 {})", path.string(), bytes, sha256); }

BackupTaken take_backup(const BackupRequest& request) {
  boost::system::error_code ec;
  fs::create_directories(request.dir, ec);
  if (!fs::is_directory(request.dir, ec))
    throw BackupError(fmt::format("the backup directory {} does not exist and cannot be made", request.dir.string()));
  fs::path target = free_name(request.dir, request);
  fs::path partial = request.dir / ("." + target.filename().string() + ".partial");
  std::string secret_file;
  ProgramRun run = dump_command(request.connection, request.server_major, secret_file);
  RemoveOnExit remove_secret{secret_file};
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw BackupError(fmt::format("cannot create {}: {}", partial.string(), std::strerror(errno)));
  RemoveOnExit remove_partial{partial.string()};
  run.stdout_fd = fd;
  run.withheld_env = request.withheld_env;
  run.stop = request.stop;
  run.grace = request.grace;
  run.every_tick = progress_logger(fd, request, target);
  log::info("backup: dumping database {} with {} into {}", request.connection.database, describe_dump_tool(run),
            target.string());
  ProgramResult result = run_program(run);
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (result.stopped_by) throw StoppedDuringBackup(result.stopped_by);
  if (result.code != 0)
    throw BackupError(fmt::format("{} exited with code {}: {}", describe_dump_tool(run), result.code,
                                  redact(result.output.empty() ? "(no message)" : result.output)));
  if (!synced) throw BackupError(fmt::format("cannot write {}: {}", partial.string(), std::strerror(errno)));
  BackupTaken taken{target, fs::file_size(partial, ec), checksum_of(partial)};
  if (std::rename(partial.c_str(), target.c_str()) != 0)
    throw BackupError(
        fmt::format("cannot rename {} to {}: {}", partial.string(), target.string(), std::strerror(errno)));
  remove_partial.path.clear();
  write_synced(checksum_path(target).string(), checksum_line(taken.sha256, target));
  sync_directory(request.dir);
  for (const auto& old : prune_backups(request.dir, request.connection.database, request.keep))
    log::info("backup: removed {} (keeping the newest {})", old.filename().string(), request.keep);
  log::info("backup: {} written ({} bytes, sha256 {})", target.string(), taken.bytes, taken.sha256.substr(0, 16));
  return taken;
}

}  // namespace installer
