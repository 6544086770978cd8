// In-process tests of the HTTP core: a real Server on 127.0.0.1 and an ephemeral port, driven by a
// small synchronous Beast client. Every wait is bounded by a client-side deadline.
#include "http/gzip.h"
#include "http/server.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sluice::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using HttpResponse = bhttp::response<bhttp::string_body>;
using Headers = std::vector<std::pair<std::string, std::string>>;
using Clock = std::chrono::steady_clock;

// A blocking HTTP/1.1 client over one connection. Every operation gives up after `timeout`.
class TestClient {
 public:
  explicit TestClient(uint16_t port, std::chrono::milliseconds timeout = 5000ms)
      : stream_(io_context_), timeout_(timeout) {
    tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
    connect_error_ = Run([&](auto done) {
      stream_.async_connect(endpoint, [done](beast::error_code ec) mutable { done(ec, 0); });
    });
  }

  bool connected() const { return !connect_error_; }

  beast::error_code WriteRaw(std::string_view bytes) {
    return Run([&](auto done) {
      net::async_write(stream_, net::buffer(bytes.data(), bytes.size()), done);
    });
  }

  beast::error_code Send(bhttp::request<bhttp::string_body>& request) {
    return Run([&](auto done) { bhttp::async_write(stream_, request, done); });
  }

  // Reads one response; `head` skips the body (the response to a HEAD request).
  beast::error_code Receive(HttpResponse* response, bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64u << 20);
    parser.skip(head);
    beast::error_code ec =
        Run([&](auto done) { bhttp::async_read(stream_, buffer_, parser, done); });
    if (!ec) *response = parser.release();
    return ec;
  }

  // One request/response exchange on this connection; status 0 means a transport error.
  HttpResponse Call(bhttp::verb method, std::string_view target, std::string body = "",
                    const Headers& headers = {}) {
    bhttp::request<bhttp::string_body> request(method, std::string(target), 11);
    request.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = std::move(body);
    request.prepare_payload();
    HttpResponse response;
    if (Send(request)) return response;
    if (Receive(&response, method == bhttp::verb::head)) return HttpResponse();
    return response;
  }

  // Reads until the server closes the connection; returns the bytes seen, or sets *timed_out when
  // the connection is still open after `within`.
  std::string ReadUntilClosed(std::chrono::milliseconds within, bool* timed_out) {
    std::string seen(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    const auto deadline = Clock::now() + within;
    *timed_out = false;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms) {
        *timed_out = true;
        return seen;
      }
      char chunk[4096];
      size_t got = 0;
      stream_.expires_after(left);
      beast::error_code result = net::error::would_block;
      stream_.async_read_some(net::buffer(chunk), [&](beast::error_code ec, size_t n) {
        result = ec;
        got = n;
      });
      io_context_.restart();
      io_context_.run();
      seen.append(chunk, got);
      if (result == beast::error::timeout) {
        *timed_out = true;
        return seen;
      }
      if (result) return seen;
    }
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

 private:
  template <typename Initiate>
  beast::error_code Run(Initiate initiate) {
    beast::error_code result = net::error::would_block;
    stream_.expires_after(timeout_);
    initiate([&result](beast::error_code ec, size_t) { result = ec; });
    io_context_.restart();
    io_context_.run();
    return result;
  }

  net::io_context io_context_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
  beast::error_code connect_error_;
};

