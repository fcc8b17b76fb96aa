// Write-read round trips of the Delta writer: partitioned tables of many
// types, several commits, checkpoints, time travel, txn idempotency, overwrite,
// concurrent appenders, and corrupt logs.
#include "connectors/delta/writer.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <gtest/gtest.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "connectors/delta/actions.h"
#include "connectors/delta/checkpoint.h"
#include "connectors/delta/deletion_vector.h"
#include "connectors/delta/log.h"
#include "connectors/delta/scan.h"
#include "test_util.h"
#include "types/types.h"

namespace lakestream::delta {
namespace {

using testing::CanonicalRows;
using testing::TempDir;

std::shared_ptr<arrow::Table> MakeData(int64_t start, int64_t n) {
  arrow::Int64Builder id;
  arrow::StringBuilder name, part;
  arrow::DoubleBuilder score;
  arrow::Date32Builder day;
  arrow::TimestampBuilder ts(types::Timestamp(), arrow::default_memory_pool());
  arrow::BooleanBuilder flag;
  arrow::Decimal128Builder dec(arrow::decimal128(10, 2));
  for (int64_t i = start; i < start + n; ++i) {
    (void)id.Append(i);
    if (i % 7 == 3) {
      (void)name.AppendNull();
    } else {
      (void)name.Append("name \"" + std::to_string(i) + "\"/é");
    }
    (void)part.Append(i % 3 == 0 ? "a b" : (i % 3 == 1 ? "x=y/%" : "c"));
    (void)score.Append(static_cast<double>(i) / 4);
    (void)day.Append(static_cast<int32_t>(18000 + i));
    (void)ts.Append(1600000000000000LL + i * 1000001);
    (void)flag.Append(i % 2 == 0);
    (void)dec.Append(arrow::Decimal128(i * 101));
  }
  std::shared_ptr<arrow::Array> a[8];
  (void)id.Finish(&a[0]);
  (void)name.Finish(&a[1]);
  (void)part.Finish(&a[2]);
  (void)score.Finish(&a[3]);
  (void)day.Finish(&a[4]);
  (void)ts.Finish(&a[5]);
  (void)flag.Finish(&a[6]);
  (void)dec.Finish(&a[7]);
  auto schema = arrow::schema(
      {arrow::field("id", arrow::int64()), arrow::field("name", arrow::utf8()),
       arrow::field("part", arrow::utf8()), arrow::field("score", arrow::float64()),
       arrow::field("day", arrow::date32()), arrow::field("ts", types::Timestamp()),
       arrow::field("flag", arrow::boolean()), arrow::field("dec", arrow::decimal128(10, 2))});
  return arrow::Table::Make(schema, {a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]});
}

std::vector<std::string> ReadRows(const std::string& root, std::optional<int64_t> version = {}) {
  auto log = DeltaLog::Open(root);
  auto snap = version ? log->AtVersion(*version) : log->Latest();
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  if (!snap.ok()) return {};
  auto scan = DeltaScan::Make(*snap);
  EXPECT_TRUE(scan.ok()) << scan.status().ToString();
  auto t = (*scan)->ReadAll();
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return {};
  auto rows = CanonicalRows(**t, {"id", "name", "part", "score", "day", "ts", "flag", "dec"});
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return rows.ok() ? *rows : std::vector<std::string>{};
}

// All rows of the latest version, sorted, in the canonical form.
std::vector<std::string> ReadRowsOf(const std::string& root, const std::vector<std::string>& cols) {
  auto snap = DeltaLog::Open(root)->Latest();
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  if (!snap.ok()) return {};
  auto t = (*DeltaScan::Make(*snap))->ReadAll();
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return {};
  auto rows = CanonicalRows(**t, cols);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return rows.ok() ? *rows : std::vector<std::string>{};
}

std::vector<std::string> Expected(const std::vector<std::shared_ptr<arrow::Table>>& tables) {
  std::vector<std::string> all;
  for (const auto& t : tables) {
    auto r = CanonicalRows(*t, {"id", "name", "part", "score", "day", "ts", "flag", "dec"});
    all.insert(all.end(), r->begin(), r->end());
  }
  std::sort(all.begin(), all.end());
  return all;
}

TEST(DeltaActions, JsonRoundTrip) {
  AddFile a;
  a.path = "p=a%20b/f.parquet";
  a.partition_values = {{"p", "a b"}, {"q", std::nullopt}};
  a.size = 10;
  a.modification_time = 5;
  a.stats = R"({"numRecords":1})";
  a.deletion_vector = DeletionVectorDescriptor{"u", "ab^-aqEH.-t@S}K{vb[*k^", 1, 36, 3, {}};
  std::string line = ToJson(a);
  auto back = ParseActionLine(line, "test");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->has_value());
  const auto& b = std::get<AddFile>(**back);
  EXPECT_EQ(b.path, a.path);
  EXPECT_EQ(b.partition_values, a.partition_values);
  EXPECT_EQ(*b.stats, *a.stats);
  EXPECT_EQ(b.deletion_vector->UniqueId(), a.deletion_vector->UniqueId());
  EXPECT_EQ(ToJson(b), line);
}

