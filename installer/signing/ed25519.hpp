#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

namespace installer {

/// A signing or key-file failure, with the whole message for the operator.
class SigningError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An Ed25519 public key and its id: the first 16 hex digits of the SHA-256 of its 32 raw
/// bytes, which is what signatures, the journal and the logs name it by.
struct PublicKey {
  std::string id;
  std::string raw;
};

/// The 32-byte seed a private key is made from; wiped when it goes.
class SecretKey {
 public:
  SecretKey() = default;
  explicit SecretKey(std::string seed);
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  ~SecretKey();
  const std::string& seed() const { return seed_; }
  /// The matching public key, derived from the seed.
  PublicKey public_key() const;

 private:
  std::string seed_;
};

/// Overwrites the bytes before they are freed: key material must not linger in memory.
void wipe(std::string& bytes);

std::string key_id_of(std::string_view raw_public_key);

/// A fresh private key from the operating system's random source.
SecretKey generate_secret_key();

/// The 64-byte Ed25519 signature of `message`.
std::string sign_message(const SecretKey& key, std::string_view message);

bool signature_is_valid(const PublicKey& key, std::string_view message, std::string_view signature);

}  // namespace installer
