// Aggregate functions (aggregate_functions.cc) driven directly through the
// GroupedAggregator interface: results per group against Spark's answers, and
// the same answers through Merge of two partials and through SaveState/LoadState.
#include <arrow/api.h>
#include <arrow/json/from_string.h>
#include <gtest/gtest.h>

#include <cmath>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "expr/aggregate_internal.h"
#include "expr/function.h"

namespace lakestream::expr {
namespace {

using internal::ArrayPtr;

ArrayPtr J(const std::shared_ptr<arrow::DataType>& t, const std::string& json) {
  return arrow::json::ArrayFromJSONString(t, json).ValueOrDie();
}

const FunctionRegistry& Registry() {
  static FunctionRegistry* r = [] {
    auto* reg = new FunctionRegistry();
    RegisterAggregateFunctions(reg);
    return reg;
  }();
  return *r;
}

struct Call {
  std::string name;
  std::vector<ArrayPtr> args;
  std::vector<uint32_t> gids;
  int64_t groups = 1;
  bool distinct = false;
  std::vector<std::shared_ptr<arrow::Scalar>> literals;  // extra literal args, after `args`
  bool ansi = true;
};

Result<ResolvedAggregate> Resolve(const Call& c, SessionConfig* config) {
  const AggregateFunction* f = Registry().FindAggregate(c.name);
  if (f == nullptr) return Status::Invalid("no function ", c.name);
  AggregateSite site;
  for (const auto& a : c.args) {
    site.arg_types.push_back(a->type());
    site.literal_args.push_back(nullptr);
  }
  for (const auto& l : c.literals) {
    site.arg_types.push_back(l->type);
    site.literal_args.push_back(l);
  }
  site.distinct = c.distinct;
  config->ansi = c.ansi;
  site.config = config;
  return f->resolve(site);
}

std::vector<arrow::Datum> Args(const Call& c, int64_t offset, int64_t length) {
  std::vector<arrow::Datum> out;
  for (const auto& a : c.args) out.emplace_back(a->Slice(offset, length));
  for (const auto& l : c.literals) out.emplace_back(l);
  return out;
}

std::vector<uint32_t> Gids(const Call& c) {
  if (!c.gids.empty()) return c.gids;
  int64_t n = c.args.empty() ? 0 : c.args[0]->length();
  return std::vector<uint32_t>(n, 0);
}

// Runs the call in one aggregator.
Result<ArrayPtr> RunCall(const Call& c) {
  SessionConfig config;
  ARROW_ASSIGN_OR_RAISE(auto r, Resolve(c, &config));
  auto agg = r.make();
  ARROW_RETURN_NOT_OK(agg->Resize(c.groups));
  auto gids = Gids(c);
  ARROW_RETURN_NOT_OK(agg->Update(Args(c, 0, gids.size()), gids.data(), gids.size()));
  ARROW_ASSIGN_OR_RAISE(auto out, agg->Finalize());
  if (!out->type()->Equals(*r.result_type)) {
    return Status::Invalid("result type ", out->type()->ToString(), " != resolved ",
                           r.result_type->ToString());
  }
  return out;
}

// Splits the input in two partials (the second with reversed group numbering),
// merges them, and round-trips the merged state through SaveState/LoadState.
Result<ArrayPtr> RunMerged(const Call& c) {
  SessionConfig config;
  ARROW_ASSIGN_OR_RAISE(auto r, Resolve(c, &config));
  auto gids = Gids(c);
  const int64_t n = gids.size(), half = n / 2;
  auto a = r.make(), b = r.make();
  ARROW_RETURN_NOT_OK(a->Resize(c.groups));
  ARROW_RETURN_NOT_OK(b->Resize(c.groups));
  ARROW_RETURN_NOT_OK(a->Update(Args(c, 0, half), gids.data(), half));
  std::vector<uint32_t> rev(n - half), mapping(c.groups);
  for (int64_t i = half; i < n; ++i) rev[i - half] = c.groups - 1 - gids[i];
  for (int64_t g = 0; g < c.groups; ++g) mapping[g] = c.groups - 1 - g;
  ARROW_RETURN_NOT_OK(b->Update(Args(c, half, n - half), rev.data(), n - half));
  ARROW_RETURN_NOT_OK(a->Merge(*b, mapping.data()));
  ARROW_ASSIGN_OR_RAISE(auto state, a->SaveState());
  auto restored = r.make();
  ARROW_RETURN_NOT_OK(restored->Resize(0));
  ARROW_RETURN_NOT_OK(restored->LoadState(*state));
  return restored->Finalize();
}

// Checks the direct and the merged results against `expected` (JSON of the result type).
void Expect(const Call& c, const std::shared_ptr<arrow::DataType>& type, const std::string& expected,
            bool check_merged = true) {
  SCOPED_TRACE(c.name);
  auto want = J(type, expected);
  auto got = RunCall(c);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE((*got)->Equals(*want, arrow::EqualOptions().nans_equal(true))) << "got " << (*got)->ToString() << "\nwant " << want->ToString();
  if (!check_merged) return;
  auto merged = RunMerged(c);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_TRUE((*merged)->Equals(*want, arrow::EqualOptions().nans_equal(true)))
      << "merged " << (*merged)->ToString() << "\nwant " << want->ToString();
}

std::shared_ptr<arrow::Scalar> Bool(bool v) { return std::make_shared<arrow::BooleanScalar>(v); }
std::shared_ptr<arrow::Scalar> Dbl(double v) { return std::make_shared<arrow::DoubleScalar>(v); }

TEST(AggregateTest, CountForms) {
  auto x = J(arrow::int32(), "[1, null, 3, null, 5, 5]");
  std::vector<uint32_t> g{0, 0, 1, 1, 1, 2};
  Expect({"count", {x}, g, 4}, arrow::int64(), "[1, 2, 1, 0]");
  Call star{"count", {}, {}, 4};
  // count(*) needs rows: drive it through a zero-argument update.
  SessionConfig config;
  auto r = Resolve(star, &config).ValueOrDie();
  auto agg = r.make();
  ASSERT_TRUE(agg->Resize(4).ok());
  ASSERT_TRUE(agg->Update({}, g.data(), g.size()).ok());
  EXPECT_TRUE(agg->Finalize().ValueOrDie()->Equals(*J(arrow::int64(), "[2, 3, 1, 0]")));
  Expect({"count", {x}, g, 4, true}, arrow::int64(), "[1, 2, 1, 0]");
  auto y = J(arrow::utf8(), R"(["a", "b", null, "c", "c", "d"])");
  Expect({"count", {x, y}, g, 3}, arrow::int64(), "[1, 1, 1]");
  Expect({"count_if", {J(arrow::boolean(), "[true, false, null, true, true, true]")}, g, 3},
         arrow::int64(), "[1, 2, 1]");
}

TEST(AggregateTest, SumIntegers) {
  auto x = J(arrow::int32(), "[1, 2, null, 2147483647, 2147483647]");
  std::vector<uint32_t> g{0, 0, 1, 2, 2};
  Expect({"sum", {x}, g, 3}, arrow::int64(), "[3, null, 4294967294]");
  Expect({"sum", {x}, g, 3, true}, arrow::int64(), "[3, null, 2147483647]");
  Expect({"avg", {x}, g, 3}, arrow::float64(), "[1.5, null, 2147483647.0]");
}

TEST(AggregateTest, SumOverflowAnsiAndLegacy) {
  auto x = J(arrow::int64(), "[9223372036854775807, 1]");
  auto st = RunCall({"sum", {x}, {0, 0}, 1});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("[ARITHMETIC_OVERFLOW] long overflow"), std::string::npos);
  Call legacy{"sum", {x}, {0, 0}, 1};
  legacy.ansi = false;
  Expect(legacy, arrow::int64(), "[-9223372036854775808]");
  Expect({"try_sum", {x}, {0, 0}, 1}, arrow::int64(), "[null]");
}

TEST(AggregateTest, SumAvgDecimal) {
  auto x = J(arrow::decimal128(5, 2), R"(["1.00", "2.01", null, "999.99"])");
  std::vector<uint32_t> g{0, 0, 1, 0};
  Expect({"sum", {x}, g, 2}, arrow::decimal128(15, 2), R"(["1003.00", null])");
  // avg: decimal(9, 6); 1003.00 / 3 = 334.333333 (HALF_UP)
  Expect({"avg", {x}, g, 2}, arrow::decimal128(9, 6), R"(["334.333333", null])");
  auto y = J(arrow::decimal128(2, 1), R"(["0.1", "0.2"])");
  Expect({"avg", {y}, {0, 0}, 1}, arrow::decimal128(6, 5), R"(["0.15000"])");
  auto z = J(arrow::decimal128(1, 0), R"(["1", "2", "2"])");
  // 5 / 3 = 1.66667 at scale 4 -> 1.6667
  Expect({"avg", {z}, {0, 0, 0}, 1}, arrow::decimal128(5, 4), R"(["1.6667"])");
}

TEST(AggregateTest, SumDecimalOverflow) {
  auto x = J(arrow::decimal128(38, 0),
             R"(["99999999999999999999999999999999999999", "99999999999999999999999999999999999999"])");
  auto st = RunCall({"sum", {x}, {0, 0}, 1});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("NUMERIC_VALUE_OUT_OF_RANGE"), std::string::npos);
  Call legacy{"sum", {x}, {0, 0}, 1};
  legacy.ansi = false;
  Expect(legacy, arrow::decimal128(38, 0), "[null]");
}