TEST(DeltaActions, MalformedLineNamesFileAndLine) {
  auto r = ParseCommitFile("{\"protocol\":{\"minReaderVersion\":1}}\n{\"add\": {oops\n",
                           "00000000000000000003.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("00000000000000000003.json line 2"), std::string::npos)
      << r.status().ToString();
  auto missing = ParseCommitFile("{\"add\":{\"size\":1}}", "x.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'path'"), std::string::npos);
  // Unknown action types and fields are ignored (forward compatibility).
  auto unknown = ParseCommitFile(
      "{\"futureAction\":{\"a\":1}}\n{\"txn\":{\"appId\":\"q\","
      "\"version\":3,\"newField\":[1]}}\n",
      "y.json");
  ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
  ASSERT_EQ(unknown->size(), 1u);
  EXPECT_EQ(std::get<Txn>((*unknown)[0]).version, 3);
}

TEST(DeltaDeletionVector, Z85AndRoaringRoundTrip) {
  std::vector<uint64_t> rows = {0, 3, 70000, (uint64_t{1} << 32) + 5};
  std::string bytes = SerializeRoaringBitmapArray(rows);
  auto back = ParseRoaringBitmapArray(bytes, "t");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, rows);
  while (bytes.size() % 4) bytes.push_back('\0');
  auto dec = Z85Decode(Z85Encode(bytes));
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(*dec, bytes);
  EXPECT_FALSE(ParseRoaringBitmapArray(bytes.substr(0, 14), "t").ok());
}

TEST(DeltaWriter, PartitionedRoundTripWithCheckpointAndTimeTravel) {
  TempDir dir("rt");
  std::string root = dir.path() + "/table";
  std::vector<std::shared_ptr<arrow::Table>> written;
  DeltaWriteOptions opts;
  opts.partition_columns = {"part"};
  for (int i = 0; i < 12; ++i) {
    auto data = MakeData(i * 10, 10);
    auto r = WriteDelta(root, data, opts);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->version, i);
    EXPECT_EQ(r->checkpoint_written, i == 10);
    written.push_back(data);
  }
  EXPECT_TRUE(
      std::filesystem::exists(root + "/_delta_log/00000000000000000010.checkpoint.parquet"));
  EXPECT_TRUE(std::filesystem::exists(root + "/_delta_log/_last_checkpoint"));
  EXPECT_TRUE(std::filesystem::exists(root + "/part=x%3Dy%2F%25"));
  auto snap = DeltaLog::Open(root)->Latest();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ((*snap)->checkpoint_version(), 10);
  EXPECT_EQ((*snap)->version(), 11);
  EXPECT_EQ(ReadRows(root), Expected(written));
  // Time travel.
  EXPECT_EQ(ReadRows(root, 0), Expected({written[0]}));
  EXPECT_EQ(ReadRows(root, 10), Expected(std::vector<std::shared_ptr<arrow::Table>>(
                                    written.begin(), written.begin() + 11)));
  // Reading through the checkpoint alone (commits before it deleted).
  for (int v = 0; v < 10; ++v) {
    std::filesystem::remove(root + "/_delta_log/" + CommitFileName(v));
  }
  EXPECT_EQ(ReadRows(root), Expected(written));
  EXPECT_FALSE(DeltaLog::Open(root)->AtVersion(3).ok());
}

