#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "http/auth.h"
#include "http/cors.h"
#include "http/gzip.h"
#include "http/status_map.h"

namespace sluice::http {
namespace {

TEST(AcceptsGzipTest, Table) {
  struct Case {
    std::string header;
    bool gzip;
  };
  const std::vector<Case> cases = {
      {"", false},
      {"gzip", true},
      {"GZIP", true},
      {"x-gzip", true},
      {"gzip, deflate, br", true},
      {"deflate, gzip;q=1.0, *;q=0.5", true},
      {"br;q=1.0, gzip;q=0.8", true},
      {"gzip;q=0", false},
      {"gzip; q=0.000", false},
      {"gzip;Q=0.001", true},
      {"identity", false},
      {"deflate", false},
      {"*", true},
      {"*;q=0", false},
      {"gzip;q=0, *", false},
      {"gzipx", false},
      {" gzip ", true},
  };
  for (const Case& c : cases) EXPECT_EQ(AcceptsGzip(c.header), c.gzip) << c.header;
}

TEST(GzipTest, RoundTrip) {
  std::mt19937 rng(42);
  for (size_t size : {0, 1, 100, 70000, 300000}) {
    std::string input;
    for (size_t i = 0; i < size; ++i) input.push_back(static_cast<char>('a' + rng() % 8));
    std::string compressed;
    ASSERT_TRUE(GzipCompress(input, 1, &compressed));
    ASSERT_GE(compressed.size(), 18u);
    EXPECT_EQ(static_cast<unsigned char>(compressed[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(compressed[1]), 0x8b);
    std::string output;
    ASSERT_TRUE(Inflate(compressed, input.size() + 1, &output).ok());
    EXPECT_EQ(output, input);
  }
}

TEST(GzipTest, InflateEnforcesLimit) {
  std::string input(100000, 'x');
  std::string compressed;
  ASSERT_TRUE(GzipCompress(input, 6, &compressed));
  std::string output;
  EXPECT_TRUE(Inflate(compressed, 100000, &output).ok());
  Status status = Inflate(compressed, 99999, &output);
  EXPECT_EQ(status.code(), StatusCode::kPayloadTooLarge);
  EXPECT_NE(status.message().find("99999-byte limit"), std::string::npos) << status.message();
}

TEST(GzipTest, InflateConcatenatedMembers) {
  std::string a, b;
  ASSERT_TRUE(GzipCompress("hello ", 1, &a));
  ASSERT_TRUE(GzipCompress("world", 1, &b));
  std::string output;
  ASSERT_TRUE(Inflate(a + b, 100, &output).ok());
  EXPECT_EQ(output, "hello world");
}

TEST(GzipTest, InflateRejectsCorruptAndTruncated) {
  std::string compressed;
  ASSERT_TRUE(GzipCompress(std::string(1000, 'q'), 1, &compressed));
  std::string output;
  EXPECT_EQ(Inflate(compressed.substr(0, compressed.size() / 2), 10000, &output).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Inflate("not gzip at all", 10000, &output).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Inflate("", 10000, &output).code(), StatusCode::kInvalidArgument);
}

TEST(ConstantTimeEqualsTest, Basics) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret1"));
  EXPECT_FALSE(ConstantTimeEquals("secret", ""));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0", 2), "a"));
}

TEST(DecodeBase64Test, Table) {
  std::string out;
  EXPECT_TRUE(DecodeBase64("YWRtaW46czNjcjN0", &out));
  EXPECT_EQ(out, "admin:s3cr3t");
  EXPECT_TRUE(DecodeBase64("YQ==", &out));
  EXPECT_EQ(out, "a");
  EXPECT_TRUE(DecodeBase64("YWI=", &out));
  EXPECT_EQ(out, "ab");
  EXPECT_TRUE(DecodeBase64("", &out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(DecodeBase64("Y", &out));
  EXPECT_FALSE(DecodeBase64("YW!h", &out));
}

TEST(AuthenticatorTest, BasicBearerAndApiKey) {
  AuthOptions options;
  options.basic_users = {{"admin", "s3cr3t"}, {"viewer", "pw"}};
  options.tokens = {"tok-1", "tok-2"};
  Authenticator auth(options);
  ASSERT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.Check("Basic YWRtaW46czNjcjN0", "").ok());  // admin:s3cr3t
  EXPECT_TRUE(auth.Check("basic  dmlld2VyOnB3 ", "").ok());    // viewer:pw
  EXPECT_TRUE(auth.Check("Bearer tok-2", "").ok());
  EXPECT_TRUE(auth.Check("bearer tok-1", "").ok());
  EXPECT_TRUE(auth.Check("", "tok-1").ok());
  EXPECT_TRUE(auth.Check("Basic d3Jvbmc6d3Jvbmc=", "tok-2").ok());

  Status missing = auth.Check("", "");
  EXPECT_EQ(missing.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(missing.message().rfind("authentication required: ", 0), 0u) << missing.message();
  EXPECT_NE(missing.message().find("X-API-Key"), std::string::npos);
  for (std::string_view bad : {"Basic d3Jvbmc6d3Jvbmc=", "Basic !!!", "Bearer tok-3", "Bearer",
                               "tok-1", "Digest tok-1", "Basic YWRtaW46czNjcjN0eA=="}) {
    Status status = auth.Check(bad, "");
    EXPECT_EQ(status.code(), StatusCode::kUnauthenticated) << bad;
    EXPECT_EQ(status.message(), "authentication required: invalid credentials");
  }
  EXPECT_FALSE(auth.Check("", "tok").ok());
  // Basic credentials are not API keys.
  EXPECT_FALSE(auth.Check("", "admin:s3cr3t").ok());
}

TEST(AuthenticatorTest, DisabledAcceptsEverything) {
  Authenticator auth(AuthOptions{});
  EXPECT_FALSE(auth.enabled());
  EXPECT_TRUE(auth.Check("", "").ok());
}

TEST(CorsPolicyTest, WildcardListAndDisabled) {
  CorsPolicy any(CorsOptions{});
  EXPECT_TRUE(any.enabled());
  EXPECT_TRUE(any.Allows("http://grafana:3000"));
  EXPECT_FALSE(any.Allows(""));

  CorsOptions listed;
  listed.allowed_origins = {"http://grafana:3000/", "https://g.example.com"};
  CorsPolicy list(listed);
  EXPECT_TRUE(list.Allows("http://grafana:3000"));
  EXPECT_TRUE(list.Allows("HTTPS://G.example.com"));
  EXPECT_FALSE(list.Allows("http://evil:3000"));
  EXPECT_FALSE(list.Allows("http://grafana:30001"));

  CorsOptions none;
  none.allowed_origins.clear();
  CorsPolicy disabled(none);
  EXPECT_FALSE(disabled.enabled());
  EXPECT_FALSE(disabled.Allows("http://grafana:3000"));
}

TEST(StatusMapTest, ErrorResponse) {
  Response r = ErrorResponse(Status(StatusCode::kPayloadTooLarge, "too big"));
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(r.body, R"({"message":"too big","error":"payload_too_large"})");
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401u);
}

}  // namespace
}  // namespace sluice::http
