// Spark's CAST(x AS STRING) text for every type. Expected strings were taken
// from Spark 4.0.1 (pyspark) where noted.
#include "types/value_format.h"

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/json/from_string.h>
#include <arrow/type.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "types/types.h"

namespace lakestream::types {
namespace {

std::shared_ptr<arrow::Array> FromJson(const std::shared_ptr<arrow::DataType>& type,
                                       const std::string& json) {
  auto r = arrow::json::ArrayFromJSONString(type, json);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ValueOrDie();
}

// All elements of FormatArray's result, "<null>" for nulls, checked against FormatValue.
std::vector<std::string> FormatAll(const arrow::Array& a, const std::string& tz = "UTC") {
  FormatOptions o;
  o.time_zone = tz;
  o.null_text = "<null>";
  auto r = FormatArray(a, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  const auto& s = static_cast<const arrow::StringArray&>(**r);
  EXPECT_EQ(s.length(), a.length());
  std::vector<std::string> out;
  for (int64_t i = 0; i < s.length(); ++i) {
    out.push_back(s.IsNull(i) ? "<null>" : std::string(s.GetView(i)));
    EXPECT_EQ(out.back(), FormatValue(a, i, o)) << "element " << i;
  }
  return out;
}

using V = std::vector<std::string>;

TEST(FormatDouble, JavaSpelling) {
  // Spark 4.0.1: CAST(d AS STRING).
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(100.0), "100.0");
  EXPECT_EQ(FormatDouble(1.0e7), "1.0E7");
  EXPECT_EQ(FormatDouble(1234567.0), "1234567.0");
  EXPECT_EQ(FormatDouble(9999999.0), "9999999.0");
  EXPECT_EQ(FormatDouble(1.0e-4), "1.0E-4");
  EXPECT_EQ(FormatDouble(0.001), "0.001");
  EXPECT_EQ(FormatDouble(0.0012345), "0.0012345");
  EXPECT_EQ(FormatDouble(-0.0), "-0.0");
  EXPECT_EQ(FormatDouble(0.0), "0.0");
  EXPECT_EQ(FormatDouble(std::nan("")), "NaN");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(FormatDouble(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(FormatDouble(1.0e21), "1.0E21");
  EXPECT_EQ(FormatDouble(123456789012.0), "1.23456789012E11");
  EXPECT_EQ(FormatDouble(1.0e-300), "1.0E-300");
  EXPECT_EQ(FormatDouble(-1.5), "-1.5");
  EXPECT_EQ(FormatDouble(1.0), "1.0");
  EXPECT_EQ(FormatDouble(12.25), "12.25");
  EXPECT_EQ(FormatDouble(-2.5e-5), "-2.5E-5");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::max()), "1.7976931348623157E308");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::denorm_min()), "4.9E-324");
  EXPECT_EQ(FormatDouble(0.30000000000000004), "0.30000000000000004");
  // JDK 17 (Spark's runtime here) prints integer-valued numbers below 2^63
  // with more digits than the shortest form; checked against java 17.0.15.
  EXPECT_EQ(FormatDouble(1.50386236222138214E18), "1.50386236222138214E18");
  EXPECT_EQ(FormatDouble(1.78602958677818048E17), "1.78602958677818048E17");
  EXPECT_EQ(FormatDouble(9007199254740993.0 * 2), "1.8014398509481984E16");
  EXPECT_EQ(FormatDouble(1.0E22), "1.0E22");
}

TEST(FormatFloat, JavaSpelling) {
  EXPECT_EQ(FormatFloat(0.1f), "0.1");
  EXPECT_EQ(FormatFloat(1.0e10f), "1.0E10");
  EXPECT_EQ(FormatFloat(3.4028235e38f), "3.4028235E38");
  EXPECT_EQ(FormatFloat(1.5f), "1.5");
  EXPECT_EQ(FormatFloat(-0.0f), "-0.0");
  EXPECT_EQ(FormatFloat(std::nanf("")), "NaN");
  EXPECT_EQ(FormatFloat(2.82198298E9f), "2.82198298E9");  // JDK 17's integer path
  EXPECT_EQ(FormatFloat(5.0504528E7f), "5.0504528E7");
  EXPECT_EQ(FormatFloat(1.0E-10f), "1.0E-10");
}

