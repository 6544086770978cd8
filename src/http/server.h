// The HTTP core: Boost.Beast over Asio.
//
// One io_context run by `io_threads` threads accepts connections; each connection is a session that
// reads requests with header and body limits, answers keep-alive requests in order, and enforces
// header/read/idle/write timeouts so slow or idle clients cannot hold the server. Requests on
// blocking routes run on a separate worker pool. CORS preflights are answered without auth; every
// other request passes authentication first. Responses are gzip-compressed when the client accepts
// it and the body is at least `gzip_min_bytes`. Every error is JSON with CORS headers.
//
// Thread safety: Start/Stop may be called from any thread; the handlers given in the Router must be
// thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/handler.h"

namespace sluice::http {

struct AuthOptions {
  // user -> password pairs for HTTP Basic auth.
  std::vector<std::pair<std::string, std::string>> basic_users;
  // Accepted tokens, sent as "Authorization: Bearer <token>" or in `api_key_header`.
  std::vector<std::string> tokens;
  std::string api_key_header = "X-API-Key";  // matched case-insensitively
  bool enabled() const { return !basic_users.empty() || !tokens.empty(); }
};

struct CorsOptions {
  // Origins allowed to call from a browser. "*" (default) allows any origin: the request's Origin is
  // echoed with credentials allowed. An empty list disables CORS headers.
  std::vector<std::string> allowed_origins = {"*"};
  int max_age_s = 86400;
};

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free port; [::1]:PORT for v6
  int io_threads = 0;                     // 0: number of cores
  int worker_threads = 0;                 // 0: max(4, number of cores)
  uint64_t body_limit_bytes = 8ull << 20;  // larger bodies get 413
  uint32_t header_limit_bytes = 16 << 10;  // larger header blocks get 431/413
  int header_timeout_ms = 10'000;  // from connection or previous response to a complete header
  int read_timeout_ms = 30'000;    // to read the whole body
  int idle_timeout_ms = 60'000;    // keep-alive wait for the next request
  int write_timeout_ms = 30'000;
  int drain_timeout_ms = 10'000;   // on Stop(): how long in-flight requests may take
  uint32_t gzip_min_bytes = 1024;
  int gzip_level = 1;
  bool access_log = false;         // one structured line per request on the logger
  // Catch SIGINT/SIGTERM from Start() on, so a signal that arrives before RunUntilSignal() is
  // called still stops the server gracefully. Off for embedded servers (tests).
  bool handle_signals = false;
  AuthOptions auth;
  CorsOptions cors;
};

class Server {
 public:
  Server(ServerOptions options, Router router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the I/O and worker threads. Fails (kUnavailable) if the address cannot be
  // bound, (kInvalidArgument) if it cannot be parsed.
  Status Start();
  // The bound port (useful with port 0). Valid after Start().
  uint16_t port() const;
  // Stops accepting, lets in-flight requests finish for up to drain_timeout_ms, closes every
  // connection and joins all threads. Idempotent; concurrent callers return once it is done. Must
  // not be called from a handler (it joins the threads that run handlers). A stopped server cannot
  // be started again.
  void Stop();
  // Blocks until SIGINT or SIGTERM, then calls Stop(). Also returns when Stop() is called from
  // another thread; returns at once if the server is not running.
  void RunUntilSignal();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::http
