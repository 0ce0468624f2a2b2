#pragma once
// The web configuration (config/web_config.h) made real: reads the certificate, key and CA files
// it names and builds the OpenSSL context the server's TLS connections share.
//
// Thread-safety: pure functions of the files they read; any thread.

#include <optional>
#include <string>
#include <vector>

#include "config/config_error.h"
#include "config/web_config.h"
#include "http/security.h"

namespace we {

struct WebSecurityResult {
  std::optional<HttpSecurity> security;  // set only when `errors` is empty
  std::vector<ConfigError> errors;
  bool ok() const { return security.has_value(); }
};

// Reads the certificate, key and CA files (or inline PEM) of `config` and builds the server's
// TLS context. `file_name` (the web config file) names the errors, e.g.
//   "web.yml: tls_server_config.cert_file: /etc/we/server.crt: No such file or directory".
WebSecurityResult BuildWebSecurity(const WebSecurityConfig& config, const std::string& file_name);

// ParseWebConfig on the file's contents, then BuildWebSecurity. A missing or unreadable file is
// one error at line 0.
WebSecurityResult LoadWebSecurity(const std::string& path);

}  // namespace we
