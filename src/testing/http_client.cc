#include "testing/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/strings.h"
#include "testing/subprocess.h"

namespace sluice::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kMaxBodyBytes = 512ull << 20;
constexpr uint32_t kMaxHeaderBytes = 1u << 20;

// The Host header value for host:port, bracketing IPv6 literals.
std::string HostPort(std::string_view host, uint16_t port) {
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

bool HasHeaderNamed(const Headers& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
}

HttpResponse FromMessage(const http::response<http::string_body>& msg) {
  HttpResponse out;
  out.status = static_cast<int>(msg.result_int());
  out.reason = std::string(msg.reason());
  for (const auto& field : msg) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = msg.body();
  out.keep_alive = msg.keep_alive();
  return out;
}

HttpResponse Failure(std::string error) {
  HttpResponse out;
  out.error = std::move(error);
  return out;
}

}  // namespace

Headers GrafanaHeaders() {
  return {{"Content-Type", "application/json"}, {"Accept", "application/json, text/plain, */*"}};
}

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

bool HttpResponse::HasHeader(std::string_view name) const { return HasHeaderNamed(headers, name); }

std::string HttpResponse::MediaType() const {
  std::string type = Header("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.erase(0, 1);
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

std::string HttpResponse::Describe() const {
  if (!error.empty()) return "transport error: " + error;
  std::string head = body.size() > 600 ? body.substr(0, 600) + "..." : body;
  return fmt::format("HTTP {} {} [Content-Type: {}] body({} bytes): {}", status, reason,
                     Header("Content-Type"), body.size(), head);
}

std::string BuildRequest(std::string_view method, std::string_view target, std::string_view host,
                         const Headers& headers, std::string_view body) {
  std::string out = fmt::format("{} {} HTTP/1.1\r\n", method, target);
  if (!HasHeaderNamed(headers, "Host")) out += fmt::format("Host: {}\r\n", host);
  for (const auto& [name, value] : headers) out += fmt::format("{}: {}\r\n", name, value);
  if (!body.empty() && !HasHeaderNamed(headers, "Content-Length") &&
      !HasHeaderNamed(headers, "Transfer-Encoding")) {
    out += fmt::format("Content-Length: {}\r\n", body.size());
  }
  out += "\r\n";
  out += body;
  return out;
}

std::string ChunkBody(std::string_view body, size_t chunk_size) {
  std::string out;
  chunk_size = std::max<size_t>(chunk_size, 1);
  for (size_t pos = 0; pos < body.size(); pos += chunk_size) {
    std::string_view chunk = body.substr(pos, chunk_size);
    out += fmt::format("{:x}\r\n", chunk.size());
    out += chunk;
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  return out;
}

std::string GzipBody(std::string_view body) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&zs, body.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  zs.avail_in = static_cast<uInt>(body.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::optional<std::string> GunzipBody(std::string_view compressed) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return std::nullopt;  // +32: gzip or zlib header
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  bool complete = rc == Z_STREAM_END && zs.avail_in == 0;
  inflateEnd(&zs);
  if (!complete) return std::nullopt;
  return out;
}

// ---- HttpClient ----

struct HttpClient::Impl {
  std::string host;
  uint16_t port = 0;
  net::io_context ioc{1};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool open = false;
  int connects = 0;

  // Starts one asynchronous operation via `start(result)` and runs it to completion or timeout.
  template <typename Start>
  beast::error_code Run(int timeout_ms, Start&& start) {
    beast::error_code result = net::error::would_block;
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    start(result);
    ioc.restart();
    ioc.run();
    stream.expires_never();
    return result;
  }

  void CloseSocket() {
    beast::error_code ignored;
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
    buffer.clear();
    open = false;
  }

  std::string Connect(int timeout_ms) {
    CloseSocket();
    beast::error_code ec;
    net::ip::address address = net::ip::make_address(host, ec);
    if (ec) return "bad address " + host + ": " + ec.message();
    net::ip::tcp::endpoint endpoint(address, port);
    ec = Run(timeout_ms, [&](beast::error_code& r) {
      stream.async_connect(endpoint, [&r](beast::error_code e) { r = e; });
    });
    if (ec) return fmt::format("connect to {}: {}", HostPort(host, port), ec.message());
    stream.socket().set_option(net::ip::tcp::no_delay(true), ec);
    open = true;
    ++connects;
    return "";
  }

  beast::error_code Write(std::string_view bytes, int timeout_ms) {
    return Run(timeout_ms, [&](beast::error_code& r) {
      net::async_write(stream, net::buffer(bytes.data(), bytes.size()),
                       [&r](beast::error_code e, size_t) { r = e; });
    });
  }

  HttpResponse Read(bool head, int timeout_ms, beast::error_code* read_error) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    parser.header_limit(kMaxHeaderBytes);
    parser.skip(head);
    beast::error_code ec = Run(timeout_ms, [&](beast::error_code& r) {
      http::async_read(stream, buffer, parser, [&r](beast::error_code e, size_t) { r = e; });
    });
    *read_error = ec;
    if (ec) {
      CloseSocket();
      return Failure("reading response: " + ec.message());
    }
    HttpResponse out = FromMessage(parser.get());
    if (!out.keep_alive) CloseSocket();
    return out;
  }
};

HttpClient::HttpClient(uint16_t port, std::string host) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() { Close(); }

int HttpClient::connects() const { return impl_->connects; }
bool HttpClient::connected() const { return impl_->open; }
void HttpClient::Close() { impl_->CloseSocket(); }

HttpResponse HttpClient::Request(std::string_view method, std::string_view target,
                                 std::string_view body, const Headers& headers, int timeout_ms) {
  std::string bytes =
      BuildRequest(method, target, HostPort(impl_->host, impl_->port), headers, body);
  bool head = EqualsIgnoreCase(method, "HEAD");
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = impl_->open;
    if (!impl_->open) {
      std::string error = impl_->Connect(timeout_ms);
      if (!error.empty()) return Failure(error);
    }
    beast::error_code ec = impl_->Write(bytes, timeout_ms);
    if (ec) {
      impl_->CloseSocket();
      if (reused) continue;
      return Failure("writing request: " + ec.message());
    }
    beast::error_code read_error;
    HttpResponse response = impl_->Read(head, timeout_ms, &read_error);
    bool stale = read_error == http::error::end_of_stream ||
                 read_error == net::error::connection_reset || read_error == net::error::eof;
    if (reused && stale) continue;  // the server had closed the idle connection
    return response;
  }
  return Failure("connection closed by the server twice");
}

HttpResponse HttpClient::SendRaw(std::string_view bytes, bool head, int timeout_ms) {
  if (!impl_->open) {
    std::string error = impl_->Connect(timeout_ms);
    if (!error.empty()) return Failure(error);
  }
  beast::error_code ec = impl_->Write(bytes, timeout_ms);
  if (ec) {
    // The server may answer (e.g. 413) and close before taking the whole request: read anyway.
    beast::error_code read_error;
    HttpResponse response = impl_->Read(head, timeout_ms, &read_error);
    if (response.status != 0) return response;
    impl_->CloseSocket();
    return Failure("writing request: " + ec.message());
  }
  beast::error_code read_error;
  return impl_->Read(head, timeout_ms, &read_error);
}

HttpResponse HttpClient::ReadResponse(bool head, int timeout_ms) {
  if (!impl_->open) return Failure("not connected");
  beast::error_code read_error;
  return impl_->Read(head, timeout_ms, &read_error);
}

// ---- RawConnection ----

RawConnection::~RawConnection() { Close(); }

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), pending_(std::move(other.pending_)) {}

