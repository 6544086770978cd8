// CORS policy for the HTTP core (PROTOCOL.md §8): which browser origins may call the server.
//
// Internal to the HTTP core. The session writes the headers; this class only decides whether a
// request's Origin is allowed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"

namespace sluice::http {

class CorsPolicy {
 public:
  explicit CorsPolicy(const CorsOptions& options);

  // False when no origins are configured: no CORS header is ever sent.
  bool enabled() const { return enabled_; }
  // True when `origin` is non-empty and allowed ("*" allows every origin; otherwise an exact,
  // ASCII case-insensitive match). Thread-safe.
  bool Allows(std::string_view origin) const;
  int max_age_s() const { return max_age_s_; }

 private:
  bool enabled_;
  bool any_;
  std::vector<std::string> origins_;
  int max_age_s_;
};

}  // namespace sluice::http
