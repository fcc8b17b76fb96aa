// FilterNode over a conjunction: evaluated conjunct by conjunct, cutting the
// batch down when few rows are left. Three-valued logic (NULL rows dropped)
// and Spark's left-to-right AND (a failing right side is not evaluated where
// the left side is FALSE) must hold on both paths: the cut and the mask.
#include <gtest/gtest.h>

#include "exec/basic_operators.h"
#include "exec_test_util.h"
#include "expr/function.h"

namespace lakestream::exec {
namespace {

using testing::And;
using testing::Call;
using testing::Col;
using testing::Int;
using testing::MakeBatch;
using testing::RunPlan;
using testing::Scan;
using testing::Str;
using Rows = std::vector<std::string>;

std::shared_ptr<arrow::Schema> S() {
  return arrow::schema({arrow::field("a", arrow::int32()), arrow::field("s", arrow::utf8())});
}

Rows RunFilter(const expr::ExprPtr& pred, std::vector<BatchPtr> batches, int threads = 1) {
  auto node = std::make_shared<FilterNode>(Scan(S(), std::move(batches)), pred);
  auto out = RunPlan(node, threads);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? testing::SortedRows(*out) : Rows{};
}

// a < 3 AND s <> 'x' AND a >= 0
expr::ExprPtr ThreeConjuncts() {
  return And(And(Call("less", {Col(S(), 0), Int(3)}), Call("not_equal", {Col(S(), 1), Str("x")})),
             Call("greater_equal", {Col(S(), 0), Int(0)}));
}

TEST(FilterTest, ConjunctsWithNullsWhenFewRowsSurvive) {
  // The first conjunct keeps 3 (TRUE or NULL) of 8 rows: the batch is cut.
  auto b = MakeBatch(
      S(), {"[1, 5, null, 2, 7, 8, 9, -1]", R"(["a", "b", "c", "x", null, "d", "e", "f"])"});
  EXPECT_EQ(RunFilter(ThreeConjuncts(), {b}), (Rows{"1|a"}));
}

TEST(FilterTest, ConjunctsWithNullsWhenMostRowsSurvive) {
  // The first conjunct keeps 6 of 7 rows: the mask is carried instead.
  auto b = MakeBatch(S(), {"[1, 0, null, 2, 2, 1, 9]", R"(["a", "b", "c", "x", null, "d", "e"])"});
  EXPECT_EQ(RunFilter(ThreeConjuncts(), {b}), (Rows{"0|b", "1|a", "1|d"}));
  // All rows pass every conjunct: the batch goes through whole.
  auto all = MakeBatch(S(), {"[0, 1, 2]", R"(["a", "b", "c"])"});
  EXPECT_EQ(RunFilter(ThreeConjuncts(), {all, b}, 2),
            (Rows{"0|a", "0|b", "1|a", "1|b", "1|d", "2|c"}));
}

TEST(FilterTest, RightSideIsNotEvaluatedWhereLeftIsFalse) {
  // s <> 'bad' AND CAST(s AS INT) > 1: ANSI casts fail on 'bad', which the
  // left side removes first, on both the cut and the mask path.
  auto pred =
      And(Call("not_equal", {Col(S(), 1), Str("bad")}),
          Call("greater",
               {expr::MakeCast(Col(S(), 1), arrow::int32(), expr::CastMode::kAnsi), Int(1)}));
  auto few = MakeBatch(S(), {"[1, 2, 3]", R"(["bad", "bad", "7"])"});
  auto many = MakeBatch(S(), {"[1, 2, 3]", R"(["5", "bad", "0"])"});
  EXPECT_EQ(RunFilter(pred, {few, many}), (Rows{"1|5", "3|7"}));
  // And it does fail where the left side lets the row through.
  auto node =
      std::make_shared<FilterNode>(Scan(S(), {MakeBatch(S(), {"[1]", R"(["oops"])"})}), pred);
  EXPECT_FALSE(RunPlan(node).ok());
}

TEST(FilterTest, NoRowSurvivesTheFirstConjunct) {
  auto b = MakeBatch(S(), {"[5, 6, null]", R"(["a", "b", "c"])"});
  EXPECT_EQ(RunFilter(ThreeConjuncts(), {b}), Rows{});
}

}  // namespace
}  // namespace lakestream::exec
