// StateStore tests, for both providers: reads and writes, versioned reopen,
// snapshot + changelog equivalence, cleanup, corrupt and torn files, the schema
// guard, O(changes) commits and the RocksDB memory bound.
#include "state/state_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

namespace lakestream::state {
namespace {

namespace fs = std::filesystem;
using Contents = std::map<std::string, std::string>;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "lakestream-state-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    ReleaseCachedStateStores(path_);
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Contents ScanAll(StateStore* store, std::string_view prefix = "") {
  Contents out;
  auto st = store->PrefixScan(prefix, [&](std::string_view k, std::string_view v) {
    out.emplace(std::string(k), std::string(v));
    return Status::OK();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

Contents RowsToMap(const std::vector<StateRow>& rows) {
  Contents out;
  for (const auto& r : rows) out.emplace(r.key, r.value);
  return out;
}

std::string Key(int i) { return fmt::format("key{:08d}", i); }

class StateStoreTest : public testing::TestWithParam<StateStoreProvider> {
 protected:
  StateStoreOptions Options() {
    StateStoreOptions o;
    o.state_dir = dir_.path();
    o.operator_id = 3;
    o.partition_id = 1;
    o.provider = GetParam();
    return o;
  }

  std::unique_ptr<StateStore> OpenOrDie(const StateStoreOptions& o, int64_t version) {
    auto r = StateStore::Open(o, version);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : nullptr;
  }

  // Commits `versions` versions of random puts/deletes over 50 keys; returns
  // the expected contents at each version (index = version).
  std::vector<Contents> WriteHistory(const StateStoreOptions& o, int versions, uint32_t seed) {
    std::vector<Contents> expected(1);
    std::mt19937 rng(seed);
    auto store = OpenOrDie(o, 0);
    Contents cur;
    for (int v = 1; v <= versions; ++v) {
      for (int i = 0; i < 20; ++i) {
        std::string k = Key(static_cast<int>(rng() % 50));
        if (rng() % 3 == 0) {
          EXPECT_TRUE(store->Delete(k).ok());
          cur.erase(k);
        } else {
          std::string val = fmt::format("v{}-{}", v, rng() % 1000);
          EXPECT_TRUE(store->Put(k, val).ok());
          cur[k] = val;
        }
      }
      auto committed = store->Commit();
      EXPECT_TRUE(committed.ok()) << committed.status().ToString();
      EXPECT_EQ(*committed, v);
      EXPECT_EQ(store->metrics().num_rows_total, static_cast<int64_t>(cur.size()));
      expected.push_back(cur);
    }
    store.reset();
    // The in-memory provider's snapshots and cleanup run in the background.
    WaitForStateStoreSnapshots(dir_.path());
    return expected;
  }

  TempDir dir_;
};

TEST_P(StateStoreTest, PutGetDeletePrefixScan) {
  auto store = OpenOrDie(Options(), 0);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Put("a1", "x").ok());
  ASSERT_TRUE(store->Put("a2", "y").ok());
  ASSERT_TRUE(store->Put("b1", "z").ok());
  ASSERT_TRUE(store->Put(std::string("a\0z", 3), std::string("\0\xff", 2)).ok());
  EXPECT_EQ(*store->Get("a1"), std::optional<std::string>("x"));
  EXPECT_EQ(*store->Get("zz"), std::nullopt);
  EXPECT_EQ(
      ScanAll(store.get(), "a"),
      (Contents{{std::string("a\0z", 3), std::string("\0\xff", 2)}, {"a1", "x"}, {"a2", "y"}}));
  ASSERT_EQ(*store->Commit(), 1);
  EXPECT_EQ(store->metrics().num_rows_total, 4);
  EXPECT_EQ(store->metrics().num_rows_updated, 4);

  // Uncommitted changes over committed state: a delete hides, a put replaces.
  ASSERT_TRUE(store->Delete("a1").ok());
  ASSERT_TRUE(store->Put("a2", "y2").ok());
  ASSERT_TRUE(store->Put("a3", "w").ok());
  ASSERT_TRUE(store->Delete("a3").ok());
  ASSERT_TRUE(store->Delete("missing").ok());
  EXPECT_EQ(*store->Get("a1"), std::nullopt);
  EXPECT_EQ(ScanAll(store.get(), "a1"), Contents{});
  EXPECT_EQ(ScanAll(store.get(), "a"),
            (Contents{{std::string("a\0z", 3), std::string("\0\xff", 2)}, {"a2", "y2"}}));
  EXPECT_EQ(ScanAll(store.get(), "b"), (Contents{{"b1", "z"}}));
  ASSERT_EQ(*store->Commit(), 2);
  StateStoreMetrics m = store->metrics();
  EXPECT_EQ(m.num_rows_total, 3);
  EXPECT_EQ(m.num_rows_updated, 1);  // a2
  EXPECT_EQ(m.num_rows_removed, 1);  // a1 (a3 and "missing" never existed)
  EXPECT_GT(m.memory_used_bytes, 0);
}

TEST_P(StateStoreTest, PrefixScanAtByteBoundaries) {
  auto store = OpenOrDie(Options(), 0);
  ASSERT_TRUE(store->Put("a\xff", "1").ok());
  ASSERT_TRUE(store->Put("a\xff\xff", "2").ok());
  ASSERT_TRUE(store->Put("b", "3").ok());
  ASSERT_TRUE(store->Commit().ok());
  ASSERT_TRUE(store->Put("a\xff\x01", "4").ok());
  EXPECT_EQ(ScanAll(store.get(), "a\xff"),
            (Contents{{"a\xff", "1"}, {"a\xff\x01", "4"}, {"a\xff\xff", "2"}}));
  EXPECT_EQ(ScanAll(store.get()).size(), 4u);
}

TEST_P(StateStoreTest, AbortDropsChanges) {
  auto store = OpenOrDie(Options(), 0);
  ASSERT_TRUE(store->Put("k", "1").ok());
  ASSERT_EQ(*store->Commit(), 1);
  ASSERT_TRUE(store->Put("k", "2").ok());
  ASSERT_TRUE(store->Put("j", "2").ok());
  store->Abort();
  EXPECT_EQ(*store->Get("k"), std::optional<std::string>("1"));
  EXPECT_EQ(*store->Get("j"), std::nullopt);
  ASSERT_EQ(*store->Commit(), 2);  // an empty version is still a version
  ReleaseCachedStateStores(dir_.path());
  store.reset();
  store = OpenOrDie(Options(), 2);
  EXPECT_EQ(ScanAll(store.get()), (Contents{{"k", "1"}}));
}

TEST_P(StateStoreTest, ReopenAtEveryVersionGivesThatVersion) {
  StateStoreOptions o = Options();
  o.min_deltas_for_snapshot = 4;
  std::vector<Contents> expected = WriteHistory(o, 25, 7);
  ReleaseCachedStateStores();
  auto snapshot_files = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(StoreDir(o) + "/24.snapshot")) {
      names.push_back(e.path().string() + ":" +
                      std::to_string(e.is_regular_file() ? e.file_size() : 0));
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  std::vector<std::string> before;
  if (o.provider == StateStoreProvider::kRocksDB) before = snapshot_files();
  for (int v = 0; v <= 25; ++v) {
    auto store = OpenOrDie(o, v);
    ASSERT_TRUE(store);
    EXPECT_EQ(ScanAll(store.get()), expected[v]) << "version " << v;
    EXPECT_EQ(store->metrics().num_rows_total, static_cast<int64_t>(expected[v].size()));
    auto rows = ReadStateRows(StoreDir(o), v);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(RowsToMap(*rows), expected[v]) << "version " << v;
  }
  auto versions = ListStateVersions(StoreDir(o));
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->front(), 1);
  EXPECT_EQ(versions->back(), 25);
  EXPECT_TRUE(fs::exists(StoreDir(o) + "/24.snapshot"));
  EXPECT_FALSE(fs::exists(StoreDir(o) + "/25.snapshot"));
  // Loading and reading a RocksDB snapshot leaves it untouched (no LOG, no new MANIFEST).
  if (o.provider == StateStoreProvider::kRocksDB) {
    EXPECT_EQ(snapshot_files(), before);
  }
}

TEST_P(StateStoreTest, ReopenContinuesHistory) {
  // Recovery: reopen an older version and commit a different next version.
  StateStoreOptions o = Options();
  o.min_deltas_for_snapshot = 3;
  WriteHistory(o, 7, 1);
  ReleaseCachedStateStores();
  auto store = OpenOrDie(o, 5);
  Contents at5 = ScanAll(store.get());
  ASSERT_TRUE(store->Put("new", "row").ok());
  ASSERT_EQ(*store->Commit(), 6);
  store.reset();
  ReleaseCachedStateStores();
  store = OpenOrDie(o, 6);
  at5["new"] = "row";
  EXPECT_EQ(ScanAll(store.get()), at5);
}

TEST_P(StateStoreTest, SnapshotPlusReplayEqualsReplayFromStart) {
  StateStoreOptions with = Options();
  with.min_deltas_for_snapshot = 3;
  StateStoreOptions without = Options();
  without.operator_id = 4;
  without.min_deltas_for_snapshot = 0;
  std::vector<Contents> a = WriteHistory(with, 14, 42);
  std::vector<Contents> b = WriteHistory(without, 14, 42);
  ASSERT_EQ(a, b);
  EXPECT_TRUE(fs::exists(StoreDir(with) + "/12.snapshot"));
  EXPECT_FALSE(fs::exists(StoreDir(without) + "/12.snapshot"));
  ReleaseCachedStateStores();
  for (int v : {2, 3, 4, 9, 12, 14}) {
    auto s1 = OpenOrDie(with, v);
    auto s2 = OpenOrDie(without, v);
    EXPECT_EQ(ScanAll(s1.get()), ScanAll(s2.get())) << "version " << v;
    EXPECT_EQ(ScanAll(s1.get()), a[v]);
  }
}

TEST_P(StateStoreTest, OtherProviderReadsTheFiles) {
  // The checkpoint files are provider-neutral: a query may switch provider.
  StateStoreOptions o = Options();
  o.min_deltas_for_snapshot = 4;
  std::vector<Contents> expected = WriteHistory(o, 10, 3);
  ReleaseCachedStateStores();
  StateStoreOptions other = o;
  other.provider = o.provider == StateStoreProvider::kMemory ? StateStoreProvider::kRocksDB
                                                             : StateStoreProvider::kMemory;
  for (int v : {3, 4, 8, 10}) {
    auto store = OpenOrDie(other, v);
    EXPECT_EQ(ScanAll(store.get()), expected[v]) << "version " << v;
  }
}

TEST_P(StateStoreTest, CleanupKeepsMinBatchesToRetain) {
  StateStoreOptions o = Options();
  o.min_batches_to_retain = 3;
  o.min_deltas_for_snapshot = 2;
  std::vector<Contents> expected = WriteHistory(o, 12, 5);
  std::string dir = StoreDir(o);
  auto versions = ListStateVersions(dir);
  ASSERT_TRUE(versions.ok());
  for (int v : {10, 11, 12}) {
    EXPECT_NE(std::find(versions->begin(), versions->end(), v), versions->end()) << v;
  }
  EXPECT_EQ(std::find(versions->begin(), versions->end(), 1), versions->end());
  EXPECT_FALSE(fs::exists(dir + "/1.changelog"));
  EXPECT_FALSE(fs::exists(dir + "/2.snapshot"));
  EXPECT_TRUE(fs::exists(dir + "/10.snapshot"));
  EXPECT_TRUE(fs::exists(dir + "/12.changelog"));
  ReleaseCachedStateStores();
  for (int v : {10, 11, 12}) {
    auto store = OpenOrDie(o, v);
    EXPECT_EQ(ScanAll(store.get()), expected[v]);
  }
  auto old = StateStore::Open(o, 5);
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("minBatchesToRetain"), std::string::npos)
      << old.status().ToString();
}

TEST_P(StateStoreTest, CorruptChangelogIsAClearError) {
  StateStoreOptions o = Options();
  WriteHistory(o, 3, 9);
  ReleaseCachedStateStores();
  std::string path = StoreDir(o) + "/2.changelog";
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x5a');
  }
  auto r = StateStore::Open(o, 3);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("corrupt"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos) << r.status().ToString();
  // Version 1 does not need the corrupt file.
  EXPECT_TRUE(StateStore::Open(o, 1).ok());

