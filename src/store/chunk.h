// Chunk codec of the embedded store: the compressed points of one series over a time span.
//
// A chunk holds 1 to kMaxChunkPoints points with strictly ascending int64 epoch-millisecond times
// and double values (NaN = null; every value, -0.0, ±Inf and NaN payloads included, comes back
// bit-exactly). The store keeps each chunk as one SQLite BLOB. The byte format is versioned by its
// first byte and documented bit for bit in docs/chunk-format.md; a written chunk must decode
// identically forever, so the format never changes (a new layout gets a new version byte, and the
// decoder keeps reading every old one).
//
// Typical sizes for regular 10 s data: timestamps ~0.03 bytes/point; short decimals (21.5, 25.123)
// and integer counters 0.5-2 bytes/point; constants ~0. Decoding is the read hot path (a few
// hundred million points/s on one core); see bench/chunk_bench.cc.
//
// All functions are pure and thread-safe; they keep no state between calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice::store {

inline constexpr size_t kMaxChunkPoints = 65535;

// The version byte written first by EncodeChunk.
inline constexpr uint8_t kChunkFormatVersion = 1;

// Appends the encoding of the points to *out (existing contents are kept).
// Preconditions (programmer errors, checked by assert only): 1 <= n <= kMaxChunkPoints and
// times_ms strictly ascending. Any int64 times are accepted, including gaps wider than INT64_MAX
// (e.g. INT64_MIN then INT64_MAX): deltas are computed modulo 2^64, which reconstructs exactly.
// The output is deterministic: the same points always give the same bytes.
void EncodeChunk(const int64_t* times_ms, const double* values, size_t n, std::string* out);

struct ChunkInfo {
  size_t count;      // number of points, 1..kMaxChunkPoints
  int64_t first_ms;  // time of the first point
  int64_t last_ms;   // time of the last point (== first_ms when count == 1)
};

// Reads the chunk's header only (a few bytes; does not look at the points).
// Errors: kInternal naming what is wrong when the version is unknown or the header is truncated or
// inconsistent. An OK result does not prove the rest of the chunk is intact; DecodeChunk checks it.
Result<ChunkInfo> InspectChunk(std::string_view data);

// Appends to *times_ms and *values (each grown at its own end; their previous contents are kept)
// the points with from_ms <= time <= to_ms, in ascending time order. Decoding stops after the last
// block that can hold such points, so a range near the start of a chunk is cheaper than a full
// decode; a range outside [first_ms, last_ms] costs only the header.
// Errors: kInternal naming what is wrong when the data is not a valid chunk. Whatever the bytes,
// the decoder never reads outside `data` and never crashes; on error the vectors are restored to
// their sizes at entry. Validation covers the parts decoded: a full-range decode checks the whole
// chunk (structure, strictly ascending times, the header's count and last time, no trailing bytes).
// `data` is not retained.
Status DecodeChunk(std::string_view data, int64_t from_ms, int64_t to_ms,
                   std::vector<int64_t>* times_ms, std::vector<double>* values);

}  // namespace sluice::store
