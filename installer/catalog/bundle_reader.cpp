#include "installer/catalog/bundle_reader.hpp"

#include "installer/catalog/libarchive_api.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>

namespace fs = boost::filesystem;

namespace installer {
namespace {

std::string size_text(size_t bytes) {
  return bytes % (1u << 20) == 0 ? fmt::format("{} MiB", bytes >> 20) : fmt::format("{} bytes", bytes);
}

/// An entry's name as messages show it: its control bytes would rewrite the terminal.
std::string printable(const std::string& name) {
  std::string out;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u != 0x7F ? std::string(1, c) : fmt::format("\\x{:02X}", u);
  }
  return out;
}

/// Why an entry's name is refused whatever the entry is, or nothing.
std::optional<std::string> name_problem(const std::string& name, const BundleLimits& limits) {
  if (name.size() > limits.max_path_bytes)
    return fmt::format("the name is {} bytes long; at most {} are allowed", name.size(), limits.max_path_bytes);
  if (name.front() == '/') return std::string("an absolute path");
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return std::string("a control character in the name");
  size_t start = 0;
  while (name.compare(start, 2, "./") == 0) start += 2;  // what "tar -C DIR ." writes
  while (start < name.size()) {
    size_t end = std::min(name.find('/', start), name.size());
    std::string part = name.substr(start, end - start);
    if (part == "..") return std::string("'..' in the path");
    if (part == ".") return std::string("a '.' part in the path");
    if (part.empty()) return std::string("an empty part ('//') in the path");
    start = end + 1;
  }
  return std::nullopt;
}

/// Why an entry of this type cannot be in a bundle, or nothing (files and folders).
std::optional<std::string> type_problem(archive_entry* entry) {
  if (libarchive().archive_entry_hardlink(entry))
    return fmt::format("a hard link (to '{}')", printable(libarchive().archive_entry_hardlink(entry)));
  switch (libarchive().archive_entry_filetype(entry)) {
    case AE_IFREG:
    case AE_IFDIR: return std::nullopt;
    case AE_IFLNK: {
      const char* target = libarchive().archive_entry_symlink(entry);
      return fmt::format("a symbolic link (to '{}')", printable(target ? target : ""));
    }
    case AE_IFCHR:
    case AE_IFBLK: return std::string("a device");
    case AE_IFIFO: return std::string("a FIFO");
    case AE_IFSOCK: return std::string("a socket");
    default: return std::string("an entry of unknown type");
  }
}

/// The bundle's entries as they are read, checked against each other.
class BundleContents {
 public:
  explicit BundleContents(const BundleLimits& limits) : limits_(limits) {}

  /// Files and folders inside the top folder by relative path ("" is the folder itself).
  std::optional<std::string> place(const std::string& top, const std::string& relative, bool directory) {
    if (relative.empty() && !directory)
      return std::string("a file beside the update folder: a bundle holds one folder, its files inside");
    if (top_.empty()) top_ = top;
    if (top != top_) return fmt::format("outside the top folder '{}': a bundle holds one update folder", top_);
    if (relative.empty()) {
      return seen_top_ ? std::optional<std::string>("a duplicate entry") : (seen_top_ = true, std::nullopt);
    }
    if (files_.count(relative) || (directory && !explicit_dirs_.insert(relative).second) ||
        (!directory && directories_.count(relative)))
      return std::string("a duplicate entry");
    for (size_t slash = relative.find('/'); slash != std::string::npos; slash = relative.find('/', slash + 1)) {
      std::string parent = relative.substr(0, slash);
      if (files_.count(parent)) return fmt::format("inside '{}', which is a file", printable(parent));
      directories_.insert(parent);
    }
    if (directory) directories_.insert(relative);
    return std::nullopt;
  }

  std::optional<std::string> add_file(const std::string& relative, archive* a) {
    std::string bytes;
    char buffer[64 * 1024];
    for (la_ssize_t n; (n = libarchive().archive_read_data(a, buffer, sizeof buffer)) != 0;) {
      if (n < 0) return fmt::format("cannot be read: {}", libarchive().archive_error_string(a));
      bytes.append(buffer, static_cast<size_t>(n));
      total_ += static_cast<size_t>(n);
      if (bytes.size() > limits_.max_file_bytes)
        return fmt::format("larger than {}, the most a file may have", size_text(limits_.max_file_bytes));
      if (total_ > limits_.max_total_bytes)
        return fmt::format("the files reach more than {} together, the most a bundle may hold",
                           size_text(limits_.max_total_bytes));
    }
    files_.emplace(relative, std::move(bytes));
    return std::nullopt;
  }