TEST(AggregateTest, SumDouble) {
  auto x = J(arrow::float64(), "[1.5, 2.5, null, NaN]");
  Expect({"sum", {x}, {0, 0, 1, 1}, 2}, arrow::float64(), "[4.0, NaN]");
  auto f = J(arrow::float32(), "[1.5, 2.5]");
  Expect({"sum", {f}, {0, 0}, 1}, arrow::float64(), "[4.0]");
}

TEST(AggregateTest, MinMaxTypes) {
  std::vector<uint32_t> g{0, 1, 0, 1, 2};
  Expect({"min", {J(arrow::int32(), "[3, 1, 2, null, null]")}, g, 3}, arrow::int32(), "[2, 1, null]");
  Expect({"max", {J(arrow::float64(), "[3, NaN, 2, 1, null]")}, g, 3}, arrow::float64(),
         "[3, NaN, null]");
  Expect({"min", {J(arrow::float64(), "[NaN, NaN, 2, 1, null]")}, g, 3}, arrow::float64(),
         "[2, 1, null]");
  Expect({"max", {J(arrow::utf8(), R"(["b", "a", "c", "ab", null])")}, g, 3}, arrow::utf8(),
         R"(["c", "ab", null])");
  Expect({"min", {J(arrow::date32(), "[10, 5, 7, 9, 1]")}, g, 3}, arrow::date32(), "[7, 5, 1]");
  Expect({"max", {J(arrow::decimal128(4, 1), R"(["-1.5", "2.0", "-0.5", "1.0", null])")}, g, 3},
         arrow::decimal128(4, 1), R"(["-0.5", "2.0", null])");
  Expect({"max", {J(arrow::boolean(), "[false, true, false, false, null]")}, g, 3},
         arrow::boolean(), "[false, true, null]");
  Expect({"bool_and", {J(arrow::boolean(), "[true, true, false, null, null]")}, g, 3},
         arrow::boolean(), "[false, true, null]");
  Expect({"bool_or", {J(arrow::boolean(), "[false, true, false, null, null]")}, g, 3},
         arrow::boolean(), "[false, true, null]");
  Expect({"every", {J(arrow::boolean(), "[true, true, true, null, null]")}, g, 3},
         arrow::boolean(), "[true, true, null]");
}

