#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <system_error>
#include <utility>

#include "config/text_file.h"
#include "config/yaml_report.h"

namespace we {
namespace {

namespace ssl = boost::asio::ssl;
using yaml_report::Quote;

std::string OpenSslErrors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// The reason of a boost::system error from Asio's ssl::context: for a missing file OpenSSL
// reports "system library" with errno in the queue, which message() renders poorly.
std::string SslMessage(const boost::system::error_code& ec) {
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    if (ERR_GET_LIB(static_cast<unsigned long>(ec.value())) == ERR_LIB_SYS && reason > 0) {
      return std::error_code(reason, std::generic_category()).message();
    }
    const char* text = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (text != nullptr) return text;
  }
  return ec.message();
}

// What is wrong with a private key, after its name: OpenSSL checks it against the certificate
// loaded before it, and says so as "key values mismatch".
std::string KeyProblem(const boost::system::error_code& ec, const std::string& cert_file) {
  if (ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    return " does not match the certificate" + (cert_file.empty() ? "" : " " + cert_file);
  }
  return ": " + SslMessage(ec);
}

// Go's cipher suite name -> OpenSSL's, through OpenSSL's own table of standard (IANA) names.
// TLS 1.3 suites are accepted and left alone, as Go does: cipher_suites applies up to TLS 1.2.
std::optional<std::string> OpenSslCipherList(const std::vector<std::string>& names, std::string* error) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> all(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!all || SSL_CTX_set_cipher_list(all.get(), "ALL:COMPLEMENTOFALL") != 1) {
    *error = OpenSslErrors();
    return std::nullopt;
  }
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(all.get());
  std::string list;
  for (const std::string& wanted : names) {
    const SSL_CIPHER* found = nullptr;
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers) && found == nullptr; ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
      const char* standard = SSL_CIPHER_standard_name(c);
      // Go also knows the ChaCha20 suites without their "_SHA256" suffix.
      if (standard != nullptr && (wanted == standard || wanted + "_SHA256" == standard)) found = c;
    }
    if (found == nullptr) {
      *error = "unknown or unsupported cipher suite " + Quote(wanted);
      return std::nullopt;
    }
    if (std::string_view(SSL_CIPHER_get_version(found)) == "TLSv1.3") continue;
    if (!list.empty()) list += ':';
    list += SSL_CIPHER_get_name(found);
  }
  return list;
}

}  // namespace

