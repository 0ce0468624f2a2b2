#pragma once
// What one render of a snapshot produces (exposition/renderer.h) and every scrape of it serves
// (http/server.h): immutable once handed out.

#include <string>

namespace we {

// The rendered exposition of one snapshot, shared read-only by every scrape that serves it.
struct MetricsBody {
  std::string text;  // Prometheus text format 0.0.4; empty = not available
  std::string gzip;  // the same text gzip-compressed; empty = not available
};

}  // namespace we