  // A torn (truncated) file.
  fs::resize_file(path, 20);
  r = StateStore::Open(o, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().ToString();
  EXPECT_FALSE(ReadStateRows(StoreDir(o), 2).ok());
}

TEST_P(StateStoreTest, MissingVersionIsAClearError) {
  StateStoreOptions o = Options();
  WriteHistory(o, 2, 1);
  ReleaseCachedStateStores();
  auto r = StateStore::Open(o, 4);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("3.changelog is missing"), std::string::npos)
      << r.status().ToString();
}

TEST_P(StateStoreTest, LeftoversOfAKilledCommitAreIgnored) {
  StateStoreOptions o = Options();
  o.min_deltas_for_snapshot = 2;
  std::vector<Contents> expected = WriteHistory(o, 3, 11);
  ReleaseCachedStateStores();
  std::string dir = StoreDir(o);
  // What a process killed mid-commit of version 4 leaves: a half-written temp
  // changelog, a half-built snapshot folder, and its working instance.
  { std::ofstream(dir + "/.4.changelog.12345.1a2b.tmp") << "LSSTATE1 half"; }
  fs::create_directories(dir + "/.4.snapshot.12345.0.tmp/db");
  { std::ofstream(dir + "/.4.snapshot.12345.0.tmp/db/000009.sst") << "torn"; }
  fs::create_directories(dir + "/_work/999999999-0");
  { std::ofstream(dir + "/_work/999999999-0/CURRENT") << "junk"; }

  auto versions = ListStateVersions(dir);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->back(), 3);
  auto store = OpenOrDie(o, 3);
  ASSERT_TRUE(store);
  EXPECT_EQ(ScanAll(store.get()), expected[3]);
  EXPECT_FALSE(fs::exists(dir + "/.4.changelog.12345.1a2b.tmp"));
  EXPECT_FALSE(fs::exists(dir + "/.4.snapshot.12345.0.tmp"));
  if (o.provider == StateStoreProvider::kRocksDB) {
    EXPECT_FALSE(fs::exists(dir + "/_work/999999999-0"));  // that pid is not running
  }
  ASSERT_TRUE(store->Put("after", "crash").ok());
  EXPECT_EQ(*store->Commit(), 4);
  WaitForStateStoreSnapshots(dir_.path());  // snapshots are built in the background
  EXPECT_TRUE(fs::exists(dir + "/4.snapshot"));
}

