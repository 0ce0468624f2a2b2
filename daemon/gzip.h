#pragma once
// Gzip (RFC 1952) compression for HTTP responses, through zlib.
//
// The renderer compresses each snapshot's exposition once, so every scrape that accepts gzip is
// served the same bytes without compressing per request.
//
// Thread-safety: pure functions; safe from any thread.

#include <optional>
#include <string>
#include <string_view>

namespace we {

// Compresses `data` into a single gzip member. `level` is zlib's: 0 (store) to 9, or -1 for
// zlib's default. Returns an empty string only when zlib fails (a level outside -1..9, or out of
// memory); a valid result is never empty, not even for empty input (about 20 bytes).
std::string GzipCompress(std::string_view data, int level = 6);

// Decompresses one gzip (or zlib) stream. Returns nullopt for corrupt or truncated input, or
// bytes after the end of the stream. Meant for tests and tools; it does not bound the output.
std::optional<std::string> GzipDecompress(std::string_view data);

}  // namespace we
