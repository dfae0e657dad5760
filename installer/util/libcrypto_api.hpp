#pragma once
// OpenSSL's libcrypto, reached through the library opened on first use
// (util/shared_library.hpp) rather than linked: mapping and relocating libcrypto was about
// a third of `installer --version`'s time, and a start hashes nothing before it reads the
// updates. It stays Debian's shared library, so OpenSSL's security updates reach the
// installer without a rebuild; libpq, when loaded, shares the same copy.
#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace installer {

// clang-format off
#define INSTALLER_LIBCRYPTO_FUNCTIONS(X)   \
  X(EVP_DecodeBlock)                       \
  X(EVP_Digest)                            \
  X(EVP_DigestFinal_ex)                    \
  X(EVP_DigestInit_ex)                     \
  X(EVP_DigestSign)                        \
  X(EVP_DigestSignInit)                    \
  X(EVP_DigestUpdate)                      \
  X(EVP_DigestVerify)                      \
  X(EVP_DigestVerifyInit)                  \
  X(EVP_EncodeBlock)                       \
  X(EVP_MD_CTX_copy_ex)                    \
  X(EVP_MD_CTX_free)                       \
  X(EVP_MD_CTX_new)                        \
  X(EVP_MD_fetch)                          \
  X(EVP_PKEY_CTX_free)                     \
  X(EVP_PKEY_CTX_new_id)                   \
  X(EVP_PKEY_free)                         \
  X(EVP_PKEY_get_raw_private_key)          \
  X(EVP_PKEY_get_raw_public_key)           \
  X(EVP_PKEY_keygen)                       \
  X(EVP_PKEY_keygen_init)                  \
  X(EVP_PKEY_new_raw_private_key)          \
  X(EVP_PKEY_new_raw_public_key)           \
  X(EVP_sha256)                            \
  X(OPENSSL_cleanse)
// clang-format on

struct LibCrypto {
// A declarator cannot be parenthesised.
// NOLINTNEXTLINE(bugprone-macro-parentheses)
#define INSTALLER_LIBCRYPTO_SLOT(name) decltype(&::name) name = nullptr;
  INSTALLER_LIBCRYPTO_FUNCTIONS(INSTALLER_LIBCRYPTO_SLOT)
#undef INSTALLER_LIBCRYPTO_SLOT
};

/// libcrypto, opened and bound on the first call (thread-safe); throws a UserError naming
/// the package when the library is missing.
const LibCrypto& libcrypto();

}  // namespace installer
