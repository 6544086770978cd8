// What `sluice serve --demo` serves (source/demo.h), as the tests rely on it: names, tags and
// timing. Kept here, apart from the server's code, so the tests state the contract independently.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::testing::demo {

inline constexpr int64_t kStepMs = 10'000;

struct Host {
  std::string_view host, region, env, city;
};
inline constexpr std::array<Host, 6> kHosts = {{
    {"web-1", "eu-central", "prod", "Berlin"},
    {"web-2", "eu-west", "prod", "London"},
    {"web-3", "us-east", "prod", "New York"},
    {"web-4", "ap-northeast", "staging", "Tokyo"},
    {"db-1", "eu-central", "prod", "Berlin"},
    {"db-2", "us-east", "staging", "New York"},
}};

inline constexpr std::array<std::string_view, 5> kUpperSeries = {"upper_25", "upper_50", "upper_75",
                                                                 "upper_90", "upper_95"};

// Every series name (not the table target).
inline std::vector<std::string> AllSeriesNames() {
  std::vector<std::string> out(kUpperSeries.begin(), kUpperSeries.end());
  for (const Host& h : kHosts) {
    for (std::string_view kind : {"requests", "latency", "cpu"}) {
      out.push_back("app." + std::string(h.host) + "." + std::string(kind));
    }
  }
  for (std::string_view n :
       {"cpu.total", "cpu.user", "cpu.system", "demo.sine", "demo.random_walk", "demo.counter"}) {
    out.emplace_back(n);
  }
  return out;
}

inline constexpr std::string_view kTableTarget = "hosts";
inline constexpr int64_t kIncidentLengthMs = 20 * 60 * 1000;

}  // namespace sluice::testing::demo
