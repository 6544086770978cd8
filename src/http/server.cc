#include "http/server.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "http/server_context.h"
#include "http/session.h"

namespace sluice::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

std::string LowerCase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int HardwareThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// "127.0.0.1:8080", "[::1]:0", "localhost:8080", ":8080" (all IPv4 interfaces).
Result<tcp::endpoint> ParseListen(const std::string& listen) {
  std::string_view text = listen;
  std::string_view host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":") {
      return InvalidArgument("invalid listen address \"{}\": expected [IPV6]:PORT", listen);
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument("invalid listen address \"{}\": expected HOST:PORT", listen);
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return InvalidArgument("invalid listen address \"{}\": write IPv6 hosts as [ADDR]:PORT",
                             listen);
    }
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return InvalidArgument("invalid port \"{}\" in listen address \"{}\"", port_text, listen);
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  boost::system::error_code address_ec;
  net::ip::address address = net::ip::make_address(std::string(host), address_ec);
  if (!address_ec) return tcp::endpoint(address, static_cast<uint16_t>(port));

  net::io_context resolver_context;
  tcp::resolver resolver(resolver_context);
  boost::system::error_code resolve_ec;
  auto results = resolver.resolve(std::string(host), std::string(port_text), resolve_ec);
  if (resolve_ec || results.empty()) {
    return InvalidArgument("cannot resolve host \"{}\" in listen address \"{}\": {}", host, listen,
                           resolve_ec ? resolve_ec.message() : "no addresses");
  }
  return results.begin()->endpoint();
}

// Each connection holds a descriptor; the default soft limit (often 1024) is too low for a server.
void RaiseFileLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : limit.rlim_max;
  limit.rlim_cur = wanted;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("http: cannot raise the open-file limit to {}", static_cast<uint64_t>(wanted));
  }
}

bool IsResourceShortage(const boost::system::error_code& ec) {
  return ec == boost::system::errc::too_many_files_open ||
         ec == boost::system::errc::too_many_files_open_in_system ||
         ec == boost::system::errc::not_enough_memory || ec == boost::system::errc::no_buffer_space;
}

}  // namespace

ServerContext::ServerContext(ServerOptions server_options, Router server_router)
    : options(std::move(server_options)),
      router(std::move(server_router)),
      auth(options.auth),
      cors(options.cors),
      body_limit_message(
          fmt::format("request body exceeds the {}-byte limit", options.body_limit_bytes)),
      header_limit_message(
          fmt::format("request header exceeds the {}-byte limit", options.header_limit_bytes)),
      default_allow_headers("accept, content-type, authorization, " +
                            LowerCase(options.auth.api_key_header)) {}

class Server::Impl {
 public:
  Impl(ServerOptions options, Router router) : context_(std::move(options), std::move(router)) {}
  ~Impl() { Stop(); }

  Status Start();
  uint16_t port() const { return port_.load(); }
  void Stop();
  void RunUntilSignal();

 private:
  // Starts catching SIGINT and SIGTERM; a signal then ends RunUntilSignal (even one that arrives
  // before RunUntilSignal is called).
  void WatchSignals();
  void StopLocked();
  void Accept();
  void OnAccept(beast::error_code ec, Socket socket);
  void RunIo();
  // Enforces session deadlines until Stop(); runs on its own thread.
  void Sweep();
  // Calls `fn` on every live session.
  void ForEachSession(void (Session::*fn)());
  size_t SessionCount();

  using Acceptor = net::basic_socket_acceptor<tcp, net::strand<net::io_context::executor_type>>;
  using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                          net::wait_traits<std::chrono::steady_clock>,
                                          net::strand<net::io_context::executor_type>>;

  // Declaration order is destruction order in reverse: sessions, which live in the io_context's
  // and the worker pool's queues, use the context and the io_context while being destroyed.
  ServerContext context_;
  std::unique_ptr<net::io_context> io_context_;
  std::optional<net::thread_pool> workers_;
  std::optional<Acceptor> acceptor_;
  std::optional<Timer> accept_retry_;
  std::optional<net::signal_set> signals_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> io_threads_;
  std::thread sweeper_;
  std::atomic<uint16_t> port_{0};

