// The durability proof for the embedded store: the real binary is killed with SIGKILL while
// several clients write; after a restart on the same data directory every point that had been
// acknowledged (204) is there with its value (docs/storage.md: "An acknowledged write is therefore
// on disk").
//
// Each trial starts `sluice serve` on a fresh data directory with checkpoint_interval = "1s" and
// checkpoint_wal_bytes = "256KiB" (the interval alone would not fire before a kill at 600 ms; the
// small write-ahead limit makes checkpoints run all through the writes, so they race the kill), runs 4 writer threads that POST /write batches of 200 lines
// (distinct series per thread, unique timestamps per batch) and record which batches were
// acknowledged, SIGKILLs the server after a random delay (fixed seed, 100-600 ms), restarts it and
// reads everything back. Batches that were not acknowledged may or may not be there, but a batch
// is one commit, so it is there whole or not at all, and nothing that was never sent appears.
// 20 trials with sync = "full" and one with sync = "normal" (which still survives a process
// crash). Every trial is bounded (10 s) and so is the whole test (120 s).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/time.h"
#include "testing/http_client.h"
#include "testing/json.h"
#include "testing/protocol_checks.h"
#include "testing/server_process.h"

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kTrials = 20;
constexpr int kWriters = 4;
constexpr int kLinesPerBatch = 200;
constexpr int kMaxBatchesPerWriter = 2'000;  // a bound; a trial writes far fewer
constexpr int kRequestTimeoutMs = 5'000;
constexpr auto kTrialBudget = std::chrono::seconds(10);
constexpr auto kTestBudget = std::chrono::seconds(120);
constexpr uint32_t kSeed = 20261123;

// What writer `w` writes as line `i` of batch `b`: the time offset from the trial's t0 and the two
// field values (v float, n integer).
int64_t Offset(int b, int i) { return static_cast<int64_t>(b) * kLinesPerBatch + i; }
double VValue(int w, int b, int i) { return w * 1e7 + static_cast<double>(Offset(b, i)) + 0.25; }

std::string Batch(int w, int b, int64_t t0) {
  std::string body;
  body.reserve(kLinesPerBatch * 56);
  for (int i = 0; i < kLinesPerBatch; ++i) {
    body += fmt::format("crash,writer=w{} v={},n={}i {}\n", w, VValue(w, b, i), b, t0 + Offset(b, i));
  }
  return body;
}

ServerConfig ServeOn(const std::string& data_dir, const std::string& config_path) {
  ServerConfig config;
  config.command = {SluiceBinaryPath(), "serve",    "--listen", "127.0.0.1:0",
                    "--data",           data_dir,   "--config", config_path};
  config.ready_timeout_ms = 8'000;
  return config;
}

struct TrialStats {
  int acked = 0;           // batches answered 204
  int unacked_present = 0;  // batches sent, not acknowledged, found after the restart
  int sent = 0;
  bool checkpointed = false;  // some points came back from chunks, not from the replayed wal
};

