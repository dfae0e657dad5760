// pid1_helper: the small programs the PID-1 scenarios (tests/pid1/run.sh) run as the
// supervised application, plus the client-side tools the runner needs without curl,
// python or jq (a fresh Debian 12 has none of them).
//
//   pid1_helper sigrec OUT [--ready FILE] [--die SIG] [--exit-on SIG] [--ignore SIG]
//                          [--finish-after MS] [--hold-until FILE] [--max-life MS]
//       Records every signal it receives as "NAME REALTIME_US SENDER_PID" lines in OUT.
//       --ready FILE     written (with our pid) once the signals are set up
//       --die SIG        after recording SIG, die of it (default disposition, re-raised)
//       --exit-on SIG    after recording SIG, exit 0
//       --ignore SIG     SIG_IGN for SIG (not recorded: it never arrives)
//       --finish-after MS  on TERM: record, work MS more, append "finished TIME", exit 0
//       --hold-until F   on TERM: record, wait (bounded) until F exists, exit 0
//       --max-life MS    exit 99 after MS (default 60000) so nothing outlives a broken run
//   pid1_helper orphans N DIR [sigrec options...]
//       Double-forks N grandchildren and abandons them; each waits (bounded) until it has
//       been re-parented, writes DIR/orphan.I with its new parent's pid, and exits. Then
//       behaves as `sigrec DIR/app.rec` with the options given (exit 0 on TERM by default).
//   pid1_helper fds OUT [sigrec options...]
//       Writes our open file descriptors ("FD -> TARGET") to OUT, then behaves as sigrec.
//   pid1_helper http HOST PORT PATH [TIMEOUT_MS]
//       GET PATH; prints the status code on the first line, then the body. Exit 0 on an
//       answer, 2 when the connection failed, 3 on a malformed answer.
//   pid1_helper watch HOST PORT OUT MAX_MS
//       Polls /readyz, /livez and /status as fast as it can until the endpoint goes away
//       (after it answered once) or MAX_MS passes; appends "readyz STATUS BODY",
//       "livez STATUS BODY" or "status PHASE last_error=0|1" to OUT each time an answer
//       differs from the previous one of that path.
//   pid1_helper trigger IN LOG PATTERN PID SIG DELAY_US STAMP
//       Copies lines from IN (a fifo) to LOG; after the first line containing PATTERN,
//       waits DELAY_US (busy, for precision), sends SIG to PID and writes the realtime
//       of the send to STAMP. Ends at end of input.
//   pid1_helper jsonl FILE
//       Every line must be a JSON object with string ts (ISO-8601 UTC), level and msg.
//   pid1_helper attempts ID  < `installer history --json`
//       One line per attempt of update ID: "STATE<TAB>its error, on one line".
//   pid1_helper jget PATH.TO.KEY  < JSON
//       Prints the value (strings raw); exit 1 when absent or not JSON.
//   pid1_helper waitfile FILE MS
//       Exit 0 once FILE exists, 1 when MS passed first.
//   pid1_helper now
//       Prints the realtime clock in microseconds.
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

long long now_us() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

long long mono_ms() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(long ms) {
  struct timespec ts {
    ms / 1000, (ms % 1000) * 1000000
  };
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

bool exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

/// Appends one line with a single write (O_APPEND), so concurrent writers never interleave.
void append_line(const std::string& path, const std::string& line) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) {
    std::perror(path.c_str());
    return;
  }
  std::string text = line + "\n";
  ssize_t ignored = write(fd, text.data(), text.size());
  (void)ignored;
  close(fd);
}

/// Writes the whole file at once: first to a temporary name, then renamed, so a reader
/// polling for it never sees it half-written.
void write_file(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp);
    out << content;
  }
  std::rename(tmp.c_str(), path.c_str());
}

const std::vector<std::pair<std::string, int>>& signal_table() {
  static const std::vector<std::pair<std::string, int>> table = {
      {"TERM", SIGTERM}, {"INT", SIGINT},     {"HUP", SIGHUP},   {"QUIT", SIGQUIT}, {"USR1", SIGUSR1},
      {"USR2", SIGUSR2}, {"WINCH", SIGWINCH}, {"CONT", SIGCONT}, {"TSTP", SIGTSTP}, {"ALRM", SIGALRM},
      {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},   {"URG", SIGURG},   {"PIPE", SIGPIPE}};
  return table;
}

int signal_number(std::string name) {
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (const auto& [n, s] : signal_table())
    if (n == name) return s;
  std::fprintf(stderr, "pid1_helper: unknown signal %s\n", name.c_str());
  std::exit(64);
}

