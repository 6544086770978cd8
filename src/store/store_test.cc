#include "store/store.h"

#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "common/time.h"

namespace sluice::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-store-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    options_.background = false;
    options_.chunk_points = 100;
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Reopens from a copy of the files taken now, as a crash would leave them: the destructor's
  // checkpoint never happens for the copy.
  void CrashAndReopen() {
    std::string copy = dir_ + "-copy";
    std::filesystem::remove_all(copy);
    std::filesystem::create_directories(copy);
    for (const char* f : {"/sluice.db", "/sluice.db-wal", "/sluice.db-shm"}) {
      std::error_code ec;
      std::filesystem::copy_file(dir_ + f, copy + f, ec);
    }
    store_.reset();
    std::filesystem::remove_all(dir_);
    std::filesystem::rename(copy, dir_);
    Reopen();
  }
  void Reopen() {
    store_.reset();
    auto s = Store::Open(dir_, options_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
  }

  WriteResult Write(std::string_view name, const Tags& tags,
                    std::vector<std::pair<int64_t, double>> points,
                    ValueType type = ValueType::kFloat) {
    WriteBatch batch;
    int64_t i = batch.AddSeries(SeriesKey(name, tags), type, 1);
    for (auto [t, v] : points) batch.Add(static_cast<uint32_t>(i), t, v);
    WriteResult result;
    Status s = store_->Write(&batch, &result);
    EXPECT_TRUE(s.ok()) << s.message();
    return result;
  }

  std::vector<Series> Fetch(std::string_view target, TimeRange range = {INT64_MIN / 2, INT64_MAX / 2},
                            std::vector<TagFilter> filters = {}) {
    NameMatcher m = NameMatcher::Compile(target);
    FetchRequest r;
    r.matcher = &m;
    r.filters = &filters;
    r.range = range;
    FetchResult out;
    Status s = store_->Fetch(r, &out);
    EXPECT_TRUE(s.ok()) << s.message();
    return out.series;
  }

  std::string dir_;
  StoreOptions options_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, WriteThenReadBeforeAndAfterCheckpoint) {
  std::vector<std::pair<int64_t, double>> points;
  for (int i = 0; i < 250; ++i) points.push_back({1000 + i * 10'000LL, i * 0.5});
  EXPECT_EQ(Write("cpu.usage", {{"host", "a"}}, points).written, 250u);
  for (int round = 0; round < 2; ++round) {
    auto series = Fetch("cpu.usage");
    ASSERT_EQ(series.size(), 1u);
    ASSERT_EQ(series[0].size(), 250u);
    EXPECT_EQ(series[0].tags.Get("host"), "a");
    EXPECT_EQ(series[0].times_ms[7], 71'000);
    EXPECT_EQ(series[0].values[249], 124.5);
    auto clipped = Fetch("cpu.usage", {21'000, 41'000});
    EXPECT_EQ(clipped[0].times_ms, (std::vector<int64_t>{21'000, 31'000, 41'000}));
    ASSERT_TRUE(store_->Checkpoint().ok());
  }
  EXPECT_EQ(store_->Stats().chunks, 3u);  // 100 + 100 + 50
  EXPECT_EQ(store_->Stats().head_points, 0u);
}

TEST_F(StoreTest, OutOfOrderAndDuplicatesLastWriteWins) {
  Write("m", {}, {{30, 3}, {10, 1}, {20, 2}});
  ASSERT_TRUE(store_->Checkpoint().ok());
  Write("m", {}, {{20, 20}, {5, 0.5}, {40, 4}, {10, 10}});  // into and before the chunk
  Write("m", {}, {{40, 44}});
  for (int round = 0; round < 2; ++round) {
    auto s = Fetch("m");
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].times_ms, (std::vector<int64_t>{5, 10, 20, 30, 40}));
    EXPECT_EQ(s[0].values, (std::vector<double>{0.5, 10, 20, 3, 44}));
    ASSERT_TRUE(store_->Checkpoint().ok());
  }
}

TEST_F(StoreTest, AcknowledgedPointsSurviveReopenWithoutCheckpoint) {
  Write("a", {{"k", "v"}}, {{1, 1}, {2, 2}});
  ASSERT_TRUE(store_->Checkpoint().ok());
  Write("a", {{"k", "v"}}, {{3, 3}, {2, 22}});
  CrashAndReopen();
  auto s = Fetch("a");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].times_ms, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(s[0].values, (std::vector<double>{1, 22, 3}));
}

TEST_F(StoreTest, TypeConflictsAreReportedAndTheRestKept) {
  Write("m", {}, {{1, 1}}, ValueType::kInteger);
  WriteBatch batch;
  uint32_t bad = batch.AddSeries(SeriesKey("m", {}), ValueType::kFloat, 7);
  uint32_t good = batch.AddSeries(SeriesKey("n", {}), ValueType::kFloat, 8);
  batch.Add(bad, 2, 2.5);
  batch.Add(good, 2, 2.5);
  WriteResult result;
  ASSERT_TRUE(store_->Write(&batch, &result).ok());
  EXPECT_EQ(result.written, 1u);
  EXPECT_EQ(result.dropped, 1u);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].find("line 7"), std::string::npos) << result.errors[0];
  EXPECT_NE(result.errors[0].find("integer"), std::string::npos) << result.errors[0];
  EXPECT_EQ(Fetch("m")[0].size(), 1u);
}

TEST_F(StoreTest, ADeletedNewestIdIsNeverReused) {
  Write("keep", {}, {{1, 1}});
  Write("gone", {}, {{1, 100}});
  size_t deleted = 0;
  ASSERT_TRUE(store_->DeleteSeries(NameMatcher::Compile("gone"), {}, &deleted).ok());
  CrashAndReopen();  // the write-ahead row with the deleted id's point is still there
  Write("fresh", {}, {{5, 7}});
  CrashAndReopen();
  auto s = Fetch("fresh");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].values, std::vector<double>{7});
}

