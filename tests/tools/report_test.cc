// `workload_exporter report`: its figures are those of the snapshot /api/v1/workloads was built
// from (the fixture host: containers and one VM), its JSON output parses whatever the names hold,
// its command line is understood or refused naming the argument, and its client gets the
// document from the daemon's own server: plain, and over TLS with basic auth configured as the
// daemon's --web.config.file does it, with certificates made here with OpenSSL. It refuses a
// certificate from another CA or for another host, a wrong password, and a redirect, and gives up,
// saying so, on a server that accepts and never answers.

#include "tools/report.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <thread>

#include "collectors/json.h"
#include "exposition/workloads_json.h"
#include "http/server.h"
#include "http/tls_context.h"
#include "test_util/fixture_snapshot.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

namespace bj = json::bj;

std::string Mib(double bytes) {
  char buf[32];
  const double v = bytes / (1 << 20);
  std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : v >= 1 ? "%.2f" : "%.3f", v);
  return buf;
}

bj::value ParseOrDie(const std::string& text) {
  std::string error;
  auto doc = json::Parse(text, &error);
  EXPECT_TRUE(doc) << error << "\n" << text;
  return doc ? std::move(*doc) : bj::value();
}

TEST(Report, TheVmRowsAreTheSnapshotsFigures) {
  auto snap = test_util::FixtureSnapshot();
  std::string error;
  auto md = RenderReport(WorkloadsJson(*snap), {.format = "markdown"}, &error);
  ASSERT_TRUE(md) << error;
  EXPECT_NE(md->find("| Metric "), std::string::npos);
  // The one VM: its 1h idle and peak memory, in MiB as the report prints them.
  const WorkloadView* vm = nullptr;
  double container_idle_sum = 0;
  int containers = 0;
  for (const auto& v : snap->workloads) {
    if (v.sample.identity.kind == "vm") vm = &v;
    if (v.sample.identity.kind == "container" && v.windows[2].memory_idle_bytes) {
      container_idle_sum += *v.windows[2].memory_idle_bytes;
      ++containers;
    }
  }
  ASSERT_NE(vm, nullptr);
  const std::string vm_idle = Mib(*vm->windows[2].memory_idle_bytes);
  const std::string container_idle = Mib(container_idle_sum / containers);
  // The row of idle memory, its cells padded to the Metric column's longest label.
  const auto row = md->find("| Idle memory (MiB) ");
  ASSERT_NE(row, std::string::npos) << *md;
  const std::string line = md->substr(row, md->find('\n', row) - row);
  EXPECT_NE(line.find("| " + vm_idle + " ("), std::string::npos) << line;
  EXPECT_NE(md->find(container_idle), std::string::npos) << *md;
  EXPECT_NE(md->find("window 1h"), std::string::npos);
  auto table = RenderReport(WorkloadsJson(*snap), {.format = "table"}, &error);
  ASSERT_TRUE(table);
  EXPECT_NE(table->find("Peak CPU (cores)"), std::string::npos);

  // --format json, read back: the same figures as numbers.
  auto text = RenderReport(WorkloadsJson(*snap), {.format = "json"}, &error);
  ASSERT_TRUE(text) << error;
  const bj::value doc = ParseOrDie(*text);
  EXPECT_EQ(doc.at("window"), "1h");
  const bj::value& idle = doc.at("kinds").at("memory_idle_bytes");
  ASSERT_TRUE(json::Number(&idle.at("vm")));
  EXPECT_DOUBLE_EQ(*json::Number(&idle.at("vm")), *vm->windows[2].memory_idle_bytes / (1 << 20));
  EXPECT_DOUBLE_EQ(*json::Number(&idle.at("container")), container_idle_sum / containers / (1 << 20));
  const bj::array& workloads = doc.at("workloads").as_array();
  ASSERT_EQ(workloads.size(), snap->workloads.size());
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    EXPECT_EQ(workloads[i].at("name"), bj::value(snap->workloads[i].sample.identity.name));
    EXPECT_EQ(workloads[i].at("kind"), bj::value(snap->workloads[i].sample.identity.kind));
    const auto peak = snap->workloads[i].windows[2].cpu_peak_cores;
    EXPECT_EQ(json::Number(&workloads[i].at("cpu_peak_cores")), peak);
  }
}

