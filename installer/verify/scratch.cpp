#include "installer/verify/scratch.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <random>

namespace installer {

ScratchPool::ScratchPool(ScratchServer& server, std::string prefix) : server_(server), prefix_(std::move(prefix)) {}

ScratchPool::~ScratchPool() { drop_all(); }

std::unique_ptr<ScratchSession> ScratchPool::fresh() {
  std::string name = fmt::format("{}_{}", prefix_, ++created_);
  live_.emplace_back(nullptr, name);  // before create: a half-made database is dropped too
  auto session = server_.create(name);
  live_.back().first = session.get();
  return session;
}

void ScratchPool::discard(std::unique_ptr<ScratchSession>& session) {
  auto it = std::find_if(live_.begin(), live_.end(), [&](const auto& e) { return e.first == session.get(); });
  session.reset();  // the session first: a database is dropped once nobody is on it
  if (it == live_.end()) return;
  server_.drop(it->second);
  live_.erase(it);
}

void ScratchPool::drop_all() noexcept {
  for (auto& [session, name] : live_) server_.drop(name);
  live_.clear();
}

std::string scratch_prefix(const std::string& base) {
  std::random_device random;
  return fmt::format("{}_{}_{:06x}", base, static_cast<long>(getpid()), random() & 0xffffffu);
}

bool is_scratch_name(const std::string& name, const std::string& base) {
  if (name.size() <= base.size() + 1 || name.compare(0, base.size(), base) != 0 || name[base.size()] != '_')
    return false;
  return std::all_of(name.begin() + static_cast<long>(base.size()) + 1, name.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == '_'; });
}

}  // namespace installer
