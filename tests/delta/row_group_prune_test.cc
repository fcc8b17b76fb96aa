// Row-group pruning inside Delta data files: files with many row groups,
// predicates on sorted columns skip row groups by their Parquet footer
// statistics, and the rows that survive the caller's filter are exactly those
// of an unpruned read. Covers column mapping (name and id mode: predicates use
// logical names, files have physical names / field ids), type widening (INT
// file column read as BIGINT), coarser timestamp units, NULL handling
// (all-NULL row groups, IS NULL / IS NOT NULL) and deletion vectors (row
// numbers stay right when leading row groups are skipped).
#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <arrow/util/key_value_metadata.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>
#include <strings.h>

#include <filesystem>
#include <fstream>

#include "connectors/delta/deletion_vector.h"
#include "connectors/delta/log.h"
#include "connectors/delta/scan.h"
#include "test_util.h"
#include "types/types.h"

namespace lakestream::delta {
namespace {

using testing::CanonicalRows;
using testing::TempDir;

constexpr int64_t kRows = 1000;
constexpr int64_t kRowsPerGroup = 100;   // 10 row groups per file
constexpr int64_t kTsBase = 1767225600;  // seconds, 2026-01-01 UTC

enum class Mapping { kNone, kName, kId };

struct Column {
  std::string logical;
  std::string delta_type;  // schemaString type
  std::string physical;    // name in the Parquet file (name/id mode)
  int id;
};

// Logical columns: id BIGINT (sorted), n BIGINT (an INT in the files: type
// widening; NULL for the first 3 row groups), s STRING (sorted), ts TIMESTAMP
// (milliseconds in the files).
const std::vector<Column>& Columns() {
  static const std::vector<Column> k = {{"id", "long", "col-7f1e-id", 1},
                                        {"n", "long", "col-22aa-n", 2},
                                        {"s", "string", "col-9c3b-s", 3},
                                        {"ts", "timestamp", "col-0d4e-ts", 4}};
  return k;
}

std::string FileName(const Column& c, Mapping m) {
  switch (m) {
    case Mapping::kNone:
      return c.logical;
    case Mapping::kName:
      return c.physical;
    // Id mode resolves by field id: give the file names that match nothing.
    case Mapping::kId:
      return "unrelated_" + std::to_string(c.id);
  }
  return c.logical;
}

std::shared_ptr<arrow::Table> FileData(Mapping m, int64_t start) {
  arrow::Int64Builder id;
  arrow::Int32Builder n;
  arrow::StringBuilder s;
  arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::MILLI, "UTC"),
                             arrow::default_memory_pool());
  for (int64_t i = start; i < start + kRows; ++i) {
    EXPECT_TRUE(id.Append(i).ok());
    if (i - start < 3 * kRowsPerGroup) {
      EXPECT_TRUE(n.AppendNull().ok());
    } else {
      EXPECT_TRUE(n.Append(static_cast<int32_t>(i % 7)).ok());
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "s%06lld", static_cast<long long>(i));
    EXPECT_TRUE(s.Append(buf).ok());
    EXPECT_TRUE(ts.Append((kTsBase + i) * 1000).ok());
  }
  std::vector<std::shared_ptr<arrow::Array>> arrays(4);
  EXPECT_TRUE(id.Finish(&arrays[0]).ok());
  EXPECT_TRUE(n.Finish(&arrays[1]).ok());
  EXPECT_TRUE(s.Finish(&arrays[2]).ok());
  EXPECT_TRUE(ts.Finish(&arrays[3]).ok());
  arrow::FieldVector fields;
  for (size_t i = 0; i < Columns().size(); ++i) {
    const auto& c = Columns()[i];
    auto f = arrow::field(FileName(c, m), arrays[i]->type());
    if (m != Mapping::kNone) {
      f = f->WithMetadata(arrow::key_value_metadata({"PARQUET:field_id"}, {std::to_string(c.id)}));
    }
    fields.push_back(f);
  }
  return arrow::Table::Make(arrow::schema(fields), arrays);
}

void WriteParquet(const std::string& path, const std::shared_ptr<arrow::Table>& data) {
  auto out = arrow::io::FileOutputStream::Open(path);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  auto st = parquet::arrow::WriteTable(*data, arrow::default_memory_pool(), *out, kRowsPerGroup);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE((*out)->Close().ok());
}

