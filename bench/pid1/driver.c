/* Measurement driver for bench/pid1.sh.
 *
 *   driver latency [options] -- SUPERVISOR [ARGS...]
 *   driver startup [options] -- SUPERVISOR [ARGS...]
 *
 * The supervisor's command line must end in running bench/pid1/child with the FIFO
 * given by -f. The driver starts the supervisor (by default as PID 1 of fresh PID and
 * mount namespaces, /proc remounted, as in a container), keeps the FIFO open for
 * reading and synchronises only on the child's records, with bounded waits:
 *
 * latency: waits for the child's "ready" record, then W warm-up and N measured signals,
 *   each: t0 = CLOCK_MONOTONIC; kill(supervisor, SIGUSR1); wait for the child's handler
 *   record (its CLOCK_MONOTONIC at handler entry). Latency = handler time - t0. The next
 *   signal goes out only after the previous one was acknowledged. Then it runs the
 *   optional hook (-H, `sh -c`, SUP_PID in its environment), lets the supervisor idle
 *   for -d ms, reads /proc/<supervisor>/status (and copies its smaps to -S FILE) and
 *   stops it with SIGTERM.
 * startup: W + N starts of: t0 = CLOCK_MONOTONIC in the forked process immediately
 *   before execve(supervisor); wait for the child's "ready" record, which carries the
 *   CLOCK_MONOTONIC at the child's main() entry. Startup = that - t0. Then SIGTERM and a
 *   bounded wait for the supervisor to exit.
 *
 * -R FILE appends every measured sample (microseconds, one a line, in measurement order)
 * to FILE, so several runs can be pooled. -e NAME=VALUE (repeatable) adds to the
 * environment the supervisor is started with.
 *
 * Prints one line of key=value pairs (times in microseconds, memory in kB) on stdout.
 * Exit status: 0 when it measured, 1 on a failed or timed-out measurement, 64 on usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "record.h"

static int opt_n = 200, opt_warm = -1, opt_pidns = 1, opt_dwell_ms = 2000, opt_timeout_ms = 10000;
static const char *opt_fifo, *opt_log = "/dev/null", *opt_hook, *opt_smaps, *opt_raw;
static char** sup_argv;
static int fifo_fd = -1, log_fd = -1;
static volatile uint64_t* shared_t0; /* written by the forked child right before execve */
static int pidns_used;

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("driver: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int64_t ms_left(uint64_t deadline) {
  uint64_t now = now_ns();
  return now >= deadline ? 0 : (int64_t)((deadline - now + 999999) / 1000000);
}

/* Next record from the FIFO within timeout_ms; 0 on success, -1 on timeout. */
static int read_record(struct record* r, int timeout_ms) {
  uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
  for (;;) {
    ssize_t n = read(fifo_fd, r, sizeof *r);
    if (n == (ssize_t)sizeof *r) return 0;
    if (n > 0) die("short record (%zd bytes) from the FIFO", n);
    if (n < 0 && errno != EAGAIN && errno != EINTR) die("read FIFO: %s", strerror(errno));
    int64_t left = ms_left(deadline);
    if (left <= 0) return -1;
    struct pollfd p = {fifo_fd, POLLIN, 0};
    if (poll(&p, 1, (int)left) < 0 && errno != EINTR) die("poll: %s", strerror(errno));
  }
}

/* A record of `kind` from the start with `token`, dropping stale ones; -1 on timeout. */
static int expect(uint64_t kind, uint64_t token, struct record* r, int timeout_ms) {
  uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
  for (;;) {
    int64_t left = ms_left(deadline);
    if (read_record(r, (int)left) != 0) return -1;
    if (r->kind == kind && r->token == token) return 0;
  }
}

/* In the new process: only system calls until execve (it may come from a raw clone). */
static void exec_supervisor(int in_pidns) {
  if (in_pidns) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) _exit(120);
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) _exit(121);
  }
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) {
    dup2(null_fd, 0);
    if (null_fd != 0) close(null_fd);
  }
  dup2(log_fd, 1);
  dup2(log_fd, 2);
  *shared_t0 = now_ns();
  execv(sup_argv[0], sup_argv);
  _exit(127);
}

static pid_t spawn(uint64_t token) {
  char text[32];
  snprintf(text, sizeof text, "%llu", (unsigned long long)token);
  setenv("BENCH_TOKEN", text, 1);
  *shared_t0 = 0;
  fflush(NULL);
  pid_t pid;
  if (opt_pidns) {
    /* fork() with CLONE_NEWPID | CLONE_NEWNS: the supervisor becomes PID 1. */
    pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWPID | CLONE_NEWNS | SIGCHLD), NULL, NULL, NULL, NULL);
    if (pid < 0 && (errno == EPERM || errno == EINVAL || errno == ENOSPC || errno == EUSERS)) {
      fprintf(stderr, "driver: cannot create a PID namespace (%s): the supervisor runs as an ordinary process\n",
              strerror(errno));
      opt_pidns = 0;
    } else {
      if (pid == 0) exec_supervisor(1);
      if (pid < 0) die("clone: %s", strerror(errno));
      pidns_used = 1;
      return pid;
    }
  }
  pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) exec_supervisor(0);
  return pid;
}

