// Evaluation of higher-order functions (kHigherOrder) and lambda variables:
// bodies run once over the flattened elements, outer columns are taken at each
// element's row, NULL and empty arrays keep their shape. Expected values match
// Spark 4.0.1 (see tests/sql/functions/higher_order.test for the SQL forms).
#include <arrow/record_batch.h>

#include "expr/evaluator.h"
#include "numeric_test_util.h"

namespace lakestream::expr::testing {
namespace {

std::shared_ptr<arrow::DataType> IntList() { return arrow::list(arrow::int32()); }

class HigherOrderTest : public ::testing::Test {
 protected:
  HigherOrderTest() {
    config_.ansi = true;
    ctx_.config = &config_;
  }

  // A resolved call of a built-in scalar function over bound arguments.
  ExprPtr Fn(const std::string& name, std::vector<ExprPtr> args) {
    const auto* f = FunctionRegistry::Default().FindScalar(name);
    EXPECT_NE(f, nullptr) << name;
    CallSite site;
    site.config = &config_;
    for (const auto& a : args) {
      site.arg_types.push_back(a->type);
      site.literal_args.push_back(a->kind == ExprKind::kLiteral ? a->value : nullptr);
    }
    auto rc = f->resolve(site);
    EXPECT_TRUE(rc.ok()) << rc.status().ToString();
    for (size_t i = 0; i < args.size(); ++i) {
      if (rc->arg_types.size() > i && rc->arg_types[i] && !rc->arg_types[i]->Equals(*args[i]->type)) {
        args[i] = MakeCast(args[i], rc->arg_types[i], CastMode::kAnsi);
      }
    }
    return MakeCall(name, std::make_shared<ResolvedCall>(std::move(*rc)), std::move(args));
  }
  ExprPtr Int(int32_t v) { return MakeLiteral(std::make_shared<arrow::Int32Scalar>(v)); }

  // Batch: arr ARRAY<INT>, k INT.
  std::shared_ptr<arrow::RecordBatch> Batch(const std::shared_ptr<arrow::Array>& arr, const std::string& k) {
    auto ks = J(arrow::int32(), k);
    auto schema = arrow::schema({arrow::field("arr", arr->type()), arrow::field("k", arrow::int32())});
    return arrow::RecordBatch::Make(schema, arr->length(), {arr, ks});
  }

  Result<std::shared_ptr<arrow::Array>> Run(const ExprPtr& e, const arrow::RecordBatch& b) {
    return EvaluateToArray(*e, b, ctx_);
  }