TEST(DeltaWriter, StatsPruneFilesAndPartitions) {
  TempDir dir("prune");
  std::string root = dir.path() + "/t";
  DeltaWriteOptions opts;
  opts.partition_columns = {"part"};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(WriteDelta(root, MakeData(i * 100, 100), opts).ok());
  auto snap = *DeltaLog::Open(root)->Latest();
  ASSERT_EQ(snap->files().size(), 15u);
  DeltaScanOptions so;
  so.predicates.push_back({"id", ColumnPredicate::kGe, {arrow::MakeScalar(int64_t{420})}});
  auto scan = *DeltaScan::Make(snap, so);
  EXPECT_EQ(scan->files().size(), 3u);
  EXPECT_EQ(scan->metrics().files_pruned_by_stats, 12);
  DeltaScanOptions po;
  po.predicates.push_back({"part", ColumnPredicate::kEq, {arrow::MakeScalar(std::string("c"))}});
  auto pscan = *DeltaScan::Make(snap, po);
  EXPECT_EQ(pscan->files().size(), 5u);
  EXPECT_EQ(pscan->metrics().files_pruned_by_partition, 10);
  auto t = pscan->ReadAll();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->num_rows(), 166);
  // Stats content.
  const auto& stats = *snap->files()[0].stats;
  EXPECT_NE(stats.find("\"numRecords\":"), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"minValues\":{\"id\":"), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"ts\":\"2020-09-13T"), std::string::npos) << stats;
}

TEST(DeltaScanTest, ProjectionKeepsRowsAndOrder) {
  TempDir dir("proj");
  std::string root = dir.path() + "/t";
  DeltaWriteOptions opts;
  opts.partition_columns = {"part"};
  ASSERT_TRUE(WriteDelta(root, MakeData(0, 30), opts).ok());
  DeltaScanOptions so;
  so.columns = std::vector<std::string>{"PART", "id"};
  auto scan = DeltaScan::Make(*DeltaLog::Open(root)->Latest(), so);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  auto t = (*scan)->ReadAll();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ((*t)->num_columns(), 2);
  EXPECT_EQ((*t)->schema()->field(0)->name(), "part");
  EXPECT_EQ((*t)->num_rows(), 30);
  so.columns = std::vector<std::string>{"part"};  // partition column only
  auto pt = (*DeltaScan::Make(*DeltaLog::Open(root)->Latest(), so))->ReadAll();
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ((*pt)->num_rows(), 30);
  so.columns = std::vector<std::string>{"nope"};
  EXPECT_FALSE(DeltaScan::Make(*DeltaLog::Open(root)->Latest(), so).ok());
}

TEST(DeltaWriter, TxnIdempotentAndOverwrite) {
  TempDir dir("txn");
  std::string root = dir.path() + "/t";
  DeltaWriteOptions opts;
  opts.app_id = "query-1";
  opts.app_version = 0;
  opts.operation = "STREAMING UPDATE";
  auto first = WriteDelta(root, MakeData(0, 5), opts);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = WriteDelta(root, MakeData(0, 5), opts);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->skipped);
  opts.app_version = 1;
  ASSERT_TRUE(WriteDelta(root, MakeData(5, 5), opts).ok());
  EXPECT_EQ(**LatestTxnVersion(root, "query-1"), 1);
  EXPECT_FALSE(LatestTxnVersion(root, "other")->has_value());
  EXPECT_EQ(ReadRows(root), Expected({MakeData(0, 10)}));
  DeltaWriteOptions ow;
  ow.mode = DeltaWriteOptions::Mode::kOverwrite;
  auto r = WriteDelta(root, MakeData(100, 3), ow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->files_removed, 2);
  EXPECT_EQ(ReadRows(root), Expected({MakeData(100, 3)}));
  EXPECT_EQ(ReadRows(root, 1), Expected({MakeData(0, 10)}));
  auto hist = DeltaLog::Open(root)->History();
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->size(), 3u);
  EXPECT_EQ(*(*hist)[0].commit_info->operation, "WRITE");
  EXPECT_EQ(*(*hist)[2].commit_info->operation, "STREAMING UPDATE");
  auto changes = DeltaLog::Open(root)->ChangesSince(0);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].version, 1);
  EXPECT_EQ((*changes)[0].adds.size(), 1u);
  EXPECT_EQ((*changes)[1].removes.size(), 2u);
  DeltaWriteOptions err;
  err.mode = DeltaWriteOptions::Mode::kErrorIfExists;
  EXPECT_FALSE(WriteDelta(root, MakeData(0, 1), err).ok());
}

