// The example program serves its own targets through the library: start it like a user would and
// query it as Grafana does.
#include <gtest/gtest.h>

#include "testing/http_client.h"
#include "testing/json.h"
#include "testing/server_process.h"

namespace sluice {
namespace {

TEST(CustomSourceExampleTest, ServesItsOwnTargets) {
  testing::ServerConfig config;
  config.command = {CUSTOM_SOURCE_EXAMPLE_PATH, "--listen", "127.0.0.1:0"};
  std::string error;
  auto server = testing::ServerProcess::Start(config, &error);
  ASSERT_NE(server, nullptr) << error;
  testing::HttpClient client(server->port());

  auto health = client.Request("GET", "/");
  EXPECT_EQ(health.status, 200) << health.Describe();

  auto search = client.Request("POST", "/search", R"({"target":"room"})");
  ASSERT_EQ(search.status, 200) << search.Describe();
  EXPECT_NE(search.body.find("room.temperature"), std::string::npos) << search.body;
  EXPECT_NE(search.body.find("rooms"), std::string::npos) << search.body;

  auto query = client.Request("POST", "/query", R"({"maxDataPoints":10,"targets":[
      {"refId":"A","target":"room.temperature"},{"refId":"T","target":"rooms"}],
      "filters":[{"key":"room","operator":"=","value":"lab"}]})");
  ASSERT_EQ(query.status, 200) << query.Describe();
  testing::JsonDoc doc = testing::JsonDoc::Parse(query.body);
  int series = 0, tables = 0;
  for (testing::JsonElement e : testing::Elements(doc.root())) {
    if (testing::Field(e, "datapoints")) {
      ++series;
      EXPECT_EQ(testing::StringField(e, "target"), "room.temperature");
      EXPECT_LE(testing::Elements(*testing::Field(e, "datapoints")).size(), 10u);
      EXPECT_GT(testing::Elements(*testing::Field(e, "datapoints")).size(), 0u);
    }
    if (testing::Field(e, "columns")) ++tables;
  }
  EXPECT_EQ(series, 1) << query.body;  // the filter keeps the lab only
  EXPECT_EQ(tables, 1) << query.body;

  auto annotations = client.Request("POST", "/annotations",
                                 R"({"range":{"from":"2026-11-20T00:00:00Z","to":"2026-11-23T00:00:00Z"},)"
                                 R"("annotation":{"name":"a","query":"lab"}})");
  ASSERT_EQ(annotations.status, 200) << annotations.Describe();
  EXPECT_NE(annotations.body.find("Cleaning"), std::string::npos) << annotations.body;

  EXPECT_EQ(server->Stop(), 0);
}

}  // namespace
}  // namespace sluice
