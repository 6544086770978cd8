// fuzz_chunk: the chunk codec of the store (store/chunk.h). The first byte chooses the test:
//   even: the rest is a chunk blob, decoded over the full range and over a range taken from the
//         first 16 bytes; any bytes at all.
//   odd:  the rest is points for EncodeChunk; every 16 bytes are one point: 8 bytes of time, 8
//         of value. Times are sorted and deduplicated (so any int64 appears, extremes included).
//         Bits 1-3 of the first byte pick the value form: raw bits (any double, NaN payloads);
//         a signed 16-bit integer over 10^(byte 10 % 10), like 21.5 or 0.125; or a repeat of the
//         previous value unless byte 11 is odd (long runs, constants); times can also be made
//         regular (bit 4: first time plus i times a 16-bit step).
//
// Oracles: no sanitizer report and no crash; a failed decode is kInternal and leaves the vectors
// as they were; a successful decode returns strictly ascending times within the range, as many
// values as times, and agrees with InspectChunk; re-encoding what a blob decoded to and decoding
// that gives the same points; points encoded then decoded come back bit-exactly, over the full
// range and over a sub-range (compared with a plain filter).
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "store/chunk.h"

namespace {

using sluice::store::DecodeChunk;
using sluice::store::EncodeChunk;
using sluice::store::InspectChunk;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

[[noreturn]] void Die(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "\n*** FUZZ ORACLE FAILED: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// a + b, clamped to the int64 range.
int64_t AddSat(int64_t a, int64_t b) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) return b > 0 ? kMax : kMin;
  return sum;
}

uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// Decodes [from, to] and checks what any decode must satisfy. Returns whether it succeeded.
bool CheckedDecode(std::string_view blob, int64_t from, int64_t to, std::vector<int64_t>* times,
                   std::vector<double>* values) {
  times->assign({1, 2});  // prior contents that must survive
  values->assign({3});
  sluice::Status s = DecodeChunk(blob, from, to, times, values);
  if (!s.ok()) {
    if (s.code() != sluice::StatusCode::kInternal)
      Die("decode error is not kInternal", s.ToString());
    if (times->size() != 2 || values->size() != 1) Die("failed decode changed the vectors");
    times->clear();
    values->clear();
    return false;
  }
  if (times->size() < 2 || (*times)[0] != 1 || (*times)[1] != 2 || values->empty() ||
      (*values)[0] != 3) {
    Die("decode did not keep the vectors' contents");
  }
  times->erase(times->begin(), times->begin() + 2);
  values->erase(values->begin());
  if (times->size() != values->size()) Die("times and values differ in number");
  for (size_t i = 0; i < times->size(); ++i) {
    if ((*times)[i] < from || (*times)[i] > to) Die("time outside the range");
    if (i > 0 && (*times)[i] <= (*times)[i - 1]) Die("times not strictly ascending");
  }
  return true;
}

void FuzzBlob(std::string_view blob) {
  std::vector<int64_t> times, range_times, again_times;
  std::vector<double> values, range_values, again_values;
  auto info = InspectChunk(blob);
  if (CheckedDecode(blob, kMin, kMax, &times, &values)) {
    if (!info.ok()) Die("decodes but does not inspect");
    if (times.size() != info->count || times.front() != info->first_ms ||
        times.back() != info->last_ms) {
      Die("decode disagrees with InspectChunk");
    }
    std::string again;
    EncodeChunk(times.data(), values.data(), times.size(), &again);
    if (!CheckedDecode(again, kMin, kMax, &again_times, &again_values) || again_times != times ||
        !SameBits(again_values, values)) {
      Die("re-encoded chunk does not decode to the same points");
    }
  }
  if (blob.size() >= 17) {
    int64_t from = static_cast<int64_t>(Load64(reinterpret_cast<const uint8_t*>(blob.data()) + 1));
    int64_t to = static_cast<int64_t>(Load64(reinterpret_cast<const uint8_t*>(blob.data()) + 9));
    if (info.ok() && (blob[1] & 1)) {  // a range that meets the chunk, usually
      from = AddSat(info->first_ms, from & 0xffff);
      to = AddSat(from, to & 0xfffff);
    }
    CheckedDecode(blob, from, to, &range_times, &range_values);
  }
}

void FuzzPoints(uint8_t flags, const uint8_t* data, size_t size) {
  const size_t n = std::min(size / 16, sluice::store::kMaxChunkPoints);
  if (n == 0) return;
  std::vector<int64_t> times;
  std::vector<double> values;
  const int value_form = (flags >> 1) & 7;
  const bool regular = (flags >> 4) & 1;
  const int64_t step = 1 + static_cast<int64_t>(Load64(data) & 0xffff);
  const int64_t start = static_cast<int64_t>(Load64(data)) >> 20;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = data + 16 * i;
    times.push_back(regular ? start + static_cast<int64_t>(i) * step
                            : static_cast<int64_t>(Load64(p)));
    const uint64_t raw = Load64(p + 8);
    double v = std::bit_cast<double>(raw);
    if (value_form % 3 == 1) {
      static constexpr double kPow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
      v = static_cast<double>(static_cast<int16_t>(raw)) / kPow10[p[10] % 10];
    } else if (value_form % 3 == 2 && !values.empty() && (p[11] & 1) == 0) {
      v = values.back();
    }
    values.push_back(v);
  }
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  values.resize(times.size());

  std::string chunk;
  EncodeChunk(times.data(), values.data(), times.size(), &chunk);
  std::vector<int64_t> got_times;
  std::vector<double> got_values;
  if (!CheckedDecode(chunk, kMin, kMax, &got_times, &got_values))
    Die("encoded chunk fails to decode");
  if (got_times != times || !SameBits(got_values, values)) Die("round trip is not exact");
  auto info = InspectChunk(chunk);
  if (!info.ok() || info->count != times.size()) Die("InspectChunk disagrees");

  // A sub-range from the data, against a plain filter.
  const int64_t a = AddSat(times[data[0] % times.size()], data[1] % 3 - 1);
  const int64_t b = AddSat(times[data[2] % times.size()], data[3] % 3 - 1);
  const int64_t from = std::min(a, b), to = std::max(a, b);
  std::vector<int64_t> want_times;
  std::vector<double> want_values;
  for (size_t i = 0; i < times.size(); ++i) {
    if (times[i] >= from && times[i] <= to) {
      want_times.push_back(times[i]);
      want_values.push_back(values[i]);
    }
  }
  if (!CheckedDecode(chunk, from, to, &got_times, &got_values)) Die("range decode failed");
  if (got_times != want_times || !SameBits(got_values, want_values)) Die("range decode differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    FuzzBlob(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  } else {
    FuzzPoints(data[0], data + 1, size - 1);
  }
  return 0;
}