TEST(AggregateTest, Variance) {
  auto x = J(arrow::float64(), "[1, 2, 3, 4, 10, null]");
  std::vector<uint32_t> g{0, 0, 0, 0, 1, 2};
  Expect({"var_samp", {x}, g, 3}, arrow::float64(), "[1.6666666666666667, null, null]");
  Expect({"var_pop", {x}, g, 3}, arrow::float64(), "[1.25, 0.0, null]");
  Expect({"stddev_pop", {x}, g, 3}, arrow::float64(), "[1.118033988749895, 0.0, null]");
  auto got = RunCall({"stddev", {x}, g, 3}).ValueOrDie();
  EXPECT_NEAR(std::static_pointer_cast<arrow::DoubleArray>(got)->Value(0), std::sqrt(5.0 / 3), 1e-15);
  EXPECT_TRUE(got->IsNull(1));  // one row: NULL, not NaN (Spark 4)
  Expect({"variance", {J(arrow::int32(), "[1, 3]")}, {0, 0}, 1}, arrow::float64(), "[2.0]");
}

TEST(AggregateTest, FirstLast) {
  auto x = J(arrow::int32(), "[null, 1, 2, null]");
  std::vector<uint32_t> g{0, 0, 0, 0};
  Expect({"first", {x}, g, 1}, arrow::int32(), "[null]", false);
  Expect({"first", {x}, g, 1, false, {Bool(true)}}, arrow::int32(), "[1]");
  Expect({"last", {x}, g, 1}, arrow::int32(), "[null]", false);
  Expect({"last", {x}, g, 1, false, {Bool(true)}}, arrow::int32(), "[2]");
  Expect({"first_value", {J(arrow::utf8(), R"(["a", "b", "c"])")}, {1, 0, 1}, 3}, arrow::utf8(),
         R"(["b", "a", null])", false);
  Expect({"any_value", {J(arrow::int64(), "[7]")}, {0}, 1}, arrow::int64(), "[7]", false);
}

