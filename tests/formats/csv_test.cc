// CSV reading: Spark's options, inference, and the three malformed-record modes.
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

TEST(Csv, NoHeaderAllStrings) {
  ScratchDir dir;
  auto f = dir.Write("a.csv", "1,x\n2,y\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"}}));
  EXPECT_EQ(types::ToDDL(*t->schema()), "_c0 STRING, _c1 STRING");
  EXPECT_EQ(Column(*t, "_c0"), (Strings{"1", "2"}));
  EXPECT_EQ(Column(*t, "_c1"), (Strings{"x", "y"}));
}

TEST(Csv, HeaderAndInferSchema) {
  ScratchDir dir;
  auto f = dir.Write("a.csv",
                     "i,l,d,b,s,ts,dt,n\n"
                     "1,10000000000,1.5,true,x,2024-01-02 03:04:05,2024-01-02,\n"
                     "2,3,2,FALSE,y,2024-01-02T03:04:05,2024-02-03,\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"}, {"header", "true"},
                                            {"inferSchema", "true"}}));
  EXPECT_EQ(types::ToDDL(*t->schema()),
            "i INT, l BIGINT, d DOUBLE, b BOOLEAN, s STRING, ts TIMESTAMP, dt DATE, n STRING");
  EXPECT_EQ(Column(*t, "l"), (Strings{"10000000000", "3"}));
  EXPECT_EQ(Column(*t, "b"), (Strings{"true", "false"}));
  EXPECT_EQ(Column(*t, "n"), (Strings{"null", "null"}));
  EXPECT_EQ(Column(*t, "ts")[0], "2024-01-02 03:04:05.000000Z");
}

TEST(Csv, InferMergesAcrossRowsAndFiles) {
  ScratchDir dir;
  dir.Write("d/1.csv", "a,b\n1,1\n");
  dir.Write("d/2.csv", "a,b\n2.5,x\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(dir / "d", {{"format", "csv"}, {"header", "true"},
                                                    {"inferSchema", "true"}}));
  EXPECT_EQ(types::ToDDL(*t->schema()), "a DOUBLE, b STRING");
  EXPECT_EQ(Column(*t, "a"), (Strings{"1", "2.5"}));
}

TEST(Csv, DuplicateAndEmptyHeaderNames) {
  ScratchDir dir;
  auto f = dir.Write("a.csv", "a,A,\n1,2,3\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"}, {"header", "true"}}));
  EXPECT_EQ(t->schema()->field_names(), (Strings{"a0", "A1", "_c2"}));
}

TEST(Csv, UserSchemaIsPositional) {
  ScratchDir dir;
  auto f = dir.Write("a.csv", "x,y\n1,2.5\n3,4\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"}, {"header", "true"},
                                            {"schema", "id INT, v DOUBLE"}}));
  EXPECT_EQ(types::ToDDL(*t->schema()), "id INT, v DOUBLE");
  EXPECT_EQ(Column(*t, "id"), (Strings{"1", "3"}));
  EXPECT_EQ(Column(*t, "v"), (Strings{"2.5", "4"}));
}

TEST(Csv, SepQuoteEscapeNullValueComment) {
  ScratchDir dir;
  auto f = dir.Write("a.csv",
                     "# a comment\n"
                     "a;b\n"
                     "'x;1';NA\n"
                     "# another\n"
                     "'it\\'s';z\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"},
                                            {"header", "true"},
                                            {"sep", ";"},
                                            {"quote", "'"},
                                            {"nullValue", "NA"},
                                            {"comment", "#"}}));
  EXPECT_EQ(Column(*t, "a"), (Strings{"x;1", "it's"}));
  EXPECT_EQ(Column(*t, "b"), (Strings{"null", "z"}));
}

TEST(Csv, EscapeOnlyInsideQuotes) {
  ScratchDir dir;
  auto f = dir.Write("a.csv", "C:\\dir\\x,\"q\\\"uote\",\"a\"\"b\"\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"}}));
  EXPECT_EQ(Column(*t, "_c0"), (Strings{"C:\\dir\\x"}));
  EXPECT_EQ(Column(*t, "_c1"), (Strings{"q\"uote"}));
  EXPECT_EQ(Column(*t, "_c2"), (Strings{"a\"b"}));
}