std::string Gunzip(std::string_view compressed) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out;
  char chunk[16384];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(chunk, sizeof(chunk) - zs.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

std::string Gzip(std::string_view input) {
  std::string out;
  EXPECT_TRUE(GzipCompress(input, 6, &out));
  return out;
}

std::string BigBody() {
  std::string body = "[";
  for (int i = 0; i < 2000; ++i) body += (i ? "," : "") + std::to_string(i * 7);
  return body + "]";
}

Response Text(std::string body) {
  Response r;
  r.body = std::move(body);
  return r;
}

// The routes every test server has.
Router TestRouter() {
  Router router;
  router.SetHealth([](const Request&) { return Text(R"({"status":"ok"})"); });
  router.Add({"query",
              {Method::kPost},
              [](const Request& r) { return Text(std::string(r.body)); },
              false});
  router.Add({"big", {Method::kGet}, [](const Request&) { return Text(BigBody()); }, false});
  router.Add({"echo-header",
              {Method::kGet},
              [](const Request& r) {
                return Text(std::string(r.header("x-test")) + "|" + std::string(r.query) + "|" +
                            std::string(r.remote_address) + "|" + std::string(r.path));
              },
              false});
  router.Add({"slow",
              {Method::kGet, Method::kPost},
              [](const Request& r) {
                std::this_thread::sleep_for(r.query == "ms=500" ? 500ms : 2000ms);
                return Text(R"({"slept":true})");
              },
              true});
  router.Add({"throw",
              {Method::kGet},
              [](const Request&) -> Response { throw std::runtime_error("boom"); },
              false});
  router.Add({"custom",
              {Method::kGet},
              [](const Request&) {
                Response r = Text("plain text");
                r.status = 202;
                r.content_type = "text/plain";
                r.headers = {{"X-Custom", "yes"}, {"Content-Length", "999"}};
                return r;
              },
              false});
  return router;
}

ServerOptions TestOptions() {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.io_threads = 2;
  options.worker_threads = 2;
  return options;
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = TestOptions(), Router router = TestRouter()) {
    server_ = std::make_unique<Server>(std::move(options), std::move(router));
    Status status = server_->Start();
    ASSERT_TRUE(status.ok()) << status.ToString();
    ASSERT_NE(server_->port(), 0);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  uint16_t port() const { return server_->port(); }

  std::unique_ptr<Server> server_;
};

std::string Field(const HttpResponse& r, std::string_view name) {
  auto it = r.find(beast::string_view(name.data(), name.size()));
  return it == r.end() ? std::string() : std::string(it->value());
}

bool IsJsonError(const HttpResponse& r, std::string_view error) {
  return Field(r, "Content-Type") == "application/json" &&
         r.body().starts_with(R"({"message":")") &&
         r.body().find(std::string(R"("error":")") + std::string(error) + "\"") !=
             std::string::npos;
}

TEST_F(ServerTest, HealthAndBasicHeaders) {
  StartServer();
  TestClient client(port());
  ASSERT_TRUE(client.connected());
  HttpResponse r = client.Call(bhttp::verb::get, "/");
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), R"({"status":"ok"})");
  EXPECT_EQ(Field(r, "Content-Type"), "application/json");
  EXPECT_EQ(Field(r, "Server"), "sluice");
  EXPECT_EQ(Field(r, "Content-Length"), "15");
  EXPECT_FALSE(Field(r, "Date").empty());
  EXPECT_TRUE(r.keep_alive());
}

TEST_F(ServerTest, KeepAliveReusesOneConnection) {
  StartServer();
  TestClient client(port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 100; ++i) {
    std::string body = R"({"i":)" + std::to_string(i) + "}";
    HttpResponse r =
        client.Call(bhttp::verb::post, "/query", body, {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.result_int(), 200u) << "request " << i;
    EXPECT_EQ(r.body(), body);
    EXPECT_TRUE(r.keep_alive());
  }
}

TEST_F(ServerTest, RoutingOverHttp) {
  StartServer();
  TestClient client(port());
  ASSERT_TRUE(client.connected());
  for (std::string_view target :
       {"/query", "//query", "/query/", "/api/grafana/json/query", "/query?x=1"}) {
    HttpResponse r = client.Call(bhttp::verb::post, target, "{}");
    EXPECT_EQ(r.result_int(), 200u) << target;
    EXPECT_EQ(r.body(), "{}") << target;
  }
  HttpResponse r = client.Call(bhttp::verb::get, "/api/grafana/json");
  EXPECT_EQ(r.result_int(), 200u);
  r = client.Call(bhttp::verb::post, "/", "{}");
  EXPECT_EQ(r.result_int(), 200u);

  r = client.Call(bhttp::verb::post, "/nope", "{}");
  EXPECT_EQ(r.result_int(), 404u);
  EXPECT_TRUE(IsJsonError(r, "not_found")) << r.body();

  r = client.Call(bhttp::verb::get, "/query");
  EXPECT_EQ(r.result_int(), 405u);
  EXPECT_EQ(Field(r, "Allow"), "POST");
  EXPECT_TRUE(IsJsonError(r, "method_not_allowed")) << r.body();

  r = client.Call(bhttp::verb::get, "/x//echo-header/?a=b", "", {{"X-TEST", "v1"}});
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), "v1|a=b|127.0.0.1|/x/echo-header");
}