TEST_P(StateStoreTest, RestartFromAnOlderVersionDropsTheAbandonedRun) {
  // Run 1 reached version 12 with snapshots every 3; run 2 restarts from
  // version 4 without snapshots. Run 1's snapshot 6 must not leak into run 2.
  StateStoreOptions run1 = Options();
  run1.min_deltas_for_snapshot = 3;
  std::vector<Contents> old = WriteHistory(run1, 12, 8);
  ReleaseCachedStateStores();
  StateStoreOptions run2 = Options();
  run2.min_deltas_for_snapshot = 0;
  auto store = OpenOrDie(run2, 4);
  Contents cur = old[4];
  for (int v = 5; v <= 7; ++v) {
    std::string k = fmt::format("run2-{}", v);
    ASSERT_TRUE(store->Put(k, "x").ok());
    cur[k] = "x";
    ASSERT_EQ(*store->Commit(), v);
  }
  store.reset();
  ReleaseCachedStateStores();
  EXPECT_FALSE(fs::exists(StoreDir(run2) + "/6.snapshot"));
  EXPECT_FALSE(fs::exists(StoreDir(run2) + "/9.changelog"));
  store = OpenOrDie(run1, 7);
  EXPECT_EQ(ScanAll(store.get()), cur);
  EXPECT_FALSE(StateStore::Open(run1, 9).ok());
}

