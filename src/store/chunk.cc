#include "store/chunk.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <utility>

namespace sluice::store {
namespace {

// The format is little-endian; loads and stores below are plain memcpy.
static_assert(std::endian::native == std::endian::little, "chunk codec assumes little-endian");

// Points per bit-packed block. 64 values of width w are exactly w 64-bit words, and a block's
// header (2-4 bytes) costs under 0.07 bytes/point.
constexpr size_t kBlock = 64;
// Largest number of decimals of the decimal value mode (10^15 is exact, and x / 10^k is then a
// correctly rounded division of two exact doubles).
constexpr int kMaxDecimals = 15;
// Largest number of distinct exception bit patterns in decimal mode (the index is one byte).
constexpr size_t kMaxExceptionTable = 255;
// |x| must not exceed this in decimal mode, so that x converts to a double exactly.
constexpr double kMaxDecimalMagnitude = 9007199254740992.0;  // 2^53

constexpr double kPow10[kMaxDecimals + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                             1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

enum class ValueMode : uint8_t { kConstant = 0, kDecimal = 1, kXor = 2 };
enum class ExceptionForm : uint8_t { kNone = 0, kBitmap = 1, kList = 2 };

// Bit 7 of an integer block's header: the block stores second differences.
constexpr uint8_t kOrder2Flag = 0x80;
// An integer block header that starts a run: a varint R follows, and the next R blocks (this one
// included) each keep the difference unchanged (as order 2, width 0, base 0 would).
constexpr uint8_t kRunHeader = 0x7f;

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t u) { return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1)); }
inline uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }
inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void Store64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline size_t PackedBytes(size_t count, unsigned width) { return (count * width + 7) / 8; }

size_t VarintLength(uint64_t v) { return (std::bit_width(v | 1) + 6) / 7; }

