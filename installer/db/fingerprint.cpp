#include "installer/db/fingerprint.hpp"

#include "installer/util/sha256.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace installer {

void Fingerprint::add_kind(const std::string& kind, long count, std::string digest) {
  kinds_[kind] = Kind{count, std::move(digest)};
}

std::string Fingerprint::digest() const { return sha256_hex(serialize()); }

std::string Fingerprint::serialize() const {
  std::string out;
  for (const auto& [name, kind] : kinds_) {
    if (!out.empty()) out += ';';
    out += fmt::format("{}={}:{}", name, kind.count, kind.digest);
  }
  return out;
}

Fingerprint Fingerprint::parse(std::string_view text) {
  Fingerprint fp;
  while (!text.empty()) {
    auto semi = text.find(';');
    std::string_view item = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    auto eq = item.find('='), colon = item.find(':');
    if (eq == std::string_view::npos || colon == std::string_view::npos || colon < eq)
      throw std::invalid_argument(fmt::format("malformed fingerprint item '{}'", item));
    fp.add_kind(std::string(item.substr(0, eq)), std::stol(std::string(item.substr(eq + 1, colon - eq - 1))),
                std::string(item.substr(colon + 1)));
  }
  return fp;
}

std::vector<std::string> Fingerprint::differences_from(const Fingerprint& before) const {
  std::vector<std::string> out;
  std::map<std::string, std::pair<Kind, Kind>> all;
  for (const auto& [name, kind] : before.kinds_) all[name].first = kind;
  for (const auto& [name, kind] : kinds_) all[name].second = kind;
  for (const auto& [name, pair] : all) {
    const auto& [was, now] = pair;
    if (was == now) continue;
    if (was.count != now.count) out.push_back(fmt::format("{}: {} before, {} now", name, was.count, now.count));
    else out.push_back(fmt::format("{}: {} before and now, but their definitions differ", name, now.count));
  }
  return out;
}

Fingerprint fingerprint_from_rows(std::initializer_list<const char*> kinds,
                                  const std::vector<std::vector<std::optional<std::string>>>& rows) {
  Fingerprint fp;
  for (const char* kind : kinds) fp.add_kind(kind, 0, "");
  for (const auto& row : rows) fp.add_kind(row[0].value_or(""), std::stol(row[1].value_or("0")), row[2].value_or(""));
  return fp;
}

}  // namespace installer