// A streaming sink passes the snapshot of its previous write as the base of
// the next: the snapshot it gets back must be what a reload of the log gives,
// and a commit by another writer in between must be found (put-if-absent
// fails, the winner is conflict-checked) rather than overwritten or missed.
TEST(DeltaWriter, ChainedWritesFromOwnSnapshot) {
  TempDir dir("chain");
  std::string root = dir.path() + "/t";
  auto files_of = [](const Snapshot& s) {
    std::vector<std::string> out;
    for (const auto& f : s.files()) out.push_back(f.path);
    return out;
  };
  DeltaWriteOptions opts;
  opts.app_id = "query-1";
  opts.operation = "STREAMING UPDATE";
  opts.configuration = {{"delta.checkpointInterval", "3"}};
  std::shared_ptr<const Snapshot> base;
  for (int64_t batch = 0; batch < 8; ++batch) {
    if (batch == 4) {
      // Another writer commits a version the sink's snapshot does not know.
      ASSERT_TRUE(WriteDelta(root, MakeData(1000, 2), {}).ok());
    }
    opts.app_version = batch;
    opts.base = base;
    auto r = WriteDelta(root, MakeData(batch * 10, 10), opts);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_FALSE(r->skipped);
    auto reloaded = DeltaLog::Open(root)->Latest();
    ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
    EXPECT_EQ(r->version, (*reloaded)->version());
    if (batch == 0) {
      EXPECT_EQ(r->snapshot, nullptr);  // created the table: no base to build on
    } else if (batch == 4) {
      // Committed after the other writer's version: the snapshot is unknown.
      EXPECT_EQ(r->attempts, 2);
      EXPECT_EQ(r->snapshot, nullptr);
    } else {
      ASSERT_NE(r->snapshot, nullptr) << "batch " << batch;
      EXPECT_EQ(r->snapshot->version(), (*reloaded)->version());
      EXPECT_EQ(files_of(*r->snapshot), files_of(**reloaded));
      EXPECT_EQ(r->snapshot->TxnVersion("query-1"), (*reloaded)->TxnVersion("query-1"));
      EXPECT_EQ(r->snapshot->Config("delta.checkpointInterval"), "3");
    }
    base = r->snapshot;
  }
  // A replayed batch is still skipped through the snapshot's txn.
  opts.app_version = 7;
  opts.base = base;
  auto replay = WriteDelta(root, MakeData(70, 10), opts);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->skipped);
  // Complete mode: an overwrite on top of the snapshot removes every file.
  DeltaWriteOptions ow = opts;
  ow.mode = DeltaWriteOptions::Mode::kOverwrite;
  ow.app_version = 8;
  auto r = WriteDelta(root, MakeData(500, 3), ow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files_removed, 9);
  ASSERT_NE(r->snapshot, nullptr);
  auto reloaded = DeltaLog::Open(root)->Latest();
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(files_of(*r->snapshot), files_of(**reloaded));
  EXPECT_EQ(ReadRows(root), Expected({MakeData(500, 3)}));
  // A checkpoint written from such a snapshot reads back the same table.
  ASSERT_TRUE(WriteCheckpoint(*r->snapshot).ok());
  auto from_checkpoint = DeltaLog::Open(root)->Latest();
  ASSERT_TRUE(from_checkpoint.ok()) << from_checkpoint.status().ToString();
  EXPECT_EQ((*from_checkpoint)->checkpoint_version(), r->version);
  EXPECT_EQ(files_of(**from_checkpoint), files_of(*r->snapshot));
  EXPECT_EQ(ReadRows(root), Expected({MakeData(500, 3)}));
}

TEST(DeltaWriter, SchemaMismatchRefused) {
  TempDir dir("schema");
  std::string root = dir.path() + "/t";
  ASSERT_TRUE(WriteDelta(root, MakeData(0, 2), {}).ok());
  auto other = arrow::Table::Make(arrow::schema({arrow::field("zzz", arrow::int64())}),
                                  {*arrow::MakeArrayOfNull(arrow::int64(), 1)});
  auto r = WriteDelta(root, other, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("zzz"), std::string::npos);
}

