#include "pipeline/utf8.h"

#include <memory>

namespace we {
namespace {

// The length of the well-formed sequence at text[i], or 0 when the byte there begins none
// (Unicode's Table 3-7 of well-formed byte sequences).
std::size_t SequenceLength(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  const std::size_t left = text.size() - i;
  auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return byte(i + k) >= lo && byte(i + k) <= hi;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) return left >= 2 && cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left < 3) return 0;
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;  // no surrogates
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left < 4) return 0;
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;  // no overlong forms
    const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

bool IsValidUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = SequenceLength(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ToValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = SequenceLength(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

bool MakeValidUtf8(std::string* text) {
  if (IsValidUtf8(*text)) return false;
  *text = ToValidUtf8(*text);
  return true;
}

void MakeLabelValuesValidUtf8(Sample* sample) {
  WorkloadIdentity& id = sample->identity;
  for (std::string* s : {&id.kind, &id.runtime, &id.id, &id.name, &id.pod_uid, &id.parent, &sample->cgroup}) {
    MakeValidUtf8(s);
  }
  if (sample->metadata) {
    const ContainerMetadata& m = *sample->metadata;
    bool valid = IsValidUtf8(m.name) && IsValidUtf8(m.image) && IsValidUtf8(m.k8s_namespace) && IsValidUtf8(m.pod) &&
                 IsValidUtf8(m.container);
    for (const auto& [key, value] : m.labels) valid = valid && IsValidUtf8(key) && IsValidUtf8(value);
    if (!valid) {
      ContainerMetadata copy = m;
      for (std::string* s : {&copy.name, &copy.image, &copy.k8s_namespace, &copy.pod, &copy.container}) {
        MakeValidUtf8(s);
      }
      copy.labels.clear();
      for (const auto& [key, value] : m.labels) copy.labels.emplace(ToValidUtf8(key), ToValidUtf8(value));
      sample->metadata = std::make_shared<const ContainerMetadata>(std::move(copy));
    }
  }
  if (sample->vm) {
    MakeValidUtf8(&sample->vm->uuid);
    for (auto* devices : {&sample->vm->block, &sample->vm->net}) {
      for (DeviceCounters& d : *devices) MakeValidUtf8(&d.device);
    }
  }
}

}  // namespace we
