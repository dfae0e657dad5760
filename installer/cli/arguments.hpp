#pragma once
#include "installer/cli/settings.hpp"

#include <optional>
#include <string>
#include <vector>

namespace installer {

enum class Subcommand {
  migrate,
  status,
  plan,
  history,
  diff,
  verify,
  baseline,
  keygen,
  sign,
  bundle,
  backups,
  restore,
  version,
  run
};

/// The command line, parsed but not yet checked against itself or the settings.
struct Arguments {
  CliValues settings;  ///< the values of setting flags given
  std::optional<Subcommand> subcommand;
  std::string remove_id;  ///< --remove-update
  bool dry_run = false;
  bool json = false;
  std::string against;                       ///< diff --against UPDATE_ID
  std::vector<std::string> from_dirs;        ///< verify --from DIR: the previous release's updates
  std::string junit_file;                    ///< verify --junit FILE
  bool strict = false;                       ///< verify --strict: warnings fail
  bool record = false;                       ///< verify --record: write the schema snapshots
  std::string baseline_id;                   ///< baseline UPDATE_ID
  bool force = false;                        ///< baseline --force
  std::string update_dir;                    ///< sign DIR, bundle DIR
  std::string output;                        ///< keygen -o PREFIX, bundle -o FILE
  std::string key_file;                      ///< sign --key FILE, bundle --sign FILE
  std::string restore_file;                  ///< restore FILE
  bool yes = false;                          ///< restore --yes
  bool has_separator = false;                ///< "--" was given
  std::vector<std::string> after_separator;  ///< the application and its arguments
  std::vector<std::string> stray;            ///< words before "--", which belong after it
  std::string help;                          ///< for the operator who gave nothing to do
};

/// std::nullopt when the command line was answered already (--help, --version) or was
/// not understood; `exit_code` then says how to exit.
std::optional<Arguments> parse_arguments(int argc, char** argv, int& exit_code);

}  // namespace installer
