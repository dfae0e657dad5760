#include "installer/catalog/update_files.hpp"

#include "installer/catalog/script_text.hpp"
#include "installer/util/file_reading.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <algorithm>

namespace fs = boost::filesystem;

namespace installer {

std::optional<std::string> broken_link(const fs::path& path) {
  boost::system::error_code ec;
  if (fs::symlink_status(path, ec).type() != fs::symlink_file) return std::nullopt;
  fs::status(path, ec);
  if (!ec) return std::nullopt;
  std::string why = ec.message();
  std::string target = fs::read_symlink(path, ec).string();
  return fmt::format("is a symbolic link to '{}', which cannot be followed: {}", target, why);
}

std::optional<std::vector<std::string>> DirectoryFiles::top_level(std::vector<Problem>& problems) const {
  boost::system::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  if (ec) {
    problems.push_back({dir_.string(), 0, fmt::format("cannot list: {}", ec.message())});
    return std::nullopt;
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool DirectoryFiles::has(const std::string& name) const {
  boost::system::error_code ec;
  return fs::exists(dir_ / name, ec);
}

std::optional<std::string> DirectoryFiles::broken_link(const std::string& name) const {
  return installer::broken_link(dir_ / name);
}

/// One open, one fstat and (for the usual small script) one read: a long history has
/// thousands of files, and system calls are most of the time it takes to read them.
std::optional<std::string> DirectoryFiles::read(const std::string& name, std::vector<Problem>& problems) const {
  std::string why;
  fs::path path = dir_ / name;
  auto text = read_regular_file(path.string(), kMaxScriptBytes, why);
  if (!text) problems.push_back({path.string(), 0, "cannot read: " + why});
  return text;
}

std::optional<std::vector<std::string>> DirectoryFiles::all_files(std::vector<Problem>& problems) const {
  boost::system::error_code ec;
  std::vector<std::string> files;
  for (fs::recursive_directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (fs::is_directory(it->path(), ec)) continue;
    // Lexically: fs::relative would follow a link and name what it points at instead.
    files.push_back(it->path().lexically_relative(dir_).generic_string());
  }
  if (ec) {
    problems.push_back({dir_.string(), 0, fmt::format("cannot list: {}", ec.message())});
    return std::nullopt;
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::optional<std::vector<std::string>> MemoryFiles::top_level(std::vector<Problem>&) const {
  std::vector<std::string> names;
  for (const auto& [name, bytes] : files_)
    if (name.find('/') == std::string::npos) names.push_back(name);
  for (const auto& name : directories_)
    if (name.find('/') == std::string::npos) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::string> MemoryFiles::read(const std::string& name, std::vector<Problem>& problems) const {
  auto it = files_.find(name);
  if (it != files_.end()) return it->second;
  problems.push_back({path_of(name).string(), 0, directories_.count(name) ? "is a directory" : "not in the bundle"});
  return std::nullopt;
}

std::optional<std::vector<std::string>> MemoryFiles::all_files(std::vector<Problem>&) const {
  std::vector<std::string> names;
  for (const auto& [name, bytes] : files_) names.push_back(name);
  return names;
}

}  // namespace installer
