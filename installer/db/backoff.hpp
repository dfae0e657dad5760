#pragma once
#include <algorithm>
#include <chrono>

namespace installer {

/// Pauses that double from `first` up to `longest`: how the installer waits on a server
/// that is busy or not up yet without hammering it, nor sleeping long once it is back.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds first, std::chrono::milliseconds longest) : next_(first), longest_(longest) {}

  /// The pause to take now; the one after is twice as long, up to the longest.
  std::chrono::milliseconds next() {
    auto pause = next_;
    next_ = std::min(next_ * 2, longest_);
    return pause;
  }

 private:
  std::chrono::milliseconds next_;
  std::chrono::milliseconds longest_;
};

}  // namespace installer