TEST_P(StateStoreTest, RecommitOfAVersionReplacesIt) {
  // A batch re-run after a crash between the state commit and commits/N
  // commits the same version again.
  StateStoreOptions o = Options();
  o.min_deltas_for_snapshot = 2;
  WriteHistory(o, 2, 2);
  ReleaseCachedStateStores();
  auto store = OpenOrDie(o, 1);
  ASSERT_TRUE(store->Put("rerun", "1").ok());
  ASSERT_EQ(*store->Commit(), 2);
  Contents at2 = ScanAll(store.get());
  store.reset();
  ReleaseCachedStateStores();
  store = OpenOrDie(o, 2);
  EXPECT_EQ(ScanAll(store.get()), at2);
  EXPECT_EQ(RowsToMap(*ReadStateRows(StoreDir(o), 2)), at2);
}

TEST_P(StateStoreTest, ConsecutiveOpensReuseTheLiveInstance) {
  StateStoreOptions o = Options();
  o.min_deltas_for_snapshot = 0;
  auto store = OpenOrDie(o, 0);
  ASSERT_TRUE(store->Put("k", "v").ok());
  ASSERT_EQ(*store->Commit(), 1);
  ASSERT_TRUE(store->Put("uncommitted", "x").ok());
  store.reset();
  // Without its changelog, version 1 can only come from the parked instance.
  fs::remove(StoreDir(o) + "/1.changelog");
  store = OpenOrDie(o, 1);
  ASSERT_TRUE(store);
  EXPECT_EQ(ScanAll(store.get()), (Contents{{"k", "v"}}));
  EXPECT_EQ(store->metrics().num_rows_total, 1);
  store.reset();
  ReleaseCachedStateStores(dir_.path());
  EXPECT_FALSE(StateStore::Open(o, 1).ok());
}