  std::mutex sweep_mutex_;
  std::condition_variable sweep_cv_;
  bool sweep_stop_ = false;  // guarded by sweep_mutex_

  std::mutex stop_mutex_;  // serialises Start and Stop
  std::atomic<bool> started_{false};
  bool stopped_ = false;  // guarded by stop_mutex_

  std::mutex wait_mutex_;  // for RunUntilSignal
  std::condition_variable wait_cv_;
  bool stop_requested_ = false;   // guarded by wait_mutex_
  bool signal_received_ = false;  // guarded by wait_mutex_
};

Status Server::Impl::Start() {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  if (started_.load() || stopped_) return InvalidArgument("the HTTP server was already started");
  SLUICE_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseListen(context_.options.listen));
  RaiseFileLimit();

  const ServerOptions& options = context_.options;
  const int io_threads = options.io_threads > 0 ? options.io_threads : HardwareThreads();
  const int worker_threads =
      options.worker_threads > 0 ? options.worker_threads : std::max(4, HardwareThreads());
  try {
    io_context_ = std::make_unique<net::io_context>(io_threads);
    acceptor_.emplace(net::make_strand(*io_context_));
    boost::system::error_code ec;
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      acceptor_.reset();
      io_context_.reset();
      return Unavailable("cannot listen on {}: {}", options.listen, ec.message());
    }
    port_ = acceptor_->local_endpoint(ec).port();
    accept_retry_.emplace(acceptor_->get_executor());
    workers_.emplace(static_cast<size_t>(worker_threads));
    context_.workers = &*workers_;
    work_.emplace(io_context_->get_executor());
    if (options.handle_signals) WatchSignals();
    Accept();
    started_ = true;
    for (int i = 0; i < io_threads; ++i) io_threads_.emplace_back([this] { RunIo(); });
    sweeper_ = std::thread([this] { Sweep(); });
  } catch (const std::exception& e) {
    // Thread creation (std::system_error) or allocation failed.
    if (started_.load()) {
      StopLocked();
    } else {
      acceptor_.reset();
      accept_retry_.reset();
    }
    return Internal("cannot start the HTTP server: {}", e.what());
  }
  spdlog::info("http: listening on {} (port {}, {} I/O threads, {} workers)", options.listen,
               port_.load(), io_threads, worker_threads);
  return Status::OK();
}

void Server::Impl::RunIo() {
  for (;;) {
    try {
      io_context_->run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("http: uncaught exception on an I/O thread: {}", e.what());
    } catch (...) {
      spdlog::error("http: uncaught non-standard exception on an I/O thread");
    }
  }
}

void Server::Impl::Accept() {
  acceptor_->async_accept(io_context_->get_executor(),
                          beast::bind_front_handler(&Impl::OnAccept, this));
}

void Server::Impl::OnAccept(beast::error_code ec, Socket socket) {
  if (context_.stopping.load() || ec == net::error::operation_aborted) return;
  if (ec) {
    if (IsResourceShortage(ec)) {
      // Out of descriptors or memory: retry shortly instead of spinning on the error.
      spdlog::warn("http: accept failed: {}; retrying in 50 ms", ec.message());
      accept_retry_->expires_after(std::chrono::milliseconds(50));
      accept_retry_->async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && !context_.stopping.load()) Accept();
      });
      return;
    }
    Accept();
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::make_shared<Session>(std::move(socket), &context_)->Start();
  Accept();
}

// A session being destroyed blocks in its destructor on sessions_mutex, so every pointer in the
// set is valid while the lock is held.
void Server::Impl::ForEachSession(void (Session::*fn)()) {
  std::lock_guard<std::mutex> lock(context_.sessions_mutex);
  for (Session* session : context_.sessions) (session->*fn)();
}