std::string SchemaString(Mapping m) {
  std::string out = R"({"type":"struct","fields":[)";
  for (size_t i = 0; i < Columns().size(); ++i) {
    const auto& c = Columns()[i];
    if (i) out += ",";
    out += R"({"name":")" + c.logical + R"(","type":")" + c.delta_type +
           R"(","nullable":true,"metadata":{)";
    if (m != Mapping::kNone) {
      out += R"("delta.columnMapping.id":)" + std::to_string(c.id) +
             R"(,"delta.columnMapping.physicalName":")" + c.physical + R"(")";
    }
    out += "}}";
  }
  return out + "]}";
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// The add action of a data file, without stats (so no file is skipped by the
// log's stats: whatever is skipped is skipped by row groups), optionally with
// an inline deletion vector.
std::string AddLine(const std::string& root, const std::string& name,
                    const std::vector<uint64_t>& deleted) {
  auto size = std::filesystem::file_size(root + "/" + name);
  std::string add = R"({"add":{"path":")" + name + R"(","partitionValues":{},"size":)" +
                    std::to_string(size) + R"(,"modificationTime":0,"dataChange":true)";
  if (!deleted.empty()) {
    std::string bytes = SerializeRoaringBitmapArray(deleted);
    size_t size_in_bytes = bytes.size();
    while (bytes.size() % 4) bytes.push_back('\0');
    add += R"(,"deletionVector":{"storageType":"i","pathOrInlineDv":)" + Quote(Z85Encode(bytes)) +
           R"(,"sizeInBytes":)" + std::to_string(size_in_bytes) + R"(,"cardinality":)" +
           std::to_string(deleted.size()) + "}";
  }
  return add + "}}";
}

void WriteCommit(const std::string& root, int64_t version, const std::vector<std::string>& lines) {
  std::filesystem::create_directories(root + "/_delta_log");
  char name[64];
  std::snprintf(name, sizeof name, "/_delta_log/%020lld.json", static_cast<long long>(version));
  std::ofstream f(root + name);
  for (const auto& l : lines) f << l << "\n";
}

// A table of one data file (ids 0..999, 10 row groups) in mapping mode `m`,
// with the deletion vector `deleted`.
void MakeTable(const std::string& root, Mapping m, const std::vector<uint64_t>& deleted = {}) {
  std::filesystem::create_directories(root);
  WriteParquet(root + "/part-00000.parquet", FileData(m, 0));
  std::string features =
      m == Mapping::kNone ? R"(["deletionVectors"])" : R"(["columnMapping","deletionVectors"])";
  std::string config =
      m == Mapping::kNone ? "{}"
      : m == Mapping::kName
          ? R"({"delta.columnMapping.mode":"name","delta.columnMapping.maxColumnId":"4"})"
          : R"({"delta.columnMapping.mode":"id","delta.columnMapping.maxColumnId":"4"})";
  WriteCommit(
      root, 0,
      {R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":)" + features +
           R"(,"writerFeatures":)" + features + "}}",
       R"({"metaData":{"id":"rg-prune-test","format":{"provider":"parquet","options":{}},"schemaString":)" +
           Quote(SchemaString(m)) + R"(,"partitionColumns":[],"configuration":)" + config +
           R"(,"createdTime":0}})",
       AddLine(root, "part-00000.parquet", deleted)});
}

std::shared_ptr<arrow::Scalar> TsScalar(int64_t second) {
  return std::make_shared<arrow::TimestampScalar>(second * 1000000, types::Timestamp());
}

// The caller's filter: rows of `t` satisfying all `preds` (SQL semantics:
// NULL comparisons are false).
std::shared_ptr<arrow::Table> Filter(const std::shared_ptr<arrow::Table>& t,
                                     const std::vector<ColumnPredicate>& preds) {
  namespace cp = arrow::compute;
  arrow::Datum mask(std::make_shared<arrow::BooleanScalar>(true));
  for (const auto& p : preds) {
    std::shared_ptr<arrow::ChunkedArray> col;
    for (int c = 0; c < t->num_columns(); ++c) {
      if (::strcasecmp(t->field(c)->name().c_str(), p.column.c_str()) == 0) col = t->column(c);
    }
    if (col == nullptr) {
      ADD_FAILURE() << "no column " << p.column;
      return t;
    }
    arrow::Result<arrow::Datum> m;
    auto v = [&](size_t i) { return arrow::Datum(*p.values[i]->CastTo(col->type())); };
    switch (p.op) {
      case ColumnPredicate::kEq:
        m = cp::CallFunction("equal", {col, v(0)});
        break;
      case ColumnPredicate::kNe:
        m = cp::CallFunction("not_equal", {col, v(0)});
        break;
      case ColumnPredicate::kLt:
        m = cp::CallFunction("less", {col, v(0)});
        break;
      case ColumnPredicate::kLe:
        m = cp::CallFunction("less_equal", {col, v(0)});
        break;
      case ColumnPredicate::kGt:
        m = cp::CallFunction("greater", {col, v(0)});
        break;
      case ColumnPredicate::kGe:
        m = cp::CallFunction("greater_equal", {col, v(0)});
        break;
      case ColumnPredicate::kIsNull:
        m = cp::CallFunction("is_null", {col});
        break;
      case ColumnPredicate::kIsNotNull:
        m = cp::CallFunction("is_valid", {col});
        break;
      case ColumnPredicate::kIn: {
        auto r = arrow::Datum(false);
        for (size_t i = 0; i < p.values.size(); ++i) {
          r = *cp::CallFunction("or_kleene", {r, *cp::CallFunction("equal", {col, v(i)})});
        }
        m = r;
        break;
      }
    }
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    mask = *cp::CallFunction("and_kleene", {mask, *m});
  }
  auto out = cp::Filter(t, mask);  // NULL in the mask drops the row
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out->table();
}