TEST_P(StateStoreTest, SchemaMismatchNamesOperatorAndBothSchemas) {
  StateStoreOptions o = Options();
  o.schema = "key: struct<user: string>, value: struct<count: int64>";
  WriteHistory(o, 1, 1);
  EXPECT_EQ(*ReadStateSchema(o.state_dir, o.operator_id), std::optional<std::string>(o.schema));
  // Same schema, another partition: fine.
  StateStoreOptions p = o;
  p.partition_id = 2;
  EXPECT_TRUE(StateStore::Open(p, 0).ok());
  StateStoreOptions changed = o;
  changed.schema = "key: struct<user: string>, value: struct<sum: double>";
  changed.operator_name = "aggregate over clicks";
  ReleaseCachedStateStores();
  auto r = StateStore::Open(changed, 1);
  ASSERT_FALSE(r.ok());
  std::string msg = r.status().message();
  EXPECT_NE(msg.find("operator 3 (aggregate over clicks)"), std::string::npos) << msg;
  EXPECT_NE(msg.find(o.state_dir + "/3"), std::string::npos) << msg;
  EXPECT_NE(msg.find(o.schema), std::string::npos) << msg;
  EXPECT_NE(msg.find(changed.schema), std::string::npos) << msg;
  // Also through the fast path (a parked instance opened with the old schema).
  auto s = OpenOrDie(o, 1);
  s.reset();
  EXPECT_FALSE(StateStore::Open(changed, 1).ok());
}

TEST_P(StateStoreTest, CommitWritesOnlyTheChanges) {
  // The changelog of a one-row change has the same size over 10 rows of state
  // as over 1M rows: commit cost follows the changes, not the state.
  auto changelog_size_after_one_change = [&](int64_t operator_id, int rows) -> int64_t {
    StateStoreOptions o = Options();
    o.operator_id = operator_id;
    o.min_deltas_for_snapshot = 0;
    auto store = OpenOrDie(o, 0);
    for (int i = 0; i < rows; ++i) EXPECT_TRUE(store->Put(Key(i), "value-0123456789").ok());
    EXPECT_EQ(*store->Commit(), 1);
    EXPECT_TRUE(store->Put(Key(5), "value-9876543210").ok());
    EXPECT_EQ(*store->Commit(), 2);
    EXPECT_EQ(store->metrics().num_rows_total, rows);
    EXPECT_EQ(store->metrics().num_rows_updated, 1);
    return static_cast<int64_t>(fs::file_size(StoreDir(o) + "/2.changelog"));
  };
  int64_t small = changelog_size_after_one_change(10, 10);
  int64_t large = changelog_size_after_one_change(11, 1'000'000);
  EXPECT_EQ(small, large);
  EXPECT_LT(small, 100);
}

TEST_P(StateStoreTest, LargeCommitsWithHintsKeepContentsAndCounts) {
  // Commits of many changes (tens of thousands, as a micro-batch makes),
  // mixing updates, inserts, deletes with and without KeyHint, keys created
  // and deleted within one batch, and deletes of keys never there; reads
  // before the commit see the changes.
  StateStoreOptions o = Options();
  o.min_deltas_for_snapshot = 0;
  Contents expected;
  auto store = OpenOrDie(o, 0);
  for (int i = 0; i < 80'000; ++i) {
    ASSERT_TRUE(store->Put(Key(i), fmt::format("v1-{}", i), KeyHint::kAbsent).ok());
    expected[Key(i)] = fmt::format("v1-{}", i);
  }
  ASSERT_EQ(*store->Commit(), 1);
  EXPECT_EQ(store->metrics().num_rows_total, 80'000);

  for (int i = 0; i < 80'000; i += 2) {  // every other key deleted, half of them hinted
    ASSERT_TRUE(store->Delete(Key(i), i % 4 == 0 ? KeyHint::kPresent : KeyHint::kUnknown).ok());
    expected.erase(Key(i));
  }
  for (int i = 1; i < 80'000; i += 4) {  // updates, read first as the operators do
    auto v = store->Get(Key(i));
    ASSERT_TRUE(v.ok() && v->has_value());
    ASSERT_TRUE(store->Put(Key(i), **v + "+").ok());
    expected[Key(i)] += "+";
  }
  for (int i = 0; i < 20'000; ++i) {  // created and deleted in the same batch
    ASSERT_TRUE(store->Put(fmt::format("tmp{:06d}", i), "x", KeyHint::kAbsent).ok());
    ASSERT_TRUE(store->Delete(fmt::format("tmp{:06d}", i)).ok());
  }
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(store->Delete(fmt::format("never{:06d}", i)).ok());
    ASSERT_TRUE(store->Put(fmt::format("new{:06d}", i), "n").ok());
    expected[fmt::format("new{:06d}", i)] = "n";
  }
  EXPECT_EQ(ScanAll(store.get()), expected);  // pending changes merged into reads
  Contents with_prefix;
  for (const auto& [k, v] : expected) {
    if (k.rfind("key0000", 0) == 0) with_prefix.emplace(k, v);
  }
  EXPECT_EQ(ScanAll(store.get(), "key0000"), with_prefix);
  ASSERT_EQ(*store->Commit(), 2);
  EXPECT_EQ(store->metrics().num_rows_total, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(store->metrics().num_rows_removed, 40'000);
  EXPECT_EQ(store->metrics().num_rows_updated, 20'000 + 10'000);
  EXPECT_EQ(ScanAll(store.get()), expected);
  EXPECT_FALSE(store->Get(Key(0))->has_value());
  EXPECT_EQ(**store->Get(Key(1)), "v1-1+");
  store.reset();
  ReleaseCachedStateStores(dir_.path());  // reload from the checkpoint files
  auto reloaded = OpenOrDie(o, 2);
  EXPECT_EQ(ScanAll(reloaded.get()), expected);
  EXPECT_EQ(reloaded->metrics().num_rows_total, static_cast<int64_t>(expected.size()));
}

// The checkpoint files of a store dir (not the live instance in _work), by
// name, with their sizes (a folder: the sum of its files).
std::map<std::string, uintmax_t> CheckpointFiles(const std::string& dir) {
  std::map<std::string, uintmax_t> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name == "_work") continue;
    uintmax_t size = 0;
    if (e.is_directory()) {
      for (const auto& f : fs::recursive_directory_iterator(e.path())) {
        if (f.is_regular_file()) size += f.file_size();
      }
    } else {
      size = e.file_size();
    }
    out[name] = size;
  }
  return out;
}

