// Type predicates and the Arrow -> Spark type mapping for foreign files.
#include "types/types.h"

#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>
#include <gtest/gtest.h>

namespace lakestream::types {
namespace {

TEST(SparkTypes, Predicates) {
  EXPECT_TRUE(IsIntegral(*arrow::int8()));
  EXPECT_TRUE(IsIntegral(*arrow::int64()));
  EXPECT_FALSE(IsIntegral(*arrow::uint8()));
  EXPECT_FALSE(IsIntegral(*arrow::float64()));
  EXPECT_TRUE(IsFloating(*arrow::float32()));
  EXPECT_FALSE(IsFloating(*arrow::decimal128(3, 1)));
  EXPECT_TRUE(IsNumeric(*arrow::decimal128(3, 1)));
  EXPECT_TRUE(IsNumeric(*arrow::int16()));
  EXPECT_FALSE(IsNumeric(*arrow::utf8()));
  EXPECT_TRUE(IsStringLike(*arrow::utf8()));
  EXPECT_FALSE(IsStringLike(*arrow::binary()));
}

TEST(SparkTypes, DecimalForIntegral) {
  EXPECT_TRUE(DecimalForIntegral(*arrow::int8())->Equals(arrow::decimal128(3, 0)));
  EXPECT_TRUE(DecimalForIntegral(*arrow::int16())->Equals(arrow::decimal128(5, 0)));
  EXPECT_TRUE(DecimalForIntegral(*arrow::int32())->Equals(arrow::decimal128(10, 0)));
  EXPECT_TRUE(DecimalForIntegral(*arrow::int64())->Equals(arrow::decimal128(20, 0)));
  EXPECT_EQ(DecimalForIntegral(*arrow::float64()), nullptr);
}

TEST(SparkTypes, IsSparkType) {
  EXPECT_TRUE(IsSparkType(*Timestamp()));
  EXPECT_TRUE(IsSparkType(*TimestampNtz()));
  EXPECT_FALSE(IsSparkType(*arrow::timestamp(arrow::TimeUnit::NANO)));
  EXPECT_FALSE(IsSparkType(*arrow::timestamp(arrow::TimeUnit::MICRO, "Europe/Paris")));
  EXPECT_FALSE(IsSparkType(*arrow::uint32()));
  EXPECT_FALSE(IsSparkType(*arrow::large_utf8()));
  EXPECT_TRUE(IsSparkType(*arrow::map(arrow::utf8(), arrow::list(arrow::decimal128(38, 2)))));
  EXPECT_FALSE(IsSparkType(*arrow::struct_({arrow::field("a", arrow::list(arrow::uint8()))})));
  EXPECT_TRUE(IsSparkType(*arrow::duration(arrow::TimeUnit::MICRO)));
  EXPECT_FALSE(IsSparkType(*arrow::duration(arrow::TimeUnit::NANO)));
}

struct Mapping {
  std::shared_ptr<arrow::DataType> from;
  std::shared_ptr<arrow::DataType> to;
};

TEST(SparkTypes, ToSparkTypeMapsForeignTypes) {
  const Mapping cases[] = {
      {arrow::uint8(), arrow::int16()},
      {arrow::uint16(), arrow::int32()},
      {arrow::uint32(), arrow::int64()},
      {arrow::uint64(), arrow::decimal128(20, 0)},
      {arrow::float16(), arrow::float32()},
      {arrow::large_utf8(), arrow::utf8()},
      {arrow::utf8_view(), arrow::utf8()},
      {arrow::large_binary(), arrow::binary()},
      {arrow::fixed_size_binary(16), arrow::binary()},
      {arrow::binary_view(), arrow::binary()},
      {arrow::timestamp(arrow::TimeUnit::NANO, "America/New_York"), Timestamp()},
      {arrow::timestamp(arrow::TimeUnit::MILLI, "UTC"), Timestamp()},
      {arrow::timestamp(arrow::TimeUnit::SECOND), TimestampNtz()},
      {arrow::timestamp(arrow::TimeUnit::NANO), TimestampNtz()},
      {arrow::date64(), arrow::date32()},
      {arrow::time32(arrow::TimeUnit::MILLI), arrow::int64()},
      {arrow::time64(arrow::TimeUnit::NANO), arrow::int64()},
      {arrow::duration(arrow::TimeUnit::NANO), arrow::duration(arrow::TimeUnit::MICRO)},
      {arrow::decimal256(20, 3), arrow::decimal128(20, 3)},
      {arrow::decimal256(50, 3), arrow::float64()},
      {arrow::dictionary(arrow::int32(), arrow::large_utf8()), arrow::utf8()},
      {arrow::large_list(arrow::uint8()), arrow::list(arrow::int16())},
      {arrow::fixed_size_list(arrow::int32(), 3), arrow::list(arrow::int32())},
      {arrow::map(arrow::large_utf8(), arrow::uint32()), arrow::map(arrow::utf8(), arrow::int64())},
      {arrow::struct_({arrow::field("a", arrow::uint16(), false),
                       arrow::field("b", arrow::list(arrow::date64()))}),
       arrow::struct_({arrow::field("a", arrow::int32(), false),
                       arrow::field("b", arrow::list(arrow::date32()))})},
  };
  for (const auto& c : cases) {
    auto got = ToSparkType(c.from);
    EXPECT_TRUE(got->Equals(*c.to)) << c.from->ToString() << " -> " << got->ToString()
                                    << ", expected " << c.to->ToString();
    EXPECT_TRUE(IsSparkType(*got)) << got->ToString();
  }
  // Spark types are returned as they are.
  auto t = arrow::struct_({arrow::field("a", arrow::int32())});
  EXPECT_EQ(ToSparkType(t), t);
}

TEST(SparkTypes, ForeignTypesPrintAsTheirSparkType) {
  EXPECT_EQ(ToDDL(*arrow::uint32()), "BIGINT");
  EXPECT_EQ(SimpleString(*arrow::large_list(arrow::large_utf8())), "array<string>");
  EXPECT_EQ(ToDDL(*arrow::timestamp(arrow::TimeUnit::NANO)), "TIMESTAMP_NTZ");
  EXPECT_EQ(ToDDL(*arrow::struct_({arrow::field("a", arrow::uint64())})),
            "STRUCT<a: DECIMAL(20,0)>");
}

TEST(SparkTypes, ToSparkSchemaKeepsNamesNullabilityAndMetadata) {
  auto md = arrow::key_value_metadata({"comment"}, {"x"});
  auto schema = arrow::schema({arrow::field("u", arrow::uint8(), false, md),
                               arrow::field("s", arrow::utf8())});
  auto spark = ToSparkSchema(schema);
  EXPECT_EQ(ToDDL(*spark), "u SMALLINT NOT NULL COMMENT 'x', s STRING");
  EXPECT_EQ(ToSparkSchema(spark), spark);
}

}  // namespace
}  // namespace lakestream::types
