// Date/time functions and Spark datetime patterns. Timestamps are UTC
// instants shown in the session zone. Expected values were checked against
// Spark 4.0.1 (session time zone UTC) where marked.
#include "expr/datetime_format.h"
#include "family_test_util.h"

namespace lakestream::expr::testing {
namespace {

auto ts = types::Timestamp;
auto ntz = types::TimestampNtz;

arrow::Datum Ts(const std::string& json) { return arrow::Datum(J(ts(), json)); }
arrow::Datum Dates(const std::string& json) { return arrow::Datum(J(arrow::date32(), json)); }

/// Micros of a UTC wall-clock time.
int64_t Micros(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0, int us = 0) {
  return DaysFromCivil(y, m, d) * kMicrosPerDay + (int64_t{hh} * 3600 + mm * 60 + ss) * kMicrosPerSecond + us;
}

std::string Str(int64_t v) { return std::to_string(v); }

TEST(DatetimeFormat, FormatsEveryLetter) {
  auto f = DateTimeFormat::Compile("yyyy-MM-dd HH:mm:ss.SSS EEE EEEE MMM MMMM a h K k D Q");
  ASSERT_TRUE(f.ok()) << f.status();
  std::string out;
  f->Format(Micros(2024, 3, 5, 14, 7, 9, 123456), 0, TimeZone::Utc(), &out);
  // Spark 4.0.1: date_format(TIMESTAMP'2024-03-05 14:07:09.123456', <same pattern>).
  EXPECT_EQ(out, "2024-03-05 14:07:09.123 Tue Tuesday Mar March PM 2 2 14 65 1");
  auto z = DateTimeFormat::Compile("XXX xx Z ZZZZ O z VV");
  ASSERT_TRUE(z.ok());
  out.clear();
  z->Format(0, 0, TimeZone::Utc(), &out);
  EXPECT_EQ(out, "Z +0000 +0000 GMT GMT UTC UTC");
  auto la = TimeZone::Make("America/Los_Angeles");
  ASSERT_TRUE(la.ok());
  out.clear();
  z->Format(0, -8 * 3600, *la, &out);
  EXPECT_EQ(out, "-08:00 -0800 -0800 GMT-08:00 GMT-8 PST America/Los_Angeles");
  auto q = DateTimeFormat::Compile("'at' hh 'o''clock' yy");
  ASSERT_TRUE(q.ok());
  out.clear();
  q->Format(Micros(2024, 1, 1, 15), 0, TimeZone::Utc(), &out);
  EXPECT_EQ(out, "at 03 o'clock 24");
}

TEST(DatetimeFormat, RejectsBadPatterns) {
  // Spark 4.0.1 error classes.
  ExpectError(DateTimeFormat::Compile("YYYY"), "DATETIME_PATTERN_RECOGNITION");
  ExpectError(DateTimeFormat::Compile("A"), "[INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER]");
  ExpectError(DateTimeFormat::Compile("'open"), "INVALID_DATETIME_PATTERN");
  ExpectError(DateTimeFormat::Compile("[yyyy"), "INVALID_DATETIME_PATTERN");
}

TEST(DatetimeFormat, ParsesAdjacentNumbersAndOptionalSections) {
  auto f = DateTimeFormat::Compile("yyyyMMdd[ HH:mm]");
  ASSERT_TRUE(f.ok());
  ParsedDateTime p;
  size_t idx;
  ASSERT_TRUE(f->Parse("20240305", &p, &idx));
  EXPECT_EQ(p.year, 2024);
  EXPECT_EQ(p.month, 3);
  EXPECT_EQ(p.day, 5);
  ASSERT_TRUE(f->Parse("20240305 10:30", &p, &idx));
  EXPECT_EQ(p.hour, 10);
  EXPECT_FALSE(f->Parse("2024030", &p, &idx));
  EXPECT_FALSE(f->Parse("20240305 10:30x", &p, &idx));
  EXPECT_EQ(idx, 14u);
}

TEST(TimeZones, OffsetsAndTransitions) {
  auto la = TimeZone::Make("America/Los_Angeles");
  ASSERT_TRUE(la.ok()) << la.status();
  // 2024-03-10 02:30 does not exist in LA: Java moves it forward by the gap (03:30 PDT = 10:30Z).
  EXPECT_EQ(la->LocalToUtc(Micros(2024, 3, 10, 2, 30)), Micros(2024, 3, 10, 10, 30));
  // 2024-11-03 01:30 happens twice: the earlier offset (PDT, -7) wins.
  EXPECT_EQ(la->LocalToUtc(Micros(2024, 11, 3, 1, 30)), Micros(2024, 11, 3, 8, 30));
  EXPECT_EQ(la->OffsetAt(Micros(2024, 7, 1) / kMicrosPerSecond), -7 * 3600);
  auto fixed = TimeZone::Make("+05:30");
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->OffsetAt(0), 5 * 3600 + 1800);
  EXPECT_TRUE(TimeZone::Make("GMT+8").ok());
  EXPECT_TRUE(TimeZone::Make("PST").ok());
  ExpectError(TimeZone::Make("Mars/Olympus"), "[INVALID_TIMEZONE]");
}

TEST(DatetimeFunctions, Fields) {
  FamilyHarness h;
  auto d = Dates("[19787, null]");  // 2024-03-05 (a Tuesday)
  ExpectArray(h.CallArray("year", {d}), arrow::int32(), "[2024, null]");
  ExpectArray(h.CallArray("month", {d}), arrow::int32(), "[3, null]");
  ExpectArray(h.CallArray("dayofmonth", {d}), arrow::int32(), "[5, null]");
  ExpectArray(h.CallArray("quarter", {d}), arrow::int32(), "[1, null]");
  // Spark 4.0.1: dayofweek = 3 (1 = Sunday), weekday = 1 (0 = Monday).
  ExpectArray(h.CallArray("dayofweek", {d}), arrow::int32(), "[3, null]");
  ExpectArray(h.CallArray("weekday", {d}), arrow::int32(), "[1, null]");
  ExpectArray(h.CallArray("dayofyear", {d}), arrow::int32(), "[65, null]");
  // Spark 4.0.1: weekofyear(DATE'2021-01-01') = 53 (ISO weeks).
  ExpectArray(h.CallArray("weekofyear", {Dates("[18628]")}), arrow::int32(), "[53]");
  auto t = Ts("[" + Str(Micros(2024, 3, 5, 14, 7, 9, 500000)) + "]");
  ExpectArray(h.CallArray("hour", {t}), arrow::int32(), "[14]");
  ExpectArray(h.CallArray("minute", {t}), arrow::int32(), "[7]");
  ExpectArray(h.CallArray("second", {t}), arrow::int32(), "[9]");
  ExpectArray(h.CallArray("year", {t}), arrow::int32(), "[2024]");
  // Fields read in the session time zone.
  FamilyHarness tokyo(true, "Asia/Tokyo");
  ExpectArray(tokyo.CallArray("hour", {t}), arrow::int32(), "[23]");
  auto late = Ts("[" + Str(Micros(2024, 3, 5, 20)) + "]");
  ExpectArray(tokyo.CallArray("day", {late}), arrow::int32(), "[6]");
  // Strings are cast (dates for date fields).
  ExpectArray(h.CallArray("month", {LS("2024-07-01")}), arrow::int32(), "[7]");
}

TEST(DatetimeFunctions, Extract) {
  FamilyHarness h;
  auto t = Ts("[" + Str(Micros(2024, 3, 5, 14, 7, 9, 123456)) + "]");
  // Spark 4.0.1: extract(SECOND FROM ts) = 9.123456 of type decimal(8,6).
  auto sec = h.CallArray("extract", {LS("SECOND"), t});
  ExpectArray(sec, arrow::decimal128(8, 6), R"(["9.123456"])");
  ExpectArray(h.CallArray("date_part", {LS("dow"), Dates("[19787]")}), arrow::int32(), "[3]");
  ExpectArray(h.CallArray("extract", {LS("YEAR"), t}), arrow::int32(), "[2024]");
  ExpectArray(h.CallArray("extract", {LS("DOY"), t}), arrow::int32(), "[65]");
  ExpectError(h.CallArray("extract", {LS("EPOCH"), t}), "[INVALID_EXTRACT_FIELD]");
}

TEST(DatetimeFunctions, ToTimestampWithPatterns) {
  FamilyHarness h;
  // Spark 4.0.1 results.
  ExpectArray(h.CallArray("to_timestamp", {S(R"(["2024-03-05 14:07", null])"), LS("yyyy-MM-dd HH:mm")}), ts(),
              "[" + Str(Micros(2024, 3, 5, 14, 7)) + ", null]");
  ExpectArray(h.CallArray("to_timestamp", {S(R"(["20240305"])"), LS("yyyyMMdd")}), ts(),
              "[" + Str(Micros(2024, 3, 5)) + "]");
  ExpectArray(h.CallArray("to_timestamp", {S(R"(["2024-3-5"])"), LS("yyyy-M-d")}), ts(),
              "[" + Str(Micros(2024, 3, 5)) + "]");
  ExpectArray(h.CallArray("to_timestamp", {S(R"(["2024-03-05T14:07:09.12+02:00"])"),
                                           LS("yyyy-MM-dd'T'HH:mm:ss.SSXXX")}),
              ts(), "[" + Str(Micros(2024, 3, 5, 12, 7, 9, 120000)) + "]");
  ExpectArray(h.CallArray("to_timestamp", {S(R"(["12 PM", "12 am"])"), LS("hh a")}), ts(),
              "[" + Str(Micros(1970, 1, 1, 12)) + ", 0]");
  ExpectArray(h.CallArray("to_date", {S(R"(["05/03/2024"])"), LS("dd/MM/yyyy")}), arrow::date32(), "[19787]");
  // Parsed in the session zone.
  FamilyHarness la(true, "America/Los_Angeles");
  ExpectArray(la.CallArray("to_timestamp", {S(R"(["2024-03-05 00:00"])"), LS("yyyy-MM-dd HH:mm")}), ts(),
              "[" + Str(Micros(2024, 3, 5, 8)) + "]");
  ExpectArray(h.CallArray("to_timestamp_ntz", {S(R"(["2024-03-05 01:02"])"), LS("yyyy-MM-dd HH:mm")}), ntz(),
              "[" + Str(Micros(2024, 3, 5, 1, 2)) + "]");
}

TEST(DatetimeFunctions, WithoutPatternCasts) {
  FamilyHarness h;
  ExpectArray(h.CallArray("to_timestamp", {S(R"(["2024-03-05 14:07:09", null])")}), ts(),
              "[" + Str(Micros(2024, 3, 5, 14, 7, 9)) + ", null]");
  ExpectArray(h.CallArray("to_date", {S(R"(["2024-03-05"])")}), arrow::date32(), "[19787]");
  ExpectArray(h.CallArray("try_to_timestamp", {S(R"(["abc"])")}), ts(), "[null]");
  ExpectError(h.CallArray("to_timestamp", {S(R"(["abc"])")}), "CAST_INVALID_INPUT");
}

TEST(DatetimeFunctions, ParseFailuresAnsiTryAndLegacy) {
  FamilyHarness ansi;
  // Spark 4.0.1 messages.
  ExpectError(ansi.CallArray("to_timestamp", {S(R"(["abc"])"), LS("yyyy")}),
              "[CANNOT_PARSE_TIMESTAMP] Text 'abc' could not be parsed at index 0. Use `try_to_timestamp`");
  ExpectError(ansi.CallArray("to_timestamp", {S(R"(["2024-02-30"])"), LS("yyyy-MM-dd")}),
              "could not be parsed: Invalid date 'FEBRUARY 30'");
  ExpectError(ansi.CallArray("unix_timestamp", {S(R"(["x"])")}), "[CANNOT_PARSE_TIMESTAMP] Text 'x'");
  ExpectArray(ansi.CallArray("try_to_timestamp", {S(R"(["2024-02-30", "abc"])"), LS("yyyy-MM-dd")}), ts(),
              "[null, null]");
  FamilyHarness legacy(false);
  ExpectArray(legacy.CallArray("to_timestamp", {S(R"(["abc"])"), LS("yyyy")}), ts(), "[null]");
  ExpectError(ansi.CallArray("to_timestamp", {S(R"(["2024"])"), LS("YYYY")}), "DATETIME_PATTERN_RECOGNITION");
}

TEST(DatetimeFunctions, DateFormatAndUnixTime) {
  FamilyHarness h;
  auto t = Ts("[" + Str(Micros(2024, 3, 5, 14, 7, 9)) + ", null]");
  ExpectArray(h.CallArray("date_format", {t, LS("yyyy/MM/dd HH:mm:ss")}), arrow::utf8(),
              R"(["2024/03/05 14:07:09", null])");
  FamilyHarness la(true, "America/Los_Angeles");
  ExpectArray(la.CallArray("date_format", {t, LS("yyyy-MM-dd HH:mm XXX")}), arrow::utf8(),
              R"(["2024-03-05 06:07 -08:00", null])");
  // Spark 4.0.1: unix_timestamp('2024-03-05 00:00:00') = 1709596800, from_unixtime(0) = '1970-01-01 00:00:00'.
  ExpectArray(h.CallArray("unix_timestamp", {S(R"(["2024-03-05 00:00:00"])")}), arrow::int64(), "[1709596800]");
  ExpectArray(h.CallArray("from_unixtime", {arrow::Datum(J(arrow::int64(), "[0, 1709596800]"))}), arrow::utf8(),
              R"(["1970-01-01 00:00:00", "2024-03-05 00:00:00"])");
  ExpectArray(h.CallArray("from_unixtime", {arrow::Datum(J(arrow::int64(), "[1709596800]")), LS("yyyy/MM/dd")}),
              arrow::utf8(), R"(["2024/03/05"])");
  ExpectArray(h.CallArray("unix_timestamp", {t}), arrow::int64(), "[1709647629, null]");
  ExpectArray(h.CallArray("unix_millis", {Ts("[1500]")}), arrow::int64(), "[1]");
  ExpectArray(h.CallArray("unix_seconds", {Ts("[-1]")}), arrow::int64(), "[-1]");
  ExpectArray(h.CallArray("timestamp_seconds", {arrow::Datum(J(arrow::int64(), "[1, null]"))}), ts(),
              "[1000000, null]");
  ExpectArray(h.CallArray("timestamp_seconds", {arrow::Datum(J(arrow::float64(), "[1.5]"))}), ts(), "[1500000]");
  ExpectArray(h.CallArray("timestamp_millis", {arrow::Datum(J(arrow::int64(), "[2]"))}), ts(), "[2000]");
  // Deterministic per query: now() is EvalContext::now_micros.
  auto now = h.Call("current_timestamp", {});
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(std::static_pointer_cast<arrow::TimestampScalar>(now->scalar())->value, 1700000000000000LL);
  auto today = h.Call("current_date", {});
  ASSERT_TRUE(today.ok());
  EXPECT_EQ(std::static_pointer_cast<arrow::Date32Scalar>(today->scalar())->value, 19675);  // 2023-11-14
}

TEST(DatetimeFunctions, Truncation) {
  FamilyHarness h;
  auto t = Ts("[" + Str(Micros(2024, 3, 7, 10, 11, 12, 131415)) + "]");
  auto check = [&](const char* unit, int64_t want) {
    ExpectArray(h.CallArray("date_trunc", {LS(unit), t}), ts(), "[" + Str(want) + "]");
  };
  // Spark 4.0.1: date_trunc('WEEK', 2024-03-07 10:00) = 2024-03-04 (Monday); unknown unit -> NULL.
  check("WEEK", Micros(2024, 3, 4));
  check("year", Micros(2024, 1, 1));
  check("QUARTER", Micros(2024, 1, 1));
  check("MM", Micros(2024, 3, 1));
  check("DD", Micros(2024, 3, 7));
  check("HOUR", Micros(2024, 3, 7, 10));
  check("MINUTE", Micros(2024, 3, 7, 10, 11));
  check("SECOND", Micros(2024, 3, 7, 10, 11, 12));
  check("MILLISECOND", Micros(2024, 3, 7, 10, 11, 12, 131000));
  ExpectArray(h.CallArray("date_trunc", {LS("bogus"), t}), ts(), "[null]");
  // In the session zone: a Tokyo day starts at 15:00 UTC.
  FamilyHarness tokyo(true, "Asia/Tokyo");
  ExpectArray(tokyo.CallArray("date_trunc", {LS("DAY"), t}), ts(), "[" + Str(Micros(2024, 3, 6, 15)) + "]");
  // trunc(date): Spark 4.0.1 gives NULL for 'Q' (only QUARTER is a unit).
  auto d = Dates("[19860]");  // 2024-05-17
  ExpectArray(h.CallArray("trunc", {d, LS("QUARTER")}), arrow::date32(), "[19814]");  // 2024-04-01
  ExpectArray(h.CallArray("trunc", {d, LS("Q")}), arrow::date32(), "[null]");
  ExpectArray(h.CallArray("trunc", {d, LS("MONTH")}), arrow::date32(), "[19844]");
}

TEST(DatetimeFunctions, Arithmetic) {
  FamilyHarness h;
  auto d = Dates("[19787, null]");  // 2024-03-05
  ExpectArray(h.CallArray("date_add", {d, LI(30)}), arrow::date32(), "[19817, null]");
  ExpectArray(h.CallArray("date_sub", {d, LI(5)}), arrow::date32(), "[19782, null]");
  ExpectArray(h.CallArray("dateadd", {d, LI(-1)}), arrow::date32(), "[19786, null]");
  ExpectArray(h.CallArray("datediff", {Dates("[19787]"), Dates("[19780]")}), arrow::int32(), "[7]");
  // Spark 4.0.1: add_months(2024-01-31, 1) = 2024-02-29; last_day(2024-02-10) = 2024-02-29;
  // next_day(2024-03-05, 'TU') = 2024-03-12.
  ExpectArray(h.CallArray("add_months", {Dates("[19753]"), LI(1)}), arrow::date32(), "[19782]");
  ExpectArray(h.CallArray("last_day", {Dates("[19763]")}), arrow::date32(), "[19782]");
  ExpectArray(h.CallArray("next_day", {d, LS("TU")}), arrow::date32(), "[19794, null]");
  ExpectArray(h.CallArray("next_day", {d, LS("friday")}), arrow::date32(), "[19790, null]");
  ExpectError(h.CallArray("next_day", {d, LS("xx")}), "[ILLEGAL_DAY_OF_WEEK]");
  FamilyHarness legacy(false);
  ExpectArray(legacy.CallArray("next_day", {d, LS("xx")}), arrow::date32(), "[null, null]");
  // Spark 4.0.1: months_between(1997-02-28 10:30, 1996-10-30) = 3.94959677; (2024-03-31, 2024-02-29) = 1.0.
  ExpectArray(h.CallArray("months_between", {Ts("[" + Str(Micros(1997, 2, 28, 10, 30)) + "]"),
                                             Ts("[" + Str(Micros(1996, 10, 30)) + "]")}),
              arrow::float64(), "[3.94959677]");
  ExpectArray(h.CallArray("months_between", {Dates("[19813]"), Dates("[19782]")}), arrow::float64(), "[1.0]");
}

TEST(DatetimeFunctions, MakeDateAndTimestamp) {
  FamilyHarness h;
  ExpectArray(h.CallArray("make_date", {LI(2024), LI(3), arrow::Datum(J(arrow::int32(), "[5, null]"))}),
              arrow::date32(), "[19787, null]");
  // Spark 4.0.1 error text.
  ExpectError(h.CallArray("make_date", {LI(2024), LI(2), LI(30)}),
              "[DATETIME_FIELD_OUT_OF_BOUNDS] Invalid date 'FEBRUARY 30'");
  FamilyHarness legacy(false);
  ExpectArray(legacy.CallArray("make_date", {LI(2024), LI(2), LI(30)}), arrow::date32(), "[null]");
  auto sec = arrow::Datum(J(arrow::decimal128(16, 6), R"(["9.500000"])"));
  ExpectArray(h.CallArray("make_timestamp", {LI(2024), LI(3), LI(5), LI(14), LI(7), sec}), ts(),
              "[" + Str(Micros(2024, 3, 5, 14, 7, 9, 500000)) + "]");
  ExpectArray(h.CallArray("make_timestamp", {LI(2024), LI(3), LI(5), LI(14), LI(7), sec, LS("+01:00")}), ts(),
              "[" + Str(Micros(2024, 3, 5, 13, 7, 9, 500000)) + "]");
}

TEST(DatetimeFunctions, UtcShifts) {
  FamilyHarness h;
  auto t = Ts("[" + Str(Micros(2024, 7, 1, 12)) + "]");
  ExpectArray(h.CallArray("from_utc_timestamp", {t, LS("Asia/Seoul")}), ts(), "[" + Str(Micros(2024, 7, 1, 21)) + "]");
  ExpectArray(h.CallArray("to_utc_timestamp", {t, LS("Asia/Seoul")}), ts(), "[" + Str(Micros(2024, 7, 1, 3)) + "]");
  ExpectError(h.CallArray("from_utc_timestamp", {t, LS("Nowhere/Land")}), "[INVALID_TIMEZONE]");
}

}  // namespace
}  // namespace lakestream::expr::testing
