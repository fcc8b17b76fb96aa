// CAST semantics (cast.cc) against answers checked against Spark 4.0.1
// (pyspark, spark.sql.session.timeZone=UTC unless the test sets another zone).
#include <gtest/gtest.h>

#include "expr/cast.h"
#include "numeric_test_util.h"
#include "types/types.h"

namespace lakestream::expr {
namespace {

using testing::ExpectArray;
using testing::ExpectError;
using testing::Harness;
using testing::J;

TEST(CastTest, IntegralNarrowingAnsiOverflows) {
  Harness h;
  auto r = h.CastArray(J(arrow::int32(), "[1, 300]"), arrow::int8(), CastMode::kAnsi);
  ExpectError(r,
              "[CAST_OVERFLOW] The value 300 of the type \"INT\" cannot be cast to \"TINYINT\" "
              "due to an overflow. Use `try_cast` to tolerate overflow and return NULL instead.");
  ExpectError(h.CastArray(J(arrow::int64(), "[12345678901]"), arrow::int32(), CastMode::kAnsi),
              "The value 12345678901L of the type \"BIGINT\"");
}

TEST(CastTest, IntegralNarrowingLegacyWrapsTryNulls) {
  Harness h(false);
  ExpectArray(h.CastArray(J(arrow::int32(), "[300, null, -1]"), arrow::int8(), CastMode::kLegacy),
              arrow::int8(), "[44, null, -1]");
  ExpectArray(h.CastArray(J(arrow::int64(), "[12345678901]"), arrow::int32(), CastMode::kLegacy),
              arrow::int32(), "[-539222987]");
  ExpectArray(h.CastArray(J(arrow::int32(), "[300, 5]"), arrow::int8(), CastMode::kTry),
              arrow::int8(), "[null, 5]");
}

TEST(CastTest, DoubleToIntegral) {
  Harness h;
  ExpectArray(h.CastArray(J(arrow::float64(), "[-2.5, 2.7, null]"), arrow::int32(),
                          CastMode::kAnsi),
              arrow::int32(), "[-2, 2, null]");
  ExpectError(h.CastArray(J(arrow::float64(), "[1e10]"), arrow::int32(), CastMode::kAnsi),
              "The value 1.0E10D of the type \"DOUBLE\" cannot be cast to \"INT\"");
  ExpectError(h.CastArray(J(arrow::float64(), "[NaN]"), arrow::int32(), CastMode::kAnsi),
              "The value NaN of the type \"DOUBLE\"");
  // Legacy: Java saturates and maps NaN to 0.
  ExpectArray(h.CastArray(J(arrow::float64(), "[1e10, NaN, Inf, -1e30]"), arrow::int32(),
                          CastMode::kLegacy),
              arrow::int32(), "[2147483647, 0, 2147483647, -2147483648]");
  ExpectArray(h.CastArray(J(arrow::float64(), "[12345678901234567890.0]"), arrow::int64(),
                          CastMode::kLegacy),
              arrow::int64(), "[9223372036854775807]");
}

TEST(CastTest, StringToIntegral) {
  Harness h;
  ExpectArray(h.CastArray(J(arrow::utf8(), R"([" 12 ", "+12", "-7", null])"), arrow::int32(),
                          CastMode::kAnsi),
              arrow::int32(), "[12, 12, -7, null]");
  for (const char* bad : {"1.5", "1e3", "", "12abc", "0x10", "1_000", "1."}) {
    auto r = h.CastArray(J(arrow::utf8(), std::string("[\"") + bad + "\"]"), arrow::int32(),
                         CastMode::kAnsi);
    ExpectError(r, std::string("[CAST_INVALID_INPUT] The value '") + bad +
                       "' of the type \"STRING\" cannot be cast to \"INT\" because it is "
                       "malformed.");
  }
  ExpectError(h.CastArray(J(arrow::utf8(), R"(["9223372036854775808"])"), arrow::int64(),
                          CastMode::kAnsi),
              "CAST_INVALID_INPUT");
  // Legacy truncates a fraction and NULLs the rest.
  ExpectArray(h.CastArray(J(arrow::utf8(), R"(["1.5", "1.", "1e3", "", "abc", "300"])"),
                          arrow::int32(), CastMode::kLegacy),
              arrow::int32(), "[1, 1, null, null, null, 300]");
  ExpectArray(h.CastArray(J(arrow::utf8(), R"(["300"])"), arrow::int8(), CastMode::kLegacy),
              arrow::int8(), "[null]");
}

TEST(CastTest, StringToDouble) {
  Harness h;
  ExpectArray(h.CastArray(J(arrow::utf8(),
                            R"(["NaN", "Infinity", "-infinity", "inf", "1.5d", "1e3", " 1.5 ", ".5"])"),
                          arrow::float64(), CastMode::kAnsi),
              arrow::float64(), "[NaN, Inf, -Inf, Inf, 1.5, 1000, 1.5, 0.5]");
  ExpectError(h.CastArray(J(arrow::utf8(), R"(["1.5e"])"), arrow::float64(), CastMode::kAnsi),
              "The value '1.5e' of the type \"STRING\" cannot be cast to \"DOUBLE\"");
  ExpectArray(h.CastArray(J(arrow::utf8(), R"([" ", "x"])"), arrow::float64(), CastMode::kLegacy),
              arrow::float64(), "[null, null]");
}

TEST(CastTest, Decimals) {
  Harness h;
  auto d31 = arrow::decimal128(3, 1);
  ExpectArray(h.CastArray(J(arrow::utf8(), R"(["1.5", "1.55", " -1.55 ", null])"), d31,
                          CastMode::kAnsi),
              d31, R"(["1.5", "1.6", "-1.6", null])");
  ExpectArray(h.CastArray(J(arrow::utf8(), R"(["1e2"])"), arrow::decimal128(5, 1),
                          CastMode::kAnsi),
              arrow::decimal128(5, 1), R"(["100.0"])");
  // Scale reduction rounds HALF_UP.
  ExpectArray(h.CastArray(J(arrow::decimal128(6, 3), R"(["123.456", "-123.450"])"),
                          arrow::decimal128(4, 1), CastMode::kAnsi),
              arrow::decimal128(4, 1), R"(["123.5", "-123.5"])");
  ExpectError(h.CastArray(J(arrow::decimal128(5, 2), R"(["123.45"])"), d31, CastMode::kAnsi),
              "[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION]  123.45 cannot be represented as "
              "Decimal(3, 1).");
  ExpectArray(h.CastArray(J(arrow::decimal128(5, 2), R"(["123.45"])"), d31, CastMode::kLegacy),
              d31, "[null]");
  // Doubles go through their shortest text; NaN/Infinity are NULL even under ANSI.
  ExpectArray(h.CastArray(J(arrow::float64(), "[1.5, NaN, Inf, 0.125]"), arrow::decimal128(3, 2),
                          CastMode::kAnsi),
              arrow::decimal128(3, 2), R"(["1.50", null, null, "0.13"])");
  ExpectArray(h.CastArray(J(arrow::decimal128(10, 3), R"(["2.700", "-2.700"])"), arrow::int32(),
                          CastMode::kAnsi),
              arrow::int32(), "[2, -2]");
  ExpectArray(h.CastArray(J(arrow::int32(), "[7, -7]"), arrow::decimal128(5, 2), CastMode::kAnsi),
              arrow::decimal128(5, 2), R"(["7.00", "-7.00"])");
  ExpectArray(h.CastArray(J(arrow::decimal128(5, 2), R"(["1.25"])"), arrow::float64(),
                          CastMode::kAnsi),
              arrow::float64(), "[1.25]");
}

TEST(CastTest, Booleans) {
  Harness h;
  ExpectArray(h.CastArray(J(arrow::utf8(), R"([" yes ", "T", "1", "no", "F", "0", null])"),
                          arrow::boolean(), CastMode::kAnsi),
              arrow::boolean(), "[true, true, true, false, false, false, null]");
  ExpectError(h.CastArray(J(arrow::utf8(), R"(["tru"])"), arrow::boolean(), CastMode::kAnsi),
              "The value 'tru' of the type \"STRING\" cannot be cast to \"BOOLEAN\"");
  ExpectArray(h.CastArray(J(arrow::float64(), "[1.5, 0, NaN]"), arrow::boolean(),
                          CastMode::kAnsi),
              arrow::boolean(), "[true, false, true]");
  ExpectArray(h.CastArray(J(arrow::boolean(), "[true, false]"), arrow::int32(), CastMode::kAnsi),
              arrow::int32(), "[1, 0]");
}

TEST(CastTest, StringToDate) {
  Harness h;
  // 2024-01-01 is day 19723.
  ExpectArray(h.CastArray(J(arrow::utf8(), R"(["2024", "2024-1", "2024-1-5", "2024-01-15 abc",
                                              "2024-01-15T10:00", " 2024-01-15 "])"),
                          arrow::date32(), CastMode::kAnsi),
              arrow::date32(), "[19723, 19723, 19727, 19737, 19737, 19737]");
  ExpectError(h.CastArray(J(arrow::utf8(), R"(["2024-02-30"])"), arrow::date32(),
                          CastMode::kAnsi),
              "The value '2024-02-30' of the type \"STRING\" cannot be cast to \"DATE\"");
  ExpectArray(h.CastArray(J(arrow::utf8(), R"(["2024-02-30", "2024-02-29"])"), arrow::date32(),
                          CastMode::kLegacy),
              arrow::date32(), "[null, 19782]");
}

TEST(CastTest, StringToTimestamp) {
  Harness h;
  const int64_t base = 1705314600000000LL;  // 2024-01-15 10:30:00 UTC
  auto ts = types::Timestamp();
  ExpectArray(
      h.CastArray(J(arrow::utf8(), R"(["2024-01-15 10:30:00", "2024-01-15T10:30:00Z",
                                      "2024-01-15 10:30:00.123456789", "2024-01-15 10:30:00+05:30",
                                      "2024-01-15 10:30:00 America/New_York", "2024-01-15 10:30",
                                      "2024-01-15 10", "2024-01-15"])"),
                  ts, CastMode::kAnsi),
      ts,
      "[" + std::to_string(base) + "," + std::to_string(base) + "," +
          std::to_string(base + 123456) + "," + std::to_string(base - 19800000000LL) + "," +
          std::to_string(base + 18000000000LL) + "," + std::to_string(base) + "," +
          std::to_string(base - 1800000000LL) + "," + std::to_string(base - 37800000000LL) + "]");
  // TIMESTAMP_NTZ ignores a zone in the text.
  ExpectArray(h.CastArray(J(arrow::utf8(), R"(["2024-01-15 10:30:00+05:30"])"),
                          types::TimestampNtz(), CastMode::kAnsi),
              types::TimestampNtz(), "[" + std::to_string(base) + "]");
  // A time alone takes today's date (now is 2023-11-14 UTC in the harness).
  ExpectArray(h.CastArray(J(arrow::utf8(), R"(["10:30:00"])"), ts, CastMode::kAnsi), ts,
              "[1699957800000000]");
  ExpectError(h.CastArray(J(arrow::utf8(), R"(["2024-01-15 25:00"])"), ts, CastMode::kAnsi),
              "CAST_INVALID_INPUT");
}