std::string signal_label(int sig) {
  for (const auto& [n, s] : signal_table())
    if (s == sig) return n;
  return std::to_string(sig);
}

struct SigrecOptions {
  std::string out, ready, hold_until;
  std::set<int> die, exit_on, ignore;
  long finish_after = -1;
  long max_life = 60000;
};

SigrecOptions parse_sigrec(const std::string& out, const std::vector<std::string>& args) {
  SigrecOptions o;
  o.out = out;
  for (size_t i = 0; i < args.size(); ++i) {
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "pid1_helper: %s needs a value\n", args[i].c_str());
        std::exit(64);
      }
      return args[++i];
    };
    const std::string& a = args[i];
    if (a == "--ready") o.ready = value();
    else if (a == "--die") o.die.insert(signal_number(value()));
    else if (a == "--exit-on") o.exit_on.insert(signal_number(value()));
    else if (a == "--ignore") o.ignore.insert(signal_number(value()));
    else if (a == "--finish-after") o.finish_after = std::atol(value().c_str());
    else if (a == "--hold-until") o.hold_until = value();
    else if (a == "--max-life") o.max_life = std::atol(value().c_str());
    else {
      std::fprintf(stderr, "pid1_helper: unknown sigrec option %s\n", a.c_str());
      std::exit(64);
    }
  }
  return o;
}

int sigrec(const SigrecOptions& o) {
  sigset_t wanted;
  sigemptyset(&wanted);
  for (const auto& entry : signal_table()) {
    int sig = entry.second;
    struct sigaction sa {};
    sa.sa_handler = o.ignore.count(sig) ? SIG_IGN : SIG_DFL;
    sigaction(sig, &sa, nullptr);
    if (!o.ignore.count(sig)) sigaddset(&wanted, sig);
  }
  sigprocmask(SIG_BLOCK, &wanted, nullptr);
  if (!o.ready.empty()) write_file(o.ready, std::to_string(getpid()) + "\n");
  long long deadline = mono_ms() + o.max_life;
  while (true) {
    long long left = deadline - mono_ms();
    if (left <= 0) {
      append_line(o.out, "max-life " + std::to_string(now_us()));
      return 99;
    }
    struct timespec ts {
      static_cast<time_t>(left / 1000), static_cast<long>((left % 1000) * 1000000)
    };
    siginfo_t info{};
    int sig = sigtimedwait(&wanted, &info, &ts);
    if (sig < 0) continue;
    append_line(o.out, signal_label(sig) + " " + std::to_string(now_us()) + " " + std::to_string(info.si_pid));
    if (o.die.count(sig)) {
      struct sigaction sa {};
      sa.sa_handler = SIG_DFL;
      sigaction(sig, &sa, nullptr);
      sigset_t just;
      sigemptyset(&just);
      sigaddset(&just, sig);
      sigprocmask(SIG_UNBLOCK, &just, nullptr);
      raise(sig);
      return 98;  // not reached for terminating signals
    }
    if (o.exit_on.count(sig)) return 0;
    if (sig == SIGTERM && o.finish_after >= 0) {
      sleep_ms(o.finish_after);
      append_line(o.out, "finished " + std::to_string(now_us()));
      return 0;
    }
    if (sig == SIGTERM && !o.hold_until.empty()) {
      long long until = mono_ms() + 20000;
      while (!exists(o.hold_until) && mono_ms() < until) sleep_ms(10);
      append_line(o.out, "released " + std::to_string(now_us()));
      return 0;
    }
  }
}

std::vector<std::string> rest(int argc, char** argv, int from) {
  std::vector<std::string> out;
  for (int i = from; i < argc; ++i) out.emplace_back(argv[i]);
  return out;
}

int orphans(int n, const std::string& dir, std::vector<std::string> options) {
  for (int i = 0; i < n; ++i) {
    pid_t middle = fork();
    if (middle < 0) return 70;
    if (middle == 0) {
      pid_t original = getpid();  // read before the fork: the middle may be gone before we run
      pid_t grandchild = fork();
      if (grandchild == 0) {
        long long until = mono_ms() + 10000;
        // Wait until the middle process is gone and we have a new parent.
        while (getppid() == original && mono_ms() < until) sleep_ms(5);
        write_file(dir + "/orphan." + std::to_string(i), std::to_string(getppid()) + "\n");
        _exit(0);
      }
      _exit(grandchild < 0 ? 1 : 0);
    }
    int status = 0;
    waitpid(middle, &status, 0);
  }
  if (options.empty()) options = {"--exit-on", "TERM"};
  return sigrec(parse_sigrec(dir + "/app.rec", options));
}

