// DDL type and schema strings: parsing Spark's grammar and aliases, printing
// Spark's spelling, round trips, and errors that name the position.
#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>
#include <gtest/gtest.h>

#include "types/types.h"

namespace lakestream::types {
namespace {

struct TypeCase {
  const char* ddl;
  const char* to_ddl;
  const char* simple;
};

class DDLTypeTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(DDLTypeTest, ParsesPrintsAndRoundTrips) {
  const TypeCase& c = GetParam();
  auto parsed = ParseDDLType(c.ddl);
  ASSERT_TRUE(parsed.ok()) << c.ddl << ": " << parsed.status().ToString();
  EXPECT_EQ(ToDDL(**parsed), c.to_ddl) << c.ddl;
  EXPECT_EQ(SimpleString(**parsed), c.simple) << c.ddl;
  EXPECT_TRUE(IsSparkType(**parsed)) << c.ddl;
  // Both spellings parse back to the same type.
  auto again = ParseDDLType(ToDDL(**parsed));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE((*again)->Equals(**parsed)) << (*again)->ToString() << " vs " << (*parsed)->ToString();
  auto from_simple = ParseDDLType(SimpleString(**parsed));
  std::string printed = c.to_ddl;
  if (printed.find('`') == std::string::npos && printed.find("NOT NULL") == std::string::npos &&
      printed.find("COMMENT") == std::string::npos) {
    ASSERT_TRUE(from_simple.ok()) << c.simple << ": " << from_simple.status().ToString();
    EXPECT_TRUE((*from_simple)->Equals(**parsed, /*check_metadata=*/false)) << c.simple;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Types, DDLTypeTest,
    ::testing::Values(
        TypeCase{"boolean", "BOOLEAN", "boolean"}, TypeCase{"BOOLEAN", "BOOLEAN", "boolean"},
        TypeCase{"tinyint", "TINYINT", "tinyint"}, TypeCase{"byte", "TINYINT", "tinyint"},
        TypeCase{"smallint", "SMALLINT", "smallint"}, TypeCase{"Short", "SMALLINT", "smallint"},
        TypeCase{"int", "INT", "int"}, TypeCase{"INTEGER", "INT", "int"},
        TypeCase{"bigint", "BIGINT", "bigint"}, TypeCase{"long", "BIGINT", "bigint"},
        TypeCase{"float", "FLOAT", "float"}, TypeCase{"real", "FLOAT", "float"},
        TypeCase{"double", "DOUBLE", "double"}, TypeCase{"string", "STRING", "string"},
        TypeCase{"varchar(10)", "STRING", "string"}, TypeCase{"CHAR(3)", "STRING", "string"},
        TypeCase{"binary", "BINARY", "binary"},
        TypeCase{"string collate utf8_binary", "STRING", "string"},
        TypeCase{"date", "DATE", "date"}, TypeCase{"timestamp", "TIMESTAMP", "timestamp"},
        TypeCase{"timestamp_ltz", "TIMESTAMP", "timestamp"},
        TypeCase{"TIMESTAMP_NTZ", "TIMESTAMP_NTZ", "timestamp_ntz"},
        TypeCase{"void", "VOID", "void"}, TypeCase{"decimal", "DECIMAL(10,0)", "decimal(10,0)"},
        TypeCase{"dec(5)", "DECIMAL(5,0)", "decimal(5,0)"},
        TypeCase{"numeric(38, 2)", "DECIMAL(38,2)", "decimal(38,2)"},
        TypeCase{"DECIMAL(10,2)", "DECIMAL(10,2)", "decimal(10,2)"},
        TypeCase{"decimal(1,1)", "DECIMAL(1,1)", "decimal(1,1)"},
        TypeCase{"interval day to second", "INTERVAL DAY TO SECOND", "interval day to second"},
        // Day-time intervals keep Spark's start and end fields.
        TypeCase{"INTERVAL HOUR TO MINUTE", "INTERVAL HOUR TO MINUTE", "interval hour to minute"},
        TypeCase{"interval day", "INTERVAL DAY", "interval day"},
        TypeCase{"interval second", "INTERVAL SECOND", "interval second"},
        TypeCase{"interval year to month", "INTERVAL YEAR TO MONTH", "interval year to month"},
        TypeCase{"interval year", "INTERVAL YEAR TO MONTH", "interval year to month"},
        TypeCase{"interval month", "INTERVAL YEAR TO MONTH", "interval year to month"},
        TypeCase{"interval", "INTERVAL", "interval"},
        TypeCase{"array<int>", "ARRAY<INT>", "array<int>"},
        TypeCase{"ARRAY < STRING >", "ARRAY<STRING>", "array<string>"},
        TypeCase{"array<array<long>>", "ARRAY<ARRAY<BIGINT>>", "array<array<bigint>>"},
        TypeCase{"map<string,int>", "MAP<STRING, INT>", "map<string,int>"},
        TypeCase{"MAP<STRING, ARRAY<DECIMAL(10,2)>>", "MAP<STRING, ARRAY<DECIMAL(10,2)>>",
                 "map<string,array<decimal(10,2)>>"},
        TypeCase{"map<int,map<int,int>>", "MAP<INT, MAP<INT, INT>>", "map<int,map<int,int>>"},
        TypeCase{"struct<a:int,b:string>", "STRUCT<a: INT, b: STRING>", "struct<a:int,b:string>"},
        TypeCase{"STRUCT<a: INT, b STRING>", "STRUCT<a: INT, b: STRING>", "struct<a:int,b:string>"},
        TypeCase{"struct<>", "STRUCT<>", "struct<>"},
        TypeCase{"struct<`a b`: int>", "STRUCT<`a b`: INT>", "struct<a b:int>"},
        TypeCase{"struct<`a``b`: int>", "STRUCT<`a``b`: INT>", "struct<a`b:int>"},
        TypeCase{"struct<`1`: int, _x1: int>", "STRUCT<`1`: INT, _x1: INT>",
                 "struct<1:int,_x1:int>"},
        TypeCase{"struct<array: int, map: string>", "STRUCT<array: INT, map: STRING>",
                 "struct<array:int,map:string>"},
        TypeCase{"struct<a: int not null>", "STRUCT<a: INT NOT NULL>", "struct<a:int>"},
        TypeCase{"struct<a: int comment 'it' 's'>", "STRUCT<a: INT COMMENT 'its'>",
                 "struct<a:int>"},
        TypeCase{"struct<a: int COMMENT 'x\\'y'>", "STRUCT<a: INT COMMENT 'x\\'y'>",
                 "struct<a:int>"},
        TypeCase{"array<struct<x: map<string, array<struct<y: int>>>>>",
                 "ARRAY<STRUCT<x: MAP<STRING, ARRAY<STRUCT<y: INT>>>>>",
                 "array<struct<x:map<string,array<struct<y:int>>>>>"}));

TEST(DDLType, StructFieldsKeepNullabilityAndComment) {
  auto t = ParseDDLType("struct<a: int not null comment 'the a', b: string>");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ((*t)->num_fields(), 2);
  const auto& a = *(*t)->field(0);
  EXPECT_FALSE(a.nullable());
  ASSERT_NE(a.metadata(), nullptr);
  EXPECT_EQ(a.metadata()->Get("comment").ValueOrDie(), "the a");
  EXPECT_TRUE((*t)->field(1)->nullable());
}

TEST(DDLType, ArrowTypesMatchTheTable) {
  EXPECT_TRUE(ParseDDLType("timestamp").ValueOrDie()->Equals(
      arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")));
  EXPECT_TRUE(ParseDDLType("timestamp_ntz").ValueOrDie()->Equals(
      arrow::timestamp(arrow::TimeUnit::MICRO)));
  EXPECT_TRUE(ParseDDLType("decimal(12,3)").ValueOrDie()->Equals(arrow::decimal128(12, 3)));
  EXPECT_TRUE(ParseDDLType("interval day to second").ValueOrDie()->Equals(
      arrow::duration(arrow::TimeUnit::MICRO)));
  EXPECT_TRUE(ParseDDLType("interval year to month").ValueOrDie()->Equals(arrow::month_interval()));
  EXPECT_TRUE(ParseDDLType("map<string,int>").ValueOrDie()->Equals(
      arrow::map(arrow::utf8(), arrow::int32())));
  EXPECT_TRUE(ParseDDLType("array<date>").ValueOrDie()->Equals(arrow::list(arrow::date32())));
}

struct ErrorCase {
  const char* ddl;
  const char* message;  // substring of the error
};

class DDLTypeErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(DDLTypeErrorTest, NamesPositionAndExpectation) {
  auto r = ParseDDLType(GetParam().ddl);
  ASSERT_FALSE(r.ok()) << GetParam().ddl << " parsed as " << (*r)->ToString();
  EXPECT_TRUE(r.status().IsInvalid());
  EXPECT_NE(r.status().message().find(GetParam().message), std::string::npos)
      << r.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, DDLTypeErrorTest,
    ::testing::Values(
        ErrorCase{"array<", "invalid DDL at position 6: expected a type name but found end of input"},
        ErrorCase{"struct<<", "invalid DDL at position 7: expected a field name but found '<'"},
        ErrorCase{"array<int", "position 9: expected '>' but found end of input"},
        ErrorCase{"map<int>", "position 7: expected ',' but found '>'"},
        ErrorCase{"decimal(39,0)", "position 8: decimal precision 39 is out of range"},
        ErrorCase{"decimal(0)", "decimal precision 0 is out of range"},
        ErrorCase{"decimal(5,6)", "scale 6 cannot be greater than precision 5"},
        ErrorCase{"decimal(x)", "position 8: expected a decimal precision but found 'x'"},
        ErrorCase{"varchar", "expected '(' but found end of input"},
        ErrorCase{"foo", "position 0: unknown type name 'foo'"},
        ErrorCase{"int int", "position 4: expected end of input but found 'int'"},
        ErrorCase{"struct<a int", "position 12: expected ',' or '>' but found end of input"},
        ErrorCase{"struct<`a: int>", "unterminated quoted name"},
        ErrorCase{"int;", "position 3: unexpected character ';'"},
        ErrorCase{"struct<\xC3\xA9: int>", "position 7: unexpected non-ASCII byte 0xC3"},
        ErrorCase{"interval year to second", "invalid interval"},
        ErrorCase{"interval second to day", "invalid interval"},
        ErrorCase{"struct<a: int not>", "expected NULL after NOT but found '>'"},
        ErrorCase{"struct<a: int comment>", "expected a quoted comment string but found '>'"},
        ErrorCase{"", "expected a type name but found end of input"}));

TEST(DDLType, UnsupportedTypesSaySo) {
  auto r = ParseDDLType("variant");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotImplemented());
}

TEST(DDLType, CollatedStringsKeepTheirCollation) {
  auto r = ParseDDLType("string collate unicode_ci");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(CollationOf(**r), Collation::kUnicodeCi);
  EXPECT_TRUE(IsExplicitCollation(**r));
  // Still utf8 for Arrow: kernels, builders and schema checks see a string.
  EXPECT_TRUE((*r)->Equals(*arrow::utf8()));
  EXPECT_EQ(ToDDL(**r), "STRING COLLATE UNICODE_CI");
  EXPECT_EQ(SimpleString(**r), "string collate UNICODE_CI");
  EXPECT_FALSE(IsExplicitCollation(*WithoutExplicitCollation(*r)));
  EXPECT_EQ(CollationOf(*WithoutExplicitCollation(*r)), Collation::kUnicodeCi);
  auto s = ParseDDLSchema("a STRING COLLATE Utf8_Lcase, b STRING");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(ToDDL(**s), "a STRING COLLATE UTF8_LCASE, b STRING");
  EXPECT_EQ(CollationOf(*arrow::utf8()), Collation::kUtf8Binary);
}

TEST(DDLType, UnknownCollationIsNamed) {
  auto r = ParseDDLType("string collate klingon");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("COLLATION_INVALID_NAME"), std::string::npos);
  EXPECT_NE(r.status().message().find("klingon"), std::string::npos);
}

TEST(DDLType, DeepNestingIsAnErrorNotACrash) {
  std::string ddl;
  for (int i = 0; i < 10000; ++i) ddl += "array<";
  auto r = ParseDDLType(ddl);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested"), std::string::npos);
}

TEST(DDLSchema, ParsesFieldsWithOptions) {
  auto s = ParseDDLSchema("a INT, b STRUCT<x: STRING> NOT NULL, `c d` DOUBLE COMMENT 'hi'");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ((*s)->num_fields(), 3);
  EXPECT_EQ((*s)->field(0)->name(), "a");
  EXPECT_TRUE((*s)->field(0)->type()->Equals(arrow::int32()));
  EXPECT_FALSE((*s)->field(1)->nullable());
  EXPECT_EQ((*s)->field(2)->name(), "c d");
  EXPECT_EQ((*s)->field(2)->metadata()->Get("comment").ValueOrDie(), "hi");
  EXPECT_EQ(ToDDL(**s), "a INT, b STRUCT<x: STRING> NOT NULL, `c d` DOUBLE COMMENT 'hi'");
}

TEST(DDLSchema, RoundTripsThroughToDDL) {
  const char* cases[] = {
      "a INT",
      "a INT, b STRING NOT NULL",
      "`a``b` BIGINT, `select` STRING, `x.y` ARRAY<STRUCT<`z z`: INT NOT NULL>>",
      "m MAP<STRING, ARRAY<DECIMAL(38,18)>> COMMENT 'it\\'s a \\\\ map', t TIMESTAMP_NTZ",
      "ts TIMESTAMP, d DATE, i INTERVAL DAY TO SECOND, y INTERVAL YEAR TO MONTH, v VOID",
  };
  for (const char* ddl : cases) {
    auto s = ParseDDLSchema(ddl);
    ASSERT_TRUE(s.ok()) << ddl << ": " << s.status().ToString();
    std::string printed = ToDDL(**s);
    auto again = ParseDDLSchema(printed);
    ASSERT_TRUE(again.ok()) << printed << ": " << again.status().ToString();
    EXPECT_TRUE((*again)->Equals(**s, /*check_metadata=*/true)) << ddl << " -> " << printed;
    EXPECT_EQ(ToDDL(**again), printed);
  }
}

TEST(DDLSchema, QuotedNamesMayHoldAnyText) {
  auto s = ParseDDLSchema("`\xC3\xA9t\xC3\xA9` INT, `a,b<c>` STRING");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->field(0)->name(), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ((*s)->field(1)->name(), "a,b<c>");
  EXPECT_EQ(ToDDL(**s), "`\xC3\xA9t\xC3\xA9` INT, `a,b<c>` STRING");
}

TEST(DDLSchema, AcceptsStructWrapperAndEmpty) {
  auto s = ParseDDLSchema("struct<a:int,b:string>");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(ToDDL(**s), "a INT, b STRING");
  auto e = ParseDDLSchema("  ");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->num_fields(), 0);
  // A column that happens to be named "struct" is still a column.
  auto c = ParseDDLSchema("struct INT");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->field(0)->name(), "struct");
}

TEST(DDLSchema, Errors) {
  auto r = ParseDDLSchema("a INT,");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("position 6: expected a field name but found end of input"),
            std::string::npos)
      << r.status().message();
  r = ParseDDLSchema("a b c");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("position 2: unknown type name 'b'"), std::string::npos)
      << r.status().message();
  r = ParseDDLSchema("a INT b INT");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("position 6: expected ',' or end of input but found 'b'"),
            std::string::npos)
      << r.status().message();
  r = ParseDDLSchema("a INT DEFAULT 1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("DEFAULT"), std::string::npos);
}

}  // namespace
}  // namespace lakestream::types
