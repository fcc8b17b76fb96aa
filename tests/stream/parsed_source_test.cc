// valueSchema parsing at the source: PERMISSIVE, DROPMALFORMED and FAILFAST
// over a Kafka-shaped fake source.
#include <arrow/api.h>
#include <gtest/gtest.h>

#include "stream/connectors.h"

namespace lakestream::stream {
namespace {

using connectors::Json;

// Rows shaped like Kafka's: value BINARY, topic, partition, offset.
class FakeValues : public connectors::Source {
 public:
  explicit FakeValues(std::vector<std::string> values) : values_(std::move(values)) {}
  std::string Description() const override { return "FakeValues"; }
  std::shared_ptr<arrow::Schema> schema() const override {
    return arrow::schema(
        {arrow::field("value", arrow::binary()), arrow::field("topic", arrow::utf8()),
         arrow::field("partition", arrow::int32()), arrow::field("offset", arrow::int64())});
  }
  Result<Json> InitialOffset() override { return Json(0); }
  Result<Json> LatestOffset(const Json&) override {
    return Json(static_cast<int64_t>(values_.size()));
  }
  Result<std::vector<exec::ScanTask>> PlanBatch(const Json&, const Json&) override {
    arrow::BinaryBuilder v;
    arrow::StringBuilder t;
    arrow::Int32Builder p;
    arrow::Int64Builder o;
    for (size_t i = 0; i < values_.size(); ++i) {
      EXPECT_TRUE(v.Append(values_[i]).ok());
      EXPECT_TRUE(t.Append("events").ok());
      EXPECT_TRUE(p.Append(3).ok());
      EXPECT_TRUE(o.Append(100 + static_cast<int64_t>(i)).ok());
    }
    auto batch = arrow::RecordBatch::Make(schema(), static_cast<int64_t>(values_.size()),
                                          {*v.Finish(), *t.Finish(), *p.Finish(), *o.Finish()});
    return std::vector<exec::ScanTask>{[batch]() -> Result<exec::BatchIterator> {
      auto done = std::make_shared<bool>(false);
      return exec::BatchIterator([batch, done]() -> Result<exec::BatchPtr> {
        if (*done) return nullptr;
        *done = true;
        return batch;
      });
    }};
  }

 private:
  std::vector<std::string> values_;
};

Result<std::shared_ptr<arrow::RecordBatch>> ReadAll(connectors::Source* s) {
  ARROW_ASSIGN_OR_RAISE(auto tasks, s->PlanBatch(Json(0), Json(3)));
  ARROW_ASSIGN_OR_RAISE(auto it, tasks[0]());
  return it();
}

std::unique_ptr<connectors::Source> Make(const std::string& mode) {
  connectors::SourceRegistry()["fake_values"] =
      [](const connectors::Options&,
         const connectors::SourceContext&) -> Result<std::unique_ptr<connectors::Source>> {
    return std::make_unique<FakeValues>(std::vector<std::string>{
        R"({"id": 1, "name": "a"})", R"({"id": 2, "na)", R"({"id": "x", "name": "c"})"});
  };
  connectors::Options o = {{"valueSchema", "id BIGINT, name STRING"}};
  if (!mode.empty()) o["mode"] = mode;
  auto s = MakeStreamSource("fake_values", o, {});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(ParsedSourceTest, PermissiveKeepsRawTextOfBadRecords) {
  auto s = Make("");
  ASSERT_TRUE(s);
  EXPECT_EQ(
      s->schema()->ToString(),
      arrow::schema(
          {arrow::field("id", arrow::int64()), arrow::field("name", arrow::utf8()),
           arrow::field("_corrupt_record", arrow::utf8()), arrow::field("topic", arrow::utf8()),
           arrow::field("partition", arrow::int32()), arrow::field("offset", arrow::int64())})
          ->ToString());
  auto b = ReadAll(s.get());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ((*b)->num_rows(), 3);
  auto corrupt = std::static_pointer_cast<arrow::StringArray>((*b)->column(2));
  EXPECT_TRUE(corrupt->IsNull(0));
  EXPECT_EQ(corrupt->GetString(1), R"({"id": 2, "na)");
  EXPECT_EQ(corrupt->GetString(2), R"({"id": "x", "name": "c"})");
  EXPECT_TRUE((*b)->column(0)->IsNull(1));
  EXPECT_EQ(s->TakeMetrics()["numMalformedRows"], "2");
}

TEST(ParsedSourceTest, DropMalformedDropsAndCounts) {
  auto s = Make("DROPMALFORMED");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->schema()->GetFieldIndex("_corrupt_record"), -1);
  auto b = ReadAll(s.get());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ((*b)->num_rows(), 1);
  EXPECT_EQ(std::static_pointer_cast<arrow::Int64Array>((*b)->column(0))->Value(0), 1);
  EXPECT_EQ(std::static_pointer_cast<arrow::Int64Array>((*b)->GetColumnByName("offset"))->Value(0),
            100);
  EXPECT_EQ(s->TakeMetrics()["numDroppedMalformedRows"], "2");
}

TEST(ParsedSourceTest, FailFastNamesTopicPartitionOffset) {
  auto s = Make("FAILFAST");
  ASSERT_TRUE(s);
  auto b = ReadAll(s.get());
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("topic events, partition 3, offset 101"), std::string::npos)
      << b.status().ToString();
}

}  // namespace
}  // namespace lakestream::stream