TEST(Report, ANameWithQuotesAndBackslashesStaysJson) {
  auto snap = test_util::FixtureSnapshot();
  const std::string odd = R"(say "hi" \n C:\dir)";
  snap->workloads[0].sample.identity.name = odd;
  std::string error;
  auto text = RenderReport(WorkloadsJson(*snap), {.format = "json"}, &error);
  ASSERT_TRUE(text) << error;
  EXPECT_EQ(ParseOrDie(*text).at("workloads").at(0).at("name"), bj::value(odd));
}

TEST(Report, FiguresThatAreNotNumbersAreAbsent) {
  // The report once read every value as text; now a string where a number belongs is no figure.
  const std::string doc = R"({"windows":["1m"],"workloads":[{"kind":"vm","name":"v",
      "startup_seconds":"12","windows":{"1m":{"memory_idle_bytes":1048576,"cpu_peak_cores":0.5}}}]})";
  std::string error;
  auto text = RenderReport(doc, {.format = "json"}, &error);
  ASSERT_TRUE(text) << error;
  const bj::value out = ParseOrDie(*text);
  const bj::value& w = out.at("workloads").at(0);
  EXPECT_TRUE(w.at("startup_seconds").is_null());
  EXPECT_EQ(json::Number(&w.at("memory_idle_bytes")), 1.0);
  EXPECT_EQ(json::Number(&w.at("cpu_peak_cores")), 0.5);
  EXPECT_TRUE(out.at("kinds").at("cpu_peak_cores").at("container").is_null());
}

TEST(Report, BadInputNamesTheProblem) {
  std::string error;
  EXPECT_FALSE(RenderReport("{\"workloads\":[", {}, &error));
  EXPECT_EQ(error, "cannot read the daemon's answer: line 1, column 15: incomplete JSON");
  EXPECT_FALSE(RenderReport("{}", {.format = "yaml"}, &error));
  EXPECT_EQ(error, "--format must be table, markdown, json or csv, got \"yaml\"");
}

// A loopback TCP listener on a free port that accepts connections and never answers them.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
    accepter_ = std::thread([this] {
      // Until the listener is shut down: accept() then fails.
      for (int c; (c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) accepted_.push_back(c);
    });
  }
  ~SilentListener() {
    Hangup();
    ::close(fd_);
  }
  // Stops accepting and closes every connection accepted: a client still waiting then sees the end.
  void Hangup() {
    ::shutdown(fd_, SHUT_RDWR);
    if (accepter_.joinable()) accepter_.join();
    for (int c : accepted_) ::close(c);
    accepted_.clear();
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread accepter_;
  std::vector<int> accepted_;
};

TEST(FetchWorkloadsJson, ADaemonThatAcceptsAndNeverAnswersTimesOut) {
  SilentListener silent;
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.port());
  // Run aside, so that a hang fails this test instead of blocking the suite.
  auto fetch = std::async(std::launch::async, [&] {
    std::string error;
    auto body =
        FetchWorkloadsJson(url, {.connect = std::chrono::seconds(5), .read = std::chrono::milliseconds(300)}, &error);
    return std::make_pair(body, error);
  });
  if (fetch.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    silent.Hangup();  // so that the fetch ends and this test can fail rather than hang
    FAIL() << "the report hangs on a daemon that never answers";
  }
  auto [body, error] = fetch.get();
  EXPECT_FALSE(body);
  EXPECT_EQ(error, url + "/api/v1/workloads: no answer within 300ms");
}

TEST(FetchWorkloadsJson, NobodyListeningNamesTheUrl) {
  uint16_t port;
  {
    SilentListener closed;  // a port that was free a moment ago, now closed again
    port = closed.port();
  }
  std::string error;
  EXPECT_FALSE(FetchWorkloadsJson("http://127.0.0.1:" + std::to_string(port), {}, &error));
  EXPECT_EQ(error.rfind("http://127.0.0.1:" + std::to_string(port) + "/api/v1/workloads: cannot connect: ", 0), 0u)
      << error;
}

