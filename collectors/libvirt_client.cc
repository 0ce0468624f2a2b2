#include "collectors/libvirt_client.h"

#include <dlfcn.h>
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

// libvirt is loaded when a libvirt URI is configured, not linked: a host that watches only
// containers (libvirt.uri empty) does not map libvirt and the ~9 MB of libraries it pulls in
// (GnuTLS, GLib, libssh, whose constructor initialises OpenSSL, ...), and a host without libvirt0
// installed still runs, finding its VMs from their QEMU processes.
// clang-format off: one function a line (clang-format 14 reflows X-lists differently each pass)
#define WE_LIBVIRT_FUNCTIONS(X)        \
  X(virConnectClose)                   \
  X(virConnectGetAllDomainStats)       \
  X(virConnectIsAlive)                 \
  X(virConnectOpenReadOnly)            \
  X(virConnectRegisterCloseCallback)   \
  X(virConnectSetKeepAlive)            \
  X(virConnectUnregisterCloseCallback) \
  X(virDomainGetName)                  \
  X(virDomainGetUUIDString)            \
  X(virDomainStatsRecordListFree)      \
  X(virEventRegisterDefaultImpl)       \
  X(virEventRunDefaultImpl)            \
  X(virGetLastError)                   \
  X(virSetErrorFunc)
// clang-format on

struct LibvirtApi {
#define WE_LIBVIRT_POINTER(name) decltype(&::name) name = nullptr;
  WE_LIBVIRT_FUNCTIONS(WE_LIBVIRT_POINTER)
#undef WE_LIBVIRT_POINTER
};

constexpr const char* kLibvirtLibrary = "libvirt.so.0";

