#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace installer {

/// One thing wrong with the update files, pinned to a file and (when known) a line.
struct Problem {
  std::string file;
  int line = 0;
  std::string message;

  /// "path:line: message", the form editors and CI logs recognise.
  std::string to_string() const {
    return line > 0 ? file + ":" + std::to_string(line) + ": " + message : file + ": " + message;
  }
};

/// The update files are invalid. Carries every problem found, not just the first,
/// so a vendor fixes them in one pass. Nothing has touched the database when it is thrown.
class CatalogError : public std::runtime_error {
 public:
  explicit CatalogError(std::vector<Problem> problems)
      : std::runtime_error(format(problems)), problems_(std::move(problems)) {}
  const std::vector<Problem>& problems() const { return problems_; }

 private:
  static std::string format(const std::vector<Problem>& problems) {
    std::string out = problems.size() == 1 ? "invalid update files:"
                                           : "invalid update files (" + std::to_string(problems.size()) + " problems):";
    for (const auto& p : problems) out += "\n  " + p.to_string();
    return out;
  }
  std::vector<Problem> problems_;
};

}  // namespace installer
