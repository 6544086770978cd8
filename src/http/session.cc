#include "http/session.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <exception>
#include <utility>

#include "common/strings.h"
#include "http/gzip.h"
#include "http/status_map.h"

namespace sluice::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

constexpr size_t kReadSize = 16 * 1024;      // per read while waiting for a header
constexpr size_t kBodyReadSize = 64 * 1024;  // per read while receiving a body
// How long a connection closed after an error keeps discarding input, so that the client reads
// our error response instead of a reset.
constexpr int kLingerTimeoutMs = 2000;

std::string_view ToView(beast::string_view s) { return {s.data(), s.size()}; }

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Method ToMethod(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::put:
      return Method::kPut;
    case bhttp::verb::delete_:
      return Method::kDelete;
    case bhttp::verb::options:
      return Method::kOptions;
    case bhttp::verb::patch:
      return Method::kPatch;
    default:
      return Method::kOther;
  }
}

void AppendUint(uint64_t value, std::string* out) {
  char digits[24];
  auto result = std::to_chars(digits, digits + sizeof(digits), value);
  out->append(digits, result.ptr);
}

// Appends a header value, replacing CR, LF and NUL so that no value can inject a header.
void AppendHeaderValue(std::string_view value, std::string* out) {
  size_t start = out->size();
  out->append(value);
  for (size_t i = start; i < out->size(); ++i) {
    char c = (*out)[i];
    if (c == '\r' || c == '\n' || c == '\0') (*out)[i] = ' ';
  }
}

void AppendHeader(std::string_view name, std::string_view value, std::string* out) {
  AppendHeaderValue(name, out);
  out->append(": ");
  AppendHeaderValue(value, out);
  out->append("\r\n");
}

// "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n", formatted once per second per thread.
void AppendDate(std::string* out) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t cached_second = -1;
  thread_local char cached[64];
  thread_local int cached_length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm;
    gmtime_r(&now, &tm);
    cached_length =
        std::snprintf(cached, sizeof(cached), "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                      kDays[tm.tm_wday % 7], tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900,
                      tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (cached_length < 0 || cached_length >= static_cast<int>(sizeof(cached))) cached_length = 0;
    cached_second = now;
  }
  out->append(cached, static_cast<size_t>(cached_length));
}

std::string_view ReasonPhrase(unsigned status) {
  bhttp::status s = bhttp::int_to_status(status);
  if (s == bhttp::status::unknown) return "Unknown";
  return ToView(bhttp::obsolete_reason(s));
}

bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers,
               std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return true;
  }
  return false;
}

// Headers the core owns; a handler's copies are dropped.
bool IsCoreHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
         EqualsIgnoreCase(name, "Connection") || EqualsIgnoreCase(name, "Content-Type");
}

Response Invoke(const Handler& handler, const Request& request) {
  // Handlers should not throw; if one does, the client gets a 500 and the server keeps serving.
  try {
    return handler(request);
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} threw: {}", MethodName(request.method), request.path,
                  e.what());
    return JsonError(500, fmt::format("internal error: {}", e.what()), "internal");
  } catch (...) {
    spdlog::error("http: handler for {} {} threw a non-standard exception",
                  MethodName(request.method), request.path);
    return JsonError(500, "internal error: the handler failed", "internal");
  }
}

}  // namespace

Session::Session(Socket&& socket, ServerContext* context)
    : socket_(std::move(socket)), context_(context), fd_(socket_.native_handle()) {
  beast::error_code ec;
  tcp::endpoint remote = socket_.remote_endpoint(ec);
  if (!ec) {
    try {
      remote_ = remote.address().to_string();
    } catch (const std::exception&) {
      remote_ = "?";
    }
  }
  request_.remote_address = remote_;
  request_.header = [this](std::string_view name) -> std::string_view {
    const auto& fields = parser_->get();
    auto it = fields.find(beast::string_view(name.data(), name.size()));
    return it == fields.end() ? std::string_view() : ToView(it->value());
  };
}

Session::~Session() {
  SetBusy(false);
  std::lock_guard<std::mutex> lock(context_->sessions_mutex);
  context_->sessions.erase(this);
}

void Session::Start() {
  {
    std::lock_guard<std::mutex> lock(context_->sessions_mutex);
    context_->sessions.insert(this);
  }
  if (context_->stopping.load(std::memory_order_relaxed)) {
    Close();
    return;
  }
  NewParser();
  // The header timeout of the first request runs from the connection, so a client that connects
  // and sends nothing is dropped as soon as one that sends a partial header.
  SetPhase(Phase::kHeader);
  Read();
}