TEST(Csv, NanAndInfinitySpellings) {
  ScratchDir dir;
  auto f = dir.Write("a.csv", "NaN\nInf\n-Inf\nnope\n1.5\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"}, {"schema", "d DOUBLE"}}));
  EXPECT_EQ(Column(*t, "d"), (Strings{"nan", "inf", "-inf", "null", "1.5"}));
  auto g = dir.Write("b.csv", "n/a\nbig\nsmall\n");
  ASSERT_OK_AND_ASSIGN(t, ReadPath(g, {{"format", "csv"},
                                       {"schema", "d DOUBLE"},
                                       {"nanValue", "n/a"},
                                       {"positiveInf", "big"},
                                       {"negativeInf", "small"}}));
  EXPECT_EQ(Column(*t, "d"), (Strings{"nan", "inf", "-inf"}));
}

TEST(Csv, EmptyValueIsNullByDefault) {
  ScratchDir dir;
  auto f = dir.Write("a.csv", "a,b\n,1\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"}, {"header", "true"}}));
  EXPECT_EQ(Column(*t, "a"), (Strings{"null"}));
}

TEST(Csv, MultiLineQuotedValues) {
  ScratchDir dir;
  auto f = dir.Write("a.csv", "a,b\n\"line1\nline2\",2\n");
  ASSERT_OK_AND_ASSIGN(auto t,
                       ReadPath(f, {{"format", "csv"}, {"header", "true"}, {"multiLine", "true"}}));
  EXPECT_EQ(Column(*t, "a"), (Strings{"line1\nline2"}));
  EXPECT_EQ(Column(*t, "b"), (Strings{"2"}));
}

TEST(Csv, LineSepAndTrimming) {
  ScratchDir dir;
  auto f = dir.Write("a.csv", " a , 1 | b ,2|");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"},
                                            {"lineSep", "|"},
                                            {"schema", "s STRING, i INT"},
                                            {"ignoreLeadingWhiteSpace", "true"},
                                            {"ignoreTrailingWhiteSpace", "true"}}));
  EXPECT_EQ(Column(*t, "s"), (Strings{"a", "b"}));
  EXPECT_EQ(Column(*t, "i"), (Strings{"1", "2"}));
}

TEST(Csv, DateAndTimestampFormats) {
  ScratchDir dir;
  auto f = dir.Write("a.csv", "02/01/2024,02/01/2024 10:11:12\nbad,bad\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"},
                                            {"schema", "d DATE, t TIMESTAMP"},
                                            {"dateFormat", "dd/MM/yyyy"},
                                            {"timestampFormat", "dd/MM/yyyy HH:mm:ss"}}));
  EXPECT_EQ(Column(*t, "d"), (Strings{"2024-01-02", "null"}));
  EXPECT_EQ(Column(*t, "t"), (Strings{"2024-01-02 10:11:12.000000Z", "null"}));
}

// Line 2: a type error; line 4: too few fields; line 5: too many.
constexpr const char* kMalformed =
    "a,b\n"
    "1,x\n"
    "abc,y\n"
    "\n"
    "3\n"
    "4,z,extra\n"
    "5,w\n";

TEST(Csv, PermissiveNullsFieldsAndFillsCorruptRecord) {
  ScratchDir dir;
  auto f = dir.Write("m.csv", kMalformed);
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"},
                                            {"header", "true"},
                                            {"schema", "a INT, b STRING, _corrupt_record STRING"}}));
  EXPECT_EQ(Column(*t, "a"), (Strings{"1", "null", "3", "4", "5"}));
  EXPECT_EQ(Column(*t, "b"), (Strings{"x", "y", "null", "z", "w"}));
  EXPECT_EQ(Column(*t, "_corrupt_record"),
            (Strings{"null", "abc,y", "3", "4,z,extra", "null"}));
}

