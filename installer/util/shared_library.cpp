#include "installer/util/shared_library.hpp"

#include "installer/util/error.hpp"

#include <fmt/format.h>

#include <dlfcn.h>

namespace installer {

SharedLibrary::SharedLibrary(const char* soname, const char* package) : soname_(soname), package_(package) {
  // Kept open for the rest of the process (never dlclose'd): the library's own
  // threads and atexit handlers may outlive any one connection.
  handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!handle_) {
    const char* why = ::dlerror();
    throw UserError(exit_config, fmt::format("the library {} cannot be loaded ({}): install the "
                                             "package {} in the image",
                                             soname, why ? why : "no reason given", package));
  }
}

void* SharedLibrary::address_of(const char* name) const {
  ::dlerror();
  void* address = ::dlsym(handle_, name);
  if (!address)
    throw UserError(exit_config, fmt::format("the library {} has no function {}: it is older than "
                                             "the installer needs; upgrade the package {}",
                                             soname_, name, package_));
  return address;
}

}  // namespace installer
