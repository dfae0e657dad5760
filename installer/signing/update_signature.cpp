#include "installer/signing/update_signature.hpp"

#include "installer/util/base64.hpp"

#include <fmt/format.h>

namespace installer {
namespace {

constexpr const char* kHeader = "installer-update-signature 1";

/// update.sig parsed: what it says was signed, by which key, and the bytes signed.
struct SignatureFile {
  SignedContent content;
  std::string key_id;
  std::string signature;
  std::string signed_bytes;
};

std::string content_lines(const SignedContent& content) {
  std::string text = fmt::format("{}\nid {}\nversion {}\n", kHeader, content.update_id, content.version);
  for (const auto& [path, sha] : content.files) text += fmt::format("file {} {}\n", sha, path);
  return text;
}

bool starts_with(const std::string& line, const char* prefix, std::string& rest) {
  std::string p(prefix);
  if (line.compare(0, p.size(), p) != 0) return false;
  rest = line.substr(p.size());
  return true;
}

bool is_sha256_hex(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

/// Line by line, strictly: anything the writer does not write is an error naming the line.
std::optional<SignatureFile> parse(const std::string& text, std::vector<std::string>& problems) {
  SignatureFile file;
  size_t offset = 0, line_start = 0;
  int number = 0;
  std::string line, rest;
  auto next = [&] {
    ++number;  // the line expected, for the message when there is none
    if (offset >= text.size()) return false;
    line_start = offset;
    size_t end = text.find('\n', offset);
    if (end == std::string::npos) end = text.size();
    line = text.substr(offset, end - offset);
    offset = end + 1;
    return true;
  };
  auto fail = [&](const std::string& why) {
    problems.push_back(fmt::format("{} line {}: {}", kSignatureFileName, number, why));
    return std::nullopt;
  };
  if (!next() || line != kHeader) return fail(fmt::format("expected \"{}\"", kHeader));
  if (!next() || !starts_with(line, "id ", file.content.update_id)) return fail("expected \"id UPDATE_ID\"");
  if (!next() || !starts_with(line, "version ", file.content.version)) return fail("expected \"version VERSION\"");
  while (next() && starts_with(line, "file ", rest)) {
    std::string sha = rest.substr(0, rest.find(' '));
    if (!is_sha256_hex(sha) || rest.size() < 66) return fail("expected \"file SHA256 PATH\"");
    if (!file.content.files.emplace(rest.substr(65), sha).second) return fail("the file is listed twice");
  }
  if (!starts_with(line, "key ", file.key_id) || file.key_id.empty()) return fail("expected \"key KEY_ID\"");
  if (!next() || !starts_with(line, "signature ", rest)) return fail("expected \"signature BASE64\"");
  file.signed_bytes = text.substr(0, line_start);
  try {
    file.signature = base64_decode(rest);
  } catch (const std::invalid_argument&) {
    return fail("the signature is not valid base64");
  }
  if (next()) return fail("nothing may follow the signature");
  return file;
}

void compare_files(const SignedContent& signed_content, const SignedContent& actual,
                   std::vector<std::string>& problems) {
  for (const auto& [path, sha] : actual.files) {
    auto it = signed_content.files.find(path);
    if (it == signed_content.files.end())
      problems.push_back(fmt::format("{} is not covered by the signature (added after signing)", path));
    else if (it->second != sha) problems.push_back(fmt::format("{} changed after it was signed", path));
  }
  for (const auto& [path, sha] : signed_content.files)
    if (!actual.files.count(path)) problems.push_back(fmt::format("{} was signed but is missing", path));
}

}  // namespace

std::optional<std::string> unsignable_path(const std::string& path) {
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return fmt::format("its name has the control character \\x{:02X}", u);
  }
  return std::nullopt;
}

std::string signature_file_text(const SignedContent& content, const SecretKey& key) {
  for (const auto& [path, sha] : content.files)
    if (auto why = unsignable_path(path)) throw SigningError(fmt::format("cannot sign the file '{}': {}", path, *why));
  std::string text = content_lines(content) + fmt::format("key {}\n", key.public_key().id);
  return text + fmt::format("signature {}\n", base64_encode(sign_message(key, text)));
}

SignatureVerdict check_signature(const std::string& signature_text, const SignedContent& actual,
                                 const TrustedKeys& trusted) {
  SignatureVerdict verdict;
  auto file = parse(signature_text, verdict.problems);
  if (!file) return verdict;
  auto key = trusted.by_id.find(file->key_id);
  if (key == trusted.by_id.end()) {
    verdict.problems.push_back(fmt::format("signed by the unknown key {}: it is not among the trusted keys ({})",
                                           file->key_id, trusted.source));
    return verdict;
  }
  if (!signature_is_valid(key->second, file->signed_bytes, file->signature)) {
    verdict.problems.push_back(fmt::format("bad signature: {} was changed after signing, or was not made by key {}",
                                           kSignatureFileName, file->key_id));
    return verdict;
  }
  if (file->content.update_id != actual.update_id || file->content.version != actual.version)
    verdict.problems.push_back(fmt::format("signed as update '{}' version {}, but this is update '{}' version {}",
                                           file->content.update_id, file->content.version, actual.update_id,
                                           actual.version));
  compare_files(file->content, actual, verdict.problems);
  if (verdict.problems.empty()) verdict.key_id = file->key_id;
  return verdict;
}

}  // namespace installer
