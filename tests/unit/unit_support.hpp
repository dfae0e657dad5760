#pragma once
// Small pieces more than one unit test file needs.
#include "installer/util/redact.hpp"

#include <string>

namespace installer::unit_support {

/// Secrets are process-wide: every test that registers some starts and ends with none.
struct SecretsReset {
  SecretsReset() { clear_secrets_for_testing(); }
  ~SecretsReset() { clear_secrets_for_testing(); }
};

inline bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace installer::unit_support
