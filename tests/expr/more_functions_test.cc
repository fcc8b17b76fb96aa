// Functions added for the SQL logic tests: collection set operations and
// edits, math (floor/ceil with a scale, bin, conv, width_bucket, bit_count,
// nanvl), strings (regexp_count/substr/instr, levenshtein, overlay,
// split_part, substring_index, elt, find_in_set, mask, sentences, to_number,
// upper's 'ß'),
// datetime (dayname, monthname, make_interval, convert_timezone, EXTRACT on
// intervals) and aggregates (corr, covar_*, skewness, kurtosis, mode).
// Expected values were checked against pyspark 4.0.1 (ANSI on, UTC).
#include <arrow/api.h>
#include <gtest/gtest.h>

#include "family_test_util.h"

namespace lakestream::expr::testing {
namespace {

using arrow::int32;
using arrow::int64;
using arrow::utf8;

arrow::Datum A(const std::shared_ptr<arrow::DataType>& t, const std::string& json) {
  return arrow::Datum(J(t, json));
}

TEST(MoreCollections, SetOperations) {
  FamilyHarness h;
  auto li = arrow::list(int32());
  auto a = A(li, "[[1, null, 1, 2], [1, 2, 3], null]");
  auto b = A(li, "[[null, 3], [2], [1]]");
  ExpectArray(h.CallArray("array_union", {a, b}), li, "[[1, null, 2, 3], [1, 2, 3], null]");
  ExpectArray(h.CallArray("array_intersect", {a, b}), li, "[[null], [2], null]");
  ExpectArray(h.CallArray("array_except", {a, b}), li, "[[1, 2], [1, 3], null]");
  ExpectArray(h.CallArray("arrays_overlap", {A(li, "[[1, null], [1], [1, null]]"),
                                             A(li, "[[2], [2, 1], []]")}),
              arrow::boolean(), "[null, true, false]");
}

TEST(MoreCollections, ElementEdits) {
  FamilyHarness h;
  auto li = arrow::list(int32());
  auto a = A(li, "[[1, 2, 1, null], null]");
  ExpectArray(h.CallArray("array_remove", {a, LI(1)}), li, "[[2, null], null]");
  ExpectArray(h.CallArray("array_compact", {a}), li, "[[1, 2, 1], null]");
  ExpectArray(h.CallArray("array_append", {a, LI(7)}), li, "[[1, 2, 1, null, 7], null]");
  ExpectArray(h.CallArray("array_prepend", {a, LI(7)}), li, "[[7, 1, 2, 1, null], null]");
  auto two = A(li, "[[1, 2]]");
  // Spark 4.0.1: -1 appends; positions past either end pad with NULLs.
  ExpectArray(h.CallArray("array_insert", {two, LI(2), LI(9)}), li, "[[1, 9, 2]]");
  ExpectArray(h.CallArray("array_insert", {two, LI(-1), LI(9)}), li, "[[1, 2, 9]]");
  ExpectArray(h.CallArray("array_insert", {two, LI(5), LI(9)}), li, "[[1, 2, null, null, 9]]");
  ExpectArray(h.CallArray("array_insert", {two, LI(-5), LI(0)}), li, "[[0, null, null, 1, 2]]");
  ExpectError(h.CallArray("array_insert", {two, LI(0), LI(9)}), "INVALID_INDEX_OF_ZERO");
  ExpectArray(h.CallArray("array_repeat", {S(R"(["x", null])"), LI(2)}), arrow::list(utf8()),
              R"([["x", "x"], [null, null]])");
}

TEST(MoreCollections, Maps) {
  FamilyHarness h;
  auto m = arrow::map(utf8(), int32());
  auto m1 = A(m, R"([[["a", 1]], null])");
  auto m2 = A(m, R"([[["b", 2]], [["c", 3]]])");
  ExpectArray(h.CallArray("map_concat", {m1, m2}), m, R"([[["a", 1], ["b", 2]], null])");
  ExpectError(h.CallArray("map_concat", {m1, m1}), "DUPLICATED_MAP_KEY");
  auto entries = h.CallArray("map_entries", {m2});
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ((*entries)->ToString(),
            (*h.CallArray("map_entries", {A(m, R"([[["b", 2]], [["c", 3]]])")}))->ToString());
  EXPECT_EQ((*entries)->length(), 2);
  EXPECT_EQ(static_cast<const arrow::ListArray&>(**entries).value_length(0), 1);
  auto s2m = h.CallArray("str_to_map", {S(R"(["a:1,b:2,c"])")});
  ExpectArray(s2m, arrow::map(utf8(), utf8()), R"([[["a", "1"], ["b", "2"], ["c", null]]])");
}

TEST(MoreMath, FloorCeilScaleAndBits) {
  Harness h;
  auto d = arrow::decimal128(5, 3);
  ExpectArray(h.CallArray("floor", {A(d, R"(["12.345", "-12.345"])"), L(int32(), "1")}),
              arrow::decimal128(4, 1), R"(["12.3", "-12.4"])");
  ExpectArray(h.CallArray("ceil", {A(d, R"(["12.341"])"), L(int32(), "2")}),
              arrow::decimal128(5, 2), R"(["12.35"])");
  // Spark 4.0.1: floor(125, -1) = 120 as DECIMAL(11,0).
  ExpectArray(h.CallArray("floor", {A(int32(), "[125]"), L(int32(), "-1")}),
              arrow::decimal128(11, 0), R"(["120"])");
  ExpectArray(h.CallArray("bin", {A(int64(), "[10, -1, null]")}), utf8(),
              R"(["1010", "1111111111111111111111111111111111111111111111111111111111111111", null])");
  ExpectArray(h.CallArray("bit_count", {A(int32(), "[7, -1]")}), int32(), "[3, 64]");
  ExpectArray(h.CallArray("width_bucket", {A(arrow::float64(), "[5.3, -1, 11]"), L(arrow::float64(), "0.2"),
                                           L(arrow::float64(), "10.6"), L(int64(), "5")}),
              int64(), "[3, 0, 6]");
  ExpectArray(h.CallArray("nanvl", {A(arrow::float64(), "[NaN, 1.0, null]"), L(arrow::float64(), "0.0")}),
              arrow::float64(), "[0.0, 1.0, null]");
}

TEST(MoreMath, Conv) {
  Harness h;
  ExpectArray(h.CallArray("conv", {A(utf8(), R"(["ff", "-10", "zz", "1x"])"), L(int32(), "16"),
                                   L(int32(), "10")}),
              utf8(), R"(["255", "18446744073709551600", null, "1"])");
  ExpectArray(h.CallArray("conv", {A(utf8(), R"(["-10"])"), L(int32(), "10"), L(int32(), "-16")}),
              utf8(), R"(["-A"])");
  // Spark 4.0.1 under ANSI: overflow is an error.
  ExpectError(h.CallArray("conv", {A(utf8(), R"(["9999999999999999999999"])"), L(int32(), "10"),
                                   L(int32(), "16")}),
              "ARITHMETIC_OVERFLOW");
}

TEST(MoreStrings, Regexes) {
  FamilyHarness h;
  ExpectArray(h.CallArray("regexp_count", {S(R"(["banana", null, "x"])"), LS("an")}), int32(),
              "[2, null, 0]");
  ExpectArray(h.CallArray("regexp_substr", {S(R"(["abc123def", "abc"])"), LS("[0-9]+")}), utf8(),
              R"(["123", null])");
  ExpectArray(h.CallArray("regexp_instr", {S(R"(["abc123", "abc"])"), LS("[0-9]")}), int32(),
              "[4, 0]");
}

TEST(MoreStrings, Editing) {
  FamilyHarness h;
  ExpectArray(h.CallArray("levenshtein", {S(R"(["kitten", "ab"])"), LS("sitting")}), int32(),
              "[3, 7]");
  ExpectArray(h.CallArray("overlay", {S(R"(["abcdef"])"), LS("XY"), LI(3)}), utf8(),
              R"(["abXYef"])");
  ExpectArray(h.CallArray("split_part", {S(R"(["a.b.c", "", "abc"])"), LS("."), LI(-1)}), utf8(),
              R"(["c", "", "abc"])");
  ExpectError(h.CallArray("split_part", {S(R"(["a.b"])"), LS("."), LI(0)}), "INVALID_INDEX_OF_ZERO");
  // Spark 4.0.1: occurrences may overlap ('aaa', 'aa', ±2 -> 'a').
  ExpectArray(h.CallArray("substring_index", {S(R"(["a.b.c", "aaa"])"), LS("."), LI(2)}), utf8(),
              R"(["a.b", "aaa"])");
  ExpectArray(h.CallArray("substring_index", {S(R"(["aaa"])"), LS("aa"), LI(2)}), utf8(), R"(["a"])");
  ExpectArray(h.CallArray("substring_index", {S(R"(["aaa"])"), LS("aa"), LI(-2)}), utf8(), R"(["a"])");
  ExpectArray(h.CallArray("substring_index", {S(R"(["a.b.c"])"), LS("."), LI(-1)}), utf8(), R"(["c"])");
  ExpectArray(h.CallArray("elt", {LI(2), LS("a"), LS("b")}), utf8(), R"(["b"])");
  ExpectError(h.CallArray("elt", {LI(5), LS("a"), LS("b")}), "INVALID_ARRAY_INDEX");
  ExpectArray(h.CallArray("find_in_set", {S(R"(["b", "a,b", "z"])"), LS("a,b,c")}), int32(),
              "[2, 0, 0]");
  ExpectArray(h.CallArray("mask", {S(R"(["AbC-123", null])")}), utf8(), R"(["XxX-nnn", null])");
  ExpectArray(h.CallArray("sentences", {S(R"(["Hi there. Bye."])")}),
              arrow::list(arrow::list(utf8())), R"([[["Hi", "there"], ["Bye"]]])");
}

TEST(MoreStrings, UpperSharpS) {
  FamilyHarness h;
  // Spark 4.0.1 (Java's full case mapping): upper('straße') = 'STRASSE'.
  ExpectArray(h.CallArray("upper", {S(R"(["straße", "abc", null])")}), utf8(),
              R"(["STRASSE", "ABC", null])");
}

TEST(MoreStrings, ToNumber) {
  FamilyHarness h;
  ExpectArray(h.CallArray("try_to_number", {S(R"(["123.45", "abc", "1234.5"])"), LS("999.99")}),
              arrow::decimal128(5, 2), R"(["123.45", null, null])");
  ExpectArray(h.CallArray("to_number", {S(R"(["12,454.8-"])"), LS("99,999.9S")}),
              arrow::decimal128(6, 1), R"(["-12454.8"])");
  ExpectError(h.CallArray("to_number", {S(R"(["abc"])"), LS("999")}), "INVALID_FORMAT");
}

TEST(MoreDatetime, NamesIntervalsZones) {
  FamilyHarness h;
  auto dates = A(arrow::date32(), "[19778]");  // 2024-02-25, a Sunday
  ExpectArray(h.CallArray("dayname", {dates}), utf8(), R"(["Sun"])");
  ExpectArray(h.CallArray("monthname", {dates}), utf8(), R"(["Feb"])");
  auto iv = h.CallArray("make_interval", {LI(1), LI(2), LI(0), LI(3), LI(4), LI(5),
                                          arrow::Datum(std::make_shared<arrow::Decimal128Scalar>(
                                              arrow::Decimal128(6500000), arrow::decimal128(18, 6)))});
  ASSERT_TRUE(iv.ok()) << iv.status();
  auto v = static_cast<const arrow::MonthDayNanoIntervalArray&>(**iv).GetValue(0);
  EXPECT_EQ(v.months, 14);
  EXPECT_EQ(v.days, 3);
  EXPECT_EQ(v.nanoseconds, (4 * 3600 + 5 * 60) * 1000000000LL + 6500000000LL);
  auto ntz = arrow::timestamp(arrow::TimeUnit::MICRO);
  // 2024-07-01 12:00:00 UTC wall clock -> 08:00 in New York.
  ExpectArray(h.CallArray("convert_timezone", {LS("UTC"), LS("America/New_York"),
                                               A(ntz, "[1719835200000000]")}),
              ntz, "[1719820800000000]");
  auto dur = A(arrow::duration(arrow::TimeUnit::MICRO), "[468007500000]");  // 5 10:00:07.5
  ExpectArray(h.CallArray("extract", {LS("DAY"), dur}), int32(), "[5]");
  ExpectArray(h.CallArray("extract", {LS("HOUR"), dur}), arrow::int8(), "[10]");
  ExpectArray(h.CallArray("extract", {LS("SECOND"), dur}), arrow::decimal128(8, 6), R"(["7.500000"])");
  ExpectArray(h.CallArray("extract", {LS("MONTH"), A(arrow::month_interval(), "[27]")}),
              arrow::int8(), "[3]");
  ExpectError(h.CallArray("extract", {LS("MONTH"), dur}), "INVALID_EXTRACT_FIELD");
  ExpectArray(h.CallArray("extract", {LS("YEAROFWEEK"), A(arrow::date32(), "[20087]")}), int32(),
              "[2025]");  // 2024-12-30
}

// Aggregates through the GroupedAggregator interface, also merged and restored.
Result<std::shared_ptr<arrow::Array>> RunAggregate(const std::string& name,
                                                   const std::vector<std::shared_ptr<arrow::Array>>& args,
                                                   bool merged) {
  static FunctionRegistry* reg = [] {
    auto* r = new FunctionRegistry();
    RegisterAggregateFunctions(r);
    return r;
  }();
  SessionConfig config;
  AggregateSite site;
  site.config = &config;
  for (const auto& a : args) {
    site.arg_types.push_back(a->type());
    site.literal_args.push_back(nullptr);
  }
  LS_ASSIGN_OR_RAISE(auto resolved, reg->FindAggregate(name)->resolve(site));
  int64_t n = args[0]->length(), half = merged ? n / 2 : n;
  auto slice = [&](int64_t off, int64_t len) {
    std::vector<arrow::Datum> out;
    for (const auto& a : args) out.emplace_back(a->Slice(off, len));
    return out;
  };
  std::vector<uint32_t> zeros(n, 0);
  auto a = resolved.make();
  LS_RETURN_NOT_OK(a->Resize(1));
  LS_RETURN_NOT_OK(a->Update(slice(0, half), zeros.data(), half));
  if (!merged) return a->Finalize();
  auto b = resolved.make();
  LS_RETURN_NOT_OK(b->Resize(1));
  LS_RETURN_NOT_OK(b->Update(slice(half, n - half), zeros.data(), n - half));
  uint32_t mapping = 0;
  LS_RETURN_NOT_OK(a->Merge(*b, &mapping));
  LS_ASSIGN_OR_RAISE(auto state, a->SaveState());
  auto restored = resolved.make();
  LS_RETURN_NOT_OK(restored->LoadState(*state));
  return restored->Finalize();
}

TEST(MoreAggregates, Statistics) {
  auto x = J(int32(), "[1, 2, 3, 4, null]");
  auto y = J(arrow::float64(), "[10.0, 20.0, 25.0, 50.0, 7.0]");
  // Spark 4.0.1 results, bit for bit.
  for (bool merged : {false, true}) {
    SCOPED_TRACE(merged);
    ExpectArray(RunAggregate("corr", {x, y}, merged), arrow::float64(), "[0.9483040522636019]");
    ExpectArray(RunAggregate("covar_pop", {x, y}, merged), arrow::float64(), "[15.625]");
    ExpectArray(RunAggregate("covar_samp", {x, y}, merged), arrow::float64(), "[20.833333333333332]");
    auto y4 = J(arrow::float64(), "[10.0, 20.0, 25.0, 50.0]");
    ExpectArray(RunAggregate("skewness", {y4}, merged), arrow::float64(), "[0.6919757167317176]");
    ExpectArray(RunAggregate("kurtosis", {y4}, merged), arrow::float64(), "[-0.9360799130479789]");
  }
  // No variance: NULL for skewness; corr divides by zero (an error under ANSI).
  auto same = J(arrow::float64(), "[1.0, 1.0]");
  ExpectArray(RunAggregate("skewness", {same}, false), arrow::float64(), "[null]");
  ExpectError(RunAggregate("corr", {same, same}, false), "DIVIDE_BY_ZERO");
}

TEST(MoreAggregates, Mode) {
  ExpectArray(RunAggregate("mode", {J(int32(), "[1, 2, 2, null]")}, false), int32(), "[2]");
  // Ties: the smaller value (Spark 4.0.1 gives 1 for (3, 1, 3, 1)).
  ExpectArray(RunAggregate("mode", {J(int32(), "[3, 1, 3, 1]")}, true), int32(), "[1]");
  ExpectArray(RunAggregate("mode", {J(utf8(), R"(["b", "a", "b"])")}, true), utf8(), R"(["b"])");
}

}  // namespace
}  // namespace lakestream::expr::testing