void PutVarint(std::string* out, uint64_t v) {
  char buf[10];
  size_t i = 0;
  while (v >= 0x80) {
    buf[i++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[i++] = static_cast<char>(v);
  out->append(buf, i);
}

void PutFixed64(std::string* out, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out->append(buf, 8);
}

// Appends r[0..count) at `width` bits each, LSB first; each r[i] < 2^width. The bits are
// gathered in a register and stored a word at a time.
void Pack(const uint64_t* r, size_t count, unsigned width, std::string* out) {
  if (width == 0) return;
  const size_t len = PackedBytes(count, width);
  const size_t old = out->size();
  out->resize(old + len + 8);  // slack for the last whole-word store
  auto* p = reinterpret_cast<uint8_t*>(out->data() + old);
  uint64_t acc = 0;
  unsigned fill = 0;  // bits in acc, < 64
  for (size_t i = 0; i < count; ++i) {
    acc |= r[i] << fill;
    fill += width;
    if (fill >= 64) {
      Store64(p, acc);
      p += 8;
      fill -= 64;
      acc = fill == 0 ? 0 : r[i] >> (width - fill);
    }
  }
  if (fill > 0) Store64(p, acc);
  out->resize(old + len);
}

struct IntBlock {
  uint8_t header;  // width | kOrder2Flag, or kRunHeader
  int64_t base;    // for kRunHeader: the number of blocks in the run
};

// A block with order 2, width 0 and base 0 keeps the difference unchanged: regular timestamps,
// constant-rate counters. Consecutive such blocks are written as one run.
inline bool IsSteady(uint8_t header, int64_t base) { return header == kOrder2Flag && base == 0; }

// Plans the blocks that encode x[1..m] given x[0] (the decoder knows x[0]). Returns their size.
//
// Each block stores either first differences d_i = x_i - x_(i-1) ("order 1") or second
// differences d_i - d_(i-1) ("order 2"), minus the block's minimum (frame of reference), whichever
// is smaller: order 1 suits noise (jittered times, random walks), order 2 steady slopes (regular
// times, counters at a constant rate, smooth curves). All arithmetic is modulo 2^64.
size_t PlanIntBlocks(const int64_t* x, size_t m, std::vector<IntBlock>* blocks) {
  blocks->clear();
  size_t total = 0;
  uint64_t prev_d = 0;
  for (size_t s = 0; s < m; s += kBlock) {
    const size_t count = std::min(kBlock, m - s);
    int64_t min1 = std::numeric_limits<int64_t>::max(), max1 = std::numeric_limits<int64_t>::min();
    int64_t min2 = min1, max2 = max1;
    for (size_t i = s + 1; i <= s + count; ++i) {
      const uint64_t d = static_cast<uint64_t>(x[i]) - static_cast<uint64_t>(x[i - 1]);
      const auto d1 = static_cast<int64_t>(d);
      const auto d2 = static_cast<int64_t>(d - prev_d);
      prev_d = d;
      min1 = std::min(min1, d1);
      max1 = std::max(max1, d1);
      min2 = std::min(min2, d2);
      max2 = std::max(max2, d2);
    }
    const auto w1 = static_cast<unsigned>(
        std::bit_width(static_cast<uint64_t>(max1) - static_cast<uint64_t>(min1)));
    const auto w2 = static_cast<unsigned>(
        std::bit_width(static_cast<uint64_t>(max2) - static_cast<uint64_t>(min2)));
    const size_t size1 = 1 + VarintLength(ZigZag(min1)) + PackedBytes(count, w1);
    const size_t size2 = 1 + VarintLength(ZigZag(min2)) + PackedBytes(count, w2);
    // Ties go to order 1 (one addition less per value), except steady blocks, which can join runs.
    IntBlock block{static_cast<uint8_t>(w1), min1};
    if (size2 < size1 ||
        (size2 == size1 && IsSteady(static_cast<uint8_t>(w2 | kOrder2Flag), min2))) {
      block = {static_cast<uint8_t>(w2 | kOrder2Flag), min2};
    }
    if (IsSteady(block.header, block.base) && !blocks->empty() &&
        (blocks->back().header == kRunHeader ||
         IsSteady(blocks->back().header, blocks->back().base))) {
      // Extend the run (a lone steady block becomes a run of two).
      if (blocks->back().header == kRunHeader) {
        total -= 1 + VarintLength(static_cast<uint64_t>(blocks->back().base));
        ++blocks->back().base;
      } else {
        total -= 2;
        blocks->back() = {kRunHeader, 2};
      }
      total += 1 + VarintLength(static_cast<uint64_t>(blocks->back().base));
      continue;
    }
    blocks->push_back(block);
    total += 1 + VarintLength(ZigZag(block.base)) + PackedBytes(count, block.header & 0x7f);
  }
  return total;
}

void EmitIntBlocks(const int64_t* x, size_t m, const std::vector<IntBlock>& blocks,
                   std::string* out) {
  uint64_t r[kBlock];
  uint64_t prev_d = 0;
  size_t s = 0;
  for (const IntBlock& block : blocks) {
    if (block.header == kRunHeader) {
      out->push_back(static_cast<char>(kRunHeader));
      PutVarint(out, static_cast<uint64_t>(block.base));
      s = std::min(m, s + kBlock * static_cast<size_t>(block.base));
      prev_d = static_cast<uint64_t>(x[s]) - static_cast<uint64_t>(x[s - 1]);
      continue;
    }
    const size_t count = std::min(kBlock, m - s);
    const bool order2 = (block.header & kOrder2Flag) != 0;
    const auto base = static_cast<uint64_t>(block.base);
    for (size_t i = 0; i < count; ++i) {
      const uint64_t d = static_cast<uint64_t>(x[s + i + 1]) - static_cast<uint64_t>(x[s + i]);
      r[i] = (order2 ? d - prev_d : d) - base;
      prev_d = d;
    }
    out->push_back(static_cast<char>(block.header));
    PutVarint(out, ZigZag(block.base));
    Pack(r, count, block.header & 0x7f, out);
    s += count;
  }
}

struct XorBlock {
  uint8_t width;
  uint8_t shift;
};

// Plans the blocks that encode the values 1..n-1 as XOR with their predecessor: per block, the
// bits between the block's common leading and trailing zeros. Returns their size.
size_t PlanXorBlocks(const double* values, size_t n, std::vector<XorBlock>* blocks) {
  blocks->clear();
  size_t total = 0;
  for (size_t s = 1; s < n; s += kBlock) {
    const size_t count = std::min(kBlock, n - s);
    uint64_t any = 0;
    for (size_t i = s; i < s + count; ++i) any |= Bits(values[i]) ^ Bits(values[i - 1]);
    if (any == 0) {
      blocks->push_back({0, 0});
      total += 1;
      continue;
    }
    const auto shift = static_cast<unsigned>(std::countr_zero(any));
    const auto width = static_cast<unsigned>(std::bit_width(any)) - shift;
    blocks->push_back({static_cast<uint8_t>(width), static_cast<uint8_t>(shift)});
    total += 2 + PackedBytes(count, width);
  }
  return total;
}

void EmitXorBlocks(const double* values, size_t n, const std::vector<XorBlock>& blocks,
                   std::string* out) {
  uint64_t r[kBlock];
  size_t s = 1;
  for (const XorBlock& block : blocks) {
    const size_t count = std::min(kBlock, n - s);
    out->push_back(static_cast<char>(block.width));
    if (block.width > 0) {
      out->push_back(static_cast<char>(block.shift));
      for (size_t i = 0; i < count; ++i) {
        r[i] = (Bits(values[s + i]) ^ Bits(values[s + i - 1])) >> block.shift;
      }
      Pack(r, count, block.width, out);
    }
    s += count;
  }
}

// Values that decimal mode stores apart: they are no x / 10^k (or, for -0.0, not bit-exactly).
inline bool IsDecimalException(double v) {
  return !std::isfinite(v) || (v == 0 && std::signbit(v));
}

// Finds x with |x| <= 2^53 and x / 10^k == v bit-exactly (the division the decoder performs).
inline bool ToDecimal(double v, int k, int64_t* x) {
  const double scaled = v * kPow10[k];
  if (!(std::fabs(scaled) < kMaxDecimalMagnitude)) return false;
  // Round half away from zero; above 2^52 every double is an integer already. A wrong guess only
  // makes the exact check below fail.
  const double rounded =
      std::fabs(scaled) < 4503599627370496.0 ? scaled + std::copysign(0.5, scaled) : scaled;
  const auto candidate = static_cast<int64_t>(rounded);
  if (Bits(static_cast<double>(candidate) / kPow10[k]) != Bits(v)) return false;
  *x = candidate;
  return true;
}

struct DecimalPlan {
  int k = 0;
  std::vector<int64_t> x;               // the regular values as integers
  std::vector<uint32_t> exception_pos;  // ascending
  std::vector<uint8_t> exception_index;
  std::vector<uint64_t> table;  // distinct exception bit patterns, in order of first appearance
  ExceptionForm form = ExceptionForm::kNone;
  std::vector<IntBlock> blocks;
  size_t size = 0;
};

// Fills *plan when decimal mode can encode the values; returns false when it cannot.
bool PlanDecimal(const double* values, size_t n, DecimalPlan* plan) {
  plan->x.reserve(n);
  int k = 0;
  size_t redo_end = 0;  // x[0..redo_end) were computed with a smaller k
  size_t last_table_hit = 0;
  for (size_t i = 0; i < n; ++i) {
    const double v = values[i];
    if (IsDecimalException(v)) {
      const uint64_t bits = Bits(v);
      size_t index = last_table_hit;
      if (index >= plan->table.size() || plan->table[index] != bits) {
        index = std::find(plan->table.begin(), plan->table.end(), bits) - plan->table.begin();
        if (index == plan->table.size()) {
          if (index == kMaxExceptionTable) return false;
          plan->table.push_back(bits);
        }
        last_table_hit = index;
      }
      plan->exception_pos.push_back(static_cast<uint32_t>(i));
      plan->exception_index.push_back(static_cast<uint8_t>(index));
      continue;
    }
    int64_t x;
    while (!ToDecimal(v, k, &x)) {
      if (k == kMaxDecimals) return false;
      ++k;
      redo_end = plan->x.size();
    }
    plan->x.push_back(x);
  }
  // A value that fitted a smaller k nearly always fits a larger one (x/10^k is then the same
  // rational, correctly rounded), but it is checked, not assumed.
  for (size_t i = 0, j = 0; j < redo_end; ++i) {
    if (IsDecimalException(values[i])) continue;
    if (!ToDecimal(values[i], k, &plan->x[j])) return false;
    ++j;
  }
  plan->k = k;

  size_t size = 3;  // mode, k, exception form
  const size_t e = plan->exception_pos.size();
  if (e > 0) {
    const size_t bitmap = (n + 7) / 8;
    size_t list = VarintLength(e);
    for (size_t j = 0; j < e; ++j) {
      list += VarintLength(j == 0 ? plan->exception_pos[0]
                                  : plan->exception_pos[j] - plan->exception_pos[j - 1] - 1);
    }
    plan->form = list < bitmap ? ExceptionForm::kList : ExceptionForm::kBitmap;
    size += VarintLength(plan->table.size()) + 8 * plan->table.size() + std::min(list, bitmap) +
            (plan->table.size() > 1 ? e : 0);
  }
  if (!plan->x.empty()) {
    size += VarintLength(ZigZag(plan->x[0])) +
            PlanIntBlocks(plan->x.data(), plan->x.size() - 1, &plan->blocks);
  }
  plan->size = size;
  return true;
}

void EmitDecimal(const DecimalPlan& plan, size_t n, std::string* out) {
  out->push_back(static_cast<char>(ValueMode::kDecimal));
  out->push_back(static_cast<char>(plan.k));
  out->push_back(static_cast<char>(plan.form));
  if (plan.form != ExceptionForm::kNone) {
    PutVarint(out, plan.table.size());
    for (uint64_t bits : plan.table) PutFixed64(out, bits);
    const size_t e = plan.exception_pos.size();
    if (plan.form == ExceptionForm::kBitmap) {
      std::string bitmap((n + 7) / 8, '\0');
      for (uint32_t pos : plan.exception_pos) {
        bitmap[pos / 8] = static_cast<char>(bitmap[pos / 8] | (1 << (pos % 8)));
      }
      out->append(bitmap);
    } else {
      PutVarint(out, e);
      for (size_t j = 0; j < e; ++j) {
        PutVarint(out, j == 0 ? plan.exception_pos[0]
                              : plan.exception_pos[j] - plan.exception_pos[j - 1] - 1);
      }
    }
    if (plan.table.size() > 1) {
      out->append(reinterpret_cast<const char*>(plan.exception_index.data()), e);
    }
  }
  if (!plan.x.empty()) {
    PutVarint(out, ZigZag(plan.x[0]));
    EmitIntBlocks(plan.x.data(), plan.x.size() - 1, plan.blocks, out);
  }
}

void EncodeValues(const double* values, size_t n, std::string* out) {
  const uint64_t first = Bits(values[0]);
  size_t same = 1;
  while (same < n && Bits(values[same]) == first) ++same;
  if (same == n) {
    out->push_back(static_cast<char>(ValueMode::kConstant));
    PutFixed64(out, first);
    return;
  }
  std::vector<XorBlock> xor_blocks;
  const size_t xor_size = 1 + 8 + PlanXorBlocks(values, n, &xor_blocks);
  DecimalPlan decimal;
  if (PlanDecimal(values, n, &decimal) && decimal.size <= xor_size) {
    EmitDecimal(decimal, n, out);
    return;
  }
  out->push_back(static_cast<char>(ValueMode::kXor));
  PutFixed64(out, first);
  EmitXorBlocks(values, n, xor_blocks, out);
}

// Reads a section [p, end) of a buffer that ends at buffer_end (>= end). Bit-unpacking loads 8
// bytes at a time, so it reads up to 7 bytes past a block when they lie inside the buffer.
class Reader {
 public:
  Reader(const uint8_t* p, const uint8_t* end, const uint8_t* buffer_end)
      : p_(p), end_(end), buffer_end_(buffer_end) {}

  const uint8_t* pos() const { return p_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  size_t buffer_remaining(const uint8_t* p) const { return static_cast<size_t>(buffer_end_ - p); }

  bool Byte(uint8_t* v) {
    if (p_ == end_) return false;
    *v = *p_++;
    return true;
  }
  bool Fixed64(uint64_t* v) {
    if (remaining() < 8) return false;
    *v = Load64(p_);
    p_ += 8;
    return true;
  }
  // LEB128, at most 10 bytes, rejecting values above 2^64 - 1.
  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const uint8_t b = *p_++;
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        if (shift == 63 && b > 1) return false;
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Skip(size_t n, const uint8_t** start) {
    if (remaining() < n) return false;
    *start = p_;
    p_ += n;
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* buffer_end_;
};

// Returns a pointer to `len` packed bytes followed by at least 8 readable bytes: the data itself
// when the buffer extends far enough, else a zero-padded copy in `scratch`.
inline const uint8_t* Padded(const Reader& reader, const uint8_t* packed, size_t len,
                             uint8_t* scratch) {
  if (reader.buffer_remaining(packed) >= len + 8) return packed;
  std::memcpy(scratch, packed, len);
  std::memset(scratch + len, 0, 8);
  return scratch;
}

// Unpacks `count` values of `width` bits (any width 1..64) from p, which must be followed by at
// least 8 readable bytes.
void UnpackGeneric(const uint8_t* p, size_t count, unsigned width, uint64_t* r) {
  const uint64_t mask = width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  size_t bit = 0;
  for (size_t i = 0; i < count; ++i, bit += width) {
    const size_t byte = bit >> 3;
    const unsigned shift = bit & 7;
    uint64_t v = Load64(p + byte) >> shift;
    if (shift + width > 64) v |= static_cast<uint64_t>(p[byte + 8]) << (64 - shift);
    r[i] = v & mask;
  }
}

// UnpackGeneric for a width known at compile time (<= 56, so one 8-byte load holds each value):
// eight values take exactly W bytes, so within a group every offset and shift is a constant.
template <unsigned W>
void UnpackFixed(const uint8_t* p, size_t count, uint64_t* r) {
  static_assert(W >= 1 && W <= 56);
  constexpr uint64_t kMask = (uint64_t{1} << W) - 1;
  const size_t groups = count / 8;
  for (size_t g = 0; g < groups; ++g) {
    [&]<size_t... J>(std::index_sequence<J...>) {
      ((r[8 * g + J] = (Load64(p + W * g + (J * W) / 8) >> ((J * W) % 8)) & kMask), ...);
    }
    (std::make_index_sequence<8>{});
  }
  for (size_t i = groups * 8; i < count; ++i) {
    r[i] = (Load64(p + (i * W) / 8) >> ((i * W) % 8)) & kMask;
  }
}

using UnpackFunction = void (*)(const uint8_t*, size_t, uint64_t*);

template <size_t... W>
constexpr std::array<UnpackFunction, sizeof...(W)> MakeUnpackTable(std::index_sequence<W...>) {
  return {&UnpackFixed<W + 1>...};
}
// kUnpack[w - 1] unpacks width w, for w in 1..56.
constexpr auto kUnpack = MakeUnpackTable(std::make_index_sequence<56>{});

// Unpacks `count` values of `width` bits (1..64); p as for UnpackGeneric.
inline void Unpack(const uint8_t* p, size_t count, unsigned width, uint64_t* r) {
  if (width <= 56) {
    kUnpack[width - 1](p, count, r);
  } else {
    UnpackGeneric(p, count, width, r);
  }
}

// Adds up base + r[i] as first (order 1) or second (order 2) differences, continuing from *x_io
// and *d_io. With kCheck, returns whether the values rose strictly (as signed integers) from *x_io
// on; otherwise returns true.
template <bool kOrder2, bool kCheck>
inline bool Accumulate(const uint64_t* r, size_t count, uint64_t base, uint64_t* x_io,
                       uint64_t* d_io, int64_t* out) {
  uint64_t x = *x_io, d = *d_io;
  bool ascending = true;
  for (size_t i = 0; i < count; ++i) {
    if constexpr (kOrder2) {
      d += base + r[i];
    } else {
      d = base + r[i];
    }
    const uint64_t next = x + d;
    if constexpr (kCheck) ascending &= static_cast<int64_t>(next) > static_cast<int64_t>(x);
    x = next;
    out[i] = static_cast<int64_t>(x);
  }
  *x_io = x;
  *d_io = d;
  return ascending;
}

// Decodes the integer blocks of a section: a sequence continuing from a known value x[0].
// A timestamps stream also checks that the values rise strictly (as signed integers).
class IntStream {
 public:
  // `values` is the number of integers the section holds after x[0].
  IntStream(Reader* reader, uint64_t x0, size_t values, bool check_ascending)
      : reader_(reader),
        x_(x0),
        blocks_left_((values + kBlock - 1) / kBlock),
        check_(check_ascending) {}

  // False once a decoded value did not rise above its predecessor (checking streams only).
  bool ascending() const { return ascending_; }

  // Decodes the next block, `count` values (kBlock, or fewer for the last block), into out.
  // Returns nullptr, or what is wrong.
  const char* Next(size_t count, int64_t* out) {
    if (run_left_ > 0) {
      --run_left_;
      --blocks_left_;
      Steady(count, out);
      return nullptr;
    }
    uint8_t header;
    if (!reader_->Byte(&header)) return "truncated block header";
    if (header == kRunHeader) {
      uint64_t run;
      if (!reader_->Varint(&run)) return "truncated or overlong run length";
      if (run < 1 || run > blocks_left_) return "run longer than the section";
      run_left_ = run - 1;
      --blocks_left_;
      Steady(count, out);
      return nullptr;
    }
    --blocks_left_;
    const unsigned width = header & 0x7f;
    const bool order2 = (header & kOrder2Flag) != 0;
    if (width > 64) return "block bit width above 64";
    uint64_t zz;
    if (!reader_->Varint(&zz)) return "truncated or overlong block base";
    const auto base = static_cast<uint64_t>(UnZigZag(zz));
    const size_t len = PackedBytes(count, width);
    const uint8_t* packed;
    if (!reader_->Skip(len, &packed)) return "truncated block bits";
    if (width == 0) {
      // Rare apart from steady blocks (which become runs): keep it simple.
      for (size_t i = 0; i < count; ++i) {
        d_ = order2 ? d_ + base : base;
        const uint64_t next = x_ + d_;
        ascending_ &= !check_ || static_cast<int64_t>(next) > static_cast<int64_t>(x_);
        x_ = next;
        out[i] = static_cast<int64_t>(x_);
      }
      return nullptr;
    }
    uint8_t scratch[kBlock * 8 + 8];
    uint64_t r[kBlock];
    Unpack(Padded(*reader_, packed, len, scratch), count, width, r);
    if (check_) {
      ascending_ &= order2 ? Accumulate<true, true>(r, count, base, &x_, &d_, out)
                           : Accumulate<false, true>(r, count, base, &x_, &d_, out);
    } else if (order2) {
      Accumulate<true, false>(r, count, base, &x_, &d_, out);
    } else {
      Accumulate<false, false>(r, count, base, &x_, &d_, out);
    }
    return nullptr;
  }

 private:
  // `count` values, each the previous plus the unchanged difference.
  void Steady(size_t count, int64_t* out) {
    if (check_) {
      // Rising strictly without passing INT64_MAX: d >= 1 and x + count * d <= INT64_MAX (the room
      // INT64_MAX - x is in [0, 2^64), so modular arithmetic computes it).
      const uint64_t room = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - x_;
      ascending_ &= static_cast<int64_t>(d_) >= 1 && d_ <= room / count;
    }
    uint64_t x = x_;
    for (size_t i = 0; i < count; ++i) {
      x += d_;
      out[i] = static_cast<int64_t>(x);
    }
    x_ = x;
  }

  Reader* reader_;
  uint64_t x_;
  uint64_t d_ = 0;
  size_t blocks_left_;
  size_t run_left_ = 0;
  bool check_;
  bool ascending_ = true;
};

const char* DecodeXorBlock(Reader* reader, size_t count, uint64_t* bits, double* out) {
  uint8_t width;
  if (!reader->Byte(&width)) return "truncated block header";
  if (width > 64) return "block bit width above 64";
  if (width == 0) {
    std::fill(out, out + count, std::bit_cast<double>(*bits));
    return nullptr;
  }
  uint8_t shift;
  if (!reader->Byte(&shift)) return "truncated block header";
  if (shift + width > 64) return "block shift plus width above 64";
  const size_t len = PackedBytes(count, width);
  const uint8_t* packed;
  if (!reader->Skip(len, &packed)) return "truncated block bits";
  uint8_t scratch[kBlock * 8 + 8];
  uint64_t r[kBlock];
  Unpack(Padded(*reader, packed, len, scratch), count, width, r);
  uint64_t b = *bits;
  for (size_t i = 0; i < count; ++i) {
    b ^= r[i] << shift;
    out[i] = std::bit_cast<double>(b);
  }
  *bits = b;
  return nullptr;
}

struct Header {
  size_t count;
  int64_t first_ms;
  int64_t last_ms;
  const uint8_t* times_begin;
  size_t time_bytes;
};

Status Corrupt(std::string_view what, const uint8_t* at, const uint8_t* begin, size_t size) {
  return Internal("corrupt chunk: {} (at byte {} of {})", what, at - begin, size);
}

Status ParseHeader(std::string_view data, Header* h) {
  const auto* begin = reinterpret_cast<const uint8_t*>(data.data());
  const uint8_t* end = begin + data.size();
  if (data.empty()) return Internal("corrupt chunk: empty");
  if (begin[0] != kChunkFormatVersion) {
    return Internal("corrupt chunk: unknown format version {} (this build reads version {})",
                    begin[0], kChunkFormatVersion);
  }
  Reader reader(begin + 1, end, end);
  auto fail = [&](std::string_view what) {
    return Corrupt(what, reader.pos(), begin, data.size());
  };
  uint64_t count, first_zz, span, time_bytes;
  if (!reader.Varint(&count)) return fail("truncated or overlong point count");
  if (count < 1 || count > kMaxChunkPoints) {
    return Internal("corrupt chunk: point count {} is outside 1..{}", count, kMaxChunkPoints);
  }
  if (!reader.Varint(&first_zz)) return fail("truncated or overlong first time");
  if (!reader.Varint(&span)) return fail("truncated or overlong time span");
  const int64_t first = UnZigZag(first_zz);
  // first + span must not pass INT64_MAX; the true difference is in [0, 2^64), so modular
  // arithmetic computes it.
  if (span >
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - static_cast<uint64_t>(first)) {
    return fail("last time beyond INT64_MAX");
  }
  if (span < count - 1) return fail("time span too short for strictly ascending times");
  if (!reader.Varint(&time_bytes)) return fail("truncated or overlong timestamps length");
  if (time_bytes > reader.remaining()) return fail("timestamps section longer than the chunk");
  if (count == 1 && time_bytes != 0) return fail("timestamps section in a one-point chunk");
  h->count = count;
  h->first_ms = first;
  h->last_ms = static_cast<int64_t>(static_cast<uint64_t>(first) + span);
  h->times_begin = reader.pos();
  h->time_bytes = time_bytes;
  return Status::OK();
}

// Appends the values with indices [lo, hi) of the values fed to it in order.
class ValueSink {
 public:
  ValueSink(std::vector<double>* out, size_t lo, size_t hi) : out_(out), lo_(lo), hi_(hi) {}
  void Put(const double* v, size_t count) {
    const size_t b = next_;
    next_ += count;
    const size_t s = std::max(b, lo_), e = std::min(next_, hi_);
    if (s < e) out_->insert(out_->end(), v + (s - b), v + (e - b));
  }
  bool done() const { return next_ >= hi_; }

 private:
  std::vector<double>* out_;
  size_t lo_, hi_;
  size_t next_ = 0;
};

// out[i] = ints[i] / scale for a whole block, in a loop compilers vectorize (two or more divisions
// per instruction); this division is most of the cost of decoding decimals. The int64 -> double
// conversion uses the 2^52 + 2^51 bias trick, exact for |x| < 2^51; returns false (computing
// nothing useful) when some value is outside that range.
inline bool DivideBlock(const int64_t* ints, double scale, double* out) {
  constexpr uint64_t kBiasBits = 0x4338000000000000;  // the double 2^52 + 2^51
  constexpr double kBias = 6755399441055744.0;
  uint64_t out_of_range = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    const auto u = static_cast<uint64_t>(ints[i]);
    out_of_range |= (u + (uint64_t{1} << 51)) >> 52;
    out[i] = (std::bit_cast<double>(u + kBiasBits) - kBias) / scale;
  }
  return out_of_range == 0;
}

// Decodes the regular values of decimal mode (r of them) until the sink is done.
// Sets *complete when all r were read.
const char* DecodeDecimalStream(Reader* reader, int k, size_t r, ValueSink* sink, bool* complete) {
  *complete = r == 0;
  if (r == 0 || sink->done()) return nullptr;
  uint64_t zz;
  if (!reader->Varint(&zz)) return "truncated or overlong first value";
  const double scale = kPow10[k];
  const int64_t x0 = UnZigZag(zz);
  IntStream stream(reader, static_cast<uint64_t>(x0), r - 1, /*check_ascending=*/false);
  int64_t ints[kBlock] = {};
  double doubles[kBlock];
  doubles[0] = static_cast<double>(x0) / scale;
  sink->Put(doubles, 1);
  size_t decoded = 1;
  while (decoded < r && !sink->done()) {
    const size_t count = std::min(kBlock, r - decoded);
    if (const char* error = stream.Next(count, ints)) return error;
    if (k == 0) {
      for (size_t i = 0; i < count; ++i) doubles[i] = static_cast<double>(ints[i]);
    } else if (!DivideBlock(ints, scale, doubles)) {
      for (size_t i = 0; i < count; ++i) doubles[i] = static_cast<double>(ints[i]) / scale;
    }
    sink->Put(doubles, count);
    decoded += count;
  }
  *complete = decoded == r;
  return nullptr;
}

// Decodes the values section into the sink's range [lo, hi) of the n values.
// Sets *complete when the whole section was read.
const char* DecodeValues(Reader* reader, size_t n, size_t lo, size_t hi,
                         std::vector<double>* values, bool* complete) {
  *complete = false;
  uint8_t mode;
  if (!reader->Byte(&mode)) return "missing values section";
  switch (static_cast<ValueMode>(mode)) {
    case ValueMode::kConstant: {
      uint64_t bits;
      if (!reader->Fixed64(&bits)) return "truncated constant value";
      values->insert(values->end(), hi - lo, std::bit_cast<double>(bits));
      *complete = true;
      return nullptr;
    }
    case ValueMode::kXor: {
      uint64_t bits;
      if (!reader->Fixed64(&bits)) return "truncated first value";
      ValueSink sink(values, lo, hi);
      double out[kBlock];
      out[0] = std::bit_cast<double>(bits);
      sink.Put(out, 1);
      size_t decoded = 1;
      while (decoded < n && !sink.done()) {
        const size_t count = std::min(kBlock, n - decoded);
        if (const char* error = DecodeXorBlock(reader, count, &bits, out)) return error;
        sink.Put(out, count);
        decoded += count;
      }
      *complete = decoded == n;
      return nullptr;
    }
    case ValueMode::kDecimal:
      break;
    default:
      return "unknown value mode";
  }

  uint8_t k, form;
  if (!reader->Byte(&k) || !reader->Byte(&form)) return "truncated decimal header";
  if (k > kMaxDecimals) return "decimal count above 15";
  if (form > static_cast<uint8_t>(ExceptionForm::kList)) return "unknown exception form";
  if (static_cast<ExceptionForm>(form) == ExceptionForm::kNone) {
    ValueSink sink(values, lo, hi);
    return DecodeDecimalStream(reader, k, n, &sink, complete);
  }

  uint64_t table_size;
  if (!reader->Varint(&table_size)) return "truncated exception table size";
  if (table_size < 1 || table_size > kMaxExceptionTable) return "exception table size out of range";
  const uint8_t* table;
  if (!reader->Skip(8 * table_size, &table)) return "truncated exception table";
  std::vector<uint32_t> positions;
  if (static_cast<ExceptionForm>(form) == ExceptionForm::kBitmap) {
    const uint8_t* bitmap;
    if (!reader->Skip((n + 7) / 8, &bitmap)) return "truncated exception bitmap";
    if (n % 8 != 0 && (bitmap[n / 8] >> (n % 8)) != 0) return "exception bitmap bit past the end";
    for (size_t i = 0; i < n; ++i) {
      if ((bitmap[i / 8] >> (i % 8)) & 1) positions.push_back(static_cast<uint32_t>(i));
    }
    if (positions.empty()) return "empty exception bitmap";
  } else {
    uint64_t e;
    if (!reader->Varint(&e)) return "truncated exception count";
    if (e < 1 || e > n) return "exception count out of range";
    positions.reserve(e);
    uint64_t next = 0;
    for (uint64_t j = 0; j < e; ++j) {
      uint64_t gap;
      if (!reader->Varint(&gap)) return "truncated exception position";
      if (gap >= n - next) return "exception position past the end";
      next += gap;
      positions.push_back(static_cast<uint32_t>(next));
      ++next;
    }
  }
  const size_t e = positions.size();
  const uint8_t* index = nullptr;
  if (table_size > 1) {
    if (!reader->Skip(e, &index)) return "truncated exception indexes";
    for (size_t j = 0; j < e; ++j) {
      if (index[j] >= table_size) return "exception index outside the table";
    }
  }

  // Regular values needed: those before hi. They are decoded into a scratch vector, then merged.
  const size_t e_before_hi =
      std::lower_bound(positions.begin(), positions.end(), hi) - positions.begin();
  const size_t need = hi - e_before_hi;
  std::vector<double> regular;
  regular.reserve(need);
  ValueSink sink(&regular, 0, need);
  bool stream_complete;
  if (const char* error = DecodeDecimalStream(reader, k, n - e, &sink, &stream_complete)) {
    return error;
  }
  *complete = stream_complete;
  size_t next_regular = 0, j = 0;
  for (size_t i = 0; i < hi; ++i) {
    double v;
    if (j < e && positions[j] == i) {
      v = std::bit_cast<double>(Load64(table + 8 * (index ? index[j] : 0)));
      ++j;
    } else {
      v = regular[next_regular++];
    }
    if (i >= lo) values->push_back(v);
  }
  return nullptr;
}

Status DecodePoints(std::string_view data, const Header& h, int64_t from_ms, int64_t to_ms,
                    std::vector<int64_t>* times_ms, std::vector<double>* values) {
  const auto* begin = reinterpret_cast<const uint8_t*>(data.data());
  const uint8_t* end = begin + data.size();
  const size_t n = h.count;
  const size_t tbase = times_ms->size();

  // Timestamps: blocks wholly before from_ms are skipped, decoding stops after the block that
  // passes to_ms.
  Reader treader(h.times_begin, h.times_begin + h.time_bytes, end);
  int64_t block[kBlock];
  size_t skipped = 0;
  bool appending = false;
  auto emit = [&](const int64_t* t, size_t count) {
    if (!appending) {
      if (t[count - 1] < from_ms) {
        skipped += count;
        return;
      }
      appending = true;
    }
    times_ms->insert(times_ms->end(), t, t + count);
  };
  block[0] = h.first_ms;
  emit(block, 1);
  IntStream stream(&treader, static_cast<uint64_t>(h.first_ms), n - 1, /*check_ascending=*/true);
  int64_t prev = h.first_ms;
  size_t decoded = 1;
  while (decoded < n && prev <= to_ms) {
    const size_t count = std::min(kBlock, n - decoded);
    if (const char* error = stream.Next(count, block)) {
      return Corrupt(fmt::format("timestamps: {}", error), treader.pos(), begin, data.size());
    }
    if (!stream.ascending()) {
      return Corrupt("timestamps not strictly ascending", treader.pos(), begin, data.size());
    }
    prev = block[count - 1];
    decoded += count;
    emit(block, count);
  }
  if (decoded == n) {
    if (treader.remaining() != 0) {
      return Corrupt("trailing bytes in the timestamps section", treader.pos(), begin, data.size());
    }
    if (prev != h.last_ms) {
      return Corrupt("last time differs from the header", treader.pos(), begin, data.size());
    }
  }
  const auto first_kept = times_ms->begin() + static_cast<ptrdiff_t>(tbase);
  const auto lo_it = std::lower_bound(first_kept, times_ms->end(), from_ms);
  const auto hi_it = std::upper_bound(lo_it, times_ms->end(), to_ms);
  const size_t lo = skipped + static_cast<size_t>(lo_it - first_kept);
  const size_t hi = skipped + static_cast<size_t>(hi_it - first_kept);
  times_ms->erase(hi_it, times_ms->end());
  times_ms->erase(first_kept, lo_it);
  if (lo == hi) return Status::OK();

  Reader vreader(h.times_begin + h.time_bytes, end, end);
  bool complete;
  if (const char* error = DecodeValues(&vreader, n, lo, hi, values, &complete)) {
    return Corrupt(fmt::format("values: {}", error), vreader.pos(), begin, data.size());
  }
  if (complete && vreader.remaining() != 0) {
    return Corrupt("trailing bytes after the values", vreader.pos(), begin, data.size());
  }
  return Status::OK();
}

}  // namespace

void EncodeChunk(const int64_t* times_ms, const double* values, size_t n, std::string* out) {
  assert(n >= 1 && n <= kMaxChunkPoints);
  assert(std::adjacent_find(times_ms, times_ms + n, std::greater_equal<int64_t>()) == times_ms + n);
  out->push_back(static_cast<char>(kChunkFormatVersion));
  PutVarint(out, n);
  PutVarint(out, ZigZag(times_ms[0]));
  PutVarint(out, static_cast<uint64_t>(times_ms[n - 1]) - static_cast<uint64_t>(times_ms[0]));
  std::vector<IntBlock> blocks;
  const size_t time_bytes = PlanIntBlocks(times_ms, n - 1, &blocks);
  PutVarint(out, time_bytes);
  EmitIntBlocks(times_ms, n - 1, blocks, out);
  EncodeValues(values, n, out);
}

Result<ChunkInfo> InspectChunk(std::string_view data) {
  Header h;
  SLUICE_RETURN_IF_ERROR(ParseHeader(data, &h));
  return ChunkInfo{h.count, h.first_ms, h.last_ms};
}

Status DecodeChunk(std::string_view data, int64_t from_ms, int64_t to_ms,
                   std::vector<int64_t>* times_ms, std::vector<double>* values) {
  Header h;
  SLUICE_RETURN_IF_ERROR(ParseHeader(data, &h));
  if (from_ms > to_ms || to_ms < h.first_ms || from_ms > h.last_ms) return Status::OK();
  const size_t tbase = times_ms->size(), vbase = values->size();
  Status status = DecodePoints(data, h, from_ms, to_ms, times_ms, values);
  if (!status.ok()) {
    times_ms->resize(tbase);
    values->resize(vbase);
  }
  return status;
}

}  // namespace sluice::store
