// The web config file (exporter-toolkit's format): the pure parser on good and bad files, the
// TLS context built from real certificates made here with OpenSSL, and bcrypt verification.

#include "http/basic_auth.h"
#include "http/tls_context.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "test_util/temp_tree.h"

namespace we {
namespace {

using test_util::TempTree;
using ::testing::HasSubstr;

// htpasswd -nbBC 4 alice 'correct horse' ($2y$), and Python's crypt ($2b$) of the same and of "".
constexpr char kAliceHash[] = "$2y$04$sIjzjH0FQliyt5THU5pAEunoILHokiFp59wzOgbpjaqrUJCuQsoBe";
constexpr char kAlice2bHash[] = "$2b$04$13jvbuJriNAQJF.JnjlA4O5/wFzXPSmBMsWAFGTt3qiwECBDIWrba";
constexpr char kEmptyHash[] = "$2b$04$yQ5mN76.lhUtgximHUZZ8.QTzj8vG/KvQtvWFd4EWPpsRg0cjr4QO";

WebSecurityConfig ParseOk(const std::string& yaml, const std::string& file = "/etc/we/web.yml") {
  WebConfigResult r = ParseWebConfig(yaml, file);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : FormatErrors(r.errors));
  return r.config.value_or(WebSecurityConfig{});
}

// Every error of a file that must not parse, one per line.
std::string Errors(const std::string& yaml, const std::string& file = "web.yml") {
  WebConfigResult r = ParseWebConfig(yaml, file);
  EXPECT_FALSE(r.ok()) << "accepted:\n" << yaml;
  return FormatErrors(r.errors);
}

TEST(ParseWebConfig, EmptyFileMeansPlainHttpWithoutAuthentication) {
  for (const char* yaml : {"", "# comments only\n", "~\n", "---\n"}) {
    const WebSecurityConfig c = ParseOk(yaml);
    EXPECT_FALSE(c.tls.has_value()) << yaml;
    EXPECT_TRUE(c.basic_auth_users.empty()) << yaml;
  }
}

TEST(ParseWebConfig, EveryKeyWithRelativePathsJoinedToTheFilesDirectory) {
  const WebSecurityConfig c = ParseOk(std::string(R"(
tls_server_config:
  cert_file: server.crt
  key_file: keys/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: /etc/pki/ca.crt
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
  prefer_server_cipher_suites: false
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: false
basic_auth_users:
  alice: )") + kAliceHash +
                                      "\n  bob: " + kAlice2bHash + "\n");
  ASSERT_TRUE(c.tls);
  EXPECT_EQ(c.tls->cert_file, "/etc/we/server.crt");
  EXPECT_EQ(c.tls->key_file, "/etc/we/keys/server.key");
  EXPECT_EQ(c.tls->client_ca_file, "/etc/pki/ca.crt");  // absolute: unchanged
  EXPECT_EQ(c.tls->client_auth_type, ClientAuthType::kRequireAndVerifyClientCert);
  EXPECT_EQ(c.tls->min_version, TlsVersion::kTls13);
  EXPECT_EQ(c.tls->max_version, TlsVersion::kTls13);
  EXPECT_THAT(c.tls->cipher_suites,
              ::testing::ElementsAre("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"));
  EXPECT_FALSE(c.tls->prefer_server_cipher_suites);
  EXPECT_THAT(c.tls->curve_preferences, ::testing::ElementsAre("X25519", "CurveP256"));
  EXPECT_EQ(c.basic_auth_users.size(), 2u);
  EXPECT_EQ(c.basic_auth_users.at("alice"), kAliceHash);
}

TEST(ParseWebConfig, DefaultsAndAFileNamedWithoutADirectory) {
  const WebSecurityConfig c = ParseOk("tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n", "web.yml");
  ASSERT_TRUE(c.tls);
  EXPECT_EQ(c.tls->cert_file, "s.crt");  // relative to the working directory, as the file is
  EXPECT_EQ(c.tls->client_auth_type, ClientAuthType::kNoClientCert);
  EXPECT_EQ(c.tls->min_version, TlsVersion::kTls12);
  EXPECT_EQ(c.tls->max_version, TlsVersion::kTls13);
  EXPECT_TRUE(c.tls->prefer_server_cipher_suites);
  EXPECT_EQ(ParseOk("tls_server_config:\n  cert_file: a/s.crt\n  key_file: s.key\n", "conf/w.yml").tls->cert_file,
            "conf/a/s.crt");
}

TEST(ParseWebConfig, InlinePemAndTheOldRequireClientCertSpelling) {
  const WebSecurityConfig c = ParseOk(
      "tls_server_config:\n  cert: |\n    -----BEGIN CERTIFICATE-----\n  key: k\n"
      "  client_ca: ca\n  client_auth_type: RequireClientCert\n");
  ASSERT_TRUE(c.tls);
  EXPECT_EQ(c.tls->cert, "-----BEGIN CERTIFICATE-----\n");
  EXPECT_EQ(c.tls->key, "k");
  EXPECT_EQ(c.tls->client_ca, "ca");
  EXPECT_EQ(c.tls->client_auth_type, ClientAuthType::kRequireAnyClientCert);
}

TEST(ParseWebConfig, TlsWithoutCertificateSettingsIsPlainHttpAsInExporterToolkit) {
  EXPECT_FALSE(ParseOk("tls_server_config:\n  min_version: TLS13\n").tls.has_value());
  EXPECT_FALSE(ParseOk("tls_server_config:\n").tls.has_value());
  EXPECT_FALSE(ParseOk("basic_auth_users:\n").tls.has_value());
}

TEST(ParseWebConfig, EveryClientAuthType) {
  const std::pair<const char*, ClientAuthType> cases[] = {
      {"NoClientCert", ClientAuthType::kNoClientCert},
      {"RequestClientCert", ClientAuthType::kRequestClientCert},
      {"RequireAnyClientCert", ClientAuthType::kRequireAnyClientCert},
      {"VerifyClientCertIfGiven", ClientAuthType::kVerifyClientCertIfGiven},
      {"RequireAndVerifyClientCert", ClientAuthType::kRequireAndVerifyClientCert},
  };
  for (const auto& [name, type] : cases) {
    const std::string ca = type == ClientAuthType::kNoClientCert ? "" : "  client_ca_file: ca.crt\n";
    const WebSecurityConfig c = ParseOk(std::string("tls_server_config:\n  cert_file: s.crt\n") +
                                        "  key_file: s.key\n  client_auth_type: " + name + "\n" + ca);
    ASSERT_TRUE(c.tls) << name;
    EXPECT_EQ(c.tls->client_auth_type, type) << name;
  }
}

struct BadCase {
  const char* what;
  std::string yaml;
  std::string error;  // a line of the errors, "file:line:col: key.path: message" (prefix)
};

TEST(ParseWebConfig, EachBadFileIsRefusedWithFileLineColumnAndKey) {
  const std::string tls = "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n";
  const std::string hash = kAliceHash;
  const BadCase cases[] = {
      {"unknown top-level key", "tls_config:\n  cert_file: x\n", "web.yml:1:1: tls_config: unknown key"},
      {"unknown TLS key", tls + "  cert_fil: x\n", "web.yml:4:3: tls_server_config.cert_fil: unknown key"},
      {"bad client_auth_type", tls + "  client_auth_type: Yes\n",
       "web.yml:4:21: tls_server_config.client_auth_type: invalid value \"Yes\": must be one of"},
      {"TLS 1.1", tls + "  min_version: TLS11\n",
       "web.yml:4:16: tls_server_config.min_version: \"TLS11\" is not supported"},
      {"unknown version", tls + "  max_version: TLS14\n",
       "web.yml:4:16: tls_server_config.max_version: invalid value \"TLS14\": must be TLS12 or TLS13"},
      {"max below min", tls + "  min_version: TLS13\n  max_version: TLS12\n",
       "web.yml:5:16: tls_server_config.max_version: max_version TLS12 is below min_version TLS13"},
      {"certificate without key", "tls_server_config:\n  cert_file: s.crt\n",
       "web.yml:1:1: tls_server_config: missing one of key or key_file"},
      {"key without certificate", "tls_server_config:\n  key_file: s.key\n",
       "web.yml:1:1: tls_server_config: missing one of cert or cert_file"},
      {"client auth alone", "tls_server_config:\n  client_auth_type: RequireAnyClientCert\n",
       "web.yml:1:1: tls_server_config: missing one of cert or cert_file"},
      {"cert and cert_file", tls + "  cert: pem\n",
       "web.yml:4:9: tls_server_config.cert: set either cert or cert_file, not both"},
      {"client CA without client auth", tls + "  client_ca_file: ca.crt\n",
       "web.yml:4:19: tls_server_config.client_ca_file: a client CA is set but client_auth_type is "
       "NoClientCert"},
      {"verifying without a CA", tls + "  client_auth_type: RequireAndVerifyClientCert\n",
       "web.yml:4:21: tls_server_config.client_auth_type: RequireAndVerifyClientCert needs "
       "client_ca_file"},
      {"verify-if-given without a CA", tls + "  client_auth_type: VerifyClientCertIfGiven\n",
       "web.yml:4:21: tls_server_config.client_auth_type: VerifyClientCertIfGiven needs"},
      {"cert_file not a string", "tls_server_config:\n  cert_file: [a]\n  key_file: k\n",
       "web.yml:2:14: tls_server_config.cert_file: expected a string, got a sequence"},
      {"TLS section not a mapping", "tls_server_config: yes\n",
       "web.yml:1:20: tls_server_config: expected a mapping, got scalar \"yes\""},
      {"cipher_suites not a list", tls + "  cipher_suites: TLS_AES_128_GCM_SHA256\n",
       "web.yml:4:18: tls_server_config.cipher_suites: expected a list of strings"},
      {"unknown curve", tls + "  curve_preferences: [CurveP224]\n",
       "web.yml:4:22: tls_server_config.curve_preferences: unknown curve \"CurveP224\""},
      {"prefer_server_cipher_suites not a bool", tls + "  prefer_server_cipher_suites: maybe\n",
       "web.yml:4:32: tls_server_config.prefer_server_cipher_suites: expected true or false"},
      {"client_allowed_sans", tls + "  client_allowed_sans: [a]\n",
       "web.yml:4:3: tls_server_config.client_allowed_sans: not supported by workload_exporter"},
      {"rate_limit", "rate_limit:\n  burst: 1\n", "web.yml:1:1: rate_limit: not supported"},
      {"headers", "http_server_config:\n  headers:\n    X-Frame-Options: deny\n",
       "web.yml:2:3: http_server_config.headers: not supported"},
      {"http2 not a bool", "http_server_config:\n  http2: 1\n",
       "web.yml:2:10: http_server_config.http2: expected true or false, got scalar \"1\""},
      {"not a bcrypt hash", "basic_auth_users:\n  alice: secret\n",
       "web.yml:2:10: basic_auth_users.alice: not a bcrypt hash"},
      {"a truncated hash", "basic_auth_users:\n  alice: " + hash.substr(0, 59) + "\n",
       "web.yml:2:10: basic_auth_users.alice: not a bcrypt hash"},
      {"user with a colon", "basic_auth_users:\n  \"a:b\": " + hash + "\n",
       "web.yml:2:3: basic_auth_users.a:b: invalid user name \"a:b\""},
      {"users not a mapping", "basic_auth_users: [alice]\n",
       "web.yml:1:19: basic_auth_users: expected a mapping of user names to bcrypt hashes"},
      {"hash not a string", "basic_auth_users:\n  alice: {a: b}\n",
       "web.yml:2:10: basic_auth_users.alice: expected a string, got a mapping"},
      {"duplicate key", "basic_auth_users:\n  alice: " + hash + "\n  alice: " + hash + "\n",
       "web.yml:3:3: basic_auth_users.alice: duplicate key (first set at line 2, column 3)"},
      {"YAML syntax", "tls_server_config:\n  cert_file: [\n", "web.yml:3:1: invalid YAML:"},
      {"two documents", "basic_auth_users:\n---\nbasic_auth_users:\n", "web.yml:2:1: a second YAML document"},
      {"top level a list", "- a\n", "web.yml:1:1: expected a mapping at the top level, got a sequence"},
  };
  for (const BadCase& c : cases) {
    EXPECT_THAT(Errors(c.yaml), HasSubstr(c.error)) << c.what << ":\n" << c.yaml;
  }
}

TEST(ParseWebConfig, EveryErrorIsReportedAtOnce) {
  const std::string errors = Errors(
      "tls_server_config:\n  cert_file: s.crt\n  bogus: 1\n  min_version: TLS9\n"
      "basic_auth_users:\n  alice: nope\nextra: 1\n");
  EXPECT_THAT(errors, HasSubstr("web.yml:3:3: tls_server_config.bogus: unknown key"));
  EXPECT_THAT(errors, HasSubstr("web.yml:4:16: tls_server_config.min_version: invalid value"));
  EXPECT_THAT(errors, HasSubstr("web.yml:1:1: tls_server_config: missing one of key or key_file"));
  EXPECT_THAT(errors, HasSubstr("web.yml:6:10: basic_auth_users.alice: not a bcrypt hash"));
  EXPECT_THAT(errors, HasSubstr("web.yml:7:1: extra: unknown key"));
}

TEST(Bcrypt, RecognisesHashes) {
  EXPECT_TRUE(IsBcryptHash(kAliceHash));
  EXPECT_TRUE(IsBcryptHash(kAlice2bHash));
  std::string a = kAliceHash;
  a[2] = 'a';
  EXPECT_TRUE(IsBcryptHash(a));
  EXPECT_FALSE(IsBcryptHash(""));
  EXPECT_FALSE(IsBcryptHash("$1$abc$def"));
  EXPECT_FALSE(IsBcryptHash(std::string(kAliceHash) + "x"));
  std::string cost = kAliceHash;
  cost[5] = '3';  // cost 03: below bcrypt's minimum
  EXPECT_FALSE(IsBcryptHash(cost));
  std::string bad_char = kAliceHash;
  bad_char[40] = '!';
  EXPECT_FALSE(IsBcryptHash(bad_char));
  std::string variant = kAliceHash;
  variant[2] = 'z';
  EXPECT_FALSE(IsBcryptHash(variant));
}

TEST(Bcrypt, MatchesOnlyTheRightPassword) {
  EXPECT_TRUE(BcryptMatches("correct horse", kAliceHash));
  EXPECT_TRUE(BcryptMatches("correct horse", kAlice2bHash));
  EXPECT_FALSE(BcryptMatches("correct horsE", kAliceHash));
  EXPECT_FALSE(BcryptMatches("correct horse ", kAliceHash));
  EXPECT_FALSE(BcryptMatches("", kAliceHash));
  EXPECT_TRUE(BcryptMatches("", kEmptyHash));
  EXPECT_FALSE(BcryptMatches("x", kEmptyHash));
  // crypt() stops at a NUL: "correct horse\0anything" must not pass for "correct horse".
  EXPECT_FALSE(BcryptMatches(std::string_view("correct horse\0x", 15), kAliceHash));
  // A hash that differs in its last character.
  std::string other = kAliceHash;
  other.back() = other.back() == 'e' ? 'f' : 'e';
  EXPECT_FALSE(BcryptMatches("correct horse", other));
  EXPECT_FALSE(BcryptMatches("correct horse", "not a hash"));
  EXPECT_FALSE(BcryptMatches("correct horse", ""));
}

TEST(Bcrypt, CostTenTakesTensOfMillisecondsWhichIsWhyItIsCached) {
  // htpasswd -nbBC 10: the cost the documentation recommends. Measured so that the README's
  // "~70 ms" and the server's caching stay honest on this machine.
  const std::string hash = "$2y$10$Al10875vmLFtFOYGONb.xOeCKbY0HFL7Wx/dEob5nK4aJvZzoyiVq";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(BcryptMatches("guess", hash));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GT(took, std::chrono::milliseconds(10));
  std::printf("bcrypt cost 10: %.1f ms\n", std::chrono::duration<double, std::milli>(took).count());
}

// ------------------------------------------------------------------ BuildWebSecurity

struct Pem {
  std::string cert;
  std::string key;
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// A self-signed P-256 certificate for CN=`name`, made with OpenSSL's API.
Pem SelfSigned(const std::string& name) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), subject);
  X509_sign(cert.get(), key.get(), EVP_sha256());
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return Pem{BioText(cert_bio.get()), BioText(key_bio.get())};
}

