// SortNode through ExecutePlan: Spark's NULL placement defaults, NaN above
// every value, stability, multi-key, top-N with offset, threads.
#include "exec/sort.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "exec_test_util.h"

namespace lakestream::exec {
namespace {

using testing::Col;
using testing::MakeBatch;
using testing::Rows;
using testing::RunPlan;
using testing::Scan;
using StrRows = std::vector<std::string>;

std::shared_ptr<arrow::Schema> S() {
  return arrow::schema({arrow::field("x", arrow::float64()), arrow::field("tag", arrow::utf8())});
}

PhysicalNodePtr Input() {
  return Scan(S(), {MakeBatch(S(), {"[3.0, NaN, null, -1.0]", R"(["a", "b", "c", "d"])"}),
                    MakeBatch(S(), {"[Inf, 3.0, -0.0, 0.0]", R"(["e", "f", "g", "h"])"})});
}

StrRows Tags(const std::vector<BatchPtr>& out) {
  StrRows tags;
  for (const auto& r : Rows(out)) tags.push_back(r.substr(r.find('|') + 1));
  return tags;
}

TEST(SortTest, AscendingNullsFirstNanLast) {
  auto node = std::make_shared<SortNode>(Input(), std::vector<SortKey>{{Col(S(), 0), true, true}});
  auto out = RunPlan(node);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Stable: 3.0 (a) before 3.0 (f), -0.0 (g) before 0.0 (h).
  EXPECT_EQ(Tags(*out), (StrRows{"c", "d", "g", "h", "a", "f", "e", "b"}));
}

TEST(SortTest, DescendingNullsLastNanFirst) {
  auto node =
      std::make_shared<SortNode>(Input(), std::vector<SortKey>{{Col(S(), 0), false, false}});
  EXPECT_EQ(Tags(RunPlan(node).ValueOrDie()), (StrRows{"b", "e", "a", "f", "g", "h", "d", "c"}));
  // Two threads take the input batches in either order, and ties follow
  // arrival, as across Spark's partitions: only the order of keys is fixed.
  auto tags = Tags(RunPlan(node, 2).ValueOrDie());
  ASSERT_EQ(tags.size(), 8u);
  std::sort(tags.begin() + 2, tags.begin() + 4);  // 3.0 (a), 3.0 (f)
  std::sort(tags.begin() + 4, tags.begin() + 6);  // -0.0 (g), 0.0 (h)
  EXPECT_EQ(tags, (StrRows{"b", "e", "a", "f", "g", "h", "d", "c"}));
}

TEST(SortTest, ExplicitNullPlacement) {
  auto asc_last =
      std::make_shared<SortNode>(Input(), std::vector<SortKey>{{Col(S(), 0), true, false}});
  EXPECT_EQ(Tags(RunPlan(asc_last).ValueOrDie()),
            (StrRows{"d", "g", "h", "a", "f", "e", "b", "c"}));
  auto desc_first =
      std::make_shared<SortNode>(Input(), std::vector<SortKey>{{Col(S(), 0), false, true}});
  EXPECT_EQ(Tags(RunPlan(desc_first).ValueOrDie()),
            (StrRows{"c", "b", "e", "a", "f", "g", "h", "d"}));
}

TEST(SortTest, MultiKeyAndLimitOffset) {
  auto s = arrow::schema({arrow::field("a", arrow::int32()), arrow::field("b", arrow::utf8())});
  auto in = Scan(s, {MakeBatch(s, {"[2, 1, 2, 1, null]", R"(["x", "y", "a", "b", "z"])"})});
  std::vector<SortKey> keys{{Col(s, 0), false, false}, {Col(s, 1), true, true}};
  auto node = std::make_shared<SortNode>(in, keys);
  EXPECT_EQ(Rows(RunPlan(node).ValueOrDie()), (StrRows{"2|a", "2|x", "1|b", "1|y", "NULL|z"}));
  auto top = std::make_shared<SortNode>(in, keys, /*limit=*/2, /*offset=*/1);
  EXPECT_EQ(Rows(RunPlan(top).ValueOrDie()), (StrRows{"2|x", "1|b"}));
  auto past = std::make_shared<SortNode>(in, keys, /*limit=*/2, /*offset=*/10);
  EXPECT_EQ(testing::NumRows(RunPlan(past).ValueOrDie()), 0);
}

TEST(SortTest, TopNOverManyBatchesTwoThreads) {
  auto s = arrow::schema({arrow::field("v", arrow::int64())});
  std::vector<BatchPtr> batches;
  for (int b = 0; b < 20; ++b) {
    arrow::Int64Builder vb;
    for (int64_t i = 0; i < 10000; ++i) (void)vb.Append((i * 7919 + b * 13) % 200000);
    batches.push_back(arrow::RecordBatch::Make(s, 10000, {vb.Finish().ValueOrDie()}));
  }
  auto full =
      std::make_shared<SortNode>(Scan(s, batches), std::vector<SortKey>{{Col(s, 0), false, false}});
  auto all = Rows(RunPlan(full, 2).ValueOrDie());
  ASSERT_EQ(all.size(), 200000u);
  auto top =
      std::make_shared<SortNode>(Scan(s, batches), std::vector<SortKey>{{Col(s, 0), false, false}},
                                 /*limit=*/100, /*offset=*/5);
  auto got = Rows(RunPlan(top, 2, int64_t{8} << 30, /*batch_size=*/30).ValueOrDie());
  EXPECT_EQ(got, StrRows(all.begin() + 5, all.begin() + 105));
}

TEST(SortTest, EmptyInput) {
  auto node =
      std::make_shared<SortNode>(Scan(S(), {}), std::vector<SortKey>{{Col(S(), 0), true, true}});
  EXPECT_EQ(testing::NumRows(RunPlan(node).ValueOrDie()), 0);
}

}  // namespace
}  // namespace lakestream::exec

