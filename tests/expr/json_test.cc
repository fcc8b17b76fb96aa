// JSON functions. Expected values were checked against Spark 4.0.1 (session
// time zone UTC) where marked.
#include "family_test_util.h"

namespace lakestream::expr::testing {
namespace {

TEST(JsonFunctions, FromJson) {
  FamilyHarness h;
  auto ab = arrow::struct_({arrow::field("a", arrow::int32()), arrow::field("b", arrow::utf8())});
  // Spark 4.0.1: malformed -> a struct of NULLs; wrong type -> NULL field; missing -> NULL.
  ExpectArray(h.CallArray("from_json", {S(R"(["{\"a\": 1, \"b\": \"x\"}", "bad", "{\"a\": \"notint\"}", null, "{\"b\": {\"c\": 1}}"])"),
                                        LS("a INT, b STRING")}),
              ab, R"([{"a": 1, "b": "x"}, {"a": null, "b": null}, {"a": null, "b": null}, null, {"a": null, "b": "{\"c\":1}"}])");
  ExpectArray(h.CallArray("from_json", {S(R"(["[1,2]", "{}"])"), LS("ARRAY<INT>")}), arrow::list(arrow::int32()),
              "[[1, 2], null]");
  ExpectArray(h.CallArray("from_json", {S(R"(["{\"a\": 1.5}"])"), LS("a INT")}),
              arrow::struct_({arrow::field("a", arrow::int32())}), R"([{"a": null}])");
  auto nested = h.CallArray("from_json", {S(R"(["{\"m\": {\"k\": [1.5, null]}, \"t\": \"2024-03-05T14:07:09.5Z\"}"])"),
                                          LS("m MAP<STRING, ARRAY<DOUBLE>>, t TIMESTAMP")});
  ASSERT_TRUE(nested.ok()) << nested.status();
  auto want_type = arrow::struct_({arrow::field("m", arrow::map(arrow::utf8(), arrow::list(arrow::float64()))),
                                   arrow::field("t", types::Timestamp())});
  ExpectArray(nested, want_type, R"([{"m": [["k", [1.5, null]]], "t": 1709647629500000}])");
  ExpectError(h.Resolve("from_json", {S(R"(["{}"])"), S(R"(["a INT"])")}), "INVALID_SCHEMA");
  ExpectError(h.Resolve("from_json", {S(R"(["{}"])"), LS("a INT,,")}), "INVALID_SCHEMA");
}

TEST(JsonFunctions, ToJson) {
  FamilyHarness h;
  // Spark 4.0.1: to_json(named_struct('a', 1, 'b', 'x', 'c', TIMESTAMP'2024-03-05 14:07:09.5',
  //   'd', array(1.5D, NULL), 'e', map('k', DATE'2024-01-01'))).
  auto type = arrow::struct_({arrow::field("a", arrow::int32()), arrow::field("b", arrow::utf8()),
                              arrow::field("c", types::Timestamp()), arrow::field("d", arrow::list(arrow::float64())),
                              arrow::field("e", arrow::map(arrow::utf8(), arrow::date32())),
                              arrow::field("f", arrow::int32())});
  auto v = J(type, R"([{"a": 1, "b": "x", "c": 1709647629500000, "d": [1.5, null], "e": [["k", 19723]], "f": null}, null])");
  ExpectArray(h.CallArray("to_json", {arrow::Datum(v)}), arrow::utf8(),
              R"(["{\"a\":1,\"b\":\"x\",\"c\":\"2024-03-05T14:07:09.500Z\",\"d\":[1.5,null],\"e\":{\"k\":\"2024-01-01\"}}", null])");
  // Spark 4.0.1: doubles as Java prints them, decimals with their scale, escapes.
  auto t2 = arrow::struct_({arrow::field("a", arrow::float64()), arrow::field("b", arrow::float64()),
                            arrow::field("c", arrow::decimal128(5, 2)), arrow::field("e", arrow::utf8())});
  auto v2 = J(t2, R"([{"a": 1.0, "b": 1e10, "c": "1.50", "e": "q\"\n"}])");
  ExpectArray(h.CallArray("to_json", {arrow::Datum(v2)}), arrow::utf8(),
              R"(["{\"a\":1.0,\"b\":1.0E10,\"c\":1.50,\"e\":\"q\\\"\\n\"}"])");
  FamilyHarness la(true, "America/Los_Angeles");
  auto t3 = arrow::struct_({arrow::field("c", types::Timestamp())});
  ExpectArray(la.CallArray("to_json", {arrow::Datum(J(t3, R"([{"c": 0}])"))}), arrow::utf8(),
              R"(["{\"c\":\"1969-12-31T16:00:00.000-08:00\"}"])");
  ExpectError(h.Resolve("to_json", {LS("x")}), "DATATYPE_MISMATCH");
}

TEST(JsonFunctions, GetJsonObject) {
  FamilyHarness h;
  // Spark 4.0.1 results.
  auto docs = S(R"(["{\"a\":{\"b\":[1,{\"c\":\"x\"}]}}", "{\"a\":\"x\"}", "{\"a\":[1,2]}", "{\"a\":null}", "bad", "{\"a\":1.50}", null])");
  ExpectArray(h.CallArray("get_json_object", {docs, LS("$.a")}), arrow::utf8(),
              R"(["{\"b\":[1,{\"c\":\"x\"}]}", "x", "[1,2]", null, null, "1.5", null])");
  ExpectArray(h.CallArray("get_json_object", {docs, LS("$.a.b[1].c")}), arrow::utf8(),
              R"(["x", null, null, null, null, null, null])");
  ExpectArray(h.CallArray("get_json_object", {S(R"(["{\"a\":[{\"b\":1},{\"b\":2}]}"])"), LS("$.a[*].b")}),
              arrow::utf8(), R"(["[1,2]"])");
  ExpectArray(h.CallArray("get_json_object", {S(R"(["{\"a b\":1}"])"), LS("$['a b']")}), arrow::utf8(), R"(["1"])");
  ExpectArray(h.CallArray("get_json_object", {docs, LS("a")}), arrow::utf8(),
              "[null, null, null, null, null, null, null]");
}

TEST(JsonFunctions, SchemaOfJsonAndHelpers) {
  FamilyHarness h;
  auto r = h.Call("schema_of_json", {LS(R"({"a": 1, "b": [1.5], "c": {"d": "x"}, "e": null, "f": true})")});
  ASSERT_TRUE(r.ok()) << r.status();
  // Spark 4.0.1.
  EXPECT_EQ(std::static_pointer_cast<arrow::StringScalar>(r->scalar())->ToString(),
            "STRUCT<a: BIGINT, b: ARRAY<DOUBLE>, c: STRUCT<d: STRING>, e: STRING, f: BOOLEAN>");
  ExpectArray(h.CallArray("json_array_length", {S(R"(["[1,2,[3]]", "bad", "{}", null])")}), arrow::int32(),
              "[3, null, null, null]");
  ExpectArray(h.CallArray("json_object_keys", {S(R"(["{\"a\":1,\"b\":2}", "[1]"])")}), arrow::list(arrow::utf8()),
              R"([["a", "b"], null])");
}

}  // namespace
}  // namespace lakestream::expr::testing
