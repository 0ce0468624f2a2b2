#pragma once
// /metrics: turns the newest Snapshot into Prometheus text format through prometheus-cpp's core
// (Collectable, Registry, TextSerializer). Rendering happens at most once per snapshot: the text
// and its gzip are cached until the sampler publishes the next one, so scrapes between two ticks
// cost a pointer copy. Nothing here reads files.

#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "daemon/http_server.h"
#include "daemon/snapshot.h"

namespace we {

struct BuildInfo {
  std::string version;
  std::string revision;
};

// Pure: every metric family of one snapshot, in a fixed order. Absent figures emit no series.
std::vector<prometheus::MetricFamily> SnapshotFamilies(const Snapshot& snapshot, const BuildInfo& build);

// Renders text (and gzip) for the newest snapshot, once per snapshot.
// Thread-safety: call from one thread (the io_context's).
class MetricsRenderer {
 public:
  // `extra` collectables (the daemon's own Registry) are appended after the snapshot's families.
  MetricsRenderer(const SnapshotStore& store, BuildInfo build,
                  std::vector<std::shared_ptr<prometheus::Collectable>> extra = {});

  // nullptr until the first snapshot is published.
  std::shared_ptr<const MetricsBody> Current();

  // Drops the cache, e.g. after the daemon's own Registry changed.
  void Invalidate() { cached_for_.reset(); }

 private:
  const SnapshotStore& store_;
  BuildInfo build_;
  std::vector<std::shared_ptr<prometheus::Collectable>> extra_;
  std::shared_ptr<const Snapshot> cached_for_;
  std::shared_ptr<const MetricsBody> cached_;
};

// Text format 0.0.4 of the given families (prometheus-cpp's TextSerializer).
std::string SerializeText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace we
