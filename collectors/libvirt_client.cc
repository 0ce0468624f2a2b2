#include "collectors/libvirt_client.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace we {
namespace {

// libvirt prints every error to stderr unless told otherwise; ours go through the collector.
void QuietErrors(void*, virErrorPtr) {}

std::string LastError(const char* what) {
  virErrorPtr e = virGetLastError();
  return std::string(what) + ": " + (e != nullptr && e->message != nullptr ? e->message : "unknown error");
}

bool LastErrorMeansAbsent() {
  virErrorPtr e = virGetLastError();
  if (e == nullptr || e->message == nullptr) return false;
  // "Failed to connect socket to '/var/run/libvirt/libvirt-sock-ro': No such file or directory"
  return std::strstr(e->message, "No such file or directory") != nullptr;
}

class RealLibvirtClient final : public LibvirtClient {
 public:
  explicit RealLibvirtClient(std::string uri) : uri_(std::move(uri)) {
    virSetErrorFunc(nullptr, QuietErrors);
  }
  ~RealLibvirtClient() override { Close(); }

  std::vector<DomainStatsRecord> GetAllDomainStats() override {
    Connect();
    virDomainStatsRecordPtr* records = nullptr;
    const unsigned int stats = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON |
                               VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK;
    const unsigned int flags = VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE | VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
    const int n = virConnectGetAllDomainStats(conn_, stats, &records, flags);
    if (n < 0) {
      const std::string error = LastError(("libvirt " + uri_ + ": virConnectGetAllDomainStats").c_str());
      if (virConnectIsAlive(conn_) != 1) Close();  // libvirtd went away: reconnect next time
      throw LibvirtError(error, false);
    }
    std::vector<DomainStatsRecord> out;
    out.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      DomainStatsRecord r;
      if (const char* name = virDomainGetName(records[i]->dom)) r.name = name;
      char uuid[VIR_UUID_STRING_BUFLEN];
      if (virDomainGetUUIDString(records[i]->dom, uuid) == 0) r.uuid = uuid;
      for (int p = 0; p < records[i]->nparams; ++p) {
        const virTypedParameter& param = records[i]->params[p];
        switch (param.type) {
          case VIR_TYPED_PARAM_INT: r.numbers[param.field] = param.value.i; break;
          case VIR_TYPED_PARAM_UINT: r.numbers[param.field] = param.value.ui; break;
          case VIR_TYPED_PARAM_LLONG: r.numbers[param.field] = static_cast<double>(param.value.l); break;
          case VIR_TYPED_PARAM_ULLONG: r.numbers[param.field] = static_cast<double>(param.value.ul); break;
          case VIR_TYPED_PARAM_DOUBLE: r.numbers[param.field] = param.value.d; break;
          case VIR_TYPED_PARAM_BOOLEAN: r.numbers[param.field] = param.value.b ? 1 : 0; break;
          case VIR_TYPED_PARAM_STRING:
            if (param.value.s != nullptr) r.strings[param.field] = param.value.s;
            break;
          default: break;
        }
      }
      out.push_back(std::move(r));
    }
    virDomainStatsRecordListFree(records);
    return out;
  }

 private:
  void Connect() {
    if (conn_ != nullptr) {
      if (virConnectIsAlive(conn_) == 1) return;
      Close();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now < next_attempt_) {
      throw LibvirtError("libvirt " + uri_ + ": not connected (" + last_error_ + "); next attempt in " +
                             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(next_attempt_ - now).count() + 1) +
                             " s",
                         last_absent_);
    }
    conn_ = virConnectOpenReadOnly(uri_.c_str());
    if (conn_ == nullptr) {
      last_error_ = LastError(("cannot connect to " + uri_).c_str());
      last_absent_ = LastErrorMeansAbsent();
      backoff_ = std::min<std::chrono::steady_clock::duration>(backoff_ * 2, std::chrono::seconds(30));
      next_attempt_ = now + backoff_;
      throw LibvirtError("libvirt: " + last_error_, last_absent_);
    }
    backoff_ = std::chrono::milliseconds(500);  // the first retry after a later failure waits 1 s
  }

  void Close() {
    if (conn_ != nullptr) virConnectClose(conn_);
    conn_ = nullptr;
  }

  std::string uri_;
  virConnectPtr conn_ = nullptr;
  std::chrono::steady_clock::duration backoff_ = std::chrono::milliseconds(500);
  std::chrono::steady_clock::time_point next_attempt_{};
  std::string last_error_;
  bool last_absent_ = false;
};

}  // namespace

std::unique_ptr<LibvirtClient> MakeLibvirtClient(const std::string& uri) {
  return std::make_unique<RealLibvirtClient>(uri);
}

}  // namespace we