WebSecurityResult BuildWebSecurity(const WebSecurityConfig& config, const std::string& file_name) {
  WebSecurityResult out;
  HttpSecurity security;
  security.basic_auth_users = config.basic_auth_users;
  if (!config.tls) {
    out.security = std::move(security);
    return out;
  }
  const TlsServerConfig& tls = *config.tls;
  auto fail = [&](std::string key, std::string message) {
    out.errors.push_back(
        ConfigError{file_name, 0, 0, std::string(kTlsServerConfigKey) + "." + key, std::move(message)});
  };

  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  // No renegotiation (a client could make the server redo handshakes at will) and no
  // compression (CRIME); OpenSSL 3 sets the latter already.
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression | SSL_OP_NO_RENEGOTIATION |
                       (tls.prefer_server_cipher_suites ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
  // Idle keep-alive connections give their read and write buffers (~34 KiB) back to OpenSSL:
  // bounds what hundreds of open connections cost.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_min_proto_version(ctx, tls.min_version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, tls.max_version == TlsVersion::kTls12 ? TLS1_2_VERSION : TLS1_3_VERSION);

  boost::system::error_code ec;
  if (!tls.cert_file.empty()) {
    context->use_certificate_chain_file(tls.cert_file, ec);
    if (ec) fail("cert_file", tls.cert_file + ": " + SslMessage(ec));
  } else {
    context->use_certificate_chain(boost::asio::buffer(tls.cert), ec);
    if (ec) fail("cert", "not a PEM certificate: " + SslMessage(ec));
  }
  ERR_clear_error();
  if (!tls.key_file.empty()) {
    context->use_private_key_file(tls.key_file, ssl::context::pem, ec);
    if (ec) fail("key_file", tls.key_file + KeyProblem(ec, tls.cert_file));
  } else {
    context->use_private_key(boost::asio::buffer(tls.key), ssl::context::pem, ec);
    if (ec) fail("key", "the key" + KeyProblem(ec, tls.cert_file));
  }
  ERR_clear_error();
  if (out.errors.empty() && SSL_CTX_check_private_key(ctx) != 1) {
    fail(tls.key_file.empty() ? "key" : "key_file", (tls.key_file.empty() ? std::string("the key") : tls.key_file) +
                                                        " does not match the certificate " +
                                                        (tls.cert_file.empty() ? "" : tls.cert_file));
    ERR_clear_error();
  }

  if (!tls.client_ca_file.empty()) {
    std::string error;
    if (!ReadTextFile(tls.client_ca_file, &error)) {
      fail("client_ca_file", tls.client_ca_file + ": " + error);
    } else {
      context->load_verify_file(tls.client_ca_file, ec);
      if (ec) {
        fail("client_ca_file", tls.client_ca_file + ": no PEM certificate: " + SslMessage(ec));
      } else if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str())) {
        SSL_CTX_set_client_CA_list(ctx, names);  // named to clients choosing a certificate
      }
    }
  } else if (!tls.client_ca.empty()) {
    context->add_certificate_authority(boost::asio::buffer(tls.client_ca), ec);
    if (ec) fail("client_ca", "not a PEM certificate: " + SslMessage(ec));
  }
  ERR_clear_error();

  switch (tls.client_auth_type) {
    case ClientAuthType::kNoClientCert:
      context->set_verify_mode(ssl::verify_none);
      break;
    case ClientAuthType::kRequestClientCert:
    case ClientAuthType::kRequireAnyClientCert:
      // Asked for and, for RequireAny, required; but any certificate is accepted.
      context->set_verify_mode(
          ssl::verify_peer |
          (tls.client_auth_type == ClientAuthType::kRequireAnyClientCert ? ssl::verify_fail_if_no_peer_cert : 0));
      context->set_verify_callback([](bool, ssl::verify_context&) { return true; });
      break;
    case ClientAuthType::kVerifyClientCertIfGiven:
      context->set_verify_mode(ssl::verify_peer);
      break;
    case ClientAuthType::kRequireAndVerifyClientCert:
      context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
      break;
  }

  if (!tls.cipher_suites.empty()) {
    std::string error;
    const auto list = OpenSslCipherList(tls.cipher_suites, &error);
    if (!list) {
      fail("cipher_suites", error);
    } else if (!list->empty() && SSL_CTX_set_cipher_list(ctx, list->c_str()) != 1) {
      fail("cipher_suites", OpenSslErrors());
    }
  }
  if (!tls.curve_preferences.empty()) {
    std::string groups;
    for (const std::string& curve : tls.curve_preferences) {
      if (!groups.empty()) groups += ':';
      groups += curve == "CurveP256"   ? "P-256"
                : curve == "CurveP384" ? "P-384"
                : curve == "CurveP521" ? "P-521"
                                       : curve;  // X25519
    }
    if (SSL_CTX_set1_groups_list(ctx, groups.c_str()) != 1) {
      fail("curve_preferences", OpenSslErrors());
    }
  }
  ERR_clear_error();
  if (!out.errors.empty()) return out;
  security.tls = std::move(context);
  out.security = std::move(security);
  return out;
}

WebSecurityResult LoadWebSecurity(const std::string& path) {
  std::string error;
  const std::optional<std::string> text = ReadTextFile(path, &error);
  if (!text) return WebSecurityResult{std::nullopt, {ConfigError{path, 0, 0, "", error}}};
  WebConfigResult parsed = ParseWebConfig(*text, path);
  if (!parsed.ok()) return WebSecurityResult{std::nullopt, std::move(parsed.errors)};
  return BuildWebSecurity(*parsed.config, path);
}

}  // namespace we