TEST(DeltaWriter, ConcurrentAppendersLoseNothing) {
  TempDir dir("conc");
  std::string root = dir.path() + "/t";
  ASSERT_TRUE(WriteDelta(root, MakeData(0, 1), {}).ok());
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = WriteDelta(root, MakeData(1 + t * kPerThread + i, 1), {});
        if (!r.ok()) {
          failures++;
          ADD_FAILURE() << r.status().ToString();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto snap = DeltaLog::Open(root)->Latest();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ((*snap)->version(), 2 * kPerThread);
  EXPECT_EQ(ReadRows(root), Expected({MakeData(0, 1 + 2 * kPerThread)}));
}

TEST(DeltaLogErrors, CorruptAndMissingEntries) {
  TempDir dir("corrupt");
  std::string root = dir.path() + "/t";
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(WriteDelta(root, MakeData(i, 1), {}).ok());
  std::string log = root + "/_delta_log/";
  { std::ofstream(log + CommitFileName(1), std::ios::app) << "{\"add\": garbage\n"; }
  auto r = DeltaLog::Open(root)->Latest();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("00000000000000000001.json line"), std::string::npos)
      << r.status().ToString();
  std::filesystem::remove(log + CommitFileName(1));
  r = DeltaLog::Open(root)->Latest();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing 00000000000000000001.json"), std::string::npos)
      << r.status().ToString();
  // Not a Delta table.
  auto nt = DeltaLog::Open(dir.path() + "/nothing")->Latest();
  ASSERT_FALSE(nt.ok());
  EXPECT_NE(nt.status().message().find("not a Delta table"), std::string::npos);
}

TEST(DeltaLogErrors, TruncatedParquetNamesFile) {
  TempDir dir("trunc");
  std::string root = dir.path() + "/t";
  ASSERT_TRUE(WriteDelta(root, MakeData(0, 50), {}).ok());
  auto snap = *DeltaLog::Open(root)->Latest();
  std::string file = ResolveDataPath(root, snap->files()[0].path);
  std::filesystem::resize_file(file, std::filesystem::file_size(file) / 2);
  auto scan = *DeltaScan::Make(snap);
  auto t = scan->ReadAll();
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find(file), std::string::npos) << t.status().ToString();
}

TEST(DeltaLogErrors, UnsupportedReaderFeatureAndVersion) {
  TempDir dir("proto");
  std::string root = dir.path() + "/t";
  ASSERT_TRUE(WriteDelta(root, MakeData(0, 1), {}).ok());
  std::string line =
      "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":"
      "[\"futureFeature\"],\"writerFeatures\":[\"futureFeature\"]}}\n";
  ASSERT_TRUE(
      storage::LocalFs()->PutIfAbsent(root + "/_delta_log/" + CommitFileName(1), line).ok());
  auto r = DeltaLog::Open(root)->Latest();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotImplemented());
  EXPECT_NE(r.status().message().find("requires reader feature 'futureFeature'"), std::string::npos)
      << r.status().ToString();
  ASSERT_TRUE(storage::LocalFs()
                  ->PutIfAbsent(root + "/_delta_log/" + CommitFileName(2),
                                "{\"protocol\":{\"minReaderVersion\":99,\"minWriterVersion\":7}}\n")
                  .ok());
  r = DeltaLog::Open(root)->Latest();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("reader version 99"), std::string::npos);
  // The old version still reads.
  EXPECT_TRUE(DeltaLog::Open(root)->AtVersion(0).ok());
}

}  // namespace
}  // namespace lakestream::delta