// Loaded once per process (and never unloaded: libvirt's event loop thread runs in it). Null,
// with *error saying why, when the library or one of its functions is missing.
const LibvirtApi* LoadLibvirt(std::string* error) {
  static std::string load_error;
  static const LibvirtApi* api = []() -> const LibvirtApi* {
    void* handle = ::dlopen(kLibvirtLibrary, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* e = ::dlerror();
      load_error = std::string("cannot load ") + kLibvirtLibrary + " (" + (e != nullptr ? e : "unknown error") +
                   "): install libvirt0, or set libvirt.uri to \"\" to not use libvirt";
      return nullptr;
    }
    auto* table = new LibvirtApi;
#define WE_LIBVIRT_LOAD(name)                                                                   \
  table->name = reinterpret_cast<decltype(&::name)>(::dlsym(handle, #name));                    \
  if (table->name == nullptr) {                                                                 \
    load_error = std::string(kLibvirtLibrary) + " has no " #name ": libvirt older than 1.2.8?"; \
    delete table;                                                                               \
    return nullptr;                                                                             \
  }
    WE_LIBVIRT_FUNCTIONS(WE_LIBVIRT_LOAD)
#undef WE_LIBVIRT_LOAD
    return table;
  }();
  if (api == nullptr) *error = load_error;
  return api;
}

// libvirt prints every error to stderr unless told otherwise; ours go through the collector.
void QuietErrors(void*, virErrorPtr) {}

std::string LastError(const LibvirtApi& api, const char* what) {
  virErrorPtr e = api.virGetLastError();
  return std::string(what) + ": " + (e != nullptr && e->message != nullptr ? e->message : "unknown error");
}

bool LastErrorMeansAbsent(const LibvirtApi& api) {
  virErrorPtr e = api.virGetLastError();
  if (e == nullptr || e->message == nullptr) return false;
  // "Failed to connect socket to '/var/run/libvirt/libvirt-sock-ro': No such file or directory"
  return std::strstr(e->message, "No such file or directory") != nullptr;
}

// libvirt reports a closed connection (libvirtd exited, or stopped answering keepalives) only
// through its event loop. One loop serves the whole process: registered once, run by a thread
// that lives as long as the process (libvirt has no way to unregister it).
void StartEventLoopOnce(const LibvirtApi& api) {
  static std::once_flag once;
  std::call_once(once, [&api] {
    if (api.virEventRegisterDefaultImpl() != 0) {
      spdlog::warn("libvirt: no event loop ({}); a closed connection is noticed on the next call instead",
                   LastError(api, "virEventRegisterDefaultImpl"));
      return;
    }
    std::thread([&api] {
      while (true) {
        if (api.virEventRunDefaultImpl() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }).detach();
  });
}

const char* CloseReason(int reason) {
  switch (reason) {
    case VIR_CONNECT_CLOSE_REASON_ERROR:
      return "I/O error";
    case VIR_CONNECT_CLOSE_REASON_EOF:
      return "libvirtd closed it";
    case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
      return "libvirtd stopped answering keepalives";
    case VIR_CONNECT_CLOSE_REASON_CLIENT:
      return "closed by us";
    default:
      return "unknown reason";
  }
}

// What the close callback tells the client: set on the event loop's thread, read on the caller's.
struct CloseState {
  std::atomic<int> reason{-1};  // -1: open
};

class RealLibvirtClient final : public LibvirtClient {
 public:
  explicit RealLibvirtClient(std::string uri) : uri_(std::move(uri)), api_(LoadLibvirt(&load_error_)) {
    if (api_ == nullptr) return;
    api_->virSetErrorFunc(nullptr, QuietErrors);
    StartEventLoopOnce(*api_);
  }
  ~RealLibvirtClient() override { Close(); }

  std::vector<DomainStatsRecord> GetAllDomainStats() override {
    // No libvirt on this host is no more a failure than no libvirtd.
    if (api_ == nullptr) throw LibvirtError("libvirt: " + load_error_, /*absent=*/true);
    Connect();
    virDomainStatsRecordPtr* records = nullptr;
    const unsigned int stats = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON |
                               VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK;
    const unsigned int flags = VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE | VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
    const int n = api_->virConnectGetAllDomainStats(conn_, stats, &records, flags);
    if (n < 0) {
      const std::string error = LastError(*api_, ("libvirt " + uri_ + ": virConnectGetAllDomainStats").c_str());
      if (api_->virConnectIsAlive(conn_) != 1) Drop();  // libvirtd went away: reconnect next time
      throw LibvirtError(error, false);
    }
    std::vector<DomainStatsRecord> out;
    out.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      DomainStatsRecord r;
      if (const char* name = api_->virDomainGetName(records[i]->dom)) r.name = name;
      char uuid[VIR_UUID_STRING_BUFLEN];
      if (api_->virDomainGetUUIDString(records[i]->dom, uuid) == 0) r.uuid = uuid;
      for (int p = 0; p < records[i]->nparams; ++p) {
        const virTypedParameter& param = records[i]->params[p];
        switch (param.type) {
          case VIR_TYPED_PARAM_INT:
            r.numbers[param.field] = param.value.i;
            break;
          case VIR_TYPED_PARAM_UINT:
            r.numbers[param.field] = param.value.ui;
            break;
          case VIR_TYPED_PARAM_LLONG:
            r.numbers[param.field] = static_cast<double>(param.value.l);
            break;
          case VIR_TYPED_PARAM_ULLONG:
            r.numbers[param.field] = static_cast<double>(param.value.ul);
            break;
          case VIR_TYPED_PARAM_DOUBLE:
            r.numbers[param.field] = param.value.d;
            break;
          case VIR_TYPED_PARAM_BOOLEAN:
            r.numbers[param.field] = param.value.b ? 1 : 0;
            break;
          case VIR_TYPED_PARAM_STRING:
            if (param.value.s != nullptr) r.strings[param.field] = param.value.s;
            break;
          default:
            break;
        }
      }
      out.push_back(std::move(r));
    }
    api_->virDomainStatsRecordListFree(records);
    return out;
  }

 private:
  void Connect() {
    if (conn_ != nullptr) {
      const int reason = close_registered_ ? close_state_.reason.load() : -1;
      if (reason < 0 && api_->virConnectIsAlive(conn_) == 1) return;
      Drop();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now < next_attempt_) {
      throw LibvirtError(
          "libvirt " + uri_ + ": not connected (" + last_error_ + "); next attempt in " +
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(next_attempt_ - now).count() + 1) + " s",
          last_absent_);
    }
    conn_ = api_->virConnectOpenReadOnly(uri_.c_str());
    if (conn_ == nullptr) {
      last_error_ = LastError(*api_, ("cannot connect to " + uri_).c_str());
      last_absent_ = LastErrorMeansAbsent(*api_);
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
    if (api_->virConnectRegisterCloseCallback(conn_, OnClose, &close_state_, nullptr) == 0) {
      close_registered_ = true;
    } else {
      spdlog::debug("libvirt {}: no close callback: {}", uri_, LastError(*api_, "virConnectRegisterCloseCallback"));
    }
    if (api_->virConnectSetKeepAlive(conn_, 2, 3) < 0) {
      spdlog::debug("libvirt {}: no keepalive: {}", uri_, LastError(*api_, "virConnectSetKeepAlive"));
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
    if (close_registered_) api_->virConnectUnregisterCloseCallback(conn_, OnClose);
    close_registered_ = false;
    api_->virConnectClose(conn_);
    conn_ = nullptr;
  }

  std::string uri_;
  std::string load_error_;
  const LibvirtApi* api_;  // null: libvirt could not be loaded
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