// The daemon's HTTP server on a loop thread of its own, serving `document` at /api/v1/workloads,
// with `security` (TLS, basic auth) as --web.config.file sets it.
class DaemonServer {
 public:
  explicit DaemonServer(std::string document, HttpSecurity security = {})
      : doc_(std::make_shared<const std::string>(std::move(document))),
        server_(io_, HttpServerOptions{},
                HttpHandlers{.metrics = [](bool, HttpHandlers::MetricsDone done) { done(nullptr); },
                             .ready = nullptr,
                             .workloads_json = [doc = doc_](HttpHandlers::WorkloadsDone done) { done(doc); }}) {
    server_.SetSecurity(std::move(security));  // before the loop runs, as the server requires
    if (auto e = server_.Listen("127.0.0.1:0")) ADD_FAILURE() << *e;
    port_ = server_.port();
    loop_ = std::thread([this] { io_.run(); });
  }
  ~DaemonServer() {
    work_.reset();
    io_.stop();
    loop_.join();
  }
  uint16_t port() const { return port_; }
  const std::string& document() const { return *doc_; }

 private:
  boost::asio::io_context io_;
  std::shared_ptr<const std::string> doc_;
  HttpServer server_;
  uint16_t port_ = 0;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ = boost::asio::make_work_guard(io_);
  std::thread loop_;
};

TEST(FetchWorkloadsJson, TheDocumentFromTheDaemonsServer) {
  DaemonServer server(WorkloadsJson(*test_util::FixtureSnapshot()));
  std::string error;
  auto body = FetchWorkloadsJson("http://127.0.0.1:" + std::to_string(server.port()), {}, &error);
  ASSERT_TRUE(body) << error;
  EXPECT_EQ(*body, server.document());
}

// ------------------------------------------------------------------ TLS and basic auth

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A P-256 certificate for CN=`name`, signed by `issuer` (self-signed, a CA, when null); `san` is
// its subjectAltName ("DNS:localhost"), none when empty.
Cert MakeCert(const std::string& name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, const std::string& san) {
  Cert cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  AddExtension(cert.get(), signer, NID_basic_constraints, issuer == nullptr ? "critical,CA:TRUE" : "CA:FALSE");
  if (!san.empty()) AddExtension(cert.get(), signer, NID_subject_alt_name, san.c_str());
  X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256());
  return cert;
}

std::string Pem(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_X509(bio.get(), cert);
  return BioText(bio.get());
}

std::string Pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return BioText(bio.get());
}

// htpasswd -nbBC 4 alice 'correct horse' (as tests/config/web_config_test.cc has it).
constexpr char kAliceHash[] = "$2y$04$sIjzjH0FQliyt5THU5pAEunoILHokiFp59wzOgbpjaqrUJCuQsoBe";

// A CA, the daemon's certificate from it for DNS:localhost, another CA that signed nothing here,
// and the daemon's server with TLS and alice's password, configured from a web config file as
// the daemon is.
class ReportTlsTest : public ::testing::Test {
 protected:
  ReportTlsTest() {
    Key ca_key(EVP_EC_gen("P-256"), &EVP_PKEY_free), server_key(EVP_EC_gen("P-256"), &EVP_PKEY_free),
        other_key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    Cert ca = MakeCert("report test CA", ca_key.get(), nullptr, nullptr, "");
    Cert server = MakeCert("localhost", server_key.get(), ca.get(), ca_key.get(), "DNS:localhost");
    Cert other = MakeCert("another CA", other_key.get(), nullptr, nullptr, "");
    tree_.Write("ca.crt", Pem(ca.get()));
    tree_.Write("other-ca.crt", Pem(other.get()));
    tree_.Write("server.crt", Pem(server.get()));
    tree_.Write("server.key", Pem(server_key.get()));
    tree_.Write("password", "correct horse\n");
    tree_.Write("wrong-password", "battery staple\n");
    tree_.Write("web.yml", "tls_server_config:\n  cert_file: " + tree_.Path("server.crt") + "\n  key_file: " +
                               tree_.Path("server.key") + "\nbasic_auth_users:\n  alice: " + kAliceHash + "\n");
    WebSecurityResult security = LoadWebSecurity(tree_.Path("web.yml"));
    if (!security.ok()) ADD_FAILURE() << security.errors.size() << " errors in web.yml";
    server_ = std::make_unique<DaemonServer>(WorkloadsJson(*test_util::FixtureSnapshot()),
                                             security.ok() ? *security.security : HttpSecurity{});
  }