TEST(CastTest, TimestampsInSessionZone) {
  Harness h(true, "America/Los_Angeles");
  auto ts = types::Timestamp();
  // 2024-01-01 00:00 in Los Angeles is 08:00 UTC.
  ExpectArray(h.CastArray(J(arrow::utf8(), R"(["2024-01-01 00:00:00"])"), ts, CastMode::kAnsi),
              ts, "[1704096000000000]");
  ExpectArray(h.CastArray(J(arrow::date32(), "[19723]"), ts, CastMode::kAnsi), ts,
              "[1704096000000000]");
  // 2024-01-02 07:00 UTC is still 2024-01-01 in Los Angeles.
  ExpectArray(h.CastArray(J(ts, "[1704178800000000]"), arrow::date32(), CastMode::kAnsi),
              arrow::date32(), "[19723]");
  ExpectArray(h.CastArray(J(ts, "[1704096000000000]"), types::TimestampNtz(), CastMode::kAnsi),
              types::TimestampNtz(), "[1704067200000000]");
}

TEST(CastTest, TimestampNumbers) {
  Harness h;
  auto ts = types::Timestamp();
  ExpectArray(h.CastArray(J(arrow::int32(), "[1, null]"), ts, CastMode::kAnsi), ts,
              "[1000000, null]");
  ExpectArray(h.CastArray(J(arrow::float64(), "[1.5]"), ts, CastMode::kAnsi), ts, "[1500000]");
  ExpectArray(h.CastArray(J(ts, "[1704067201000000, -1]"), arrow::int64(), CastMode::kAnsi),
              arrow::int64(), "[1704067201, -1]");
  ExpectArray(h.CastArray(J(ts, "[1704067201500000]"), arrow::float64(), CastMode::kAnsi),
              arrow::float64(), "[1704067201.5]");
}

