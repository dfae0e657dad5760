#pragma once
#include "installer/signing/ed25519.hpp"

#include <map>
#include <string>

namespace installer {

/// The public keys an image trusts, by id; empty: nothing needs a signature.
struct TrustedKeys {
  std::map<std::string, PublicKey> by_id;
  std::string source;  ///< the file or directory they came from, for messages
  bool empty() const { return by_id.empty(); }
};

/// One line: "installer-ed25519-public ID BASE64", what a .pub file holds.
std::string public_key_line(const PublicKey& key);

/// The public keys in FILE (one a line; blank lines and '#' comments allowed), or in every
/// *.pub file of DIR. Throws SigningError naming the file and line of anything else, or
/// when there is no key at all (a trust store that trusts nothing is a mistake).
TrustedKeys load_trusted_keys(const std::string& file_or_dir);

/// The private key in `path`, written by write_key_pair. Refused when others may read the
/// file: a signing key is as secret as a password. Messages never show its content.
SecretKey load_secret_key(const std::string& path);

/// PREFIX.key (mode 0600) and PREFIX.pub for a new key; refuses to overwrite either.
/// Returns the public key.
PublicKey write_key_pair(const std::string& prefix);

}  // namespace installer
