#pragma once
// Label values must be valid UTF-8, or Prometheus rejects the whole scrape. Names reach a sample
// from cgroup paths (UnescapeSystemdName turns "\xNN" into raw bytes), runtime state files and
// libvirt, none of which promise UTF-8. The sampler makes every string that becomes a label value
// valid as it enters the pipeline (SamplingPipeline::Tick, after the runtime metadata step), so
// the keys that join, rate and window workloads and the exported labels agree.
//
// Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "collectors/sample.h"

namespace we {

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points
// above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// `text` with every byte that does not begin a well-formed sequence replaced by U+FFFD, one per
// byte, as Go decodes a string (utf8.DecodeRune, `for range`, []rune): "a\xffb" -> "a\uFFFDb".
std::string ToValidUtf8(std::string_view text);

// Replaces `*text` by ToValidUtf8 when it is not valid; true when it changed. No allocation when
// it is valid.
bool MakeValidUtf8(std::string* text);

// Every string of `sample` that becomes a label value: the identity, the cgroup path, the
// runtime metadata (shared, so copied only when something in it is invalid) and the VM's uuid
// and device names.
void MakeLabelValuesValidUtf8(Sample* sample);

}  // namespace we
