#include "installer/signing/ed25519.hpp"

#include "installer/util/libcrypto_api.hpp"
#include "installer/util/sha256.hpp"

#include <memory>

namespace installer {
namespace {

constexpr size_t kSeedBytes = 32, kPublicBytes = 32, kSignatureBytes = 64;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { libcrypto().EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { libcrypto().EVP_MD_CTX_free(c); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { libcrypto().EVP_PKEY_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

Pkey private_pkey(const SecretKey& key) {
  if (key.seed().size() != kSeedBytes) throw SigningError("the private key is not 32 bytes long");
  Pkey pkey(libcrypto().EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes(key.seed()), kSeedBytes));
  if (!pkey) throw SigningError("OpenSSL cannot make an Ed25519 key of these bytes");
  return pkey;
}

}  // namespace

SecretKey::SecretKey(std::string seed) : seed_(std::move(seed)) {}
SecretKey::SecretKey(SecretKey&& other) noexcept : seed_(std::move(other.seed_)) { wipe(other.seed_); }
SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    wipe(seed_);
    seed_ = std::move(other.seed_);
    wipe(other.seed_);
  }
  return *this;
}
SecretKey::~SecretKey() { wipe(seed_); }

PublicKey SecretKey::public_key() const {
  const LibCrypto& crypto = libcrypto();
  Pkey pkey = private_pkey(*this);
  std::string raw(kPublicBytes, '\0');
  size_t length = raw.size();
  if (crypto.EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<unsigned char*>(raw.data()), &length) != 1 ||
      length != kPublicBytes)
    throw SigningError("OpenSSL cannot derive the public key");
  return {key_id_of(raw), raw};
}

void wipe(std::string& bytes) {
  libcrypto().OPENSSL_cleanse(bytes.data(), bytes.size());
  bytes.clear();
}

std::string key_id_of(std::string_view raw_public_key) { return sha256_hex(raw_public_key).substr(0, 16); }

SecretKey generate_secret_key() {
  const LibCrypto& crypto = libcrypto();
  EVP_PKEY* made = nullptr;
  PkeyCtx ctx(crypto.EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  if (!ctx || crypto.EVP_PKEY_keygen_init(ctx.get()) != 1 || crypto.EVP_PKEY_keygen(ctx.get(), &made) != 1)
    throw SigningError("OpenSSL cannot generate an Ed25519 key");
  Pkey pkey(made);
  std::string seed(kSeedBytes, '\0');
  size_t length = seed.size();
  if (crypto.EVP_PKEY_get_raw_private_key(pkey.get(), reinterpret_cast<unsigned char*>(seed.data()), &length) != 1 ||
      length != kSeedBytes)
    throw SigningError("OpenSSL cannot export the generated key");
  return SecretKey(std::move(seed));
}

std::string sign_message(const SecretKey& key, std::string_view message) {
  const LibCrypto& crypto = libcrypto();
  Pkey pkey = private_pkey(key);
  MdCtx ctx(crypto.EVP_MD_CTX_new());
  std::string signature(kSignatureBytes, '\0');
  size_t length = signature.size();
  // Ed25519 hashes the message itself: no digest is named.
  if (!ctx || crypto.EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      crypto.EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes(message),
                            message.size()) != 1 ||
      length != kSignatureBytes)
    throw SigningError("OpenSSL cannot sign");
  return signature;
}

bool signature_is_valid(const PublicKey& key, std::string_view message, std::string_view signature) {
  const LibCrypto& crypto = libcrypto();
  if (key.raw.size() != kPublicBytes || signature.size() != kSignatureBytes) return false;
  Pkey pkey(crypto.EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(key.raw), kPublicBytes));
  MdCtx ctx(crypto.EVP_MD_CTX_new());
  return pkey && ctx && crypto.EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
         crypto.EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(message), message.size()) == 1;
}

}  // namespace installer
