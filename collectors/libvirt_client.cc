#include "collectors/libvirt_client.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

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

// libvirt reports a closed connection (libvirtd exited, or stopped answering keepalives) only
// through its event loop. One loop serves the whole process: registered once, run by a thread
// that lives as long as the process (libvirt has no way to unregister it).
void StartEventLoopOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (virEventRegisterDefaultImpl() != 0) {
      spdlog::warn("libvirt: no event loop ({}); a closed connection is noticed on the next call instead",
                   LastError("virEventRegisterDefaultImpl"));
      return;
    }
    std::thread([] {
      while (true) {
        if (virEventRunDefaultImpl() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }).detach();
  });
}

const char* CloseReason(int reason) {
  switch (reason) {
    case VIR_CONNECT_CLOSE_REASON_ERROR: return "I/O error";
    case VIR_CONNECT_CLOSE_REASON_EOF: return "libvirtd closed it";
    case VIR_CONNECT_CLOSE_REASON_KEEPALIVE: return "libvirtd stopped answering keepalives";
    case VIR_CONNECT_CLOSE_REASON_CLIENT: return "closed by us";
    default: return "unknown reason";
  }
}

// What the close callback tells the client: set on the event loop's thread, read on the caller's.
struct CloseState {
  std::atomic<int> reason{-1};  // -1: open
};

class RealLibvirtClient final : public LibvirtClient {
 public:
  explicit RealLibvirtClient(std::string uri) : uri_(std::move(uri)) {
    virSetErrorFunc(nullptr, QuietErrors);
    StartEventLoopOnce();
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
      if (virConnectIsAlive(conn_) != 1) Drop();  // libvirtd went away: reconnect next time
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
      const int reason = close_registered_ ? close_state_.reason.load() : -1;
      if (reason < 0 && virConnectIsAlive(conn_) == 1) return;
      Drop();
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
    // Told at once when libvirtd goes away, rather than by the next call's failure; and keepalive
    // probes (every 2 s, 3 unanswered = dead) turn a libvirtd that hangs into a closed connection,
    // which frees a call stuck on it. Both need the event loop; without it they are skipped.
    // The state is ours, not libvirt's to free: libvirt forgets a callback once it has fired
    // (calling a free function then), while we still read the reason afterwards.
    close_state_.reason.store(-1);
    if (virConnectRegisterCloseCallback(conn_, OnClose, &close_state_, nullptr) == 0) {
      close_registered_ = true;
    } else {
      spdlog::debug("libvirt {}: no close callback: {}", uri_, LastError("virConnectRegisterCloseCallback"));
    }
    if (virConnectSetKeepAlive(conn_, 2, 3) < 0) {
      spdlog::debug("libvirt {}: no keepalive: {}", uri_, LastError("virConnectSetKeepAlive"));
    }
  }

  static void OnClose(virConnectPtr, int reason, void* opaque) {
    static_cast<CloseState*>(opaque)->reason.store(reason);
  }

  // The connection is dead: say why, once, and close it so that the next call reconnects.
  void Drop() {
    const int reason = close_registered_ ? close_state_.reason.load() : -1;
    spdlog::warn("libvirt {}: connection closed: {}; reconnecting", uri_,
                 reason >= 0 ? CloseReason(reason) : "it no longer answers");
    Close();
  }

  void Close() {
    if (conn_ == nullptr) return;
    // After this the callback cannot run (it may have already, which libvirt then refuses to
    // unregister: harmless).
    if (close_registered_) virConnectUnregisterCloseCallback(conn_, OnClose);
    close_registered_ = false;
    virConnectClose(conn_);
    conn_ = nullptr;
  }

  std::string uri_;
  virConnectPtr conn_ = nullptr;
  CloseState close_state_;  // written by the close callback on libvirt's event loop thread
  bool close_registered_ = false;
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