namespace lakestream::exec {
namespace {

// Top-N drops rows a worker's current N-th row beats on the first key; rows
// tied on it, NULLs and NaNs must survive that shortcut wherever the order
// puts them.
TEST(SortTest, TopNThresholdKeepsTiesNullsAndNans) {
  auto s = arrow::schema({arrow::field("x", arrow::float64()), arrow::field("id", arrow::int64())});
  std::vector<BatchPtr> batches;
  int64_t id = 0;
  for (int b = 0; b < 30; ++b) {
    arrow::DoubleBuilder xb;
    arrow::Int64Builder ib;
    for (int i = 0; i < 5000; ++i, ++id) {
      const int64_t h = (id * 2654435761LL) % 1000003;
      if (h % 997 == 0) {
        (void)xb.AppendNull();
      } else if (h % 991 == 0) {
        (void)xb.Append(std::nan(""));
      } else {
        (void)xb.Append(static_cast<double>(h % 50));  // many ties
      }
      (void)ib.Append((id * 7919) % 150001);
    }
    batches.push_back(
        arrow::RecordBatch::Make(s, 5000, {xb.Finish().ValueOrDie(), ib.Finish().ValueOrDie()}));
  }
  for (bool asc : {true, false}) {
    for (bool nulls_first : {true, false}) {
      std::vector<SortKey> keys{{Col(s, 0), asc, nulls_first}, {Col(s, 1), true, true}};
      auto full = std::make_shared<SortNode>(Scan(s, batches), keys);
      auto all = Rows(RunPlan(full, 2).ValueOrDie());
      auto top = std::make_shared<SortNode>(Scan(s, batches), keys, /*limit=*/300, /*offset=*/7);
      auto got = Rows(RunPlan(top, 2, int64_t{8} << 30, /*batch_size=*/1000).ValueOrDie());
      EXPECT_EQ(got, StrRows(all.begin() + 7, all.begin() + 307))
          << "asc=" << asc << " nulls_first=" << nulls_first;
    }
  }
}

}  // namespace
}  // namespace lakestream::exec
