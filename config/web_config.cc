#include "config/web_config.h"

#include <yaml-cpp/yaml.h>

#include "config/yaml_report.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <utility>

namespace we {
namespace {

constexpr std::string_view kTls = kTlsServerConfigKey;

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

void ParseTls(const Entry& section, const std::string& file_name, Reporter& reporter, WebSecurityConfig& config) {
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
                       Quote(*s) +
                           " is not supported: TLS 1.0 and 1.1 are obsolete (RFC 8996); "
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
          if (std::find(std::begin(kCurveNames), std::end(kCurveNames), curve) == std::end(kCurveNames)) {
            reporter.Add(e.ValueMark(), e.path,
                         "unknown curve " + Quote(curve) + ": must be one of CurveP256, CurveP384, CurveP521, X25519");
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

  auto both = [&](const std::string& file_key, const std::string& inline_key, bool file_set, bool inline_set) {
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
                 client_auth_text +
                     " needs client_ca_file (or client_ca): the CA that signs the "
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
      reporter.Add(e.key.Mark(), e.path, "invalid user name " + Quote(user) + ": must be non-empty, without ':'");
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

}  // namespace

WebConfigResult ParseWebConfig(std::string_view yaml_text, const std::string& file_name) {
  Reporter reporter(file_name);
  const std::string text(yaml_text);
  YAML::Node root;
  try {
    yaml_report::Documents documents = yaml_report::LoadAtMostTwoDocuments(text);
    if (documents.second) {
      reporter.Add(*documents.second, "", "a second YAML document; the file must hold one");
    }
    if (documents.first) root = std::move(*documents.first);
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
    return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

}  // namespace we
