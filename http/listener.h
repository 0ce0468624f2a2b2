#pragma once
// Listening sockets: binding a listen address's candidates (the first whose address family this
// host has), the socket each listener owns with the pause after a failing accept(), and how an
// endpoint is written in logs and errors. Used by the server on the event loop's thread.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace we::serving {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// One listening socket, with the pause that follows a failing accept().
struct Listener {
  explicit Listener(asio::io_context& io) : acceptor(io), backoff(io) {}

  void Close() {
    error_code ignored;
    acceptor.close(ignored);
    backoff.cancel();
  }

  tcp::acceptor acceptor;
  asio::steady_timer backoff;
  std::chrono::milliseconds backoff_delay{0};
  std::string address;     // as given to Listen
  tcp::endpoint endpoint;  // as bound (with the kernel's port for port 0)
  bool dual_stack = false;
};

struct Candidate {
  tcp::endpoint endpoint;
  bool dual_stack = false;  // "::" that also accepts IPv4
};

struct BindAttempt {
  std::shared_ptr<Listener> listener;  // null on failure
  error_code error;
  std::string step;  // the call that failed: "socket", "bind", ...
  tcp::endpoint endpoint;
};

// Opens, configures (close-on-exec, dual stack, SO_REUSEADDR), binds and listens on `candidate`.
BindAttempt Bind(asio::io_context& io, const Candidate& candidate);
// Binds the first candidate that can be bound, moving on only when a candidate's address family
// is unavailable. A failure reports the first error that was not about the address family.
BindAttempt BindFirst(asio::io_context& io, const std::vector<Candidate>& candidates);
// "ADDRESS (ENDPOINT): STEP: REASON" for a failed attempt.
std::string BindError(const std::string& address, const BindAttempt& attempt);
// "1.2.3.4:80" or "[::1]:80".
std::string EndpointText(const tcp::endpoint& endpoint);
void SetCloseOnExec(int fd);

}  // namespace we::serving
