#include "ingest/write_api.h"

#include "store/store.h"

#include <filesystem>

#include <gtest/gtest.h>

namespace sluice::ingest {
namespace {

class WriteApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-ingest-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    store::StoreOptions options;
    options.background = false;
    store_ = std::move(store::Store::Open(dir_, options)).value();
    api_ = std::make_unique<WriteApi>(store_.get());
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::vector<Series> Fetch(std::string_view target) {
    NameMatcher m = NameMatcher::Compile(target);
    std::vector<TagFilter> none;
    FetchRequest r;
    r.matcher = &m;
    r.filters = &none;
    r.range = {0, INT64_MAX / 2};
    FetchResult out;
    EXPECT_TRUE(store_->Fetch(r, &out).ok());
    return out.series;
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<WriteApi> api_;
};

TEST_F(WriteApiTest, LineProtocolBecomesOneSeriesPerField) {
  std::string out;
  Status s = api_->LineProtocol("db=telegraf&precision=s",
                                "cpu,host=a usage_user=1.5,usage_system=2i 1700000000\n"
                                "cpu,host=a usage_user=2.5,usage_system=3i 1700000010\n",
                                &out);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(out.empty());  // 204
  auto user = Fetch("cpu.usage_user");
  ASSERT_EQ(user.size(), 1u);
  EXPECT_EQ(user[0].tags.Get("host"), "a");
  EXPECT_EQ(user[0].times_ms, (std::vector<int64_t>{1'700'000'000'000, 1'700'000'010'000}));
  EXPECT_EQ(user[0].values, (std::vector<double>{1.5, 2.5}));
  EXPECT_EQ(Fetch("cpu.usage_system")[0].values, (std::vector<double>{2, 3}));
}

TEST_F(WriteApiTest, PartialWriteKeepsGoodLinesAndNamesTheBadOnes) {
  std::string out;
  Status s = api_->LineProtocol("", "m v=1 1000000000\nm v= 2000000000\nm v=3 3000000000\n", &out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("partial write"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("dropped=1"), std::string::npos) << s.message();
  EXPECT_EQ(Fetch("m.v")[0].size(), 2u);
}

TEST_F(WriteApiTest, TypeConflictWithStoredSeries) {
  std::string out;
  ASSERT_TRUE(api_->LineProtocol("", "m v=1i 1000000000\n", &out).ok());
  Status s = api_->LineProtocol("", "m v=1.5 2000000000\nm w=1 2000000000\n", &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("type conflict"), std::string::npos) << s.message();
  EXPECT_EQ(Fetch("m.w")[0].size(), 1u);
}

TEST_F(WriteApiTest, BadPrecisionIsAnError) {
  std::string out;
  Status s = api_->LineProtocol("precision=weeks", "m v=1\n", &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST_F(WriteApiTest, JsonWriteAnnotationsAndDelete) {
  std::string out;
  ASSERT_TRUE(api_->JsonWrite(R"({"series":[{"name":"room.temp","tags":{"room":"lab"},
      "points":[[1000,21.5],["1970-01-01T00:00:02Z",22],[3000,null]]}]})", &out).ok());
  EXPECT_EQ(out, R"({"written":3})");
  auto s = Fetch("room.temp");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].times_ms, (std::vector<int64_t>{1000, 2000, 3000}));
  EXPECT_TRUE(std::isnan(s[0].values[2]));

  out.clear();
  Status bad = api_->JsonWrite(R"({"series":[{"name":"x","points":[[1,"a"]]}]})", &out);
  EXPECT_NE(bad.message().find("series[0].points[0][1]"), std::string::npos) << bad.message();

  out.clear();
  ASSERT_TRUE(api_->AddAnnotations(R"([{"time":1000,"timeEnd":2000,"title":"Deploy","tags":["a"]},
      {"time":"1970-01-01T00:00:05Z","text":"x"}])", &out).ok());
  EXPECT_EQ(out, R"({"added":2})");
  out.clear();
  Status no_time = api_->AddAnnotations(R"({"title":"x"})", &out);
  EXPECT_NE(no_time.message().find("time: missing"), std::string::npos) << no_time.message();

  out.clear();
  ASSERT_TRUE(api_->Delete(R"({"target":"room.*"})", &out).ok());
  EXPECT_EQ(out, R"({"deleted":1})");
  EXPECT_TRUE(Fetch("room.temp").empty());
}

TEST(QueryParamTest, Decodes) {
  EXPECT_EQ(QueryParam("db=x&precision=ms", "precision"), "ms");
  EXPECT_EQ(QueryParam("q=CREATE+DATABASE+%22t%22", "q"), "CREATE DATABASE \"t\"");
  EXPECT_EQ(QueryParam("a=1", "b"), "");
}

}  // namespace
}  // namespace sluice::ingest
