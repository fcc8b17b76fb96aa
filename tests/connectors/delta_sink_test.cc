// The Delta streaming sink: a large batch is cut into one file per core (so
// WriteDelta encodes them in parallel) in row order, a small one stays one
// file, maxRecordsPerFile caps files, a replayed batch id is skipped, and
// checkpoints are written in the background and read back as they are now.
#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>

#include <filesystem>
#include <thread>

#include "connectors/builtin.h"
#include "connectors/delta/checkpoint.h"
#include "connectors/delta/log.h"
#include "connectors/streaming.h"
#include "storage/filesystem.h"

namespace lakestream::connectors {
namespace {

namespace fs = std::filesystem;

class DeltaSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterDeltaStreaming();
    dir_ = fs::temp_directory_path() /
           ("lakestream-delta-sink-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<arrow::Schema> schema_ = arrow::schema({arrow::field("id", arrow::int64())});

  /// Rows first..first+n-1 in record batches of `chunk` rows (as a scan yields them).
  std::vector<std::shared_ptr<arrow::RecordBatch>> Ids(int64_t first, int64_t n, int64_t chunk) {
    std::vector<std::shared_ptr<arrow::RecordBatch>> out;
    for (int64_t at = 0; at < n; at += chunk) {
      arrow::Int64Builder b;
      int64_t k = std::min(chunk, n - at);
      for (int64_t i = 0; i < k; ++i) EXPECT_TRUE(b.Append(first + at + i).ok());
      out.push_back(arrow::RecordBatch::Make(schema_, k, {*b.Finish()}));
    }
    return out;
  }

  /// The ids of each file `version` added, file by file in log order.
  std::vector<std::vector<int64_t>> FilesOf(int64_t version) {
    std::vector<std::vector<int64_t>> out;
    auto changes = delta::DeltaLog::Open(dir_.string())->ReadVersion(version);
    EXPECT_TRUE(changes.ok()) << changes.status().ToString();
    if (!changes.ok()) return out;
    for (const auto& add : changes->adds) {
      auto file = arrow::io::ReadableFile::Open((dir_ / add.path).string());
      EXPECT_TRUE(file.ok());
      auto reader = parquet::arrow::OpenFile(*file, arrow::default_memory_pool());
      EXPECT_TRUE(reader.ok());
      auto read = (*reader)->ReadTable();
      EXPECT_TRUE(read.ok());
      if (!read.ok()) return out;
      auto table = *read;
      auto ids = table->GetColumnByName("id");
      std::vector<int64_t> rows;
      for (const auto& chunk : ids->chunks()) {
        auto a = std::static_pointer_cast<arrow::Int64Array>(chunk);
        for (int64_t i = 0; i < a->length(); ++i) rows.push_back(a->Value(i));
      }
      out.push_back(std::move(rows));
    }
    return out;
  }

  std::unique_ptr<Sink> MakeDeltaSink(Options extra = {}) {
    extra["path"] = dir_.string();
    auto sink = MakeSink("delta", extra, {"query-1", OutputMode::kAppend, ""});
    EXPECT_TRUE(sink.ok()) << sink.status().ToString();
    EXPECT_TRUE((*sink)->Prepare(schema_).ok());
    return std::move(*sink);
  }

  fs::path dir_;
};

TEST_F(DeltaSinkTest, LargeBatchIsOneFilePerCoreInRowOrder) {
  auto sink = MakeDeltaSink();
  const int64_t n = 200000;
  ASSERT_TRUE(sink->AddBatch(0, schema_, Ids(0, n, 65536)).ok());
  auto metrics = sink->TakeMetrics();
  const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
  const int64_t expect_files = std::min<int64_t>(cores, n / 65536);  // 3 at most: >= 64Ki rows each
  EXPECT_EQ(metrics["numFilesAdded"], std::to_string(expect_files));
  EXPECT_EQ(metrics["version"], "1");  // version 0 is the CREATE TABLE of Prepare
  EXPECT_TRUE(metrics.count("writeMs"));
  // Concatenated in log order, the files are the batch's rows in order.
  std::vector<int64_t> all;
  auto files = FilesOf(1);
  ASSERT_EQ(static_cast<int64_t>(files.size()), expect_files);
  for (const auto& f : files) {
    EXPECT_LE(static_cast<int64_t>(f.size()), (n + expect_files - 1) / expect_files);
    all.insert(all.end(), f.begin(), f.end());
  }
  ASSERT_EQ(static_cast<int64_t>(all.size()), n);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(all[i], i) << "row " << i;

  // The same batch id again (a replay after a crash) adds nothing.
  ASSERT_TRUE(sink->AddBatch(0, schema_, Ids(0, n, 65536)).ok());
  EXPECT_EQ(sink->TakeMetrics()["skippedAsDuplicate"], "true");
  auto snap = delta::DeltaLog::Open(dir_.string())->Latest();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->version(), 1);
}

TEST_F(DeltaSinkTest, SmallBatchIsOneFile) {
  auto sink = MakeDeltaSink();
  ASSERT_TRUE(sink->AddBatch(0, schema_, Ids(0, 5000, 1000)).ok());
  auto files = FilesOf(1);
  ASSERT_EQ(files.size(), 1u);
  ASSERT_EQ(files[0].size(), 5000u);
  EXPECT_EQ(files[0].front(), 0);
  EXPECT_EQ(files[0].back(), 4999);
}

TEST_F(DeltaSinkTest, MaxRecordsPerFileCapsFiles) {
  auto sink = MakeDeltaSink({{"maxRecordsPerFile", "1500"}});
  ASSERT_TRUE(sink->AddBatch(0, schema_, Ids(100, 5000, 700)).ok());
  auto files = FilesOf(1);
  ASSERT_EQ(files.size(), 4u);  // 1500, 1500, 1500, 500
  std::vector<int64_t> all;
  for (const auto& f : files) {
    EXPECT_LE(f.size(), 1500u);
    all.insert(all.end(), f.begin(), f.end());
  }
  ASSERT_EQ(all.size(), 5000u);
  for (int64_t i = 0; i < 5000; ++i) ASSERT_EQ(all[i], 100 + i);
}

TEST_F(DeltaSinkTest, CheckpointsAreWrittenInTheBackgroundAndReadBackAsTheyAreNow) {
  {
    auto sink = MakeDeltaSink({{"delta.checkpointInterval", "2"}});
    for (int64_t b = 0; b < 4; ++b) {
      ASSERT_TRUE(sink->AddBatch(b, schema_, Ids(b * 10, 10, 10)).ok());
      auto m = sink->TakeMetrics();
      // Versions 1..4 (0 created the table): 2 and 4 call for a checkpoint.
      EXPECT_EQ(m["checkpointWritten"], (b % 2 == 1) ? "true" : "false") << "batch " << b;
    }
  }  // the sink waits for its checkpoint when it goes away
  auto log_dir = dir_ / "_delta_log";
  auto cp2 = (log_dir / "00000000000000000002.checkpoint.parquet").string();
  auto cp4 = (log_dir / "00000000000000000004.checkpoint.parquet").string();
  ASSERT_TRUE(fs::exists(cp2));
  ASSERT_TRUE(fs::exists(cp4));
  auto snap = delta::DeltaLog::Open(dir_.string())->Latest();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ((*snap)->version(), 4);
  EXPECT_EQ((*snap)->checkpoint_version(), 4);
  EXPECT_EQ((*snap)->files().size(), 4u);

  // Decoded checkpoints are cached, keyed by the file as it is: a file
  // replaced under the same name is read again.
  storage::LocalFileSystem local;
  auto adds = [&](const std::string& path) {
    auto actions = delta::ReadCheckpointFile(&local, path);
    EXPECT_TRUE(actions.ok()) << actions.status().ToString();
    size_t n = 0;
    if (actions.ok()) {
      for (const auto& a : *actions) n += std::holds_alternative<delta::AddFile>(a);
    }
    return n;
  };
  EXPECT_EQ(adds(cp4), 4u);
  EXPECT_EQ(adds(cp4), 4u);  // from the cache
  fs::copy_file(cp2, cp4 + ".tmp");
  fs::rename(cp4 + ".tmp", cp4);
  EXPECT_EQ(adds(cp4), 2u);
}

TEST_F(DeltaSinkTest, BadMaxRecordsPerFileIsRefused) {
  auto sink = MakeSink("delta", {{"path", dir_.string()}, {"maxRecordsPerFile", "many"}},
                       {"query-1", OutputMode::kAppend, ""});
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.status().message().find("maxRecordsPerFile"), std::string::npos)
      << sink.status().ToString();
}

}  // namespace
}  // namespace lakestream::connectors
