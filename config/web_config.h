#pragma once
// The web configuration file of --web.config.file, in the format of Prometheus' exporter-toolkit
// (docs/web-configuration.md there), so that the file node_exporter reads works here unchanged:
//
//   tls_server_config:
//     cert_file: server.crt          # relative paths are relative to this file's directory
//     key_file: server.key
//     client_auth_type: RequireAndVerifyClientCert
//     client_ca_file: ca.crt
//     min_version: TLS12
//   basic_auth_users:
//     alice: $2y$10$...               # bcrypt, e.g. from `htpasswd -nBC 10 "" | tr -d ':\n'`
//
// Parsing only: ParseWebConfig turns the YAML text into WebSecurityConfig, or every error as
// "file:line:col: key.path: msg". It reads no file (cert paths are only joined to the file's
// directory). http/tls_context.h builds the server's TLS context and users from the result, and
// http/basic_auth.h checks passwords.
//
// Supported from exporter-toolkit's format: tls_server_config's cert_file/cert, key_file/key,
// client_ca_file/client_ca, client_auth_type (all five values), min_version and max_version
// (TLS12, TLS13), cipher_suites (Go's names, i.e. the IANA ones; they apply to TLS 1.2, as in
// Go), prefer_server_cipher_suites, curve_preferences; http_server_config.http2 (accepted and
// ignored: the server speaks HTTP/1.1 only); basic_auth_users. Refused with a message that says
// so: client_allowed_sans, http_server_config.headers, rate_limit, TLS10/TLS11. Unknown and
// duplicate keys are errors.
//
// Thread-safety: pure functions; any thread.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.h"

namespace we {

// The TLS section's key: errors about what it names say "tls_server_config.<key>".
inline constexpr std::string_view kTlsServerConfigKey = "tls_server_config";

// exporter-toolkit's values, which are Go's crypto/tls ClientAuthType names.
enum class ClientAuthType {
  kNoClientCert,                // no certificate is asked for (the default)
  kRequestClientCert,           // asked for, not required, not verified
  kRequireAnyClientCert,        // required, not verified (any certificate will do)
  kVerifyClientCertIfGiven,     // not required; verified against the client CA when sent
  kRequireAndVerifyClientCert,  // required and verified: the one that authenticates clients
};

enum class TlsVersion { kTls12, kTls13 };

struct TlsServerConfig {
  // Exactly one of each pair is set: a path (already joined to the web config file's directory
  // when it was relative) or the PEM text inline.
  std::string cert_file;
  std::string cert;
  std::string key_file;
  std::string key;
  // Optional; required by the two verifying client_auth_types, refused with NoClientCert.
  std::string client_ca_file;
  std::string client_ca;
  ClientAuthType client_auth_type = ClientAuthType::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  std::vector<std::string> cipher_suites;  // Go/IANA names; empty = OpenSSL's defaults
  bool prefer_server_cipher_suites = true;
  std::vector<std::string> curve_preferences;  // CurveP256, CurveP384, CurveP521, X25519
};

// What the web config file says (named so beside config.h's WebConfig, the main file's "web:").
struct WebSecurityConfig {
  // nullopt: plain HTTP. As in exporter-toolkit, TLS is on when tls_server_config sets any of
  // cert(_file), key(_file), client_ca(_file) or client_auth_type.
  std::optional<TlsServerConfig> tls;
  // User name -> bcrypt hash. Empty: no authentication.
  std::map<std::string, std::string> basic_auth_users;
};

struct WebConfigResult {
  std::optional<WebSecurityConfig> config;  // set only when `errors` is empty
  std::vector<ConfigError> errors;          // in document order
  bool ok() const { return config.has_value(); }
};

// Parses the web config file's text. `file_name` names the file in errors, and its directory is
// where relative certificate paths point. An empty file is valid: plain HTTP, no authentication.
WebConfigResult ParseWebConfig(std::string_view yaml_text, const std::string& file_name);

// Whether `hash` is a bcrypt hash exporter-toolkit would accept: $2a$, $2b$, $2x$ or $2y$, a
// two-digit cost from 04 to 31, then 53 characters of bcrypt's base64.
bool IsBcryptHash(std::string_view hash);

}  // namespace we
