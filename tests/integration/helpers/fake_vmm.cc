// A stand-in for a microVM's VMM process, for tests/integration/platforms_test.cc: Firecracker and
// Cloud Hypervisor are not in Debian (tests/rigs RIGS.md), so this small program takes their
// shape as the daemon sees it in /proc. Run it with argv[0] "firecracker" (or "/firecracker", as
// the jailer execs it) or "cloud-hypervisor" and the VMM's own arguments, which it ignores: it
// renames its main thread as the VMM's comm is ("firecracker", "cloud-hyperviso": comm keeps 15
// characters), starts one vCPU thread named as that VMM names them ("fc_vcpu 0", "vcpu0") which
// burns about 300 ms of CPU, then sleeps until killed. No guest runs.

#include <pthread.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <string>

namespace {

void* Vcpu(void*) {
  timespec start{}, now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
  volatile unsigned long spin = 0;
  do {
    for (int i = 0; i < 100000; ++i) spin = spin + 1;
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < 300);
  while (true) ::pause();
  return nullptr;
}

}  // namespace

int main(int, char** argv) {
  std::string exe = argv[0];
  if (const auto slash = exe.rfind('/'); slash != std::string::npos) exe = exe.substr(slash + 1);
  const bool firecracker = exe.rfind("firecracker", 0) == 0;
  ::prctl(PR_SET_NAME, firecracker ? "firecracker" : "cloud-hyperviso", 0, 0, 0);
  pthread_t vcpu;
  if (::pthread_create(&vcpu, nullptr, Vcpu, nullptr) != 0) return 1;
  ::pthread_setname_np(vcpu, firecracker ? "fc_vcpu 0" : "vcpu0");
  while (true) ::pause();
}
