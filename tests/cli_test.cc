// The `sluice` command line and process lifecycle: help, usage errors (exit 2), config errors
// (exit 2), the ready line, IPv6 loopback, and graceful shutdown on SIGTERM/SIGINT (exit 0 after
// the request in flight is answered).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "testing/http_client.h"
#include "testing/json.h"
#include "testing/protocol_checks.h"
#include "testing/server_process.h"

namespace sluice::testing {
namespace {

constexpr std::string_view kQuery =
    R"({"range":{"from":"2026-11-23T13:30:00.000Z","to":"2026-11-23T19:30:00.000Z"},)"
    R"("intervalMs":30000,"maxDataPoints":500,"targets":[{"target":"upper_25","refId":"A"}]})";

ProcessResult RunWithConfig(const std::string& toml) {
  TempDir dir;
  std::string path = dir.WriteFile("bad.toml", toml);
  // A config that is wrongly accepted leaves the server running: killed after 8 s, exit code -1.
  return RunSluice(
      {"serve", "--listen", "127.0.0.1:0", "--data", dir.path(), "--demo", "--config", path},
      8'000);
}

TEST(CliTest, HelpExitsZero) {
  ProcessResult r = RunSluice({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_NE((r.stdout_text + r.stderr_text).find("serve"), std::string::npos)
      << "usage should list the serve command: " << r.stdout_text;
}

TEST(CliTest, ServeHelpExitsZero) {
  ProcessResult r = RunSluice({"serve", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  std::string out = r.stdout_text + r.stderr_text;
  for (const char* flag : {"--listen", "--data", "--demo", "--config"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << "serve --help does not mention " << flag;
  }
}

TEST(CliTest, UnknownFlagExitsTwoWithMessage) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"serve", "--listen", "127.0.0.1:0", "--bogus-flag"},
        std::vector<std::string>{"--bogus-flag"}, std::vector<std::string>{"frobnicate"}}) {
    ProcessResult r = RunSluice(args, 8'000);
    EXPECT_EQ(r.exit_code, 2) << fmt::format("{}", args.back()) << " stderr: " << r.stderr_text;
    EXPECT_FALSE(r.stderr_text.empty()) << "no message on stderr for " << args.back();
    EXPECT_NE(r.stderr_text.find(args.back().substr(args.back().find_first_not_of('-'))),
              std::string::npos)
        << "the message should name the offending argument: " << r.stderr_text;
  }
}

TEST(CliTest, BadConfigFileExitsTwo) {
  struct Case {
    const char* what;
    std::string toml;
    const char* mention;  // what stderr should name
  };
  std::vector<Case> cases = {
      {"TOML syntax error", "[http\nlisten = ", ""},
      {"wrong type", "[http]\nbody_limit = \"lots\"\n", "body_limit"},
      {"unknown key", "[http]\nlisten_typo = \"127.0.0.1:0\"\n", "listen_typo"},
      {"wrong value type", "[http]\naccess_log = \"maybe\"\n", "access_log"},
  };
  for (const Case& c : cases) {
    ProcessResult r = RunWithConfig(c.toml);
    EXPECT_EQ(r.exit_code, 2) << c.what << "; stderr: " << r.stderr_text;
    EXPECT_FALSE(r.stderr_text.empty()) << c.what;
    EXPECT_NE(r.stderr_text.find(c.mention), std::string::npos)
        << c.what << ": message should name " << c.mention << ": " << r.stderr_text;
  }
  TempDir dir;
  ProcessResult missing = RunSluice({"serve", "--listen", "127.0.0.1:0", "--data", dir.path(),
                                     "--config", dir.path() + "/does-not-exist.toml"},
                                    8'000);
  EXPECT_EQ(missing.exit_code, 2) << "missing config file; stderr: " << missing.stderr_text;
  EXPECT_FALSE(missing.stderr_text.empty());
}

TEST(CliTest, ReadyLineIsTheFirstStdoutLine) {
  std::string error;
  auto server = ServerProcess::Start(ServerConfig{}, &error);
  ASSERT_NE(server, nullptr) << error;
  EXPECT_TRUE(std::regex_match(
      server->ready_line(), std::regex(R"(sluice listening on http://127\.0\.0\.1:[1-9][0-9]*)")))
      << server->ready_line();
  EXPECT_EQ(server->StdoutText().rfind(server->ready_line() + "\n", 0), 0u)
      << "stdout should start with the ready line: " << server->StdoutText();
  HttpClient client(server->port());
  EXPECT_TRUE(IsJsonResponse(client.Request("GET", "/", "", GrafanaHeaders()), 200));
  EXPECT_EQ(server->Stop(), 0) << server->StderrText();
}

TEST(CliTest, ListensOnIpv6Loopback) {
  std::string error;
  ServerConfig config;
  config.listen = "[::1]:0";
  auto server = ServerProcess::Start(config, &error);
  ASSERT_NE(server, nullptr) << error;
  EXPECT_TRUE(std::regex_match(server->ready_line(),
                               std::regex(R"(sluice listening on http://\[::1\]:[1-9][0-9]*)")))
      << server->ready_line();
  EXPECT_EQ(server->host(), "::1");
  HttpClient client(server->port(), "::1");
  HttpResponse r = client.Request("POST", "/query", kQuery, GrafanaHeaders());
  QueryView view;
  EXPECT_TRUE(ParseQueryResponse(r, &view));
  EXPECT_EQ(view.SeriesFor("A").size(), 1u);
  EXPECT_EQ(server->Stop(), 0) << server->StderrText();
}

TEST(CliTest, ConfigFileIsReadAndFlagsOverrideIt) {
  std::string error;
  ServerConfig config;
  config.config_toml = R"toml(
[http]
listen = "127.0.0.1:9"
body_limit = "8MiB"
access_log = false
base_path = ""
[auth]
tokens = ["tok-123"]
api_key_header = "X-API-Key"
[cors]
allowed_origins = ["*"]
[query]
search_limit = 1000
)toml";
  auto server = ServerProcess::Start(config, &error);
  ASSERT_NE(server, nullptr) << error;
  EXPECT_NE(server->port(), 9) << "--listen must override http.listen from the config";
  HttpClient client(server->port());
  EXPECT_TRUE(IsJsonError(client.Request("POST", "/query", kQuery, GrafanaHeaders()), 401))
      << "the config's [auth] section was not applied";
  Headers with_token = GrafanaHeaders();
  with_token.emplace_back("X-API-Key", "tok-123");
  EXPECT_TRUE(IsJsonArray(client.Request("POST", "/query", kQuery, with_token)));
  EXPECT_EQ(server->Stop(), 0) << server->StderrText();

  ServerConfig integer_limit;
  integer_limit.config_toml = "[http]\nbody_limit = 1048576\n";
  auto second = ServerProcess::Start(integer_limit, &error);
  ASSERT_NE(second, nullptr) << "body_limit as an integer: " << error;
  EXPECT_EQ(second->Stop(), 0);
}

// A request whose body is still arriving when SIGTERM comes is read to the end and answered; then
// the server exits 0.
TEST(CliTest, SigtermDrainsRequestInFlight) {
  std::string error;
  auto server = ServerProcess::Start(ServerConfig{}, &error);
  ASSERT_NE(server, nullptr) << error;
  std::string body(kQuery);
  std::string head = fmt::format(
      "POST /query HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n"
      "Content-Length: {}\r\n\r\n",
      server->port(), body.size());
  RawConnection c;
  ASSERT_TRUE(c.Connect(server->port(), &error)) << error;
  // An idle keep-alive connection must not hold up shutdown.
  HttpClient idle(server->port());
  ASSERT_TRUE(IsJsonResponse(idle.Request("GET", "/", "", GrafanaHeaders()), 200));

  ASSERT_TRUE(c.Send(head + body.substr(0, body.size() / 2), &error)) << error;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server->Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(server->Alive()) << "exited with a request in flight; code " << server->WaitExit(0);
  c.Send(body.substr(body.size() / 2), &error);
  HttpResponse r = c.ReadResponse(false, 15'000);
  QueryView view;
  EXPECT_TRUE(ParseQueryResponse(r, &view)) << "in-flight request was not answered";
  EXPECT_EQ(view.SeriesFor("A").size(), 1u);
  int code = server->WaitExit(15'000);
  EXPECT_EQ(code, 0) << "exit code after SIGTERM (-1: still running after 15 s); stderr: "
                     << server->StderrText();
}

// A request being computed when SIGTERM comes is answered in full.
TEST(CliTest, SigtermAnswersRequestBeingProcessed) {
  std::string error;
  auto server = ServerProcess::Start(ServerConfig{}, &error);
  ASSERT_NE(server, nullptr) << error;
  std::string body =
      R"({"range":{"from":"2026-11-20T00:00:00.000Z","to":"2026-11-23T00:00:00.000Z"},)"
      R"("intervalMs":1000,"maxDataPoints":5000,"targets":[{"target":"app.*.*","refId":"A"}]})";
  std::string request = BuildRequest("POST", "/query", fmt::format("127.0.0.1:{}", server->port()),
                                     GrafanaHeaders(), body);
  RawConnection c;
  ASSERT_TRUE(c.Connect(server->port(), &error)) << error;
  // Make sure the connection is accepted and served before the request that SIGTERM should find
  // in progress (a connection still in the listen backlog may legitimately be reset).
  ASSERT_TRUE(c.Send(BuildRequest("GET", "/", "127.0.0.1", GrafanaHeaders(), ""), &error)) << error;
  ASSERT_EQ(c.ReadResponse().status, 200);
  ASSERT_TRUE(c.Send(request, &error)) << error;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server->Signal(SIGTERM);
  HttpResponse r = c.ReadResponse(false, 30'000);
  QueryView view;
  EXPECT_TRUE(ParseQueryResponse(r, &view, 5000));
  EXPECT_EQ(view.series.size(), 18u);
  EXPECT_EQ(server->WaitExit(15'000), 0) << server->StderrText();
}

// The ready line promises a running server: SIGTERM right after it must already be handled
// gracefully (exit 0), not kill the process with the default action (exit 143).
TEST(CliTest, SigtermRightAfterReadyLineExitsZero) {
  for (int i = 0; i < 10; ++i) {
    std::string error;
    ServerConfig config;
    config.signal_when_ready = SIGTERM;
    auto server = ServerProcess::Start(config, &error);
    ASSERT_NE(server, nullptr) << error;
    EXPECT_EQ(server->WaitExit(15'000), 0)
        << "attempt " << i << "; stderr: " << server->StderrText();
  }
}

TEST(CliTest, SigintExitsZero) {
  std::string error;
  auto server = ServerProcess::Start(ServerConfig{}, &error);
  ASSERT_NE(server, nullptr) << error;
  server->Signal(SIGINT);
  EXPECT_EQ(server->WaitExit(15'000), 0) << server->StderrText();
}

TEST(CliTest, NewConnectionsRefusedAfterShutdown) {
  std::string error;
  auto server = ServerProcess::Start(ServerConfig{}, &error);
  ASSERT_NE(server, nullptr) << error;
  uint16_t port = server->port();
  EXPECT_EQ(server->Stop(), 0) << server->StderrText();
  RawConnection c;
  EXPECT_FALSE(c.Connect(port, &error, "127.0.0.1", 2'000)) << "still accepting after exit";
}

}  // namespace
}  // namespace sluice::testing
