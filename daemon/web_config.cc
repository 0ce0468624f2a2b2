#include "daemon/web_config.h"

#include <crypt.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <boost/asio/ssl/context.hpp>

#include "config/yaml_report.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

namespace we {
namespace {

namespace ssl = boost::asio::ssl;

constexpr std::string_view kTls = "tls_server_config";

using yaml_report::Describe;
using yaml_report::Entry;
using yaml_report::OneBased;
using yaml_report::Quote;
using yaml_report::Reporter;

// The entries of mapping `node`, each key a scalar seen once; others are reported.
std::vector<Entry> Entries(const YAML::Node& node, const std::string& parent, Reporter& reporter) {
  std::vector<Entry> out;
  yaml_report::ForEachEntry(node, parent, reporter, [&](const Entry& e) { out.push_back(e); });
  return out;
}

std::optional<std::string> String(const Entry& e, Reporter& reporter) {
  if (!e.value.IsScalar()) {
    reporter.Add(e.ValueMark(), e.path, "expected a string, got " + Describe(e.value));
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<bool> Bool(const Entry& e, Reporter& reporter) {
  if (e.value.IsScalar() && (e.value.Scalar() == "true" || e.value.Scalar() == "false")) {
    return e.value.Scalar() == "true";
  }
  reporter.Add(e.ValueMark(), e.path, "expected true or false, got " + Describe(e.value));
  return std::nullopt;
}

std::optional<std::vector<std::string>> Strings(const Entry& e, Reporter& reporter) {
  std::vector<std::string> out;
  if (e.value.IsNull()) return out;
  if (!e.value.IsSequence()) {
    reporter.Add(e.ValueMark(), e.path, "expected a list of strings, got " + Describe(e.value));
    return std::nullopt;
  }
  bool ok = true;
  for (const YAML::Node& item : e.value) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      reporter.Add(item.Mark(), e.path, "expected a non-empty string, got " + Describe(item));
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return out;
}

// A certificate path as exporter-toolkit resolves it: relative to the web config file's directory.
std::string JoinDir(const std::string& file_name, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  const std::filesystem::path dir = std::filesystem::path(file_name).parent_path();
  return dir.empty() ? path : (dir / path).string();
}

std::optional<ClientAuthType> ParseClientAuthType(std::string_view text) {
  if (text.empty() || text == "NoClientCert") return ClientAuthType::kNoClientCert;
  if (text == "RequestClientCert") return ClientAuthType::kRequestClientCert;
  // "RequireClientCert" is exporter-toolkit's old spelling, still accepted there.
  if (text == "RequireAnyClientCert" || text == "RequireClientCert") {
    return ClientAuthType::kRequireAnyClientCert;
  }
  if (text == "VerifyClientCertIfGiven") return ClientAuthType::kVerifyClientCertIfGiven;
  if (text == "RequireAndVerifyClientCert") return ClientAuthType::kRequireAndVerifyClientCert;
  return std::nullopt;
}

const char* const kCurveNames[] = {"CurveP256", "CurveP384", "CurveP521", "X25519"};

// Where each key was, for the checks that relate two keys.
struct TlsMarks {
  std::map<std::string, YAML::Mark> at;
  YAML::Mark section;
  YAML::Mark Of(const std::string& key) const {
    const auto it = at.find(key);
    return it == at.end() ? section : it->second;
  }
};

void ParseTls(const Entry& section, const std::string& file_name, Reporter& reporter,
              WebSecurityConfig& config) {
  if (section.value.IsNull()) return;
  if (!section.value.IsMap()) {
    reporter.Add(section.ValueMark(), section.path, "expected a mapping, got " + Describe(section.value));
    return;
  }
  TlsServerConfig tls;
  TlsMarks marks;
  marks.section = section.key.Mark();
  bool enabled = false;  // exporter-toolkit's TLSConfig.IsEnabled
  std::string client_auth_text;
  for (const Entry& e : Entries(section.value, section.path, reporter)) {
    const std::string& name = e.key.Scalar();
    marks.at[name] = e.ValueMark();
    auto text = [&](std::string* field, bool is_path) {
      if (auto s = String(e, reporter)) {
        *field = is_path ? JoinDir(file_name, *s) : *s;
        if (!s->empty()) enabled = true;
      }
    };
    if (name == "cert_file") {
      text(&tls.cert_file, true);
    } else if (name == "cert") {
      text(&tls.cert, false);
    } else if (name == "key_file") {
      text(&tls.key_file, true);
    } else if (name == "key") {
      text(&tls.key, false);
    } else if (name == "client_ca_file") {
      text(&tls.client_ca_file, true);
    } else if (name == "client_ca") {
      text(&tls.client_ca, false);
    } else if (name == "client_auth_type") {
      if (auto s = String(e, reporter)) {
        if (auto type = ParseClientAuthType(*s)) {
          tls.client_auth_type = *type;
          client_auth_text = *s;
          if (!s->empty()) enabled = true;
        } else {
          reporter.Add(e.ValueMark(), e.path,
                       "invalid value " + Quote(*s) +
                           ": must be one of NoClientCert, RequestClientCert, RequireAnyClientCert, "
                           "VerifyClientCertIfGiven, RequireAndVerifyClientCert");
        }
      }
    } else if (name == "min_version" || name == "max_version") {
      if (auto s = String(e, reporter)) {
        TlsVersion* field = name == "min_version" ? &tls.min_version : &tls.max_version;
        if (*s == "TLS12") {
          *field = TlsVersion::kTls12;
        } else if (*s == "TLS13") {
          *field = TlsVersion::kTls13;
        } else if (*s == "TLS10" || *s == "TLS11") {
          reporter.Add(e.ValueMark(), e.path,
                       Quote(*s) + " is not supported: TLS 1.0 and 1.1 are obsolete (RFC 8996); "
                                   "use TLS12 or TLS13");
        } else {
          reporter.Add(e.ValueMark(), e.path, "invalid value " + Quote(*s) + ": must be TLS12 or TLS13");
        }
      }
    } else if (name == "cipher_suites") {
      if (auto list = Strings(e, reporter)) tls.cipher_suites = std::move(*list);
    } else if (name == "prefer_server_cipher_suites") {
      if (auto b = Bool(e, reporter)) tls.prefer_server_cipher_suites = *b;
    } else if (name == "curve_preferences") {
      if (auto list = Strings(e, reporter)) {
        for (const std::string& curve : *list) {
          if (std::find(std::begin(kCurveNames), std::end(kCurveNames), curve) ==
              std::end(kCurveNames)) {
            reporter.Add(e.ValueMark(), e.path,
                         "unknown curve " + Quote(curve) +
                             ": must be one of CurveP256, CurveP384, CurveP521, X25519");
          }
        }
        tls.curve_preferences = std::move(*list);
      }
    } else if (name == "client_allowed_sans") {
      reporter.Add(e.key.Mark(), e.path,
                   "not supported by workload_exporter; use client_auth_type: "
                   "RequireAndVerifyClientCert with a client_ca_file that signs only the "
                   "clients to admit");
    } else {
      reporter.Add(e.key.Mark(), e.path, "unknown key");
    }
  }

  auto both = [&](const std::string& file_key, const std::string& inline_key, bool file_set,
                  bool inline_set) {
    if (file_set && inline_set) {
      reporter.Add(marks.Of(inline_key), section.path + "." + inline_key,
                   "set either " + inline_key + " or " + file_key + ", not both");
    }
  };
  both("cert_file", "cert", !tls.cert_file.empty(), !tls.cert.empty());
  both("key_file", "key", !tls.key_file.empty(), !tls.key.empty());
  both("client_ca_file", "client_ca", !tls.client_ca_file.empty(), !tls.client_ca.empty());
  if (tls.min_version == TlsVersion::kTls13 && tls.max_version == TlsVersion::kTls12) {
    reporter.Add(marks.Of("max_version"), section.path + ".max_version",
                 "max_version TLS12 is below min_version TLS13");
  }
  if (!enabled) return;  // as in exporter-toolkit: no certificate settings, plain HTTP

  if (tls.cert_file.empty() && tls.cert.empty()) {
    reporter.Add(marks.section, section.path, "missing one of cert or cert_file");
  }
  if (tls.key_file.empty() && tls.key.empty()) {
    reporter.Add(marks.section, section.path, "missing one of key or key_file");
  }
  const bool has_ca = !tls.client_ca_file.empty() || !tls.client_ca.empty();
  if (has_ca && tls.client_auth_type == ClientAuthType::kNoClientCert) {
    reporter.Add(marks.Of(tls.client_ca_file.empty() ? "client_ca" : "client_ca_file"),
                 section.path + "." + (tls.client_ca_file.empty() ? "client_ca" : "client_ca_file"),
                 "a client CA is set but client_auth_type is NoClientCert: set client_auth_type "
                 "(RequireAndVerifyClientCert authenticates clients)");
  }
  // Go would verify against the system's roots here, so that any publicly issued certificate
  // would pass: almost certainly not what the operator meant. Ask for the CA instead.
  if (!has_ca && (tls.client_auth_type == ClientAuthType::kVerifyClientCertIfGiven ||
                  tls.client_auth_type == ClientAuthType::kRequireAndVerifyClientCert)) {
    reporter.Add(marks.Of("client_auth_type"), section.path + ".client_auth_type",
                 client_auth_text + " needs client_ca_file (or client_ca): the CA that signs the "
                                    "client certificates");
  }
  config.tls = std::move(tls);
}

void ParseUsers(const Entry& section, Reporter& reporter, WebSecurityConfig& config) {
  if (section.value.IsNull()) return;
  if (!section.value.IsMap()) {
    reporter.Add(section.ValueMark(), section.path,
                 "expected a mapping of user names to bcrypt hashes, got " + Describe(section.value));
    return;
  }
  for (const Entry& e : Entries(section.value, section.path, reporter)) {
    const std::string& user = e.key.Scalar();
    if (user.empty() || user.find(':') != std::string::npos) {
      reporter.Add(e.key.Mark(), e.path,
                   "invalid user name " + Quote(user) + ": must be non-empty, without ':'");
      continue;
    }
    auto hash = String(e, reporter);
    if (!hash) continue;
    if (!IsBcryptHash(*hash)) {
      reporter.Add(e.ValueMark(), e.path,
                   "not a bcrypt hash (expected $2y$ or $2b$, a cost, then 53 characters, as "
                   "`htpasswd -nBC 10 \"\" | tr -d ':\\n'` prints)");
      continue;
    }
    config.basic_auth_users.emplace(user, *hash);
  }
}

void ParseHttpServerConfig(const Entry& section, Reporter& reporter) {
  if (section.value.IsNull()) return;
  if (!section.value.IsMap()) {
    reporter.Add(section.ValueMark(), section.path, "expected a mapping, got " + Describe(section.value));
    return;
  }
  for (const Entry& e : Entries(section.value, section.path, reporter)) {
    if (e.key.Scalar() == "http2") {
      Bool(e, reporter);  // checked, then ignored: the server speaks HTTP/1.1 only
    } else if (e.key.Scalar() == "headers") {
      reporter.Add(e.key.Mark(), e.path, "not supported by workload_exporter");
    } else {
      reporter.Add(e.key.Mark(), e.path, "unknown key");
    }
  }
}

class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  std::vector<YAML::Mark> starts;
};

// ---------------------------------------------------------------------------- building

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

// Reads a file for the same reason the main config loader does it by hand: a clear errno.
std::optional<std::string> ReadSmallFile(const std::string& path, std::string* error) {
  constexpr std::size_t kMaxBytes = 1 << 20;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open: " + std::error_code(errno, std::generic_category()).message();
    return std::nullopt;
  }
  std::string text;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = "cannot read: " + std::error_code(errno, std::generic_category()).message();
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxBytes) {
      ::close(fd);
      *error = "file is larger than 1 MiB";
      return std::nullopt;
    }
  }
  ::close(fd);
  return text;
}