TEST_F(ServerTest, HeadHasGetHeadersAndNoBody) {
  StartServer();
  TestClient client(port());
  ASSERT_TRUE(client.connected());
  HttpResponse get = client.Call(bhttp::verb::get, "/big");
  HttpResponse head = client.Call(bhttp::verb::head, "/big");
  EXPECT_EQ(head.result_int(), 200u);
  EXPECT_EQ(Field(head, "Content-Length"), Field(get, "Content-Length"));
  EXPECT_EQ(Field(head, "Content-Type"), "application/json");
  EXPECT_TRUE(head.body().empty());
  // The connection stays usable: the HEAD response carried no body bytes.
  HttpResponse after = client.Call(bhttp::verb::get, "/");
  EXPECT_EQ(after.result_int(), 200u);
  EXPECT_EQ(client.Call(bhttp::verb::head, "/").result_int(), 200u);
}

TEST_F(ServerTest, CustomResponseHeadersAndContentType) {
  StartServer();
  TestClient client(port());
  HttpResponse r = client.Call(bhttp::verb::get, "/custom");
  EXPECT_EQ(r.result_int(), 202u);
  EXPECT_EQ(Field(r, "Content-Type"), "text/plain");
  EXPECT_EQ(Field(r, "X-Custom"), "yes");
  EXPECT_EQ(Field(r, "Content-Length"), "10");
  EXPECT_EQ(r.body(), "plain text");
}

TEST_F(ServerTest, ChunkedRequestBody) {
  StartServer();
  TestClient client(port());
  ASSERT_TRUE(client.connected());
  ASSERT_FALSE(
      client.WriteRaw("POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "5\r\n{\"a\":\r\n8\r\n\"hello\"}\r\n0\r\n\r\n"));
  HttpResponse r;
  ASSERT_FALSE(client.Receive(&r));
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), R"({"a":"hello"})");
}

TEST_F(ServerTest, PipelinedRequestsAnsweredInOrder) {
  StartServer();
  TestClient client(port());
  ASSERT_TRUE(client.connected());
  std::string batch;
  for (int i = 0; i < 5; ++i) {
    std::string body = std::to_string(i);
    batch += "POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n\r\n" + body;
  }
  batch += "GET /nope/big HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_FALSE(client.WriteRaw(batch));
  for (int i = 0; i < 5; ++i) {
    HttpResponse r;
    ASSERT_FALSE(client.Receive(&r)) << i;
    EXPECT_EQ(r.body(), std::to_string(i));
  }
  HttpResponse last;
  ASSERT_FALSE(client.Receive(&last));
  EXPECT_EQ(last.body(), BigBody());
}

TEST_F(ServerTest, BodyOverLimitIs413) {
  ServerOptions options = TestOptions();
  options.body_limit_bytes = 4096;
  options.cors.allowed_origins = {"*"};
  StartServer(options);

  {  // Declared length over the limit: rejected once the header is read.
    TestClient client(port());
    ASSERT_TRUE(client.connected());
    ASSERT_FALSE(
        client.WriteRaw("POST /query HTTP/1.1\r\nHost: x\r\nOrigin: http://g:3000\r\n"
                        "Content-Length: 10000\r\n\r\n" +
                        std::string(1000, 'x')));
    HttpResponse r;
    ASSERT_FALSE(client.Receive(&r));
    EXPECT_EQ(r.result_int(), 413u);
    EXPECT_EQ(
        r.body(),
        R"({"message":"request body exceeds the 4096-byte limit","error":"payload_too_large"})");
    EXPECT_FALSE(r.keep_alive());
    EXPECT_EQ(Field(r, "Access-Control-Allow-Origin"), "http://g:3000");
    bool timed_out = false;
    client.ReadUntilClosed(3000ms, &timed_out);
    EXPECT_FALSE(timed_out);
  }
  {  // Chunked body growing past the limit.
    TestClient client(port());
    std::string chunk(3000, 'y');
    ASSERT_FALSE(
        client.WriteRaw("POST /query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "bb8\r\n" +
                        chunk + "\r\nbb8\r\n" + chunk + "\r\n"));
    HttpResponse r;
    ASSERT_FALSE(client.Receive(&r));
    EXPECT_EQ(r.result_int(), 413u);
    EXPECT_TRUE(IsJsonError(r, "payload_too_large"));
  }
  {  // Exactly at the limit is fine.
    TestClient client(port());
    HttpResponse r = client.Call(bhttp::verb::post, "/query", std::string(4096, 'z'));
    EXPECT_EQ(r.result_int(), 200u);
    EXPECT_EQ(r.body().size(), 4096u);
  }
}