TEST(FormatArray, BooleansAndIntegers) {
  EXPECT_EQ(FormatAll(*FromJson(arrow::boolean(), "[true, false, null]")),
            (V{"true", "false", "<null>"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::int8(), "[-128, 127]")), (V{"-128", "127"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::int16(), "[-32768, 0]")), (V{"-32768", "0"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::int32(), "[-2147483648, 7, null]")),
            (V{"-2147483648", "7", "<null>"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::int64(), "[-9223372036854775808, 9223372036854775807]")),
            (V{"-9223372036854775808", "9223372036854775807"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::uint64(), "[18446744073709551615]")),
            (V{"18446744073709551615"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::float64(), "[1e7, 0.5, null]")),
            (V{"1.0E7", "0.5", "<null>"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::float32(), "[0.1, 100]")), (V{"0.1", "100.0"}));
}

TEST(FormatArray, DecimalsKeepTheirScale) {
  // Spark 4.0.1: 1.50BD -> "1.50", CAST(0 AS DECIMAL(10,2)) -> "0.00", -0.05, 1E-7 in (20,10).
  EXPECT_EQ(FormatAll(*FromJson(arrow::decimal128(10, 2), R"(["1.50", "0.00", "-0.05", "-12.34", null])")),
            (V{"1.50", "0.00", "-0.05", "-12.34", "<null>"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::decimal128(20, 10), R"(["0.0000001000"])")),
            (V{"0.0000001000"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::decimal128(38, 0), R"(["99999999999999999999999999999999999999"])")),
            (V{"99999999999999999999999999999999999999"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::decimal256(40, 3), R"(["-1.005"])")), (V{"-1.005"}));
}

TEST(FormatArray, StringsAndBinary) {
  auto s = FromJson(arrow::utf8(), R"(["a", "", null, "é"])");
  EXPECT_EQ(FormatAll(*s), (V{"a", "", "<null>", "é"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::large_utf8(), R"(["x"])")), (V{"x"}));
  // Spark 4.0.1: CAST(X'0AFF41' AS STRING) = "\n\uFFFDA".
  arrow::BinaryBuilder b;
  ASSERT_TRUE(b.Append(std::string("\x0a\xff\x41", 3)).ok());
  ASSERT_TRUE(b.Append(std::string("ABC")).ok());
  ASSERT_TRUE(b.AppendNull().ok());
  auto bin = b.Finish().ValueOrDie();
  EXPECT_EQ(FormatAll(*bin), (V{"\n\xEF\xBF\xBD" "A", "ABC", "<null>"}));
  EXPECT_EQ(FormatBinaryHex(std::string("\x0a\xff\x41", 3)), "[0A FF 41]");
  EXPECT_EQ(FormatBinaryHex(""), "[]");
}

