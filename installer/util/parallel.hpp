#pragma once
#include <cstddef>
#include <functional>

namespace installer {

/// Calls work(i) for every i below `count`, on this thread and up to 7 more (no more than
/// the machine's cores, and each with at least `min_per_thread` items: below that a thread
/// costs more than it saves). Returns when every call has; then rethrows what the call of
/// the lowest index threw, if any threw.
void for_each_index_in_parallel(std::size_t count, std::size_t min_per_thread,
                                const std::function<void(std::size_t)>& work);

}  // namespace installer