// Go's cipher suite name -> OpenSSL's, through OpenSSL's own table of standard (IANA) names.
// TLS 1.3 suites are accepted and left alone, as Go does: cipher_suites applies up to TLS 1.2.
std::optional<std::string> OpenSslCipherList(const std::vector<std::string>& names,
                                             std::string* error) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> all(SSL_CTX_new(TLS_server_method()),
                                                         &SSL_CTX_free);
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

WebConfigResult ParseWebConfig(std::string_view yaml_text, const std::string& file_name) {
  Reporter reporter(file_name);
  const std::string text(yaml_text);
  YAML::Node root;
  try {
    // At most two documents are looked at (a second one is an error); see config_loader.cc on
    // why not YAML::LoadAll.
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentCounter counter;
    for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
    }
    if (counter.starts.size() > 1) {
      reporter.Add(counter.starts[1], "", "a second YAML document; the file must hold one");
    }
    if (!counter.starts.empty()) root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    reporter.Add(e.mark, "", "invalid YAML: " + e.msg);
    return WebConfigResult{std::nullopt, reporter.Take()};
  }

  WebSecurityConfig config;
  if (root.IsDefined() && !root.IsNull()) {
    if (!root.IsMap()) {
      reporter.Add(root.Mark(), "", "expected a mapping at the top level, got " + Describe(root));
    } else {
      for (const Entry& e : Entries(root, "", reporter)) {
        const std::string& name = e.key.Scalar();
        if (name == kTls) {
          ParseTls(e, file_name, reporter, config);
        } else if (name == "basic_auth_users") {
          ParseUsers(e, reporter, config);
        } else if (name == "http_server_config") {
          ParseHttpServerConfig(e, reporter);
        } else if (name == "rate_limit") {
          reporter.Add(e.key.Mark(), e.path, "not supported by workload_exporter");
        } else {
          reporter.Add(e.key.Mark(), e.path, "unknown key");
        }
      }
    }
  }
  if (!reporter.empty()) return WebConfigResult{std::nullopt, reporter.Take()};
  return WebConfigResult{std::move(config), {}};
}

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
    out.errors.push_back(ConfigError{file_name, 0, 0, std::string(kTls) + "." + key, std::move(message)});
  };

  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  // No renegotiation (a client could make the server redo handshakes at will) and no
  // compression (CRIME); OpenSSL 3 sets the latter already.
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                       SSL_OP_NO_RENEGOTIATION |
                       (tls.prefer_server_cipher_suites ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
  // Idle keep-alive connections give their read and write buffers (~34 KiB) back to OpenSSL:
  // bounds what hundreds of open connections cost.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_min_proto_version(ctx, tls.min_version == TlsVersion::kTls13 ? TLS1_3_VERSION
                                                                           : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, tls.max_version == TlsVersion::kTls12 ? TLS1_2_VERSION
                                                                           : TLS1_3_VERSION);

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
    fail(tls.key_file.empty() ? "key" : "key_file",
         (tls.key_file.empty() ? std::string("the key") : tls.key_file) +
             " does not match the certificate " + (tls.cert_file.empty() ? "" : tls.cert_file));
    ERR_clear_error();
  }

  if (!tls.client_ca_file.empty()) {
    std::string error;
    if (!ReadSmallFile(tls.client_ca_file, &error)) {
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
      context->set_verify_mode(ssl::verify_peer |
                               (tls.client_auth_type == ClientAuthType::kRequireAnyClientCert
                                    ? ssl::verify_fail_if_no_peer_cert
                                    : 0));
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
      groups += curve == "CurveP256" ? "P-256"
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
  const std::optional<std::string> text = ReadSmallFile(path, &error);
  if (!text) return WebSecurityResult{std::nullopt, {ConfigError{path, 0, 0, "", error}}};
  WebConfigResult parsed = ParseWebConfig(*text, path);
  if (!parsed.ok()) return WebSecurityResult{std::nullopt, std::move(parsed.errors)};
  return BuildWebSecurity(*parsed.config, path);
}

bool IsBcryptHash(std::string_view hash) {
  // $2y$10$ + 22 characters of salt + 31 of hash.
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') {
    return false;
  }
  if (std::string_view("abxy").find(hash[2]) == std::string_view::npos) return false;
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return false;
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  return std::all_of(hash.begin() + 7, hash.end(), [](char c) {
    return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9');
  });
}

bool BcryptMatches(std::string_view password, const std::string& hash) {
  if (!IsBcryptHash(hash) || password.find('\0') != std::string_view::npos) return false;
  // crypt_data is about 32 KiB: on the heap, one per call, so that any thread may call this.
  auto data = std::make_unique<crypt_data>();
  const std::string phrase(password);
  const char* result = crypt_r(phrase.c_str(), hash.c_str(), data.get());
  // libxcrypt returns a "*0"/"*1" failure token (or NULL) rather than a hash on error.
  if (result == nullptr || result[0] != '$') return false;
  const std::size_t n = std::strlen(result);
  const bool same = n == hash.size() && CRYPTO_memcmp(result, hash.data(), n) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return same;
}

}  // namespace we
