#include "installer/util/open_directory.hpp"

#include "installer/util/file_reading.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace installer {
namespace {

OpenDirectory::Kind kind_of(unsigned char type) {
  switch (type) {
    case DT_REG: return OpenDirectory::Kind::file;
    case DT_DIR: return OpenDirectory::Kind::directory;
    case DT_LNK: return OpenDirectory::Kind::link;
    case DT_UNKNOWN: return OpenDirectory::Kind::unknown;  // some file systems do not say
    default: return OpenDirectory::Kind::other;
  }
}

DIR* as_dir(void* dir) { return static_cast<DIR*>(dir); }

}  // namespace

std::optional<OpenDirectory> OpenDirectory::open(const std::string& path, std::string& why) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  OpenDirectory opened(dir);
  while (true) {
    errno = 0;  // readdir's end and its error both return nullptr; only errno tells them apart
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    opened.entries_.push_back({entry->d_name, kind_of(entry->d_type)});
  }
  if (errno != 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::sort(opened.entries_.begin(), opened.entries_.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return opened;
}

OpenDirectory::OpenDirectory(OpenDirectory&& other) noexcept
    : dir_(std::exchange(other.dir_, nullptr)), entries_(std::move(other.entries_)) {}

OpenDirectory& OpenDirectory::operator=(OpenDirectory&& other) noexcept {
  if (this != &other) {
    if (dir_ != nullptr) ::closedir(as_dir(dir_));
    dir_ = std::exchange(other.dir_, nullptr);
    entries_ = std::move(other.entries_);
  }
  return *this;
}

OpenDirectory::~OpenDirectory() {
  if (dir_ != nullptr) ::closedir(as_dir(dir_));
}

const OpenDirectory::Entry* OpenDirectory::find(const std::string& name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const Entry& e, const std::string& n) { return e.name < n; });
  return it != entries_.end() && it->name == name ? &*it : nullptr;
}

bool OpenDirectory::leads_somewhere(const Entry& entry) const {
  if (!entry.may_be_link()) return true;
  struct stat info {};
  return ::fstatat(::dirfd(as_dir(dir_)), entry.name.c_str(), &info, 0) == 0;
}

std::optional<std::string> OpenDirectory::read_file(const std::string& name, std::size_t max_bytes,
                                                    std::string& why) const {
  // Non-blocking: a FIFO put where a script should be must not hang the start.
  int fd = ::openat(::dirfd(as_dir(dir_)), name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  auto text = read_regular_file(fd, max_bytes, why);
  ::close(fd);
  return text;
}

}  // namespace installer