TEST_F(ServerTest, OversizedHeaderIsRejected) {
  ServerOptions options = TestOptions();
  options.header_limit_bytes = 1024;
  StartServer(options);
  TestClient client(port());
  ASSERT_FALSE(client.WriteRaw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') +
                               "\r\n\r\n"));
  HttpResponse r;
  ASSERT_FALSE(client.Receive(&r));
  EXPECT_EQ(r.result_int(), 431u);
  EXPECT_TRUE(IsJsonError(r, "payload_too_large")) << r.body();
}

TEST_F(ServerTest, MalformedRequestIs400ThenClose) {
  StartServer();
  for (std::string_view raw :
       {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "\x01\x02\x03 / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost x\r\n\r\n",
        "POST /query HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    TestClient client(port());
    ASSERT_TRUE(client.connected());
    ASSERT_FALSE(client.WriteRaw(raw));
    HttpResponse r;
    ASSERT_FALSE(client.Receive(&r)) << raw;
    EXPECT_EQ(r.result_int(), 400u) << raw;
    EXPECT_TRUE(IsJsonError(r, "invalid_argument")) << r.body();
    EXPECT_NE(r.body().find("malformed HTTP request"), std::string::npos) << r.body();
    EXPECT_FALSE(r.keep_alive());
    bool timed_out = false;
    client.ReadUntilClosed(3000ms, &timed_out);
    EXPECT_FALSE(timed_out) << raw;
  }
}

TEST_F(ServerTest, Http10) {
  StartServer();
  {
    TestClient client(port());
    ASSERT_FALSE(client.WriteRaw("GET / HTTP/1.0\r\n\r\n"));
    bool timed_out = false;
    std::string raw = client.ReadUntilClosed(3000ms, &timed_out);
    EXPECT_FALSE(timed_out);
    EXPECT_TRUE(raw.starts_with("HTTP/1.1 200 OK\r\n")) << raw;
    EXPECT_NE(raw.find("Connection: close\r\n"), std::string::npos) << raw;
    EXPECT_TRUE(raw.ends_with(R"({"status":"ok"})")) << raw;
  }
  {
    TestClient client(port());
    for (int i = 0; i < 3; ++i) {
      ASSERT_FALSE(client.WriteRaw("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      HttpResponse r;
      ASSERT_FALSE(client.Receive(&r));
      EXPECT_EQ(r.result_int(), 200u);
      EXPECT_EQ(Field(r, "Connection"), "keep-alive");
    }
  }
}

TEST_F(ServerTest, ExpectContinue) {
  StartServer();
  TestClient client(port());
  ASSERT_FALSE(client.WriteRaw(
      "POST /query HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"));
  HttpResponse interim;
  ASSERT_FALSE(client.Receive(&interim));
  EXPECT_EQ(interim.result_int(), 100u);
  ASSERT_FALSE(client.WriteRaw("{}"));
  HttpResponse r;
  ASSERT_FALSE(client.Receive(&r));
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), "{}");
}

ServerOptions AuthOptionsWith(std::vector<std::string> origins = {"*"}) {
  ServerOptions options = TestOptions();
  options.auth.basic_users = {{"admin", "s3cr3t"}};
  options.auth.tokens = {"tok-123"};
  options.cors.allowed_origins = std::move(origins);
  options.cors.max_age_s = 600;
  return options;
}

TEST_F(ServerTest, PreflightNeedsNoAuth) {
  StartServer(AuthOptionsWith());
  TestClient client(port());
  for (std::string_view target : {"/query", "/", "/search", "/metrics", "/tag-keys", "/nope/x"}) {
    HttpResponse r = client.Call(
        bhttp::verb::options, target, "",
        {{"Origin", "http://grafana:3000"},
         {"Access-Control-Request-Method", "POST"},
         {"Access-Control-Request-Headers", "content-type,authorization,x-grafana-device-id"}});
    EXPECT_EQ(r.result_int(), 204u) << target;
    EXPECT_EQ(Field(r, "Access-Control-Allow-Origin"), "http://grafana:3000");
    EXPECT_EQ(Field(r, "Access-Control-Allow-Credentials"), "true");
    EXPECT_EQ(Field(r, "Access-Control-Allow-Methods"), "GET, POST, PUT, DELETE, OPTIONS, HEAD");
    EXPECT_EQ(Field(r, "Access-Control-Allow-Headers"),
              "content-type,authorization,x-grafana-device-id");
    EXPECT_EQ(Field(r, "Access-Control-Max-Age"), "600");
    EXPECT_EQ(Field(r, "Vary"), "Origin");
    EXPECT_TRUE(r.body().empty());
  }
  HttpResponse r =
      client.Call(bhttp::verb::options, "/query", "", {{"Origin", "http://grafana:3000"}});
  EXPECT_EQ(Field(r, "Access-Control-Allow-Headers"),
            "accept, content-type, authorization, x-api-key");
}

TEST_F(ServerTest, AuthSchemes) {
  StartServer(AuthOptionsWith());
  TestClient client(port());
  auto post = [&](const Headers& headers) {
    return client.Call(bhttp::verb::post, "/query", "{}", headers);
  };
  EXPECT_EQ(post({{"Authorization", "Basic YWRtaW46czNjcjN0"}}).result_int(), 200u);
  EXPECT_EQ(post({{"Authorization", "Bearer tok-123"}}).result_int(), 200u);
  for (std::string name : {"X-API-Key", "x-api-key", "X-API-KEY", "x-Api-kEy"}) {
    EXPECT_EQ(post({{name, "tok-123"}}).result_int(), 200u) << name;
  }
  // Grafana-added headers change nothing.
  EXPECT_EQ(post({{"Authorization", "Bearer tok-123"},
                  {"X-Grafana-Org-Id", "1"},
                  {"X-Grafana-User", "admin"},
                  {"X-Forwarded-For", "10.0.0.1"},
                  {"User-Agent", "Grafana/11.6.0"},
                  {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}})
                .result_int(),
            200u);

  for (const Headers& bad : std::vector<Headers>{{},
                                                 {{"Authorization", "Basic YWRtaW46d3Jvbmc="}},
                                                 {{"Authorization", "Bearer tok-1234"}},
                                                 {{"X-API-Key", "nope"}}}) {
    HttpResponse r = post(bad);
    EXPECT_EQ(r.result_int(), 401u);
    EXPECT_TRUE(IsJsonError(r, "unauthenticated")) << r.body();
    EXPECT_NE(r.body().find("authentication required: "), std::string::npos);
    EXPECT_EQ(r.find(bhttp::field::www_authenticate), r.end());
    EXPECT_TRUE(r.keep_alive());
  }
  // Health checks need auth too.
  EXPECT_EQ(client.Call(bhttp::verb::get, "/").result_int(), 401u);
  EXPECT_EQ(client.Call(bhttp::verb::get, "/", "", {{"X-Api-Key", "tok-123"}}).result_int(), 200u);
}

TEST_F(ServerTest, CorsHeadersOnEveryResponse) {
  StartServer(AuthOptionsWith());
  const Headers origin = {{"Origin", "http://grafana:3000"}};
  const Headers authed = {{"Origin", "http://grafana:3000"}, {"Authorization", "Bearer tok-123"}};
  TestClient client(port());
  struct Case {
    bhttp::verb method;
    std::string target;
    const Headers* headers;
    unsigned status;
  };
  const std::vector<Case> cases = {
      {bhttp::verb::post, "/query", &authed, 200}, {bhttp::verb::post, "/query", &origin, 401},
      {bhttp::verb::post, "/nope", &authed, 404},  {bhttp::verb::get, "/query", &authed, 405},
      {bhttp::verb::get, "/throw", &authed, 500},
  };
  for (const Case& c : cases) {
    HttpResponse r = client.Call(c.method, c.target, "{}", *c.headers);
    EXPECT_EQ(r.result_int(), c.status) << c.target;
    EXPECT_EQ(Field(r, "Access-Control-Allow-Origin"), "http://grafana:3000") << c.status;
    EXPECT_EQ(Field(r, "Access-Control-Allow-Credentials"), "true") << c.status;
    EXPECT_EQ(Field(r, "Vary"), "Origin") << c.status;
    if (c.status != 200) {
      EXPECT_TRUE(r.body().starts_with(R"({"message":")")) << r.body();
    }
  }
  // A malformed request still gets CORS headers when its Origin could be read.
  TestClient raw(port());
  ASSERT_FALSE(raw.WriteRaw(
      "POST /query HTTP/1.1\r\nOrigin: http://grafana:3000\r\nContent-Length: x\r\n\r\n"));
  HttpResponse r;
  ASSERT_FALSE(raw.Receive(&r));
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_EQ(Field(r, "Access-Control-Allow-Origin"), "http://grafana:3000");
}

TEST_F(ServerTest, CorsExplicitListAndDisabled) {
  StartServer(AuthOptionsWith({"http://grafana:3000"}));
  TestClient client(port());
  HttpResponse allowed =
      client.Call(bhttp::verb::get, "/", "",
                  {{"Origin", "http://grafana:3000"}, {"Authorization", "Bearer tok-123"}});
  EXPECT_EQ(Field(allowed, "Access-Control-Allow-Origin"), "http://grafana:3000");
  HttpResponse other =
      client.Call(bhttp::verb::get, "/", "",
                  {{"Origin", "http://evil:1"}, {"Authorization", "Bearer tok-123"}});
  EXPECT_EQ(other.result_int(), 200u);
  EXPECT_EQ(other.find(bhttp::field::access_control_allow_origin), other.end());
  EXPECT_EQ(other.find(bhttp::field::access_control_allow_credentials), other.end());
  HttpResponse preflight =
      client.Call(bhttp::verb::options, "/query", "", {{"Origin", "http://evil:1"}});
  EXPECT_EQ(preflight.result_int(), 204u);
  EXPECT_EQ(preflight.find(bhttp::field::access_control_allow_origin), preflight.end());
  server_->Stop();

  StartServer(AuthOptionsWith({}));
  TestClient plain(port());
  HttpResponse r =
      plain.Call(bhttp::verb::post, "/query", "{}",
                 {{"Origin", "http://grafana:3000"}, {"Authorization", "Bearer tok-123"}});
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.find(bhttp::field::access_control_allow_origin), r.end());
  EXPECT_EQ(r.find(bhttp::field::vary), r.end());
}

TEST_F(ServerTest, GzipResponse) {
  StartServer();
  TestClient client(port());
  HttpResponse r =
      client.Call(bhttp::verb::get, "/big", "", {{"Accept-Encoding", "gzip, deflate, br"}});
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(Field(r, "Content-Encoding"), "gzip");
  EXPECT_EQ(Field(r, "Vary"), "Origin, Accept-Encoding");
  EXPECT_EQ(Field(r, "Content-Length"), std::to_string(r.body().size()));
  EXPECT_LT(r.body().size(), BigBody().size());
  EXPECT_EQ(Gunzip(r.body()), BigBody());

  HttpResponse identity = client.Call(bhttp::verb::get, "/big");
  EXPECT_EQ(identity.find(bhttp::field::content_encoding), identity.end());
  EXPECT_EQ(identity.body(), BigBody());
  HttpResponse refused =
      client.Call(bhttp::verb::get, "/big", "", {{"Accept-Encoding", "gzip;q=0"}});
  EXPECT_EQ(refused.body(), BigBody());
  // Small bodies are not worth compressing.
  HttpResponse small = client.Call(bhttp::verb::get, "/", "", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(small.find(bhttp::field::content_encoding), small.end());
  EXPECT_EQ(small.body(), R"({"status":"ok"})");
}

TEST_F(ServerTest, GzipRequestBody) {
  ServerOptions options = TestOptions();
  options.body_limit_bytes = 100000;
  StartServer(options);
  TestClient client(port());
  std::string json = R"({"targets":[)" + std::string(5000, ' ') + "]}";
  HttpResponse r =
      client.Call(bhttp::verb::post, "/query", Gzip(json), {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), json);

  // Small on the wire, over the limit once inflated.
  HttpResponse bomb = client.Call(bhttp::verb::post, "/query", Gzip(std::string(200000, 'a')),
                                  {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(bomb.result_int(), 413u);
  EXPECT_TRUE(IsJsonError(bomb, "payload_too_large")) << bomb.body();
  EXPECT_NE(bomb.body().find("100000-byte limit"), std::string::npos);

  HttpResponse corrupt =
      client.Call(bhttp::verb::post, "/query", "not gzip", {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(corrupt.result_int(), 400u);
  EXPECT_TRUE(IsJsonError(corrupt, "invalid_argument")) << corrupt.body();

  HttpResponse unknown =
      client.Call(bhttp::verb::post, "/query", "{}", {{"Content-Encoding", "br"}});
  EXPECT_EQ(unknown.result_int(), 415u);
}

TEST_F(ServerTest, ThrowingHandlerIs500AndServerKeepsServing) {
  StartServer();
  TestClient client(port());
  HttpResponse r = client.Call(bhttp::verb::get, "/throw");
  EXPECT_EQ(r.result_int(), 500u);
  EXPECT_TRUE(IsJsonError(r, "internal")) << r.body();
  EXPECT_EQ(client.Call(bhttp::verb::get, "/").result_int(), 200u);
}

TEST_F(ServerTest, BlockingRouteDoesNotStallHealth) {
  StartServer();
  std::atomic<unsigned> slow_status{0};
  std::thread slow([&] {
    TestClient client(port());
    slow_status = client.Call(bhttp::verb::post, "/slow", "{}").result_int();
  });
  std::this_thread::sleep_for(200ms);  // let the slow request reach the worker pool
  TestClient client(port());
  const auto start = Clock::now();
  HttpResponse r = client.Call(bhttp::verb::get, "/");
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_LT(elapsed, 1s);
  slow.join();
  EXPECT_EQ(slow_status.load(), 200u);
}

TEST_F(ServerTest, ConcurrentClients) {
  StartServer();
  constexpr int kClients = 64;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      TestClient client(port());
      for (int j = 0; j < 5; ++j) {
        std::string body = std::to_string(i * 100 + j);
        HttpResponse r = client.Call(bhttp::verb::post, "/query", body);
        if (r.result_int() == 200 && r.body() == body) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients * 5);
}

TEST_F(ServerTest, ClientDisconnectMidResponse) {
  StartServer();
  for (int i = 0; i < 20; ++i) {
    TestClient client(port());
    ASSERT_FALSE(client.WriteRaw("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
    client.Close();
  }
  {  // A blocking handler whose client is gone by the time it answers.
    TestClient client(port());
    ASSERT_FALSE(client.WriteRaw("GET /slow?ms=500 HTTP/1.1\r\nHost: x\r\n\r\n"));
    client.Close();
  }
  std::this_thread::sleep_for(700ms);
  TestClient client(port());
  EXPECT_EQ(client.Call(bhttp::verb::get, "/big").body(), BigBody());
}

TEST_F(ServerTest, HeaderTimeoutClosesSlowClient) {
  ServerOptions options = TestOptions();
  options.header_timeout_ms = 300;
  StartServer(options);
  TestClient client(port());
  ASSERT_TRUE(client.connected());
  const auto start = Clock::now();
  ASSERT_FALSE(client.WriteRaw("GET / HTTP/1.1\r\nHost: x\r\n"));  // never finished
  bool timed_out = false;
  client.ReadUntilClosed(3000ms, &timed_out);
  const auto elapsed = Clock::now() - start;
  EXPECT_FALSE(timed_out);
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 2000ms);

  // A connection that sends nothing at all is dropped too.
  TestClient silent(port());
  silent.ReadUntilClosed(3000ms, &timed_out);
  EXPECT_FALSE(timed_out);
}

TEST_F(ServerTest, IdleTimeoutClosesKeepAliveConnection) {
  ServerOptions options = TestOptions();
  options.idle_timeout_ms = 300;
  StartServer(options);
  TestClient client(port());
  EXPECT_EQ(client.Call(bhttp::verb::get, "/").result_int(), 200u);
  bool timed_out = false;
  const auto start = Clock::now();
  client.ReadUntilClosed(3000ms, &timed_out);
  EXPECT_FALSE(timed_out);
  EXPECT_LT(Clock::now() - start, 2000ms);
}

TEST_F(ServerTest, StopDrainsInFlightRequest) {
  StartServer();
  TestClient idle(port());
  EXPECT_EQ(idle.Call(bhttp::verb::get, "/").result_int(), 200u);

  std::atomic<unsigned> status{0};
  std::string connection;
  std::thread slow([&] {
    TestClient client(port());
    HttpResponse r = client.Call(bhttp::verb::get, "/slow?ms=500");
    status = r.result_int();
    connection = Field(r, "Connection");
  });
  std::this_thread::sleep_for(150ms);
  const auto start = Clock::now();
  server_->Stop();
  const auto elapsed = Clock::now() - start;
  slow.join();
  EXPECT_EQ(status.load(), 200u);
  EXPECT_EQ(connection, "close");
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 5s);

  bool timed_out = false;
  idle.ReadUntilClosed(1000ms, &timed_out);
  EXPECT_FALSE(timed_out);
  TestClient late(port(), 1000ms);
  EXPECT_FALSE(late.connected());
  server_->Stop();  // idempotent
}

TEST_F(ServerTest, StartErrors) {
  ServerOptions bad = TestOptions();
  bad.listen = "not-an-address";
  Server unparsable(bad, TestRouter());
  EXPECT_EQ(unparsable.Start().code(), StatusCode::kInvalidArgument);

  StartServer();
  ServerOptions taken = TestOptions();
  taken.listen = "127.0.0.1:" + std::to_string(port());
  Server clash(taken, TestRouter());
  EXPECT_EQ(clash.Start().code(), StatusCode::kUnavailable);
  EXPECT_EQ(server_->Start().code(), StatusCode::kInvalidArgument);  // already started
}

TEST_F(ServerTest, AccessLogLine) {
  auto previous = spdlog::default_logger();
  std::ostringstream lines;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(lines);
  auto logger = std::make_shared<spdlog::logger>("access_test", sink);
  logger->set_pattern("%v");
  spdlog::set_default_logger(logger);
  ServerOptions options = TestOptions();
  options.access_log = true;
  StartServer(options);
  {
    TestClient client(port());
    EXPECT_EQ(client.Call(bhttp::verb::post, "//query/", "{}").result_int(), 200u);
  }
  server_->Stop();
  spdlog::set_default_logger(previous);
  const std::string text = lines.str();
  EXPECT_NE(text.find("method=POST path=/query status=200 bytes=2 dur_ms="), std::string::npos)
      << text;
  EXPECT_NE(text.find(" remote=127.0.0.1"), std::string::npos) << text;
}

// A blocking handler sees Request::cancelled become true when its client goes away (so a database
// query can be cancelled), and stay false while the client waits; I/O-thread handlers get null.
TEST_F(ServerTest, BlockingHandlerSeesClientHangup) {
  struct Seen {
    std::mutex mu;
    std::condition_variable cv;
    int finished = 0;
    bool last_cancelled = false;
  };
  auto seen = std::make_shared<Seen>();
  Router router = TestRouter();
  router.Add({"wait",
              {Method::kGet},
              [seen](const Request& r) {
                // Waits for the hangup up to 5 s, or 300 ms when asked to.
                const auto limit = Clock::now() + (r.query == "short" ? 300ms : 5000ms);
                bool cancelled = false;
                while (Clock::now() < limit && !cancelled) {
                  cancelled = r.cancelled != nullptr && r.cancelled->load();
                  std::this_thread::sleep_for(5ms);
                }
                std::lock_guard<std::mutex> lock(seen->mu);
                ++seen->finished;
                seen->last_cancelled = cancelled;
                seen->cv.notify_all();
                return Text(R"({"ok":true})");
              },
              true});
  router.Add({"inline",
              {Method::kGet},
              [](const Request& r) { return Text(r.cancelled == nullptr ? "null" : "set"); },
              false});
  StartServer(TestOptions(), std::move(router));
  auto wait_finished = [&](int n) {
    std::unique_lock<std::mutex> lock(seen->mu);
    return seen->cv.wait_for(lock, 10s, [&] { return seen->finished >= n; });
  };

  TestClient client(port());
  EXPECT_EQ(client.Call(bhttp::verb::get, "/wait?short").result_int(), 200u);
  ASSERT_TRUE(wait_finished(1));
  EXPECT_FALSE(seen->last_cancelled) << "the client was still waiting";
  EXPECT_EQ(client.Call(bhttp::verb::get, "/inline").body(), "null");

  {
    TestClient leaving(port());
    ASSERT_FALSE(leaving.WriteRaw("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::this_thread::sleep_for(100ms);  // let the request reach the worker pool
    leaving.Close();
  }
  ASSERT_TRUE(wait_finished(2));
  EXPECT_TRUE(seen->last_cancelled) << "the handler never saw the client leave";
  EXPECT_EQ(client.Call(bhttp::verb::get, "/wait?short").result_int(), 200u);
  ASSERT_TRUE(wait_finished(3));
  EXPECT_FALSE(seen->last_cancelled) << "the flag is reset for the next request";
}

}  // namespace
}  // namespace sluice::http