void Session::ShutdownIfExpired(int64_t now_ns) {
  if (deadline_ns_.load(std::memory_order_relaxed) > now_ns) return;
  std::lock_guard<std::mutex> lock(fd_mutex_);
  ShutdownLocked();
}

void Session::ShutdownIfIdle() {
  std::lock_guard<std::mutex> lock(fd_mutex_);
  if (!busy_.load(std::memory_order_relaxed)) ShutdownLocked();
}

void Session::ShutdownNow() {
  std::lock_guard<std::mutex> lock(fd_mutex_);
  ShutdownLocked();
}

void Session::DetectHangup() {
  if (!on_workers_.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(fd_mutex_);
  if (fd_ < 0 || shut_down_) return;
  // The session reads nothing while the handler runs, so pending request bytes (a pipelined
  // request) do not count; only the peer's FIN or an error does.
  pollfd p{fd_, POLLRDHUP, 0};
  if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
    client_gone_.store(true, std::memory_order_relaxed);
  }
}

void Session::ShutdownLocked() {
  if (fd_ < 0 || shut_down_) return;
  shut_down_ = true;
  // Wakes the pending read or write with an error; the socket is closed by the session itself.
  ::shutdown(fd_, SHUT_RDWR);
}

void Session::SetPhase(Phase phase) {
  phase_ = phase;
  switch (phase) {
    case Phase::kIdle:
      SetDeadlineAfter(context_->options.idle_timeout_ms);
      break;
    case Phase::kHeader:
      SetDeadlineAfter(context_->options.header_timeout_ms);
      break;
    case Phase::kBody:
      SetDeadlineAfter(context_->options.read_timeout_ms);
      break;
    case Phase::kWrite:
      SetDeadlineAfter(context_->options.write_timeout_ms);
      break;
    case Phase::kClosing:
      SetDeadlineAfter(kLingerTimeoutMs);
      break;
    case Phase::kBusy:
    case Phase::kClosed:
      deadline_ns_.store(kNoDeadline, std::memory_order_relaxed);
      break;
  }
}

// The deadline is absolute: every read until the next phase change shares it.
void Session::SetDeadlineAfter(int timeout_ms) {
  int64_t deadline = timeout_ms > 0 ? NowNs() + int64_t{timeout_ms} * 1'000'000 : kNoDeadline;
  deadline_ns_.store(deadline, std::memory_order_relaxed);
}

void Session::SetBusy(bool busy) {
  if (busy_.load(std::memory_order_relaxed) == busy) return;
  busy_.store(busy, std::memory_order_relaxed);
  context_->busy_sessions.fetch_add(busy ? 1 : -1, std::memory_order_relaxed);
}

void Session::NewParser() {
  parser_.emplace();
  parser_->header_limit(context_->options.header_limit_bytes);
  parser_->body_limit(context_->options.body_limit_bytes);
  parser_->eager(true);
  path_.clear();
}

void Session::Read() {
  socket_.async_read_some(buffer_.prepare(phase_ == Phase::kBody ? kBodyReadSize : kReadSize),
                          beast::bind_front_handler(&Session::OnRead, shared_from_this()));
}

void Session::OnRead(beast::error_code ec, size_t bytes) {
  if (ec) {
    // End of stream, reset, or a shutdown by the sweeper (timeout) or Stop(): no answer is
    // possible or wanted.
    Close();
    return;
  }
  buffer_.commit(bytes);
  SetBusy(true);
  if (phase_ == Phase::kIdle) SetPhase(Phase::kHeader);
  Parse();
}

void Session::Parse() {
  beast::error_code ec;
  while (buffer_.size() != 0) {
    size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      break;
    }
    if (ec) {
      RejectMalformed(ec);
      return;
    }
    if (parser_->is_done()) {
      Dispatch();
      return;
    }
    if (used == 0) break;
  }
  if (parser_->is_header_done() && phase_ == Phase::kHeader) {
    SetPhase(Phase::kBody);
    const auto& message = parser_->get();
    if (message.version() >= 11 && EqualsIgnoreCase(Header(bhttp::field::expect), "100-continue")) {
      Continue100();
      return;
    }
  }
  Read();
}

void Session::Continue100() {
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  SetPhase(Phase::kWrite);
  net::async_write(socket_, net::buffer(kContinue.data(), kContinue.size()),
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     if (ec) {
                       self->Close();
                       return;
                     }
                     self->SetPhase(Phase::kBody);
                     self->Read();
                   });
}

void Session::RejectMalformed(beast::error_code ec) {
  SetPhase(Phase::kBusy);
  if (context_->options.access_log) start_ = std::chrono::steady_clock::now();
  keep_alive_ = false;
  linger_ = true;
  head_only_ = false;
  version_ = 11;
  LookupOrigin();
  if (ec == bhttp::error::body_limit) {
    Finish(JsonError(413, context_->body_limit_message, "payload_too_large"));
  } else if (ec == bhttp::error::header_limit) {
    Finish(JsonError(431, context_->header_limit_message, "payload_too_large"));
  } else {
    Finish(JsonError(400, fmt::format("malformed HTTP request: {}", ec.message()),
                     "invalid_argument"));
  }
}