TEST(Csv, PermissiveWithoutCorruptColumn) {
  ScratchDir dir;
  auto f = dir.Write("m.csv", kMalformed);
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"},
                                            {"header", "true"},
                                            {"schema", "a INT, b STRING"}}));
  EXPECT_EQ(Column(*t, "a"), (Strings{"1", "null", "3", "4", "5"}));
}

TEST(Csv, CustomCorruptColumnName) {
  ScratchDir dir;
  auto f = dir.Write("m.csv", "1\nx\n");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"},
                                            {"columnNameOfCorruptRecord", "bad"},
                                            {"schema", "a INT, bad STRING"}}));
  EXPECT_EQ(Column(*t, "bad"), (Strings{"null", "x"}));
}

TEST(Csv, DropMalformed) {
  ScratchDir dir;
  auto f = dir.Write("m.csv", kMalformed);
  ASSERT_OK_AND_ASSIGN(auto options, FileReadOptions::FromMap({{"format", "csv"},
                                                               {"header", "true"},
                                                               {"mode", "DROPMALFORMED"},
                                                               {"schema", "a INT, b STRING"}}));
  ASSERT_OK_AND_ASSIGN(auto schema, ResolveSchema({f}, options));
  ASSERT_OK_AND_ASSIGN(auto scanner, FileScanner::Make({f}, schema, options));
  ASSERT_OK_AND_ASSIGN(auto t, scanner->ReadAll());
  EXPECT_EQ(Column(*t, "a"), (Strings{"1", "5"}));
  EXPECT_EQ(Column(*t, "b"), (Strings{"x", "w"}));
  EXPECT_EQ(scanner->metrics().malformed_rows.load(), 3);
  EXPECT_EQ(scanner->metrics().rows.load(), 2);
}

TEST(Csv, FailFastNamesFileAndLine) {
  ScratchDir dir;
  auto f = dir.Write("m.csv", kMalformed);
  auto r = ReadPath(f, {{"format", "csv"},
                        {"header", "true"},
                        {"mode", "FAILFAST"},
                        {"schema", "a INT, b STRING"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "malformed CSV record at " + f +
                ":3: cannot parse 'abc' as INT for column 'a' (mode FAILFAST)");
  auto g = dir.Write("n.csv", "a,b\n1,2\n\n3\n");
  r = ReadPath(g, {{"format", "csv"}, {"header", "true"}, {"mode", "FAILFAST"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "malformed CSV record at " + g +
                                      ":4: expected 2 fields, found 1 (mode FAILFAST)");
}

TEST(Csv, ProjectionAndCountOnly) {
  ScratchDir dir;
  auto f = dir.Write("a.csv", "a,b,c\n1,2,3\n4,5,6\n");
  ScanRequest req;
  req.columns = std::vector<std::string>{"C", "a"};
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"}, {"header", "true"}}, req));
  EXPECT_EQ(t->schema()->field_names(), (Strings{"c", "a"}));
  EXPECT_EQ(Column(*t, "c"), (Strings{"3", "6"}));
  req.columns = std::vector<std::string>{};
  ASSERT_OK_AND_ASSIGN(t, ReadPath(f, {{"format", "csv"}, {"header", "true"}}, req));
  EXPECT_EQ(t->num_columns(), 0);
  EXPECT_EQ(t->num_rows(), 2);
  req.columns = std::vector<std::string>{"nope"};
  auto r = ReadPath(f, {{"format", "csv"}, {"header", "true"}}, req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("column 'nope' not found"), std::string::npos);
}

TEST(Csv, EmptyFileAndHeaderOnly) {
  ScratchDir dir;
  auto f = dir.Write("e.csv", "");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "csv"}, {"schema", "a INT"}}));
  EXPECT_EQ(t->num_rows(), 0);
  auto g = dir.Write("h.csv", "a,b\n");
  ASSERT_OK_AND_ASSIGN(t, ReadPath(g, {{"format", "csv"}, {"header", "true"}}));
  EXPECT_EQ(t->num_rows(), 0);
  EXPECT_EQ(t->schema()->field_names(), (Strings{"a", "b"}));
}

