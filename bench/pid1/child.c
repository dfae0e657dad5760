/* The supervised application for bench/pid1.sh.
 *
 *   child FIFO
 *
 * Opens FIFO for writing, installs its handlers, writes a "ready" record carrying the
 * CLOCK_MONOTONIC time at which main() started, then waits forever. On each SIGUSR1
 * the handler reads CLOCK_MONOTONIC first thing and writes it as a "signal" record.
 * SIGTERM, SIGINT and SIGHUP end it with exit code 0. Records are 24 bytes (below
 * PIPE_BUF, so each write is atomic): kind, token (BENCH_TOKEN from the environment,
 * set by the driver per start, passed through by the supervisor) and nanoseconds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "record.h"

static int out_fd = -1;
static uint64_t token;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void emit(uint64_t kind, uint64_t ns) {
  struct record r = {kind, token, ns};
  ssize_t ignored = write(out_fd, &r, sizeof r);
  (void)ignored;
}

static void on_usr1(int sig) {
  (void)sig;
  uint64_t t = now_ns(); /* first thing: the moment the handler runs */
  int saved = errno;
  emit(REC_SIGNAL, t);
  errno = saved;
}

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

int main(int argc, char** argv) {
  uint64_t started = now_ns();
  if (argc != 2) return 64;
  const char* t = getenv("BENCH_TOKEN");
  token = t ? strtoull(t, NULL, 10) : 0;
  out_fd = open(argv[1], O_WRONLY | O_CLOEXEC);
  if (out_fd < 0) return 66;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  emit(REC_READY, started);
  for (;;) pause();
}