TEST(CastTest, BinaryAndNested) {
  Harness h;
  ExpectArray(h.CastArray(J(arrow::utf8(), R"(["abc"])"), arrow::binary(), CastMode::kAnsi),
              arrow::binary(), R"(["abc"])");
  ExpectArray(h.CastArray(J(arrow::binary(), R"(["abc", null])"), arrow::utf8(), CastMode::kAnsi),
              arrow::utf8(), R"(["abc", null])");
  auto li = arrow::list(arrow::int32());
  ExpectArray(h.CastArray(J(arrow::list(arrow::utf8()), R"([["1", "x"], null])"), li,
                          CastMode::kLegacy),
              li, "[[1, null], null]");
  ExpectError(h.CastArray(J(arrow::list(arrow::utf8()), R"([["1", "x"]])"), li, CastMode::kAnsi),
              "The value 'x'");
  auto from_s = arrow::struct_({arrow::field("a", arrow::int32()), arrow::field("b", arrow::utf8())});
  auto to_s = arrow::struct_({arrow::field("c", arrow::int64()), arrow::field("d", arrow::utf8())});
  ExpectArray(h.CastArray(J(from_s, R"([{"a": 1, "b": "x"}, null])"), to_s, CastMode::kAnsi),
              to_s, R"([{"c": 1, "d": "x"}, null])");
  auto m1 = arrow::map(arrow::utf8(), arrow::int32());
  auto m2 = arrow::map(arrow::utf8(), arrow::int64());
  ExpectArray(h.CastArray(J(m1, R"([[["a", 1]]])"), m2, CastMode::kAnsi), m2, R"([[["a", 1]]])");
}

