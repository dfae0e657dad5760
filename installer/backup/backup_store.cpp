#include "installer/backup/backup_store.hpp"

#include "installer/util/file_reading.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <algorithm>
#include <cctype>

namespace fs = boost::filesystem;

namespace installer {
namespace {

constexpr const char* kBefore = "-before-";
constexpr const char* kExtension = ".dump";

/// The database's name as a file name holds it: letters, digits, '.', '_' and '-' kept.
std::string file_safe(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ? c : '_';
  return out.empty() ? "_" : out;
}

/// DB-20261206T223000Z-before-WHAT.dump parsed; false when the name is not a backup's.
bool parse_name(const std::string& name, BackupFile& file) {
  const size_t ext = std::string(kExtension).size();
  if (name.size() <= ext || name.compare(name.size() - ext, ext, kExtension) != 0) return false;
  size_t before = name.find(kBefore);
  if (before == std::string::npos || before < 18) return false;
  std::string stamp = name.substr(before - 16, 16);  // 20261206T223000Z
  if (stamp[8] != 'T' || stamp[15] != 'Z' || name[before - 17] != '-') return false;
  file.database = name.substr(0, before - 17);
  file.taken_at = stamp;
  file.before = name.substr(before + std::string(kBefore).size(),
                            name.size() - ext - before - std::string(kBefore).size());
  return true;
}

std::string read_checksum(const fs::path& backup) {
  std::string why;
  auto text = read_regular_file(checksum_path(backup).string(), 4096, why);
  if (!text || text->size() < 64) return "";
  return text->substr(0, 64);
}

}  // namespace

std::string backup_file_name(const std::string& database, std::time_t when, const std::string& before) {
  std::tm utc{};
  gmtime_r(&when, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  return fmt::format("{}-{}{}{}{}", file_safe(database), stamp, kBefore, before, kExtension);
}

fs::path checksum_path(const fs::path& backup) { return fs::path(backup.string() + ".sha256"); }

std::string checksum_line(const std::string& sha256, const fs::path& backup) {
  return fmt::format("{}  {}\n", sha256, backup.filename().string());
}

std::vector<BackupFile> list_backups(const fs::path& dir, const std::string& database) {
  std::vector<BackupFile> backups;
  boost::system::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    BackupFile file;
    if (!fs::is_regular_file(it->path(), ec) || !parse_name(it->path().filename().string(), file)) continue;
    if (!database.empty() && file.database != file_safe(database)) continue;
    file.path = it->path();
    file.bytes = fs::file_size(it->path(), ec);
    file.sha256 = read_checksum(it->path());
    backups.push_back(std::move(file));
  }
  std::sort(backups.begin(), backups.end(), [](const BackupFile& a, const BackupFile& b) {
    return a.taken_at != b.taken_at ? a.taken_at < b.taken_at : a.path < b.path;
  });
  return backups;
}

std::vector<fs::path> prune_backups(const fs::path& dir, const std::string& database, int keep) {
  std::vector<fs::path> removed;
  auto backups = list_backups(dir, database);
  if (keep < 1 || backups.size() <= static_cast<size_t>(keep)) return removed;
  boost::system::error_code ec;
  for (size_t i = 0; i + static_cast<size_t>(keep) < backups.size(); ++i) {
    fs::remove(backups[i].path, ec);
    fs::remove(checksum_path(backups[i].path), ec);
    removed.push_back(backups[i].path);
  }
  return removed;
}

}  // namespace installer
