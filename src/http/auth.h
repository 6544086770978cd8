// Request authentication for the HTTP core: HTTP Basic, Bearer tokens and an API-key header.
//
// Internal to the HTTP core. Credentials are compared in constant time (every configured credential
// is compared in full, whatever matches), so response timing does not reveal how much of a guess
// was right.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/server.h"

namespace sluice::http {

class Authenticator {
 public:
  explicit Authenticator(const AuthOptions& options);

  // False when no credentials are configured: every request is then accepted.
  bool enabled() const { return enabled_; }
  // The header carrying an API key (matched case-insensitively by the caller's header lookup).
  const std::string& api_key_header() const { return api_key_header_; }

  // `authorization` is the Authorization header value, `api_key` the API-key header value; ""
  // when absent. Returns OK when either carries a configured credential, else kUnauthenticated
  // with a message that says what is expected. Thread-safe.
  Status Check(std::string_view authorization, std::string_view api_key) const;

 private:
  bool enabled_;
  std::string api_key_header_;
  std::vector<std::string> basic_credentials_;  // "user:password"
  std::vector<std::string> tokens_;
};

// Equality whose running time depends only on the lengths of the inputs, not on their contents.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Decodes standard base64 (padding optional, no whitespace). Returns false on invalid input.
bool DecodeBase64(std::string_view in, std::string* out);

}  // namespace sluice::http