std::vector<std::string> Rows(const std::shared_ptr<arrow::Table>& t) {
  auto r = CanonicalRows(*t, {"id", "n", "s", "ts"});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<std::string>{};
}

struct Outcome {
  std::vector<std::string> pruned_rows;  // filtered rows of the pruned read
  std::vector<std::string> full_rows;    // filtered rows of the unpruned read
  int64_t rows_read = 0;                 // rows the pruned scan produced
  int64_t row_groups_total = 0;
  int64_t row_groups_pruned = 0;
  int64_t row_groups_read = 0;
};

Outcome ScanBoth(const std::string& root, const std::vector<ColumnPredicate>& preds) {
  Outcome o;
  auto snap = DeltaLog::Open(root)->Latest();
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  if (!snap.ok()) return o;
  auto full = (*DeltaScan::Make(*snap))->ReadAll();
  EXPECT_TRUE(full.ok()) << full.status().ToString();
  DeltaScanOptions so;
  so.predicates = preds;
  auto scan = DeltaScan::Make(*snap, so);
  EXPECT_TRUE(scan.ok()) << scan.status().ToString();
  auto pruned = (*scan)->ReadAll();
  EXPECT_TRUE(pruned.ok()) << pruned.status().ToString();
  if (!full.ok() || !pruned.ok()) return o;
  o.pruned_rows = Rows(Filter(*pruned, preds));
  o.full_rows = Rows(Filter(*full, preds));
  o.rows_read = (*pruned)->num_rows();
  const auto& m = (*scan)->metrics();
  o.row_groups_total = m.row_groups_total;
  o.row_groups_pruned = m.row_groups_pruned_by_stats;
  o.row_groups_read = m.row_groups_read;
  return o;
}

ColumnPredicate Pred(const std::string& col, ColumnPredicate::Op op,
                     std::vector<std::shared_ptr<arrow::Scalar>> values = {}) {
  return ColumnPredicate{col, op, std::move(values)};
}

std::shared_ptr<arrow::Scalar> I64(int64_t v) { return arrow::MakeScalar(v); }

class RowGroupPruneTest : public ::testing::TestWithParam<Mapping> {};

