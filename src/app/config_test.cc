#include "app/config.h"

#include <cstdlib>

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(ConfigTest, ReadsEverySection) {
  setenv("SLUICE_TEST_TOKEN", "tok-from-env", 1);
  Config c;
  Status s = LoadConfigText(R"(
[http]
listen = "127.0.0.1:9000"
body_limit = "1MiB"
base_path = "/api/grafana/json"
access_log = true
[auth]
basic = [{ user = "user", password = "secret" }]
tokens = ["${SLUICE_TEST_TOKEN}"]
[cors]
allowed_origins = ["http://grafana:3000"]
[query]
search_limit = 50
default_range = "1h"
frames = true
[log]
level = "warn"
)", "test.toml", &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.http.listen, "127.0.0.1:9000");
  EXPECT_EQ(c.http.body_limit_bytes, 1u << 20);
  EXPECT_EQ(c.base_path, "/api/grafana/json");
  EXPECT_TRUE(c.http.access_log);
  ASSERT_EQ(c.http.auth.basic_users.size(), 1u);
  EXPECT_EQ(c.http.auth.tokens, std::vector<std::string>{"tok-from-env"});
  EXPECT_EQ(c.http.cors.allowed_origins, std::vector<std::string>{"http://grafana:3000"});
  EXPECT_EQ(c.api.search_limit, 50u);
  EXPECT_EQ(c.api.defaults.range_ms, 3'600'000);
  EXPECT_TRUE(c.api.frames);
  EXPECT_EQ(c.log_level, "warn");
}

TEST(ConfigTest, ErrorsNameTheKey) {
  auto error = [](std::string_view text) {
    Config c;
    Status s = LoadConfigText(text, "t.toml", &c);
    EXPECT_FALSE(s.ok()) << text;
    return s.message();
  };
  EXPECT_NE(error("[http]\nlisten = 5\n").find("http.listen"), std::string::npos);
  EXPECT_NE(error("[http]\nlisen = \"x\"\n").find("unknown key \"lisen\""), std::string::npos);
  EXPECT_NE(error("[nope]\n").find("unknown section"), std::string::npos);
  EXPECT_NE(error("[http\n").find("t.toml"), std::string::npos);
  EXPECT_NE(error("[auth]\ntokens = [\"${SLUICE_SURELY_UNSET_VAR}\"]\n").find("not set"),
            std::string::npos);
  EXPECT_NE(error("[http]\nbody_limit = \"8 parsecs\"\n").find("http.body_limit"), std::string::npos);
}

TEST(ConfigTest, ByteSizes) {
  EXPECT_EQ(*ParseByteSize("8MiB"), 8u << 20);
  EXPECT_EQ(*ParseByteSize("1000"), 1000u);
  EXPECT_EQ(*ParseByteSize("2KB"), 2000u);
  EXPECT_FALSE(ParseByteSize("0").ok());
  EXPECT_FALSE(ParseByteSize("x").ok());
}

}  // namespace
}  // namespace sluice