TEST(CastTest, ScalarsStayScalars) {
  Harness h;
  auto r = Cast(testing::L(arrow::utf8(), "\"42\""), arrow::int64(), CastMode::kAnsi, h.ctx());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->is_scalar());
  EXPECT_EQ(std::static_pointer_cast<arrow::Int64Scalar>(r->scalar())->value, 42);
}

TEST(CastTest, CanCastFollowsAnsiRules) {
  // Checked against Spark 4.0.1.
  EXPECT_FALSE(CanCast(*arrow::boolean(), *types::Timestamp(), true));
  EXPECT_TRUE(CanCast(*arrow::boolean(), *types::Timestamp(), false));
  EXPECT_TRUE(CanCast(*arrow::int32(), *types::Timestamp(), true));
  EXPECT_FALSE(CanCast(*arrow::date32(), *arrow::int32(), true));
  EXPECT_TRUE(CanCast(*arrow::date32(), *arrow::int32(), false));
  EXPECT_TRUE(CanCast(*types::Timestamp(), *arrow::int64(), true));
  EXPECT_FALSE(CanCast(*arrow::int32(), *arrow::binary(), true));
  EXPECT_TRUE(CanCast(*arrow::int32(), *arrow::binary(), false));
  EXPECT_TRUE(CanCast(*arrow::utf8(), *arrow::date32(), true));
  EXPECT_TRUE(CanCast(*arrow::list(arrow::utf8()), *arrow::list(arrow::int32()), true));
  EXPECT_FALSE(CanCast(*arrow::list(arrow::date32()), *arrow::list(arrow::int32()), true));
  EXPECT_TRUE(CanCast(*arrow::list(arrow::int32()), *arrow::utf8(), true));
}

TEST(CastTest, CommonType) {
  auto ct = [](const types::TypePtr& a, const types::TypePtr& b, bool ansi = true) {
    auto r = CommonType(a, b, ansi);
    return r.ok() ? types::ToDDL(**r) : "error";
  };
  EXPECT_EQ(ct(arrow::int32(), arrow::int64()), "BIGINT");
  EXPECT_EQ(ct(arrow::int8(), arrow::int16()), "SMALLINT");
  EXPECT_EQ(ct(arrow::float32(), arrow::int64()), "DOUBLE");  // ANSI avoids FLOAT
  EXPECT_EQ(ct(arrow::float32(), arrow::int64(), false), "FLOAT");
  EXPECT_EQ(ct(arrow::int32(), arrow::decimal128(2, 1)), "DECIMAL(11,1)");  // greatest(1, 2.5)
  EXPECT_EQ(ct(arrow::decimal128(10, 2), arrow::decimal128(5, 4)), "DECIMAL(12,4)");
  EXPECT_EQ(ct(arrow::decimal128(10, 2), arrow::float64()), "DOUBLE");
  EXPECT_EQ(ct(arrow::date32(), types::Timestamp()), "TIMESTAMP");
  EXPECT_EQ(ct(arrow::date32(), types::TimestampNtz()), "TIMESTAMP_NTZ");
  EXPECT_EQ(ct(arrow::null(), arrow::utf8()), "STRING");
  EXPECT_EQ(ct(arrow::utf8(), arrow::int32()), "BIGINT");
  EXPECT_EQ(ct(arrow::utf8(), arrow::int32(), false), "STRING");
  EXPECT_EQ(ct(arrow::utf8(), arrow::decimal128(3, 1)), "DOUBLE");
  EXPECT_EQ(ct(arrow::boolean(), arrow::int32()), "error");
  EXPECT_EQ(ct(arrow::list(arrow::int32()), arrow::list(arrow::int64())), "ARRAY<BIGINT>");
  auto all = CommonType({arrow::int8(), arrow::null(), arrow::int32()}, true);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE((*all)->Equals(*arrow::int32()));
}

}  // namespace
}  // namespace lakestream::expr

