#include "common/json_writer.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>

namespace sluice {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid.
size_t Utf8SequenceLength(const unsigned char* s, size_t i, size_t n) {
  unsigned char c = s[i];
  auto cont = [&](size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    unsigned char c1 = s[i + 1];
    if (c == 0xE0 && c1 < 0xA0) return 0;   // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    unsigned char c1 = s[i + 1];
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

void AppendJsonString(std::string_view value, std::string* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(value.data());
  const size_t n = value.size();
  out->reserve(out->size() + n + 2);
  out->push_back('"');
  size_t run_start = 0;
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(s, i, n);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out->append(value.data() + run_start, i - run_start);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (c < 0x20) {
          char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out->append(esc, 6);
        } else {
          out->append("\xEF\xBF\xBD");  // U+FFFD for a byte that is not valid UTF-8
        }
    }
    ++i;
    run_start = i;
  }
  out->append(value.data() + run_start, n - run_start);
  out->push_back('"');
}

void AppendJsonInt(int64_t value, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out->append(buf, end - buf);
}

void AppendJsonDouble(double value, std::string* out) {
  if (!std::isfinite(value)) {
    out->append("null");
    return;
  }
  char buf[32];
  // Integral values in the exact range print as integers: cheaper, and what people expect to read.
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(value));
    out->append(buf, end - buf);
    return;
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out->append(buf, end - buf);
}

void JsonWriter::Open(char c) {
  if (after_key_) {
    after_key_ = false;
  } else {
    Separate();
  }
  out_->push_back(c);
  assert(depth_ + 1 < kMaxDepth);
  ++depth_;
  need_comma_ &= ~(uint64_t{1} << depth_);
}

void JsonWriter::Close(char c) {
  assert(depth_ > 0);
  --depth_;
  out_->push_back(c);
}

void JsonWriter::Key(std::string_view key) {
  Separate();
  AppendJsonString(key, out_);
  out_->push_back(':');
  after_key_ = true;
}

#define SLUICE_JSON_VALUE_PREFIX() \
  if (after_key_) {                \
    after_key_ = false;            \
  } else {                         \
    Separate();                    \
  }

void JsonWriter::String(std::string_view value) {
  SLUICE_JSON_VALUE_PREFIX();
  AppendJsonString(value, out_);
}

void JsonWriter::Int(int64_t value) {
  SLUICE_JSON_VALUE_PREFIX();
  AppendJsonInt(value, out_);
}

void JsonWriter::Double(double value) {
  SLUICE_JSON_VALUE_PREFIX();
  AppendJsonDouble(value, out_);
}

void JsonWriter::Bool(bool value) {
  SLUICE_JSON_VALUE_PREFIX();
  out_->append(value ? "true" : "false");
}

void JsonWriter::Null() {
  SLUICE_JSON_VALUE_PREFIX();
  out_->append("null");
}

void JsonWriter::Raw(std::string_view json) {
  SLUICE_JSON_VALUE_PREFIX();
  out_->append(json);
}

void JsonWriter::Datapoint(double value, int64_t time_ms) {
  SLUICE_JSON_VALUE_PREFIX();
  // One bounded write: '[' + double (<=24) + ',' + int64 (<=20) + ']'.
  char buf[64];
  char* p = buf;
  *p++ = '[';
  if (!std::isfinite(value)) {
    std::memcpy(p, "null", 4);
    p += 4;
  } else if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    p = std::to_chars(p, buf + sizeof buf, static_cast<int64_t>(value)).ptr;
  } else {
    p = std::to_chars(p, buf + sizeof buf, value).ptr;
  }
  *p++ = ',';
  p = std::to_chars(p, buf + sizeof buf, time_ms).ptr;
  *p++ = ']';
  out_->append(buf, p - buf);
}

#undef SLUICE_JSON_VALUE_PREFIX

}  // namespace sluice