int fds(const std::string& out, const std::vector<std::string>& options) {
  std::ostringstream list;
  DIR* d = opendir("/proc/self/fd");
  int own = d ? dirfd(d) : -1;
  while (d && true) {
    struct dirent* e = readdir(d);
    if (!e) break;
    if (e->d_name[0] == '.') continue;
    int fd = std::atoi(e->d_name);
    if (fd == own) continue;
    char target[512] = {};
    std::string link = std::string("/proc/self/fd/") + e->d_name;
    ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    list << fd << " -> " << (n > 0 ? std::string(target, static_cast<size_t>(n)) : "?") << "\n";
  }
  if (d) closedir(d);
  write_file(out, list.str());
  std::vector<std::string> o = options;
  if (o.empty()) o = {"--exit-on", "TERM"};
  return sigrec(parse_sigrec(out + ".rec", o));
}

/// One GET over a fresh connection. Returns 0 and fills status/body, 2 when the
/// connection failed, 3 when the answer is malformed or incomplete.
int http_get(const std::string& host, int port, const std::string& path, long timeout_ms, int& status,
             std::string& body) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 2;
  struct sockaddr_in addr {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    close(fd);
    return 2;
  }
  long long deadline = mono_ms() + timeout_ms;
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return 2;
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return 2;
  }
  std::string response;
  char buffer[4096];
  while (true) {
    long long left = deadline - mono_ms();
    if (left <= 0) break;
    struct pollfd p {
      fd, POLLIN, 0
    };
    int r = poll(&p, 1, static_cast<int>(left));
    if (r <= 0) break;
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  auto head_end = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return response.empty() ? 2 : 3;
  status = std::atoi(response.c_str() + 9);
  body = response.substr(head_end + 4);
  // Connection: close, so the body runs to the end; check Content-Length when present.
  std::string head = response.substr(0, head_end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto at = head.find("\r\ncontent-length:");
  if (at != std::string::npos && body.size() != std::strtoul(head.c_str() + at + 17, nullptr, 10)) return 3;
  return 0;
}

int http(const std::string& host, int port, const std::string& path, long timeout_ms) {
  int status = 0;
  std::string body;
  int r = http_get(host, port, path, timeout_ms, status, body);
  if (r != 0) return r;
  std::cout << status << "\n" << body;
  return 0;
}

std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

int watch(const std::string& host, int port, const std::string& out, long max_ms) {
  long long deadline = mono_ms() + max_ms;
  bool answered = false;
  std::string last[3];
  const char* paths[3] = {"/readyz", "/livez", "/status"};
  while (mono_ms() < deadline) {
    bool any = false;
    for (int i = 0; i < 3; ++i) {
      int status = 0;
      std::string body;
      int r = http_get(host, port, paths[i], 1000, status, body);
      if (r != 0) continue;
      any = true;
      std::string line;
      if (i < 2) {
        line = std::string(paths[i] + 1) + " " + std::to_string(status) + " " + one_line(body);
      } else {
        // "status PHASE last_error=0|1": the phase and whether the failure is described.
        try {
          auto j = nlohmann::json::parse(body);
          line = "status " + j.value("phase", std::string("?")) +
                 " last_error=" + (j.contains("last_error") && !j["last_error"].get<std::string>().empty() ? "1" : "0");
        } catch (const std::exception&) {
          line = "status unparsable " + one_line(body);
        }
      }
      if (line != last[i]) {
        append_line(out, line);
        last[i] = line;
      }
    }
    if (any) answered = true;
    else if (answered) return 0;  // the endpoint went away: the installer is exiting
    else sleep_ms(5);
  }
  return answered ? 0 : 1;
}

/// "2026-11-22T03:00:45.943Z"
bool iso_utc_millis(const std::string& ts) {
  static const char form[] = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (ts.size() != sizeof form - 1) return false;
  for (size_t i = 0; i < ts.size(); ++i) {
    if (form[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(ts[i])) : ts[i] != form[i]) return false;
  }
  return true;
}

int jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    return 1;
  }

  std::string line;
  int lines = 0, bad = 0;
  while (std::getline(in, line)) {
    ++lines;
    std::string why;
    try {
      auto j = nlohmann::json::parse(line);
      if (!j.is_object()) why = "not an object";
      else {
        for (const char* key : {"ts", "level", "msg"})
          if (!j.contains(key) || !j[key].is_string()) why += std::string(why.empty() ? "" : ", ") + "no string " + key;
        if (why.empty() && !iso_utc_millis(j["ts"].get<std::string>()))
          why = "ts is not ISO-8601 UTC with milliseconds";
        if (why.empty()) {
          std::string level = j["level"].get<std::string>();
          if (level != "debug" && level != "info" && level != "warn" && level != "error")
            why = "unknown level " + level;
        }
      }
    } catch (const std::exception& e) {
      why = std::string("not JSON: ") + e.what();
    }
    if (!why.empty()) {
      ++bad;
      std::cerr << "  line " << lines << " (" << why << "): " << line << "\n";
    }
  }
  if (lines == 0) {
    std::cerr << "  no lines at all\n";
    return 1;
  }
  std::cout << lines << " lines, " << bad << " bad\n";
  return bad == 0 ? 0 : 1;
}