  SessionConfig config_;
  EvalContext ctx_;
};

TEST_F(HigherOrderTest, TransformSeesOuterColumnsAndKeepsNullAndEmptyRows) {
  auto batch = Batch(J(IntList(), "[[1, 2, 3], [], null, [null, 5]]"), "[10, 20, 30, 40]");
  auto arr = MakeColumn(0, "arr", IntList());
  auto k = MakeColumn(1, "k", arrow::int32());
  auto x = MakeLambdaVariable(0, "x", arrow::int32());
  auto body = Fn("add", {x, k});
  auto e = MakeHigherOrder("transform", arrow::list(body->type), {arr}, {body}, 0);
  ExpectArray(Run(e, *batch), IntList(), "[[11, 12, 13], [], null, [null, 45]]");
}

TEST_F(HigherOrderTest, SlicedInputAndIndexParameter) {
  // A slice of a list array starts at a non-zero offset.
  auto full = J(IntList(), "[[7], [1, 2], null, [3]]");
  auto batch = Batch(full->Slice(1, 3), "[0, 0, 0]");
  auto arr = MakeColumn(0, "arr", IntList());
  auto x = MakeLambdaVariable(0, "x", arrow::int32());
  auto i = MakeLambdaVariable(1, "i", arrow::int32());
  auto body = Fn("add", {Fn("multiply", {x, Int(10)}), i});
  auto e = MakeHigherOrder("transform", arrow::list(body->type), {arr}, {body}, 0);
  ExpectArray(Run(e, *batch), IntList(), "[[10, 21], null, [30]]");
}

TEST_F(HigherOrderTest, FilterAndThreeValuedExists) {
  auto batch = Batch(J(IntList(), "[[1, 2, 3], [], null, [null, 5], [null, 1]]"), "[0, 0, 0, 0, 0]");
  auto arr = MakeColumn(0, "arr", IntList());
  auto x = MakeLambdaVariable(0, "x", arrow::int32());
  auto gt1 = Fn("greater", {x, Int(1)});
  auto filter = MakeHigherOrder("filter", IntList(), {arr}, {gt1}, 0);
  ExpectArray(Run(filter, *batch), IntList(), "[[2, 3], [], null, [5], []]");
  auto exists = MakeHigherOrder("exists", arrow::boolean(), {arr}, {gt1}, 0);
  // [null, 1]: no element is TRUE and one is NULL -> NULL.
  ExpectArray(Run(exists, *batch), arrow::boolean(), "[true, false, null, true, null]");
  auto forall = MakeHigherOrder("forall", arrow::boolean(), {arr}, {gt1}, 0);
  ExpectArray(Run(forall, *batch), arrow::boolean(), "[false, true, null, null, false]");
}

TEST_F(HigherOrderTest, AggregateFoldsRowsOfDifferentLengths) {
  auto batch = Batch(J(IntList(), "[[1, 2, 3], [], null, [4], [null, 5]]"), "[100, 200, 300, 400, 500]");
  auto arr = MakeColumn(0, "arr", IntList());
  auto k = MakeColumn(1, "k", arrow::int32());
  auto acc = MakeLambdaVariable(0, "acc", arrow::int32());
  auto x = MakeLambdaVariable(1, "x", arrow::int32());
  auto merge = Fn("add", {acc, x});
  // The zero value is a column (k): each row starts from its own value.
  auto agg = MakeHigherOrder("aggregate", arrow::int32(), {arr, k}, {merge}, 0);
  ExpectArray(Run(agg, *batch), arrow::int32(), "[106, 200, null, 404, null]");
  // With a finish lambda over the accumulator.
  auto finish = Fn("multiply", {MakeLambdaVariable(0, "acc", arrow::int32()), Int(2)});
  auto agg2 = MakeHigherOrder("aggregate", arrow::int32(), {arr, Int(0)}, {merge, finish}, 0);
  ExpectArray(Run(agg2, *batch), arrow::int32(), "[12, 0, null, 8, null]");
}

TEST_F(HigherOrderTest, NestedLambdaSeesEnclosingParameter) {
  auto batch = Batch(J(IntList(), "[[1, 2], null]"), "[10, 20]");
  auto arr = MakeColumn(0, "arr", IntList());
  auto x = MakeLambdaVariable(0, "x", arrow::int32());
  auto y = MakeLambdaVariable(1, "y", arrow::int32());
  // transform(arr, x -> transform(arr, y -> x * y))
  auto inner_body = Fn("multiply", {x, y});
  auto inner = MakeHigherOrder("transform", arrow::list(inner_body->type), {arr}, {inner_body}, 1);
  auto outer = MakeHigherOrder("transform", arrow::list(inner->type), {arr}, {inner}, 0);
  ExpectArray(Run(outer, *batch), arrow::list(IntList()), "[[[1, 2], [2, 4]], null]");
}

TEST_F(HigherOrderTest, BodyErrorsSurfaceAndStrayVariablesAreInternalErrors) {
  auto batch = Batch(J(IntList(), "[[1, 0]]"), "[1]");
  auto arr = MakeColumn(0, "arr", IntList());
  auto x = MakeLambdaVariable(0, "x", arrow::int32());
  auto div = Fn("div", {Int(1), x});
  auto e = MakeHigherOrder("transform", arrow::list(div->type), {arr}, {div}, 0);
  ExpectError(Run(e, *batch), "DIVIDE_BY_ZERO");
  // A lambda variable evaluated outside any lambda is a binder bug, not a crash.
  ExpectError(Run(x, *batch), "outside its lambda");
}

}  // namespace
}  // namespace lakestream::expr::testing