class BuildWebSecurityTest : public ::testing::Test {
 protected:
  BuildWebSecurityTest() : server_(SelfSigned("localhost")), other_(SelfSigned("other")) {
    tree_.Write("tls/server.crt", server_.cert);
    tree_.Write("tls/server.key", server_.key);
    tree_.Write("tls/other.key", other_.key);
    tree_.Write("tls/ca.crt", other_.cert);
    tree_.Write("tls/garbage.crt", "not a certificate\n");
  }

  WebSecurityResult Load(const std::string& yaml) {
    tree_.Write("web.yml", yaml);
    return LoadWebSecurity(tree_.Path("web.yml"));
  }

  TempTree tree_;
  Pem server_;
  Pem other_;
};

TEST_F(BuildWebSecurityTest, RelativeCertificatesLoadAndUsersCarryOver) {
  WebSecurityResult r =
      Load(std::string("tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n"
                       "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: tls/ca.crt\n"
                       "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "
                       "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, TLS_AES_256_GCM_SHA384]\n"
                       "  curve_preferences: [X25519, CurveP256]\n"
                       "basic_auth_users:\n  alice: ") +
           kAliceHash + "\n");
  ASSERT_TRUE(r.ok()) << FormatErrors(r.errors);
  EXPECT_NE(r.security->tls, nullptr);
  EXPECT_EQ(r.security->basic_auth_users.at("alice"), kAliceHash);
}