/// Reads `path` with tasks of `split_bytes`; returns the table and task count.
std::shared_ptr<arrow::Table> ReadSplit(const std::string& path,
                                        std::map<std::string, std::string> option_map,
                                        int64_t split_bytes, size_t* num_tasks,
                                        Status* error = nullptr) {
  auto options = FileReadOptions::FromMap(option_map).ValueOrDie();
  options.split_bytes = split_bytes;
  auto schema = ResolveSchema({path}, options).ValueOrDie();
  auto scanner = FileScanner::Make({path}, schema, options).ValueOrDie();
  *num_tasks = scanner->PlanTasks().ValueOrDie().size();
  auto t = scanner->ReadAll();
  if (error) *error = t.status();
  return t.ok() ? *t : nullptr;
}

TEST(Splits, LargeFilesAreCutAtLineBoundaries) {
  ScratchDir dir;
  std::string csv = "id,name\n";
  std::string json;
  std::string expected_ids;
  for (int i = 0; i < 1000; ++i) {
    csv += std::to_string(i) + ",name" + std::to_string(i) + "\n";
    json += "{\"id\": " + std::to_string(i) + "}\n";
  }
  auto c = dir.Write("big.csv", csv);
  auto j = dir.Write("big.json", json);
  for (int64_t split : {7, 64, 100, 1000, 1 << 20}) {
    size_t tasks = 0;
    auto t = ReadSplit(c, {{"format", "csv"}, {"header", "true"}, {"inferSchema", "true"}}, split,
                       &tasks);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(tasks, static_cast<size_t>((csv.size() + split - 1) / split));
    ASSERT_EQ(t->num_rows(), 1000) << "split " << split;
    auto ids = Column(*t, "id");
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(ids[i], std::to_string(i)) << "split " << split;
    t = ReadSplit(j, {{"format", "json"}}, split, &tasks);
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(t->num_rows(), 1000) << "split " << split;
    EXPECT_EQ(Column(*t, "id")[999], "999");
    t = ReadSplit(j, {{"format", "text"}}, split, &tasks);
    ASSERT_EQ(t->num_rows(), 1000) << "split " << split;
  }
}

TEST(Splits, ErrorsNameTheFileLine) {
  ScratchDir dir;
  std::string csv;
  for (int i = 0; i < 100; ++i) csv += (i == 77 ? "x" : std::to_string(i)) + "\n";
  auto c = dir.Write("a.csv", csv);
  size_t tasks = 0;
  Status st;
  auto t = ReadSplit(c, {{"format", "csv"}, {"mode", "FAILFAST"}, {"schema", "a INT"}}, 50,
                     &tasks, &st);
  EXPECT_GT(tasks, 3u);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(c + ":78: cannot parse 'x'"), std::string::npos) << st.message();
  std::string json;
  for (int i = 0; i < 100; ++i) json += (i == 77 ? "{oops" : "{\"a\": 1}") + std::string("\n");
  auto j = dir.Write("a.json", json);
  t = ReadSplit(j, {{"format", "json"}, {"mode", "FAILFAST"}, {"schema", "a INT"}}, 50, &tasks,
                &st);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(j + ":78: "), std::string::npos) << st.message();
}

TEST(Text, OneRowPerLine) {
  ScratchDir dir;
  auto f = dir.Write("a.txt", "hello\r\nworld\n\nend");
  ASSERT_OK_AND_ASSIGN(auto t, ReadPath(f, {{"format", "text"}}));
  EXPECT_EQ(Column(*t, "value"), (Strings{"hello", "world", "", "end"}));
  ASSERT_OK_AND_ASSIGN(t, ReadPath(f, {{"format", "text"}, {"wholetext", "true"}}));
  EXPECT_EQ(Column(*t, "value"), (Strings{"hello\r\nworld\n\nend"}));
  auto g = dir.Write("b.txt", "a;b;c");
  ASSERT_OK_AND_ASSIGN(t, ReadPath(g, {{"format", "text"}, {"lineSep", ";"}}));
  EXPECT_EQ(Column(*t, "value"), (Strings{"a", "b", "c"}));
}

}  // namespace
}  // namespace lakestream::formats
