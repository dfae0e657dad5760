#pragma once
// A health probe as kubelet makes one, for the adversarial tests of the health endpoint.
#include "adversarial.hpp"

#include <chrono>
#include <string>

namespace installer::adversarial {

/// A TCP connection to 127.0.0.1:port, or -1.
int connect_to(int port);

struct Answer {
  int status = 0;  ///< 0: no complete answer within the timeout
  std::string body;
  std::chrono::milliseconds took{0};
};

/// One GET on a fresh connection, as a probe makes it, reading until the server closes.
Answer get(int port, const std::string& path, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

/// Waits for `installer run --health-listen 127.0.0.1:0 ...` to log its port; returns it.
int health_port_of(testing::Background& run);

/// Waits for `installer run --health-listen 127.0.0.1:0 ...` to log its port and for
/// /readyz to say the application runs; returns the port.
int start_running(testing::Background& run);

}  // namespace installer::adversarial
