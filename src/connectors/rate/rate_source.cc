// The rate source (Spark's "rate"): `rowsPerSecond` rows per second of
// (timestamp TIMESTAMP, value BIGINT), split over `numPartitions`. For tests
// and load generation. The offset holds the start time and the row count, so
// a replayed range regenerates the same rows.
#include <arrow/builder.h>

#include <chrono>

#include "connectors/builtin.h"

namespace lakestream::connectors {

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class RateSource : public Source {
 public:
  RateSource(int64_t rows_per_second, int64_t partitions)
      : rps_(rows_per_second), partitions_(partitions) {
    schema_ =
        arrow::schema({arrow::field("timestamp", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")),
                       arrow::field("value", arrow::int64())});
  }
  std::string Description() const override {
    return fmt::format("RateStreamV2[rowsPerSecond={}, numPartitions={}]", rps_, partitions_);
  }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

  Result<Json> InitialOffset() override { return Json{{"startTimeMs", NowMs()}, {"value", 0}}; }

  Result<Json> LatestOffset(const Json& start) override {
    ARROW_ASSIGN_OR_RAISE(auto s, Parse(start));
    int64_t now = cap_ms_ ? *cap_ms_ : NowMs();
    int64_t rows = std::max<int64_t>(
        s.second, static_cast<int64_t>(static_cast<__int128>(now - s.first) * rps_ / 1000));
    return Json{{"startTimeMs", s.first}, {"value", rows}};
  }

  Status PrepareForAvailableNow() override {
    cap_ms_ = NowMs();
    return Status::OK();
  }

  Result<std::vector<exec::ScanTask>> PlanBatch(const Json& start, const Json& end) override {
    ARROW_ASSIGN_OR_RAISE(auto s, Parse(start));
    ARROW_ASSIGN_OR_RAISE(auto e, Parse(end));
    std::vector<exec::ScanTask> tasks;
    int64_t total = e.second - s.second;
    if (total <= 0) return tasks;
    int64_t parts = std::min(partitions_, total);
    auto schema = schema_;
    int64_t start_us = s.first * 1000, rps = rps_;
    for (int64_t p = 0; p < parts; ++p) {
      int64_t first = s.second + total * p / parts, last = s.second + total * (p + 1) / parts;
      tasks.push_back([=]() -> Result<exec::BatchIterator> {
        auto next = std::make_shared<int64_t>(first);
        return exec::BatchIterator([=]() -> Result<exec::BatchPtr> {
          if (*next >= last) return nullptr;
          int64_t n = std::min<int64_t>(64 * 1024, last - *next);
          arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"),
                                     arrow::default_memory_pool());
          arrow::Int64Builder vb;
          ARROW_RETURN_NOT_OK(ts.Resize(n));
          ARROW_RETURN_NOT_OK(vb.Resize(n));
          for (int64_t v = *next; v < *next + n; ++v) {
            ts.UnsafeAppend(start_us +
                            static_cast<int64_t>(static_cast<__int128>(v) * 1000000 / rps));
            vb.UnsafeAppend(v);
          }
          *next += n;
          ARROW_ASSIGN_OR_RAISE(auto a, ts.Finish());
          ARROW_ASSIGN_OR_RAISE(auto b, vb.Finish());
          return arrow::RecordBatch::Make(schema, n, {a, b});
        });
      });
    }
    return tasks;
  }

 private:
  static Result<std::pair<int64_t, int64_t>> Parse(const Json& o) {
    if (!o.is_object() || !o.contains("startTimeMs") || !o.contains("value") ||
        !o["startTimeMs"].is_number_integer() || !o["value"].is_number_integer()) {
      return UserError(
          "bad rate source offset {}: expected {{\"startTimeMs\": ms, \"value\": rows}}", o.dump());
    }
    return std::make_pair(o["startTimeMs"].get<int64_t>(), o["value"].get<int64_t>());
  }

  int64_t rps_;
  int64_t partitions_;
  std::shared_ptr<arrow::Schema> schema_;
  std::optional<int64_t> cap_ms_;
};

}  // namespace

void RegisterRateConnector() {
  SourceRegistry()["rate"] = [](const Options& o,
                                const SourceContext&) -> Result<std::unique_ptr<Source>> {
    ARROW_ASSIGN_OR_RAISE(auto rps, GetIntOption(o, "rowsPerSecond", 1));
    ARROW_ASSIGN_OR_RAISE(auto parts, GetIntOption(o, "numPartitions", 2));
    if (rps <= 0) return UserError("rate source: rowsPerSecond must be positive, got {}", rps);
    if (parts <= 0) return UserError("rate source: numPartitions must be positive, got {}", parts);
    return std::make_unique<RateSource>(rps, parts);
  };
}

}  // namespace lakestream::connectors