TEST_P(RowGroupPruneTest, SelectivePredicatesSkipRowGroupsAndKeepExactRows) {
  TempDir dir("rgprune");
  std::string root = dir.path() + "/t";
  MakeTable(root, GetParam());
  struct Case {
    std::string what;
    std::vector<ColumnPredicate> preds;
    int64_t expect_pruned;  // of 10 row groups
    size_t expect_rows;     // after the caller's filter
  };
  std::vector<Case> cases = {
      {"id BETWEEN 420 AND 480",
       {Pred("id", ColumnPredicate::kGe, {I64(420)}), Pred("ID", ColumnPredicate::kLe, {I64(480)})},
       9,
       61},
      {"id = 705", {Pred("id", ColumnPredicate::kEq, {I64(705)})}, 9, 1},
      {"id IN (5, 905)", {Pred("id", ColumnPredicate::kIn, {I64(5), I64(905)})}, 8, 2},
      {"id < 0", {Pred("id", ColumnPredicate::kLt, {I64(0)})}, 10, 0},
      {"id > 899", {Pred("id", ColumnPredicate::kGt, {I64(899)})}, 9, 100},
      {"s >= 's000750'", {Pred("s", ColumnPredicate::kGe, {arrow::MakeScalar("s000750")})}, 7, 250},
      // Timestamps are milliseconds in the file, microseconds in the table.
      {"ts >= base+800s", {Pred("ts", ColumnPredicate::kGe, {TsScalar(kTsBase + 800)})}, 8, 200},
      // An INT file column read as BIGINT (type widening); the first three
      // row groups are all NULL and match no comparison.
      {"n = 3", {Pred("n", ColumnPredicate::kEq, {I64(3)})}, 3, 100},
      {"n > 100", {Pred("n", ColumnPredicate::kGt, {I64(100)})}, 10, 0},
      // A value outside INT's range cannot be converted to the file's type
      // exactly: no pruning, and still exact results.
      {"n < 2^40", {Pred("n", ColumnPredicate::kLt, {I64(int64_t{1} << 40)})}, 3, 700},
      {"n IS NULL", {Pred("n", ColumnPredicate::kIsNull)}, 7, 300},
      {"n IS NOT NULL", {Pred("n", ColumnPredicate::kIsNotNull)}, 3, 700},
      {"n IS NULL AND id >= 250",
       {Pred("n", ColumnPredicate::kIsNull), Pred("id", ColumnPredicate::kGe, {I64(250)})},
       9,
       50},
      {"id <> 5 (no pruning)", {Pred("id", ColumnPredicate::kNe, {I64(5)})}, 0, 999},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Outcome o = ScanBoth(root, c.preds);
    EXPECT_EQ(o.pruned_rows, o.full_rows);
    EXPECT_EQ(o.pruned_rows.size(), c.expect_rows);
    EXPECT_EQ(o.row_groups_total, 10);
    EXPECT_EQ(o.row_groups_pruned, c.expect_pruned);
    EXPECT_EQ(o.row_groups_read, 10 - c.expect_pruned);
    EXPECT_EQ(o.rows_read, (10 - c.expect_pruned) * kRowsPerGroup);
  }
}

TEST_P(RowGroupPruneTest, DeletionVectorRowNumbersSurviveSkippedRowGroups) {
  TempDir dir("rgprune_dv");
  std::string root = dir.path() + "/t";
  // Deleted rows on both sides of the skipped/read boundary.
  MakeTable(root, GetParam(), {5, 250, 499, 500, 555, 556, 999});
  Outcome o = ScanBoth(root, {Pred("id", ColumnPredicate::kGe, {I64(500)})});
  EXPECT_EQ(o.row_groups_pruned, 5);
  EXPECT_EQ(o.pruned_rows, o.full_rows);
  ASSERT_EQ(o.pruned_rows.size(), 496u);
  for (const auto& r : o.pruned_rows) {
    EXPECT_EQ(r.find("id=555|"), std::string::npos) << r;
    EXPECT_EQ(r.find("id=500|"), std::string::npos) << r;
  }
}

TEST_P(RowGroupPruneTest, RowGroupSplitsReadTheRowsOfTheWholeFile) {
  TempDir dir("rgprune_split");
  std::string root = dir.path() + "/t";
  // Deleted rows in kept row groups of different splits, and in a pruned one.
  MakeTable(root, GetParam(), {5, 250, 499, 500, 555, 556, 999});
  auto snap = *DeltaLog::Open(root)->Latest();
  DeltaScanOptions so;
  so.predicates = {Pred("id", ColumnPredicate::kGe, {I64(300)})};
  auto scan = *DeltaScan::Make(snap, so);
  ASSERT_EQ(scan->files().size(), 1u);
  const AddFile& file = scan->files()[0];
  auto read = [&](const std::vector<int>* row_groups) {
    auto it = scan->OpenFile(file, row_groups);
    EXPECT_TRUE(it.ok()) << it.status().ToString();
    std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
    while (it.ok()) {
      auto b = it->Next();
      EXPECT_TRUE(b.ok()) << b.status().ToString();
      if (!b.ok() || !*b) break;
      batches.push_back(*b);
    }
    return Rows(*arrow::Table::FromRecordBatches(scan->output_schema(), batches));
  };
  // Row groups 3..9 are kept; runs of about 200 rows are pairs of them.
  auto splits = scan->RowGroupSplits(file, 2 * kRowsPerGroup);
  ASSERT_EQ(splits, (std::vector<std::vector<int>>{{3, 4}, {5, 6}, {7, 8}, {9}}));
  std::vector<std::string> from_splits;
  for (const auto& split : splits) {
    auto rows = read(&split);
    from_splits.insert(from_splits.end(), rows.begin(), rows.end());
  }
  std::sort(from_splits.begin(), from_splits.end());
  auto whole = read(nullptr);
  EXPECT_EQ(from_splits, whole);
  EXPECT_EQ(whole.size(), 700u - 5u);  // rows 499, 500, 555, 556, 999 deleted
  for (const auto& r : from_splits) EXPECT_EQ(r.find("id=555|"), std::string::npos) << r;

  // Without a predicate on a data column the footer is not read while
  // planning: one split, the whole file.
  auto unplanned = *DeltaScan::Make(snap);
  EXPECT_EQ(unplanned->RowGroupSplits(unplanned->files()[0], kRowsPerGroup),
            (std::vector<std::vector<int>>{{}}));
}

