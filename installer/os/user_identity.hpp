#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace installer {

/// Who the application runs as after `--user NAME[:GROUP]`.
struct UserIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  ///< supplementary groups
  std::string name;
  std::string home;
};

/// Resolves NAME or NAME:GROUP (names or numeric ids) from the user database.
/// Throws UserError(exit_config) naming what does not exist.
UserIdentity resolve_user(const std::string& spec);

}  // namespace installer
