#include "installer/health/health_server.hpp"

#include "installer/util/error.hpp"
#include "installer/util/log.hpp"
#include "installer/util/redact.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <thread>
#include <vector>

namespace installer {
namespace {

using Clock = std::chrono::steady_clock;

// A probe sends its whole request at once: a client that has not within these bounds is
// dropped, so a handful of idle or trickling sockets can never hold the endpoint up.
constexpr auto kRequestTime = std::chrono::seconds(2);  ///< from accept to the end of the headers
constexpr auto kReplyTime = std::chrono::seconds(2);    ///< to take the answer
constexpr size_t kMaxRequest = 4096;                    ///< request line and headers
constexpr size_t kMaxConnections = 32;                  ///< beyond it the oldest is dropped

std::pair<std::string, int> parse_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    throw UserError(exit_config, fmt::format("--health-listen '{}': expected ADDR:PORT or :PORT", listen));
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  std::string port_text = listen.substr(colon + 1);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(port_text, &used);
    if (used != port_text.size()) port = -1;
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535)
    throw UserError(exit_config, fmt::format("--health-listen '{}': '{}' is not a port", listen, port_text));
  return {host, port};
}

int bound_port(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) return -1;
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return -1;
}

/// A non-blocking, close-on-exec listening socket on host:port (0: any free port), or -1.
int open_listener(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

struct Reply {
  int status;
  std::string body;
  const char* type = "text/plain";
};

Reply route(const StatusBoard& board, const std::string& path) {
  Phase phase = board.phase();
  bool running = phase == Phase::running;
  if (path == "/livez") return {phase == Phase::failed ? 503 : 200, phase == Phase::failed ? "failed\n" : "ok\n"};
  if (path == "/readyz") return {running ? 200 : 503, running ? "ready\n" : std::string(to_string(phase)) + "\n"};
  if (path == "/healthz")
    return {running ? 200 : 503, running ? R"({"status":"ok"})" : nlohmann::json{{"status", to_string(phase)}}.dump(),
            "application/json"};
  // Through the scrubber like every output: the board holds error messages and names.
  if (path == "/status") return {200, redact(board.to_json().dump(2)) + "\n", "application/json"};
  return {404, "not found\n"};
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

std::string response(const Reply& reply, bool with_body) {
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n", reply.status,
      reason(reply.status), reply.type, reply.body.size(), reply.status == 405 ? "Allow: GET, HEAD\r\n" : "");
  return with_body ? head + reply.body : head;
}

/// The whole answer to a request whose headers are complete: only its first line matters.
std::string answer(const StatusBoard& board, const std::string& request) {
  std::string line = request.substr(0, request.find_first_of("\r\n"));
  auto first = line.find(' ');
  auto second = first == std::string::npos ? std::string::npos : line.find(' ', first + 1);
  if (second == std::string::npos) return response({400, "bad request\n"}, true);
  std::string method = line.substr(0, first);
  std::string target = line.substr(first + 1, second - first - 1);
  if (method != "GET" && method != "HEAD") return response({405, "method not allowed\n"}, true);
  return response(route(board, target.substr(0, target.find('?'))), method == "GET");
}

bool headers_complete(const std::string& in) {
  return in.find("\r\n\r\n") != std::string::npos || in.find("\n\n") != std::string::npos;
}

}  // namespace

// Named, not anonymous: a member of HealthServer::Impl may not have a type of an anonymous
// namespace once a unity build has made this file part of a larger one.
namespace health_server {

/// One client: reading its request until the deadline, then writing the answer.
struct Connection {
  int fd = -1;
  Clock::time_point accepted, deadline;
  std::string in, out;
  size_t sent = 0;
  bool replying() const { return !out.empty(); }
};

}  // namespace health_server
using health_server::Connection;

/// One thread, one poll() over the listener, a wake-up pipe and at most kMaxConnections
/// clients, every socket non-blocking: nothing a client does (or fails to do) can block
/// the loop, so every probe is answered as soon as its request is in, and a stop ends the
/// loop at its next wake-up.
struct HealthServer::Impl {
  StatusBoard& board;
  int listener = -1;
  int wake[2] = {-1, -1};
  int port = 0;
  std::vector<Connection> clients;
  Clock::time_point accept_after;  ///< while out of descriptors, so poll() does not spin on the listener
  std::thread thread;

  explicit Impl(StatusBoard& b) : board(b) {}
  ~Impl();
  void serve();
  int poll_timeout_ms() const;
  void accept_new(Clock::time_point now);
  void drop_oldest();
  bool read_request(Connection& c, Clock::time_point now);
  bool write_reply(Connection& c);
};

HealthServer::Impl::~Impl() {
  for (auto& c : clients) close(c.fd);
  for (int fd : {listener, wake[0], wake[1]})
    if (fd >= 0) close(fd);
}

int HealthServer::Impl::poll_timeout_ms() const {
  auto soonest = Clock::now() + std::chrono::seconds(1);
  for (const auto& c : clients) soonest = std::min(soonest, c.deadline);
  if (accept_after > Clock::now()) soonest = std::min(soonest, accept_after);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(soonest - Clock::now()).count();
  return static_cast<int>(std::max<long long>(0, left + 1));
}

