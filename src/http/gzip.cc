#include "http/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "common/strings.h"

namespace sluice::http {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 32 KB window, gzip wrapper
constexpr int kAutoWindowBits = 15 + 32;  // 32 KB window, detect gzip or zlib wrapper

// One deflate state per thread, reset for each response.
class Deflater {
 public:
  Deflater() = default;
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  ~Deflater() {
    if (initialized_) deflateEnd(&stream_);
  }

  // Returns the stream ready for a new member at `level`, or null when zlib cannot allocate.
  z_stream* Prepare(int level) {
    if (initialized_ && level == level_) {
      if (deflateReset(&stream_) == Z_OK) return &stream_;
    }
    if (initialized_) deflateEnd(&stream_);
    initialized_ = false;
    std::memset(&stream_, 0, sizeof(stream_));
    if (deflateInit2(&stream_, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return nullptr;
    }
    initialized_ = true;
    level_ = level;
    return &stream_;
  }

 private:
  z_stream stream_;
  bool initialized_ = false;
  int level_ = 0;
};

class InflateGuard {
 public:
  explicit InflateGuard(z_stream* stream) : stream_(stream) {}
  InflateGuard(const InflateGuard&) = delete;
  InflateGuard& operator=(const InflateGuard&) = delete;
  ~InflateGuard() { inflateEnd(stream_); }

 private:
  z_stream* stream_;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The q value of one Accept-Encoding element's parameters (";q=0.5"); 1 when absent.
bool QualityPositive(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (param.empty() || (param[0] != 'q' && param[0] != 'Q')) continue;
    param = Trim(param.substr(1));
    if (param.empty() || param[0] != '=') continue;
    std::string_view value = Trim(param.substr(1));
    // q = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ): positive unless all digits are 0.
    for (char c : value) {
      if (c >= '1' && c <= '9') return true;
    }
    return false;
  }
  return true;
}

}  // namespace

bool GzipCompress(std::string_view input, int level, std::string* out) {
  thread_local Deflater deflater;
  z_stream* zs = deflater.Prepare(std::clamp(level, 1, 9));
  if (zs == nullptr) return false;
  out->resize(deflateBound(zs, input.size()));
  zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs->next_out = reinterpret_cast<Bytef*>(out->data());
  size_t in_left = input.size();
  size_t out_left = out->size();
  int rc = Z_OK;
  while (rc == Z_OK) {
    // avail_in/avail_out are 32-bit; feed bodies beyond 4 GB in slices.
    zs->avail_in = static_cast<uInt>(std::min<size_t>(in_left, UINT_MAX));
    zs->avail_out = static_cast<uInt>(std::min<size_t>(out_left, UINT_MAX));
    uInt in_before = zs->avail_in;
    uInt out_before = zs->avail_out;
    rc = deflate(zs, zs->avail_in == in_left ? Z_FINISH : Z_NO_FLUSH);
    in_left -= in_before - zs->avail_in;
    out_left -= out_before - zs->avail_out;
    if (rc == Z_OK && out_left == 0) return false;  // deflateBound is an upper bound; not reached
  }
  if (rc != Z_STREAM_END) return false;
  out->resize(out->size() - out_left);
  return true;
}

Status Inflate(std::string_view input, uint64_t limit_bytes, std::string* out) {
  out->clear();
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, kAutoWindowBits) != Z_OK) {
    return Internal("cannot initialise zlib to decode the request body");
  }
  InflateGuard guard(&zs);
  const auto* next = reinterpret_cast<const Bytef*>(input.data());
  size_t in_left = input.size();
  size_t produced = 0;
  for (;;) {
    if (produced == out->size()) {
      // Grow geometrically, but never beyond one byte past the limit (which detects overflow).
      uint64_t cap = limit_bytes + 1;
      uint64_t want =
          std::max<uint64_t>(out->size() * 2, std::max<size_t>(input.size() * 4, 16384));
      want = std::min<uint64_t>(want, cap);
      if (want <= produced) {
        return MakeStatus(StatusCode::kPayloadTooLarge,
                          "request body exceeds the {}-byte limit after gzip decoding",
                          limit_bytes);
      }
      out->resize(static_cast<size_t>(want));
    }
    zs.next_in = const_cast<Bytef*>(next);
    zs.avail_in = static_cast<uInt>(std::min<size_t>(in_left, UINT_MAX));
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + produced);
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out->size() - produced, UINT_MAX));
    uInt in_before = zs.avail_in;
    uInt out_before = zs.avail_out;
    int rc = inflate(&zs, Z_NO_FLUSH);
    next += in_before - zs.avail_in;
    in_left -= in_before - zs.avail_in;
    produced += out_before - zs.avail_out;
    if (produced > limit_bytes) {
      return MakeStatus(StatusCode::kPayloadTooLarge,
                        "request body exceeds the {}-byte limit after gzip decoding", limit_bytes);
    }
    if (rc == Z_STREAM_END) {
      if (in_left == 0) break;
      // Concatenated gzip members form one body (RFC 1952 §2.2).
      if (inflateReset(&zs) != Z_OK) return Internal("cannot reset zlib");
      continue;
    }
    if (rc == Z_BUF_ERROR && (in_left == 0 || zs.avail_out != 0)) {
      return InvalidArgument("invalid gzip request body: truncated");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return InvalidArgument("invalid gzip request body: {}",
                             zs.msg != nullptr ? zs.msg : "corrupt");
    }
  }
  out->resize(produced);
  return Status::OK();
}

bool AcceptsGzip(std::string_view accept_encoding) {
  int gzip = -1;  // -1: not listed; 0: refused; 1: accepted
  int wildcard = -1;
  while (!accept_encoding.empty()) {
    size_t comma = accept_encoding.find(',');
    std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    size_t semi = element.find(';');
    std::string_view coding = Trim(element.substr(0, semi));
    std::string_view params =
        semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
    if (EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip")) {
      gzip = QualityPositive(params) ? 1 : 0;
    } else if (coding == "*") {
      wildcard = QualityPositive(params) ? 1 : 0;
    }
  }
  if (gzip >= 0) return gzip == 1;
  return wildcard == 1;
}

}  // namespace sluice::http
