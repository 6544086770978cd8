#include "protocol/request.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace sluice::protocol {
namespace {

constexpr int64_t kNow = 1'795'462'214'804;

Result<QueryRequest> Decode(std::string_view body) {
  auto json = JsonBody::Parse(body, false);
  if (!json.ok()) return json.status();
  return DecodeQuery(json->root(), RequestDefaults{}, kNow);
}

std::string Error(std::string_view body) {
  auto r = Decode(body);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? "" : r.status().message();
}

TEST(RequestTest, OldDialect) {
  auto q = Decode(R"j({"range":{"from":"2015-12-22T03:16:00.000Z","to":"2015-12-22T03:17:00.000Z"},
    "intervalMs":30000,"maxDataPoints":550,"targets":[{"target":"prod\\.1","refId":"A","type":"timeserie"},
    {"target":"(a|b\\.c)","refId":"C","type":"table"},{"target":"x","refId":"H","hide":true}],
    "adhocFilters":[{"key":"City","operator":"=","value":"Berlin","condition":""}]})j");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->range.from_ms, 1450754160000);
  EXPECT_EQ(q->range.to_ms, 1450754220000);
  EXPECT_EQ(q->interval_ms, 30000);
  EXPECT_EQ(q->max_data_points, 550);
  ASSERT_EQ(q->targets.size(), 2u);  // hidden target dropped
  EXPECT_EQ(q->targets[0].text, "prod\\.1");
  EXPECT_EQ(q->targets[1].format, ResultFormat::kTable);
  ASSERT_EQ(q->filters.size(), 1u);
  EXPECT_EQ(q->filters[0].key(), "City");
}

TEST(RequestTest, NewDialectAndMergedFilters) {
  auto q = Decode(R"j({"app":"dashboard","scopes":[],"liveStreaming":false,"groupByKeys":[],
    "scopedVars":{"undefined":{"text":["a"],"value":["a"]},"__sceneObject":{"text":"__sceneObject"}},
    "targets":[{"refId":"A","target":"cpu","payload":{"consolidateBy":"max","format":"table"},
      "editorMode":"code","datasource":{"type":"simpod-json-datasource","uid":"u"}},
      {"refId":"B","target":"x","payload":["a"]},{"refId":"C","target":"y","payload":42}],
    "filters":[{"key":"City","operator":"=","value":"Berlin"},{"key":"n","operator":"=|","value":"","values":["1","2"]}],
    "adhocFilters":[{"key":"City","operator":"=","value":"Berlin"}]})j");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->range.to_ms, kNow);
  EXPECT_EQ(q->range.from_ms, kNow - 6 * 3'600'000);
  EXPECT_EQ(q->max_data_points, 1000);
  EXPECT_EQ(q->targets[0].format, ResultFormat::kTable);
  EXPECT_EQ(q->targets[0].consolidate, ConsolidationFn::kMax);
  EXPECT_EQ(q->targets[1].payload_json, R"j(["a"])j");
  EXPECT_EQ(q->filters.size(), 2u);  // union without duplicates
  EXPECT_FALSE(q->annotation_request);
}

TEST(RequestTest, AnnotationRequestsAreRecognised) {
  auto q = Decode(R"j({"scopedVars":{"__annotation":{"text":"deploys"}},"targets":[{"refId":"Anno","target":"deploys"}]})j");
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->annotation_request);
  EXPECT_TRUE(q->targets[0].is_annotation);
}

TEST(RequestTest, MinimalAndEmpty) {
  auto q = Decode(R"j({"targets":[{"target":"upper_25"}]})j");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->targets[0].ref_id, "A");
  EXPECT_EQ(q->targets[0].format, ResultFormat::kTimeseries);
  EXPECT_TRUE(Decode(R"j({"targets":[]})j").ok());
  EXPECT_TRUE(Decode(R"j({"targets":[{"refId":"A","target":"x"}],"maxDataPoints":0,"intervalMs":0})j").ok());
}

TEST(RequestTest, ErrorsSayWhatAndWhere) {
  EXPECT_EQ(Error(""), "request body is empty; expected a JSON object");
  EXPECT_NE(Error("{\"targets\":").find("invalid JSON"), std::string::npos);
  EXPECT_EQ(Error("[]"), "request body: expected a JSON object, got array");
  EXPECT_EQ(Error(R"j({"targets":{}})j"), "targets: expected an array, got object");
  EXPECT_EQ(Error(R"j({"targets":[{"target":"a"},{"target":5}]})j"),
            "targets[1].target: expected a string, got number");
  EXPECT_EQ(Error(R"j({"targets":[],"range":{"from":"2016-10-31T06:33:44Z","to":"2016-10-30T06:33:44Z"}})j"),
            "range: from (2016-10-31T06:33:44.000Z) is after to (2016-10-30T06:33:44.000Z)");
  EXPECT_NE(Error(R"j({"targets":[],"range":{"from":"yesterday","to":"2016-10-30T06:33:44Z"}})j")
                .find("range.from"),
            std::string::npos);
  EXPECT_NE(Error(R"j({"targets":[],"filters":[{"key":"City","operator":"<>","value":"x"}]})j")
                .find("filters[0].operator"),
            std::string::npos);
  EXPECT_NE(Error(R"j({"targets":[],"filters":[{"key":"City","operator":"=~","value":"("}]})j")
                .find("filters[0]"),
            std::string::npos);
  EXPECT_NE(Error(R"j({"targets":[{"target":"a","payload":{"consolidateBy":"median"}}]})j")
                .find("targets[0].payload.consolidateBy"),
            std::string::npos);
}

TEST(RequestTest, RangeWithOffsetsAndWithoutMillis) {
  auto q = Decode(R"j({"range":{"from":"2016-10-31T08:33:44+02:00","to":"2016-10-31T06:33:44Z"},"targets":[]})j");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->range.from_ms, q->range.to_ms);
}

TEST(RequestTest, TagRequests) {
  auto json = JsonBody::Parse("", true);
  ASSERT_TRUE(json.ok());
  EXPECT_TRUE(DecodeTagRequest(json->root(), false, {}).ok());
  EXPECT_FALSE(DecodeTagRequest(json->root(), true, {}).ok());  // tag-values needs a key
  auto j2 = JsonBody::Parse(R"j({"key":"City","filters":[{"key":"City","operator":"=","value":"x"},{"key":"env","operator":"=","value":"prod"}]})j", true);
  auto r = DecodeTagRequest(j2->root(), true, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->key, "City");
  ASSERT_EQ(r->filters.size(), 1u);  // the filter on the key itself does not narrow its values
  EXPECT_EQ(r->filters[0].key(), "env");
}

TEST(RequestTest, VariablePayloadForms) {
  auto decode = [](std::string_view body) {
    auto json = JsonBody::Parse(body, true);
    return DecodeVariable(json->root(), {}, kNow);
  };
  EXPECT_EQ(decode(R"j({"payload":{"target":"upper_*"}})j")->text, "upper_*");
  EXPECT_EQ(decode(R"j({"payload":"s"})j")->text, "s");
  EXPECT_EQ(decode(R"j({"payload":{"region":"eu"}})j")->text, "");
  EXPECT_FALSE(decode(R"j({"payload":42})j").ok());
  EXPECT_FALSE(decode(R"j({"payload":["a"]})j").ok());
}

}  // namespace
}  // namespace sluice::protocol
