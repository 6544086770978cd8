// HTTP clients for the integration tests: what a browser or Grafana's proxy would send, byte for
// byte.
//
// HttpClient is a small synchronous HTTP/1.1 client on Boost.Beast that keeps one keep-alive
// connection and bounds every step (connect, write, read) by a timeout. RawConnection is a plain
// POSIX socket for tests that need exact bytes on the wire: chunked bodies, partial headers, slow
// clients, aborted reads, thousands of idle connections (it holds one file descriptor and nothing
// else). Both parse responses with Beast's response parser, so chunked and gzip-encoded replies are
// read as the server framed them; bodies are never decompressed implicitly (see GunzipBody()).
//
// Only loopback addresses are used by the tests. Neither class is thread-safe; use one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The standard headers both Grafana plugins put on every request (PROTOCOL.md §2).
Headers GrafanaHeaders();

struct HttpResponse {
  int status = 0;  // 0 when the exchange failed; see `error`
  std::string reason;
  Headers headers;          // in wire order, names as sent
  std::string body;         // as framed on the wire (chunked already joined; gzip not undone)
  std::string error;        // transport or parse failure; empty on success
  bool keep_alive = false;  // whether the server left the connection open

  // The first value of header `name` (case-insensitive); "" when absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // The media type of Content-Type, lower-cased, without parameters ("application/json").
  std::string MediaType() const;
  // A one-line summary for failure messages: status, content type and the start of the body.
  std::string Describe() const;
};

// Builds the bytes of one HTTP/1.1 request. Adds `Host` unless `headers` has it, and
// `Content-Length` when `body` is non-empty and neither Content-Length nor Transfer-Encoding is
// given.
std::string BuildRequest(std::string_view method, std::string_view target, std::string_view host,
                         const Headers& headers, std::string_view body);

// Encodes `body` as a chunked message body with chunks of at most `chunk_size` bytes.
std::string ChunkBody(std::string_view body, size_t chunk_size);

// Compresses `body` as one gzip member, as a client sending `Content-Encoding: gzip` does.
std::string GzipBody(std::string_view body);

// Inflates a gzip (or zlib) stream; nullopt when it is not valid.
std::optional<std::string> GunzipBody(std::string_view compressed);

class HttpClient {
 public:
  // Talks to host:port, e.g. ("127.0.0.1", 8080) or ("::1", 8080). Connects lazily.
  explicit HttpClient(uint16_t port, std::string host = "127.0.0.1");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads the response, reusing the open connection when there is one (and
  // retrying once on a fresh connection if a reused one turns out to have been closed by the server
  // before anything was read). Adds Host and Content-Length as BuildRequest() does; nothing else.
  // Every step is bounded by `timeout_ms`; failures come back as status 0 with `error` set.
  HttpResponse Request(std::string_view method, std::string_view target, std::string_view body = {},
                       const Headers& headers = {}, int timeout_ms = 30'000);

  // Sends exactly `bytes` (one or more requests) and reads one response. `head` must be true when
  // the request was a HEAD (the response then has no body whatever its Content-Length says).
  HttpResponse SendRaw(std::string_view bytes, bool head = false, int timeout_ms = 30'000);

  // Reads one more response from the open connection (after SendRaw with pipelined requests).
  HttpResponse ReadResponse(bool head = false, int timeout_ms = 30'000);

  // Number of TCP connections opened so far; stays 1 while keep-alive works.
  int connects() const;
  bool connected() const;
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A raw TCP connection to 127.0.0.1 (or ::1) with deadline-bounded blocking helpers.
class RawConnection {
 public:
  RawConnection() = default;
  ~RawConnection();
  RawConnection(RawConnection&& other) noexcept;
  RawConnection& operator=(RawConnection&& other) noexcept;
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Connects within `timeout_ms`. On failure returns false and sets *error.
  bool Connect(uint16_t port, std::string* error, std::string_view host = "127.0.0.1",
               int timeout_ms = 10'000);
  // Sends all of `bytes` within `timeout_ms`; false (with *error) when the peer closed or timed
  // out.
  bool Send(std::string_view bytes, std::string* error = nullptr, int timeout_ms = 10'000);
  // Sends without waiting: writes what the socket takes now; returns bytes written, -1 on error.
  long SendNonBlocking(std::string_view bytes);
  // Reads one HTTP response (bytes after it stay buffered for the next call).
  HttpResponse ReadResponse(bool head = false, int timeout_ms = 30'000);
  // Reads whatever arrives within `timeout_ms`, up to `max_bytes`; "" on timeout or close.
  std::string ReadSome(size_t max_bytes, int timeout_ms);
  // True when the peer closed the connection (EOF or reset) within `timeout_ms`. Discards any data.
  bool WaitClosedByPeer(int timeout_ms);
  // Closes with an RST instead of a FIN (SO_LINGER 0), like an aborted browser fetch.
  void Abort();
  void Close();
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string pending_;  // received bytes not yet consumed by a response
};

}  // namespace sluice::testing
