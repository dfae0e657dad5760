#pragma once
#include "installer/catalog/problems.hpp"
#include "installer/util/open_directory.hpp"

#include <boost/filesystem/path.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace installer {

/// The files of one update, wherever they are: a directory, or a bundle read into memory
/// (catalog/bundle_reader.hpp). Names are relative to the update's folder.
class UpdateFiles {
 public:
  virtual ~UpdateFiles() = default;
  /// How problems name the update: its directory, or BUNDLE:FOLDER.
  virtual const boost::filesystem::path& root() const = 0;
  /// The update's folder name: its id and version when update.toml names none.
  virtual std::string folder() const = 0;
  /// The names at the top level, sorted; std::nullopt (a problem reported) when they
  /// cannot be listed.
  virtual std::optional<std::vector<std::string>> top_level(std::vector<Problem>& problems) const = 0;
  /// Whether `name` is there (following links).
  virtual bool has(const std::string& name) const = 0;
  /// Why `name` is a link that leads nowhere, or nothing.
  virtual std::optional<std::string> broken_link(const std::string& name) const = 0;
  /// The bytes of the file `name`, or std::nullopt with a problem naming it.
  virtual std::optional<std::string> read(const std::string& name, std::vector<Problem>& problems) const = 0;
  /// Every file at any depth, sorted: what a signature covers.
  virtual std::optional<std::vector<std::string>> all_files(std::vector<Problem>& problems) const = 0;
  boost::filesystem::path path_of(const std::string& name) const { return root() / name; }
};

/// An update's folder. Its top level is listed once, on first use, and its files are opened
/// relative to it; names with a '/' (what a signature covers) are read by path.
class DirectoryFiles : public UpdateFiles {
 public:
  explicit DirectoryFiles(boost::filesystem::path dir) : dir_(std::move(dir)) {}
  const boost::filesystem::path& root() const override { return dir_; }
  std::string folder() const override { return dir_.filename().string(); }
  std::optional<std::vector<std::string>> top_level(std::vector<Problem>& problems) const override;
  bool has(const std::string& name) const override;
  std::optional<std::string> broken_link(const std::string& name) const override;
  std::optional<std::string> read(const std::string& name, std::vector<Problem>& problems) const override;
  std::optional<std::vector<std::string>> all_files(std::vector<Problem>& problems) const override;

 private:
  /// The open folder, or nullptr (why in listing_error_) when it cannot be opened.
  const OpenDirectory* opened() const;
  /// Whether the folder is open and `name` is at its top level (no '/'): then the listing
  /// answers for it.
  bool listed(const std::string& name) const;

  boost::filesystem::path dir_;
  mutable std::optional<OpenDirectory> opened_;
  mutable bool tried_ = false;
  mutable std::string listing_error_;
};

/// An update read whole from a bundle: its files' bytes by relative path.
class MemoryFiles : public UpdateFiles {
 public:
  MemoryFiles(boost::filesystem::path root, std::string folder, std::map<std::string, std::string> files,
              std::set<std::string> directories)
      : root_(std::move(root)),
        folder_(std::move(folder)),
        files_(std::move(files)),
        directories_(std::move(directories)) {}
  const boost::filesystem::path& root() const override { return root_; }
  std::string folder() const override { return folder_; }
  std::optional<std::vector<std::string>> top_level(std::vector<Problem>& problems) const override;
  bool has(const std::string& name) const override { return files_.count(name) || directories_.count(name); }
  std::optional<std::string> broken_link(const std::string&) const override { return std::nullopt; }
  std::optional<std::string> read(const std::string& name, std::vector<Problem>& problems) const override;
  std::optional<std::vector<std::string>> all_files(std::vector<Problem>& problems) const override;
  /// Every file's bytes by relative path.
  const std::map<std::string, std::string>& files() const { return files_; }

 private:
  boost::filesystem::path root_;
  std::string folder_;
  std::map<std::string, std::string> files_;
  std::set<std::string> directories_;
};

/// Why `path` is a symbolic link that leads nowhere (to nothing, or round in a loop), or
/// nothing: such an update directory or update.toml is an error, never skipped quietly.
std::optional<std::string> broken_link(const boost::filesystem::path& path);

}  // namespace installer
