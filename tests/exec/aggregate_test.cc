// HashAggregateNode through ExecutePlan: grouping, global aggregates on empty
// input, FILTER, GROUPING SETS, float key normalization, thread partial merge,
// many groups and the memory limit.
#include <gtest/gtest.h>

#include "exec/hash_aggregate.h"
#include "exec_test_util.h"

namespace lakestream::exec {
namespace {

using testing::Agg;
using testing::Col;
using testing::MakeBatch;
using testing::RunPlan;
using testing::Scan;
using testing::SortedRows;

std::shared_ptr<arrow::Schema> KV() {
  return arrow::schema({arrow::field("k", arrow::utf8()), arrow::field("v", arrow::int32())});
}

AggregateCall Call(const std::string& name, const std::string& fn, std::vector<expr::ExprPtr> args,
                   bool distinct = false) {
  std::vector<types::TypePtr> types;
  for (const auto& a : args) types.push_back(a->type);
  return AggregateCall{name, Agg(fn, types, distinct), std::move(args), nullptr, fn};
}

TEST(HashAggregateTest, GroupByWithNullsTwoThreads) {
  auto s = KV();
  std::vector<BatchPtr> batches;
  for (int i = 0; i < 4; ++i) {
    batches.push_back(MakeBatch(s, {R"(["a", "b", null, "a"])", "[1, 2, 3, null]"}));
  }
  HashAggregateOptions o;
  o.keys = {Col(s, 0)};
  o.key_names = {"k"};
  o.aggregates = {Call("n", "count", {}), Call("c", "count", {Col(s, 1)}),
                  Call("s", "sum", {Col(s, 1)}), Call("m", "max", {Col(s, 1)}),
                  Call("d", "count", {Col(s, 1)}, true)};
  auto node = HashAggregateNode::Make(Scan(s, batches), o).ValueOrDie();
  EXPECT_EQ(node->schema()->ToString(),
            "k: string\nn: int64\nc: int64\ns: int64\nm: int32\nd: int64");
  for (int threads : {1, 2}) {
    auto out = RunPlan(node, threads);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(SortedRows(*out), (std::vector<std::string>{"NULL|4|4|12|3|1", "a|8|4|4|1|1",
                                                          "b|4|4|8|2|1"}));
  }
}

TEST(HashAggregateTest, GlobalAggregateOnEmptyInput) {
  auto s = KV();
  HashAggregateOptions o;
  o.aggregates = {Call("n", "count", {}), Call("s", "sum", {Col(s, 1)}),
                  Call("a", "avg", {Col(s, 1)}), Call("l", "collect_list", {Col(s, 1)})};
  auto node = HashAggregateNode::Make(Scan(s, {MakeBatch(s, {"[]", "[]"})}), o).ValueOrDie();
  for (int threads : {1, 2}) {
    auto out = RunPlan(node, threads);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(SortedRows(*out), (std::vector<std::string>{"0|NULL|NULL|list<item: int32>[]"}));
  }
  auto none = HashAggregateNode::Make(Scan(s, {}), o).ValueOrDie();
  EXPECT_EQ(SortedRows(RunPlan(none).ValueOrDie()), (std::vector<std::string>{"0|NULL|NULL|list<item: int32>[]"}));
  // With keys, empty input gives no rows.
  o.keys = {Col(s, 0)};
  auto keyed = HashAggregateNode::Make(Scan(s, {}), o).ValueOrDie();
  EXPECT_EQ(testing::NumRows(RunPlan(keyed).ValueOrDie()), 0);
}

TEST(HashAggregateTest, FilterClause) {
  auto s = KV();
  HashAggregateOptions o;
  o.keys = {Col(s, 0)};
  auto c = Call("s", "sum", {Col(s, 1)});
  // FILTER (WHERE v) is any boolean expression; use a boolean column here.
  auto sb = arrow::schema({arrow::field("k", arrow::utf8()), arrow::field("v", arrow::int32()),
                           arrow::field("p", arrow::boolean())});
  c.filter = Col(sb, 2);
  o.aggregates = {c, Call("n", "count", {})};
  auto batch = MakeBatch(sb, {R"(["a", "a", "b", "b"])", "[1, 2, 3, 4]", "[true, null, false, true]"});
  auto node = HashAggregateNode::Make(Scan(sb, {batch}), o).ValueOrDie();
  EXPECT_EQ(SortedRows(RunPlan(node).ValueOrDie()), (std::vector<std::string>{"a|1|2", "b|4|2"}));
}

TEST(HashAggregateTest, GroupingSets) {
  auto s = arrow::schema({arrow::field("a", arrow::utf8()), arrow::field("b", arrow::int32()),
                          arrow::field("v", arrow::int64())});
  auto batch = MakeBatch(s, {R"(["x", "x", "y"])", "[1, 2, 1]", "[10, 20, 30]"});
  HashAggregateOptions o;
  o.keys = {Col(s, 0), Col(s, 1)};
  o.grouping_sets = {{0, 1}, {0}, {}};  // ROLLUP(a, b)
  o.aggregates = {Call("s", "sum", {Col(s, 2)})};
  auto node = HashAggregateNode::Make(Scan(s, {batch}), o).ValueOrDie();
  EXPECT_EQ(node->schema()->field(2)->name(), "spark_grouping_id");
  auto out = RunPlan(node, 2);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(SortedRows(*out), (std::vector<std::string>{"NULL|NULL|3|60", "x|1|0|10", "x|2|0|20",
                                                        "x|NULL|1|30", "y|1|0|30", "y|NULL|1|30"}));
}

TEST(HashAggregateTest, FloatKeysNormalized) {
  auto s = arrow::schema({arrow::field("k", arrow::float64()), arrow::field("v", arrow::int32())});
  auto batch = MakeBatch(s, {"[0.0, -0.0, NaN, NaN, null]", "[1, 2, 3, 4, 5]"});
  // Make a NaN with a different payload than the canonical one.
  auto data = batch->column(0)->data()->Copy();
  auto buf = arrow::AllocateBuffer(5 * 8).ValueOrDie();
  std::memcpy(buf->mutable_data(), data->buffers[1]->data(), 5 * 8);
  uint64_t odd_nan = 0x7ff8000000000123ULL;
  std::memcpy(buf->mutable_data() + 3 * 8, &odd_nan, 8);
  data->buffers[1] = std::move(buf);
  batch = arrow::RecordBatch::Make(s, 5, {arrow::MakeArray(data), batch->column(1)});
  HashAggregateOptions o;
  o.keys = {Col(s, 0)};
  o.aggregates = {Call("n", "count", {})};
  auto node = HashAggregateNode::Make(Scan(s, {batch}), o).ValueOrDie();
  EXPECT_EQ(SortedRows(RunPlan(node).ValueOrDie()),
            (std::vector<std::string>{"0|2", "NULL|1", "nan|2"}));
}

BatchPtr Range(const std::shared_ptr<arrow::Schema>& s, int64_t start, int64_t n, int64_t groups) {
  arrow::Int64Builder k, v;
  for (int64_t i = start; i < start + n; ++i) {
    (void)k.Append(i % groups);
    (void)v.Append(i);
  }
  return arrow::RecordBatch::Make(s, n, {k.Finish().ValueOrDie(), v.Finish().ValueOrDie()});
}

TEST(HashAggregateTest, MillionGroupsTwoThreads) {
  auto s = arrow::schema({arrow::field("k", arrow::int64()), arrow::field("v", arrow::int64())});
  std::vector<BatchPtr> batches;
  const int64_t n = 2'000'000, groups = 1'000'000, chunk = 100'000;
  for (int64_t start = 0; start < n; start += chunk) batches.push_back(Range(s, start, chunk, groups));
  HashAggregateOptions o;
  o.keys = {Col(s, 0)};
  o.aggregates = {Call("n", "count", {}), Call("s", "sum", {Col(s, 1)})};
  auto node = HashAggregateNode::Make(Scan(s, batches), o).ValueOrDie();
  auto out = RunPlan(node, 2);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(testing::NumRows(*out), groups);
  int64_t count = 0, sum = 0;
  bool each_two = true;
  for (const auto& b : *out) {
    auto k = std::static_pointer_cast<arrow::Int64Array>(b->column(0));
    auto c = std::static_pointer_cast<arrow::Int64Array>(b->column(1));
    auto sm = std::static_pointer_cast<arrow::Int64Array>(b->column(2));
    for (int64_t i = 0; i < b->num_rows(); ++i) {
      count += c->Value(i);
      sum += sm->Value(i);
      each_two &= c->Value(i) == 2 && sm->Value(i) == 2 * k->Value(i) + groups;
    }
  }
  EXPECT_EQ(count, n);
  EXPECT_EQ(sum, n * (n - 1) / 2);
  EXPECT_TRUE(each_two);
}

TEST(HashAggregateTest, MemoryLimitIsAClearError) {
  auto s = arrow::schema({arrow::field("k", arrow::int64()), arrow::field("v", arrow::int64())});
  std::vector<BatchPtr> batches;
  for (int64_t start = 0; start < 1'000'000; start += 100'000) {
    batches.push_back(Range(s, start, 100'000, 1'000'000));
  }
  HashAggregateOptions o;
  o.keys = {Col(s, 0)};
  o.aggregates = {Call("s", "sum", {Col(s, 1)})};
  auto node = HashAggregateNode::Make(Scan(s, batches), o).ValueOrDie();
  auto out = RunPlan(node, 1, /*memory_limit=*/1 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("hash aggregate exceeded the memory limit of 1048576 bytes "
                                        "(lakestream.memory.limit)"),
            std::string::npos)
      << out.status().ToString();
}

}  // namespace
}  // namespace lakestream::exec
