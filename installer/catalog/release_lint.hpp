#pragma once
#include "installer/catalog/catalog.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace installer {

/// Something in an update that works but may hurt a customer: data lost on revert, a
/// down that breaks after a partial up, a lock held for the length of a table rewrite.
/// Read from the statements alone (installer plan, installer verify); a step's
/// `allow = ["CODE: reason"]` in update.toml accepts one.
struct ReleaseWarning {
  std::string code;  ///< e.g. "destructive-up"; the list is release_warning_codes()
  std::string update;
  std::string step;
  std::string file;
  int line = 0;
  std::string message;
  std::string allowed_because;  ///< the reason given in update.toml, when allowed

  bool allowed() const { return !allowed_because.empty(); }
  /// "path:line: warning[code]: message", the form editors and CI logs recognise.
  std::string to_string() const;
};

/// Every warning of every step of `catalog`, in update and step order (allowed ones
/// included, marked).
std::vector<ReleaseWarning> release_warnings(const Catalog& catalog, Engine engine);

bool is_release_warning_code(std::string_view code);
/// "call-in-down, destructive-up, ...": for messages.
std::string release_warning_codes();

}  // namespace installer
