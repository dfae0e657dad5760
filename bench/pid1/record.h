/* What bench/pid1/child.c tells bench/pid1/driver.c through the FIFO. */
#ifndef BENCH_PID1_RECORD_H
#define BENCH_PID1_RECORD_H
#include <stdint.h>

enum { REC_READY = 1, REC_SIGNAL = 2 };

struct record {
  uint64_t kind;  /* REC_READY or REC_SIGNAL */
  uint64_t token; /* BENCH_TOKEN of the start that produced it */
  uint64_t ns;    /* CLOCK_MONOTONIC: main() entry (READY) or handler entry (SIGNAL) */
};

#endif
