#pragma once
#include "installer/catalog/problems.hpp"
#include "installer/catalog/update_files.hpp"

#include <boost/filesystem/path.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace installer {

/// What a bundle may hold (docs/update-format.md): a service pack is a few scripts, and
/// a reader that took anything would let one file fill the memory or the disk.
struct BundleLimits {
  std::size_t max_entries = 10000;
  std::size_t max_file_bytes = 64u << 20;    ///< one file, as for a script on disk
  std::size_t max_total_bytes = 256u << 20;  ///< all files together, uncompressed
  std::size_t max_path_bytes = 1024;
};

enum class BundleCompression { none, gzip, zstd };

/// How a bundle named `name` is compressed, by its ending (.tar, .tar.gz, .tgz, .tar.zst,
/// .tzst); nothing when it is not a bundle's name.
std::optional<BundleCompression> bundle_compression(const std::string& name);
inline bool is_bundle_name(const std::string& name) { return bundle_compression(name).has_value(); }

/// The update in the bundle at `file`, read whole into memory (never onto the disk).
/// Refused, with one problem naming the entry: absolute paths, "..", links, devices,
/// FIFOs, duplicate entries, entries outside the one top folder, the limits exceeded,
/// and anything that is not a tar archive (plain, gzip or zstd).
std::optional<MemoryFiles> read_bundle(const boost::filesystem::path& file, std::vector<Problem>& problems,
                                       const BundleLimits& limits = {});

}  // namespace installer
