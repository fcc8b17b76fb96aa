// WindowNode through ExecutePlan: ranking functions, lag/lead, frame value
// functions, aggregates over the default frame, ROWS and RANGE frames, and
// whole-partition frames. Expected values follow Spark.
#include <gtest/gtest.h>

#include "exec/window.h"
#include "exec_test_util.h"

namespace lakestream::exec {
namespace {

using testing::Agg;
using testing::Col;
using testing::MakeBatch;
using testing::Rows;
using testing::RunPlan;
using testing::Scan;
using StrRows = std::vector<std::string>;
using K = WindowFunctionKind;
using B = WindowFrame::Bound;

std::shared_ptr<arrow::Schema> S() {
  return arrow::schema({arrow::field("p", arrow::utf8()), arrow::field("o", arrow::int32()),
                        arrow::field("v", arrow::int64())});
}

PhysicalNodePtr Input() {
  return Scan(S(), {MakeBatch(S(), {R"(["a", "b", "a", "a", "b"])", "[2, 1, 1, 2, null]",
                                    "[10, 20, 30, 40, 50]"}),
                    MakeBatch(S(), {R"(["a"])", "[5]", "[null]"})});
}

WindowFunction Fn(std::string name, K kind, std::vector<expr::ExprPtr> args = {}) {
  WindowFunction f;
  f.name = std::move(name);
  f.kind = kind;
  f.args = std::move(args);
  return f;
}

WindowFunction AggFn(std::string name, const std::string& fn, std::vector<expr::ExprPtr> args,
                     std::shared_ptr<WindowFrame> frame = nullptr) {
  WindowFunction f = Fn(std::move(name), K::kAggregate, args);
  std::vector<types::TypePtr> types;
  for (const auto& a : args) types.push_back(a->type);
  f.aggregate = Agg(fn, types);
  f.frame = std::move(frame);
  return f;
}

std::shared_ptr<WindowFrame> Frame(WindowFrame::Unit unit, B start, double so, B end, double eo) {
  auto f = std::make_shared<WindowFrame>();
  f->unit = unit;
  f->start = start;
  f->start_offset = so;
  f->end = end;
  f->end_offset = eo;
  return f;
}

StrRows RunWindow(std::vector<WindowFunction> fns, bool order_by = true) {
  WindowOptions o;
  o.partition_by = {Col(S(), 0)};
  if (order_by) o.order_by = {{Col(S(), 1), true, true}};
  o.functions = std::move(fns);
  auto node = WindowNode::Make(Input(), o);
  EXPECT_TRUE(node.ok()) << node.status().ToString();
  if (!node.ok()) return {};
  auto out = RunPlan(*node, 2);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? Rows(*out) : StrRows{};
}

TEST(WindowTest, Ranking) {
  // Partition a ordered by o: (1,30) (2,10) (2,40) (5,null); b: (null,50) (1,20).
  auto rows = RunWindow({Fn("rn", K::kRowNumber), Fn("rk", K::kRank), Fn("dr", K::kDenseRank),
                         Fn("pr", K::kPercentRank), Fn("cd", K::kCumeDist)});
  EXPECT_EQ(rows, (StrRows{"a|1|30|1|1|1|0|0.25", "a|2|10|2|2|2|0.3333333333333333|0.75",
                           "a|2|40|3|2|2|0.3333333333333333|0.75", "a|5|NULL|4|4|3|1|1",
                           "b|NULL|50|1|1|1|0|0.5", "b|1|20|2|2|2|1|1"}));
}

TEST(WindowTest, Ntile) {
  auto f = Fn("nt", K::kNtile);
  f.offset = 3;
  auto rows = RunWindow({f});
  EXPECT_EQ(rows, (StrRows{"a|1|30|1", "a|2|10|1", "a|2|40|2", "a|5|NULL|3", "b|NULL|50|1",
                           "b|1|20|2"}));
}

TEST(WindowTest, LagLead) {
  auto lag = Fn("lag", K::kLag, {Col(S(), 2)});
  auto lead = Fn("lead", K::kLead, {Col(S(), 2)});
  lead.offset = 2;
  lead.default_value = std::make_shared<arrow::Int64Scalar>(-1);
  auto lag_nn = Fn("lagnn", K::kLag, {Col(S(), 2)});
  lag_nn.ignore_nulls = true;
  auto rows = RunWindow({lag, lead, lag_nn});
  EXPECT_EQ(rows, (StrRows{"a|1|30|NULL|40|NULL", "a|2|10|30|NULL|30", "a|2|40|10|-1|10",
                           "a|5|NULL|40|-1|40", "b|NULL|50|NULL|-1|NULL", "b|1|20|50|-1|50"}));
}

TEST(WindowTest, AggregatesOverDefaultFrames) {
  // With ORDER BY: RANGE UNBOUNDED PRECEDING..CURRENT ROW (peers included).
  auto rows = RunWindow({AggFn("s", "sum", {Col(S(), 2)}), AggFn("c", "count", {})});
  EXPECT_EQ(rows, (StrRows{"a|1|30|30|1", "a|2|10|80|3", "a|2|40|80|3", "a|5|NULL|80|4",
                           "b|NULL|50|50|1", "b|1|20|70|2"}));
  // Without ORDER BY: the whole partition.
  auto whole = RunWindow({AggFn("s", "sum", {Col(S(), 2)}), AggFn("m", "max", {Col(S(), 1)})},
                         /*order_by=*/false);
  ASSERT_EQ(whole.size(), 6u);
  for (const auto& r : whole) {
    EXPECT_TRUE(r.substr(0, 1) == "a" ? r.ends_with("|80|5") : r.ends_with("|70|1")) << r;
  }
}

TEST(WindowTest, RowsFrames) {
  auto sliding = Frame(WindowFrame::Unit::kRows, B::kPreceding, 1, B::kFollowing, 1);
  auto following = Frame(WindowFrame::Unit::kRows, B::kCurrentRow, 0, B::kUnboundedFollowing, 0);
  auto before = Frame(WindowFrame::Unit::kRows, B::kUnboundedPreceding, 0, B::kPreceding, 1);
  auto rows = RunWindow({AggFn("s", "sum", {Col(S(), 2)}, sliding),
                         AggFn("f", "sum", {Col(S(), 2)}, following),
                         AggFn("b", "count", {Col(S(), 2)}, before)});
  EXPECT_EQ(rows, (StrRows{"a|1|30|40|80|0", "a|2|10|80|50|1", "a|2|40|50|40|2",
                           "a|5|NULL|40|NULL|3", "b|NULL|50|70|70|0", "b|1|20|70|20|1"}));
}

TEST(WindowTest, RangeFramesWithOffsets) {
  auto range = Frame(WindowFrame::Unit::kRange, B::kPreceding, 1, B::kCurrentRow, 0);
  auto ahead = Frame(WindowFrame::Unit::kRange, B::kCurrentRow, 0, B::kFollowing, 3);
  auto rows = RunWindow({AggFn("s", "sum", {Col(S(), 2)}, range),
                         AggFn("t", "sum", {Col(S(), 2)}, ahead)});
  // a: o=1 -> [0,1] = 30; o=2 -> [1,2] = 80; o=5 -> [4,5] = NULL.
  // ahead: o=1 -> [1,4] = 80; o=2 -> [2,5] = 50; o=5 -> NULL. NULL keys frame their peers.
  EXPECT_EQ(rows, (StrRows{"a|1|30|30|80", "a|2|10|80|50", "a|2|40|80|50", "a|5|NULL|NULL|NULL",
                           "b|NULL|50|50|50", "b|1|20|20|20"}));
}

TEST(WindowTest, FirstLastNthValue) {
  auto whole = Frame(WindowFrame::Unit::kRows, B::kUnboundedPreceding, 0, B::kUnboundedFollowing, 0);
  auto first = Fn("fv", K::kFirstValue, {Col(S(), 2)});
  auto last = Fn("lv", K::kLastValue, {Col(S(), 2)});
  last.frame = whole;
  auto last_nn = Fn("lvn", K::kLastValue, {Col(S(), 2)});
  last_nn.frame = whole;
  last_nn.ignore_nulls = true;
  auto nth = Fn("nv", K::kNthValue, {Col(S(), 2)});
  nth.offset = 2;
  auto rows = RunWindow({first, last, last_nn, nth});
  EXPECT_EQ(rows, (StrRows{"a|1|30|30|NULL|40|NULL", "a|2|10|30|NULL|40|10", "a|2|40|30|NULL|40|10",
                           "a|5|NULL|30|NULL|40|10", "b|NULL|50|50|20|20|NULL", "b|1|20|50|20|20|20"}));
}

TEST(WindowTest, EmptyInputAndErrors) {
  WindowOptions o;
  o.partition_by = {Col(S(), 0)};
  o.functions = {Fn("rn", K::kRowNumber)};
  auto node = WindowNode::Make(Scan(S(), {}), o).ValueOrDie();
  EXPECT_EQ(testing::NumRows(RunPlan(node).ValueOrDie()), 0);
  auto bad = Fn("nt", K::kNtile);
  bad.offset = 0;
  o.functions = {bad};
  EXPECT_FALSE(WindowNode::Make(Scan(S(), {}), o).ok());
}

}  // namespace
}  // namespace lakestream::exec