TEST(AggregateTest, FirstManyBatchesCompacts) {
  SessionConfig config;
  Call c{"last", {J(arrow::int64(), "[1]")}, {}, 1000};
  auto r = Resolve(c, &config).ValueOrDie();
  auto agg = r.make();
  ASSERT_TRUE(agg->Resize(1000).ok());
  std::vector<int64_t> vals(1000);
  std::vector<uint32_t> g(1000);
  for (int batch = 0; batch < 200; ++batch) {
    for (int i = 0; i < 1000; ++i) {
      vals[i] = batch * 1000 + i;
      g[i] = i;
    }
    auto a = internal::MakeFixedArray(arrow::int64(), vals, nullptr).ValueOrDie();
    ASSERT_TRUE(agg->Update({a}, g.data(), 1000).ok());
  }
  auto out = std::static_pointer_cast<arrow::Int64Array>(agg->Finalize().ValueOrDie());
  EXPECT_EQ(out->Value(0), 199000);
  EXPECT_EQ(out->Value(999), 199999);
  EXPECT_LT(agg->MemoryUsage(), 200 * 1000 * 8);  // compacted, not every batch retained
}

TEST(AggregateTest, CollectListAndSet) {
  auto x = J(arrow::int32(), "[1, 2, null, 1, 3, 2]");
  std::vector<uint32_t> g{0, 0, 0, 0, 1, 0};
  Expect({"collect_list", {x}, g, 3}, arrow::list(arrow::int32()), "[[1, 2, 1, 2], [3], []]", false);
  Expect({"collect_set", {x}, g, 3}, arrow::list(arrow::int32()), "[[1, 2], [3], []]", false);
  auto merged = RunMerged({"collect_set", {x}, g, 3}).ValueOrDie();
  auto list = std::static_pointer_cast<arrow::ListArray>(merged);
  EXPECT_EQ(list->value_length(0), 2);
  EXPECT_EQ(list->value_length(1), 1);
  Expect({"collect_list", {x}, g, 3, true}, arrow::list(arrow::int32()), "[[1, 2], [3], []]", false);
}

