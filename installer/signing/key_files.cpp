#include "installer/signing/key_files.hpp"

#include "installer/util/base64.hpp"
#include "installer/util/file_reading.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

namespace fs = boost::filesystem;

namespace installer {
namespace {

constexpr const char* kPublicTag = "installer-ed25519-public";
constexpr const char* kSecretTag = "installer-ed25519-secret";

std::vector<std::string> words_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string read_key_file(const std::string& path, std::size_t limit) {
  std::string why;
  auto text = read_regular_file(path, limit, why);
  if (!text) throw SigningError(fmt::format("cannot read the key file {}: {}", path, why));
  return *text;
}

/// TAG ID BASE64 decoded to 32 bytes whose id is ID; throws naming `where`, without the
/// line itself (it may be a private key).
std::string decode_key(const std::vector<std::string>& words, const char* tag, const std::string& where) {
  if (words.size() < 3 || words[0] != tag)
    throw SigningError(fmt::format("{}: not a key line: expected \"{} ID BASE64\"", where, tag));
  std::string raw;
  try {
    raw = base64_decode(words[2]);
  } catch (const std::invalid_argument&) {
    throw SigningError(fmt::format("{}: the key is not valid base64", where));
  }
  if (raw.size() != 32) throw SigningError(fmt::format("{}: the key is {} bytes long, not 32", where, raw.size()));
  return raw;
}

void add_keys_of_file(const std::string& path, TrustedKeys& keys) {
  std::istringstream in(read_key_file(path, kMaxConfigFileBytes));
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    auto words = words_of(line);
    if (words.empty() || words[0][0] == '#') continue;
    std::string where = fmt::format("{} line {}", path, number);
    PublicKey key{"", decode_key(words, kPublicTag, where)};
    key.id = key_id_of(key.raw);
    if (words[1] != key.id)
      throw SigningError(fmt::format("{}: the key's id is {}, but the line says {}", where, key.id, words[1]));
    keys.by_id.emplace(key.id, key);
  }
}

void write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) throw SigningError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  // The umask may have taken bits away, never added them; fchmod makes the mode exact.
  bool ok = ::fchmod(fd, mode) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    throw SigningError(fmt::format("cannot write {}: {}", path, std::strerror(saved)));
  }
}

}  // namespace

std::string public_key_line(const PublicKey& key) {
  return fmt::format("{} {} {}\n", kPublicTag, key.id, base64_encode(key.raw));
}

TrustedKeys load_trusted_keys(const std::string& file_or_dir) {
  TrustedKeys keys;
  keys.source = file_or_dir;
  boost::system::error_code ec;
  if (fs::is_directory(file_or_dir, ec)) {
    std::vector<std::string> files;
    for (fs::directory_iterator it(file_or_dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".pub") files.push_back(it->path().string());
    if (ec) throw SigningError(fmt::format("cannot list the trusted keys directory {}: {}", file_or_dir, ec.message()));
    std::sort(files.begin(), files.end());
    for (const auto& f : files) add_keys_of_file(f, keys);
  } else {
    add_keys_of_file(file_or_dir, keys);
  }
  if (keys.empty())
    throw SigningError(fmt::format("{} holds no public key (lines \"{} ID BASE64\", or *.pub files in a directory)",
                                   file_or_dir, kPublicTag));
  return keys;
}

SecretKey load_secret_key(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw SigningError(fmt::format("cannot read the private key {}: {}", path, std::strerror(errno)));
  if ((st.st_mode & 077) != 0)
    throw SigningError(fmt::format("the private key {} may be read by others (mode {:04o}): chmod 600 {}", path,
                                   st.st_mode & 07777, path));
  std::string text = read_key_file(path, kMaxSecretFileBytes);
  auto words = words_of(text.substr(0, text.find('\n')));
  std::string where = path;
  SecretKey key(decode_key(words, kSecretTag, where));
  std::string said_id = words[1];
  wipe(text);
  for (auto& w : words) wipe(w);
  if (said_id != key.public_key().id)
    throw SigningError(
        fmt::format("{}: the key's id is {}, but the file says {}", where, key.public_key().id, said_id));
  return key;
}

PublicKey write_key_pair(const std::string& prefix) {
  std::string secret_path = prefix + ".key", public_path = prefix + ".pub";
  for (const auto& p : {secret_path, public_path})
    if (::access(p.c_str(), F_OK) == 0) throw SigningError(fmt::format("{} exists already: not overwritten", p));
  SecretKey key = generate_secret_key();
  PublicKey pub = key.public_key();
  std::string text = fmt::format("{} {} {}\n", kSecretTag, pub.id, base64_encode(key.seed()));
  write_new_file(secret_path, text, 0600);
  wipe(text);
  write_new_file(public_path, public_key_line(pub), 0644);
  return pub;
}

}  // namespace installer
