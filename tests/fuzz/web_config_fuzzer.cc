// Fuzzes ParseWebConfig (config/web_config.h) with arbitrary YAML text: the --web.config.file
// parser, which reads an operator's file on every start and SIGHUP. Beyond not crashing, what it
// accepts must be what the TLS and auth code can rely on, and what it refuses must say where.

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/web_config.h"
#include "tests/fuzz/config_errors_check.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  const std::string file_name = "/etc/we/web.yml";
  const WebConfigResult result = ParseWebConfig(fuzz::AsText(data, size), file_name);

  fuzz::CheckConfigErrors(result, file_name);
  if (!result.ok()) return 0;

  const WebSecurityConfig& c = *result.config;
  for (const auto& [user, hash] : c.basic_auth_users) {
    // Every user can be typed into a Basic header, and every hash is one crypt_r understands.
    FUZZ_CHECK(!user.empty());
    FUZZ_CHECK(user.find(':') == std::string::npos);
    FUZZ_CHECK(IsBcryptHash(hash));
  }
  if (c.tls) {
    const TlsServerConfig& t = *c.tls;
    // Exactly one source for the certificate and for the key.
    FUZZ_CHECK(t.cert_file.empty() != t.cert.empty());
    FUZZ_CHECK(t.key_file.empty() != t.key.empty());
    FUZZ_CHECK(t.client_ca_file.empty() || t.client_ca.empty());
    const bool has_ca = !t.client_ca_file.empty() || !t.client_ca.empty();
    // A CA only with client auth; verification only with a CA to verify against.
    FUZZ_CHECK(!has_ca || t.client_auth_type != ClientAuthType::kNoClientCert);
    FUZZ_CHECK(has_ca || (t.client_auth_type != ClientAuthType::kVerifyClientCertIfGiven &&
                          t.client_auth_type != ClientAuthType::kRequireAndVerifyClientCert));
    FUZZ_CHECK(!(t.min_version == TlsVersion::kTls13 && t.max_version == TlsVersion::kTls12));
    // Relative paths were joined to the file's directory.
    for (const std::string* path : {&t.cert_file, &t.key_file, &t.client_ca_file}) {
      FUZZ_CHECK(path->empty() || path->front() == '/');
    }
    for (const std::string& suite : t.cipher_suites) FUZZ_CHECK(!suite.empty());
  }
  return 0;
}
