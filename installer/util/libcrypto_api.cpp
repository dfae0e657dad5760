#include "installer/util/libcrypto_api.hpp"

#include "installer/util/shared_library.hpp"

namespace installer {

const LibCrypto& libcrypto() {
  static const LibCrypto api = [] {
    static const SharedLibrary library("libcrypto.so.3", "libssl3");
    LibCrypto bound;
#define INSTALLER_LIBCRYPTO_BIND(name) library.bind(bound.name, #name);
    INSTALLER_LIBCRYPTO_FUNCTIONS(INSTALLER_LIBCRYPTO_BIND)
#undef INSTALLER_LIBCRYPTO_BIND
    return bound;
  }();
  return api;
}

}  // namespace installer
