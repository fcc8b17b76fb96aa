// Delta schema JSON <-> Arrow: the protocol's examples, field metadata
// (column mapping, comments, non-string values), and every schemaString of
// the golden Delta tables in testdata.
#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "types/types.h"

namespace lakestream::types {
namespace {

TEST(DeltaSchema, ReadsPrimitivesAndNestedTypes) {
  const char* json = R"j({"type":"struct","fields":[
    {"name":"a","type":"integer","nullable":true,"metadata":{}},
    {"name":"b","type":"long","nullable":false,"metadata":{}},
    {"name":"c","type":"decimal(10,2)","nullable":true,"metadata":{}},
    {"name":"d","type":"timestamp","nullable":true,"metadata":{}},
    {"name":"e","type":"timestamp_ntz","nullable":true,"metadata":{}},
    {"name":"f","type":{"type":"array","elementType":"string","containsNull":false},"nullable":true,"metadata":{}},
    {"name":"g","type":{"type":"map","keyType":"string","valueType":{"type":"struct","fields":[
        {"name":"x","type":"double","nullable":true,"metadata":{}}]},"valueContainsNull":true},
     "nullable":true,"metadata":{}},
    {"name":"h","type":"byte","nullable":true,"metadata":{}},
    {"name":"i","type":"short","nullable":true,"metadata":{}},
    {"name":"j","type":"float","nullable":true,"metadata":{}},
    {"name":"k","type":"boolean","nullable":true,"metadata":{}},
    {"name":"l","type":"binary","nullable":true,"metadata":{}},
    {"name":"m","type":"date","nullable":true,"metadata":{}}]})j";
  auto s = SchemaFromDeltaJson(json);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(ToDDL(**s),
            "a INT, b BIGINT NOT NULL, c DECIMAL(10,2), d TIMESTAMP, e TIMESTAMP_NTZ, "
            "f ARRAY<STRING>, g MAP<STRING, STRUCT<x: DOUBLE>>, h TINYINT, i SMALLINT, "
            "j FLOAT, k BOOLEAN, l BINARY, m DATE");
  EXPECT_FALSE((*s)->GetFieldByName("f")->type()->field(0)->nullable());
  EXPECT_TRUE((*s)->GetFieldByName("d")->type()->Equals(Timestamp()));
  // Writing it back gives the canonical compact form.
  std::string compact;
  for (char c : std::string(json)) {
    if (c != '\n' && c != ' ') compact += c;
  }
  EXPECT_EQ(SchemaToDeltaJson(**s), compact);
}

TEST(DeltaSchema, FieldMetadataRoundTripsWithJsonTypes) {
  const char* json =
      R"({"type":"struct","fields":[{"name":"a b","type":"integer","nullable":true,"metadata":{)"
      R"("delta.columnMapping.id":1,"delta.columnMapping.physicalName":"col-57160bcb",)"
      R"("comment":"quote \" backslash \\ newline \n tab \t ctl \u0001 é",)"
      R"("delta.identity.start":5,"delta.identity.allowExplicitInsert":false,)"
      R"("delta.columnMapping.nested.ids":{"a.element":7,"b":[1,2]},"custom.flag":true,)"
      R"("delta.invariants":"{\"expression\":{\"expression\":\"x > 3\"}}","num.as.string":"12"}}]})";
  auto s = SchemaFromDeltaJson(json);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto md = (*s)->field(0)->metadata();
  ASSERT_NE(md, nullptr);
  EXPECT_EQ(md->Get("delta.columnMapping.id").ValueOrDie(), "1");
  EXPECT_EQ(md->Get("delta.columnMapping.physicalName").ValueOrDie(), "col-57160bcb");
  EXPECT_EQ(md->Get("comment").ValueOrDie(), "quote \" backslash \\ newline \n tab \t ctl \x01 é");
  EXPECT_EQ(md->Get("delta.columnMapping.nested.ids").ValueOrDie(), R"({"a.element":7,"b":[1,2]})");
  EXPECT_EQ(md->Get("num.as.string").ValueOrDie(), "12");
  EXPECT_EQ(SchemaToDeltaJson(**s), json);
}

