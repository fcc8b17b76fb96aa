// Commit cost against resident size, measured directly on the store (not a
// pass/fail test: DISABLED_, run by hand). It grows a store to 1M and then
// 10M keys and, at each size, times commits of the same 250,000 changes
// (125k updates of resident keys read first, as an aggregation does, and
// 125k inserts): wall time and the committing thread's CPU time. Commit cost
// should follow the changes, so both sizes should give about the same.
//
//   build-state/tests/test_state --gtest_also_run_disabled_tests
//       --gtest_filter='*CommitCost*'
// Optional: LAKESTREAM_COMMIT_COST_KEYS=2000000 (the large size).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <vector>

#include "state/state_store.h"

namespace lakestream::state {
namespace {

namespace fs = std::filesystem;

double ThreadCpuMs() {
  timespec t;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// 9-byte keys spread over the key space, like an encoded BIGINT group key.
std::string SpreadKey(uint64_t i) {
  uint64_t h = i * 0x9E3779B97F4A7C15ull;
  std::string s(9, '\0');
  s[0] = 1;
  for (int b = 0; b < 8; ++b) s[1 + b] = static_cast<char>(h >> (56 - 8 * b));
  return s;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

class StateCommitCost : public testing::TestWithParam<StateStoreProvider> {};

TEST_P(StateCommitCost, DISABLED_CommitOfTheSameChangesAt1MAnd10MKeys) {
  int64_t large = 10'000'000;
  if (const char* e = ::getenv("LAKESTREAM_COMMIT_COST_KEYS")) large = std::atoll(e);
  constexpr int64_t kChanges = 250'000;
  constexpr int kCommits = 5;
  std::string tmpl = (fs::temp_directory_path() / "lakestream-commit-cost-XXXXXX").string();
  std::string dir = ::mkdtemp(tmpl.data());
  StateStoreOptions o;
  o.state_dir = dir;
  o.provider = GetParam();
  auto opened = StateStore::Open(o, 0);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<StateStore> store = std::move(*opened);
  int64_t resident = 0;
  std::mt19937_64 rng(42);
  std::string value(16, 'v');
  for (int64_t size : {int64_t{1'000'000}, large}) {
    while (resident < size) {  // grow in commits of up to 1M new keys
      for (int64_t n = std::min<int64_t>(1'000'000, size - resident); n > 0; --n) {
        ASSERT_TRUE(store->Put(SpreadKey(resident++), value).ok());
      }
      ASSERT_TRUE(store->Commit().ok());
    }
    std::vector<double> wall, cpu;
    const int64_t resident_before = resident;
    for (int c = 0; c < kCommits; ++c) {
      for (int64_t i = 0; i < kChanges / 2; ++i) {
        std::string k = SpreadKey(rng() % static_cast<uint64_t>(resident));
        auto got = store->Get(k);
        ASSERT_TRUE(got.ok() && got->has_value());
        ASSERT_TRUE(store->Put(k, "updated-value-01").ok());
      }
      for (int64_t i = 0; i < kChanges / 2; ++i) {
        std::string k = SpreadKey(resident++);
        auto got = store->Get(k);
        ASSERT_TRUE(got.ok() && !got->has_value());
        ASSERT_TRUE(store->Put(k, value).ok());
      }
      auto t0 = std::chrono::steady_clock::now();
      double c0 = ThreadCpuMs();
      ASSERT_TRUE(store->Commit().ok());
      cpu.push_back(ThreadCpuMs() - c0);
      wall.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    double load[3] = {0, 0, 0};
    ::getloadavg(load, 3);
    std::printf("%s: %lld keys resident (+125k per commit), commit of %lld changes: median wall %.0f ms, median "
                "thread CPU %.0f ms (of %d commits; load average %.1f)\n",
                GetParam() == StateStoreProvider::kRocksDB ? "RocksDB" : "in-memory",
                static_cast<long long>(resident_before), static_cast<long long>(kChanges),
                Median(wall),
                Median(cpu), kCommits, load[0]);
    std::fflush(stdout);
  }
  store.reset();
  ReleaseCachedStateStores(dir);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(Providers, StateCommitCost,
                         testing::Values(StateStoreProvider::kRocksDB, StateStoreProvider::kMemory),
                         [](const testing::TestParamInfo<StateStoreProvider>& info) {
                           return info.param == StateStoreProvider::kRocksDB ? "RocksDB" : "Memory";
                         });

}  // namespace
}  // namespace lakestream::state
