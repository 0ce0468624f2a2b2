#pragma once
// Gzip (RFC 1952) compression for HTTP responses, through zlib.
//
// The renderer compresses each snapshot's exposition once, so every scrape that accepts gzip is
// served the same bytes without compressing per request.
//
// Thread-safety: pure functions; safe from any thread. A GzipStream belongs to one thread.

#include <zlib.h>

#include <optional>
#include <string>
#include <string_view>

namespace we {

// Compresses `data` into a single gzip member. `level` is zlib's: 0 (store) to 9, or -1 for
// zlib's default. Returns an empty string only when zlib fails (a level outside -1..9, or out of
// memory); a valid result is never empty, not even for empty input (about 20 bytes).
std::string GzipCompress(std::string_view data, int level = 6);

// The same, written piece by piece: the input never has to be held whole (the /metrics renderer
// compresses its text 64 KiB at a time). The member is appended to *out, which must outlive the
// stream. After an error (a level outside -1..9, out of memory) every call returns false.
class GzipStream {
 public:
  GzipStream(std::string* out, int level);
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  bool Write(std::string_view data);
  // Ends the member; nothing may be written after it.
  bool Finish();

 private:
  bool Run(std::string_view data, int flush);

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
