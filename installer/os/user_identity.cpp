#include "installer/os/user_identity.hpp"

#include "installer/util/error.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace installer {
namespace {

bool is_number(const std::string& s) {
  return !s.empty() && s.size() < 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

UserIdentity resolve_user(const std::string& spec) {
  std::string user = spec, group;
  if (auto colon = spec.find(':'); colon != std::string::npos) {
    user = spec.substr(0, colon);
    group = spec.substr(colon + 1);
  }
  if (user.empty()) throw UserError(exit_config, fmt::format("--user '{}': no user name", spec));
  struct passwd* pw = is_number(user) ? getpwuid(static_cast<uid_t>(std::strtoul(user.c_str(), nullptr, 10)))
                                      : getpwnam(user.c_str());
  UserIdentity id;
  if (pw) {
    id.uid = pw->pw_uid;
    id.gid = pw->pw_gid;
    id.name = pw->pw_name;
    id.home = pw->pw_dir ? pw->pw_dir : "/";
  } else if (is_number(user)) {
    // A numeric id without a passwd entry is common in containers (OpenShift's random uids).
    id.uid = static_cast<uid_t>(std::strtoul(user.c_str(), nullptr, 10));
    id.gid = id.uid;
    id.name = user;
    id.home = "/";
  } else {
    throw UserError(exit_config, fmt::format("--user '{}': there is no user '{}' in this image", spec, user));
  }
  if (!group.empty()) {
    struct group* gr = is_number(group) ? getgrgid(static_cast<gid_t>(std::strtoul(group.c_str(), nullptr, 10)))
                                        : getgrnam(group.c_str());
    if (gr) id.gid = gr->gr_gid;
    else if (is_number(group)) id.gid = static_cast<gid_t>(std::strtoul(group.c_str(), nullptr, 10));
    else throw UserError(exit_config, fmt::format("--user '{}': there is no group '{}' in this image", spec, group));
  }
  if (pw) {
    int count = 64;
    std::vector<gid_t> groups(static_cast<size_t>(count));
    if (getgrouplist(pw->pw_name, id.gid, groups.data(), &count) < 0) {
      groups.resize(static_cast<size_t>(count));
      getgrouplist(pw->pw_name, id.gid, groups.data(), &count);
    }
    groups.resize(static_cast<size_t>(count));
    id.groups = groups;
  } else {
    id.groups = {id.gid};
  }
  return id;
}

}  // namespace installer