TEST_P(StateStoreTest, CommitAddsOnlyItsChangelogWhateverTheResidentSize) {
  // Between snapshots a commit adds exactly one file, `<v>.changelog`, of the
  // same size over 10 resident rows as over 200,000, and changes no other
  // checkpoint file: the bytes a commit writes follow the changes only.
  auto bytes_per_commit = [&](int64_t operator_id, int rows) {
    StateStoreOptions o = Options();
    o.operator_id = operator_id;
    o.min_deltas_for_snapshot = 10;
    auto store = OpenOrDie(o, 0);
    for (int i = 0; i < rows; ++i) EXPECT_TRUE(store->Put(Key(i), "value-0123456789").ok());
    EXPECT_EQ(*store->Commit(), 1);
    std::vector<uintmax_t> sizes;
    for (int v = 2; v <= 6; ++v) {
      auto before = CheckpointFiles(StoreDir(o));
      EXPECT_TRUE(store->Put(Key(v - 2), fmt::format("new-value-{}", v)).ok());  // an update
      EXPECT_TRUE(store->Put(fmt::format("fresh{}", v), "x").ok());              // an insert
      EXPECT_TRUE(store->Delete(Key(v + 3)).ok());                               // a delete
      EXPECT_TRUE(store->Delete("never-there").ok());                            // a no-op
      EXPECT_EQ(*store->Commit(), v);
      EXPECT_EQ(store->metrics().num_rows_updated, 2);
      EXPECT_EQ(store->metrics().num_rows_removed, 1);
      EXPECT_EQ(store->metrics().num_rows_total, rows);  // one insert, one delete each time
      auto after = CheckpointFiles(StoreDir(o));
      std::string added = fmt::format("{}.changelog", v);
      EXPECT_EQ(after.size(), before.size() + 1) << "version " << v;
      for (const auto& [name, size] : before) {
        EXPECT_TRUE(after.count(name)) << name << " vanished at version " << v;
        EXPECT_EQ(after[name], size) << name << " changed at version " << v;
      }
      EXPECT_TRUE(after.count(added)) << "version " << v;
      sizes.push_back(after[added]);
    }
    return sizes;
  };
  std::vector<uintmax_t> small = bytes_per_commit(20, 10);
  std::vector<uintmax_t> large = bytes_per_commit(21, 200'000);
  EXPECT_EQ(small, large);
  for (uintmax_t s : small) EXPECT_LT(s, 200u);
}

TEST_P(StateStoreTest, SnapshotsAndChangelogsRecoverEveryRetainedVersion) {
  // Snapshots every 4 versions, 6 versions retained, 40 versions of random
  // changes over 300 keys: after the run, every retained version loads to
  // exactly its contents, from a cold process state (no live instance), and
  // each snapshot alone (its changelogs removed) still gives its version.
  StateStoreOptions o = Options();
  o.min_deltas_for_snapshot = 4;
  o.min_batches_to_retain = 6;
  std::vector<Contents> expected(1);
  {
    std::mt19937 rng(77);
    auto store = OpenOrDie(o, 0);
    Contents cur;
    for (int v = 1; v <= 40; ++v) {
      for (int i = 0; i < 60; ++i) {
        std::string k = Key(static_cast<int>(rng() % 300));
        if (rng() % 4 == 0) {
          ASSERT_TRUE(store->Delete(k).ok());
          cur.erase(k);
        } else {
          std::string val = fmt::format("v{}-{}", v, rng() % 100000);
          ASSERT_TRUE(store->Put(k, val).ok());
          cur[k] = val;
        }
      }
      ASSERT_EQ(*store->Commit(), v);
      expected.push_back(cur);
    }
  }
  ReleaseCachedStateStores(dir_.path());
  std::string dir = StoreDir(o);
  auto versions = ListStateVersions(dir);
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_FALSE(versions->empty());
  EXPECT_LE(versions->front(), 35);
  EXPECT_EQ(versions->back(), 40);
  for (int64_t v : *versions) {
    auto store = OpenOrDie(o, v);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(ScanAll(store.get()), expected[v]) << "version " << v;
    EXPECT_EQ(store->metrics().num_rows_total, static_cast<int64_t>(expected[v].size()));
    auto rows = ReadStateRows(dir, v);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(RowsToMap(*rows), expected[v]) << "version " << v;
  }
  ReleaseCachedStateStores(dir_.path());
  // Each snapshot on its own: drop every changelog, load the snapshot versions.
  std::vector<int64_t> snapshots;
  for (const auto& [name, size] : CheckpointFiles(dir)) {
    if (name.ends_with(".snapshot")) snapshots.push_back(std::stoll(name));
  }
  ASSERT_FALSE(snapshots.empty());
  EXPECT_EQ(snapshots.back(), 40);
  for (const auto& [name, size] : CheckpointFiles(dir)) {
    if (name.ends_with(".changelog")) fs::remove(dir + "/" + name);
  }
  for (int64_t v : snapshots) {
    auto rows = ReadStateRows(dir, v);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(RowsToMap(*rows), expected[v]) << "snapshot " << v;
  }
}

TEST_P(StateStoreTest, CleanupBoundsTheFilesToMinBatchesToRetain) {
  // A long run keeps a bounded number of files: the last minBatchesToRetain
  // versions plus the snapshot they start from, whatever the run's length.
  StateStoreOptions o = Options();
  o.min_deltas_for_snapshot = 5;
  o.min_batches_to_retain = 7;
  auto store = OpenOrDie(o, 0);
  std::string dir = StoreDir(o);
  for (int v = 1; v <= 60; ++v) {
    ASSERT_TRUE(store->Put(Key(v % 13), fmt::format("{}", v)).ok());
    ASSERT_EQ(*store->Commit(), v);
    WaitForStateStoreSnapshots(dir_.path());
    auto files = CheckpointFiles(dir);
    if (v >= 20) {
      // Cleanup runs with each snapshot: 7 retained versions, the changelogs
      // back to their base snapshot (< 5 more) and those committed since the
      // last cleanup (< 5 more), and at most 3 snapshots.
      EXPECT_LE(files.size(), 7u + 2 * 5u + 3u) << "version " << v;
      auto versions = ListStateVersions(dir);
      ASSERT_TRUE(versions.ok());
      EXPECT_LE(versions->front(), v - 6) << "version " << v;
      EXPECT_GE(versions->front(), v - 6 - 2 * 5) << "version " << v;
    }
  }
  EXPECT_FALSE(fs::exists(dir + "/1.changelog"));
  EXPECT_FALSE(fs::exists(dir + "/5.snapshot"));
  EXPECT_TRUE(fs::exists(dir + "/60.snapshot"));
}

TEST_P(StateStoreTest, SnapshotAfterASwitchOfProvider) {
  // The store switches provider in the middle of its history; the next
  // snapshots start from the other provider's snapshot (a RocksDB folder or a
  // record file) and loads still give every version.
  StateStoreOptions o = Options();
  o.min_deltas_for_snapshot = 3;
  std::vector<Contents> expected = WriteHistory(o, 7, 11);  // snapshots at 3 and 6
  ReleaseCachedStateStores();
  StateStoreOptions other = o;
  other.provider = o.provider == StateStoreProvider::kMemory ? StateStoreProvider::kRocksDB
                                                             : StateStoreProvider::kMemory;
  {
    auto store = OpenOrDie(other, 7);
    Contents cur = expected[7];
    for (int v = 8; v <= 13; ++v) {
      std::string k = Key(v % 50);
      ASSERT_TRUE(store->Put(k, fmt::format("after-switch-{}", v)).ok());
      cur[k] = fmt::format("after-switch-{}", v);
      ASSERT_EQ(*store->Commit(), v);
      expected.push_back(cur);
    }
  }
  ReleaseCachedStateStores();
  EXPECT_TRUE(fs::exists(StoreDir(o) + "/9.snapshot"));
  EXPECT_TRUE(fs::exists(StoreDir(o) + "/12.snapshot"));
  for (int v : {6, 7, 9, 10, 12, 13}) {
    auto store = OpenOrDie(o, v);
    EXPECT_EQ(ScanAll(store.get()), expected[v]) << "version " << v;
  }
}

INSTANTIATE_TEST_SUITE_P(Providers, StateStoreTest,
                         testing::Values(StateStoreProvider::kRocksDB, StateStoreProvider::kMemory),
                         [](const testing::TestParamInfo<StateStoreProvider>& info) {
                           return info.param == StateStoreProvider::kRocksDB ? "RocksDB" : "Memory";
                         });

TEST(RocksDBStateStore, MemoryBoundConfiguresTheSharedCache) {
  TempDir dir;
  StateStoreOptions o;
  o.state_dir = dir.path();
  o.rocksdb_memory_bytes = 768ll << 20;  // larger than any other test asks: the cache grows to it
  o.rocksdb_write_buffer_bytes = 1 << 20;
  auto store = StateStore::Open(o, 0);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(RocksDBSharedCacheCapacity(), 768ll << 20);
  EXPECT_EQ(RocksDBSharedWriteBufferBytes(), 384ll << 20);
  // A second store with a smaller bound shares the cache, which never shrinks.
  o.partition_id = 1;
  o.rocksdb_memory_bytes = 64ll << 20;
  auto other = StateStore::Open(o, 0);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(RocksDBSharedCacheCapacity(), 768ll << 20);
  // Many rows with 1 MiB memtables: state spills to SST files, and stays readable.
  std::string value(1000, 'v');
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE((*store)->Put(Key(i), value).ok());
  ASSERT_TRUE((*store)->Commit().ok());
  EXPECT_EQ(*(*store)->Get(Key(4321)), std::optional<std::string>(value));
  EXPECT_GT((*store)->metrics().memory_used_bytes, 0);
  EXPECT_LT((*store)->metrics().memory_used_bytes, 64ll << 20);
}

TEST(RocksDBStateStore, PartitionsCommitConcurrently) {
  // One store per shuffle partition, each driven by its own thread, sharing
  // the process's cache; then every partition reloads from its files.
  TempDir dir;
  constexpr int kPartitions = 8;
  constexpr int kVersions = 12;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kPartitions);
  for (int p = 0; p < kPartitions; ++p) {
    threads.emplace_back([&, p] {
      StateStoreOptions o;
      o.state_dir = dir.path();
      o.partition_id = p;
      o.min_deltas_for_snapshot = 5;
      o.schema = "k: binary, v: binary";
      for (int v = 0; v < kVersions; ++v) {
        auto store = StateStore::Open(o, v);  // the fast path between batches
        if (!store.ok()) {
          errors[p] = store.status().ToString();
          return;
        }
        for (int i = 0; i < 100; ++i) {
          (void)(*store)->Put(Key(v * 100 + i), fmt::format("p{}v{}", p, v));
        }
        if (v > 0) (void)(*store)->Delete(Key((v - 1) * 100));
        auto c = (*store)->Commit();
        if (!c.ok() || *c != v + 1) {
          errors[p] = c.ok() ? "wrong version" : c.status().ToString();
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int p = 0; p < kPartitions; ++p) EXPECT_EQ(errors[p], "") << "partition " << p;
  ReleaseCachedStateStores(dir.path());
  for (int p = 0; p < kPartitions; ++p) {
    StateStoreOptions o;
    o.state_dir = dir.path();
    o.partition_id = p;
    auto store = StateStore::Open(o, kVersions);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->metrics().num_rows_total, kVersions * 100 - (kVersions - 1));
    EXPECT_EQ(*(*store)->Get(Key(5)), std::optional<std::string>(fmt::format("p{}v0", p)));
    EXPECT_EQ(*(*store)->Get(Key(100)), std::nullopt);
  }
}

TEST(StateStoreOptionsTest, StoreDirFollowsSparkLayout) {
  StateStoreOptions o;
  o.state_dir = "/cp/state";
  o.operator_id = 2;
  o.partition_id = 7;
  EXPECT_EQ(StoreDir(o), "/cp/state/2/7");
  o.store_name = "left-keyToNumValues";
  EXPECT_EQ(StoreDir(o), "/cp/state/2/7/left-keyToNumValues");
}

TEST(StateStoreOptionsTest, BadOptionsAreRefused) {
  StateStoreOptions o;
  EXPECT_FALSE(StateStore::Open(o, 0).ok());  // no state_dir
  TempDir dir;
  o.state_dir = dir.path();
  EXPECT_FALSE(StateStore::Open(o, -1).ok());
  o.store_name = "_work";
  EXPECT_FALSE(StateStore::Open(o, 0).ok());
}

}  // namespace
}  // namespace lakestream::state