namespace lakestream::delta {
namespace {

// Driven by tests/python/test_delta_interop.py: reads a table another engine
// wrote (LAKESTREAM_DELTA_INTEROP_TABLE) and compares it with the Parquet
// files of the expected content (LAKESTREAM_DELTA_INTEROP_EXPECTED).
TEST(DeltaInterop, ReadExternalTable) {
  const char* table = std::getenv("LAKESTREAM_DELTA_INTEROP_TABLE");
  const char* expected = std::getenv("LAKESTREAM_DELTA_INTEROP_EXPECTED");
  if (!table || !expected) GTEST_SKIP() << "run by tests/python/test_delta_interop.py";
  auto snap = DeltaLog::Open(table)->Latest();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  auto scan = DeltaScan::Make(*snap);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  auto got = (*scan)->ReadAll();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto want = testing::ReadParquetFolder(expected);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  std::vector<std::string> order;
  for (const auto& f : (*want)->schema()->fields()) order.push_back(f->name());
  auto w = CanonicalRows(**want, order);
  auto g = CanonicalRows(**got, order);
  ASSERT_TRUE(w.ok() && g.ok());
  EXPECT_EQ(*g, *w);
}

// Mostly distinct integer columns are delta-packed, repetitive ones keep a
// dictionary; string stats taken from the Parquet footer (several row groups,
// one of them all NULL) equal those computed from the data.
TEST(DeltaWriter, EncodingsAndFooterStringStats) {
  TempDir dir("delta_encodings");
  std::string root = dir.path() + "/t";
  arrow::Int64Builder id;
  arrow::Int32Builder small;
  arrow::StringBuilder name;
  for (int64_t i = 0; i < 1000; ++i) {
    ASSERT_TRUE(id.Append(i * 7919 % 1000003).ok());
    ASSERT_TRUE(small.Append(static_cast<int32_t>(i % 3)).ok());
    if (i < 64 || i % 5 == 0) {
      ASSERT_TRUE(name.AppendNull().ok());
    } else {
      ASSERT_TRUE(name.Append("n" + std::to_string((i * 37) % 1000)).ok());
    }
  }
  auto schema =
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("small", arrow::int32()),
                     arrow::field("name", arrow::utf8())});
  auto data = arrow::Table::Make(schema, {*id.Finish(), *small.Finish(), *name.Finish()});
  DeltaWriteOptions opts;
  opts.row_group_rows = 64;
  auto r = WriteDelta(root, data, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto snap = *DeltaLog::Open(root)->Latest();
  ASSERT_EQ(snap->files().size(), 1u);
  const auto& add = snap->files()[0];
  ASSERT_TRUE(add.stats.has_value());
  EXPECT_EQ(*add.stats, ComputeStatsJson(*data));

  auto reader = parquet::ParquetFileReader::OpenFile(root + "/" + add.path);
  auto md = reader->metadata();
  ASSERT_EQ(md->num_row_groups(), 16);
  auto encodings = [&](int col) {
    auto e = md->RowGroup(1)->ColumnChunk(col)->encodings();
    return std::set<parquet::Encoding::type>(e.begin(), e.end());
  };
  EXPECT_TRUE(encodings(0).count(parquet::Encoding::DELTA_BINARY_PACKED));
  EXPECT_FALSE(encodings(0).count(parquet::Encoding::RLE_DICTIONARY));
  EXPECT_TRUE(encodings(1).count(parquet::Encoding::RLE_DICTIONARY));
  EXPECT_TRUE(encodings(2).count(parquet::Encoding::RLE_DICTIONARY));
  EXPECT_EQ(ReadRowsOf(root, {"id", "small", "name"}),
            *testing::CanonicalRows(*data, {"id", "small", "name"}));

  // Turned off (for readers without DELTA_BINARY_PACKED): dictionaries only.
  std::string plain_root = dir.path() + "/plain";
  opts.delta_binary_packed = false;
  ASSERT_TRUE(WriteDelta(plain_root, data, opts).ok());
  auto plain_add = (*DeltaLog::Open(plain_root)->Latest())->files()[0];
  auto plain_md =
      parquet::ParquetFileReader::OpenFile(plain_root + "/" + plain_add.path)->metadata();
  auto id_encodings = plain_md->RowGroup(1)->ColumnChunk(0)->encodings();
  EXPECT_EQ(
      std::count(id_encodings.begin(), id_encodings.end(), parquet::Encoding::DELTA_BINARY_PACKED),
      0);
  EXPECT_EQ(ReadRowsOf(plain_root, {"id", "small", "name"}),
            *testing::CanonicalRows(*data, {"id", "small", "name"}));
}

// Writes a table (LAKESTREAM_DELTA_INTEROP_WRITE) for another engine to read:
// partitioned, many types, 12 commits (so a checkpoint at 10).
TEST(DeltaInterop, WriteTableForExternalReader) {
  const char* out = std::getenv("LAKESTREAM_DELTA_INTEROP_WRITE");
  if (!out) GTEST_SKIP() << "run by tests/python/test_delta_interop.py";
  DeltaWriteOptions opts;
  opts.partition_columns = {"part"};
  for (int i = 0; i < 12; ++i) {
    auto r = WriteDelta(out, MakeData(i * 10, 10), opts);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

}  // namespace
}  // namespace lakestream::delta
