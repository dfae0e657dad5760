#pragma once
#include <boost/filesystem/path.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace installer {

/// Looks a variable up (the environment; NAME_FILE for secrets). nullopt when unset.
using VariableLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment, with NAME_FILE read when NAME is unset. Values read from a
/// file are registered as secrets, so they can never be printed. A NAME_FILE that cannot
/// be read is an error naming it (UserError exit_config), never an empty value.
VariableLookup environment_variables();

/// Renders ${NAME} and ${NAME:-default}; $$ is a literal $. A ${NAME} without a default
/// whose variable is unset is an error naming `file` and the line; all such are reported.
/// Throws UserError(exit_config).
std::string render_template(const std::string& text, const VariableLookup& lookup, const std::string& file);

/// Renders every file below `templates` into the same relative path below `config_dir`
/// (a trailing ".tmpl" is dropped), each written to a temporary file and renamed into
/// place, with the template's permission bits. A template that cannot be read or
/// rendered, or a target that cannot be written (see ConfigDir), is an error
/// (UserError exit_config) listing them all, and then no file is written.
/// Returns the files written.
std::vector<boost::filesystem::path> render_templates(const boost::filesystem::path& templates,
                                                      const boost::filesystem::path& config_dir,
                                                      const VariableLookup& lookup);

/// The whole content of a file the installer reads (a template, a default, a hook, a
/// NAME_FILE), through symbolic links. nullopt when it cannot be read, with why in `error`
/// ("Permission denied", "is a directory"): an unreadable file is never an empty one.
std::optional<std::string> read_source_file(const boost::filesystem::path& path, std::string& error);

/// A file's text and permission bits: a template's or a default's, which the file written
/// from it keeps.
struct SourceFile {
  std::string text;
  unsigned mode = 0;
};
std::optional<SourceFile> read_source_file_and_mode(const boost::filesystem::path& path, std::string& error);

/// The files to read below `dir`, in name order, relative to it as they are spelled there:
/// links to files are files (a ConfigMap's files are links); links to directories are not
/// followed, and names starting with ".." (the ConfigMap's own ..data and its dated
/// folders) are left out. An entry that cannot be looked at (a broken link, a link loop)
/// goes into `problems`, naming it.
std::vector<boost::filesystem::path> list_source_files(const boost::filesystem::path& dir,
                                                       std::vector<std::string>& problems);

/// "heading", each problem indented below it, then the consequence: one message for all.
std::string list_problems(const std::string& heading, const std::vector<std::string>& problems,
                          const std::string& consequence);

/// The configuration directory as the installer writes it. It may belong to the
/// application's user, so nothing planted there may redirect a write by the installer:
/// below `root` every directory is opened without following links, a target or a
/// directory on the way that is a link is refused (naming it), and temporaries are
/// created afresh, never opened. `root` itself is the operator's choice and may be a link.
class ConfigDir {
 public:
  explicit ConfigDir(boost::filesystem::path root) : root_(std::move(root)) {}
  const boost::filesystem::path& root() const { return root_; }

  /// Why `relative` cannot be written, or "" when it can. Changes nothing.
  std::string check(const boost::filesystem::path& relative) const;

  using Existing = SourceFile;
  /// The file at `relative`, nullopt when there is none. Throws UserError(exit_config)
  /// when it is a link, or not a regular file, or cannot be read.
  std::optional<Existing> read(const boost::filesystem::path& relative) const;

  /// Writes `text` to `relative` through a new temporary file in the same directory and a
  /// rename, so readers see the old file or the new one, never half of one; the file gets
  /// exactly `mode` whatever the umask, and belongs to the installer's user. Directories on
  /// the way are created. Throws UserError(exit_config) naming what stands in the way.
  void write(const boost::filesystem::path& relative, const std::string& text, unsigned mode) const;

 private:
  boost::filesystem::path root_;
};

}  // namespace installer
