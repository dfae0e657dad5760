#pragma once
#include <string>
#include <string_view>

namespace installer {

/// Secrets (passwords, whole URLs that carry one) are registered here as soon as
/// configuration is read; every line the program prints goes through redact(), so a
/// database or library message that echoes a secret back cannot leak it.
void register_secret(std::string_view secret);

/// Replaces every registered secret (and its percent-encoded form) with "***".
std::string redact(std::string_view text);

/// Forgets all secrets (tests only).
void clear_secrets_for_testing();

}  // namespace installer