  const std::string& top() const { return top_; }
  MemoryFiles tree(const fs::path& file) {
    return MemoryFiles(fs::path(file.string() + ":" + top_), top_, std::move(files_), std::move(directories_));
  }

 private:
  const BundleLimits& limits_;
  std::string top_;
  bool seen_top_ = false;
  std::map<std::string, std::string> files_;
  std::set<std::string> directories_, explicit_dirs_;
  size_t total_ = 0;
};

struct ArchiveFree {
  void operator()(archive* a) const { libarchive().archive_read_free(a); }
};

/// The bundle opened without following it into a FIFO or a device that would never end.
int open_bundle_file(const fs::path& file, std::string& why) {
  int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    why = std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    why = "not a regular file";
  } else {
    return fd;
  }
  if (fd >= 0) ::close(fd);
  return -1;
}

/// One entry read into `contents`, or why it is refused.
std::optional<std::string> take_entry(archive* a, archive_entry* entry, const std::string& name,
                                      BundleContents& contents, const BundleLimits& limits) {
  if (name.empty()) return std::string("an entry without a name");
  if (auto problem = name_problem(name, limits)) return problem;
  if (auto problem = type_problem(entry)) return problem;
  std::string path = name;
  while (path.compare(0, 2, "./") == 0) path.erase(0, 2);
  while (!path.empty() && path.back() == '/') path.pop_back();
  bool directory = libarchive().archive_entry_filetype(entry) == AE_IFDIR;
  if (path.empty() || path == ".")
    return directory ? std::nullopt : std::optional<std::string>("a file without a name");
  size_t slash = path.find('/');
  std::string top = path.substr(0, slash), relative = slash == std::string::npos ? "" : path.substr(slash + 1);
  if (auto problem = contents.place(top, relative, directory)) return problem;
  return directory ? std::nullopt : contents.add_file(relative, a);
}

}  // namespace

std::optional<BundleCompression> bundle_compression(const std::string& name) {
  static const std::pair<const char*, BundleCompression> kEndings[] = {{".tar", BundleCompression::none},
                                                                       {".tar.gz", BundleCompression::gzip},
                                                                       {".tgz", BundleCompression::gzip},
                                                                       {".tar.zst", BundleCompression::zstd},
                                                                       {".tzst", BundleCompression::zstd}};
  for (const auto& [ending, compression] : kEndings) {
    size_t n = std::strlen(ending);
    if (name.size() > n && name.compare(name.size() - n, n, ending) == 0) return compression;
  }
  return std::nullopt;
}

std::optional<MemoryFiles> read_bundle(const fs::path& file, std::vector<Problem>& problems,
                                       const BundleLimits& limits) {
  auto fail = [&](const std::string& entry, const std::string& why) {
    problems.push_back({file.string(), 0,
                        entry.empty() ? "bundle refused: " + why
                                      : fmt::format("bundle refused: entry '{}': {}", printable(entry), why)});
    return std::nullopt;
  };
  std::string why;
  int fd = open_bundle_file(file, why);
  if (fd < 0) return fail("", "cannot read: " + why);
  std::unique_ptr<archive, ArchiveFree> a(libarchive().archive_read_new());
  libarchive().archive_read_support_format_tar(a.get());
  libarchive().archive_read_support_filter_gzip(a.get());
  libarchive().archive_read_support_filter_zstd(a.get());
  if (libarchive().archive_read_open_fd(a.get(), fd, 64 * 1024) != ARCHIVE_OK) {
    std::string error = libarchive().archive_error_string(a.get()) ? libarchive().archive_error_string(a.get())
                                                                   : "unknown error";
    ::close(fd);
    return fail("", "not a tar archive (plain, gzip or zstd): " + error);
  }
  BundleContents contents(limits);
  size_t entries = 0;
  archive_entry* entry = nullptr;
  for (int rc; (rc = libarchive().archive_read_next_header(a.get(), &entry)) != ARCHIVE_EOF;) {
    std::optional<std::string> problem;
    if (rc < ARCHIVE_WARN) problem = fmt::format("damaged: {}", libarchive().archive_error_string(a.get()));
    else if (++entries > limits.max_entries)
      problem = fmt::format("more than {} entries, the most a bundle may have", limits.max_entries);
    if (problem) {
      ::close(fd);
      return fail("", *problem);
    }
    const char* raw = libarchive().archive_entry_pathname(entry);
    std::string name = raw ? raw : "";
    if (auto refused = take_entry(a.get(), entry, name, contents, limits)) {
      ::close(fd);
      return fail(name, *refused);
    }
  }
  ::close(fd);
  if (contents.top().empty()) return fail("", "empty: it holds no update folder");
  return contents.tree(file);
}

}  // namespace installer
