#include "installer/catalog/update_signing.hpp"

#include "installer/util/sha256.hpp"

#include <fmt/format.h>

namespace installer {

std::optional<SignedContent> signed_content_of(const UpdateFiles& tree, const std::string& update_id,
                                               const std::string& version, std::vector<Problem>& problems) {
  auto files = tree.all_files(problems);
  if (!files) return std::nullopt;
  SignedContent content{update_id, version, {}};
  bool complete = true;
  for (const auto& name : *files) {
    if (name == kSignatureFileName) continue;
    auto bytes = tree.read(name, problems);
    if (bytes) content.files.emplace(name, sha256_hex(*bytes));
    else complete = false;
  }
  if (!complete) return std::nullopt;
  return content;
}

std::string verified_signer(const UpdateFiles& tree, const Update& update, const TrustedKeys& trusted,
                            std::vector<Problem>& problems) {
  std::string where = tree.path_of(kSignatureFileName).string();
  if (!tree.has(kSignatureFileName)) {
    problems.push_back({tree.root().string(), 0,
                        fmt::format("refused: not signed (no {}), and only signed updates are accepted: trusted keys "
                                    "are configured ({}). Sign it with installer sign or installer bundle --sign.",
                                    kSignatureFileName, trusted.source)});
    return "";
  }
  auto signature = tree.read(kSignatureFileName, problems);
  auto content = signed_content_of(tree, update.id, update.version, problems);
  if (!signature || !content) return "";
  SignatureVerdict verdict = check_signature(*signature, *content, trusted);
  for (const auto& why : verdict.problems) problems.push_back({where, 0, "refused: " + why});
  return verdict.key_id;
}

}  // namespace installer