void Server::Impl::Sweep() {
  const ServerOptions& o = context_.options;
  int shortest_ms = INT32_MAX;
  for (int ms : {o.header_timeout_ms, o.read_timeout_ms, o.idle_timeout_ms, o.write_timeout_ms}) {
    if (ms > 0) shortest_ms = std::min(shortest_ms, ms);
  }
  // Timeouts fire within an eighth of the shortest one (at most 250 ms late).
  const auto tick = std::chrono::milliseconds(std::clamp(shortest_ms / 8, 5, 250));
  std::unique_lock<std::mutex> lock(sweep_mutex_);
  while (!sweep_stop_) {
    sweep_cv_.wait_for(lock, tick, [this] { return sweep_stop_; });
    const int64_t now_ns = Session::NowNs();
    std::lock_guard<std::mutex> sessions_lock(context_.sessions_mutex);
    for (Session* session : context_.sessions) {
      session->ShutdownIfExpired(now_ns);
      session->DetectHangup();
    }
  }
}

size_t Server::Impl::SessionCount() {
  std::lock_guard<std::mutex> lock(context_.sessions_mutex);
  return context_.sessions.size();
}

void Server::Impl::Stop() {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  StopLocked();
}

void Server::Impl::StopLocked() {
  {
    std::lock_guard<std::mutex> lock(wait_mutex_);
    stop_requested_ = true;
  }
  wait_cv_.notify_all();
  if (!started_.load() || stopped_) return;
  stopped_ = true;
  context_.stopping = true;

  using Clock = std::chrono::steady_clock;
  net::post(acceptor_->get_executor(), [this] {
    beast::error_code ignored;
    acceptor_->close(ignored);
    accept_retry_->cancel();
  });
  ForEachSession(&Session::ShutdownIfIdle);
  const auto drain_deadline =
      Clock::now() + std::chrono::milliseconds(std::max(0, context_.options.drain_timeout_ms));
  while (context_.busy_sessions.load() > 0 && Clock::now() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ForEachSession(&Session::ShutdownNow);
  // Closed sessions finish on the I/O threads; give them a moment before stopping those.
  const auto close_deadline = Clock::now() + std::chrono::seconds(1);
  while (SessionCount() > 0 && Clock::now() < close_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  work_.reset();
  io_context_->stop();
  for (std::thread& thread : io_threads_) {
    if (thread.joinable()) thread.join();
  }
  io_threads_.clear();
  {
    std::lock_guard<std::mutex> sweep_lock(sweep_mutex_);
    sweep_stop_ = true;
  }
  sweep_cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
  // A handler still running on a worker past the drain timeout is waited for; queued ones are
  // dropped.
  workers_->stop();
  workers_->join();
  signals_.reset();
  spdlog::info("http: stopped");
}

void Server::Impl::WatchSignals() {
  signals_.emplace(*io_context_, SIGINT, SIGTERM);
  signals_->async_wait([this](beast::error_code ec, int signal_number) {
    if (ec) return;
    spdlog::info("http: received signal {}, stopping", signal_number);
    {
      std::lock_guard<std::mutex> inner(wait_mutex_);
      signal_received_ = true;
    }
    wait_cv_.notify_all();
  });
}

void Server::Impl::RunUntilSignal() {
  {
    std::unique_lock<std::mutex> lock(wait_mutex_);
    if (!started_.load() || stop_requested_) return;
    if (!signals_) WatchSignals();
    wait_cv_.wait(lock, [this] { return signal_received_ || stop_requested_; });
  }
  Stop();
}

Server::Server(ServerOptions options, Router router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

Server::~Server() = default;

Status Server::Start() { return impl_->Start(); }

uint16_t Server::port() const { return impl_->port(); }

void Server::Stop() { impl_->Stop(); }

void Server::RunUntilSignal() { impl_->RunUntilSignal(); }

}  // namespace sluice::http
