#include "http/listener.h"

#include <fcntl.h>

#include <boost/asio/ip/v6_only.hpp>

namespace we::serving {

std::string EndpointText(const tcp::endpoint& endpoint) {
  const std::string port = std::to_string(endpoint.port());
  if (endpoint.address().is_v6()) return "[" + endpoint.address().to_string() + "]:" + port;
  return endpoint.address().to_string() + ":" + port;
}

void SetCloseOnExec(int fd) {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

BindAttempt Bind(asio::io_context& io, const Candidate& candidate) {
  auto listener = std::make_shared<Listener>(io);
  tcp::acceptor& acceptor = listener->acceptor;
  BindAttempt attempt;
  attempt.endpoint = candidate.endpoint;
  auto failed = [&](const error_code& ec, std::string step) {
    attempt.error = ec;
    attempt.step = std::move(step);
    return attempt;
  };
  error_code ec;
  acceptor.open(candidate.endpoint.protocol(), ec);
  if (ec) return failed(ec, "socket");
  SetCloseOnExec(acceptor.native_handle());
  if (candidate.dual_stack) {
    acceptor.set_option(asio::ip::v6_only(false), ec);
    if (ec) return failed(ec, "setsockopt IPV6_V6ONLY");
  }
  // A restarted daemon can bind while the old one's connections linger in TIME_WAIT.
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return failed(ec, "setsockopt SO_REUSEADDR");
  acceptor.bind(candidate.endpoint, ec);
  if (ec) return failed(ec, "bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return failed(ec, "listen");
  listener->endpoint = acceptor.local_endpoint(ec);
  if (ec) return failed(ec, "getsockname");
  listener->dual_stack = candidate.dual_stack;
  attempt.listener = std::move(listener);
  return attempt;
}

namespace {

// Errors that mean "this address family is not usable here": try the next candidate.
bool IsFamilyUnavailable(const error_code& ec) {
  return ec == asio::error::address_family_not_supported || ec == asio::error::operation_not_supported ||
         ec == boost::system::errc::address_not_available || ec == boost::system::errc::protocol_not_supported ||
         ec == boost::system::errc::no_protocol_option;
}

}  // namespace

BindAttempt BindFirst(asio::io_context& io, const std::vector<Candidate>& candidates) {
  BindAttempt reported;
  bool have_reported = false;
  for (const Candidate& candidate : candidates) {
    BindAttempt attempt = Bind(io, candidate);
    if (attempt.listener) return attempt;
    if (!have_reported || (IsFamilyUnavailable(reported.error) && !IsFamilyUnavailable(attempt.error))) {
      reported = attempt;
      have_reported = true;
    }
    if (!IsFamilyUnavailable(attempt.error)) break;
  }
  return reported;
}

std::string BindError(const std::string& address, const BindAttempt& attempt) {
  std::string where = address;
  const std::string endpoint = EndpointText(attempt.endpoint);
  if (endpoint != address) where += " (" + endpoint + ")";
  return where + ": " + attempt.step + ": " + attempt.error.message();
}

}  // namespace we::serving