/* Waits up to timeout_ms for pid to exit; its wait status, or -1 on timeout. */
static int wait_exit(pid_t pid, int timeout_ms) {
  int status;
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd >= 0) {
    struct pollfd p = {pidfd, POLLIN, 0};
    int rc;
    do rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    close(pidfd);
    if (rc == 0) return -1;
    if (waitpid(pid, &status, 0) == pid) return status;
    return -1;
  }
  /* No pidfd (old kernel): poll waitpid every millisecond. */
  uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) return status;
    if (ms_left(deadline) <= 0) return -1;
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
}

/* SIGTERM, then a bounded wait; SIGKILL if it does not exit. Returns its wait status. */
static int stop(pid_t pid) {
  kill(pid, SIGTERM);
  int status = wait_exit(pid, opt_timeout_ms);
  if (status == -1) {
    fprintf(stderr, "driver: supervisor %d did not exit within %d ms of SIGTERM: SIGKILL\n", (int)pid, opt_timeout_ms);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  return status;
}

static void describe_exit(pid_t pid, int status, char* buf, size_t size) {
  if (WIFEXITED(status)) snprintf(buf, size, "supervisor %d exited with code %d", (int)pid, WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(buf, size, "supervisor %d was killed by signal %d", (int)pid, WTERMSIG(status));
  else snprintf(buf, size, "supervisor %d ended (status %d)", (int)pid, status);
}

/* The supervisor died before it was asked to: say how, and fail. */
static void check_alive(pid_t pid, const char* waiting_for) {
  int status;
  if (waitpid(pid, &status, WNOHANG) == pid) {
    char what[128];
    describe_exit(pid, status, what, sizeof what);
    die("%s while waiting for %s (see its log: %s)", what, waiting_for, opt_log);
  }
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static void print_stats(const char* prefix, double* v, int n) {
  if (opt_raw) {
    FILE* f = fopen(opt_raw, "a");
    if (!f) die("%s: %s", opt_raw, strerror(errno));
    for (int i = 0; i < n; ++i) fprintf(f, "%.3f\n", v[i]);
    if (fclose(f) != 0) die("%s: write failed", opt_raw);
  }
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  int rank = (99 * n + 99) / 100; /* nearest-rank 99th percentile: ceil(0.99 n) */
  if (rank < 1) rank = 1;
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += v[i];
  printf("%sn=%d %smedian_us=%.1f %sp99_us=%.1f %smin_us=%.1f %smax_us=%.1f %smean_us=%.1f ", prefix, n, prefix, median,
         prefix, v[rank - 1], prefix, v[0], prefix, v[n - 1], prefix, sum / n);
}

static void print_status_of(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE* f = fopen(path, "r");
  if (!f) die("%s: %s", path, strerror(errno));
  static const struct {
    const char* field;
    const char* key;
  } wanted[] = {
      {"VmHWM:", "hwm_kb"},    {"VmRSS:", "rss_kb"},      {"RssAnon:", "anon_kb"},
      {"RssFile:", "file_kb"}, {"RssShmem:", "shmem_kb"}, {"Threads:", "threads"},
  };
  while (fgets(line, sizeof line, f)) {
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; ++i) {
      size_t len = strlen(wanted[i].field);
      if (strncmp(line, wanted[i].field, len) == 0) printf("%s=%ld ", wanted[i].key, strtol(line + len, NULL, 10));
    }
  }
  fclose(f);
}

/* Copies /proc/<pid>/smaps to opt_smaps, for a per-mapping breakdown of the RSS. */
static void copy_smaps(pid_t pid) {
  char path[64], buf[65536];
  snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
  FILE* in = fopen(path, "r");
  if (!in) die("%s: %s", path, strerror(errno));
  FILE* out = fopen(opt_smaps, "w");
  if (!out) die("%s: %s", opt_smaps, strerror(errno));
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
  fclose(in);
  if (fclose(out) != 0) die("%s: write failed", opt_smaps);
}

static void run_hook(pid_t pid) {
  char text[32];
  snprintf(text, sizeof text, "%d", (int)pid);
  pid_t h = fork();
  if (h < 0) die("fork: %s", strerror(errno));
  if (h == 0) {
    setenv("SUP_PID", text, 1);
    execl("/bin/sh", "sh", "-c", opt_hook, (char*)NULL);
    _exit(127);
  }
  int status = wait_exit(h, 60000);
  if (status == -1) {
    kill(h, SIGKILL);
    waitpid(h, &status, 0);
    die("hook did not finish within 60 s");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("hook failed (status %d): %s", status, opt_hook);
}

static int latency(void) {
  int warm = opt_warm < 0 ? 10 : opt_warm;
  const uint64_t token = 1;
  struct record r;
  pid_t pid = spawn(token);
  if (expect(REC_READY, token, &r, opt_timeout_ms) != 0) {
    check_alive(pid, "the child to start");
    stop(pid);
    die("the child did not report ready within %d ms", opt_timeout_ms);
  }
  double* lat = calloc((size_t)opt_n, sizeof *lat);
  if (!lat) die("out of memory");
  for (int i = 0; i < warm + opt_n; ++i) {
    uint64_t t0 = now_ns();
    if (kill(pid, SIGUSR1) != 0) die("kill: %s", strerror(errno));
    if (expect(REC_SIGNAL, token, &r, opt_timeout_ms) != 0) {
      check_alive(pid, "a forwarded signal");
      stop(pid);
      die("signal %d was not acknowledged by the child within %d ms", i + 1, opt_timeout_ms);
    }
    if (i >= warm) lat[i - warm] = (double)(r.ns - t0) / 1000.0;
  }
  if (opt_hook) run_hook(pid);
  if (opt_dwell_ms > 0) {
    struct timespec d = {opt_dwell_ms / 1000, (long)(opt_dwell_ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) != 0 && errno == EINTR) {
    }
  }
  check_alive(pid, "the memory reading");
  print_stats("", lat, opt_n);
  print_status_of(pid);
  if (opt_smaps) copy_smaps(pid);
  int status = stop(pid);
  printf("pidns=%d exit=%d\n", pidns_used, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  free(lat);
  return 0;
}

static int startup(void) {
  int warm = opt_warm < 0 ? 2 : opt_warm;
  struct record r;
  double* t = calloc((size_t)opt_n, sizeof *t);
  if (!t) die("out of memory");
  int bad_exits = 0;
  for (int i = 0; i < warm + opt_n; ++i) {
    uint64_t token = 1000 + (uint64_t)i;
    pid_t pid = spawn(token);
    if (expect(REC_READY, token, &r, opt_timeout_ms) != 0) {
      check_alive(pid, "the child to start");
      stop(pid);
      die("start %d: the child did not report ready within %d ms", i + 1, opt_timeout_ms);
    }
    uint64_t t0 = *shared_t0;
    if (t0 == 0 || r.ns < t0) die("start %d: no exec timestamp", i + 1);
    if (i >= warm) t[i - warm] = (double)(r.ns - t0) / 1000.0;
    int status = stop(pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++bad_exits;
  }
  print_stats("", t, opt_n);
  printf("pidns=%d bad_exits=%d\n", pidns_used, bad_exits);
  free(t);
  return 0;
}

static void usage(void) {
  fputs("usage: driver latency|startup -f FIFO [-n N] [-w WARMUP] [-l LOG] [-P] [-d DWELL_MS] [-H HOOK] "
        "[-S SMAPS_COPY] [-R RAW_FILE] [-t TIMEOUT_MS] [-e NAME=VALUE]... -- SUPERVISOR [ARGS...]\n"
        "  -P  do not create PID/mount namespaces (the supervisor is not PID 1)\n",
        stderr);
  exit(64);
}

int main(int argc, char** argv) {
  if (argc < 2) usage();
  const char* mode = argv[1];
  int opt;
  optind = 2;
  while ((opt = getopt(argc, argv, "+n:w:f:l:Pd:H:S:R:t:e:")) != -1) {
    switch (opt) {
      case 'n': opt_n = atoi(optarg); break;
      case 'w': opt_warm = atoi(optarg); break;
      case 'f': opt_fifo = optarg; break;
      case 'l': opt_log = optarg; break;
      case 'P': opt_pidns = 0; break;
      case 'd': opt_dwell_ms = atoi(optarg); break;
      case 'H': opt_hook = optarg; break;
      case 'S': opt_smaps = optarg; break;
      case 'R': opt_raw = optarg; break;
      case 'e':
        if (!strchr(optarg, '=') || putenv(optarg) != 0) usage();
        break;
      case 't': opt_timeout_ms = atoi(optarg); break;
      default: usage();
    }
  }
  if (optind < argc && strcmp(argv[optind], "--") == 0) ++optind;
  if (!opt_fifo || optind >= argc || opt_n < 1 || opt_timeout_ms < 1) usage();
  sup_argv = argv + optind;
  if (sup_argv[0][0] != '/') die("give the supervisor as an absolute path: %s", sup_argv[0]);

  if (mkfifo(opt_fifo, 0600) != 0 && errno != EEXIST) die("mkfifo %s: %s", opt_fifo, strerror(errno));
  /* Read-write: the child's open for writing never blocks, and we never see EOF. */
  fifo_fd = open(opt_fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fifo_fd < 0) die("open %s: %s", opt_fifo, strerror(errno));
  log_fd = open(opt_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) die("open %s: %s", opt_log, strerror(errno));
  shared_t0 = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared_t0 == MAP_FAILED) die("mmap: %s", strerror(errno));
  signal(SIGPIPE, SIG_IGN);

  if (strcmp(mode, "latency") == 0) return latency();
  if (strcmp(mode, "startup") == 0) return startup();
  usage();
  return 64;
}
