#include "http_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

namespace installer::adversarial {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing::Background;
using testing::wait_until;

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

Answer get(int port, const std::string& path, milliseconds timeout) {
  Answer answer;
  auto start = Clock::now();
  int fd = connect_to(port);
  if (fd < 0) return answer;
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  std::string response;
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    while (true) {
      auto left = std::chrono::duration_cast<milliseconds>(start + timeout - Clock::now()).count();
      pollfd p{fd, POLLIN, 0};
      if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) break;
      ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        auto head_end = response.find("\r\n\r\n");
        if (response.rfind("HTTP/1.", 0) == 0 && head_end != std::string::npos) {
          answer.status = std::atoi(response.c_str() + 9);
          answer.body = response.substr(head_end + 4);
        }
        break;
      }
      response.append(buffer, static_cast<size_t>(n));
    }
  }
  close(fd);
  answer.took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  return answer;
}

int health_port_of(Background& run) {
  int port = 0;
  std::smatch found;
  REQUIRE_MESSAGE(wait_until(
                      [&] {
                        std::string err = run.err_so_far();
                        if (!std::regex_search(err, found, std::regex("health endpoint on 127\\.0\\.0\\.1:([0-9]+)")))
                          return false;
                        port = std::stoi(found[1]);
                        return true;
                      },
                      milliseconds(30'000)),
                  run.err_so_far());
  return port;
}

int start_running(Background& run) {
  int port = health_port_of(run);
  REQUIRE(wait_until([&] { return get(port, "/readyz").status == 200; }, milliseconds(30'000)));
  return port;
}

}  // namespace installer::adversarial