namespace lakestream::expr {
namespace {

TEST(CastTest, ToStringAsSparkShowsValues) {
  // Checked against Spark 4.0.1.
  testing::Harness h;
  auto str = arrow::utf8();
  testing::ExpectArray(h.CastArray(testing::J(arrow::float64(), "[1.5, 1e10, null]"), str, CastMode::kAnsi), str,
                       R"(["1.5", "1.0E10", null])");
  testing::ExpectArray(h.CastArray(testing::J(arrow::decimal128(4, 2), R"(["12.30"])"), str, CastMode::kAnsi), str,
                       R"(["12.30"])");
  testing::ExpectArray(h.CastArray(testing::J(arrow::boolean(), "[true]"), str, CastMode::kAnsi), str, R"(["true"])");
  testing::ExpectArray(h.CastArray(testing::J(arrow::date32(), "[19723]"), str, CastMode::kAnsi), str,
                       R"(["2024-01-01"])");
  testing::ExpectArray(h.CastArray(testing::J(types::Timestamp(), "[1704103200500000]"), str, CastMode::kAnsi), str,
                       R"(["2024-01-01 10:00:00.5"])");
  testing::ExpectArray(h.CastArray(testing::J(arrow::list(arrow::int32()), "[[1, null]]"), str, CastMode::kAnsi), str,
                       R"(["[1, null]"])");
}

TEST(CastTest, MoreEdgeInputs) {
  // Checked against Spark 4.0.1.
  testing::Harness h;
  auto ts = types::Timestamp();
  testing::ExpectArray(h.CastArray(testing::J(arrow::utf8(), R"(["2024-01-15 10:30:00.5 +01:00",
                                                                "2024-01-15T10:30:00+0100"])"),
                                   ts, CastMode::kAnsi),
                       ts, "[1705311000500000, 1705311000000000]");
  testing::ExpectArray(h.CastArray(testing::J(arrow::utf8(), R"(["+2024-01-15"])"), arrow::date32(), CastMode::kAnsi),
                       arrow::date32(), "[19737]");
  testing::ExpectError(h.CastArray(testing::J(arrow::utf8(), R"(["20240115"])"), arrow::date32(), CastMode::kAnsi),
                       "CAST_INVALID_INPUT");
  testing::ExpectArray(h.CastArray(testing::J(arrow::utf8(), R"(["1.23456789012345678901234567890123456789"])"),
                                   arrow::decimal128(38, 37), CastMode::kAnsi),
                       arrow::decimal128(38, 37), R"(["1.2345678901234567890123456789012345679"])");
  testing::ExpectError(h.CastArray(testing::J(arrow::decimal128(15, 1), R"(["123456789012.5"])"), arrow::int32(),
                                   CastMode::kAnsi),
                       "The value 123456789012.5BD of the type \"DECIMAL(15,1)\" cannot be cast to \"INT\"");
  testing::ExpectArray(h.CastArray(testing::J(arrow::decimal128(15, 1), R"(["123456789012.5"])"), arrow::int32(),
                                   CastMode::kLegacy),
                       arrow::int32(), "[-1097262572]");
  testing::ExpectArray(h.CastArray(testing::J(arrow::float64(), "[-0.0]"), arrow::decimal128(3, 1), CastMode::kAnsi),
                       arrow::decimal128(3, 1), R"(["0.0"])");
}

}  // namespace
}  // namespace lakestream::expr