TEST(AggregateTest, Percentiles) {
  auto x = J(arrow::int32(), "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, null]");
  std::vector<uint32_t> g(11, 0);
  Expect({"percentile_approx", {x}, g, 1, false, {Dbl(0.5)}}, arrow::int32(), "[5]");
  Expect({"percentile_approx", {x}, g, 1, false, {Dbl(0.25)}}, arrow::int32(), "[3]");
  Expect({"percentile", {x}, g, 1, false, {Dbl(0.5)}}, arrow::float64(), "[5.5]");
  Expect({"percentile", {x}, g, 1, false, {Dbl(0.25)}}, arrow::float64(), "[3.25]");
  Expect({"median", {x}, g, 1}, arrow::float64(), "[5.5]");
  auto ps = std::make_shared<arrow::ListScalar>(J(arrow::float64(), "[0.0, 0.5, 1.0]"));
  Expect({"approx_percentile", {x}, g, 1, false, {ps}}, arrow::list(arrow::int32()),
         "[[1, 5, 10]]");
  // empty group -> NULL
  Expect({"percentile", {J(arrow::float64(), "[1.0]")}, {1}, 2, false, {Dbl(0.5)}},
         arrow::float64(), "[null, 1.0]");
  auto bad = RunCall({"percentile", {x}, g, 1, false, {Dbl(1.5)}});
  EXPECT_FALSE(bad.ok());
}

TEST(AggregateTest, MaxByMinBy) {
  auto x = J(arrow::utf8(), R"(["a", "b", "c", "d", null])");
  auto ord = J(arrow::int32(), "[1, 3, 3, null, 10]");
  std::vector<uint32_t> g{0, 0, 0, 0, 1};
  // Ties go to the later row, as Spark's MaxMinBy (Spark 4.0.1: max_by over
  // (1,5),(2,1),(3,5),(4,1) is 3).
  Expect({"max_by", {x, ord}, g, 3}, arrow::utf8(), R"(["c", null, null])", false);
  Expect({"min_by", {x, ord}, g, 3}, arrow::utf8(), R"(["a", null, null])");
}

TEST(AggregateTest, DistinctAndApproxCountDistinct) {
  auto x = J(arrow::int64(), "[1, 1, 2, null, 2, 3]");
  std::vector<uint32_t> g{0, 0, 0, 0, 1, 1};
  Expect({"sum", {x}, g, 2, true}, arrow::int64(), "[3, 5]");
  Expect({"avg", {x}, g, 2, true}, arrow::float64(), "[1.5, 2.5]");
  Expect({"approx_count_distinct", {x}, g, 2}, arrow::int64(), "[2, 2]");
}

TEST(AggregateTest, ResolutionErrors) {
  EXPECT_FALSE(RunCall({"sum", {J(arrow::utf8(), R"(["a"])")}, {0}, 1}).ok());
  EXPECT_FALSE(RunCall({"bool_and", {J(arrow::int32(), "[1]")}, {0}, 1}).ok());
  EXPECT_FALSE(RunCall({"min", {J(arrow::list(arrow::int32()), "[[1]]")}, {0}, 1}).ok());
}

TEST(AggregateTest, ManyGroups) {
  const int64_t n = 1 << 20;
  std::vector<int64_t> vals(n);
  std::vector<uint32_t> g(n);
  for (int64_t i = 0; i < n; ++i) {
    vals[i] = i;
    g[i] = static_cast<uint32_t>(i % 100000);
  }
  auto a = internal::MakeFixedArray(arrow::int64(), vals, nullptr).ValueOrDie();
  SessionConfig config;
  Call c{"sum", {a}, g, 100000};
  auto out = std::static_pointer_cast<arrow::Int64Array>(RunCall(c).ValueOrDie());
  int64_t expect0 = 0;
  for (int64_t i = 0; i < n; i += 100000) expect0 += i;
  EXPECT_EQ(out->Value(0), expect0);
}

}  // namespace

}  // namespace lakestream::expr

