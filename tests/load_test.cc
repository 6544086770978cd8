// Load and slow-client behaviour of the real server, bounded in count and time, on 127.0.0.1 only.
//
// - 1,000 idle keep-alive connections plus 100 slow-header clients (half trickling a byte every
//   500 ms, half silent) are held open while 200 sequential /query requests on fresh connections
//   must each be answered within a generous bound.
// - Slow-header clients that trickle forever are disconnected by the server (header timeout).
// - §16 case 68 at scale: 64 parallel clients x 20 requests, all answered.
// The test raises its own RLIMIT_NOFILE soft limit to the hard limit before starting the server,
// which inherits it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "testing/http_client.h"
#include "testing/protocol_checks.h"
#include "testing/server_process.h"

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kIdleConnections = 1000;
constexpr int kSlowClients = 100;
constexpr int kSequentialQueries = 200;
constexpr int kParallelClients = 64;
constexpr int kRequestsPerClient = 20;
constexpr auto kTestBudget = std::chrono::seconds(60);

std::string QueryBody(std::string_view ref_id, std::string_view target = "upper_25") {
  return fmt::format(
      R"({{"range":{{"from":"2026-11-23T13:30:00.000Z","to":"2026-11-23T19:30:00.000Z"}},)"
      R"("intervalMs":30000,"maxDataPoints":500,"targets":[{{"target":"{}","refId":"{}"}}]}})",
      target, ref_id);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Sends one byte every 500 ms to each connection in `conns` until stopped (or 55 s pass).
class Trickler {
 public:
  explicit Trickler(std::vector<RawConnection*> conns) : conns_(std::move(conns)) {
    thread_ = std::thread([this] {
      auto deadline = Clock::now() + std::chrono::seconds(55);
      while (!stop_.load() && Clock::now() < deadline) {
        for (RawConnection* c : conns_) {
          if (c->is_open()) c->SendNonBlocking("x");
        }
        for (int i = 0; i < 10 && !stop_.load(); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }
  ~Trickler() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::vector<RawConnection*> conns_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class LoadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fd_limit_ = RaiseFileLimit();
    server_ = ServerProcess::Start(ServerConfig{}, &start_error_);
  }
  static void TearDownTestSuite() {
    if (!server_) return;
    bool alive = server_->Alive();
    int code = server_->Stop();
    if (!alive || code != 0) {
      ADD_FAILURE() << "server ended with code " << code << (alive ? "" : " (crashed)")
                    << "; stderr: " << server_->StderrText();
    }
    server_.reset();
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << start_error_;
    ASSERT_TRUE(server_->Alive()) << server_->StderrText();
    ASSERT_GE(fd_limit_, 2u * (kIdleConnections + kSlowClients) + 200)
        << "RLIMIT_NOFILE hard limit too low for this test";
  }

  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string start_error_;
  static inline uint64_t fd_limit_ = 0;
};

TEST_F(LoadTest, QueriesAnsweredWhileIdleAndSlowClientsHoldConnections) {
  auto start = Clock::now();
  uint16_t port = server_->port();
  std::string host = fmt::format("127.0.0.1:{}", port);
  std::string error;

  // 1,000 keep-alive connections, each used once and then left idle.
  std::vector<RawConnection> idle(kIdleConnections);
  std::string health = BuildRequest("GET", "/", host, GrafanaHeaders(), "");
  for (int i = 0; i < kIdleConnections; ++i) {
    ASSERT_TRUE(idle[i].Connect(port, &error)) << "idle connection " << i << ": " << error;
    ASSERT_TRUE(idle[i].Send(health, &error)) << "idle connection " << i << ": " << error;
  }
  for (int i = 0; i < kIdleConnections; ++i) {
    HttpResponse r = idle[i].ReadResponse(false, 20'000);
    ASSERT_EQ(r.status, 200) << "idle connection " << i << ": " << r.Describe();
    ASSERT_TRUE(r.keep_alive) << "idle connection " << i << " not kept alive";
  }

  // 100 clients stuck inside their request header.
  std::vector<RawConnection> slow(kSlowClients);
  std::vector<RawConnection*> tricklers;
  std::string partial = fmt::format("POST /query HTTP/1.1\r\nHost: {}\r\nContent-Ty", host);
  for (int i = 0; i < kSlowClients; ++i) {
    ASSERT_TRUE(slow[i].Connect(port, &error)) << "slow client " << i << ": " << error;
    ASSERT_TRUE(slow[i].Send(partial, &error)) << "slow client " << i << ": " << error;
    if (i % 2 == 0) tricklers.push_back(&slow[i]);
  }
  Trickler trickler(tricklers);
  double setup_s = Seconds(Clock::now() - start);
  // Premise: the server really holds all of them (one descriptor per connection) once it has
  // accepted the slow clients from its backlog.
  int held_fds = server_->OpenFdCount();
  for (auto until = Clock::now() + std::chrono::seconds(5);
       held_fds < kIdleConnections + kSlowClients && Clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    held_fds = server_->OpenFdCount();
  }
  EXPECT_GE(held_fds, kIdleConnections + kSlowClients) << "server descriptors while held";

  // Meanwhile, /query keeps answering on fresh connections.
  double slowest_s = 0;
  for (int i = 0; i < kSequentialQueries; ++i) {
    ASSERT_LT(Clock::now() - start, kTestBudget) << "out of time after " << i << " queries";
    std::string ref = fmt::format("Q{}", i);
    HttpClient client(port);
    auto t0 = Clock::now();
    HttpResponse r = client.Request("POST", "/query", QueryBody(ref), GrafanaHeaders(), 10'000);
    double took_s = Seconds(Clock::now() - t0);
    slowest_s = std::max(slowest_s, took_s);
    QueryView view;
    ASSERT_TRUE(ParseQueryResponse(r, &view, 500)) << "query " << i;
    ASSERT_EQ(view.SeriesFor(ref).size(), 1u) << "query " << i;
    EXPECT_LT(took_s, 5.0) << "query " << i << " took " << took_s << " s";
  }
  trickler.Stop();
  // The idle connections were still usable after all that.
  for (int i = 0; i < kIdleConnections; i += 100) {
    ASSERT_TRUE(idle[i].Send(health, &error)) << "idle connection " << i << ": " << error;
    HttpResponse r = idle[i].ReadResponse(false, 10'000);
    EXPECT_EQ(r.status, 200) << "idle connection " << i << " after the queries: " << r.Describe();
  }
  EXPECT_TRUE(server_->Alive()) << server_->StderrText();
  EXPECT_LT(Clock::now() - start, kTestBudget);
  RecordProperty("setup_seconds", fmt::format("{:.2f}", setup_s));
  RecordProperty("slowest_query_seconds", fmt::format("{:.3f}", slowest_s));
}

// Slow-loris protection: a client that trickles its header forever is disconnected.
TEST_F(LoadTest, TricklingHeaderClientsAreDisconnected) {
  constexpr int kClients = 10;
  constexpr int kBoundMs = 40'000;
  uint16_t port = server_->port();
  std::string error;
  std::vector<RawConnection> slow(kClients);
  std::vector<RawConnection*> ptrs;
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(slow[i].Connect(port, &error)) << error;
    ASSERT_TRUE(slow[i].Send(
        fmt::format("POST /query HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nX-Slow: ", port), &error))
        << error;
    ptrs.push_back(&slow[i]);
  }
  Trickler trickler(ptrs);
  auto start = Clock::now();
  for (int i = 0; i < kClients; ++i) {
    int left =
        kBoundMs -
        static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
    EXPECT_TRUE(slow[i].WaitClosedByPeer(std::max(left, 0)))
        << "client " << i << " trickling a header byte every 500 ms is still connected after "
        << kBoundMs / 1000 << " s";
  }
  trickler.Stop();
  HttpClient client(port);
  EXPECT_TRUE(IsJsonResponse(client.Request("GET", "/", "", GrafanaHeaders()), 200));
}

// PROTOCOL.md §16 case 68 at scale: 64 parallel clients x 20 requests each.
TEST_F(LoadTest, Case68_ParallelClientsAllAnswered) {
  uint16_t port = server_->port();
  std::atomic<int> ok{0};
  std::mutex mu;
  std::vector<std::string> failures;
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kParallelClients; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(port);
      for (int i = 0; i < kRequestsPerClient; ++i) {
        if (Clock::now() - start > kTestBudget) break;
        std::string ref = fmt::format("C{}_{}", t, i);
        HttpResponse r =
            client.Request("POST", "/query", QueryBody(ref, t % 3 == 0 ? "app.*.cpu" : "upper_50"),
                           GrafanaHeaders(), 30'000);
        QueryView view;
        auto valid = ParseQueryResponse(r, &view, 500);
        if (valid && !view.SeriesFor(ref).empty()) {
          ++ok;
        } else {
          std::lock_guard<std::mutex> lock(mu);
          if (failures.size() < 10) {
            failures.push_back(ref + ": " + (valid ? "no series" : valid.message()));
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kParallelClients * kRequestsPerClient);
  for (const std::string& f : failures) ADD_FAILURE() << f;
  EXPECT_LT(Clock::now() - start, kTestBudget);
  EXPECT_TRUE(server_->Alive()) << server_->StderrText();
}

}  // namespace
}  // namespace sluice::testing
