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
/// file are registered as secrets, so they can never be printed.
VariableLookup environment_variables();

/// Renders ${NAME} and ${NAME:-default}; $$ is a literal $. A ${NAME} without a default
/// whose variable is unset is an error naming `file` and the line; all such are reported.
/// Throws UserError(exit_config).
std::string render_template(const std::string& text, const VariableLookup& lookup, const std::string& file);

/// Renders every file below `templates` into the same relative path below `config_dir`
/// (a trailing ".tmpl" is dropped), each written to a temporary file and renamed into
/// place, with the template's permission bits. Returns the files written.
std::vector<boost::filesystem::path> render_templates(const boost::filesystem::path& templates,
                                                      const boost::filesystem::path& config_dir,
                                                      const VariableLookup& lookup);

/// Writes `text` to `path` through a temporary file in the same directory and a rename,
/// so readers see the old file or the new one, never half of one.
void write_file_atomically(const boost::filesystem::path& path, const std::string& text, unsigned mode);

}  // namespace installer
