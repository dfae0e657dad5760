#include "installer/util/file_reading.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace installer {
namespace {

std::string describe_limit(std::size_t bytes) {
  return bytes >= (1u << 20) ? fmt::format("{} MiB", bytes >> 20) : fmt::format("{} KiB", bytes >> 10);
}

/// Reads fd to its end, at most max_bytes + 1 bytes; false with errno's text on an error.
bool read_to_end(int fd, std::size_t expected, std::size_t max_bytes, std::string& text, std::string& why) {
  // One byte more than expected, so a file that grew is still read to its end.
  text.resize(std::min(expected, max_bytes) + 1);
  std::size_t used = 0;
  while (true) {
    if (used == text.size()) {
      if (used > max_bytes) break;
      text.resize(std::min(text.size() * 2, max_bytes + 1));
    }
    ssize_t n = ::read(fd, text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::strerror(errno);
      return false;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
    // A short read of a regular file is its end: the usual small file takes one read.
    if (used < text.size()) break;
  }
  text.resize(used);
  return true;
}

}  // namespace

std::optional<std::string> read_regular_file(int fd, std::size_t max_bytes, std::string& why) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    why = std::strerror(errno);
  } else if (S_ISDIR(info.st_mode)) {
    why = "it is a directory, not a file";
  } else if (!S_ISREG(info.st_mode)) {
    why = "it is not a regular file (a device, FIFO or socket)";
  } else if (static_cast<std::uintmax_t>(info.st_size) > max_bytes) {
    why = fmt::format("it is larger than {}, the limit for such a file", describe_limit(max_bytes));
  } else {
    std::string text;
    if (read_to_end(fd, static_cast<std::size_t>(info.st_size), max_bytes, text, why)) {
      if (text.size() <= max_bytes) return text;
      why = fmt::format("it grew larger than {} while read", describe_limit(max_bytes));
    }
  }
  return std::nullopt;
}

std::optional<std::string> read_regular_file(const std::string& path, std::size_t max_bytes, std::string& why) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  auto result = read_regular_file(fd, max_bytes, why);
  ::close(fd);
  return result;
}

}  // namespace installer
