// Math functions (math.cc): rounding modes and result types, floor/ceil types,
// NULL for logarithms of non-positive numbers, DOUBLE functions, factorial and
// rand. Expected values checked against Spark 4.0.1.
#include <gtest/gtest.h>

#include <cmath>

#include "numeric_test_util.h"
#include "types/types.h"

namespace lakestream::expr {
namespace {

using testing::ExpectArray;
using testing::ExpectError;
using testing::Harness;
using testing::J;
using testing::L;

TEST(MathTest, RoundDoublesHalfUpOnTheirDecimalText) {
  Harness h;
  ExpectArray(h.CallArray("round", {J(arrow::float64(), "[2.5, -2.5, 0.5, 1.4, null, NaN]")}),
              arrow::float64(), "[3, -3, 1, 1, null, NaN]");
  ExpectArray(h.CallArray("round", {J(arrow::float64(), "[1.005, 0.125, 1.5555, -1.005]"), L(arrow::int32(), "2")}),
              arrow::float64(), "[1.01, 0.13, 1.56, -1.01]");
  ExpectArray(h.CallArray("round", {J(arrow::float64(), "[1.5555]"), L(arrow::int32(), "3")}), arrow::float64(),
              "[1.556]");
  ExpectArray(h.CallArray("round", {J(arrow::float64(), "[1234.5]"), L(arrow::int32(), "-2")}), arrow::float64(),
              "[1200]");
  ExpectArray(h.CallArray("bround", {J(arrow::float64(), "[2.5, 3.5, -2.5, 2.51]")}), arrow::float64(),
              "[2, 4, -2, 3]");
  ExpectArray(h.CallArray("round", {J(arrow::float32(), "[2.5]")}), arrow::float32(), "[3]");
}

TEST(MathTest, RoundIntegralsAndDecimals) {
  Harness h;
  ExpectArray(h.CallArray("round", {J(arrow::int32(), "[123, 125, -125]"), L(arrow::int32(), "-1")}), arrow::int32(),
              "[120, 130, -130]");
  ExpectArray(h.CallArray("bround", {J(arrow::int64(), "[125, 135]"), L(arrow::int32(), "-1")}), arrow::int64(),
              "[120, 140]");
  ExpectArray(h.CallArray("round", {J(arrow::decimal128(2, 1), R"(["2.5", "-2.5"])")}), arrow::decimal128(2, 0),
              R"(["3", "-3"])");
  ExpectArray(h.CallArray("bround", {J(arrow::decimal128(2, 1), R"(["2.5"])")}), arrow::decimal128(2, 0), R"(["2"])");
  ExpectArray(h.CallArray("round", {J(arrow::decimal128(4, 3), R"(["1.005"])"), L(arrow::int32(), "2")}),
              arrow::decimal128(4, 2), R"(["1.01"])");
  ExpectArray(h.CallArray("round", {J(arrow::decimal128(5, 3), R"(["12.345"])"), L(arrow::int32(), "1")}),
              arrow::decimal128(4, 1), R"(["12.3"])");
  ExpectArray(h.CallArray("round", {J(arrow::decimal128(3, 1), R"(["99.5"])")}), arrow::decimal128(3, 0),
              R"(["100"])");
  ExpectArray(h.CallArray("round", {J(arrow::decimal128(5, 1), R"(["1234.5"])"), L(arrow::int32(), "-2")}),
              arrow::decimal128(5, 0), R"(["1200"])");
  // A STRING is read as DOUBLE.
  ExpectArray(h.CallArray("round", {L(arrow::utf8(), R"("2.5")")}), arrow::float64(), "[3]");
}

TEST(MathTest, FloorCeilTypes) {
  Harness h;
  ExpectArray(h.CallArray("ceil", {J(arrow::float64(), "[1.5, -1.5, null]")}), arrow::int64(), "[2, -1, null]");
  ExpectArray(h.CallArray("floor", {J(arrow::float32(), "[1.5]")}), arrow::int64(), "[1]");
  ExpectArray(h.CallArray("floor", {J(arrow::int8(), "[5]")}), arrow::int64(), "[5]");
  ExpectArray(h.CallArray("ceil", {J(arrow::decimal128(2, 1), R"(["1.5", "-1.5", "2.0"])")}), arrow::decimal128(2, 0),
              R"(["2", "-1", "2"])");
  ExpectArray(h.CallArray("floor", {J(arrow::decimal128(10, 4), R"(["-1.5000", "1.9999"])")}), arrow::decimal128(7, 0),
              R"(["-2", "1"])");
  ExpectArray(h.CallArray("ceiling", {J(arrow::float64(), "[0.1]")}), arrow::int64(), "[1]");
}

TEST(MathTest, LogarithmsAreNullForNonPositive) {
  Harness h;
  ExpectArray(h.CallArray("ln", {J(arrow::float64(), "[0, -1, 1]")}), arrow::float64(), "[null, null, 0]");
  ExpectArray(h.CallArray("log", {J(arrow::float64(), "[0]")}), arrow::float64(), "[null]");
  ExpectArray(h.CallArray("log", {L(arrow::int32(), "2"), J(arrow::int32(), "[8, 0]")}), arrow::float64(), "[3, null]");
  ExpectArray(h.CallArray("log", {L(arrow::int32(), "1"), J(arrow::int32(), "[8]")}), arrow::float64(), "[Inf]");
  ExpectArray(h.CallArray("log", {L(arrow::int32(), "0"), J(arrow::int32(), "[8]")}), arrow::float64(), "[null]");
  ExpectArray(h.CallArray("log10", {J(arrow::float64(), "[100, 0]")}), arrow::float64(), "[2, null]");
  ExpectArray(h.CallArray("log2", {J(arrow::float64(), "[8, -1]")}), arrow::float64(), "[3, null]");
  ExpectArray(h.CallArray("log1p", {J(arrow::float64(), "[-1, 0]")}), arrow::float64(), "[null, 0]");
}

TEST(MathTest, DoubleFunctions) {
  Harness h;
  ExpectArray(h.CallArray("sqrt", {J(arrow::float64(), "[4, -1, null]")}), arrow::float64(), "[2, NaN, null]");
  ExpectArray(h.CallArray("sqrt", {L(arrow::utf8(), R"("4")")}), arrow::float64(), "[2]");
  ExpectArray(h.CallArray("cbrt", {J(arrow::int32(), "[-8]")}), arrow::float64(), "[-2]");
  ExpectArray(h.CallArray("pow", {J(arrow::int32(), "[2]"), J(arrow::int32(), "[10]")}), arrow::float64(), "[1024]");
  ExpectArray(h.CallArray("power", {J(arrow::float64(), "[-8]"), J(arrow::float64(), "[0.3333333333333333]")}),
              arrow::float64(), "[NaN]");
  ExpectArray(h.CallArray("sign", {J(arrow::float64(), "[-2.5, 0, 3, NaN]")}), arrow::float64(), "[-1, 0, 1, NaN]");
  ExpectArray(h.CallArray("signum", {J(arrow::int32(), "[-2]")}), arrow::float64(), "[-1]");
  ExpectArray(h.CallArray("atan2", {J(arrow::int32(), "[1]"), J(arrow::int32(), "[1]")}), arrow::float64(),
              "[0.7853981633974483]");
  ExpectArray(h.CallArray("hypot", {J(arrow::int32(), "[3]"), J(arrow::int32(), "[4]")}), arrow::float64(), "[5]");
  ExpectArray(h.CallArray("radians", {J(arrow::int32(), "[180]")}), arrow::float64(), "[3.141592653589793]");
  ExpectArray(h.CallArray("acos", {J(arrow::int32(), "[2]")}), arrow::float64(), "[NaN]");
  ExpectArray(h.CallArray("exp", {J(arrow::int32(), "[0]")}), arrow::float64(), "[1]");
  auto pi = h.Call("pi", {});
  ASSERT_TRUE(pi.ok());
  EXPECT_DOUBLE_EQ(std::static_pointer_cast<arrow::DoubleScalar>(pi->scalar())->value, M_PI);
  auto degrees = h.CallArray("degrees", {pi->scalar()});
  ExpectArray(degrees, arrow::float64(), "[180]");
}

TEST(MathTest, Factorial) {
  Harness h;
  ExpectArray(h.CallArray("factorial", {J(arrow::int32(), "[5, 20, 21, -1, null, 0]")}), arrow::int64(),
              "[120, 2432902008176640000, null, null, null, 1]");
}

TEST(MathTest, RandIsSeededAndInRange) {
  Harness h;
  auto a = h.Resolve("rand", {L(arrow::int32(), "42")});
  auto b = h.Resolve("rand", {L(arrow::int32(), "42")});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->deterministic);
  auto x = a->exec({L(arrow::int32(), "42")}, 100, h.ctx());
  auto y = b->exec({L(arrow::int32(), "42")}, 100, h.ctx());
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_TRUE(x->make_array()->Equals(*y->make_array()));  // same seed, same sequence
  auto values = x->make_array();
  const auto& arr = static_cast<const arrow::DoubleArray&>(*values);
  ASSERT_EQ(arr.length(), 100);
  for (int64_t i = 0; i < arr.length(); ++i) {
    EXPECT_GE(arr.Value(i), 0.0);
    EXPECT_LT(arr.Value(i), 1.0);
  }
  ExpectError(h.Resolve("rand", {J(arrow::int32(), "[1]")}), "seed");
}

}  // namespace
}  // namespace lakestream::expr

namespace lakestream::expr {
namespace {

TEST(MathTest, RoundIntegralOverflow) {
  // Checked against Spark 4.0.1: ANSI raises, legacy wraps.
  testing::Harness h;
  testing::ExpectError(h.CallArray("round", {testing::J(arrow::int32(), "[2147483647]"), testing::L(arrow::int32(), "-1")}),
                       "[ARITHMETIC_OVERFLOW] Overflow.");
  testing::Harness legacy(false);
  testing::ExpectArray(
      legacy.CallArray("round", {testing::J(arrow::int32(), "[2147483647]"), testing::L(arrow::int32(), "-1")}),
      arrow::int32(), "[-2147483646]");
  testing::ExpectArray(h.CallArray("round", {testing::J(arrow::float64(), "[2.675, -0.5, 1e20]"), testing::L(arrow::int32(), "2")}),
                       arrow::float64(), "[2.68, -0.5, 1e20]");
}

}  // namespace
}  // namespace lakestream::expr
