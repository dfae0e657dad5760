#pragma once
#include <initializer_list>
#include <map>
#include <optional>
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

/// What schema checks (fingerprints, the exact undo's captures) leave out: the journal's
/// own objects, as the journal lays them out.
struct ExcludedObjects {
  std::string name;                 ///< the journal's, as records of what was captured show it
  std::string schema;               ///< a schema left out whole, where schemas live inside a database
  std::vector<std::string> tables;  ///< tables of the current database, by name, where they do not
};

/// A fingerprint from a catalog query's rows (kind, count, digest). Every one of `kinds`
/// is present, with count 0 when the query found none: an empty schema is a fingerprint
/// too, not "nothing recorded".
Fingerprint fingerprint_from_rows(std::initializer_list<const char*> kinds,
                                  const std::vector<std::vector<std::optional<std::string>>>& rows);

}  // namespace installer
