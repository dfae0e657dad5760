#pragma once
#include <boost/filesystem/path.hpp>

#include <string>
#include <vector>

namespace installer {

/// One default configuration file compared with what is installed.
struct DefaultFile {
  enum class Outcome {
    installed,  ///< the file was missing: the default was installed
    upgraded,   ///< the operator had not changed it: replaced by the new default silently
    unchanged,  ///< the image's default did not change since it was installed
    drifted,    ///< customized by the operator AND a new default: FILE.new written beside it
    converged,  ///< the operator's file already equals the new default
  };
  boost::filesystem::path path;
  Outcome outcome;
};

/// Installs the image's default configuration files (`defaults`) into `config_dir`, once,
/// and keeps them current without ever overwriting what an operator changed. The SHA-256
/// of each default as installed is kept in config_dir/.installer-defaults; an operator's
/// file that differs from it is theirs. When `dry_run`, only reports.
std::vector<DefaultFile> sync_defaults(const boost::filesystem::path& defaults,
                                       const boost::filesystem::path& config_dir, bool dry_run = false);

const char* to_string(DefaultFile::Outcome outcome);

}  // namespace installer
