// Comparison and NULL predicates (comparison.cc): coercion of mixed operands,
// Spark's NaN ordering, three-valued IN, null-safe equality, nullif,
// greatest/least. Expected values checked against Spark 4.0.1.
#include <gtest/gtest.h>

#include "numeric_test_util.h"
#include "types/types.h"

namespace lakestream::expr {
namespace {

using testing::ExpectArray;
using testing::ExpectError;
using testing::Harness;
using testing::J;
using testing::L;

TEST(ComparisonTest, NumbersStringsDatesDecimals) {
  Harness h;
  ExpectArray(h.CallArray("less", {J(arrow::int32(), "[1, 2, null]"), J(arrow::int64(), "[2, 2, 1]")}),
              arrow::boolean(), "[true, false, null]");
  ExpectArray(h.CallArray("equal", {J(arrow::utf8(), R"(["a", "b"])"), J(arrow::utf8(), R"(["a", "B"])")}),
              arrow::boolean(), "[true, false]");
  ExpectArray(h.CallArray("greater_equal", {J(arrow::decimal128(3, 1), R"(["1.5"])"), J(arrow::int32(), "[1]")}),
              arrow::boolean(), "[true]");
  ExpectArray(h.CallArray("not_equal", {J(arrow::boolean(), "[true, false]"), J(arrow::boolean(), "[true, true]")}),
              arrow::boolean(), "[false, true]");
  // '2024-01-01' = date'2024-01-01' (the string is cast to DATE).
  ExpectArray(h.CallArray("equal", {L(arrow::utf8(), R"("2024-01-01")"), J(arrow::date32(), "[19723]")}),
              arrow::boolean(), "[true]");
  // date vs timestamp compares as timestamps.
  ExpectArray(h.CallArray("less_equal", {J(arrow::date32(), "[19723]"), J(types::Timestamp(), "[1704067200000000]")}),
              arrow::boolean(), "[true]");
}

TEST(ComparisonTest, StringVersusNumber) {
  // ANSI: the string is cast to BIGINT next to an integral ('1.5' = 1 fails).
  Harness h;
  ExpectArray(h.CallArray("equal", {L(arrow::utf8(), R"("1")"), L(arrow::int32(), "1")}), arrow::boolean(), "[true]");
  ExpectError(h.CallArray("equal", {L(arrow::utf8(), R"("1.5")"), L(arrow::int32(), "1")}),
              "The value '1.5' of the type \"STRING\" cannot be cast to \"BIGINT\"");
  ExpectArray(h.CallArray("equal", {L(arrow::utf8(), R"("1.0")"), L(arrow::decimal128(2, 1), R"("1.0")")}),
              arrow::boolean(), "[true]");
  // Legacy: the string takes the other side's type with legacy casts.
  Harness legacy(false);
  ExpectArray(legacy.CallArray("equal", {L(arrow::utf8(), R"("1.5")"), L(arrow::int32(), "1")}),
              arrow::boolean(), "[true]");
  ExpectArray(legacy.CallArray("equal", {L(arrow::utf8(), R"("abc")"), L(arrow::int32(), "1")}),
              arrow::boolean(), "[null]");
  ExpectError(h.Resolve("equal", {J(arrow::boolean(), "[]"), J(arrow::int32(), "[]")}), "BINARY_OP_DIFF_TYPES");
}

TEST(ComparisonTest, NaNSemantics) {
  Harness h;
  auto nan = J(arrow::float64(), "[NaN, NaN, 1, 0.0]");
  ExpectArray(h.CallArray("equal", {nan, J(arrow::float64(), "[NaN, 1e308, NaN, -0.0]")}),
              arrow::boolean(), "[true, false, false, true]");
  ExpectArray(h.CallArray("greater", {nan, J(arrow::float64(), "[NaN, 1e308, NaN, -0.0]")}),
              arrow::boolean(), "[false, true, false, false]");
  ExpectArray(h.CallArray("less", {J(arrow::float32(), "[1, NaN]"), J(arrow::float32(), "[NaN, 1]")}),
              arrow::boolean(), "[true, false]");
}

TEST(ComparisonTest, NullSafeEqualAndNullPredicates) {
  Harness h;
  ExpectArray(h.CallArray("equal_null_safe", {J(arrow::int32(), "[1, null, null, 2]"), J(arrow::int32(), "[1, null, 1, 3]")}),
              arrow::boolean(), "[true, true, false, false]");
  ExpectArray(h.CallArray("equal_null_safe", {J(arrow::float64(), "[NaN]"), J(arrow::float64(), "[NaN]")}),
              arrow::boolean(), "[true]");
  ExpectArray(h.CallArray("is_null", {J(arrow::int32(), "[1, null]")}), arrow::boolean(), "[false, true]");
  ExpectArray(h.CallArray("is_not_null", {J(arrow::utf8(), R"(["a", null])")}), arrow::boolean(), "[true, false]");
  ExpectArray(h.CallArray("isnan", {J(arrow::float64(), "[NaN, 1, null]")}), arrow::boolean(), "[true, false, false]");
  ExpectArray(h.CallArray("not", {J(arrow::boolean(), "[true, false, null]")}), arrow::boolean(), "[false, true, null]");
}

TEST(ComparisonTest, InIsThreeValued) {
  Harness h;
  auto null_i = L(arrow::int32(), "null");
  ExpectArray(h.CallArray("in", {J(arrow::int32(), "[1, 2, 3, null]"), L(arrow::int32(), "2"), null_i}),
              arrow::boolean(), "[null, true, null, null]");
  ExpectArray(h.CallArray("in", {J(arrow::int32(), "[1, 2]"), L(arrow::int32(), "2"), L(arrow::int32(), "5")}),
              arrow::boolean(), "[false, true]");
  // 1 in ('1', 2): the string is promoted to BIGINT under ANSI.
  ExpectArray(h.CallArray("in", {L(arrow::int32(), "1"), L(arrow::utf8(), R"("1")"), L(arrow::int32(), "2")}),
              arrow::boolean(), "[true]");
  ExpectArray(h.CallArray("in", {J(arrow::float64(), "[NaN]"), L(arrow::float64(), "NaN")}), arrow::boolean(), "[true]");
}

TEST(ComparisonTest, NullIf) {
  Harness h;
  ExpectArray(h.CallArray("nullif", {J(arrow::int32(), "[1, 2, null]"), L(arrow::int32(), "1")}),
              arrow::int32(), "[null, 2, null]");
  // The result keeps the first argument's type.
  ExpectArray(h.CallArray("nullif", {J(arrow::int32(), "[1, 2]"), L(arrow::int64(), "2")}),
              arrow::int32(), "[1, null]");
  ExpectArray(h.CallArray("nullif", {J(arrow::int32(), "[1]"), L(arrow::int32(), "null")}),
              arrow::int32(), "[1]");
}

TEST(ComparisonTest, GreatestLeast) {
  Harness h;
  ExpectArray(h.CallArray("greatest", {J(arrow::int32(), "[1, null, null]"), J(arrow::int32(), "[null, null, 5]"),
                                       J(arrow::int32(), "[3, null, 2]")}),
              arrow::int32(), "[3, null, 5]");
  ExpectArray(h.CallArray("least", {J(arrow::utf8(), R"(["b", null])"), J(arrow::utf8(), R"(["a", "z"])")}),
              arrow::utf8(), R"(["a", "z"])");
  ExpectArray(h.CallArray("greatest", {J(arrow::float64(), "[NaN, 1]"), J(arrow::float64(), "[1, 2]")}),
              arrow::float64(), "[NaN, 2]");
  ExpectArray(h.CallArray("greatest", {L(arrow::int32(), "1"), L(arrow::decimal128(2, 1), R"("2.5")")}),
              arrow::decimal128(11, 1), R"(["2.5"])");
  ExpectError(h.Resolve("greatest", {J(arrow::int32(), "[]"), J(arrow::utf8(), "[]")}),
              "Input to `greatest` should all be the same type, but it's [\"INT\", \"STRING\"]");
  ExpectArray(h.CallArray("least", {L(arrow::null(), "null"), L(arrow::null(), "null")}), arrow::null(), "[null]");
}

}  // namespace
}  // namespace lakestream::expr