INSTANTIATE_TEST_SUITE_P(Mappings, RowGroupPruneTest,
                         ::testing::Values(Mapping::kNone, Mapping::kName, Mapping::kId),
                         [](const ::testing::TestParamInfo<Mapping>& info) {
                           switch (info.param) {
                             case Mapping::kNone:
                               return std::string("NoMapping");
                             case Mapping::kName:
                               return std::string("NameMapping");
                             case Mapping::kId:
                               return std::string("IdMapping");
                           }
                           return std::string("X");
                         });

TEST(RowGroupPrune, FilesAddedAfterPlanningArePrunedWhenRead) {
  // ReadFile of an add the scan did not plan (as a stream reading
  // ChangesSince does) prunes its row groups too.
  TempDir dir("rgprune_late");
  std::string root = dir.path() + "/t";
  MakeTable(root, Mapping::kName);
  auto v0 = *DeltaLog::Open(root)->Latest();
  WriteParquet(root + "/part-00001.parquet", FileData(Mapping::kName, kRows));
  WriteCommit(root, 1, {AddLine(root, "part-00001.parquet", {})});
  auto v1 = *DeltaLog::Open(root)->Latest();
  ASSERT_EQ(v1->files().size(), 2u);
  const AddFile* late = nullptr;
  for (const auto& f : v1->files()) {
    if (f.path == "part-00001.parquet") late = &f;
  }
  ASSERT_NE(late, nullptr);
  DeltaScanOptions so;
  so.predicates = {Pred("id", ColumnPredicate::kGe, {I64(kRows + 950)})};
  auto scan = *DeltaScan::Make(v0, so);
  EXPECT_EQ(scan->metrics().row_groups_total, 10);
  EXPECT_EQ(scan->metrics().row_groups_pruned_by_stats, 10);
  auto batches = scan->ReadFile(*late);
  ASSERT_TRUE(batches.ok()) << batches.status().ToString();
  int64_t rows = 0;
  for (const auto& b : *batches) rows += b->num_rows();
  EXPECT_EQ(rows, kRowsPerGroup);  // the last row group only
  EXPECT_EQ(scan->metrics().row_groups_total, 20);
  EXPECT_EQ(scan->metrics().row_groups_pruned_by_stats, 19);
  // A file whose every row group is pruned still yields one empty batch.
  auto first = scan->ReadFile(v0->files()[0]);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0]->num_rows(), 0);
  EXPECT_EQ((*first)[0]->num_columns(), 4);
}

TEST(RowGroupPrune, OpenFileYieldsOneBatchPerRowGroupLazily) {
  TempDir dir("rgprune_lazy");
  std::string root = dir.path() + "/t";
  MakeTable(root, Mapping::kNone);
  auto snap = *DeltaLog::Open(root)->Latest();
  DeltaScanOptions so;
  so.columns = std::vector<std::string>{"s", "id"};
  auto scan = *DeltaScan::Make(snap, so);
  auto it = scan->OpenFile(snap->files()[0]);
  ASSERT_TRUE(it.ok()) << it.status().ToString();
  int batches = 0;
  int64_t expect_id = 0;
  while (true) {
    auto b = it->Next();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    if (!*b) break;
    ++batches;
    // Decoding is lazy: at most one row group ahead of the caller (the scan
    // decodes the next batch while the caller uses this one).
    EXPECT_GE(scan->metrics().row_groups_read, batches);
    EXPECT_LE(scan->metrics().row_groups_read, batches + 1);
    ASSERT_EQ((*b)->num_rows(), kRowsPerGroup);
    ASSERT_EQ((*b)->schema()->field(0)->name(), "s");
    const auto& ids = static_cast<const arrow::Int64Array&>(*(*b)->column(1));
    EXPECT_EQ(ids.Value(0), expect_id);
    expect_id += kRowsPerGroup;
  }
  EXPECT_EQ(batches, 10);
}

}  // namespace
}  // namespace lakestream::delta