TEST(DecodeUtf8Lossy, ReplacesMaximalSubparts) {
  EXPECT_EQ(DecodeUtf8Lossy("plain"), "plain");
  EXPECT_EQ(DecodeUtf8Lossy("\xC3\xA9"), "\xC3\xA9");
  EXPECT_EQ(DecodeUtf8Lossy("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(DecodeUtf8Lossy("\xE2\x82"), r);              // truncated 3-byte sequence
  EXPECT_EQ(DecodeUtf8Lossy("\xE2\x82x"), r + "x");       // broken by an ASCII byte
  EXPECT_EQ(DecodeUtf8Lossy("\xC0\xAF"), r + r);          // overlong
  EXPECT_EQ(DecodeUtf8Lossy("\xED\xA0\x80"), r + r + r);  // surrogate
  EXPECT_EQ(DecodeUtf8Lossy("\x80"), r);
}

TEST(FormatArray, DatesAndTimestamps) {
  // Spark 4.0.1: DATE'0001-01-01', DATE'-0001-01-01', DATE'+12345-01-01'.
  EXPECT_EQ(FormatAll(*FromJson(arrow::date32(), "[0, 19723, -719162, -719893, 3789391, null]")),
            (V{"1970-01-01", "2024-01-01", "0001-01-01", "-0001-01-01", "+12345-01-01", "<null>"}));
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  // 2024-07-01 12:00:00.5 UTC, 2024-01-01 12:00:00 UTC, 1900-01-01 00:00:00 UTC,
  // 2024-01-02 03:04:05.12 UTC, 2024-01-02 03:04:05.000001 UTC.
  auto ts = FromJson(Timestamp(), "[1719835200500000, 1704110400000000, -2208988800000000, "
                                  "1704164645120000, 1704164645000001, null]");
  EXPECT_EQ(FormatAll(*ts),
            (V{"2024-07-01 12:00:00.5", "2024-01-01 12:00:00", "1900-01-01 00:00:00",
               "2024-01-02 03:04:05.12", "2024-01-02 03:04:05.000001", "<null>"}));
  // Spark 4.0.1 with spark.sql.session.timeZone set to each zone.
  EXPECT_EQ(FormatAll(*ts, "America/Los_Angeles"),
            (V{"2024-07-01 05:00:00.5", "2024-01-01 04:00:00", "1899-12-31 16:00:00",
               "2024-01-01 19:04:05.12", "2024-01-01 19:04:05.000001", "<null>"}));
  EXPECT_EQ(FormatAll(*ts, "+05:30"),
            (V{"2024-07-01 17:30:00.5", "2024-01-01 17:30:00", "1900-01-01 05:30:00",
               "2024-01-02 08:34:05.12", "2024-01-02 08:34:05.000001", "<null>"}));
  auto first3 = ts->Slice(0, 3);
  EXPECT_EQ(FormatAll(*first3, "Asia/Kolkata"),
            (V{"2024-07-01 17:30:00.5", "2024-01-01 17:30:00", "1900-01-01 05:21:10"}));
  EXPECT_EQ(FormatAll(*first3, "GMT+8"),
            (V{"2024-07-01 20:00:00.5", "2024-01-01 20:00:00", "1900-01-01 08:00:00"}));
  EXPECT_EQ(FormatAll(*first3, "UTC+01:00"),
            (V{"2024-07-01 13:00:00.5", "2024-01-01 13:00:00", "1900-01-01 01:00:00"}));
  EXPECT_EQ(FormatAll(*first3, "-08"),
            (V{"2024-07-01 04:00:00.5", "2024-01-01 04:00:00", "1899-12-31 16:00:00"}));
  EXPECT_EQ(FormatAll(*first3, "PST"),
            (V{"2024-07-01 05:00:00.5", "2024-01-01 04:00:00", "1899-12-31 16:00:00"}));
  // TIMESTAMP_NTZ is shown as stored, whatever the session zone.
  auto ntz = FromJson(TimestampNtz(), "[1704164645000001, -62135596800000000]");
  EXPECT_EQ(FormatAll(*ntz, "America/Los_Angeles"),
            (V{"2024-01-02 03:04:05.000001", "0001-01-01 00:00:00"}));
  // Other units.
  auto ns = FromJson(arrow::timestamp(arrow::TimeUnit::NANO, "UTC"), "[-1]");
  EXPECT_EQ(FormatAll(*ns), (V{"1969-12-31 23:59:59.999999"}));
  auto sec = FromJson(arrow::timestamp(arrow::TimeUnit::SECOND), "[86400]");
  EXPECT_EQ(FormatAll(*sec), (V{"1970-01-02 00:00:00"}));
}

TEST(FormatArray, DaylightSavingTimeAfter2037FollowsTheZoneRule) {
  // The tz files list transitions only up to 2037; later ones come from the
  // file's POSIX rule, as in java.time.
  auto ts = FromJson(Timestamp(), "[2224756800000000, 10415044800000000, 10430683200000000]");
  EXPECT_EQ(FormatAll(*ts, "America/Los_Angeles"),
            (V{"2040-07-01 05:00:00", "2300-01-15 04:00:00", "2300-07-15 05:00:00"}));
  EXPECT_EQ(FormatAll(*ts, "Australia/Sydney"),
            (V{"2040-07-01 22:00:00", "2300-01-15 23:00:00", "2300-07-15 22:00:00"}));
}

TEST(FormatArray, UnknownTimeZoneIsAUserError) {
  FormatOptions o;
  o.time_zone = "Mars/Olympus";
  auto r = FormatArray(*FromJson(Timestamp(), "[0]"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown time zone 'Mars/Olympus'"), std::string::npos);
  EXPECT_FALSE(TimeZone::Make("+25:00").ok());
}

TEST(TimeZone, LocalToUtcFollowsJavaTime) {
  auto la = TimeZone::Make("America/Los_Angeles").ValueOrDie();
  const int64_t us = 1000000;
  // 2024-03-10 02:30 does not exist in LA: java.time moves it to 03:30 PDT = 10:30 UTC.
  int64_t gap_local = (1710037800LL) * us;  // 2024-03-10 02:30:00 as a wall clock
  EXPECT_EQ(FormatTimestamp(la.ToUtcMicros(gap_local), nullptr), "2024-03-10 10:30:00");
  // 2024-11-03 01:30 happens twice: the earlier offset (PDT, -7) wins.
  int64_t overlap_local = 1730597400LL * us;  // 2024-11-03 01:30:00 as a wall clock
  EXPECT_EQ(FormatTimestamp(la.ToUtcMicros(overlap_local), nullptr), "2024-11-03 08:30:00");
  EXPECT_EQ(la.ToLocalMicros(la.ToUtcMicros(1719835200LL * us)), 1719835200LL * us);
  auto plus = TimeZone::Make("+05:30").ValueOrDie();
  EXPECT_EQ(plus.ToUtcMicros(0), -19800LL * us);
  EXPECT_EQ(FormatTimestamp(0, &plus), "1970-01-01 05:30:00");
}

TEST(FormatArray, Intervals) {
  // Spark 4.0.1 CAST(INTERVAL ... AS STRING).
  auto dt = FromJson(arrow::duration(arrow::TimeUnit::MICRO),
                     "[93784500000, 93784000000, -1, 8726399123000, 0, null]");
  EXPECT_EQ(FormatAll(*dt), (V{"INTERVAL '1 02:03:04.5' DAY TO SECOND",
                               "INTERVAL '1 02:03:04' DAY TO SECOND",
                               "INTERVAL '-0 00:00:00.000001' DAY TO SECOND",
                               "INTERVAL '100 23:59:59.123' DAY TO SECOND",
                               "INTERVAL '0 00:00:00' DAY TO SECOND", "<null>"}));
  auto ym = FromJson(arrow::month_interval(), "[14, -14, 0]");
  EXPECT_EQ(FormatAll(*ym), (V{"INTERVAL '1-2' YEAR TO MONTH", "INTERVAL '-1-2' YEAR TO MONTH",
                               "INTERVAL '0-0' YEAR TO MONTH"}));
  // make_interval(1,2,0,3,4,5,6.5) -> "1 years 2 months 3 days 4 hours 5 minutes 6.5 seconds".
  arrow::MonthDayNanoIntervalBuilder cb;
  ASSERT_TRUE(cb.Append({14, 3, (4 * 3600 + 5 * 60) * 1000000000LL + 6500000000LL}).ok());
  ASSERT_TRUE(cb.Append({0, 0, 0}).ok());
  ASSERT_TRUE(cb.Append({-1, 0, -1500000000LL}).ok());
  auto cal = cb.Finish().ValueOrDie();
  EXPECT_EQ(FormatAll(*cal), (V{"1 years 2 months 3 days 4 hours 5 minutes 6.5 seconds",
                                "0 seconds", "-1 months -1.5 seconds"}));
}

TEST(FormatArray, DayTimeIntervalFields) {
  // Spark 4.0.1 CAST(... AS STRING) of INTERVAL '1 02:03:04.5' (93784500000 us) and
  // INTERVAL '-90' MINUTE under each field range: the start field is unbounded,
  // later fields up to the end are two digits, and what lies below the end is cut.
  using F = DayTimeField;
  const std::string values = "[93784500000, -5400000000, 5000000]";
  auto as = [&](F start, F end) {
    return FormatAll(*FromJson(DayTimeInterval(start, end), values));
  };
  EXPECT_EQ(as(F::kDay, F::kDay), (V{"INTERVAL '1' DAY", "INTERVAL '-0' DAY", "INTERVAL '0' DAY"}));
  EXPECT_EQ(as(F::kHour, F::kHour),
            (V{"INTERVAL '26' HOUR", "INTERVAL '-01' HOUR", "INTERVAL '00' HOUR"}));
  EXPECT_EQ(as(F::kDay, F::kMinute),
            (V{"INTERVAL '1 02:03' DAY TO MINUTE", "INTERVAL '-0 01:30' DAY TO MINUTE",
               "INTERVAL '0 00:00' DAY TO MINUTE"}));
  EXPECT_EQ(as(F::kMinute, F::kSecond),
            (V{"INTERVAL '1563:04.5' MINUTE TO SECOND", "INTERVAL '-90:00' MINUTE TO SECOND",
               "INTERVAL '00:05' MINUTE TO SECOND"}));
  EXPECT_EQ(as(F::kSecond, F::kSecond),
            (V{"INTERVAL '93784.5' SECOND", "INTERVAL '-5400' SECOND", "INTERVAL '05' SECOND"}));
}

TEST(DayTimeInterval, NamesAndEquality) {
  auto hour_to_minute = DayTimeInterval(DayTimeField::kHour, DayTimeField::kMinute);
  EXPECT_EQ(SimpleString(*hour_to_minute), "interval hour to minute");
  EXPECT_EQ(ToDDL(*hour_to_minute), "INTERVAL HOUR TO MINUTE");
  EXPECT_EQ(SimpleString(*DayTimeInterval(DayTimeField::kDay, DayTimeField::kDay)), "interval day");
  // Still Arrow's duration(us) for kernels and type checks.
  EXPECT_TRUE(hour_to_minute->Equals(arrow::duration(arrow::TimeUnit::MICRO)));
  EXPECT_TRUE(IsSparkType(*hour_to_minute));
  EXPECT_EQ(ToSparkType(hour_to_minute), hour_to_minute);
  auto parsed = ParseDDLType("interval minute to second").ValueOrDie();
  EXPECT_EQ(DayTimeFields(*parsed), std::make_pair(DayTimeField::kMinute, DayTimeField::kSecond));
  EXPECT_EQ(DayTimeFields(*arrow::duration(arrow::TimeUnit::MICRO)),
            std::make_pair(DayTimeField::kDay, DayTimeField::kSecond));
}

TEST(FormatArray, NestedValues) {
  // Spark 4.0.1: array(1,2,null), map('a',1,'b',null), named_struct('a',1,'b','x'), ...
  EXPECT_EQ(FormatAll(*FromJson(arrow::list(arrow::int32()), "[[1, 2, null], [], null]")),
            (V{"[1, 2, null]", "[]", "<null>"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::map(arrow::utf8(), arrow::int32()),
                                R"([[["a", 1], ["b", null]], []])")),
            (V{"{a -> 1, b -> null}", "{}"}));
  auto st = arrow::struct_({arrow::field("a", arrow::int32()), arrow::field("b", arrow::utf8())});
  EXPECT_EQ(FormatAll(*FromJson(st, R"([{"a": 1, "b": "x"}, {"a": null, "b": null}, null])")),
            (V{"{1, x}", "{null, null}", "<null>"}));
  auto st2 = arrow::struct_({arrow::field("a", arrow::int32()),
                             arrow::field("b", arrow::list(arrow::float64()))});
  EXPECT_EQ(FormatAll(*FromJson(st2, R"([{"a": null, "b": [1.0]}])")), (V{"{null, [1.0]}"}));
  auto deep = arrow::struct_({arrow::field("a", arrow::map(arrow::utf8(), arrow::list(arrow::int32())))});
  EXPECT_EQ(FormatAll(*FromJson(deep, R"([{"a": [["k", [1]]]}])")), (V{"{{k -> [1]}}"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::list(arrow::list(arrow::int32())), "[[[]]]")), (V{"[[]]"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::list(arrow::utf8()), R"([[null, "x"]])")), (V{"[null, x]"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::list(arrow::boolean()), "[[true, false]]")),
            (V{"[true, false]"}));
  // Timestamps inside nested values use the session zone too.
  EXPECT_EQ(FormatAll(*FromJson(arrow::list(Timestamp()), "[[0]]"), "+01:00"),
            (V{"[1970-01-01 01:00:00]"}));
  // Sliced arrays format the right elements.
  auto sliced = FromJson(arrow::list(arrow::int32()), "[[1], [2, 3], [4]]")->Slice(1, 2);
  EXPECT_EQ(FormatAll(*sliced), (V{"[2, 3]", "[4]"}));
  auto st_sliced = FromJson(st, R"([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])")->Slice(1);
  EXPECT_EQ(FormatAll(*st_sliced), (V{"{2, y}"}));
}

TEST(FormatArray, DictionaryAndNullType) {
  auto dict = arrow::DictionaryArray::FromArrays(arrow::dictionary(arrow::int8(), arrow::utf8()),
                                                 FromJson(arrow::int8(), "[1, 0, null]"),
                                                 FromJson(arrow::utf8(), R"(["a", "b"])"))
                  .ValueOrDie();
  EXPECT_EQ(FormatAll(*dict), (V{"b", "a", "<null>"}));
  EXPECT_EQ(FormatAll(*FromJson(arrow::null(), "[null]")), (V{"<null>"}));
}

TEST(FormatValue, NullTextAtTopLevelOnly) {
  auto a = FromJson(arrow::list(arrow::int32()), "[null, [null]]");
  FormatOptions o;
  EXPECT_EQ(FormatValue(*a, 0, o), "NULL");
  EXPECT_EQ(FormatValue(*a, 1, o), "[null]");
  o.null_text = "";
  EXPECT_EQ(FormatValue(*a, 0, o), "");
}

}  // namespace
}  // namespace lakestream::types
