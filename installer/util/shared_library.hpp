#pragma once
// A library opened when it is first used, not when the program starts: a database client
// library when its engine is first used, so that an image that talks to one engine never maps
// the other's library and the dozen libraries it pulls in; libarchive when a bundle is read;
// libcrypto when something is first hashed. `installer --version` maps none of them.
#include <string>

namespace installer {

class SharedLibrary {
 public:
  /// Opens `soname`; a library that cannot be opened is a UserError (exit 78) naming it and
  /// the Debian package that provides it, and quoting the loader's reason.
  SharedLibrary(const char* soname, const char* package);
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  /// The function `name`, which must exist (a library too old for the installer lacks it).
  template <typename Function>
  void bind(Function*& slot, const char* name) const {
    slot = reinterpret_cast<Function*>(address_of(name));
  }

 private:
  void* address_of(const char* name) const;

  void* handle_ = nullptr;
  std::string soname_, package_;
};

}  // namespace installer
