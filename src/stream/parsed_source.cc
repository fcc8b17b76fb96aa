// Parsing record values at the source: with `valueSchema => 'DDL'` a source
// whose rows carry a `value` column (Kafka) yields the parsed fields instead,
// under the source's `mode` (PERMISSIVE: unparseable values give NULL fields
// and the raw text in `_corrupt_record`; DROPMALFORMED: dropped and counted in
// progress; FAILFAST: the query stops naming topic, partition and offset).
// The other columns (key, topic, partition, offset, timestamp, ...) follow.
#include <arrow/api.h>
#include <arrow/compute/api.h>

#include "formats/file_source.h"
#include "stream/connectors.h"
#include "types/types.h"

namespace lakestream::stream {

namespace {

using connectors::Json;

class ParsedSource : public connectors::Source {
 public:
  ParsedSource(std::unique_ptr<connectors::Source> inner,
               std::shared_ptr<arrow::Schema> value_schema, formats::FileReadOptions options)
      : inner_(std::move(inner)),
        value_schema_(std::move(value_schema)),
        options_(std::move(options)) {
    auto in = inner_->schema();
    value_index_ = in->GetFieldIndex("value");
    topic_index_ = in->GetFieldIndex("topic");
    partition_index_ = in->GetFieldIndex("partition");
    offset_index_ = in->GetFieldIndex("offset");
    arrow::FieldVector fields = value_schema_->fields();
    for (int i = 0; i < in->num_fields(); ++i) {
      if (i != value_index_ && value_schema_->GetFieldIndex(in->field(i)->name()) < 0) {
        fields.push_back(in->field(i));
        passthrough_.push_back(i);
      }
    }
    schema_ = arrow::schema(fields);
    inner_parses_ = inner_->ParseValuesWhileReading(
        connectors::ValueParsing{value_schema_, options_, passthrough_, schema_, malformed_});
  }

  std::string Description() const override { return inner_->Description(); }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  Result<Json> InitialOffset() override { return inner_->InitialOffset(); }
  Result<Json> LatestOffset(const Json& start) override { return inner_->LatestOffset(start); }
  Status PrepareForAvailableNow() override { return inner_->PrepareForAvailableNow(); }
  Status Commit(const Json& end) override { return inner_->Commit(end); }
  void Stop() override { inner_->Stop(); }

  connectors::SourceMetrics TakeMetrics() override {
    auto m = inner_->TakeMetrics();
    int64_t bad = malformed_->exchange(0);
    m[options_.mode == formats::FileReadOptions::Mode::kDropMalformed ? "numDroppedMalformedRows"
                                                                      : "numMalformedRows"] =
        std::to_string(bad);
    return m;
  }

  Result<std::vector<exec::ScanTask>> PlanBatch(const Json& start, const Json& end) override {
    ARROW_ASSIGN_OR_RAISE(auto tasks, inner_->PlanBatch(start, end));
    if (inner_parses_) return tasks;
    std::vector<exec::ScanTask> out;
    for (auto& task : tasks) {
      out.push_back([this, task]() -> Result<exec::BatchIterator> {
        ARROW_ASSIGN_OR_RAISE(auto it, task());
        return exec::BatchIterator([this, it]() -> Result<exec::BatchPtr> {
          ARROW_ASSIGN_OR_RAISE(auto b, it());
          if (!b) return b;
          return Parse(*b);
        });
      });
    }
    return out;
  }

 private:
  Result<exec::BatchPtr> Parse(const arrow::RecordBatch& b) {
    auto where = [&](int64_t row) -> std::string {
      if (topic_index_ < 0 || partition_index_ < 0 || offset_index_ < 0)
        return fmt::format("row {}", row);
      auto topic = b.column(topic_index_)->GetScalar(row);
      auto partition = b.column(partition_index_)->GetScalar(row);
      auto offset = b.column(offset_index_)->GetScalar(row);
      return fmt::format("topic {}, partition {}, offset {}", (*topic)->ToString(),
                         (*partition)->ToString(), (*offset)->ToString());
    };
    ARROW_ASSIGN_OR_RAISE(auto parsed, formats::ParseJsonValues(*b.column(value_index_),
                                                                value_schema_, options_, where));
    malformed_->fetch_add(parsed.malformed);
    arrow::ArrayVector columns = parsed.columns;
    const int64_t n = static_cast<int64_t>(parsed.kept.size());
    if (n == b.num_rows()) {
      for (int i : passthrough_) columns.push_back(b.column(i));
    } else {
      arrow::Int64Builder idx;
      ARROW_RETURN_NOT_OK(idx.AppendValues(parsed.kept));
      ARROW_ASSIGN_OR_RAISE(auto indices, idx.Finish());
      for (int i : passthrough_) {
        ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(b.column(i), indices));
        columns.push_back(taken.make_array());
      }
    }
    return arrow::RecordBatch::Make(schema_, n, columns);
  }

  std::unique_ptr<connectors::Source> inner_;
  std::shared_ptr<arrow::Schema> value_schema_;
  formats::FileReadOptions options_;
  std::shared_ptr<arrow::Schema> schema_;
  int value_index_ = -1, topic_index_ = -1, partition_index_ = -1, offset_index_ = -1;
  std::vector<int> passthrough_;
  std::shared_ptr<std::atomic<int64_t>> malformed_ = std::make_shared<std::atomic<int64_t>>(0);
  bool inner_parses_ = false;  // the source parses its values itself
};

}  // namespace

Result<std::unique_ptr<connectors::Source>> MakeStreamSource(
    const std::string& kind, const connectors::Options& options,
    const connectors::SourceContext& context) {
  auto value_schema = connectors::GetOption(options, "valueSchema");
  if (!value_schema) return connectors::MakeSource(kind, options, context);
  // Parsing options are ours; the rest go to the connector.
  connectors::Options inner_options, parse_options = {{"format", "json"}};
  for (const auto& [k, v] : options) {
    std::string key = k;
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (key == "valueschema") continue;
    if (key == "mode" || key == "columnnameofcorruptrecord" || key == "timestampformat" ||
        key == "dateformat") {
      parse_options[k] = v;
    } else {
      inner_options[k] = v;
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto read_options, formats::FileReadOptions::FromMap(parse_options));
  auto schema = types::ParseDDLSchema(*value_schema);
  if (!schema.ok())
    return UserError("bad valueSchema '{}': {}", *value_schema, schema.status().message());
  auto value_fields = (*schema)->fields();
  if (read_options.mode == formats::FileReadOptions::Mode::kPermissive &&
      (*schema)->GetFieldIndex(read_options.column_name_of_corrupt_record) < 0) {
    value_fields.push_back(arrow::field(read_options.column_name_of_corrupt_record, arrow::utf8()));
  }
  ARROW_ASSIGN_OR_RAISE(auto inner, connectors::MakeSource(kind, inner_options, context));
  if (inner->schema()->GetFieldIndex("value") < 0) {
    return UserError(
        "valueSchema needs a source with a `value` column (such as Kafka); {} has none",
        inner->Description());
  }
  return std::make_unique<ParsedSource>(std::move(inner), arrow::schema(value_fields),
                                        std::move(read_options));
}

}  // namespace lakestream::stream
