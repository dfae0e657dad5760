#pragma once
// Tar archives with any entries at all, hostile ones included, for the bundle reader's
// tests: what a careless or malicious vendor's tool could write.
#include <archive.h>
#include <archive_entry.h>
#include <boost/filesystem/path.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace installer::testing {

struct RawEntry {
  std::string name;
  std::string bytes;         ///< a file's content
  unsigned type = AE_IFREG;  ///< AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFBLK, AE_IFIFO
  std::string link;          ///< a symbolic link's target
  std::string hardlink;      ///< set: a hard link to this entry
};

inline RawEntry folder(const std::string& name) { return {name, "", AE_IFDIR, "", ""}; }
inline RawEntry file(const std::string& name, const std::string& bytes) { return {name, bytes, AE_IFREG, "", ""}; }

/// `filter`: "" (plain tar), "gzip" or "zstd".
inline void make_tar(const boost::filesystem::path& out, const std::vector<RawEntry>& entries,
                     const std::string& filter = "") {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (filter == "gzip") archive_write_add_filter_gzip(a);
  if (filter == "zstd") archive_write_add_filter_zstd(a);
  if (archive_write_open_filename(a, out.c_str()) != ARCHIVE_OK) throw std::runtime_error(archive_error_string(a));
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, 0644);
    if (!e.link.empty()) archive_entry_set_symlink(entry, e.link.c_str());
    if (!e.hardlink.empty()) archive_entry_set_hardlink(entry, e.hardlink.c_str());
    if (e.type == AE_IFCHR || e.type == AE_IFBLK) archive_entry_set_rdev(entry, 0x0105);
    bool has_data = e.type == AE_IFREG && e.hardlink.empty();
    archive_entry_set_size(entry, has_data ? static_cast<la_int64_t>(e.bytes.size()) : 0);
    archive_write_header(a, entry);
    if (has_data && !e.bytes.empty()) archive_write_data(a, e.bytes.data(), e.bytes.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

}  // namespace installer::testing