std::string_view Session::Header(bhttp::field field) const {
  const auto& fields = parser_->get();
  auto it = fields.find(field);
  return it == fields.end() ? std::string_view() : ToView(it->value());
}

void Session::LookupOrigin() {
  origin_allowed_ = false;
  origin_ = {};
  if (!context_->cors.enabled()) return;
  std::string_view origin = Header(bhttp::field::origin);
  if (context_->cors.Allows(origin)) {
    origin_allowed_ = true;
    origin_ = origin;
  }
}

void Session::Dispatch() {
  SetPhase(Phase::kBusy);
  if (context_->options.access_log) start_ = std::chrono::steady_clock::now();
  auto& message = parser_->get();
  version_ = message.version();
  keep_alive_ = message.keep_alive() && !context_->stopping.load(std::memory_order_relaxed);
  linger_ = false;
  const Method method = ToMethod(message.method());
  head_only_ = method == Method::kHead;
  path_ = NormalizePath(ToView(message.target()), &query_);
  LookupOrigin();

  if (method == Method::kOptions) {
    Preflight();
    return;
  }
  if (context_->auth.enabled()) {
    Status status = context_->auth.Check(Header(bhttp::field::authorization),
                                         request_.header(context_->auth.api_key_header()));
    if (!status.ok()) {
      Finish(ErrorResponse(status));
      return;
    }
  }

  std::string_view body = message.body();
  std::string_view coding = TrimSpaces(Header(bhttp::field::content_encoding));
  if (!coding.empty() && !EqualsIgnoreCase(coding, "identity")) {
    if (EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip") ||
        EqualsIgnoreCase(coding, "deflate")) {
      Status status = Inflate(body, context_->options.body_limit_bytes, &inflated_);
      if (!status.ok()) {
        Finish(ErrorResponse(status));
        return;
      }
      body = inflated_;
    } else {
      Finish(JsonError(
          415, fmt::format("unsupported Content-Encoding \"{}\": send gzip or identity", coding),
          "unsupported_media_type"));
      return;
    }
  }

  Router::Match match = context_->router.Find(method, path_);
  if (match.error == 405) {
    Response response = JsonError(405,
                                  fmt::format("method {} is not allowed on {}; allowed: {}",
                                              ToView(message.method_string()), path_, match.allow),
                                  "method_not_allowed");
    response.headers.emplace_back("Allow", std::move(match.allow));
    Finish(std::move(response));
    return;
  }
  if (match.error != 0 || (match.route == nullptr && match.health == nullptr)) {
    Finish(JsonError(404, fmt::format("no endpoint {} {}", ToView(message.method_string()), path_),
                     "not_found"));
    return;
  }

  request_.method = method;
  request_.path = path_;
  request_.query = query_;
  request_.body = body;
  request_.cancelled = nullptr;
  if (match.route != nullptr && match.route->blocking) {
    RunOnWorkers(&match.route->handler);
    return;
  }
  Finish(Invoke(match.route != nullptr ? match.route->handler : *match.health, request_));
}

void Session::RunOnWorkers(const Handler* handler) {
  // The session reads nothing while the handler runs, so request_ and parser_ are stable.
  client_gone_.store(false, std::memory_order_relaxed);
  request_.cancelled = &client_gone_;
  on_workers_.store(true, std::memory_order_release);
  net::post(*context_->workers, [self = shared_from_this(), handler] {
    Response response = Invoke(*handler, self->request_);
    self->on_workers_.store(false, std::memory_order_release);
    net::post(self->socket_.get_executor(), [self, response = std::move(response)]() mutable {
      self->Finish(std::move(response));
    });
  });
}

void Session::Preflight() {
  Response response;
  response.status = 204;
  if (origin_allowed_) {
    response.headers.reserve(3);
    response.headers.emplace_back("Access-Control-Allow-Methods",
                                  "GET, POST, PUT, DELETE, OPTIONS, HEAD");
    std::string_view requested = Header(bhttp::field::access_control_request_headers);
    response.headers.emplace_back(
        "Access-Control-Allow-Headers",
        requested.empty() ? context_->default_allow_headers : std::string(requested));
    response.headers.emplace_back("Access-Control-Max-Age",
                                  std::to_string(context_->cors.max_age_s()));
  } else {
    response.headers.emplace_back("Allow", "GET, POST, PUT, DELETE, OPTIONS, HEAD");
  }
  Finish(std::move(response));
}

