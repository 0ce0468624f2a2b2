#pragma once
// Gzip (RFC 1952) compression for HTTP responses, through zlib or ISA-L's igzip.
//
// The renderer compresses each snapshot's exposition once, so every scrape that accepts gzip is
// served the same bytes without compressing per request. Decompression is always zlib's.
//
// Thread-safety: pure functions; safe from any thread. A GzipStream belongs to one thread.

#include <zlib.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace we {

// A deflate encoder and its level.
struct GzipMethod {
  enum class Encoder { kZlib, kIgzip };
  Encoder encoder = Encoder::kZlib;
  int level = 6;  // zlib: 0 (store) to 9, or -1 for zlib's default; igzip: 0 to 3
};

// True when this build has ISA-L (libisal, found by CMake): GzipMethod::Encoder::kIgzip works.
bool HaveIgzip();

// The /metrics body's method: igzip level 1 where built with it, else zlib level 1. On the 5.9 MB
// body of 1,000 workloads igzip 1 takes 1.9 ms against zlib 1's 15.2 ms and writes 13% fewer
// bytes (BENCHMARKS.md, "gzip encoders"); the compression runs on the scrape that first sees a
// snapshot (or ahead of it), so it is scrape latency and, before igzip, most of a scrape's CPU.
GzipMethod MetricsGzipMethod();

// Compresses `data` into a single gzip member. `level` is zlib's: 0 (store) to 9, or -1 for
// zlib's default. Returns an empty string only when the encoder fails (a level outside its range,
// igzip asked of a build without it, out of memory); a valid result is never empty, not even for
// empty input (about 20 bytes).
std::string GzipCompress(std::string_view data, int level = 6);
std::string GzipCompress(std::string_view data, GzipMethod method);

// The same, written piece by piece: the input never has to be held whole (the /metrics renderer
// compresses its text 64 KiB at a time), and a piece's buffer may be reused once Write returns.
// The member is appended to *out, which must outlive the stream. After an error (see
// GzipCompress) every call returns false.
class GzipStream {
 public:
  GzipStream(std::string* out, int level) : GzipStream(out, GzipMethod{GzipMethod::Encoder::kZlib, level}) {}
  GzipStream(std::string* out, GzipMethod method);
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  bool Write(std::string_view data);
  // Ends the member; nothing may be written after it.
  bool Finish();

 private:
  struct Igzip;  // ISA-L's stream and level buffer (gzip.cc), when the encoder is igzip
  bool Run(std::string_view data, int flush);
  bool RunIgzip(std::string_view data, bool finish);
  // Makes at least 4 KiB of room after used_ in *out_, growing by an eighth (16 KiB at least).
  void Reserve();

  std::unique_ptr<Igzip> igzip_;
  z_stream zs_{};
  std::string* out_;
  std::size_t used_;  // bytes of *out_ written so far (it is grown ahead of deflate)
  bool ok_;
  bool finished_ = false;
};

// Decompresses one gzip (or zlib) stream. Returns nullopt for corrupt or truncated input, or
// bytes after the end of the stream. Meant for tests and tools; it does not bound the output.
std::optional<std::string> GzipDecompress(std::string_view data);

}  // namespace we
