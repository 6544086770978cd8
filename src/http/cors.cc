#include "http/cors.h"

#include <algorithm>

#include "common/strings.h"

namespace sluice::http {

CorsPolicy::CorsPolicy(const CorsOptions& options)
    : enabled_(!options.allowed_origins.empty()),
      any_(std::find(options.allowed_origins.begin(), options.allowed_origins.end(), "*") !=
           options.allowed_origins.end()),
      origins_(options.allowed_origins),
      max_age_s_(options.max_age_s) {
  // A configured origin may carry a trailing '/', which browsers never send.
  for (std::string& origin : origins_) {
    while (!origin.empty() && origin.back() == '/') origin.pop_back();
  }
}

bool CorsPolicy::Allows(std::string_view origin) const {
  if (!enabled_ || origin.empty()) return false;
  if (any_) return true;
  for (const std::string& allowed : origins_) {
    if (EqualsIgnoreCase(allowed, origin)) return true;
  }
  return false;
}

}  // namespace sluice::http
