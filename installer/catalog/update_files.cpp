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

const OpenDirectory* DirectoryFiles::opened() const {
  if (!tried_) {
    tried_ = true;
    opened_ = OpenDirectory::open(dir_.string(), listing_error_);
  }
  return opened_ ? &*opened_ : nullptr;
}

bool DirectoryFiles::listed(const std::string& name) const { return opened() && name.find('/') == std::string::npos; }

std::optional<std::vector<std::string>> DirectoryFiles::top_level(std::vector<Problem>& problems) const {
  const OpenDirectory* dir = opened();
  if (!dir) {
    problems.push_back({dir_.string(), 0, fmt::format("cannot list: {}", listing_error_)});
    return std::nullopt;
  }
  std::vector<std::string> names;
  names.reserve(dir->entries().size());
  for (const auto& entry : dir->entries()) names.push_back(entry.name);
  return names;
}

bool DirectoryFiles::has(const std::string& name) const {
  if (listed(name)) {
    const OpenDirectory::Entry* entry = opened_->find(name);
    return entry && opened_->leads_somewhere(*entry);
  }
  boost::system::error_code ec;
  return fs::exists(dir_ / name, ec);
}

std::optional<std::string> DirectoryFiles::broken_link(const std::string& name) const {
  if (listed(name)) {
    const OpenDirectory::Entry* entry = opened_->find(name);
    if (!entry || !entry->may_be_link()) return std::nullopt;
  }
  return installer::broken_link(dir_ / name);
}

/// One open (relative to the folder), one fstat and, for the usual small script, one read.
std::optional<std::string> DirectoryFiles::read(const std::string& name, std::vector<Problem>& problems) const {
  std::string why;
  std::optional<std::string> text;
  if (listed(name)) text = opened_->read_file(name, kMaxScriptBytes, why);
  else text = read_regular_file((dir_ / name).string(), kMaxScriptBytes, why);
  if (!text) problems.push_back({path_of(name).string(), 0, "cannot read: " + why});
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
