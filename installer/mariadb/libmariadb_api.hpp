#pragma once
// libmariadb's functions, reached through the library opened on first use
// (util/shared_library.hpp): libmariadb() instead of linking the program against it.
#include <mysql.h>

namespace installer {

// clang-format off
#define INSTALLER_LIBMARIADB_FUNCTIONS(X)  \
  X(mysql_close)                           \
  X(mysql_errno)                           \
  X(mysql_error)                           \
  X(mysql_fetch_lengths)                   \
  X(mysql_fetch_row)                       \
  X(mysql_field_count)                     \
  X(mysql_free_result)                     \
  X(mysql_init)                            \
  X(mysql_next_result)                     \
  X(mysql_num_fields)                      \
  X(mysql_options)                         \
  X(mysql_options4)                        \
  X(mysql_real_connect)                    \
  X(mysql_real_escape_string)              \
  X(mysql_real_query)                      \
  X(mysql_server_init)                     \
  X(mysql_sqlstate)                        \
  X(mysql_store_result)                    \
  X(mysql_thread_id)
// clang-format on

struct LibMariadb {
// A declarator cannot be parenthesised.
// NOLINTNEXTLINE(bugprone-macro-parentheses)
#define INSTALLER_LIBMARIADB_SLOT(name) decltype(&::name) name = nullptr;
  INSTALLER_LIBMARIADB_FUNCTIONS(INSTALLER_LIBMARIADB_SLOT)
#undef INSTALLER_LIBMARIADB_SLOT
};

/// libmariadb, opened, bound and initialised (mysql_library_init) on the first call
/// (thread-safe); throws a UserError naming the package when the library is missing.
const LibMariadb& libmariadb();

}  // namespace installer
