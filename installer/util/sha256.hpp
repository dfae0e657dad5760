#pragma once
#include <optional>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace installer {

/// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(std::string_view bytes);

/// SHA-256 over bytes given in pieces. A copy goes on from the same point: what lets a
/// digest over a long text keep its state after a prefix and hash again only what follows
/// (Snapshot::digest after a change to a few of its tables).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256& other);
  Sha256& operator=(const Sha256& other);
  void update(std::string_view bytes);
  /// Lower-case hex of the digest of everything given so far; the state stays as it was.
  std::string hex() const;

 private:
  evp_md_ctx_st* context_;
};

/// The same of a file's bytes, read in pieces (a dump may be larger than memory), or
/// std::nullopt with `why`.
std::optional<std::string> sha256_of_file(const std::string& path, std::string& why);

}  // namespace installer