TEST_F(BuildWebSecurityTest, InlinePemLoads) {
  auto indent = [](const std::string& pem) {
    std::string out;
    for (char c : pem) {
      out += c;
      if (c == '\n') out += "    ";
    }
    return out;
  };
  WebSecurityResult r = Load("tls_server_config:\n  cert: |\n    " + indent(server_.cert) + "\n  key: |\n    " +
                             indent(server_.key) + "\n");
  ASSERT_TRUE(r.ok()) << FormatErrors(r.errors);
  EXPECT_NE(r.security->tls, nullptr);
}

TEST_F(BuildWebSecurityTest, NoTlsMeansNoContext) {
  WebSecurityResult r = Load(std::string("basic_auth_users:\n  alice: ") + kAliceHash + "\n");
  ASSERT_TRUE(r.ok()) << FormatErrors(r.errors);
  EXPECT_EQ(r.security->tls, nullptr);
}

TEST_F(BuildWebSecurityTest, EachUnusableFileIsNamed) {
  const std::string web = tree_.Path("web.yml");
  struct Case {
    const char* yaml;
    std::string error;
  } cases[] = {
      {"tls_server_config:\n  cert_file: tls/missing.crt\n  key_file: tls/server.key\n",
       web + ": tls_server_config.cert_file: " + tree_.Path("tls/missing.crt") + ": No such file or directory"},
      {"tls_server_config:\n  cert_file: tls/garbage.crt\n  key_file: tls/server.key\n",
       web + ": tls_server_config.cert_file: " + tree_.Path("tls/garbage.crt") + ": "},
      {"tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/missing.key\n",
       web + ": tls_server_config.key_file: " + tree_.Path("tls/missing.key") + ": "},
      {"tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/other.key\n",
       web + ": tls_server_config.key_file: " + tree_.Path("tls/other.key") + " does not match the certificate"},
      {"tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n"
       "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: tls/nope.crt\n",
       web + ": tls_server_config.client_ca_file: " + tree_.Path("tls/nope.crt") +
           ": cannot open: No such file or directory"},
      {"tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n"
       "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA_NOPE]\n",
       web + ": tls_server_config.cipher_suites: unknown or unsupported cipher suite "
             "\"TLS_RSA_WITH_RC4_128_SHA_NOPE\""},
      {"tls_server_config:\n  cert: garbage\n  key_file: tls/server.key\n",
       web + ": tls_server_config.cert: not a PEM certificate"},
  };
  for (const Case& c : cases) {
    WebSecurityResult r = Load(c.yaml);
    EXPECT_FALSE(r.ok()) << c.yaml;
    EXPECT_THAT(FormatErrors(r.errors), HasSubstr(c.error)) << c.yaml;
  }
}

TEST_F(BuildWebSecurityTest, AMissingWebConfigFileIsOneErrorNamingIt) {
  WebSecurityResult r = LoadWebSecurity(tree_.Path("nope.yml"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(), tree_.Path("nope.yml") + ": cannot open: No such file or directory");
}

TEST_F(BuildWebSecurityTest, ParseErrorsComeWithThePathAsGiven) {
  WebSecurityResult r = Load("basic_auth_users:\n  alice: plain\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].ToString(),
              HasSubstr(tree_.Path("web.yml") + ":2:10: basic_auth_users.alice: not a bcrypt hash"));
}

}  // namespace
}  // namespace we
