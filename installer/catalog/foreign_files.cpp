#include "installer/catalog/foreign_files.hpp"

#include "installer/catalog/script_text.hpp"
#include "installer/util/file_reading.hpp"
#include "installer/util/open_directory.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <algorithm>

namespace fs = boost::filesystem;

namespace installer {

std::vector<fs::path> files_in(const fs::path& dir, std::vector<Problem>& problems) {
  std::string why;
  auto listing = OpenDirectory::open(dir.string(), why);
  if (!listing) {
    problems.push_back({dir.string(), 0, fmt::format("cannot list: {}", why)});
    return {};
  }
  std::vector<fs::path> files;
  for (const auto& entry : listing->entries()) {
    if (entry.name.empty() || entry.name[0] == '.' || entry.kind == OpenDirectory::Kind::directory) continue;
    fs::path path = dir / entry.name;
    // Not only regular files: a FIFO, a device or a broken link named as a migration is
    // refused when read, never skipped as if the migration were not there. Only a link
    // (or an entry whose kind the file system does not report) needs a stat to say.
    boost::system::error_code status_error;
    if (!entry.may_be_link() || !fs::is_directory(path, status_error)) files.push_back(std::move(path));
  }
  return files;
}

std::optional<std::string> read_script_text(const fs::path& path, std::vector<Problem>& problems) {
  std::string why;
  auto text = read_regular_file(path.string(), kMaxScriptBytes, why);
  if (!text) problems.push_back({path.string(), 0, "cannot read: " + why});
  return text;
}

std::optional<ForeignScript> read_foreign_script(const fs::path& path, std::vector<Problem>& problems) {
  auto text = read_script_text(path, problems);
  if (!text) return std::nullopt;
  return ForeignScript{path, std::move(*text), std::nullopt};
}

std::string as_integer(const std::string& digits) {
  size_t first = digits.find_first_not_of('0');
  return first == std::string::npos ? "0" : digits.substr(first);
}

}  // namespace installer
