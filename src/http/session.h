// One HTTP connection (internal to the HTTP core).
//
// A session reads requests with Beast's parser from its own buffer, answers them strictly in order
// and keeps the connection alive when the client allows it. It enforces the server's timeouts in
// phases: idle (waiting for the first byte of the next keep-alive request), header (first byte, or
// the connection itself, to a complete header), body and write.
//
// Concurrency: a session has at most one operation outstanding at any time (a read, a write, or its
// handler on the worker pool), and each completion starts the next, so its state needs no strand.
// Deadlines are not asio timers (arming and cancelling one per read and write costs a timer-queue
// update and an extra completion per operation); instead the session publishes an atomic deadline
// and the server's sweeper thread calls ShutdownIfExpired, which shuts the socket down so that the
// pending operation fails and the session closes itself on its own thread.
#pragma once

#include <atomic>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "http/handler.h"
#include "http/server_context.h"

namespace sluice::http {

// A TCP socket bound to the io_context's own executor type (no type-erased executor per operation).
using Socket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

class Session : public std::enable_shared_from_this<Session> {
 public:
  static constexpr int64_t kNoDeadline = INT64_MAX;

  // `context` must outlive the session.
  Session(Socket&& socket, ServerContext* context);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Registers the session with the server and starts reading. Call once, on a shared_ptr.
  void Start();

  // The following are thread-safe; they only shut the socket down, and the session then closes
  // itself on an I/O thread.
  // Shuts the connection down when its current deadline (steady-clock ns) is at or before `now_ns`.
  void ShutdownIfExpired(int64_t now_ns);
  // Shuts the connection down when no request is in progress (used when stopping).
  void ShutdownIfIdle();
  // Shuts the connection down now.
  void ShutdownNow();
  // While a handler runs on the worker pool: if the client has closed (or half-closed) the
  // connection, sets the flag the handler sees as Request::cancelled.
  void DetectHangup();

  static int64_t NowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

 private:
  enum class Phase { kIdle, kHeader, kBody, kBusy, kWrite, kClosing, kClosed };

  void SetPhase(Phase phase);
  void SetDeadlineAfter(int timeout_ms);
  void SetBusy(bool busy);
  void NewParser();
  void Read();
  void OnRead(boost::beast::error_code ec, size_t bytes);
  void Parse();
  void Continue100();
  void RejectMalformed(boost::beast::error_code ec);
  void Dispatch();
  void RunOnWorkers(const Handler* handler);
  void Preflight();
  void Finish(Response response);
  void OnWrite(boost::beast::error_code ec, size_t bytes);
  void LogAccess() const;
  void LingeringClose();
  void LingerRead();
  void Close();
  void ShutdownLocked();

  std::string_view Header(boost::beast::http::field field) const;
  void LookupOrigin();

  Socket socket_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  ServerContext* const context_;
  std::string remote_;

  // The request being served; its views point into parser_, path_, query_ and inflated_.
  Request request_;
  std::string path_;
  std::string query_;
  std::string inflated_;
  std::string_view origin_;  // the request's Origin when CORS allows it, else empty
  bool origin_allowed_ = false;
  bool head_only_ = false;
  bool keep_alive_ = true;
  bool linger_ = false;  // unread input may remain: drain it before closing
  unsigned version_ = 11;

  // The response being written.
  std::string head_;
  std::string body_;
  unsigned status_ = 0;

  Phase phase_ = Phase::kHeader;
  std::chrono::steady_clock::time_point start_;  // set only when access logging is on

  // Shared with other threads (sweeper, Stop).
  std::atomic<int64_t> deadline_ns_{kNoDeadline};
  std::atomic<bool> busy_{false};  // part of a request received and its response not yet written
  std::atomic<bool> on_workers_{false};  // the handler is running on the worker pool
  std::atomic<bool> client_gone_{false};  // request_.cancelled points here
  std::mutex fd_mutex_;            // guards fd_ against reuse between close and shutdown
  int fd_ = -1;                    // the socket's descriptor; -1 once closed
  bool shut_down_ = false;         // guarded by fd_mutex_
};

}  // namespace sluice::http
