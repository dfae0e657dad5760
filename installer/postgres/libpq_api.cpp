#include "installer/postgres/libpq_api.hpp"

#include "installer/util/shared_library.hpp"

namespace installer {

const LibPq& libpq() {
  static const LibPq api = [] {
    static const SharedLibrary library("libpq.so.5", "libpq5");
    LibPq bound;
#define INSTALLER_LIBPQ_BIND(name) library.bind(bound.name, #name);
    INSTALLER_LIBPQ_FUNCTIONS(INSTALLER_LIBPQ_BIND)
#undef INSTALLER_LIBPQ_BIND
    return bound;
  }();
  return api;
}

}  // namespace installer