void Session::Finish(Response response) {
  if (phase_ == Phase::kClosed) return;  // closed by Stop() while a worker ran the handler
  status_ = response.status;
  if (status_ < 100 || status_ > 999) status_ = 500;
  const bool bodyless = status_ < 200 || status_ == 204 || status_ == 304;
  body_ = std::move(response.body);
  if (bodyless) body_.clear();

  const ServerOptions& options = context_->options;
  bool vary_encoding = false;
  bool gzipped = false;
  if (!body_.empty() && body_.size() >= options.gzip_min_bytes &&
      !HasHeader(response.headers, "Content-Encoding")) {
    vary_encoding = true;
    if (AcceptsGzip(Header(bhttp::field::accept_encoding))) {
      std::string compressed;
      if (GzipCompress(body_, options.gzip_level, &compressed)) {
        body_ = std::move(compressed);
        gzipped = true;
      }
    }
  }

  std::string& h = head_;
  h.clear();
  h.append("HTTP/1.1 ");
  AppendUint(status_, &h);
  h.push_back(' ');
  h.append(ReasonPhrase(status_));
  h.append("\r\nServer: sluice\r\n");
  AppendDate(&h);
  if (!bodyless) {
    h.append("Content-Type: ");
    AppendHeaderValue(response.content_type, &h);
    h.append("\r\nContent-Length: ");
    AppendUint(body_.size(), &h);
    h.append("\r\n");
  }
  if (gzipped) h.append("Content-Encoding: gzip\r\n");
  if (origin_allowed_) {
    h.append("Access-Control-Allow-Origin: ");
    AppendHeaderValue(origin_, &h);
    h.append("\r\nAccess-Control-Allow-Credentials: true\r\n");
  }
  if (context_->cors.enabled()) {
    h.append(vary_encoding ? "Vary: Origin, Accept-Encoding\r\n" : "Vary: Origin\r\n");
  } else if (vary_encoding) {
    h.append("Vary: Accept-Encoding\r\n");
  }
  if (context_->stopping.load(std::memory_order_relaxed)) keep_alive_ = false;
  if (!keep_alive_) {
    h.append("Connection: close\r\n");
  } else if (version_ < 11) {
    h.append("Connection: keep-alive\r\n");
  }
  for (const auto& [name, value] : response.headers) {
    if (!IsCoreHeader(name)) AppendHeader(name, value, &h);
  }
  h.append("\r\n");

  SetPhase(Phase::kWrite);
  if (head_only_ || body_.empty()) {
    net::async_write(socket_, net::buffer(head_),
                     beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  } else {
    std::array<net::const_buffer, 2> buffers = {net::buffer(head_), net::buffer(body_)};
    net::async_write(socket_, buffers,
                     beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }
}

void Session::OnWrite(beast::error_code ec, size_t) {
  if (context_->options.access_log) LogAccess();
  if (ec) {
    Close();  // the client went away mid-response
    return;
  }
  if (!keep_alive_ || context_->stopping.load(std::memory_order_relaxed)) {
    if (linger_) {
      LingeringClose();
    } else {
      beast::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      Close();
    }
    return;
  }
  // Hold no per-request memory while the connection idles.
  std::string().swap(body_);
  if (!inflated_.empty()) std::string().swap(inflated_);
  NewParser();
  if (buffer_.size() != 0) {
    SetPhase(Phase::kHeader);  // a pipelined request is already buffered
    Parse();
  } else {
    SetBusy(false);
    SetPhase(Phase::kIdle);
    Read();
  }
}

void Session::LogAccess() const {
  double dur_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  std::string_view method = "-";
  if (parser_->is_header_done()) method = ToView(parser_->get().method_string());
  spdlog::info("method={} path={} status={} bytes={} dur_ms={:.2f} remote={}", method,
               path_.empty() ? std::string_view("-") : std::string_view(path_), status_,
               head_only_ ? 0 : body_.size(), dur_ms, remote_.empty() ? "-" : remote_);
}

void Session::LingeringClose() {
  SetPhase(Phase::kClosing);
  SetBusy(false);
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  buffer_.clear();
  LingerRead();
}

void Session::LingerRead() {
  socket_.async_read_some(buffer_.prepare(kBodyReadSize),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (ec || self->phase_ != Phase::kClosing) {
                              self->Close();
                              return;
                            }
                            self->LingerRead();
                          });
}

void Session::Close() {
  if (phase_ == Phase::kClosed) return;
  SetPhase(Phase::kClosed);
  SetBusy(false);
  std::lock_guard<std::mutex> lock(fd_mutex_);
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  fd_ = -1;
}

}  // namespace sluice::http