RawConnection& RawConnection::operator=(RawConnection&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    pending_ = std::move(other.pending_);
  }
  return *this;
}

void RawConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  pending_.clear();
}

void RawConnection::Abort() {
  if (fd_ < 0) return;
  linger lg{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  Close();
}

bool RawConnection::Connect(uint16_t port, std::string* error, std::string_view host,
                            int timeout_ms) {
  Close();
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string host_text(host);
  int family = host_text.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (family == AF_INET6) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host_text.c_str(), &a6->sin6_addr) != 1) {
      if (error) *error = "bad address " + host_text;
      return false;
    }
    addr_len = sizeof(sockaddr_in6);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    if (inet_pton(AF_INET, host_text.c_str(), &a4->sin_addr) != 1) {
      if (error) *error = "bad address " + host_text;
      return false;
    }
    addr_len = sizeof(sockaddr_in);
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    if (error) *error = fmt::format("socket: {}", std::strerror(errno));
    return false;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    if (errno != EINPROGRESS) {
      if (error) *error = fmt::format("connect: {}", std::strerror(errno));
      ::close(fd);
      return false;
    }
    pollfd p{fd, POLLOUT, 0};
    int rc = ::poll(&p, 1, timeout_ms);
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    if (rc <= 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
      if (error) {
        *error =
            rc <= 0 ? "connect: timed out" : fmt::format("connect: {}", std::strerror(so_error));
      }
      ::close(fd);
      return false;
    }
  }
  fd_ = fd;
  return true;
}

