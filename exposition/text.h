#pragma once
// The exposition text of one Snapshot: every family of exposition/families.h, in its order. Pure
// functions of the snapshot; exposition/renderer.h decides when they run. Nothing here reads files.
//
// The text is written straight into one string (AppendText), byte for byte what prometheus-cpp's
// TextSerializer writes for SnapshotFamilies() (tests/exposition/text_test.cc holds the two
// equal): building prometheus-cpp's model first costs ~10 allocations per series and dominated a
// scrape (BENCHMARKS.md, BM_RenderMetricsPrometheusCpp). prometheus-cpp stays as that oracle and
// for the daemon's own Registry (the reload gauges), appended through its serializer.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "exposition/families.h"
#include "exposition/gzip.h"
#include "exposition/metrics_body.h"
#include "pipeline/snapshot.h"

namespace we {

// Pure: every metric family of one snapshot, in a fixed order. Absent figures emit no series.
std::vector<prometheus::MetricFamily> SnapshotFamilies(const Snapshot& snapshot, const BuildInfo& build);

// The snapshot's exposition text appended to *out: the same bytes as
// SerializeText(SnapshotFamilies(snapshot, build)), without building the model.
void AppendText(const Snapshot& snapshot, const BuildInfo& build, std::string* out);
std::string RenderText(const Snapshot& snapshot, const BuildInfo& build);

// The same text followed by `tail`, gzip-compressed by `method` and appended to *gzip, 64 KiB at
// a time: the whole text is never held (6 MB at 1,000 workloads). False if the encoder failed.
bool AppendTextGzip(const Snapshot& snapshot, const BuildInfo& build, std::string_view tail, GzipMethod method,
                    std::string* gzip);

// One sample value as prometheus-cpp 1.0 writes it (%.16g; Nan, +Inf, -Inf).
void AppendSampleValue(std::string* out, double value);

// Text format 0.0.4 of the given families (prometheus-cpp's TextSerializer).
std::string SerializeText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace we
