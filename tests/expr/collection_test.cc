// Collection functions and ExplodeBatch. Expected values were checked against
// Spark 4.0.1 where marked.
#include "expr/collection_functions.h"
#include "family_test_util.h"

namespace lakestream::expr::testing {
namespace {

auto i32 = arrow::int32;
std::shared_ptr<arrow::DataType> IntList() { return arrow::list(arrow::int32()); }
arrow::Datum Lists(const std::string& json) { return arrow::Datum(J(IntList(), json)); }
arrow::Datum IntMap(const std::string& json) {
  return arrow::Datum(J(arrow::map(arrow::int32(), arrow::utf8()), json));
}

TEST(CollectionFunctions, Constructors) {
  FamilyHarness h;
  ExpectArray(h.CallArray("array", {arrow::Datum(J(i32(), "[1, null]")), LI(7)}), IntList(), "[[1, 7], [null, 7]]");
  ExpectArray(h.CallArray("map", {LI(1), S(R"(["a", "b"])")}), arrow::map(i32(), arrow::utf8()),
              R"([[[1, "a"]], [[1, "b"]]])");
  ExpectError(h.CallArray("map", {LI(1), LS("a"), LI(1), LS("b")}), "[DUPLICATED_MAP_KEY]");
  ExpectError(h.CallArray("map", {arrow::Datum(std::make_shared<arrow::Int32Scalar>()), LS("a")}),
              "[NULL_MAP_KEY]");
  auto st = h.CallArray("named_struct", {LS("a"), arrow::Datum(J(i32(), "[1, 2]")), LS("b"), LS("x")});
  ExpectArray(st, arrow::struct_({arrow::field("a", i32()), arrow::field("b", arrow::utf8())}),
              R"([{"a": 1, "b": "x"}, {"a": 2, "b": "x"}])");
  ExpectArray(h.CallArray("struct", {arrow::Datum(J(i32(), "[1]"))}), arrow::struct_({arrow::field("col1", i32())}),
              R"([{"col1": 1}])");
}

TEST(CollectionFunctions, ElementAccess) {
  FamilyHarness h;
  auto a = Lists("[[1, 2, 3], null]");
  ExpectArray(h.CallArray("element_at", {a, LI(-1)}), i32(), "[3, null]");
  // Spark 4.0.1 messages.
  ExpectError(h.CallArray("element_at", {Lists("[[1]]"), LI(5)}),
              "[INVALID_ARRAY_INDEX_IN_ELEMENT_AT] The index 5 is out of bounds. The array has 1 elements.");
  ExpectError(h.CallArray("element_at", {Lists("[[1]]"), LI(0)}), "[INVALID_INDEX_OF_ZERO]");
  ExpectError(h.CallArray("subscript", {Lists("[[1]]"), LI(5)}),
              "[INVALID_ARRAY_INDEX] The index 5 is out of bounds. The array has 1 elements.");
  ExpectArray(h.CallArray("try_element_at", {Lists("[[1]]"), LI(5)}), i32(), "[null]");
  ExpectArray(h.CallArray("subscript", {Lists("[[1, 2]]"), LI(0)}), i32(), "[1]");
  ExpectArray(h.CallArray("get", {Lists("[[1, 2]]"), LI(2)}), i32(), "[null]");
  FamilyHarness legacy(false);
  ExpectArray(legacy.CallArray("element_at", {Lists("[[1]]"), LI(5)}), i32(), "[null]");
  // Maps by key; a missing key is NULL (Spark 4.0.1, ANSI on).
  auto m = IntMap(R"([[[1, "a"], [2, "b"]], null])");
  ExpectArray(h.CallArray("element_at", {m, LI(2)}), arrow::utf8(), R"(["b", null])");
  ExpectArray(h.CallArray("element_at", {m, LI(3)}), arrow::utf8(), "[null, null]");
  ExpectArray(h.CallArray("subscript", {m, LI(1)}), arrow::utf8(), R"(["a", null])");
  // get_field: case-insensitive by default, parent NULL -> NULL.
  auto st = arrow::Datum(J(arrow::struct_({arrow::field("Ab", i32())}), R"([{"Ab": 1}, null])"));
  ExpectArray(h.CallArray("get_field", {st, LS("ab")}), i32(), "[1, null]");
  ExpectError(h.CallArray("get_field", {st, LS("zz")}), "[FIELD_NOT_FOUND]");
}

TEST(CollectionFunctions, SizeContainsPosition) {
  FamilyHarness h;
  auto a = Lists("[[1, null, 3], null, []]");
  // Spark 4.0.1: size(NULL) is NULL under ANSI, -1 in legacy mode.
  ExpectArray(h.CallArray("size", {a}), i32(), "[3, null, 0]");
  FamilyHarness legacy(false);
  ExpectArray(legacy.CallArray("cardinality", {a}), i32(), "[3, -1, 0]");
  ExpectArray(h.CallArray("size", {IntMap(R"([[[1, "a"]]])")}), i32(), "[1]");
  // Spark 4.0.1: array_contains(array(1, NULL), 2) is NULL.
  ExpectArray(h.CallArray("array_contains", {a, LI(3)}), arrow::boolean(), "[true, null, false]");
  ExpectArray(h.CallArray("array_contains", {a, LI(2)}), arrow::boolean(), "[null, null, false]");
  ExpectArray(h.CallArray("array_position", {Lists("[[3, 2, 1]]"), LI(1)}), arrow::int64(), "[3]");
  ExpectArray(h.CallArray("array_position", {Lists("[[3]]"), LI(1)}), arrow::int64(), "[0]");
  ExpectArray(h.CallArray("array_max", {a}), i32(), "[3, null, null]");
  ExpectArray(h.CallArray("array_min", {arrow::Datum(J(arrow::list(arrow::utf8()), R"([["b", "a", null]])"))}),
              arrow::utf8(), R"(["a"])");
  ExpectArray(h.CallArray("array_distinct", {Lists("[[1, 2, 1, null, null, 2]]")}), IntList(), "[[1, 2, null]]");
}

TEST(CollectionFunctions, SortJoinFlattenSlice) {
  FamilyHarness h;
  // Spark 4.0.1: sort_array asc puts NULLs first, desc last; array_sort puts them last.
  auto a = Lists("[[3, null, 1], null, [], [2, 1]]");
  ExpectArray(h.CallArray("sort_array", {a}), IntList(), "[[null, 1, 3], null, [], [1, 2]]");
  ExpectArray(h.CallArray("sort_array", {a, arrow::Datum(std::make_shared<arrow::BooleanScalar>(false))}),
              IntList(), "[[3, 1, null], null, [], [2, 1]]");
  ExpectArray(h.CallArray("array_sort", {a}), IntList(), "[[1, 3, null], null, [], [1, 2]]");
  auto sliced = arrow::Datum(J(IntList(), "[[9], [3, 1], [5, 4]]")->Slice(1, 2));
  ExpectArray(h.CallArray("array_sort", {sliced}), IntList(), "[[1, 3], [4, 5]]");
  auto s = arrow::Datum(J(arrow::list(arrow::utf8()), R"([["a", null, "b"]])"));
  ExpectArray(h.CallArray("array_join", {s, LS(",")}), arrow::utf8(), R"(["a,b"])");
  ExpectArray(h.CallArray("array_join", {s, LS(","), LS("x")}), arrow::utf8(), R"(["a,x,b"])");
  auto nested = arrow::Datum(J(arrow::list(IntList()), "[[[1], [2, 3]], [[1], null]]"));
  ExpectArray(h.CallArray("flatten", {nested}), IntList(), "[[1, 2, 3], null]");
  ExpectArray(h.CallArray("slice", {Lists("[[1, 2, 3, 4]]"), LI(-2), LI(5)}), IntList(), "[[3, 4]]");
  ExpectArray(h.CallArray("slice", {Lists("[[1, 2, 3, 4]]"), LI(2), LI(2)}), IntList(), "[[2, 3]]");
  ExpectError(h.CallArray("slice", {Lists("[[1]]"), LI(0), LI(1)}), "[INVALID_PARAMETER_VALUE.START]");
  ExpectError(h.CallArray("slice", {Lists("[[1]]"), LI(1), LI(-1)}), "[INVALID_PARAMETER_VALUE.LENGTH]");
}

TEST(CollectionFunctions, SequenceZipMaps) {
  FamilyHarness h;
  ExpectArray(h.CallArray("sequence", {LI(5), LI(1)}), IntList(), "[[5, 4, 3, 2, 1]]");
  ExpectArray(h.CallArray("sequence", {LI(1), LI(10), LI(4)}), IntList(), "[[1, 5, 9]]");
  ExpectError(h.CallArray("sequence", {LI(1), LI(5), LI(-1)}), "INVALID_SEQUENCE_BOUNDARIES");
  auto zipped = h.CallArray("arrays_zip", {Lists("[[1, 2]]"), arrow::Datum(J(arrow::list(arrow::utf8()), R"([["a"]])"))});
  ExpectArray(zipped, arrow::list(arrow::struct_({arrow::field("0", i32()), arrow::field("1", arrow::utf8())})),
              R"([[{"0": 1, "1": "a"}, {"0": 2, "1": null}]])");
  auto m = IntMap(R"([[[1, "a"], [2, "b"]], null])");
  ExpectArray(h.CallArray("map_keys", {m}), IntList(), "[[1, 2], null]");
  ExpectArray(h.CallArray("map_values", {m}), arrow::list(arrow::utf8()), R"([["a", "b"], null])");
  ExpectArray(h.CallArray("map_contains_key", {m, LI(2)}), arrow::boolean(), "[true, null]");
  ExpectArray(h.CallArray("map_from_arrays", {Lists("[[1, 2]]"), arrow::Datum(J(arrow::list(arrow::utf8()), R"([["a", "b"]])"))}),
              arrow::map(i32(), arrow::utf8()), R"([[[1, "a"], [2, "b"]]])");
  ExpectError(h.CallArray("map_from_arrays", {Lists("[[1, 1]]"), arrow::Datum(J(arrow::list(arrow::utf8()), R"([["a", "b"]])"))}),
              "[DUPLICATED_MAP_KEY]");
}

TEST(ExplodeBatch, ListsWithAndWithoutOuter) {
  auto schema = arrow::schema({arrow::field("id", arrow::int32()), arrow::field("xs", IntList())});
  auto batch = arrow::RecordBatch::Make(schema, 3, {J(i32(), "[1, 2, 3]"), J(IntList(), "[[10, 20], null, []]")});
  auto out = ExplodeBatch(batch, 1, false, true);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ((*out)->num_rows(), 2);
  EXPECT_EQ((*out)->schema()->field(1)->name(), "pos");
  EXPECT_EQ((*out)->schema()->field(2)->name(), "col");
  EXPECT_TRUE((*out)->column(0)->Equals(*J(i32(), "[1, 1]")));
  EXPECT_TRUE((*out)->column(1)->Equals(*J(i32(), "[0, 1]")));
  EXPECT_TRUE((*out)->column(2)->Equals(*J(i32(), "[10, 20]")));
  auto outer = ExplodeBatch(batch, 1, true, false);
  ASSERT_TRUE(outer.ok()) << outer.status();
  EXPECT_TRUE((*outer)->column(0)->Equals(*J(i32(), "[1, 1, 2, 3]")));
  EXPECT_TRUE((*outer)->column(1)->Equals(*J(i32(), "[10, 20, null, null]")));
}

TEST(ExplodeBatch, Maps) {
  auto mt = arrow::map(arrow::utf8(), i32());
  auto schema = arrow::schema({arrow::field("m", mt), arrow::field("id", i32())});
  auto batch = arrow::RecordBatch::Make(schema, 2, {J(mt, R"([[["a", 1], ["b", 2]], [["c", 3]]])"), J(i32(), "[7, 8]")});
  auto out = ExplodeBatch(batch, 0, false, false);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)->schema()->ToString(), arrow::schema({arrow::field("id", i32()), arrow::field("key", arrow::utf8(), false),
                                                         arrow::field("value", i32())})->ToString());
  EXPECT_TRUE((*out)->column(0)->Equals(*J(i32(), "[7, 7, 8]")));
  EXPECT_TRUE((*out)->column(1)->Equals(*J(arrow::utf8(), R"(["a", "b", "c"])")));
  EXPECT_TRUE((*out)->column(2)->Equals(*J(i32(), "[1, 2, 3]")));
  ExpectError(ExplodeBatch(batch, 1, false, false), "explode expects an ARRAY or MAP");
}

}  // namespace
}  // namespace lakestream::expr::testing
