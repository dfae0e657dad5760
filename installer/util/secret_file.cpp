#include "installer/util/secret_file.hpp"

#include "installer/util/error.hpp"
#include "installer/util/file_reading.hpp"

#include <fmt/format.h>

namespace installer {

std::string read_secret_file(const std::string& path, const std::string& variable) {
  std::string why;
  auto text = read_regular_file(path, kMaxSecretFileBytes, why);
  if (!text) throw UserError(exit_config, fmt::format("{}: cannot read {}: {}", variable, path, why));
  std::string value = std::move(*text);
  // The newline an editor or `echo` leaves is not part of the secret.
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

}  // namespace installer
