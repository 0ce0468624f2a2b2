// Fuzzes SampleFromDomainStats (collectors/libvirt_collector.h), the pure step from one domain's
// libvirt statistics to a Sample.
//
// Input format: `virsh domstats` output, one "key=value" per line (leading blanks ignored), plus
//   Domain: 'NAME'   or   name=NAME    the domain's name
//   uuid=UUID                          its UUID
// A value that strtod() reads whole ("1", "2.5e9", "-1", "nan", "inf", "0x1p64") becomes a number,
// as libvirt's typed parameters do; any other value is a string parameter ("block.0.name=vda").

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collectors/libvirt_collector.h"
#include "collectors/parse.h"
#include "tests/fuzz/fuzz_check.h"

namespace we {
namespace {

DomainStatsRecord ParseRecord(std::string_view input) {
  DomainStatsRecord r;
  for (std::string_view line : SplitNonEmpty(input, '\n')) {
    line = Trim(line);
    if (line.substr(0, 8) == "Domain: ") {
      std::string_view name = line.substr(8);
      if (name.size() >= 2 && name.front() == '\'' && name.back() == '\'') name = name.substr(1, name.size() - 2);
      r.name = std::string(name);
      continue;
    }
    const std::size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string key(line.substr(0, equals));
    const std::string value(line.substr(equals + 1));
    if (key == "name") {
      r.name = value;
    } else if (key == "uuid") {
      r.uuid = value;
    } else {
      char* end = nullptr;
      const double number = std::strtod(value.c_str(), &end);
      if (!value.empty() && end == value.c_str() + value.size()) {
        r.numbers[key] = number;
      } else {
        r.strings[key] = value;
      }
    }
  }
  return r;
}

}  // namespace
}  // namespace we

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  const DomainStatsRecord record = ParseRecord(fuzz::AsText(data, size));
  const double now = 1.7e9;
  const Sample s = SampleFromDomainStats(record, now);

  FUZZ_CHECK(s.identity.kind == "vm" && s.identity.runtime == "libvirt");
  FUZZ_CHECK(s.identity.id == (record.uuid.empty() ? record.name : record.uuid));
  FUZZ_CHECK(s.identity.name == record.name);
  FUZZ_CHECK(s.vm.has_value());
  const VmFigures& vm = *s.vm;
  FUZZ_CHECK(vm.uuid == record.uuid);
  // vCPUs in index order, each once, and no more than the cap.
  FUZZ_CHECK(vm.vcpu.size() <= 4096);
  for (std::size_t i = 0; i < vm.vcpu.size(); ++i) {
    FUZZ_CHECK(vm.vcpu[i].index >= 0 && vm.vcpu[i].index < 4096);
    if (i > 0) FUZZ_CHECK(vm.vcpu[i - 1].index < vm.vcpu[i].index);
  }
  FUZZ_CHECK(vm.block.size() <= 4096 && vm.net.size() <= 4096);
  if (vm.guest_memory_stats_age_seconds) FUZZ_CHECK(*vm.guest_memory_stats_age_seconds >= 0);
  if (vm.guest_memory_used_bytes) {
    FUZZ_CHECK(record.numbers.count("balloon.available") == 1 && record.numbers.count("balloon.unused") == 1);
  }
  FUZZ_CHECK(s.memory.working_set_bytes == s.memory.usage_bytes);
  return 0;
}
