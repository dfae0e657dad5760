#pragma once
#include "installer/signing/ed25519.hpp"
#include "installer/signing/key_files.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace installer {

/// The file beside an update's scripts that holds its signature; it is not itself covered.
inline constexpr const char* kSignatureFileName = "update.sig";

/// What a signature covers: the update's id and version, and every file of it by path
/// relative to the update's folder ('/'-separated) with the SHA-256 of its bytes.
struct SignedContent {
  std::string update_id;
  std::string version;
  std::map<std::string, std::string> files;  ///< path -> hex SHA-256
};

/// Why `path` cannot be named in a signature file (a line end or another control
/// character), or nothing.
std::optional<std::string> unsignable_path(const std::string& path);

/// The text of update.sig: the content line by line, the key's id, and the Ed25519
/// signature over every byte before the signature line. Throws SigningError on a path
/// unsignable_path() refuses.
std::string signature_file_text(const SignedContent& content, const SecretKey& key);

/// What checking an update against its update.sig found.
struct SignatureVerdict {
  std::string key_id;                 ///< set when the signature is valid, by a trusted key
  std::vector<std::string> problems;  ///< why it is refused; empty when it is not
};

/// Checks `signature_text` (update.sig as read) against the update as it is: the signature
/// must be valid, by a trusted key, for this id and version, and cover exactly its files.
SignatureVerdict check_signature(const std::string& signature_text, const SignedContent& actual,
                                 const TrustedKeys& trusted);

}  // namespace installer
