// Data skipping with timestamp predicates finer than the microseconds Delta
// stores: a bound between two microseconds (before and after 1970, where
// truncating and flooring differ) prunes only files and row groups that
// cannot match, for every comparison.
#include <arrow/api.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "connectors/delta/log.h"
#include "connectors/delta/scan.h"
#include "connectors/delta/timestamps.h"
#include "connectors/delta/writer.h"
#include "test_util.h"
#include "types/types.h"

namespace lakestream::delta {
namespace {

using testing::TempDir;

// One file per value, each one row group, with exact footer statistics.
void WriteMicros(const std::string& root, const std::vector<int64_t>& micros) {
  for (int64_t us : micros) {
    arrow::TimestampBuilder b(types::Timestamp(), arrow::default_memory_pool());
    ASSERT_TRUE(b.Append(us).ok());
    std::shared_ptr<arrow::Array> a;
    ASSERT_TRUE(b.Finish(&a).ok());
    auto t = arrow::Table::Make(arrow::schema({arrow::field("ts", types::Timestamp())}), {a});
    auto r = WriteDelta(root, t, DeltaWriteOptions{});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

// The microsecond values the scan reads with `ts <op> nanos`.
std::vector<int64_t> ReadWith(const std::string& root, ColumnPredicate::Op op, int64_t nanos) {
  DeltaScanOptions so;
  so.predicates.push_back({"ts",
                           op,
                           {std::make_shared<arrow::TimestampScalar>(
                               nanos, arrow::timestamp(arrow::TimeUnit::NANO, "UTC"))}});
  auto scan = DeltaScan::Make(*DeltaLog::Open(root)->Latest(), so);
  EXPECT_TRUE(scan.ok()) << scan.status().ToString();
  if (!scan.ok()) return {};
  auto t = (*scan)->ReadAll();
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return {};
  std::vector<int64_t> out;
  for (const auto& chunk : (*t)->GetColumnByName("ts")->chunks()) {
    const auto& a = static_cast<const arrow::TimestampArray&>(*chunk);
    for (int64_t i = 0; i < a.length(); ++i) out.push_back(a.Value(i));
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool Holds(ColumnPredicate::Op op, int64_t micros, int64_t nanos) {
  int64_t x = micros * 1000;
  switch (op) {
    case ColumnPredicate::kLt:
      return x < nanos;
    case ColumnPredicate::kLe:
      return x <= nanos;
    case ColumnPredicate::kGt:
      return x > nanos;
    case ColumnPredicate::kGe:
      return x >= nanos;
    case ColumnPredicate::kEq:
      return x == nanos;
    case ColumnPredicate::kNe:
      return x != nanos;
    default:
      return true;
  }
}

TEST(DeltaScanTimestamps, SubMicrosecondBoundsPruneOnlyWhatCannotMatch) {
  TempDir dir("ts_nanos");
  std::string root = dir.path() + "/t";
  const std::vector<int64_t> values = {-3000, -1000, 1000, 3000};  // microseconds, one file each
  WriteMicros(root, values);
  // Stats are in milliseconds (min floored, max widened by 1 ms), so a file
  // may be kept that cannot match; a file that can match must never be pruned.
  for (int64_t nanos : {-999500LL, -1500LL, 1000500LL, -1000000LL, 2000000LL}) {
    for (auto op : {ColumnPredicate::kLt, ColumnPredicate::kLe, ColumnPredicate::kGt,
                    ColumnPredicate::kGe, ColumnPredicate::kEq, ColumnPredicate::kNe}) {
      auto kept = ReadWith(root, op, nanos);
      for (int64_t v : values) {
        if (Holds(op, v, nanos)) {
          EXPECT_NE(std::find(kept.begin(), kept.end(), v), kept.end())
              << "ts = " << v << " us satisfies op " << op << " " << nanos
              << " ns but its file was pruned";
        }
      }
    }
  }
  // -999.5 us: the -1000 us file matches `<` (flooring the bound to -1000 us
  // pruned it); 1000.5 us: the 1000 us file matches (truncating did).
  EXPECT_EQ(ReadWith(root, ColumnPredicate::kLt, -999500), std::vector<int64_t>({-3000, -1000}));
  EXPECT_EQ(ReadWith(root, ColumnPredicate::kLt, 1000500),
            std::vector<int64_t>({-3000, -1000, 1000}));
  EXPECT_EQ(ReadWith(root, ColumnPredicate::kGt, -999500),
            std::vector<int64_t>({-1000, 1000, 3000}));
  // A whole microsecond in nanoseconds compares as that microsecond.
  EXPECT_EQ(ReadWith(root, ColumnPredicate::kEq, -1000000), std::vector<int64_t>({-1000}));
}

TEST(DeltaScanTimestamps, MicrosFloorBefore1970) {
  auto ns = arrow::TimestampType(arrow::TimeUnit::NANO);
  EXPECT_EQ(TimestampToMicros(ns, -1500), -2);
  EXPECT_EQ(TimestampToMicros(ns, -1000), -1);
  EXPECT_EQ(TimestampToMicros(ns, -1), -1);
  EXPECT_EQ(TimestampToMicros(ns, 1999), 1);
  EXPECT_EQ(TimestampToMicros(arrow::TimestampType(arrow::TimeUnit::MILLI), -3), -3000);
  EXPECT_EQ(TimestampToMicros(arrow::TimestampType(arrow::TimeUnit::SECOND), 2), 2000000);
}

}  // namespace
}  // namespace lakestream::delta