TEST_F(StoreTest, CatalogTagsFiltersAndDelete) {
  Write("cpu", {{"host", "a"}, {"dc", "x"}}, {{1, 1}});
  Write("cpu", {{"host", "b"}, {"dc", "y"}}, {{1, 2}});
  Write("mem", {{"host", "a"}}, {{1, 3}});
  std::vector<std::string> names, keys, values;
  ASSERT_TRUE(store_->ListNames(&names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"cpu", "mem"}));
  ASSERT_TRUE(store_->TagKeys({*TagFilter::Make("host", FilterOp::kEq, "a")}, &keys).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"dc", "host"}));
  ASSERT_TRUE(store_->TagValues("host", {}, &values).ok());
  EXPECT_EQ(values, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Fetch("cpu", {0, 10}, {*TagFilter::Make("dc", FilterOp::kEq, "y")}).size(), 1u);
  EXPECT_EQ(Fetch("*").size(), 3u);

  size_t deleted = 0;
  ASSERT_TRUE(store_->DeleteSeries(NameMatcher::Compile("cpu"),
                                   {*TagFilter::Make("host", FilterOp::kEq, "a")}, &deleted).ok());
  EXPECT_EQ(deleted, 1u);
  EXPECT_EQ(Fetch("cpu").size(), 1u);
  Reopen();
  EXPECT_EQ(Fetch("cpu").size(), 1u);
  Write("cpu", {{"host", "a"}, {"dc", "x"}}, {{5, 5}});  // the name can be reused
  auto again = Fetch("cpu", {0, 10}, {*TagFilter::Make("host", FilterOp::kEq, "a")});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].times_ms, std::vector<int64_t>{5});
}

TEST_F(StoreTest, RetentionDropsOldPoints) {
  options_.retention_ms = 1000;
  Reopen();
  Write("r", {}, {{100, 1}, {5000, 2}, {9000, 3}});
  ASSERT_TRUE(store_->Checkpoint().ok());
  Write("r", {}, {{200, 4}});
  ASSERT_TRUE(store_->EnforceRetention(/*now_ms=*/9500).ok());
  auto s = Fetch("r");
  ASSERT_EQ(s.size(), 1u);
  // The head loses everything before 8500; a chunk goes only when all of it is older.
  EXPECT_EQ(s[0].times_ms.back(), 9000);
  EXPECT_EQ(std::count(s[0].times_ms.begin(), s[0].times_ms.end(), 200), 0);
  Write("r2", {}, {{100, 1}});
  ASSERT_TRUE(store_->Checkpoint().ok());
  ASSERT_TRUE(store_->EnforceRetention(9500).ok());
  EXPECT_EQ(Fetch("r2")[0].size(), 0u);
}

