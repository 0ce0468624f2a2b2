// Fuzzes the pure cgroupfs and procfs parsers of collectors/parse.h. The first byte chooses the
// parser (its value modulo the number of parsers, see Parser below); the rest is the file's text.
// Seeds in corpus/parse_fuzzer/ are real fixture files behind their parser's byte.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "collectors/parse.h"
#include "tests/fuzz/fuzz_check.h"

namespace we {
namespace {

// The selector byte of each parser. Keep in step with make_corpus.sh.
enum Parser : uint8_t {
  kU64 = 0,
  kI64 = 1,
  kMaxOrU64 = 2,
  kFlatKeyed = 3,
  kCpuMax = 4,
  kPressure = 5,
  kIoStat = 6,
  kBlkioThrottle = 7,
  kProcCgroup = 8,
  kProcPidStat = 9,
  kBootTime = 10,
  kMaxOpenFiles = 11,
  kCountNonEmptyLines = 12,
  kSplitAndTrim = 13,
  kNetDev = 14,
  kTcpListeners = 15,
  kFibTrie = 16,
  kParserCount = 17,
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return !s.empty();
}

// A parsed number prints back as the digits it came from, leading zeros aside.
void CheckNumberText(std::string_view text, uint64_t value) {
  std::string_view digits = Trim(text);
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  FUZZ_CHECK(std::to_string(value) == digits);
}

void CheckSeconds(const std::optional<double>& seconds) {
  if (seconds) FUZZ_CHECK(std::isfinite(*seconds) && *seconds >= 0);
}

}  // namespace
}  // namespace we

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  if (size == 0) return 0;
  const std::string_view text = fuzz::AsText(data + 1, size - 1);
  std::string error;
  switch (data[0] % kParserCount) {
    case kU64: {
      if (auto v = ParseU64(text)) {
        FUZZ_CHECK(AllDigits(Trim(text)));
        CheckNumberText(text, *v);
      }
      break;
    }
    case kI64: {
      if (auto v = ParseI64(text)) {
        std::string_view t = Trim(text);
        if (!t.empty() && t.front() == '-') t.remove_prefix(1);
        FUZZ_CHECK(AllDigits(t));
      }
      break;
    }
    case kMaxOrU64: {
      auto v = ParseMaxOrU64(text, &error);
      if (v) {
        FUZZ_CHECK(v->value.has_value() != (Trim(text) == "max"));
      } else {
        FUZZ_CHECK(!error.empty());
      }
      break;
    }
    case kFlatKeyed: {
      auto v = ParseFlatKeyed(text, &error);
      // The collector's allocation-free variant agrees with it: same verdict, same error, and
      // the first value of each key it asks for.
      const std::string_view keys[] = {"anon", "file", "inactive_file", "usage_usec", "oom_kill"};
      std::optional<uint64_t> picked[5];
      std::string pick_error;
      const bool pick_ok = ParseFlatKeyedPick(text, keys, picked, &pick_error);
      FUZZ_CHECK(pick_ok == v.has_value());
      if (!v) {
        FUZZ_CHECK(pick_error == error);
        FUZZ_CHECK(error.rfind("line ", 0) == 0);
        break;
      }
      for (std::size_t i = 0; i < 5; ++i) FUZZ_CHECK(picked[i] == v->Get(keys[i]));
      for (const auto& [key, value] : v->entries()) {
        FUZZ_CHECK(!key.empty());
        FUZZ_CHECK(key.find_first_of(" \t\n") == std::string::npos);
        FUZZ_CHECK(v->Get(key).has_value());  // the first of equal keys wins, but one is found
      }
      break;
    }
    case kCpuMax: {
      auto v = ParseCpuMax(text, &error);
      if (!v) {
        FUZZ_CHECK(!error.empty());
      } else if (*v) {
        FUZZ_CHECK(std::isfinite(**v) && **v >= 0);
      }
      break;
    }
    case kPressure: {
      auto v = ParsePressure(text, &error);
      if (!v) {
        FUZZ_CHECK(!error.empty());
        break;
      }
      CheckSeconds(v->some_seconds);
      CheckSeconds(v->full_seconds);
      break;
    }
    case kIoStat: {
      if (!ParseIoStat(text, &error)) FUZZ_CHECK(!error.empty());
      break;
    }
    case kBlkioThrottle: {
      if (!ParseBlkioThrottle(text, &error)) FUZZ_CHECK(!error.empty());
      break;
    }
    case kProcCgroup: {
      auto v = ParseProcCgroup(text, &error);
      if (!v) {
        FUZZ_CHECK(!error.empty());
        break;
      }
      for (const ProcCgroupEntry& e : *v) {
        FUZZ_CHECK(e.hierarchy_id >= 0 && e.hierarchy_id < (1 << 16));
        FUZZ_CHECK(!e.path.empty() && e.path.front() == '/');
        for (const std::string& c : e.controllers) {
          FUZZ_CHECK(!c.empty() && c.find(',') == std::string::npos);
        }
      }
      break;
    }
    case kProcPidStat: {
      auto v = ParseProcPidStat(text, &error);
      if (!v) {
        FUZZ_CHECK(!error.empty());
        break;
      }
      FUZZ_CHECK(v->comm.size() + 2 <= text.size());
      break;
    }
    case kBootTime: {
      if (!ParseBootTime(text, &error)) FUZZ_CHECK(!error.empty());
      break;
    }
    case kMaxOpenFiles: {
      if (!ParseMaxOpenFiles(text, &error)) FUZZ_CHECK(!error.empty());
      break;
    }
    case kCountNonEmptyLines: {
      uint64_t newlines = 0;
      for (char c : text) newlines += c == '\n';
      FUZZ_CHECK(CountNonEmptyLines(text) <= newlines + 1);
      break;
    }
    case kNetDev: {
      // Parsed means every counter is there; on failure the error names a line.
      if (auto net = ParseNetDev(text, &error)) {
        FUZZ_CHECK(net->receive_bytes && net->transmit_bytes && net->receive_packets && net->transmit_packets &&
                   net->receive_errors && net->transmit_errors);
      } else {
        FUZZ_CHECK(error.starts_with("line "));
      }
      break;
    }
    case kTcpListeners: {
      // On failure the error names a line; a listener's inode is a number that was in the text.
      if (auto listeners = ParseTcpListeners(text, &error)) {
        FUZZ_CHECK(listeners->inodes.size() <= CountNonEmptyLines(text));
      } else {
        FUZZ_CHECK(error.starts_with("line "));
      }
      break;
    }
    case kFibTrie: {
      // Each address once, ascending; the first non-loopback one prints back as one of them.
      const auto addresses = ParseFibTrieLocalAddresses(text);
      for (std::size_t i = 1; i < addresses.size(); ++i) FUZZ_CHECK(addresses[i - 1] < addresses[i]);
      const std::string first = FirstNonLoopbackIpv4(text);
      if (!first.empty()) FUZZ_CHECK(ParseIpv4(first) && FormatIpv4(*ParseIpv4(first)) == first);
      break;
    }
    case kSplitAndTrim: {
      // The first byte of the text is the delimiter.
      if (text.empty()) break;
      const char delimiter = text.front();
      const std::string_view rest = text.substr(1);
      std::size_t total = 0;
      for (std::string_view part : SplitNonEmpty(rest, delimiter)) {
        FUZZ_CHECK(!part.empty() && part.find(delimiter) == std::string_view::npos);
        FUZZ_CHECK(part.data() >= rest.data() && part.data() + part.size() <= rest.data() + rest.size());
        total += part.size();
      }
      FUZZ_CHECK(total <= rest.size());
      const std::string_view trimmed = Trim(rest);
      FUZZ_CHECK(Trim(trimmed) == trimmed);
      if (!trimmed.empty()) FUZZ_CHECK(!IsSpace(trimmed.front()) && !IsSpace(trimmed.back()));
      break;
    }
  }
  return 0;
}