  std::string Url(const std::string& host = "localhost") const {
    return "https://" + host + ":" + std::to_string(server_->port());
  }

  // RunReport's own parsing of the command line, then the fetch.
  std::pair<std::optional<std::string>, std::string> Fetch(std::vector<std::string> args) {
    std::string error;
    auto parsed = ParseReportArgs(args, &error);
    if (!parsed) return {std::nullopt, "usage: " + error};
    auto body = FetchWorkloadsJson(parsed->url, parsed->http, &error);
    return {body, error};
  }

  test_util::TempTree tree_;
  std::unique_ptr<DaemonServer> server_;
};

TEST_F(ReportTlsTest, TheCaFileAndThePasswordFileGetTheDocument) {
  auto [body, error] = Fetch({"--url", Url(), "--ca-file", tree_.Path("ca.crt"), "--user", "alice", "--password-file",
                              tree_.Path("password")});
  ASSERT_TRUE(body) << error;
  EXPECT_EQ(*body, server_->document());
}

TEST_F(ReportTlsTest, ACertificateFromAnotherCaIsRefused) {
  auto [body, error] = Fetch({"--url", Url(), "--ca-file", tree_.Path("other-ca.crt"), "--user", "alice",
                              "--password-file", tree_.Path("password")});
  EXPECT_FALSE(body);
  EXPECT_EQ(error, Url() +
                       "/api/v1/workloads: TLS handshake: certificate not accepted: unable to get local issuer "
                       "certificate");
}

TEST_F(ReportTlsTest, ACertificateForAnotherHostIsRefused) {
  // The right CA, but the certificate names localhost, not 127.0.0.1.
  auto [body, error] = Fetch({"--url", Url("127.0.0.1"), "--ca-file", tree_.Path("ca.crt"), "--user", "alice",
                              "--password-file", tree_.Path("password")});
  EXPECT_FALSE(body);
  EXPECT_EQ(error,
            Url("127.0.0.1") + "/api/v1/workloads: TLS handshake: certificate not accepted: IP address mismatch");
}

TEST_F(ReportTlsTest, InsecureSkipsTheCertificateCheck) {
  auto [body, error] =
      Fetch({"--url", Url("127.0.0.1"), "--insecure", "--user", "alice", "--password-file", tree_.Path("password")});
  ASSERT_TRUE(body) << error;
  EXPECT_EQ(*body, server_->document());
}

TEST_F(ReportTlsTest, AWrongOrMissingPasswordIsA401Error) {
  auto [body, error] = Fetch({"--url", Url(), "--ca-file", tree_.Path("ca.crt"), "--user", "alice", "--password-file",
                              tree_.Path("wrong-password")});
  EXPECT_FALSE(body);
  EXPECT_EQ(error, Url() + "/api/v1/workloads: HTTP 401 Unauthorized (check --user and --password-file)");
  auto [none, error2] = Fetch({"--url", Url(), "--ca-file", tree_.Path("ca.crt")});
  EXPECT_FALSE(none);
  EXPECT_EQ(error2, error);
}

TEST_F(ReportTlsTest, PlainHttpToTheTlsServerIsAnError) {
  auto [body, error] = Fetch({"--url", "http://localhost:" + std::to_string(server_->port())});
  EXPECT_FALSE(body);
  EXPECT_EQ(error, "http://localhost:" + std::to_string(server_->port()) + "/api/v1/workloads: HTTP 400 Bad Request");
}

TEST_F(ReportTlsTest, AnUnreadableCaFileIsNamed) {
  auto [body, error] = Fetch({"--url", Url(), "--ca-file", tree_.Path("missing.crt")});
  EXPECT_FALSE(body);
  EXPECT_EQ(error, "--ca-file " + tree_.Path("missing.crt") + ": No such file or directory");
  std::tie(body, error) = Fetch({"--url", Url(), "--ca-file", tree_.Path("password")});
  EXPECT_FALSE(body);
  EXPECT_EQ(error.rfind("--ca-file " + tree_.Path("password") + ": no PEM certificate read", 0), 0u) << error;
}

