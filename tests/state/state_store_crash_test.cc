// Crash safety of the state store: a child process commits versions in a loop
// (each version's changes a function of its number, so the expected contents
// are known) and records each committed version the way the runtime writes
// commits/N; the parent kills it with SIGKILL at random points, restarts it
// from the last recorded version, and finally checks that every loadable
// version holds exactly its expected contents.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "state/state_store.h"
#include "storage/filesystem.h"

namespace lakestream::state {
namespace {

namespace fs = std::filesystem;
using Contents = std::map<std::string, std::string>;

constexpr const char* kDirEnv = "LAKESTREAM_STATE_CRASH_DIR";
constexpr const char* kProviderEnv = "LAKESTREAM_STATE_CRASH_PROVIDER";

// The changes of version v (committed by batch v-1).
template <typename Fn>
void ChangesOf(int64_t v, Fn&& fn) {
  for (int i = 0; i < 40; ++i) {
    std::string key = fmt::format("key{:05d}", (v * 37 + i * 11) % 700);
    if ((v + i) % 5 == 0) {
      fn(key, std::optional<std::string>());
    } else {
      fn(key, std::optional<std::string>(fmt::format("v{}-{}-{}", v, i, std::string(i, 'x'))));
    }
  }
}

Contents Expected(int64_t version) {
  Contents c;
  for (int64_t v = 1; v <= version; ++v) {
    ChangesOf(v, [&](const std::string& k, const std::optional<std::string>& val) {
      if (val) c[k] = *val; else c.erase(k);
    });
  }
  return c;
}

StateStoreOptions CrashOptions(const std::string& dir, StateStoreProvider provider) {
  StateStoreOptions o;
  o.state_dir = dir;
  o.provider = provider;
  o.min_deltas_for_snapshot = 3;
  o.min_batches_to_retain = 5;
  o.schema = "key: binary, value: binary";
  return o;
}

std::string ProgressPath(const std::string& dir) { return dir + "/progress"; }

int64_t ReadProgress(const std::string& dir) {
  auto r = storage::LocalFs()->ReadAll(ProgressPath(dir));
  return r.ok() ? std::stoll(*r) : 0;
}

// The child: runs until killed. Skipped unless started by the parent below.
TEST(StateStoreCrashChild, CommitForever) {
  const char* dir = ::getenv(kDirEnv);
  if (dir == nullptr) GTEST_SKIP() << "only run as the child of StateStoreCrash";
  StateStoreProvider provider = std::string(::getenv(kProviderEnv)) == "memory"
                                    ? StateStoreProvider::kMemory
                                    : StateStoreProvider::kRocksDB;
  int64_t v = ReadProgress(dir);
  auto store = StateStore::Open(CrashOptions(dir, provider), v);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  while (true) {
    ChangesOf(v + 1, [&](const std::string& k, const std::optional<std::string>& val) {
      Status st = val ? (*store)->Put(k, *val) : (*store)->Delete(k);
      ASSERT_TRUE(st.ok()) << st.ToString();
    });
    auto committed = (*store)->Commit();
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    v = *committed;
    ASSERT_TRUE(storage::LocalFs()->WriteAtomic(ProgressPath(dir), std::to_string(v)).ok());
  }
}

class StateStoreCrash : public testing::TestWithParam<StateStoreProvider> {};

TEST_P(StateStoreCrash, KilledChildrenLoseNothing) {
  std::string tmpl = (fs::temp_directory_path() / "lakestream-state-crash-XXXXXX").string();
  std::string dir = ::mkdtemp(tmpl.data());
  const bool memory = GetParam() == StateStoreProvider::kMemory;
  // Everything the child needs is prepared before fork: only exec runs after.
  std::string self = fs::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=StateStoreCrashChild.CommitForever";
  std::string env_dir = std::string(kDirEnv) + "=" + dir;
  std::string env_provider = std::string(kProviderEnv) + "=" + (memory ? "memory" : "rocksdb");
  std::vector<char*> argv = {self.data(), filter.data(), nullptr};
  std::vector<char*> envp = {env_dir.data(), env_provider.data(), nullptr};

  // The child's output goes to a log shown if it fails.
  std::string log_path = dir + "/child.log";
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ASSERT_GE(log_fd, 0);
  auto child_log = [&] {
    auto r = storage::LocalFs()->ReadAll(log_path);
    return r.ok() ? *r : std::string();
  };

  std::mt19937 rng(1234);
  constexpr int kKills = 12;
  for (int round = 0; round < kKills; ++round) {
    int64_t start = ReadProgress(dir);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::execve(self.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    // Wait until the child committed a few versions, then kill it at a random
    // point of its commit loop.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool progressed = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ReadProgress(dir) >= start + 2) {
        progressed = true;
        break;
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        FAIL() << "child exited early with status " << status << " in round " << round << ":\n"
               << child_log();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 15000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(progressed) << "child made no progress in round " << round << ":\n"
                            << child_log();
    ASSERT_TRUE(WIFSIGNALED(status)) << "child was not killed but exited: " << status;
  }

  ::close(log_fd);
  int64_t last = ReadProgress(dir);
  ASSERT_GE(last, 2 * kKills);
  StateStoreOptions o = CrashOptions(dir, GetParam());
  auto versions = ListStateVersions(StoreDir(o));
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_FALSE(versions->empty());
  // The last 5 recorded versions are kept, and one more may have been
  // committed without being recorded.
  EXPECT_LE(versions->front(), last - 4);
  EXPECT_GE(versions->back(), last);
  EXPECT_LE(versions->back(), last + 1);
  for (int64_t v : *versions) {
    auto store = StateStore::Open(o, v);
    ASSERT_TRUE(store.ok()) << "version " << v << ": " << store.status().ToString();
    Contents got;
    ASSERT_TRUE((*store)->Scan([&](std::string_view k, std::string_view val) {
                  got.emplace(std::string(k), std::string(val));
                  return Status::OK();
                }).ok());
    EXPECT_EQ(got, Expected(v)) << "version " << v;
    EXPECT_EQ((*store)->metrics().num_rows_total, static_cast<int64_t>(got.size()));
  }
  ReleaseCachedStateStores(dir);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(Providers, StateStoreCrash,
                         testing::Values(StateStoreProvider::kRocksDB, StateStoreProvider::kMemory),
                         [](const testing::TestParamInfo<StateStoreProvider>& info) {
                           return info.param == StateStoreProvider::kRocksDB ? "RocksDB" : "Memory";
                         });

}  // namespace
}  // namespace lakestream::state