int jget(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(std::cin);
  } catch (const std::exception&) {
    return 1;
  }
  const nlohmann::json* node = &j;
  std::stringstream keys(path);
  std::string key;
  while (std::getline(keys, key, '.')) {
    if (node->is_object() && node->contains(key)) node = &(*node)[key];
    else if (node->is_array() && !key.empty() && key.find_first_not_of("0123456789") == std::string::npos &&
             std::stoul(key) < node->size())
      node = &(*node)[std::stoul(key)];
    else return 1;
  }
  if (node->is_string()) std::cout << node->get<std::string>() << "\n";
  else std::cout << node->dump() << "\n";
  return 0;
}

/// The attempts of one update in `installer history --json`: "STATE<TAB>ERROR" (one line).
int attempts(const std::string& id) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(std::cin);
  } catch (const std::exception&) {
    return 1;
  }
  if (!j.is_array()) return 1;
  for (const auto& a : j) {
    if (a.value("id", std::string()) != id) continue;
    std::string error = a.value("error", std::string());
    std::cout << a.value("state", std::string("?")) << "\t" << one_line(error) << "\n";
  }
  return 0;
}

int trigger(const std::string& in_path, const std::string& log_path, const std::string& pattern, pid_t pid, int sig,
            long delay_us, const std::string& stamp) {
  std::ifstream in(in_path);
  std::ofstream log(log_path, std::ios::app);
  std::string line;
  bool sent = false;
  while (std::getline(in, line)) {
    log << line << "\n" << std::flush;
    if (sent || line.find(pattern) == std::string::npos) continue;
    sent = true;
    long long until = now_us() + delay_us;
    while (now_us() < until) {
    }
    long long at = now_us();
    kill(pid, sig);
    write_file(stamp, std::to_string(at) + "\n");
  }
  return sent ? 0 : 1;
}

int usage() {
  std::fprintf(
      stderr,
      "usage: pid1_helper sigrec|orphans|fds|http|watch|trigger|jsonl|jget|attempts|waitfile|now ... (see helper.cpp)\n");
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string cmd = argv[1];
  if (cmd == "sigrec" && argc >= 3) return sigrec(parse_sigrec(argv[2], rest(argc, argv, 3)));
  if (cmd == "orphans" && argc >= 4) return orphans(std::atoi(argv[2]), argv[3], rest(argc, argv, 4));
  if (cmd == "fds" && argc >= 3) return fds(argv[2], rest(argc, argv, 3));
  if (cmd == "http" && argc >= 5)
    return http(argv[2], std::atoi(argv[3]), argv[4], argc >= 6 ? std::atol(argv[5]) : 2000);
  if (cmd == "watch" && argc >= 6) return watch(argv[2], std::atoi(argv[3]), argv[4], std::atol(argv[5]));
  if (cmd == "jsonl" && argc >= 3) return jsonl(argv[2]);
  if (cmd == "trigger" && argc >= 9)
    return trigger(argv[2], argv[3], argv[4], static_cast<pid_t>(std::atol(argv[5])), signal_number(argv[6]),
                   std::atol(argv[7]), argv[8]);
  if (cmd == "jget" && argc >= 3) return jget(argv[2]);
  if (cmd == "attempts" && argc >= 3) return attempts(argv[2]);
  if (cmd == "waitfile" && argc >= 4) {
    long long until = mono_ms() + std::atol(argv[3]);
    while (!exists(argv[2])) {
      if (mono_ms() >= until) return 1;
      sleep_ms(5);
    }
    return 0;
  }
  if (cmd == "now") {
    std::cout << now_us() << "\n";
    return 0;
  }
  return usage();
}
