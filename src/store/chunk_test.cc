#include "store/chunk.h"
#include "store/chunk_shapes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace sluice::store {
namespace {

constexpr int64_t kStartMs = kShapeStartMs;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

using Points = ShapePoints;

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

std::string Encode(const Points& p) {
  std::string out;
  EncodeChunk(p.times.data(), p.values.data(), p.size(), &out);
  return out;
}

std::string Hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// The value mode byte of an encoded chunk (see docs/chunk-format.md), found by re-reading the
// header: version, count, first, span, timestamps length.
uint8_t ValueMode(const std::string& chunk) {
  size_t pos = 1;
  auto skip_varint = [&] {
    while (static_cast<uint8_t>(chunk[pos]) & 0x80) ++pos;
    ++pos;
  };
  skip_varint();
  skip_varint();
  skip_varint();
  uint64_t time_bytes = 0;
  for (unsigned shift = 0;; shift += 7) {
    const auto b = static_cast<uint8_t>(chunk[pos++]);
    time_bytes |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  return static_cast<uint8_t>(chunk[pos + time_bytes]);
}
constexpr uint8_t kConstantMode = 0, kDecimalMode = 1, kXorMode = 2;

// Encodes, inspects and decodes the points, expecting every time and every value bit back.
// Returns the encoding.
std::string ExpectRoundTrip(const Points& p) {
  std::string chunk = Encode(p);
  Result<ChunkInfo> info = InspectChunk(chunk);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  if (info.ok()) {
    EXPECT_EQ(info->count, p.size());
    EXPECT_EQ(info->first_ms, p.times.front());
    EXPECT_EQ(info->last_ms, p.times.back());
  }
  std::vector<int64_t> times = {-7};  // existing contents must be kept
  std::vector<double> values = {-7.5};
  Status s = DecodeChunk(chunk, kMinTime, kMaxTime, &times, &values);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(times.size(), p.size() + 1);
  EXPECT_EQ(values.size(), p.size() + 1);
  if (times.size() != p.size() + 1 || values.size() != p.size() + 1) return chunk;
  EXPECT_EQ(times[0], -7);
  EXPECT_EQ(values[0], -7.5);
  for (size_t i = 0; i < p.size(); ++i) {
    if (times[i + 1] != p.times[i] || Bits(values[i + 1]) != Bits(p.values[i])) {
      ADD_FAILURE() << "point " << i << " of " << p.size() << ": got (" << times[i + 1] << ", "
                    << values[i + 1] << ") want (" << p.times[i] << ", " << p.values[i] << ")";
      break;
    }
  }
  std::string again;
  EncodeChunk(p.times.data(), p.values.data(), p.size(), &again);
  EXPECT_EQ(again, chunk) << "encoding is not deterministic";
  return chunk;
}

Points Regular(size_t n, int64_t step_ms, double (*value)(size_t)) {
  Points p;
  for (size_t i = 0; i < n; ++i) {
    p.times.push_back(kStartMs + static_cast<int64_t>(i) * step_ms);
    p.values.push_back(value(i));
  }
  return p;
}

TEST(ChunkTest, OnePoint) {
  for (double v : {0.0, -0.0, 1.5, kNaN, kInf, -kInf, 5e-324}) {
    for (int64_t t : {int64_t{0}, kStartMs, kMinTime, kMaxTime, int64_t{-1}}) {
      ExpectRoundTrip(Points{{t}, {v}});
    }
  }
}

TEST(ChunkTest, ConstantMode) {
  EXPECT_EQ(ValueMode(ExpectRoundTrip(Regular(1000, 10'000, [](size_t) { return 42.5; }))),
            kConstantMode);
  EXPECT_EQ(ValueMode(ExpectRoundTrip(Regular(1000, 10'000, [](size_t) { return kNaN; }))),
            kConstantMode);
  EXPECT_EQ(ValueMode(ExpectRoundTrip(Regular(70, 10'000, [](size_t) { return -0.0; }))),
            kConstantMode);
  std::string chunk = ExpectRoundTrip(Regular(1000, 10'000, [](size_t) { return 42.5; }));
  EXPECT_LE(chunk.size(), 50u);
}

TEST(ChunkTest, DecimalMode) {
  // Integers, decimals with 1..9 digits, negative, mixed magnitudes.
  for (int k = 0; k <= 9; ++k) {
    Points p;
    std::mt19937_64 rng(k);
    std::uniform_int_distribution<int64_t> digits(-1'000'000'000, 1'000'000'000);
    for (int i = 0; i < 500; ++i) {
      p.times.push_back(kStartMs + i * 1000);
      p.values.push_back(static_cast<double>(digits(rng)) / std::pow(10.0, k));
    }
    SCOPED_TRACE(k);
    EXPECT_EQ(ValueMode(ExpectRoundTrip(p)), kDecimalMode);
  }
  // Integers near the 2^53 limit still round-trip (decimal mode or not).
  ExpectRoundTrip(Regular(200, 1, [](size_t i) { return 9007199254740992.0 - i * 3; }));
  ExpectRoundTrip(Regular(200, 1, [](size_t i) { return -9007199254740991.0 + i; }));
}

TEST(ChunkTest, DecimalModeWithExceptions) {
  // NaN, ±Inf and -0.0 are stored beside the decimals: bitmap when frequent, list when rare.
  auto frequent = [](size_t i) {
    switch (i % 5) {
      case 0:
        return kNaN;
      case 1:
        return i % 2 ? kInf : -kInf;
      case 2:
        return -0.0;
      default:
        return static_cast<double>(i) / 8;
    }
  };
  EXPECT_EQ(ValueMode(ExpectRoundTrip(Regular(1000, 10'000, frequent))), kDecimalMode);
  auto rare = [](size_t i) { return i % 300 == 7 ? kNaN : 0.25 * static_cast<double>(i % 17); };
  EXPECT_EQ(ValueMode(ExpectRoundTrip(Regular(1000, 10'000, rare))), kDecimalMode);
  auto all_exceptions = [](size_t i) {
    constexpr double kSpecial[] = {kNaN, -0.0, kInf, -kInf};
    return kSpecial[i % 4];
  };
  EXPECT_EQ(ValueMode(ExpectRoundTrip(Regular(100, 10'000, all_exceptions))), kDecimalMode);
  // NaN payloads survive.
  auto payloads = [](size_t i) {
    return i % 3 ? 1.5 : std::bit_cast<double>(uint64_t{0x7ff0000000000001} + (i % 7));
  };
  ExpectRoundTrip(Regular(300, 10'000, payloads));
  // More distinct exception patterns than the table holds: still exact (XOR mode).
  auto many_payloads = [](size_t i) {
    return std::bit_cast<double>(uint64_t{0xfff8000000000000} + i);
  };
  EXPECT_EQ(ValueMode(ExpectRoundTrip(Regular(1000, 10'000, many_payloads))), kXorMode);
}

TEST(ChunkTest, XorMode) {
  auto thirds = [](size_t i) { return static_cast<double>(i) / 3; };
  EXPECT_EQ(ValueMode(ExpectRoundTrip(Regular(1000, 10'000, thirds))), kXorMode);
  auto denormals = [](size_t i) { return std::bit_cast<double>(uint64_t{1} + i * 977); };
  ExpectRoundTrip(Regular(1000, 10'000, denormals));
  auto floats = [](size_t i) { return static_cast<double>(static_cast<float>(0.1 * i)); };
  ExpectRoundTrip(Regular(1000, 10'000, floats));
  auto extremes = [](size_t i) {
    constexpr double kValues[] = {std::numeric_limits<double>::max(),
                                  std::numeric_limits<double>::lowest(),
                                  std::numeric_limits<double>::min(),
                                  std::numeric_limits<double>::denorm_min(),
                                  -std::numeric_limits<double>::denorm_min(),
                                  kNaN,
                                  -kNaN,
                                  kInf,
                                  -kInf,
                                  0.0,
                                  -0.0,
                                  1e300,
                                  1.0 / 3};
    return kValues[i % std::size(kValues)];
  };
  ExpectRoundTrip(Regular(1000, 10'000, extremes));
  // Every width 1..64 appears when each XOR sets one more bit.
  auto widths = [](size_t i) {
    return std::bit_cast<double>(i % 2 ? ~uint64_t{0} >> (i % 64) : 0);
  };
  ExpectRoundTrip(Regular(64 * 65, 1, widths));
}

TEST(ChunkTest, MaxPoints) {
  auto walk = MakeShape(Shape::kRandomWalk, kMaxChunkPoints, true, 1);
  ExpectRoundTrip(walk);
  auto thirds = Regular(kMaxChunkPoints, 1, [](size_t i) { return i / 3.0; });
  ExpectRoundTrip(thirds);
}

TEST(ChunkTest, ExtremeTimestamps) {
  ExpectRoundTrip(Points{{kMinTime, kMaxTime}, {1, 2}});
  ExpectRoundTrip(Points{{kMinTime, kMinTime + 1, kMaxTime - 1, kMaxTime}, {1, 2, 3, 4}});
  ExpectRoundTrip(Points{{kMinTime, -1, 0, 1, kMaxTime}, {1, 2, 3, 4, 5}});
  // Alternating huge and tiny deltas: second differences wrap around 2^64 several times.
  Points p;
  int64_t t = kMinTime;
  for (int i = 0; i < 200; ++i) {
    p.times.push_back(t);
    p.values.push_back(i);
    t += (i % 2 ? 1 : (kMaxTime / 100) - 3);
  }
  ExpectRoundTrip(p);
  // Negative (pre-1970) and irregular times.
  Points q;
  std::mt19937_64 rng(3);
  int64_t u = -62'135'596'800'000;  // year 1
  for (int i = 0; i < 5000; ++i) {
    q.times.push_back(u);
    q.values.push_back(i * 0.5);
    u += 1 + static_cast<int64_t>(rng() % (i % 100 == 0 ? 1'000'000'000'000 : 1000));
  }
  ExpectRoundTrip(q);
}

// Random chunks of every mode and size, checked against the points they came from.
TEST(ChunkTest, RandomRoundTrips) {
  std::mt19937_64 rng(20240601);
  for (int iteration = 0; iteration < 100'000; ++iteration) {
    const size_t n = rng() % 8 == 0 ? 1 + rng() % kMaxChunkPoints / 16 : 1 + rng() % 130;
    Points p;
    const int time_kind = static_cast<int>(rng() % 4);
    const int value_kind = static_cast<int>(rng() % 7);
    int64_t t = static_cast<int64_t>(rng()) >> (rng() % 64);
    if (t > kMaxTime - (int64_t{1} << 62)) t = 0;
    const int64_t step = 1 + static_cast<int64_t>(rng() % 100'000);
    const int decimals = static_cast<int>(rng() % 10);
    double v = static_cast<double>(static_cast<int64_t>(rng() % 2'000'000) - 1'000'000);
    for (size_t i = 0; i < n; ++i) {
      p.times.push_back(t);
      switch (time_kind) {
        case 0:
          t += step;
          break;
        case 1:
          t += 1 + static_cast<int64_t>(rng() % (2 * step));
          break;
        case 2:
          t += step + static_cast<int64_t>(rng() % 3);
          break;
        default:
          t += 1 + static_cast<int64_t>(rng() % 1000) * (rng() % 50 == 0 ? 1'000'000'000 : 1);
          break;
      }
      switch (value_kind) {
        case 0:  // decimal random walk
          v += static_cast<double>(static_cast<int64_t>(rng() % 2001) - 1000);
          p.values.push_back(v / std::pow(10.0, decimals));
          break;
        case 1:  // decimals with nulls and specials
          p.values.push_back(rng() % 5 == 0 ? (rng() % 2 ? kNaN : -0.0)
                                            : static_cast<double>(rng() % 100'000) / 100);
          break;
        case 2:  // arbitrary bits
          p.values.push_back(std::bit_cast<double>(rng()));
          break;
        case 3:  // mostly constant
          p.values.push_back(rng() % 20 == 0 ? static_cast<double>(rng() % 3) : 7.0);
          break;
        case 4:  // computed doubles
          p.values.push_back(std::sin(static_cast<double>(i) / 10) * 1e3);
          break;
        case 5:  // large integers
          p.values.push_back(static_cast<double>(static_cast<int64_t>(rng() >> 10)) *
                             (rng() % 2 ? 1 : -1));
          break;
        default:  // constant
          p.values.push_back(v);
          break;
      }
    }
    std::string chunk = Encode(p);
    std::vector<int64_t> times;
    std::vector<double> values;
    ASSERT_TRUE(DecodeChunk(chunk, kMinTime, kMaxTime, &times, &values).ok()) << iteration;
    ASSERT_EQ(times, p.times) << iteration;
    ASSERT_EQ(values.size(), n);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(Bits(values[i]), Bits(p.values[i])) << iteration << " point " << i;
    }
    // A random range against a plain filter of the points.
    if (iteration % 4 == 0) {
      // A point's time, or one off it (clamped to the int64 range).
      auto near = [&](int64_t t) {
        const int off = static_cast<int>(rng() % 3) - 1;
        return (off < 0 && t == kMinTime) || (off > 0 && t == kMaxTime) ? t : t + off;
      };
      const int64_t a = near(p.times[rng() % n]);
      const int64_t b = near(p.times[rng() % n]);
      const int64_t from = std::min(a, b), to = std::max(a, b);
      std::vector<int64_t> want_times, got_times;
      std::vector<double> want_values, got_values;
      for (size_t i = 0; i < n; ++i) {
        if (p.times[i] >= from && p.times[i] <= to) {
          want_times.push_back(p.times[i]);
          want_values.push_back(p.values[i]);
        }
      }
      ASSERT_TRUE(DecodeChunk(chunk, from, to, &got_times, &got_values).ok());
      ASSERT_EQ(got_times, want_times) << iteration;
      ASSERT_EQ(got_values.size(), want_values.size());
      for (size_t i = 0; i < want_values.size(); ++i) {
        ASSERT_EQ(Bits(got_values[i]), Bits(want_values[i])) << iteration << " point " << i;
      }
    }
  }
}

// Decodes [from, to] and returns the times.
std::vector<int64_t> RangeTimes(const std::string& chunk, int64_t from, int64_t to,
                                std::vector<double>* values = nullptr) {
  std::vector<int64_t> times;
  std::vector<double> v;
  Status s = DecodeChunk(chunk, from, to, &times, values ? values : &v);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return times;
}

TEST(ChunkTest, RangeBoundariesAreInclusive) {
  // Points at 1000, 2000, ..., 300000 (more than four blocks).
  Points p = Regular(300, 1000, [](size_t i) { return static_cast<double>(i); });
  for (auto& t : p.times) t = t - kStartMs + 1000;
  const std::string chunk = Encode(p);
  EXPECT_EQ(RangeTimes(chunk, 1000, 1000), std::vector<int64_t>{1000});
  EXPECT_EQ(RangeTimes(chunk, 300000, 300000), std::vector<int64_t>{300000});
  EXPECT_EQ(RangeTimes(chunk, 1001, 2999), std::vector<int64_t>{2000});
  EXPECT_EQ(RangeTimes(chunk, 1001, 1999), std::vector<int64_t>{});
  EXPECT_EQ(RangeTimes(chunk, 0, 999), std::vector<int64_t>{});
  EXPECT_EQ(RangeTimes(chunk, 300001, kMaxTime), std::vector<int64_t>{});
  EXPECT_EQ(RangeTimes(chunk, 5000, 4000), std::vector<int64_t>{});  // empty range
  EXPECT_EQ(RangeTimes(chunk, kMinTime, kMaxTime).size(), 300u);
  // Around every block boundary (block k holds points 1 + 64k .. 64(k+1)).
  for (int64_t i : {63, 64, 65, 128, 129, 256, 257}) {
    std::vector<double> values;
    const int64_t t = (i + 1) * 1000;
    EXPECT_EQ(RangeTimes(chunk, t, t + 1000, &values), (std::vector<int64_t>{t, t + 1000}));
    EXPECT_EQ(values, (std::vector<double>{static_cast<double>(i), static_cast<double>(i + 1)}));
  }
  // Appends to what is there.
  std::vector<int64_t> times = {1, 2};
  std::vector<double> values = {3};
  ASSERT_TRUE(DecodeChunk(chunk, 4000, 5000, &times, &values).ok());
  EXPECT_EQ(times, (std::vector<int64_t>{1, 2, 4000, 5000}));
  EXPECT_EQ(values, (std::vector<double>{3, 3, 4}));
}

TEST(ChunkTest, RangeDecodeWithExceptions) {
  Points p = Regular(500, 1, [](size_t i) { return i % 7 == 3 ? kNaN : i * 0.5; });
  const std::string chunk = Encode(p);
  for (int64_t from = 0; from < 500; from += 37) {
    for (int64_t to = from; to < 520; to += 53) {
      std::vector<double> values;
      std::vector<int64_t> times = RangeTimes(chunk, kStartMs + from, kStartMs + to, &values);
      ASSERT_EQ(times.size(), static_cast<size_t>(std::min<int64_t>(to, 499) - from + 1));
      for (size_t j = 0; j < times.size(); ++j) {
        const size_t i = static_cast<size_t>(from) + j;
        EXPECT_EQ(times[j], p.times[i]);
        EXPECT_EQ(Bits(values[j]), Bits(p.values[i]));
      }
    }
  }
}

// The encodings of one chunk per mode; every corruption of them must be handled.
std::vector<std::string> SampleChunks() {
  std::vector<std::string> chunks;
  chunks.push_back(Encode(Points{{5}, {1.5}}));
  chunks.push_back(Encode(Regular(200, 10'000, [](size_t) { return 42.5; })));
  chunks.push_back(Encode(MakeShape(Shape::kRandomWalk, 200, true, 7)));
  chunks.push_back(Encode(Regular(200, 10'000, [](size_t i) { return i / 3.0; })));
  chunks.push_back(Encode(Regular(200, 10'000, [](size_t i) { return i % 9 ? i * 0.1 : kNaN; })));
  chunks.push_back(
      Encode(Regular(200, 10'000, [](size_t i) { return i == 50 ? -kInf : i * 1.0; })));
  chunks.push_back(Encode(Regular(
      130, 10'000, [](size_t i) { return i % 3 == 0 ? kNaN : (i % 3 == 1 ? -0.0 : 2.0 * i); })));
  chunks.push_back(Encode(Points{{kMinTime, kMaxTime}, {kInf, std::bit_cast<double>(~0ull)}}));
  return chunks;
}

TEST(ChunkTest, EveryTruncationIsAnError) {
  for (const std::string& chunk : SampleChunks()) {
    for (size_t len = 0; len < chunk.size(); ++len) {
      std::vector<int64_t> times = {1};
      std::vector<double> values = {2, 3};
      Status s =
          DecodeChunk(std::string_view(chunk).substr(0, len), kMinTime, kMaxTime, &times, &values);
      ASSERT_FALSE(s.ok()) << Hex(chunk) << " cut to " << len;
      EXPECT_EQ(s.code(), StatusCode::kInternal);
      EXPECT_EQ(times.size(), 1u) << "vectors restored on error";
      EXPECT_EQ(values.size(), 2u);
    }
    // One byte too many.
    std::vector<int64_t> times;
    std::vector<double> values;
    EXPECT_FALSE(DecodeChunk(chunk + '\0', kMinTime, kMaxTime, &times, &values).ok()) << Hex(chunk);
  }
}

TEST(ChunkTest, CorruptionNeverCrashes) {
  std::mt19937_64 rng(99);
  for (const std::string& chunk : SampleChunks()) {
    // Every byte set to a handful of values, then random multi-byte damage. The decoder may accept
    // damaged values (there is no checksum) but must stay in bounds, keep its output consistent
    // and report kInternal otherwise.
    for (size_t i = 0; i < chunk.size(); ++i) {
      for (int b : {0x00, 0x01, 0x7f, 0x80, 0xff, chunk[i] ^ 0x01, chunk[i] ^ 0x40}) {
        std::string bad = chunk;
        bad[i] = static_cast<char>(b);
        std::vector<int64_t> times;
        std::vector<double> values;
        Status s = DecodeChunk(bad, kMinTime, kMaxTime, &times, &values);
        if (s.ok()) {
          EXPECT_EQ(times.size(), values.size());
          EXPECT_TRUE(std::adjacent_find(times.begin(), times.end(),
                                         std::greater_equal<int64_t>()) == times.end());
        } else {
          EXPECT_EQ(s.code(), StatusCode::kInternal);
          EXPECT_TRUE(times.empty() && values.empty());
        }
        (void)InspectChunk(bad);
        (void)DecodeChunk(bad, kStartMs + 500'000, kStartMs + 700'000, &times, &values);
      }
    }
    for (int trial = 0; trial < 2000; ++trial) {
      std::string bad = chunk;
      for (int j = 0, m = 1 + static_cast<int>(rng() % 4); j < m; ++j) {
        bad[rng() % bad.size()] = static_cast<char>(rng());
      }
      std::vector<int64_t> times;
      std::vector<double> values;
      Status s = DecodeChunk(bad, kMinTime, kMaxTime, &times, &values);
      EXPECT_EQ(times.size(), values.size());
      if (!s.ok()) {
        EXPECT_EQ(s.code(), StatusCode::kInternal);
      }
    }
  }
  // Random bytes behind a valid version byte.
  for (int trial = 0; trial < 20000; ++trial) {
    std::string bad(1 + rng() % 64, '\0');
    for (char& c : bad) c = static_cast<char>(rng());
    bad[0] = static_cast<char>(kChunkFormatVersion);
    std::vector<int64_t> times;
    std::vector<double> values;
    Status s = DecodeChunk(bad, kMinTime, kMaxTime, &times, &values);
    EXPECT_EQ(times.size(), values.size());
  }
}

TEST(ChunkTest, ErrorsSayWhatIsWrong) {
  std::string chunk = Encode(Regular(100, 10'000, [](size_t i) { return i * 0.5; }));
  Result<ChunkInfo> empty = InspectChunk("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "corrupt chunk: empty");
  std::string v2 = chunk;
  v2[0] = 2;
  Result<ChunkInfo> version = InspectChunk(v2);
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.status().code(), StatusCode::kInternal);
  EXPECT_NE(version.status().message().find("unknown format version 2"), std::string::npos);
  std::vector<int64_t> times;
  std::vector<double> values;
  Status s = DecodeChunk(std::string_view(chunk).substr(0, chunk.size() - 3), kMinTime, kMaxTime,
                         &times, &values);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("values: truncated"), std::string::npos) << s.message();
}

// The bytes of a few chunks, fixed forever: if one of these fails, the format changed and chunks
// already written would be misread. Bump kChunkFormatVersion instead (docs/chunk-format.md).
TEST(ChunkTest, FormatIsFrozen) {
  struct Golden {
    Points points;
    const char* hex;
  };
  Points counter = Regular(200, 10'000, [](size_t i) { return static_cast<double>(i); });
  Points bitmap;
  for (int i = 0; i < 10; ++i) {
    bitmap.times.push_back(i * 1000 + i % 2);
    bitmap.values.push_back(i % 4 == 1 ? kNaN : (i % 4 == 3 ? -kInf : 20 + i * 0.25));
  }
  Points list = Regular(100, 1, [](size_t i) { return i == 13 ? kNaN : 1.5; });
  for (auto& t : list.times) t -= kStartMs;
  const Golden goldens[] = {
      // Constant mode, one point.
      {Points{{1000}, {1.5}}, "0101d00f000000000000000000f83f"},
      // XOR mode; timestamps in one order-2 block.
      {Points{{0, 1, 3}, {1.0 / 3, 0.1, 0.1}},
       "0103000302800202555555555555d53f3700cfcccccccccc6c00000000000000"},
      // Regular times and an integer counter: one block each, then runs.
      {counter, "01c80180a0abfef962f0ba790600a09c017f030100000000027f03"},
      // Decimal mode with a bitmap of exceptions and a two-entry table; 2-bit jitter.
      {bitmap,
       "010a00a9460602ce0f22220201010102000000000000f87f000000000000f0ffaa0200010001009003000a"},
      // Decimal mode with an exception list and a one-entry table.
      {list, "01640063040002800001010201000000000000f87f010d1e7f02"},
  };
  for (const Golden& g : goldens) {
    EXPECT_EQ(Hex(ExpectRoundTrip(g.points)), g.hex);
  }
}

TEST(ChunkTest, SizeGoals) {
  struct Goal {
    Shape shape;
    const char* name;
    double regular_max;  // bytes/point, regular 10 s timestamps
    double jitter_max;   // bytes/point, timestamps jittered by ±1 s
  };
  const Goal goals[] = {
      {Shape::kRandomWalk, "random walk", 3.0, 4.0},
      {Shape::kCounter, "counter", 1.0, 3.0},
      {Shape::kConstant, "constant", 0.1, 2.0},
      {Shape::kSine, "sine", 3.0, 4.0},
  };
  for (const Goal& goal : goals) {
    for (bool jitter : {false, true}) {
      Points p = MakeShape(goal.shape, 259'200, jitter, 42);
      size_t bytes = 0;
      for (size_t s = 0; s < p.size(); s += 1000) {
        const size_t n = std::min<size_t>(1000, p.size() - s);
        std::string chunk;
        EncodeChunk(p.times.data() + s, p.values.data() + s, n, &chunk);
        bytes += chunk.size();
      }
      const double per_point = static_cast<double>(bytes) / static_cast<double>(p.size());
      EXPECT_LE(per_point, jitter ? goal.jitter_max : goal.regular_max)
          << goal.name << (jitter ? " jittered" : " regular");
      RecordProperty(std::string(goal.name) + (jitter ? " jittered" : " regular"),
                     std::to_string(per_point));
    }
  }
}

}  // namespace
}  // namespace sluice::store