// One kill-and-restart trial. Failures are recorded with the trial number.
void RunTrial(int trial, bool sync_normal, int delay_ms, TrialStats* stats) {
  SCOPED_TRACE(fmt::format("trial {} (sync {}, kill after {} ms)", trial,
                           sync_normal ? "normal" : "full", delay_ms));
  const auto trial_start = Clock::now();
  const auto trial_deadline = trial_start + kTrialBudget;
  TempDir dir;
  const std::string data_dir = dir.path() + "/data";
  const std::string config_path = dir.WriteFile(
      "sluice.toml",
      fmt::format("[store]\ncheckpoint_interval = \"1s\"\ncheckpoint_wal_bytes = \"256KiB\"\n"
                  "sync = \"{}\"\n",
                  sync_normal ? "normal" : "full"));
  // An hour ago, on a whole second: far inside the default retention.
  const int64_t t0 = (NowMs() / 1000) * 1000 - 3'600'000;

  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(ServeOn(data_dir, config_path), &error);
  ASSERT_NE(server, nullptr) << error;
  const uint16_t port = server->port();

  std::atomic<bool> killed{false};
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<std::vector<int>> acked(kWriters);  // batch numbers answered 204, per writer
  std::vector<int> sent(kWriters, 0);             // batches 0..sent-1 were (at least partly) sent
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      HttpClient client(port);
      for (int b = 0; b < kMaxBatchesPerWriter && Clock::now() < trial_deadline; ++b) {
        std::string body = Batch(w, b, t0);
        sent[w] = b + 1;
        HttpResponse r = client.Request("POST", "/write?db=telegraf&precision=ms", body,
                                        {{"Content-Type", "text/plain; charset=utf-8"}},
                                        kRequestTimeoutMs);
        if (r.status == 204) {
          acked[w].push_back(b);
          continue;
        }
        if (!killed.load()) {
          std::lock_guard<std::mutex> lock(mu);
          failures.push_back(
              fmt::format("writer {} batch {} failed before the kill: {}", w, b, r.Describe()));
        }
        break;  // the server is gone (or broken): stop writing
      }
    });
  }

  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  killed.store(true);
  const bool was_alive = server->Alive();
  server->Signal(SIGKILL);
  const int code = server->WaitExit(5'000);
  for (auto& t : writers) t.join();
  ASSERT_TRUE(was_alive) << "the server died before the kill; stderr: " << server->StderrText();
  ASSERT_EQ(code, 128 + SIGKILL) << "the server should have died of SIGKILL";
  for (const std::string& f : failures) ADD_FAILURE() << f;
  server.reset();

  std::unique_ptr<ServerProcess> restarted =
      ServerProcess::Start(ServeOn(data_dir, config_path), &error);
  ASSERT_NE(restarted, nullptr) << "restart after SIGKILL failed: " << error;
  HttpClient client(restarted->port());
  const int64_t from = t0 - 60'000, to = t0 + Offset(kMaxBatchesPerWriter, 0) + 60'000;
  std::map<std::string, QueryView> views;
  for (const char* target : {"crash.v", "crash.n"}) {
    HttpResponse r =
        client.Request("POST", "/query", RawPointsQueryBody(target, from, to), {}, 30'000);
    ASSERT_TRUE(ParseQueryResponse(r, &views[target])) << target;
  }

  size_t found_points = 0;
  for (int w = 0; w < kWriters; ++w) {
    SCOPED_TRACE(fmt::format("writer w{}", w));
    const std::map<std::string, std::string> tags = {{"writer", fmt::format("w{}", w)}};
    // time offset -> value, per field
    std::map<int64_t, double> v, n;
    for (auto [target, points] : {std::pair{"crash.v", &v}, std::pair{"crash.n", &n}}) {
      for (const SeriesView& s : views[target].series) {
        if (s.tags != tags) continue;
        for (const Datapoint& p : s.points) {
          (*points)[p.time_ms - t0] = p.value.value_or(-1);
        }
      }
    }
    found_points += v.size() + n.size();
    // Every present point belongs to a batch that was sent and carries its value.
    int strays = 0;
    for (const auto& [offset, value] : v) {
      int b = static_cast<int>(offset / kLinesPerBatch);
      int i = static_cast<int>(offset % kLinesPerBatch);
      if (offset < 0 || b >= sent[w] || value != VValue(w, b, i)) ++strays;
    }
    EXPECT_EQ(strays, 0) << "points that were never written, or with a wrong value";

    std::vector<bool> is_acked(static_cast<size_t>(sent[w]), false);
    for (int b : acked[w]) is_acked[static_cast<size_t>(b)] = true;
    stats->acked += static_cast<int>(acked[w].size());
    stats->sent += sent[w];
    int lost_batches = 0, torn_batches = 0;
    for (int b = 0; b < sent[w]; ++b) {
      int present_v = 0, present_n = 0;
      for (int i = 0; i < kLinesPerBatch; ++i) {
        auto pv = v.find(Offset(b, i));
        present_v += pv != v.end() && pv->second == VValue(w, b, i);
        auto pn = n.find(Offset(b, i));
        present_n += pn != n.end() && pn->second == b;
      }
      if (is_acked[static_cast<size_t>(b)]) {
        if (present_v != kLinesPerBatch || present_n != kLinesPerBatch) {
          ++lost_batches;
          if (lost_batches <= 3) {
            ADD_FAILURE() << "acknowledged batch " << b << ": " << present_v << " of "
                          << kLinesPerBatch << " v points and " << present_n
                          << " n points after the restart";
          }
        }
      } else {
        if (present_v + present_n > 0) ++stats->unacked_present;
        if ((present_v != 0 && present_v != kLinesPerBatch) ||
            (present_n != 0 && present_n != kLinesPerBatch) || (present_v > 0) != (present_n > 0)) {
          ++torn_batches;
          ADD_FAILURE() << "unacknowledged batch " << b << " is partly there (" << present_v
                        << " v, " << present_n << " n points): a batch is one commit";
        }
      }
    }
    EXPECT_EQ(lost_batches, 0) << acked[w].size() << " batches were acknowledged";
    EXPECT_EQ(torn_batches, 0);
  }

  // The store logs how many points it replayed from the write-ahead table; fewer than were found
  // means a checkpoint had moved some into chunks before the kill.
  std::smatch m;
  std::string log = restarted->StderrText();
  size_t replayed = 0;
  if (std::regex_search(log, m, std::regex(R"(replayed ([0-9]+) points)"))) {
    replayed = std::stoul(m[1].str());
  }
  stats->checkpointed = replayed < found_points;

  // The restarted store still takes writes.
  HttpResponse after = client.Request("POST", "/write?db=telegraf&precision=ms",
                                      fmt::format("crash,writer=after v=1 {}\n", t0 - 1000), {},
                                      kRequestTimeoutMs);
  EXPECT_EQ(after.status, 204) << after.Describe();
  EXPECT_EQ(restarted->Stop(5'000), 0) << restarted->StderrText();
  EXPECT_LT(Clock::now() - trial_start, kTrialBudget) << "the trial took too long";
}

TEST(CrashTest, AcknowledgedWritesSurviveSigkill) {
  const auto test_start = Clock::now();
  std::mt19937 rng(kSeed);
  std::uniform_int_distribution<int> delay_ms(100, 600);
  int total_acked = 0, total_sent = 0, total_unacked_present = 0, checkpointed_trials = 0;
  for (int trial = 0; trial <= kTrials; ++trial) {
    const bool sync_normal = trial == kTrials;  // the last, extra trial
    ASSERT_LT(Clock::now() - test_start, kTestBudget - kTrialBudget)
        << "out of time before trial " << trial;
    TrialStats stats;
    RunTrial(trial, sync_normal, delay_ms(rng), &stats);
    if (HasFatalFailure()) return;
    EXPECT_GT(stats.acked, 0) << "trial " << trial << " acknowledged nothing: it proves nothing";
    total_acked += stats.acked;
    total_sent += stats.sent;
    total_unacked_present += stats.unacked_present;
    checkpointed_trials += stats.checkpointed;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - test_start).count();
  std::printf("%d trials (%d killed after a checkpoint): %d batches sent, %d acknowledged (all "
              "found), %d unacknowledged found; %.1f s\n",
              kTrials + 1, checkpointed_trials, total_sent, total_acked, total_unacked_present,
              seconds);
  EXPECT_GT(checkpointed_trials, 0) << "no trial had a checkpoint before the kill: the race with "
                                       "checkpoints was not exercised";
  EXPECT_LT(Clock::now() - test_start, kTestBudget);
}

}  // namespace
}  // namespace sluice::testing
