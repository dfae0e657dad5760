#include "installer/util/sha256.hpp"

#include "installer/util/libcrypto_api.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace installer {
namespace {

std::string hex_of(const unsigned char* digest, unsigned int length) {
  static const char hex[] = "0123456789abcdef";
  std::string out(length * 2, '0');
  for (unsigned int i = 0; i < length; ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 0xf];
  }
  return out;
}

/// Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up again, under a lock, on
/// every digest, which cost more than hashing the small scripts of a long history.
const EVP_MD* sha256_algorithm() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = libcrypto().EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? fetched : libcrypto().EVP_sha256();
  }();
  return md;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (libcrypto().EVP_Digest(bytes.data(), bytes.size(), digest, &length, sha256_algorithm(), nullptr) != 1)
    throw std::runtime_error("SHA-256 computation failed");
  return hex_of(digest, length);
}

Sha256::Sha256() : context_(libcrypto().EVP_MD_CTX_new()) {
  if (!context_ || libcrypto().EVP_DigestInit_ex(context_, sha256_algorithm(), nullptr) != 1) {
    libcrypto().EVP_MD_CTX_free(context_);
    throw std::runtime_error("SHA-256 computation failed");
  }
}

Sha256::~Sha256() { libcrypto().EVP_MD_CTX_free(context_); }

Sha256::Sha256(const Sha256& other) : context_(libcrypto().EVP_MD_CTX_new()) {
  if (!context_ || libcrypto().EVP_MD_CTX_copy_ex(context_, other.context_) != 1) {
    libcrypto().EVP_MD_CTX_free(context_);
    throw std::runtime_error("SHA-256 computation failed");
  }
}

Sha256& Sha256::operator=(const Sha256& other) {
  if (this != &other && libcrypto().EVP_MD_CTX_copy_ex(context_, other.context_) != 1)
    throw std::runtime_error("SHA-256 computation failed");
  return *this;
}

void Sha256::update(std::string_view bytes) {
  if (libcrypto().EVP_DigestUpdate(context_, bytes.data(), bytes.size()) != 1)
    throw std::runtime_error("SHA-256 computation failed");
}

std::string Sha256::hex() const {
  Sha256 finished(*this);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (libcrypto().EVP_DigestFinal_ex(finished.context_, digest, &length) != 1)
    throw std::runtime_error("SHA-256 computation failed");
  return hex_of(digest, length);
}

std::optional<std::string> sha256_of_file(const std::string& path, std::string& why) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(libcrypto().EVP_MD_CTX_free)> ctx(libcrypto().EVP_MD_CTX_new(),
                                                                         libcrypto().EVP_MD_CTX_free);
  bool ok = ctx && libcrypto().EVP_DigestInit_ex(ctx.get(), sha256_algorithm(), nullptr) == 1;
  char buffer[1 << 16];
  ssize_t n = 0;
  while (ok && (n = ::read(fd, buffer, sizeof buffer)) > 0)
    ok = libcrypto().EVP_DigestUpdate(ctx.get(), buffer, static_cast<size_t>(n)) == 1;
  if (n < 0) why = std::strerror(errno);
  ::close(fd);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!ok || n < 0 || libcrypto().EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) {
    if (why.empty()) why = "SHA-256 computation failed";
    return std::nullopt;
  }
  return hex_of(digest, length);
}

}  // namespace installer