TEST(FetchWorkloadsJson, AServerThatNeverAnswersTheTlsHandshakeTimesOut) {
  SilentListener silent;
  const std::string url = "https://127.0.0.1:" + std::to_string(silent.port());
  auto fetch = std::async(std::launch::async, [&] {
    std::string error;
    auto body = FetchWorkloadsJson(url, {.connect = std::chrono::milliseconds(300), .insecure = true}, &error);
    return std::make_pair(body, error);
  });
  if (fetch.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    silent.Hangup();
    FAIL() << "the report hangs on a server that never answers the handshake";
  }
  auto [body, error] = fetch.get();
  EXPECT_FALSE(body);
  EXPECT_EQ(error, url + "/api/v1/workloads: no TLS handshake within 300ms");
}

// A real HTTP server of one answer: every connection is read up to the end of its request
// header and answered `response`, then closed. The daemon's server never redirects, so the
// redirect test needs this one.
class OneAnswerServer {
 public:
  explicit OneAnswerServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (int c; (c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
        std::string request;
        char buf[1024];
        for (ssize_t n; request.find("\r\n\r\n") == std::string::npos && (n = ::read(c, buf, sizeof buf)) > 0;) {
          request.append(buf, static_cast<std::size_t>(n));
        }
        if (::write(c, response_.data(), response_.size()) < 0) ADD_FAILURE() << "write failed";
        ::close(c);
      }
    });
  }
  ~OneAnswerServer() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  std::string response_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(FetchWorkloadsJson, ARedirectIsRefusedNamingWhereItPointed) {
  OneAnswerServer redirect(
      "HTTP/1.1 302 Found\r\nLocation: http://elsewhere.example/api/v1/workloads\r\nContent-Length: 0\r\n"
      "Connection: close\r\n\r\n");
  const std::string url = "http://127.0.0.1:" + std::to_string(redirect.port());
  std::string error;
  EXPECT_FALSE(FetchWorkloadsJson(url, {}, &error));
  EXPECT_EQ(error, url +
                       "/api/v1/workloads: redirected to http://elsewhere.example/api/v1/workloads (HTTP 302); "
                       "redirects are not followed");
}

TEST(ParseHttpUrl, SchemesHostsAndPorts) {
  std::string error;
  auto u = ParseHttpUrl("https://[::1]:9746/x?y", &error);
  ASSERT_TRUE(u) << error;
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "9746");
  EXPECT_EQ(u->authority, "[::1]:9746");
  EXPECT_EQ(u->target, "/x?y");
  u = ParseHttpUrl("localhost", &error);
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(ParseHttpUrl("https://h", &error)->port, "443");
  EXPECT_FALSE(ParseHttpUrl("ftp://h", &error));
  EXPECT_EQ(error, "ftp://h: the scheme must be http or https, not \"ftp\"");
  EXPECT_FALSE(ParseHttpUrl("http://h:99999", &error));
  EXPECT_EQ(error, "http://h:99999: the port must be a number from 1 to 65535, got \"99999\"");
  EXPECT_FALSE(ParseHttpUrl("http://alice:pw@h", &error));
  EXPECT_EQ(error, "http://alice:pw@h: credentials go in --user and --password-file");
}

TEST(BasicAuthorization, IsBase64OfUserColonPassword) {
  EXPECT_EQ(BasicAuthorization("alice", "correct horse"), "Basic YWxpY2U6Y29ycmVjdCBob3JzZQ==");
  EXPECT_EQ(BasicAuthorization("a", ""), "Basic YTo=");
}

// ------------------------------------------------------------------ the command line

