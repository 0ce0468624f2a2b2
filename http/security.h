#pragma once
// What --web.config.file turns on for the HTTP server, once built (http/tls_context.h): a plain
// value the daemon hands to HttpServer::SetSecurity.

#include <map>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace we {

// What --web.config.file turns on (built by BuildWebSecurity in http/tls_context.h). Default: plain
// HTTP without authentication.
struct HttpSecurity {
  // Serve TLS with this context; null: plain HTTP. Shared with the connections that use it, so
  // that a new one can replace it while they finish.
  std::shared_ptr<boost::asio::ssl::context> tls;
  // User name -> bcrypt hash. Non-empty: every request needs "Authorization: Basic" with one of
  // them, else 401 with "WWW-Authenticate: Basic".
  std::map<std::string, std::string> basic_auth_users;
};

}  // namespace we
