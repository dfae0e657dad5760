#pragma once
// libarchive's functions, reached through the library opened on first use
// (util/shared_library.hpp): a start without bundles never maps libarchive and the
// libraries it pulls in (libxml2, ICU).
#include <archive.h>
#include <archive_entry.h>

namespace installer {

// clang-format off
#define INSTALLER_LIBARCHIVE_FUNCTIONS(X)     \
  X(archive_entry_filetype)                   \
  X(archive_entry_free)                       \
  X(archive_entry_hardlink)                   \
  X(archive_entry_new)                        \
  X(archive_entry_pathname)                   \
  X(archive_entry_set_filetype)               \
  X(archive_entry_set_gid)                    \
  X(archive_entry_set_gname)                  \
  X(archive_entry_set_mtime)                  \
  X(archive_entry_set_pathname)               \
  X(archive_entry_set_perm)                   \
  X(archive_entry_set_size)                   \
  X(archive_entry_set_uid)                    \
  X(archive_entry_set_uname)                  \
  X(archive_entry_symlink)                    \
  X(archive_error_string)                     \
  X(archive_read_data)                        \
  X(archive_read_free)                        \
  X(archive_read_new)                         \
  X(archive_read_next_header)                 \
  X(archive_read_open_fd)                     \
  X(archive_read_support_filter_gzip)         \
  X(archive_read_support_filter_zstd)         \
  X(archive_read_support_format_tar)          \
  X(archive_write_add_filter_gzip)            \
  X(archive_write_add_filter_zstd)            \
  X(archive_write_close)                      \
  X(archive_write_data)                       \
  X(archive_write_free)                       \
  X(archive_write_header)                     \
  X(archive_write_new)                        \
  X(archive_write_open_filename)              \
  X(archive_write_set_filter_option)          \
  X(archive_write_set_format_pax_restricted)
// clang-format on

struct LibArchive {
// A declarator cannot be parenthesised.
// NOLINTNEXTLINE(bugprone-macro-parentheses)
#define INSTALLER_LIBARCHIVE_SLOT(name) decltype(&::name) name = nullptr;
  INSTALLER_LIBARCHIVE_FUNCTIONS(INSTALLER_LIBARCHIVE_SLOT)
#undef INSTALLER_LIBARCHIVE_SLOT
};

/// libarchive, opened and bound on the first call (thread-safe); throws a UserError naming
/// the package when the library is missing.
const LibArchive& libarchive();

}  // namespace installer
