#include "installer/catalog/bundle_writer.hpp"

#include "installer/catalog/libarchive_api.hpp"

#include "installer/catalog/bundle_reader.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace fs = boost::filesystem;

namespace installer {
namespace {

struct WriterFree {
  void operator()(archive* a) const { libarchive().archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { libarchive().archive_entry_free(e); }
};

void check(archive* a, int rc, const char* what) {
  if (rc < ARCHIVE_WARN)
    throw BundleWriteError(
        fmt::format("cannot {}: {}", what,
                    libarchive().archive_error_string(a) ? libarchive().archive_error_string(a) : "?"));
}

void set_compression(archive* a, const fs::path& out) {
  auto compression = bundle_compression(out.filename().string());
  if (!compression)
    throw BundleWriteError(
        fmt::format("{}: a bundle's name ends in .tar, .tar.gz, .tgz, .tar.zst or .tzst", out.string()));
  if (*compression == BundleCompression::gzip) {
    check(a, libarchive().archive_write_add_filter_gzip(a), "compress with gzip");
    // gzip stores the time of writing unless told not to: the same input would differ.
    check(a, libarchive().archive_write_set_filter_option(a, "gzip", "timestamp", nullptr), "leave the time out");
  } else if (*compression == BundleCompression::zstd) {
    check(a, libarchive().archive_write_add_filter_zstd(a), "compress with zstd");
  }
}

/// Every entry's name, folders with a trailing '/', in byte order: a folder comes before
/// what is in it, and the order never depends on the disk.
std::map<std::string, const std::string*> entries_of(const std::string& folder,
                                                     const std::map<std::string, std::string>& files) {
  std::map<std::string, const std::string*> entries{{folder + "/", nullptr}};
  for (const auto& [path, bytes] : files) {
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
      entries.emplace(folder + "/" + path.substr(0, slash + 1), nullptr);
    entries.emplace(folder + "/" + path, &bytes);
  }
  return entries;
}

void write_entry(archive* a, const std::string& name, const std::string* bytes) {
  std::unique_ptr<archive_entry, EntryFree> entry(libarchive().archive_entry_new());
  libarchive().archive_entry_set_pathname(entry.get(), name.c_str());
  libarchive().archive_entry_set_filetype(entry.get(), bytes ? AE_IFREG : AE_IFDIR);
  libarchive().archive_entry_set_perm(entry.get(), bytes ? 0644 : 0755);
  libarchive().archive_entry_set_size(entry.get(), bytes ? static_cast<la_int64_t>(bytes->size()) : 0);
  libarchive().archive_entry_set_mtime(entry.get(), 0, 0);
  libarchive().archive_entry_set_uid(entry.get(), 0);
  libarchive().archive_entry_set_gid(entry.get(), 0);
  libarchive().archive_entry_set_uname(entry.get(), "root");
  libarchive().archive_entry_set_gname(entry.get(), "root");
  check(a, libarchive().archive_write_header(a, entry.get()), "write an entry");
  if (bytes && !bytes->empty() &&
      libarchive().archive_write_data(a, bytes->data(), bytes->size()) != static_cast<la_ssize_t>(bytes->size()))
    check(a, ARCHIVE_FATAL, "write a file");
}

void sync_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  bool ok = fd >= 0 && ::fsync(fd) == 0;
  int saved = errno;
  if (fd >= 0) ::close(fd);
  if (!ok) throw BundleWriteError(fmt::format("cannot write {}: {}", path, std::strerror(saved)));
}

}  // namespace

void write_bundle(const std::string& folder, const std::map<std::string, std::string>& files, const fs::path& out) {
  std::unique_ptr<archive, WriterFree> a(libarchive().archive_write_new());
  check(a.get(), libarchive().archive_write_set_format_pax_restricted(a.get()), "choose the tar format");
  set_compression(a.get(), out);
  std::string temporary = out.string() + ".partial";
  check(a.get(), libarchive().archive_write_open_filename(a.get(), temporary.c_str()), ("create " + temporary).c_str());
  try {
    for (const auto& [name, bytes] : entries_of(folder, files)) write_entry(a.get(), name, bytes);
    check(a.get(), libarchive().archive_write_close(a.get()), "finish the bundle");
    sync_file(temporary);
    if (std::rename(temporary.c_str(), out.c_str()) != 0)
      throw BundleWriteError(fmt::format("cannot rename {} to {}: {}", temporary, out.string(), std::strerror(errno)));
  } catch (...) {
    std::remove(temporary.c_str());
    throw;
  }
}

}  // namespace installer
