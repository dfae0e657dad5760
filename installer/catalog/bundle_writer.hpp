#pragma once
#include <boost/filesystem/path.hpp>

#include <map>
#include <stdexcept>
#include <string>

namespace installer {

class BundleWriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Writes `files` (path inside the folder -> bytes) as a bundle holding the one folder
/// `folder`, compressed as `out`'s name says (.tar, .tar.gz/.tgz, .tar.zst/.tzst). The same
/// files give the same bytes: entries sorted, times zero, owner root, modes 0644 and 0755.
/// Written beside `out` and renamed into place once on disk. Throws BundleWriteError.
void write_bundle(const std::string& folder, const std::map<std::string, std::string>& files,
                  const boost::filesystem::path& out);

}  // namespace installer