TEST(ParseReportArgs, EveryOptionInBothSpellings) {
  test_util::TempTree tree;
  tree.Write("pw", "s3cret\r\n");
  std::string error;
  auto a = ParseReportArgs({"--url=https://h:1", "--format", "csv", "--select", "name=~flask.*", "--select=kind!=vm",
                            "--group-pattern", "(.*)-(vm|ctr)", "--ca-file", "/ca.pem", "--user", "alice",
                            "--password-file", tree.Path("pw"), "--connect-timeout", "2s", "--read-timeout=30s"},
                           &error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->url, "https://h:1");
  EXPECT_EQ(a->report.format, "csv");
  ASSERT_EQ(a->report.selectors.size(), 2u);
  EXPECT_EQ(a->report.selectors[1].text, "kind!=vm");
  EXPECT_EQ(a->report.grouping.key, "name");  // --group-pattern alone groups by name
  EXPECT_TRUE(a->report.grouping.pattern);
  EXPECT_EQ(a->http.ca_file, "/ca.pem");
  EXPECT_EQ(a->http.password, "s3cret");  // one trailing newline dropped, CRLF too
  EXPECT_EQ(a->http.connect, std::chrono::seconds(2));
  EXPECT_EQ(a->http.read, std::chrono::seconds(30));

  a = ParseReportArgs({"--compare", "vm:flask-vm", "container:flask-ctr", "--compare=container:b*", "vm:a*"}, &error);
  ASSERT_TRUE(a) << error;
  ASSERT_EQ(a->report.grouping.pairs.size(), 2u);
  EXPECT_EQ(a->report.grouping.pairs[1].vm, "a*");
  EXPECT_EQ(a->report.grouping.pairs[1].container, "b*");

  tree.Write("pw2", "two\n\n");
  a = ParseReportArgs({"--url", "https://h", "--insecure", "--user", "u", "--password-file", tree.Path("pw2")}, &error);
  ASSERT_TRUE(a) << error;
  EXPECT_TRUE(a->http.insecure);
  EXPECT_EQ(a->http.password, "two\n");  // only one newline is the file's end
}

TEST(ParseReportArgs, UsageErrorsNameTheArgument) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--bogus"}, "unknown argument \"--bogus\""},
      {{"--format", "yaml"}, "--format must be table, markdown, json or csv, got \"yaml\""},
      {{"--select", "name"}, "--select \"name\": expected key=value, key!=value, key=~regex or key!~regex"},
      {{"--select"}, "--select needs a value"},
      {{"--timeout", "soon"}, "--timeout must be a duration such as 10s, got \"soon\""},
      {{"--compare", "vm:a"}, "--compare needs two values: vm:NAME container:NAME"},
      {{"--compare", "vm:a", "container:b", "--group-by", "label_app"},
       "--compare makes its own groups: it cannot be combined with --group-by or --group-pattern"},
      {{"--group-by", "label-app"}, "--group-by \"label-app\": a key is a label name ([A-Za-z0-9_]+)"},
      {{"--group-pattern", "x"}, "--group-pattern \"x\": needs a capture group, whose match is the group"},
      {{"--url", "ftp://h"}, "--url ftp://h: the scheme must be http or https, not \"ftp\""},
      {{"--ca-file", "ca.pem"}, "--ca-file is for https URLs, and --url is http://localhost:9746"},
      {{"--url", "https://h", "--insecure", "--ca-file", "c"}, "--insecure and --ca-file exclude each other"},
      {{"--insecure=yes"}, "--insecure takes no value"},
      {{"--user", "alice"}, "--user needs --password-file (a password is never given on the command line)"},
      {{"--password-file", "pw"}, "--password-file needs --user"},
      {{"--user", "alice", "--password-file", "/nonexistent/pw"},
       "--password-file /nonexistent/pw: No such file or directory"},
  };
  for (const auto& [args, message] : cases) {
    std::string error;
    EXPECT_FALSE(ParseReportArgs(args, &error)) << message;
    EXPECT_EQ(error, message);
  }
}

TEST(RunReport, UsageErrorsNeedNoDaemon) {
  EXPECT_EQ(RunReport({"--format", "yaml", "--url", "http://127.0.0.1:1"}), 2);
  EXPECT_EQ(RunReport({"--timeout", "soon"}), 2);
  EXPECT_EQ(RunReport({"--bogus"}), 2);
  EXPECT_EQ(RunReport({"--select", "name=~("}), 2);
}

}  // namespace
}  // namespace we
