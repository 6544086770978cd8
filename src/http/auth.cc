#include "http/auth.h"

#include <algorithm>

#include "common/strings.h"

namespace sluice::http {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Compares against every candidate without stopping at the first match.
bool MatchesAny(const std::vector<std::string>& candidates, std::string_view value) {
  bool match = false;
  for (const std::string& candidate : candidates) match |= ConstantTimeEquals(candidate, value);
  return match;
}

int Base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    unsigned char ca = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char cb = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(ca ^ cb);
  }
  return diff == 0;
}

bool DecodeBase64(std::string_view in, std::string* out) {
  out->clear();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  out->reserve(in.size() * 3 / 4);
  unsigned accumulator = 0;
  int bits = 0;
  for (char c : in) {
    int v = Base64Value(static_cast<unsigned char>(c));
    if (v < 0) return false;
    accumulator = (accumulator << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((accumulator >> bits) & 0xFF));
    }
  }
  return true;
}

Authenticator::Authenticator(const AuthOptions& options)
    : enabled_(options.enabled()),
      api_key_header_(options.api_key_header),
      tokens_(options.tokens) {
  for (const auto& [user, password] : options.basic_users) {
    basic_credentials_.push_back(user + ":" + password);
  }
}

Status Authenticator::Check(std::string_view authorization, std::string_view api_key) const {
  if (!enabled_) return Status::OK();
  bool ok = false;
  api_key = TrimSpaces(api_key);
  if (!api_key.empty()) ok |= MatchesAny(tokens_, api_key);
  authorization = TrimSpaces(authorization);
  if (!authorization.empty()) {
    size_t space = authorization.find(' ');
    std::string_view scheme = authorization.substr(0, space);
    std::string_view credentials = space == std::string_view::npos
                                       ? std::string_view()
                                       : TrimSpaces(authorization.substr(space));
    if (EqualsIgnoreCase(scheme, "Basic")) {
      std::string decoded;
      if (DecodeBase64(credentials, &decoded)) ok |= MatchesAny(basic_credentials_, decoded);
    } else if (EqualsIgnoreCase(scheme, "Bearer")) {
      ok |= MatchesAny(tokens_, credentials);
    }
  }
  if (ok) return Status::OK();
  if (authorization.empty() && api_key.empty()) {
    return Status(
        StatusCode::kUnauthenticated,
        "authentication required: send Authorization: Basic or Bearer credentials, or an " +
            api_key_header_ + " header");
  }
  return Status(StatusCode::kUnauthenticated, "authentication required: invalid credentials");
}

}  // namespace sluice::http
