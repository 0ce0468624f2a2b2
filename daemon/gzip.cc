#include "daemon/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

namespace we {
namespace {

// zlib counts in uInt (32 bits); larger inputs and outputs are fed in slices of this size.
constexpr std::size_t kMaxSlice = std::numeric_limits<uInt>::max();
constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip wrapper
constexpr int kAutoWindowBits = 15 + 32;  // 32 KiB window, gzip or zlib header detected
constexpr int kMemLevel = 8;              // zlib's default

Bytef* InputPointer(const char* p) {
  // zlib's next_in is not const-qualified, but zlib never writes through it.
  return reinterpret_cast<Bytef*>(const_cast<char*>(p));
}

}  // namespace

std::string GzipCompress(std::string_view data, int level) {
  if (level < Z_DEFAULT_COMPRESSION || level > Z_BEST_COMPRESSION) return {};
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, kGzipWindowBits, kMemLevel, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return {};
  }
  std::string out;
  // deflateBound is exact enough that one output buffer almost always suffices. Past 64 KiB,
  // start at an eighth of it and grow: a resize writes every byte, so a 6 MB /metrics body would
  // otherwise touch 6 MB of fresh memory (peak RSS) for ~1.5 MB of output.
  const std::size_t bound = deflateBound(&zs, static_cast<uLong>(data.size()));
  out.resize(bound <= (std::size_t{64} << 10) ? bound : bound / 8);
  std::size_t in_pos = 0;
  std::size_t out_pos = 0;
  int result = Z_OK;
  while (result != Z_STREAM_END) {
    if (zs.avail_in == 0 && in_pos < data.size()) {
      const std::size_t slice = std::min(data.size() - in_pos, kMaxSlice);
      zs.next_in = InputPointer(data.data() + in_pos);
      zs.avail_in = static_cast<uInt>(slice);
      in_pos += slice;
    }
    if (out_pos == out.size()) out.resize(out.size() * 2 + 64);
    const std::size_t room = std::min(out.size() - out_pos, kMaxSlice);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
    zs.avail_out = static_cast<uInt>(room);
    const int flush = (in_pos == data.size()) ? Z_FINISH : Z_NO_FLUSH;
    result = deflate(&zs, flush);
    out_pos += room - zs.avail_out;
    if (result != Z_OK && result != Z_STREAM_END && result != Z_BUF_ERROR) {
      deflateEnd(&zs);
      return {};
    }
  }
  deflateEnd(&zs);
  out.resize(out_pos);
  return out;
}

std::optional<std::string> GzipDecompress(std::string_view data) {
  z_stream zs{};
  if (inflateInit2(&zs, kAutoWindowBits) != Z_OK) return std::nullopt;
  std::string out;
  out.resize(std::max<std::size_t>(data.size() * 4, 256));
  std::size_t in_pos = 0;
  std::size_t out_pos = 0;
  int result = Z_OK;
  while (result != Z_STREAM_END) {
    if (zs.avail_in == 0) {
      if (in_pos == data.size()) break;  // truncated: the stream did not end
      const std::size_t slice = std::min(data.size() - in_pos, kMaxSlice);
      zs.next_in = InputPointer(data.data() + in_pos);
      zs.avail_in = static_cast<uInt>(slice);
      in_pos += slice;
    }
    if (out_pos == out.size()) out.resize(out.size() * 2);
    const std::size_t room = std::min(out.size() - out_pos, kMaxSlice);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
    zs.avail_out = static_cast<uInt>(room);
    result = inflate(&zs, Z_NO_FLUSH);
    out_pos += room - zs.avail_out;
    if (result != Z_OK && result != Z_STREAM_END && result != Z_BUF_ERROR) break;
    // Z_BUF_ERROR with input left and output room means no progress is possible.
    if (result == Z_BUF_ERROR && zs.avail_in > 0 && zs.avail_out > 0) break;
  }
  const bool complete = result == Z_STREAM_END && zs.avail_in == 0 && in_pos == data.size();
  inflateEnd(&zs);
  if (!complete) return std::nullopt;
  out.resize(out_pos);
  return out;
}

}  // namespace we