bool RawConnection::Send(std::string_view bytes, std::string* error, int timeout_ms) {
  if (fd_ < 0) {
    if (error) *error = "not connected";
    return false;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      int left = RemainingMs(deadline);
      if (left == 0 || ::poll(&p, 1, left) <= 0) {
        if (error) *error = fmt::format("send timed out after {} of {} bytes", sent, bytes.size());
        return false;
      }
      continue;
    }
    if (error) *error = fmt::format("send: {}", std::strerror(errno));
    return false;
  }
  return true;
}

long RawConnection::SendNonBlocking(std::string_view bytes) {
  if (fd_ < 0) return -1;
  ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
  return static_cast<long>(n);
}

std::string RawConnection::ReadSome(size_t max_bytes, int timeout_ms) {
  if (!pending_.empty()) {
    std::string out = pending_.substr(0, max_bytes);
    pending_.erase(0, out.size());
    return out;
  }
  if (fd_ < 0) return "";
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return "";
  std::string out(max_bytes, '\0');
  ssize_t n = ::recv(fd_, out.data(), out.size(), 0);
  if (n <= 0) return "";
  out.resize(static_cast<size_t>(n));
  return out;
}

bool RawConnection::WaitClosedByPeer(int timeout_ms) {
  if (fd_ < 0) return true;
  pending_.clear();
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[16 * 1024];
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, RemainingMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
  }
}

HttpResponse RawConnection::ReadResponse(bool head, int timeout_ms) {
  if (fd_ < 0) return Failure("not connected");
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxBodyBytes);
  parser.header_limit(kMaxHeaderBytes);
  parser.skip(head);
  parser.eager(true);
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[64 * 1024];
  while (!parser.is_done()) {
    if (!pending_.empty()) {
      beast::error_code ec;
      size_t used = parser.put(net::buffer(pending_.data(), pending_.size()), ec);
      pending_.erase(0, used);
      if (ec && ec != http::error::need_more) return Failure("parsing response: " + ec.message());
      if (parser.is_done()) break;
      if (!ec && used > 0) continue;  // progress made; try the rest of the buffer
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, RemainingMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      return Failure(fmt::format("timed out after {} ms waiting for the response", timeout_ms));
    }
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0) {
      if (!parser.got_some()) {
        // Beast would accept EOF before the first byte as an empty message; it is a failure.
        return Failure(
            n == 0 ? "connection closed before any response byte"
                   : fmt::format("recv before any response byte: {}", std::strerror(errno)));
      }
      beast::error_code ec;
      parser.put_eof(ec);
      if (!ec && parser.is_done()) break;
      return Failure(n == 0 ? "connection closed before a complete response"
                            : fmt::format("recv: {}", std::strerror(errno)));
    }
    pending_.append(buf, static_cast<size_t>(n));
  }
  return FromMessage(parser.get());
}

}  // namespace sluice::testing
