#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace installer {

/// The schema as the catalog describes it, summarised per kind of object (table,
/// column, index, …) as a count and a digest of the sorted descriptions. Kept per kind
/// so a failed verification can say which kinds of object differ.
class Fingerprint {
 public:
  struct Kind {
    long count = 0;
    std::string digest;
    bool operator==(const Kind& o) const { return count == o.count && digest == o.digest; }
  };

  void add_kind(const std::string& kind, long count, std::string digest);
  const std::map<std::string, Kind>& kinds() const { return kinds_; }

  /// SHA-256 over all kinds: the value compared and shown (first 12 characters).
  std::string digest() const;
  std::string short_digest() const { return digest().substr(0, 12); }

  /// Compact text stored in the journal; parse() reverses it.
  std::string serialize() const;
  static Fingerprint parse(std::string_view text);

  /// One line per kind that differs, e.g. "index: 4 before, 5 now".
  std::vector<std::string> differences_from(const Fingerprint& before) const;

  bool operator==(const Fingerprint& o) const { return kinds_ == o.kinds_; }
  bool operator!=(const Fingerprint& o) const { return !(*this == o); }

 private:
  std::map<std::string, Kind> kinds_;
};

}  // namespace installer
