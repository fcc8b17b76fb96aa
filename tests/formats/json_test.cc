// JSON reading: Spark's inference (sorted fields, BIGINT/DOUBLE, conflicts as
// STRING), conversion, multiLine, and the malformed-record modes.
#include <arrow/api.h>
#include <arrow/json/from_string.h>
#include <gtest/gtest.h>

#include "formats/file_source.h"
#include "formats_test_util.h"
#include "types/types.h"

namespace lakestream::formats {
namespace {

using testing::Column;
using testing::ReadPath;
using testing::ScratchDir;
using testing::Strings;

TEST(Json, InferSortsFieldsAndWidens) {
  ScratchDir dir;
  auto f = dir.Write("a.json",
                     "{\"z\": 1, \"a\": \"x\", \"n\": null, \"f\": 1}\n"
                     "\n"
                     "{\"z\": 2, \"b\": true, \"f\": 2.5, \"s\": {\"y\": 1, \"x\": [1, 2]}}\n"
                     "{\"z\": 3, \"m\": 1, \"s\": {\"x\": [], \"w\": {}}}\n"
                     "{\"m\": \"text\", \"arr\": [{\"k\": 1}, {\"j\": \"v\"}]}\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "json"}}));
  EXPECT_EQ(types::ToDDL(*t->schema()),
            "a STRING, arr ARRAY<STRUCT<j: STRING, k: BIGINT>>, b BOOLEAN, f DOUBLE, m STRING, "
            "n STRING, s STRUCT<x: ARRAY<BIGINT>, y: BIGINT>, z BIGINT");
  EXPECT_EQ(Column(*t, "z"), (Strings{"1", "2", "3", "null"}));
  EXPECT_EQ(Column(*t, "f"), (Strings{"1", "2.5", "null", "null"}));
  // A number read into a STRING column keeps its JSON text, as in Spark.
  EXPECT_EQ(Column(*t, "m"), (Strings{"null", "null", "1", "text"}));
}

TEST(Json, PrimitivesAsString) {
  ScratchDir dir;
  auto f = dir.Write("a.json", "{\"a\": 1, \"b\": true}\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "json"}, {"primitivesAsString", "true"}}));
  EXPECT_EQ(types::ToDDL(*t->schema()), "a STRING, b STRING");
  EXPECT_EQ(Column(*t, "b"), (Strings{"true"}));
}

TEST(Json, UserSchemaTypesAndMissingFields) {
  ScratchDir dir;
  auto f = dir.Write("a.json",
                     "{\"i\": 1, \"d\": \"2024-01-02\", \"t\": \"2024-01-02T03:04:05Z\", "
                     "\"dec\": 1.25, \"m\": {\"k\": 1}, \"l\": [1, null], \"x\": \"ignored\"}\n"
                     "{}\n");
  ASSERT_OK_AND_ASSIGN(
      auto t, ReadPath(f, {{"format", "json"},
                           {"schema",
                            "i INT, d DATE, t TIMESTAMP, dec DECIMAL(5,2), m MAP<STRING, BIGINT>, "
                            "l ARRAY<INT>, missing STRING"}}));
  EXPECT_EQ(Column(*t, "i"), (Strings{"1", "null"}));
  EXPECT_EQ(Column(*t, "d"), (Strings{"2024-01-02", "null"}));
  EXPECT_EQ(Column(*t, "t"), (Strings{"2024-01-02 03:04:05.000000Z", "null"}));
  EXPECT_EQ(Column(*t, "dec"), (Strings{"1.25", "null"}));
  EXPECT_EQ(Column(*t, "l"), (Strings{"list<item: int32>[1, null]", "null"}));
  EXPECT_EQ(Column(*t, "missing"), (Strings{"null", "null"}));
  EXPECT_EQ(t->GetColumnByName("m")->null_count(), 1);
}

TEST(Json, DateAndTimestampFormatsAndEpochSeconds) {
  ScratchDir dir;
  auto f = dir.Write("a.json",
                     "{\"d\": \"02/01/2024\", \"t\": \"02/01/2024 10:11:12\"}\n"
                     "{\"d\": \"x\", \"t\": 86400}\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "json"},
                                            {"schema", "d DATE, t TIMESTAMP"},
                                            {"dateFormat", "dd/MM/yyyy"},
                                            {"timestampFormat", "dd/MM/yyyy HH:mm:ss"}}));
  EXPECT_EQ(Column(*t, "d"), (Strings{"2024-01-02", "null"}));
  EXPECT_EQ(Column(*t, "t"),
            (Strings{"2024-01-02 10:11:12.000000Z", "1970-01-02 00:00:00.000000Z"}));
}

TEST(Json, MultiLineDocumentAndTopLevelArray) {
  ScratchDir dir;
  auto f = dir.Write("a.json", "[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "json"}, {"multiLine", "true"}}));
  EXPECT_EQ(Column(*t, "a"), (Strings{"1", "2"}));
  auto g = dir.Write("b.json", "{\n \"a\": {\"b\": 3}\n}\n");
  ASSERT_OK_AND_ASSIGN(t, ReadPath(g, {{"format", "json"}, {"multiLine", "true"}}));
  EXPECT_EQ(types::ToDDL(*t->schema()), "a STRUCT<b: BIGINT>");
}

constexpr const char* kMalformed =
    "{\"a\": 1, \"b\": \"x\"}\n"
    "{\"a\": \"oops\", \"b\": \"y\"}\n"
    "{\"a\": 3, \"b\n"
    "{\"a\": 4, \"b\": \"z\"}\n";

TEST(Json, PermissiveKeepsPartialResultsAndRawText) {
  ScratchDir dir;
  auto f = dir.Write("m.json", kMalformed);
  ASSERT_OK_AND_ASSIGN(
      auto t,
      ReadPath(f, {{"format", "json"}, {"schema", "a INT, b STRING, _corrupt_record STRING"}}));
  EXPECT_EQ(Column(*t, "a"), (Strings{"1", "null", "null", "4"}));
  EXPECT_EQ(Column(*t, "b"), (Strings{"x", "y", "null", "z"}));
  EXPECT_EQ(Column(*t, "_corrupt_record"),
            (Strings{"null", "{\"a\": \"oops\", \"b\": \"y\"}", "{\"a\": 3, \"b", "null"}));
}

TEST(Json, InferenceAddsCorruptRecordColumn) {
  ScratchDir dir;
  auto f = dir.Write("m.json", "{\"a\": 1}\nnot json\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "json"}}));
  EXPECT_EQ(types::ToDDL(*t->schema()), "_corrupt_record STRING, a BIGINT");
  EXPECT_EQ(Column(*t, "_corrupt_record"), (Strings{"null", "not json"}));
}

TEST(Json, DropMalformed) {
  ScratchDir dir;
  auto f = dir.Write("m.json", kMalformed);
  ASSERT_OK_AND_ASSIGN(
      auto t,
      ReadPath(f, {{"format", "json"}, {"mode", "DROPMALFORMED"}, {"schema", "a INT, b STRING"}}));
  EXPECT_EQ(Column(*t, "a"), (Strings{"1", "4"}));
}

TEST(Json, FailFastNamesFileAndLine) {
  ScratchDir dir;
  auto f = dir.Write("m.json", kMalformed);
  auto r = ReadPath(f, {{"format", "json"}, {"mode", "FAILFAST"}, {"schema", "a INT, b STRING"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "malformed JSON record at " + f +
                                      ":2: cannot read \"oops\" as INT for column 'a' "
                                      "(mode FAILFAST)");
  r = ReadPath(f, {{"format", "json"}, {"mode", "FAILFAST"}, {"schema", "b STRING"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("malformed JSON record at " + f + ":3: "), std::string::npos)
      << r.status().message();
  // Inference fails the same way.
  r = ReadPath(f, {{"format", "json"}, {"mode", "FAILFAST"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(":3: "), std::string::npos);
}

TEST(Json, KeysInAnyOrderRepeatedAndNestedErrorsNamed) {
  // Fields are matched by name whatever the key order (the reader tries the
  // schema's order first); a repeated key counts once, the first; a nested
  // mismatch names the full column path.
  ScratchDir dir;
  auto f = dir.Write("k.json",
                     "{\"b\": \"x\", \"s\": {\"q\": 2, \"p\": 1}, \"a\": 1}\n"
                     "{\"a\": 2, \"a\": 3, \"zz\": 0, \"s\": {\"p\": 5}}\n"
                     "{\"a\": 4, \"s\": {\"p\": 6, \"q\": \"bad\"}}\n");
  const std::string schema = "a INT, b STRING, s STRUCT<p: INT, q: INT>";
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "json"}, {"schema", schema}}));
  EXPECT_EQ(Column(*t, "a"), (Strings{"1", "2", "4"}));
  EXPECT_EQ(Column(*t, "b"), (Strings{"x", "null", "null"}));
  ASSERT_EQ(t->GetColumnByName("s")->num_chunks(), 1);
  auto s = std::static_pointer_cast<arrow::StructArray>(t->GetColumnByName("s")->chunk(0));
  auto p = std::static_pointer_cast<arrow::Int32Array>(s->field(0));
  auto q = std::static_pointer_cast<arrow::Int32Array>(s->field(1));
  EXPECT_EQ(p->Value(0), 1);
  EXPECT_EQ(q->Value(0), 2);
  EXPECT_EQ(p->Value(1), 5);
  EXPECT_TRUE(q->IsNull(1));
  EXPECT_EQ(p->Value(2), 6);
  EXPECT_TRUE(q->IsNull(2));  // "bad" is not an INT: NULL in PERMISSIVE mode
  auto r = ReadPath(f, {{"format", "json"}, {"mode", "FAILFAST"}, {"schema", schema}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(":3: cannot read \"bad\" as INT for column 's.q'"),
            std::string::npos)
      << r.status().message();
}

std::string FromJson(const std::shared_ptr<arrow::DataType>& type, const std::string& json) {
  return arrow::json::ArrayFromJSONString(type, json).ValueOrDie()->ToString();
}

TEST(Json, ValuesMatchKeysWhenTheKeyOrderChanges) {
  // Kafka values: the reader remembers which field each key position went to
  // in the previous record; records that reorder, rename, drop or repeat keys
  // must still land in the right columns.
  arrow::StringBuilder b;
  for (const char* v : {
           R"({"x": 0, "a": 1, "ab": "p", "c": 1.5})",
           R"({"x": 0, "a": 2, "ab": "q", "c": 2.5})",
           R"({"ab": "r", "a": 3, "x": 0, "c": 3.5})",  // reordered
           R"({"x": 0, "ab": 4, "ab": "s", "a": 5})",   // "ab" where "a" was; repeated
           R"({"a": 6})",                               // fewer keys
           R"({"x": 0, "a": 7, "ab": "t", "c": 7.5})",
       }) {
    ASSERT_TRUE(b.Append(v).ok());
  }
  std::shared_ptr<arrow::Array> values;
  ASSERT_TRUE(b.Finish(&values).ok());
  ASSERT_OK_AND_ASSIGN(auto schema, types::ParseDDLSchema("a BIGINT, ab STRING, c DOUBLE"));
  FileReadOptions o;
  ASSERT_OK_AND_ASSIGN(auto parsed, ParseJsonValues(*values, schema, o,
                                                    [](int64_t r) { return std::to_string(r); }));
  ASSERT_EQ(parsed.columns.size(), 3u);
  EXPECT_EQ(parsed.columns[0]->ToString(), FromJson(arrow::int64(), "[1, 2, 3, 5, 6, 7]"));
  // The first "ab" of record 4 is a number: its JSON text, as Spark keeps it.
  EXPECT_EQ(parsed.columns[1]->ToString(),
            FromJson(arrow::utf8(), R"(["p", "q", "r", "4", null, "t"])"));
  EXPECT_EQ(parsed.columns[2]->ToString(),
            FromJson(arrow::float64(), "[1.5, 2.5, 3.5, null, null, 7.5]"));
}

TEST(Json, ProjectionAndFolder) {
  ScratchDir dir;
  dir.Write("d/1.json", "{\"a\": 1, \"b\": 2}\n");
  dir.Write("d/2.json", "{\"a\": 3, \"c\": 4}\n");
  ScanRequest req;
  req.columns = std::vector<std::string>{"c", "a"};
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(dir / "d", {{"format", "json"}}, req));
  EXPECT_EQ(t->schema()->field_names(), (Strings{"c", "a"}));
  EXPECT_EQ(Column(*t, "c"), (Strings{"null", "4"}));
  EXPECT_EQ(Column(*t, "a"), (Strings{"1", "3"}));
}

}  // namespace
}  // namespace lakestream::formats