TEST_F(StoreTest, Annotations) {
  ASSERT_TRUE(store_->AddAnnotation({100, 200, "Deploy", "api v2", {"deploys", "prod"}}).ok());
  ASSERT_TRUE(store_->AddAnnotation({1000, 1000, "Other", "x", {"misc"}}).ok());
  std::vector<Annotation> events;
  ASSERT_TRUE(store_->Annotations({{150, 500}, ""}, &events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].tags, (std::vector<std::string>{"deploys", "prod"}));
  events.clear();
  ASSERT_TRUE(store_->Annotations({{0, 5000}, "misc"}, &events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].title, "Other");
}

TEST_F(StoreTest, ConcurrentWritersAndReadersSeeEveryAcknowledgedPoint) {
  constexpr int kWriters = 4, kBatches = 50, kPerBatch = 200;
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done) {
      auto s = Fetch("c.*");
      for (const auto& series : s) {
        for (size_t i = 1; i < series.size(); ++i) {
          ASSERT_LT(series.times_ms[i - 1], series.times_ms[i]);
        }
      }
      ++reads;
    }
  });
  std::thread checkpointer([&] {
    while (!done) {
      ASSERT_TRUE(store_->Checkpoint().ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        WriteBatch batch;
        int64_t i = batch.AddSeries(SeriesKey("c." + std::to_string(w), {}), ValueType::kFloat, 1);
        for (int p = 0; p < kPerBatch; ++p) {
          batch.Add(static_cast<uint32_t>(i), (b * kPerBatch + p) * 1000LL, p);
        }
        WriteResult result;
        ASSERT_TRUE(store_->Write(&batch, &result).ok());
        // Read-your-writes: everything acknowledged is visible at once.
        auto s = Fetch("c." + std::to_string(w));
        ASSERT_EQ(s.size(), 1u);
        ASSERT_EQ(s[0].size(), static_cast<size_t>((b + 1) * kPerBatch));
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  checkpointer.join();
  EXPECT_GT(reads.load(), 0);
  Reopen();
  auto all = Fetch("c.*");
  ASSERT_EQ(all.size(), static_cast<size_t>(kWriters));
  for (const auto& s : all) EXPECT_EQ(s.size(), static_cast<size_t>(kBatches * kPerBatch));
}

TEST_F(StoreTest, RandomisedAgainstAMap) {
  std::mt19937_64 rng(5);
  std::map<int64_t, double> want;
  for (int round = 0; round < 30; ++round) {
    std::vector<std::pair<int64_t, double>> points;
    for (int i = 0; i < 100; ++i) {
      int64_t t = static_cast<int64_t>(rng() % 5000) * 10;
      double v = static_cast<double>(rng() % 1000) / 8;
      points.push_back({t, v});
    }
    // Within one batch a later duplicate wins as well.
    Write("x", {}, points);
    for (auto [t, v] : points) want[t] = v;
    if (round % 7 == 3) {
      ASSERT_TRUE(store_->Checkpoint().ok());
    }
    if (round % 11 == 5) Reopen();
  }
  auto s = Fetch("x");
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].size(), want.size());
  size_t i = 0;
  for (auto [t, v] : want) {
    ASSERT_EQ(s[0].times_ms[i], t);
    ASSERT_EQ(s[0].values[i], v) << "at " << t;
    ++i;
  }
}

// A checkpoint that lands points inside the series' last, partial chunk rewrites that chunk once:
// it is both "the partial chunk before the new points" and "a chunk they overlap".
TEST_F(StoreTest, CheckpointIntoThePartialChunkItOverlaps) {
  Write("m", {}, {{10, 1}, {20, 2}, {30, 3}});
  ASSERT_TRUE(store_->Checkpoint().ok());
  Write("m", {}, {{15, 1.5}, {20, 2.5}});
  ASSERT_TRUE(store_->Checkpoint().ok());
  auto s = Fetch("m");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].times_ms, (std::vector<int64_t>{10, 15, 20, 30}));
  EXPECT_EQ(s[0].values, (std::vector<double>{1, 1.5, 2.5, 3}));
  EXPECT_EQ(store_->Stats().chunks, 1u);
}

}  // namespace
}  // namespace sluice::store
