#include "installer/mariadb/libmariadb_api.hpp"

#include "installer/util/shared_library.hpp"

namespace installer {

const LibMariadb& libmariadb() {
  static const LibMariadb api = [] {
    static const SharedLibrary library("libmariadb.so.3", "libmariadb3");
    LibMariadb bound;
#define INSTALLER_LIBMARIADB_BIND(name) library.bind(bound.name, #name);
    INSTALLER_LIBMARIADB_FUNCTIONS(INSTALLER_LIBMARIADB_BIND)
#undef INSTALLER_LIBMARIADB_BIND
    // mysql_library_init is a macro for mysql_server_init; once per process, before any
    // thread calls mysql_init.
    bound.mysql_server_init(0, nullptr, nullptr);
    return bound;
  }();
  return api;
}

}  // namespace installer