TEST(DeltaSchema, NewColumnMappingIdsAreWrittenAsNumbers) {
  auto f = arrow::field("x", arrow::utf8(), true,
                        arrow::key_value_metadata({"delta.columnMapping.id", "parquet.field.id",
                                                   "delta.columnMapping.physicalName", "other"},
                                                  {"3", "4", "col-1", "5"}));
  EXPECT_EQ(SchemaToDeltaJson(*arrow::schema({f})),
            R"({"type":"struct","fields":[{"name":"x","type":"string","nullable":true,"metadata":{)"
            R"("delta.columnMapping.id":3,"parquet.field.id":4,)"
            R"("delta.columnMapping.physicalName":"col-1","other":"5"}}]})");
}

TEST(DeltaSchema, ForeignArrowTypesAreWrittenAsSparkTypes) {
  auto schema = arrow::schema({arrow::field("u", arrow::uint32()),
                               arrow::field("s", arrow::large_utf8()),
                               arrow::field("t", arrow::timestamp(arrow::TimeUnit::NANO)),
                               arrow::field("l", arrow::large_list(arrow::int8()))});
  EXPECT_EQ(SchemaToDeltaJson(*schema),
            R"({"type":"struct","fields":[)"
            R"({"name":"u","type":"long","nullable":true,"metadata":{}},)"
            R"({"name":"s","type":"string","nullable":true,"metadata":{}},)"
            R"({"name":"t","type":"timestamp_ntz","nullable":true,"metadata":{}},)"
            R"({"name":"l","type":{"type":"array","elementType":"byte","containsNull":true},"nullable":true,"metadata":{}}]})");
}

TEST(DeltaSchema, Errors) {
  auto r = SchemaFromDeltaJson("{");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("invalid Delta schema JSON"), std::string::npos);
  r = SchemaFromDeltaJson(R"({"type":"array"})");
  ASSERT_FALSE(r.ok());
  r = SchemaFromDeltaJson(
      R"({"type":"struct","fields":[{"name":"s","type":{"type":"struct","fields":[)"
      R"({"name":"x","type":"varint","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at field 's.x': unknown type \"varint\""), std::string::npos)
      << r.status().message();
  r = SchemaFromDeltaJson(
      R"j({"type":"struct","fields":[{"name":"x","type":"decimal(40,2)","nullable":true,"metadata":{}}]})j");
  ASSERT_FALSE(r.ok());
  r = SchemaFromDeltaJson(
      R"({"type":"struct","fields":[{"name":"x","type":"int","nullable":"yes","metadata":{}}]})");
  ASSERT_FALSE(r.ok());
}

// Pulls the (JSON-escaped) schemaString values out of a Delta log file.
std::vector<std::string> SchemaStrings(const std::filesystem::path& file) {
  std::vector<std::string> out;
  std::ifstream in(file);
  std::string line;
  const std::string key = "\"schemaString\":\"";
  while (std::getline(in, line)) {
    size_t p = line.find(key);
    if (p == std::string::npos) continue;
    std::string s;
    for (size_t i = p + key.size(); i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        char e = line[++i];
        s += e == 'n' ? '\n' : e;  // \" and \\ are all Delta writes here
      } else {
        s += line[i];
      }
    }
    out.push_back(s);
  }
  return out;
}

TEST(DeltaSchema, GoldenTableSchemasRoundTripExactly) {
  std::filesystem::path root = std::filesystem::path(LAKESTREAM_TESTDATA_DIR) / "delta" / "golden";
  if (!std::filesystem::exists(root)) GTEST_SKIP() << "no golden tables at " << root;
  std::set<std::string> seen;
  int column_mapped = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".json" ||
        entry.path().parent_path().filename() != "_delta_log") {
      continue;
    }
    for (const std::string& schema_string : SchemaStrings(entry.path())) {
      if (!seen.insert(schema_string).second) continue;
      auto s = SchemaFromDeltaJson(schema_string);
      ASSERT_TRUE(s.ok()) << entry.path() << ": " << s.status().ToString();
      EXPECT_EQ(SchemaToDeltaJson(**s), schema_string) << entry.path();
      if (schema_string.find("delta.columnMapping.id") != std::string::npos) ++column_mapped;
      // Through DDL and back keeps the types.
      auto via_ddl = ParseDDLSchema(ToDDL(**s));
      ASSERT_TRUE(via_ddl.ok()) << ToDDL(**s) << ": " << via_ddl.status().ToString();
      EXPECT_TRUE((*via_ddl)->Equals(**s, /*check_metadata=*/false)) << ToDDL(**s);
    }
  }
  EXPECT_GE(seen.size(), 20u);
  EXPECT_GE(column_mapped, 3);
}

}  // namespace
}  // namespace lakestream::types
