#pragma once
#include <optional>
#include <string>
#include <vector>

namespace installer {

/// A directory opened once and listed once: its entries with the kind the kernel reports
/// (readdir's d_type), so telling folders, files and links apart costs no stat per entry,
/// and files in it are opened relative to it (openat), without walking the whole path
/// again. A long history is thousands of small files, and system calls are most of what
/// reading them costs.
class OpenDirectory {
 public:
  enum class Kind { file, directory, link, other, unknown };
  struct Entry {
    std::string name;
    Kind kind = Kind::unknown;
    /// A link, or an entry whose kind the file system does not report: only a stat says
    /// what it leads to.
    bool may_be_link() const { return kind == Kind::link || kind == Kind::unknown; }
  };

  /// The directory at `path` (a link to one is followed), or std::nullopt with errno's text
  /// in `why`.
  static std::optional<OpenDirectory> open(const std::string& path, std::string& why);

  OpenDirectory(OpenDirectory&& other) noexcept;
  OpenDirectory& operator=(OpenDirectory&& other) noexcept;
  OpenDirectory(const OpenDirectory&) = delete;
  OpenDirectory& operator=(const OpenDirectory&) = delete;
  ~OpenDirectory();

  /// Every entry but "." and "..", sorted by name.
  const std::vector<Entry>& entries() const { return entries_; }
  /// The entry called `name` (no '/' in it), or nullptr.
  const Entry* find(const std::string& name) const;
  /// Whether the entry is, or leads to, something that exists (a link is followed).
  bool leads_somewhere(const Entry& entry) const;
  /// The regular file `name` read whole (read_regular_file's checks and limits), or
  /// std::nullopt with the reason in `why`.
  std::optional<std::string> read_file(const std::string& name, std::size_t max_bytes, std::string& why) const;

 private:
  explicit OpenDirectory(void* dir) : dir_(dir) {}
  void* dir_ = nullptr;  ///< a DIR*, closed with the object
  std::vector<Entry> entries_;
};

}  // namespace installer