namespace lakestream::expr {
namespace {

TEST(ComparisonTest, LegacyBooleanVersusNumber) {
  // Checked against Spark 4.0.1: legacy 1 = true holds; ANSI rejects it.
  testing::Harness legacy(false);
  testing::ExpectArray(legacy.CallArray("equal", {testing::L(arrow::int32(), "1"), testing::L(arrow::boolean(), "true")}),
                       arrow::boolean(), "[true]");
  testing::Harness h;
  testing::ExpectError(h.Resolve("equal", {testing::L(arrow::int32(), "1"), testing::L(arrow::boolean(), "true")}),
                       "BINARY_OP_DIFF_TYPES");
  // '1' = true: the string is cast to BOOLEAN.
  testing::ExpectArray(h.CallArray("equal", {testing::L(arrow::utf8(), R"("1")"), testing::L(arrow::boolean(), "true")}),
                       arrow::boolean(), "[true]");
}

}  // namespace
}  // namespace lakestream::expr

namespace lakestream::expr {
namespace {

TEST(ComparisonTest, ArraysAndStructs) {
  // Checked against Spark 4.0.1: array(1,2) < array(1,3); structs compare field-wise.
  testing::Harness h;
  auto li = arrow::list(arrow::int32());
  testing::ExpectArray(h.CallArray("less", {testing::J(li, "[[1, 2], [1], [1, null], null]"),
                                            testing::J(li, "[[1, 3], [1, 0], [1, 0], [1]]")}),
                       arrow::boolean(), "[true, true, true, null]");
  testing::ExpectArray(h.CallArray("equal", {testing::J(li, "[[1, 2], [2]]"), testing::J(li, "[[1, 2], [3]]")}),
                       arrow::boolean(), "[true, false]");
  auto st = arrow::struct_({arrow::field("a", arrow::int32()), arrow::field("b", arrow::utf8())});
  testing::ExpectArray(h.CallArray("greater", {testing::J(st, R"([{"a": 1, "b": "y"}, {"a": 1, "b": "x"}])"),
                                               testing::J(st, R"([{"a": 1, "b": "x"}, {"a": 2, "b": "a"}])")}),
                       arrow::boolean(), "[true, false]");
  testing::ExpectArray(h.CallArray("greatest", {testing::J(li, "[[1, 2]]"), testing::J(li, "[[1, 3]]")}), li,
                       "[[1, 3]]");
}

}  // namespace
}  // namespace lakestream::expr
