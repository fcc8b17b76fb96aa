// Tests of the local filesystem primitives the Delta log relies on:
// atomic replacement, put-if-absent under races, listing and ranged reads.
#include "storage/filesystem.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

namespace lakestream::storage {
namespace {

class FileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ls_fs_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(fs_.MakeDirs(dir_.string()).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string P(const std::string& name) { return JoinPath(dir_.string(), name); }

  std::filesystem::path dir_;
  LocalFileSystem fs_;
};

TEST_F(FileSystemTest, WriteReadListRange) {
  ASSERT_TRUE(fs_.WriteAtomic(P("b.json"), "hello world").ok());
  ASSERT_TRUE(fs_.WriteAtomic(P("a.json"), "x").ok());
  ASSERT_TRUE(fs_.WriteAtomic(P("c.txt"), "yy").ok());
  auto all = fs_.ReadAll(P("b.json"));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, "hello world");
  auto range = fs_.ReadRange(P("b.json"), 6, 100);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, "world");
  auto list = fs_.List(dir_.string(), "");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);  // no temp files left behind
  EXPECT_EQ((*list)[0].name, "a.json");
  EXPECT_EQ((*list)[1].size, 11);
  EXPECT_GT((*list)[1].modification_time_ms, 0);
  auto pref = fs_.List(dir_.string(), "c");
  ASSERT_TRUE(pref.ok());
  ASSERT_EQ(pref->size(), 1u);
  EXPECT_EQ((*pref)[0].name, "c.txt");
}

TEST_F(FileSystemTest, WriteAtomicReplaces) {
  ASSERT_TRUE(fs_.WriteAtomic(P("f"), "old").ok());
  ASSERT_TRUE(fs_.WriteAtomic(P("f"), "new content").ok());
  EXPECT_EQ(*fs_.ReadAll(P("f")), "new content");
}

TEST_F(FileSystemTest, MissingFileIsNotFound) {
  auto r = fs_.ReadAll(P("nope"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(IsNotFound(r.status()));
  EXPECT_NE(r.status().message().find("nope"), std::string::npos);
  EXPECT_FALSE(*fs_.Exists(P("nope")));
  EXPECT_TRUE(fs_.Delete(P("nope")).ok());
  auto l = fs_.List(P("nodir"));
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(IsNotFound(l.status()));
}

TEST_F(FileSystemTest, PutIfAbsentNeverOverwrites) {
  ASSERT_TRUE(fs_.PutIfAbsent(P("00.json"), "first").ok());
  Status st = fs_.PutIfAbsent(P("00.json"), "second");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(IsAlreadyExists(st));
  EXPECT_FALSE(IsNotFound(st));
  EXPECT_EQ(*fs_.ReadAll(P("00.json")), "first");
  EXPECT_EQ(fs_.List(dir_.string())->size(), 1u);
}

TEST_F(FileSystemTest, WriteNewCreatesOnceWithoutTempFiles) {
  ASSERT_TRUE(fs_.WriteNew(P("part-0.parquet"), "data").ok());
  EXPECT_EQ(*fs_.ReadAll(P("part-0.parquet")), "data");
  Status st = fs_.WriteNew(P("part-0.parquet"), "other");
  ASSERT_FALSE(st.ok());  // never truncates or removes an existing file
  EXPECT_NE(st.message().find("part-0.parquet"), std::string::npos) << st.ToString();
  EXPECT_EQ(*fs_.ReadAll(P("part-0.parquet")), "data");
  EXPECT_EQ(fs_.List(dir_.string())->size(), 1u);
}

TEST_F(FileSystemTest, PutIfAbsentRaceHasOneWinner) {
  constexpr int kThreads = 8;
  constexpr int kNames = 50;
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kNames; ++i) {
        Status st = fs_.PutIfAbsent(P("v" + std::to_string(i)), "writer" + std::to_string(t));
        if (st.ok()) {
          wins++;
        } else {
          EXPECT_TRUE(IsAlreadyExists(st)) << st.ToString();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wins.load(), kNames);
  auto list = fs_.List(dir_.string());
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), static_cast<size_t>(kNames));
  for (const auto& f : *list) {
    auto content = fs_.ReadAll(f.path);
    ASSERT_TRUE(content.ok());
    EXPECT_EQ(content->rfind("writer", 0), 0u) << *content;  // complete, never empty
  }
}

TEST_F(FileSystemTest, ConcurrentWriteAtomicReadersSeeWholeFiles) {
  std::string a(100000, 'a'), b(200000, 'b');
  ASSERT_TRUE(fs_.WriteAtomic(P("x"), a).ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(fs_.WriteAtomic(P("x"), i % 2 ? a : b).ok());
    stop = true;
  });
  while (!stop) {
    auto r = fs_.ReadAll(P("x"));
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(*r == a || *r == b) << "torn read of size " << r->size();
  }
  writer.join();
}

TEST_F(FileSystemTest, MakeDirsNested) {
  ASSERT_TRUE(fs_.MakeDirs(P("a/b/c")).ok());
  ASSERT_TRUE(fs_.MakeDirs(P("a/b/c")).ok());
  EXPECT_TRUE(*fs_.Exists(P("a/b/c")));
  ASSERT_TRUE(fs_.WriteAtomic(P("file"), "1").ok());
  EXPECT_FALSE(fs_.MakeDirs(P("file")).ok());
}

}  // namespace
}  // namespace lakestream::storage
