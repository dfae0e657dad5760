#pragma once
#include "installer/catalog/catalog.hpp"
#include "installer/catalog/problems.hpp"
#include "installer/catalog/update_files.hpp"
#include "installer/signing/update_signature.hpp"

#include <optional>
#include <string>
#include <vector>

namespace installer {

/// The update's files as its signature covers them: every file but update.sig, hashed.
std::optional<SignedContent> signed_content_of(const UpdateFiles& tree, const std::string& update_id,
                                               const std::string& version, std::vector<Problem>& problems);

/// The id of the trusted key whose signature covers the update as it is, or "" with
/// problems saying why not (unsigned, bad signature, unknown key, a file not covered).
std::string verified_signer(const UpdateFiles& tree, const Update& update, const TrustedKeys& trusted,
                            std::vector<Problem>& problems);

}  // namespace installer