void HealthServer::Impl::drop_oldest() {
  // A client still sending its request is the likelier idler; one being answered is left alone if possible.
  auto oldest = std::min_element(clients.begin(), clients.end(), [](const Connection& a, const Connection& b) {
    if (a.replying() != b.replying()) return !a.replying();
    return a.accepted < b.accepted;
  });
  close(oldest->fd);
  clients.erase(oldest);
}

void HealthServer::Impl::accept_new(Clock::time_point now) {
  // Half the table per round at most: a client just taken in is not displaced by the
  // ones right behind it before its request has been read.
  for (size_t round = 0; round < kMaxConnections / 2; ++round) {
    int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EMFILE && errno != ENFILE) return;
      // Out of descriptors: make room so the next round accepts the waiting client, or
      // when there is nothing of ours to close, wait a little for others to close theirs.
      if (!clients.empty()) drop_oldest();
      else accept_after = now + std::chrono::milliseconds(100);
      return;
    }
    if (clients.size() >= kMaxConnections) drop_oldest();
    clients.push_back({fd, now, now + kRequestTime, {}, {}, 0});
    // A probe's request is usually there already: answered now, it never waits a round.
    if (!read_request(clients.back(), now)) {
      close(fd);
      clients.pop_back();
    }
  }
}

/// False when the connection is done with (closed by the client, or broken).
bool HealthServer::Impl::read_request(Connection& c, Clock::time_point now) {
  char buffer[kMaxRequest];
  ssize_t n = recv(c.fd, buffer, sizeof buffer, 0);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  if (n == 0) return false;
  c.in.append(buffer, static_cast<size_t>(n));
  if (c.in.size() > kMaxRequest) c.out = response({431, "request too large\n"}, true);
  else if (headers_complete(c.in)) c.out = answer(board, c.in);
  else return true;
  c.deadline = now + kReplyTime;
  return write_reply(c);
}

/// False once the answer is out (or cannot be sent).
bool HealthServer::Impl::write_reply(Connection& c) {
  ssize_t n = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  c.sent += static_cast<size_t>(n);
  if (c.sent < c.out.size()) return true;
  shutdown(c.fd, SHUT_WR);
  return false;
}

void HealthServer::Impl::serve() {
  std::vector<pollfd> fds;
  while (true) {
    short accepting = Clock::now() >= accept_after ? POLLIN : 0;
    fds.assign({{wake[0], POLLIN, 0}, {listener, accepting, 0}});
    for (const auto& c : clients) fds.push_back({c.fd, static_cast<short>(c.replying() ? POLLOUT : POLLIN), 0});
    if (poll(fds.data(), fds.size(), poll_timeout_ms()) < 0 && errno != EINTR) {
      log::warn("health endpoint: poll failed ({}): it stops answering", std::strerror(errno));
      return;
    }
    if (fds[0].revents != 0) return;
    auto now = Clock::now();
    std::vector<Connection> kept;
    for (size_t i = 0; i < clients.size(); ++i) {
      Connection& c = clients[i];
      bool open = now < c.deadline;
      if (open && fds[i + 2].revents != 0) open = c.replying() ? write_reply(c) : read_request(c, now);
      if (open) kept.push_back(std::move(c));
      else close(c.fd);
    }
    clients = std::move(kept);
    if (fds[1].revents != 0) accept_new(now);
  }
}

HealthServer::HealthServer(StatusBoard& board, const std::string& listen) : impl_(std::make_unique<Impl>(board)) {
  auto [host, port] = parse_listen(listen);
  impl_->listener = open_listener(host, port);
  impl_->port = impl_->listener < 0 ? -1 : bound_port(impl_->listener);
  if (impl_->port < 0)
    throw UserError(exit_config, fmt::format("--health-listen {}: cannot listen there (address in use or not "
                                             "available)",
                                             listen));
  if (pipe2(impl_->wake, O_CLOEXEC | O_NONBLOCK) != 0)
    throw UserError(exit_internal, fmt::format("health endpoint: pipe: {}", std::strerror(errno)));
  impl_->thread = std::thread([this] { impl_->serve(); });
  log::info("health endpoint on {}:{} (/livez /readyz /healthz /status)", host, impl_->port);
}

HealthServer::~HealthServer() {
  char stop = 1;
  ssize_t ignored = write(impl_->wake[1], &stop, 1);
  (void)ignored;
  if (impl_->thread.joinable()) impl_->thread.join();
}

int HealthServer::port() const { return impl_->port; }

struct ProgressLog::Impl {
  std::mutex mutex;
  std::condition_variable wake;
  bool done = false;
  std::thread thread;
};

ProgressLog::ProgressLog(const StatusBoard& board, std::chrono::milliseconds interval)
    : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([this, &board, interval] {
    std::unique_lock<std::mutex> lock(impl_->mutex);
    while (!impl_->wake.wait_for(lock, interval, [this] { return impl_->done; })) {
      std::string line = board.progress_line();
      if (!line.empty()) log::info("{}", line);
    }
  });
}

ProgressLog::~ProgressLog() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->done = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace installer
