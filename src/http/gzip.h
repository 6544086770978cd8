// gzip for HTTP bodies: compressing responses and inflating `Content-Encoding: gzip` requests.
//
// Internal to the HTTP core (not part of its public interface). zlib is used directly; each thread
// keeps one deflate state and resets it per response, so compressing does not allocate zlib's
// ~260 KB of tables per request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice::http {

// Replaces *out with `input` compressed as one gzip member at `level` (1..9). Returns false only
// when zlib fails (out of memory); *out is then unspecified. Thread-safe.
bool GzipCompress(std::string_view input, int level, std::string* out);

// Replaces *out with the decompressed `input`, a gzip stream (possibly several concatenated
// members) or a zlib stream. Errors: kPayloadTooLarge when the output would exceed `limit_bytes`,
// kInvalidArgument when the input is corrupt or truncated. Thread-safe.
Status Inflate(std::string_view input, uint64_t limit_bytes, std::string* out);

// Whether an Accept-Encoding header value accepts gzip: "gzip" (or "x-gzip") listed with q>0, or,
// when gzip is not listed, "*" with q>0.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace sluice::http
