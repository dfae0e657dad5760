#include "installer/catalog/libarchive_api.hpp"

#include "installer/util/shared_library.hpp"

namespace installer {

const LibArchive& libarchive() {
  static const LibArchive api = [] {
    static const SharedLibrary library("libarchive.so.13", "libarchive13");
    LibArchive bound;
#define INSTALLER_LIBARCHIVE_BIND(name) library.bind(bound.name, #name);
    INSTALLER_LIBARCHIVE_FUNCTIONS(INSTALLER_LIBARCHIVE_BIND)
#undef INSTALLER_LIBARCHIVE_BIND
    return bound;
  }();
  return api;
}

}  // namespace installer
