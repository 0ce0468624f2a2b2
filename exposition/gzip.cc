#include "exposition/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#if WE_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

namespace we {

#if WE_HAVE_ISAL
struct GzipStream::Igzip {
  isal_zstream stream;
  std::vector<std::uint8_t> level_buffer;
};
#else
struct GzipStream::Igzip {};
#endif

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

bool HaveIgzip() { return WE_HAVE_ISAL != 0; }

GzipMethod MetricsGzipMethod() {
  if (HaveIgzip()) return {GzipMethod::Encoder::kIgzip, 1};
  return {GzipMethod::Encoder::kZlib, 1};
}

std::string GzipCompress(std::string_view data, int level) {
  return GzipCompress(data, GzipMethod{GzipMethod::Encoder::kZlib, level});
}

std::string GzipCompress(std::string_view data, GzipMethod method) {
  std::string out;
  GzipStream gz(&out, method);
  if (!gz.Write(data) || !gz.Finish()) return {};
  return out;
}

GzipStream::GzipStream(std::string* out, GzipMethod method) : out_(out), used_(out->size()) {
  const int level = method.level;
  if (method.encoder == GzipMethod::Encoder::kZlib) {
    ok_ = level >= Z_DEFAULT_COMPRESSION && level <= Z_BEST_COMPRESSION &&
          deflateInit2(&zs_, level, Z_DEFLATED, kGzipWindowBits, kMemLevel, Z_DEFAULT_STRATEGY) == Z_OK;
    return;
  }
  ok_ = false;
#if WE_HAVE_ISAL
  // The level buffers ISA-L suggests for large inputs (the body is megabytes).
  static constexpr std::size_t kLevelBuffer[] = {0, ISAL_DEF_LVL1_LARGE, ISAL_DEF_LVL2_LARGE, ISAL_DEF_LVL3_LARGE};
  if (level < ISAL_DEF_MIN_LEVEL || level > ISAL_DEF_MAX_LEVEL || level >= static_cast<int>(std::size(kLevelBuffer))) {
    return;
  }
  igzip_ = std::make_unique<Igzip>();
  isal_deflate_init(&igzip_->stream);
  igzip_->stream.gzip_flag = IGZIP_GZIP;
  igzip_->stream.level = static_cast<std::uint32_t>(level);
  igzip_->level_buffer.resize(kLevelBuffer[level]);
  igzip_->stream.level_buf = igzip_->level_buffer.empty() ? nullptr : igzip_->level_buffer.data();
  igzip_->stream.level_buf_size = static_cast<std::uint32_t>(igzip_->level_buffer.size());
  igzip_->stream.flush = NO_FLUSH;
  ok_ = true;
#endif
}

GzipStream::~GzipStream() {
  if (ok_ && !igzip_) deflateEnd(&zs_);
}

bool GzipStream::Write(std::string_view data) {
  if (finished_) return false;
  return igzip_ ? RunIgzip(data, false) : Run(data, Z_NO_FLUSH);
}

bool GzipStream::Finish() {
  if (finished_) return false;
  const bool ok = igzip_ ? RunIgzip({}, true) : Run({}, Z_FINISH);
  finished_ = true;
  out_->resize(used_);
  return ok;
}

void GzipStream::Reserve() {
  // Growing by resize writes the new bytes once; the text itself compresses to about a quarter.
  if (out_->size() - used_ < 4096) out_->resize(used_ + std::max<std::size_t>(16 << 10, used_ / 8));
}

#if WE_HAVE_ISAL
bool GzipStream::RunIgzip(std::string_view data, bool finish) {
  if (!ok_) return false;
  isal_zstream& s = igzip_->stream;
  // ISA-L counts in 32 bits too (kMaxSlice); it copies what it keeps of the input (the history)
  // into its own state, so the caller's piece may be reused once this returns.
  static_assert(kMaxSlice == std::numeric_limits<std::uint32_t>::max());
  std::size_t in_pos = 0;
  for (;;) {
    if (s.avail_in == 0 && in_pos < data.size()) {
      const std::size_t slice = std::min(data.size() - in_pos, kMaxSlice);
      s.next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(data.data() + in_pos));
      s.avail_in = static_cast<std::uint32_t>(slice);
      in_pos += slice;
    }
    s.end_of_stream = finish && in_pos == data.size() ? 1 : 0;
    Reserve();
    const std::size_t room = std::min(out_->size() - used_, kMaxSlice);
    s.next_out = reinterpret_cast<std::uint8_t*>(out_->data() + used_);
    s.avail_out = static_cast<std::uint32_t>(room);
    if (isal_deflate(&s) != COMP_OK) {
      ok_ = false;
      return false;
    }
    used_ += room - s.avail_out;
    if (finish) {
      if (s.internal_state.state == ZSTATE_END) return true;
    } else if (s.avail_in == 0 && in_pos == data.size()) {
      return true;  // all of this piece is in (ISA-L returns only when input or output is used up)
    }
  }
}
#else
bool GzipStream::RunIgzip(std::string_view, bool) { return false; }
#endif

bool GzipStream::Run(std::string_view data, int flush) {
  if (!ok_) return false;
  std::size_t in_pos = 0;
  for (;;) {
    if (zs_.avail_in == 0 && in_pos < data.size()) {
      const std::size_t slice = std::min(data.size() - in_pos, kMaxSlice);
      zs_.next_in = InputPointer(data.data() + in_pos);
      zs_.avail_in = static_cast<uInt>(slice);
      in_pos += slice;
    }
    const bool last_slice = in_pos == data.size();
    Reserve();
    const std::size_t room = std::min(out_->size() - used_, kMaxSlice);
    zs_.next_out = reinterpret_cast<Bytef*>(out_->data() + used_);
    zs_.avail_out = static_cast<uInt>(room);
    const int result = deflate(&zs_, last_slice ? flush : Z_NO_FLUSH);
    used_ += room - zs_.avail_out;
    if (result == Z_STREAM_END) return true;
    if (result != Z_OK && result != Z_BUF_ERROR) {
      ok_ = false;
      deflateEnd(&zs_);
      return false;
    }
    // Done with this piece once all of it is in and deflate left output room unused.
    if (last_slice && zs_.avail_in == 0 && zs_.avail_out > 0 && flush == Z_NO_FLUSH) return true;
  }
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
