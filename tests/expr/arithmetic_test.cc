// Arithmetic operators (arithmetic.cc): result types, ANSI / legacy / try_
// overflow and division-by-zero behaviour, decimal precision and scale, and
// date/timestamp arithmetic. Expected values checked against Spark 4.0.1.
#include <gtest/gtest.h>

#include "expr/kernel_util.h"
#include "numeric_test_util.h"
#include "types/types.h"

namespace lakestream::expr {
namespace {

using testing::ExpectArray;
using testing::ExpectError;
using testing::Harness;
using testing::J;
using testing::L;

std::string ResultType(Harness& h, const std::string& name, const std::vector<arrow::Datum>& args) {
  auto rc = h.Resolve(name, args);
  return rc.ok() ? types::ToDDL(*rc->result_type) : "error: " + rc.status().message();
}

TEST(ArithmeticTest, IntegralAddWidensAndOverflows) {
  Harness h;
  ExpectArray(h.CallArray("add", {J(arrow::int32(), "[1, null, 3]"), J(arrow::int64(), "[1, 2, null]")}),
              arrow::int64(), "[2, null, null]");
  ExpectError(h.CallArray("add", {J(arrow::int32(), "[2147483647]"), L(arrow::int32(), "1")}),
              "[ARITHMETIC_OVERFLOW] integer overflow. Use 'try_add' to tolerate overflow and "
              "return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to "
              "bypass this error.");
  ExpectError(h.CallArray("multiply", {J(arrow::int64(), "[9223372036854775807]"), L(arrow::int64(), "2")}),
              "[ARITHMETIC_OVERFLOW] long overflow. Use 'try_multiply'");
  ExpectError(h.CallArray("add", {J(arrow::int8(), "[127]"), J(arrow::int8(), "[1]")}),
              "[BINARY_ARITHMETIC_OVERFLOW] 127S + 1S caused overflow. Use `try_add`");
  EXPECT_EQ(ResultType(h, "add", {J(arrow::int8(), "[1]"), J(arrow::int16(), "[1]")}), "SMALLINT");
}

TEST(ArithmeticTest, LegacyWrapsAndTryNulls) {
  Harness legacy(false);
  ExpectArray(legacy.CallArray("add", {J(arrow::int32(), "[2147483647]"), L(arrow::int32(), "1")}),
              arrow::int32(), "[-2147483648]");
  ExpectArray(legacy.CallArray("add", {J(arrow::int8(), "[127]"), J(arrow::int8(), "[1]")}),
              arrow::int8(), "[-128]");
  Harness h;
  ExpectArray(h.CallArray("try_add", {J(arrow::int32(), "[2147483647, 1]"), L(arrow::int32(), "1")}),
              arrow::int32(), "[null, 2]");
  ExpectArray(h.CallArray("try_subtract", {J(arrow::int32(), "[-2147483648]"), L(arrow::int32(), "1")}),
              arrow::int32(), "[null]");
  ExpectArray(h.CallArray("try_multiply", {J(arrow::int32(), "[2147483647]"), L(arrow::int32(), "2")}),
              arrow::int32(), "[null]");
}

TEST(ArithmeticTest, DivideIsDouble) {
  Harness h;
  ExpectArray(h.CallArray("divide", {J(arrow::int32(), "[7, 1, null]"), J(arrow::int32(), "[2, 3, 1]")}),
              arrow::float64(), "[3.5, 0.3333333333333333, null]");
  ExpectError(h.CallArray("divide", {J(arrow::int32(), "[1]"), J(arrow::int32(), "[0]")}),
              "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 "
              "and return NULL instead.");
  // Spark checks floating divisors for zero too.
  ExpectError(h.CallArray("divide", {J(arrow::float64(), "[1]"), J(arrow::float64(), "[0]")}),
              "DIVIDE_BY_ZERO");
  Harness legacy(false);
  ExpectArray(legacy.CallArray("divide", {J(arrow::float64(), "[1, 4]"), J(arrow::float64(), "[0, 2]")}),
              arrow::float64(), "[null, 2]");
  ExpectArray(h.CallArray("try_divide", {J(arrow::int32(), "[1, 6]"), J(arrow::int32(), "[0, 4]")}),
              arrow::float64(), "[null, 1.5]");
}

TEST(ArithmeticTest, ModPmodDiv) {
  Harness h;
  ExpectArray(h.CallArray("mod", {J(arrow::int32(), "[5, -5, -2147483648]"), J(arrow::int32(), "[-3, 3, -1]")}),
              arrow::int32(), "[2, -2, 0]");
  ExpectArray(h.CallArray("pmod", {J(arrow::int32(), "[-5, 5, -5]"), J(arrow::int32(), "[3, -3, -3]")}),
              arrow::int32(), "[1, 2, -2]");
  ExpectArray(h.CallArray("div", {J(arrow::int32(), "[5, -5]"), J(arrow::int32(), "[2, 2]")}),
              arrow::int64(), "[2, -2]");
  ExpectArray(h.CallArray("div", {J(arrow::decimal128(2, 1), R"(["5.5"])"), L(arrow::int32(), "2")}),
              arrow::int64(), "[2]");
  ExpectError(h.CallArray("mod", {J(arrow::int32(), "[1]"), J(arrow::int32(), "[0]")}), "DIVIDE_BY_ZERO");
  ExpectError(h.CallArray("div", {J(arrow::int32(), "[1]"), J(arrow::int32(), "[0]")}), "DIVIDE_BY_ZERO");
  ExpectError(h.CallArray("pmod", {J(arrow::int32(), "[1]"), J(arrow::int32(), "[0]")}), "DIVIDE_BY_ZERO");
  ExpectArray(h.CallArray("try_mod", {J(arrow::int32(), "[5]"), J(arrow::int32(), "[0]")}),
              arrow::int32(), "[null]");
  Harness legacy(false);
  ExpectArray(legacy.CallArray("mod", {J(arrow::int32(), "[1]"), J(arrow::int32(), "[0]")}),
              arrow::int32(), "[null]");
  ExpectArray(legacy.CallArray("div", {J(arrow::int32(), "[1]"), J(arrow::int32(), "[0]")}),
              arrow::int64(), "[null]");
  ExpectArray(h.CallArray("mod", {J(arrow::float64(), "[5.5, -5.5]"), J(arrow::float64(), "[2, 2]")}),
              arrow::float64(), "[1.5, -1.5]");
}

TEST(ArithmeticTest, DecimalResultTypes) {
  Harness h;
  auto d = [](int p, int s) { return arrow::decimal128(p, s); };
  // Checked against Spark 4.0.1.
  EXPECT_EQ(ResultType(h, "divide", {J(d(10, 2), "[]"), J(d(5, 1), "[]")}), "DECIMAL(17,8)");
  EXPECT_EQ(ResultType(h, "multiply", {J(d(38, 10), "[]"), J(d(38, 10), "[]")}), "DECIMAL(38,6)");
  EXPECT_EQ(ResultType(h, "add", {J(d(38, 10), "[]"), J(d(38, 10), "[]")}), "DECIMAL(38,9)");
  EXPECT_EQ(ResultType(h, "mod", {J(d(10, 2), "[]"), J(d(5, 1), "[]")}), "DECIMAL(6,2)");
  // An integer literal takes only its digits: 1 + 1.5 is DECIMAL(3,1).
  EXPECT_EQ(ResultType(h, "add", {L(arrow::int32(), "1"), L(d(2, 1), "\"1.5\"")}), "DECIMAL(3,1)");
  EXPECT_EQ(ResultType(h, "add", {J(arrow::int32(), "[1]"), L(d(2, 1), "\"1.5\"")}), "DECIMAL(12,1)");
  EXPECT_EQ(ResultType(h, "add", {J(arrow::int32(), "[1]"), J(arrow::float64(), "[1]")}), "DOUBLE");
  EXPECT_EQ(ResultType(h, "add", {J(arrow::float32(), "[1]"), J(arrow::int64(), "[1]")}), "DOUBLE");
  Harness legacy(false);
  EXPECT_EQ(ResultType(legacy, "add", {J(arrow::float32(), "[1]"), J(arrow::int64(), "[1]")}), "FLOAT");
}

TEST(ArithmeticTest, DecimalValues) {
  Harness h;
  auto d = [](int p, int s) { return arrow::decimal128(p, s); };
  ExpectArray(h.CallArray("divide", {J(d(10, 2), R"(["1.00", "2.00", null])"), J(d(5, 1), R"(["3.0", "3.0", "1.0"])")}),
              d(17, 8), R"(["0.33333333", "0.66666667", null])");
  ExpectArray(h.CallArray("multiply", {J(d(38, 10), R"(["1.0000000000"])"), J(d(38, 10), R"(["1.0000000000"])")}),
              d(38, 6), R"(["1.000000"])");
  ExpectArray(h.CallArray("add", {J(d(38, 10), R"(["1.0000000005"])"), J(d(38, 10), R"(["1.0000000000"])")}),
              d(38, 9), R"(["2.000000001"])");
  ExpectArray(h.CallArray("mod", {J(d(10, 2), R"(["1.00", "-7.50"])"), J(d(5, 1), R"(["3.0", "2.0"])")}),
              d(6, 2), R"(["1.00", "-1.50"])");
  ExpectArray(h.CallArray("subtract", {L(arrow::int32(), "1"), J(d(2, 1), R"(["1.5"])")}),
              d(3, 1), R"(["-0.5"])");
  ExpectError(h.CallArray("divide", {J(d(2, 0), R"(["3"])"), J(d(2, 0), R"(["0"])")}), "DIVIDE_BY_ZERO");
  Harness legacy(false);
  ExpectArray(legacy.CallArray("divide", {J(d(2, 0), R"(["3"])"), J(d(2, 0), R"(["0"])")}),
              d(8, 6), "[null]");
  // Overflow of DECIMAL(38, x).
  ExpectError(h.CallArray("multiply", {J(d(38, 0), R"(["99999999999999999999999999999999999999"])"),
                                       L(d(1, 0), "\"9\"")}),
              "NUMERIC_VALUE_OUT_OF_RANGE");
}

TEST(ArithmeticTest, StringOperands) {
  // Checked against Spark 4.0.1: ANSI '1' + 1 is BIGINT 2; '1.5' + 1 fails the
  // cast to BIGINT; legacy reads strings as DOUBLE.
  Harness h;
  EXPECT_EQ(ResultType(h, "add", {L(arrow::utf8(), "\"1\""), L(arrow::int32(), "1")}), "BIGINT");
  EXPECT_EQ(ResultType(h, "add", {L(arrow::utf8(), "\"1\""), L(arrow::float64(), "1")}), "DOUBLE");
  EXPECT_NE(ResultType(h, "multiply", {L(arrow::utf8(), "\"1\""), L(arrow::utf8(), "\"2\"")}).find("error"),
            std::string::npos);
  ExpectArray(h.CallArray("add", {L(arrow::utf8(), "\"1\""), L(arrow::int32(), "1")}), arrow::int64(), "[2]");
  ExpectError(h.CallArray("add", {L(arrow::utf8(), "\"1.5\""), L(arrow::int32(), "1")}),
              "The value '1.5' of the type \"STRING\" cannot be cast to \"BIGINT\"");
  Harness legacy(false);
  ExpectArray(legacy.CallArray("add", {L(arrow::utf8(), "\"1.5\""), L(arrow::int32(), "1")}),
              arrow::float64(), "[2.5]");
  ExpectArray(h.CallArray("negative", {L(arrow::utf8(), "\"2\"")}), arrow::float64(), "[-2]");
  ExpectArray(h.CallArray("abs", {L(arrow::utf8(), "\"-2\"")}), arrow::float64(), "[2]");
}

TEST(ArithmeticTest, UnaryMinusAbs) {
  Harness h;
  ExpectArray(h.CallArray("negative", {J(arrow::int32(), "[1, null, -5]")}), arrow::int32(), "[-1, null, 5]");
  ExpectError(h.CallArray("negative", {J(arrow::int8(), "[-128]")}),
              "[ARITHMETIC_OVERFLOW] byte overflow. If necessary set");
  ExpectError(h.CallArray("abs", {J(arrow::int32(), "[-2147483648]")}), "[ARITHMETIC_OVERFLOW] integer overflow.");
  Harness legacy(false);
  ExpectArray(legacy.CallArray("abs", {J(arrow::int8(), "[-128, -3]")}), arrow::int8(), "[-128, 3]");
  ExpectArray(h.CallArray("abs", {J(arrow::float64(), "[-0.0, -1.5]")}), arrow::float64(), "[0.0, 1.5]");
  ExpectArray(h.CallArray("abs", {J(arrow::decimal128(3, 1), R"(["-1.5"])")}), arrow::decimal128(3, 1),
              R"(["1.5"])");
  ExpectArray(h.CallArray("positive", {J(arrow::int32(), "[-1]")}), arrow::int32(), "[-1]");
}

TEST(ArithmeticTest, Bitwise) {
  Harness h;
  ExpectArray(h.CallArray("bitwise_and", {J(arrow::int32(), "[5]"), J(arrow::int32(), "[3]")}), arrow::int32(), "[1]");
  ExpectArray(h.CallArray("bitwise_or", {J(arrow::int8(), "[5]"), J(arrow::int8(), "[3]")}), arrow::int8(), "[7]");
  ExpectArray(h.CallArray("bitwise_xor", {J(arrow::int32(), "[5]"), J(arrow::int64(), "[3]")}), arrow::int64(), "[6]");
  ExpectArray(h.CallArray("bitwise_not", {J(arrow::int32(), "[5, null]")}), arrow::int32(), "[-6, null]");
  // Java's shifts: the count is taken modulo the width.
  ExpectArray(h.CallArray("shiftleft", {J(arrow::int32(), "[1, 1, null]"), J(arrow::int32(), "[3, 33, 1]")}),
              arrow::int32(), "[8, 2, null]");
  ExpectArray(h.CallArray("shiftright", {J(arrow::int64(), "[-16]"), L(arrow::int32(), "2")}), arrow::int64(), "[-4]");
  ExpectArray(h.CallArray("shiftrightunsigned", {J(arrow::int32(), "[-1]"), L(arrow::int32(), "28")}),
              arrow::int32(), "[15]");
  ExpectArray(h.CallArray("shiftleft", {J(arrow::int8(), "[1]"), L(arrow::int32(), "10")}), arrow::int32(), "[1024]");
}

TEST(ArithmeticTest, DatesAndTimestamps) {
  Harness h;
  auto ts = types::Timestamp();
  auto dur = arrow::duration(arrow::TimeUnit::MICRO);
  // date'2024-03-01' is day 19783.
  ExpectArray(h.CallArray("add", {J(arrow::date32(), "[19783, null]"), L(arrow::int32(), "1")}),
              arrow::date32(), "[19784, null]");
  ExpectArray(h.CallArray("subtract", {J(arrow::date32(), "[19783]"), L(arrow::int32(), "1")}),
              arrow::date32(), "[19782]");
  ExpectArray(h.CallArray("subtract", {J(arrow::date32(), "[19783]"), J(arrow::date32(), "[19723]")}),
              dur, "[5184000000000]");  // 60 days
  ExpectArray(h.CallArray("subtract", {J(ts, "[1709251200000000]"), J(ts, "[1704067200000000]")}), dur,
              "[5184000000000]");
  ExpectArray(h.CallArray("add", {J(ts, "[1709251200000000]"), J(dur, "[86400000000]")}), ts,
              "[1709337600000000]");
  // + interval '1' month: 2024-03-01 -> 2024-04-01; 2024-03-31 + 1 month = 2024-04-30.
  ExpectArray(h.CallArray("add", {J(ts, "[1709251200000000]"), J(arrow::month_interval(), "[1]")}), ts,
              "[1711929600000000]");
  ExpectArray(h.CallArray("add", {J(arrow::date32(), "[19813]"), J(arrow::month_interval(), "[1]")}),
              arrow::date32(), "[19843]");
  ExpectArray(h.CallArray("add", {J(arrow::month_day_nano_interval(), "[[0, 1, 0]]"), J(arrow::date32(), "[19783]")}),
              arrow::date32(), "[19784]");
}

}  // namespace
}  // namespace lakestream::expr

namespace lakestream::expr {
namespace {

// The shared helpers of kernel_util.h that live beside the operators. (Using
// them here also makes the linker take arithmetic.o, comparison.o and math.o
// even when another test file carries weak stand-ins of the Register* functions.)
TEST(SharedSemanticsTest, DecimalTypesRoundingAndComparison) {
  auto t = DecimalArithmeticType('/', arrow::Decimal128Type(10, 2), arrow::Decimal128Type(5, 1));
  EXPECT_EQ(t->precision(), 17);
  EXPECT_EQ(t->scale(), 8);
  EXPECT_EQ(RoundDouble(1.005, 2, false), 1.01);
  EXPECT_EQ(RoundDouble(2.5, 0, true), 2.0);
  testing::Harness h;
  auto r = CompareSpark("gt", testing::J(arrow::float64(), "[NaN, 1]"),
                        testing::J(arrow::float64(), "[1e308, NaN]"), 2, h.ctx());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->make_array()->Equals(*testing::J(arrow::boolean(), "[true, false]")));
}

}  // namespace
}  // namespace lakestream::expr
