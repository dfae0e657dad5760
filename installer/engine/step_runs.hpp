#pragma once
#include <cstddef>

namespace installer {

/// Walks positions [0, count) in order, handing each longest run of consecutive positions
/// for which in_run(i) holds to run(begin, end) and each other position to single(i):
/// how the applier groups transactional steps, and the reverter transactional downs,
/// into one transaction each. Stops early when run or single returns false.
template <typename InRun, typename Run, typename Single>
void for_each_run(size_t count, InRun in_run, Run run, Single single) {
  size_t i = 0;
  while (i < count) {
    if (in_run(i)) {
      size_t end = i;
      while (end < count && in_run(end)) ++end;
      if (!run(i, end)) return;
      i = end;
    } else {
      if (!single(i)) return;
      ++i;
    }
  }
}

}  // namespace installer
