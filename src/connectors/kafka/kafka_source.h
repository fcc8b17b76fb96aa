// The Kafka streaming source (Spark's "kafka" source, Structured Streaming +
// Kafka integration guide): offsets per partition live in the query's
// checkpoint only (no consumer group, no commits; consumers use assign, never
// subscribe), and a batch (start, end] reads offsets [start, end) of every
// partition, one scan task per partition.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_util.h"
#include "connectors/streaming.h"

namespace lakestream::connectors::kafka {

/// The source's settings, parsed once from the options (Spark's names).
struct KafkaSourceOptions {
  KafkaConfig config;                  // kafka.* (prefix stripped) and bootstrapServers
  std::vector<std::string> subscribe;  // subscribe: comma-separated topics
  std::string subscribe_pattern;       // subscribePattern: a regex over whole topic names
  std::vector<TopicPartition> assign;  // assign: {"topic":[0,1]}
  /// startingOffsets: "earliest", "latest" or Spark's JSON (-2 earliest, -1
  /// latest). Default "latest" for streaming, "earliest" for batch reads
  /// (SourceContext::metadata_dir empty).
  std::string starting_offsets;
  std::optional<int64_t> starting_timestamp;  // startingTimestamp, ms since the epoch
  std::string ending_offsets;                 // endingOffsets: "latest" (default) or JSON; caps every batch
  std::optional<int64_t> max_offsets_per_trigger;  // maxOffsetsPerTrigger: no limit by default
  std::optional<int64_t> min_offsets_per_trigger;  // minOffsetsPerTrigger: none by default
  int64_t max_trigger_delay_ms = 15 * 60 * 1000;   // maxTriggerDelay, default 15m
  bool fail_on_data_loss = true;                   // failOnDataLoss
  bool include_headers = false;                    // includeHeaders
  int64_t poll_timeout_ms = 120000;  // kafkaConsumer.pollTimeoutMs: longest wait without progress while reading
  OffsetFetchPolicy fetch_policy;    // fetchOffset.numRetries (3), fetchOffset.retryIntervalMs (1000)
  int consumer_cache_capacity = 16;  // kafkaConsumer.cacheCapacity: idle consumers kept for reuse

  static Result<KafkaSourceOptions> Parse(const Options& options, const SourceContext& context);
};

/// The schema of Spark's Kafka source: key, value, topic, partition, offset,
/// timestamp, timestampType (and headers when `include_headers`).
std::shared_ptr<arrow::Schema> KafkaSourceSchema(bool include_headers);

class ConsumerPool;

class KafkaSource : public Source {
 public:
  static Result<std::unique_ptr<KafkaSource>> Make(const Options& options, const SourceContext& context);
  ~KafkaSource() override;

  std::string Description() const override;
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  Result<Json> InitialOffset() override;
  Result<Json> LatestOffset(const Json& start) override;
  Status PrepareForAvailableNow() override;
  Result<std::vector<exec::ScanTask>> PlanBatch(const Json& start, const Json& end) override;
  /// avgOffsetsBehindLatest / maxOffsetsBehindLatest / minOffsetsBehindLatest
  /// (as Spark) and dataLossOffsets (offsets skipped under failOnDataLoss=false).
  SourceMetrics TakeMetrics() override;
  void Stop() override;
  /// Parses the values as each record is taken from the client, not copied
  /// into a `value` column first.
  bool ParseValuesWhileReading(const ValueParsing& parsing) override;

 private:
  KafkaSource(KafkaSourceOptions options, KafkaPtr<rd_kafka_t> meta, std::shared_ptr<ConsumerPool> pool);

  /// The partitions the source reads now (subscribe / pattern / assign).
  Result<std::vector<TopicPartition>> CurrentPartitions();
  Result<PartitionOffsets> ResolveStart(const std::string& spec, const std::vector<TopicPartition>& partitions,
                                        const std::map<TopicPartition, Watermarks>& marks);
  /// The latest offsets available now, capped by endingOffsets and availableNow;
  /// `marks` gets the watermarks, with low watermarks (else -1) only for the
  /// partitions not in `from` (none if null).
  Result<PartitionOffsets> AvailableOffsets(std::map<TopicPartition, Watermarks>* marks,
                                            const PartitionOffsets* from);
  /// Runs a metadata/offset look-up `f(handle, policy)` under the source's
  /// retry policy, on a fresh handle after every failure.
  template <typename F>
  auto WithMetaHandle(F&& f) -> decltype(f(nullptr, OffsetFetchPolicy{}));
  /// Reports a data loss: an error under failOnDataLoss, else counted.
  Status DataLoss(const std::string& message);

  KafkaSourceOptions options_;
  std::shared_ptr<arrow::Schema> schema_;
  std::optional<std::regex> pattern_;
  KafkaConfig meta_config_;
  KafkaPtr<rd_kafka_t> meta_;  // metadata and ListOffsets requests
  std::shared_ptr<ConsumerPool> pool_;
  std::shared_ptr<const ValueParsing> parsing_;  // ParseValuesWhileReading, if asked
  std::optional<PartitionOffsets> available_now_cap_;
  std::optional<PartitionOffsets> ending_cap_;  // endingOffsets resolved (first use)
  std::chrono::steady_clock::time_point last_trigger_;
  PartitionOffsets last_latest_;  // latest offsets at the last LatestOffset, for metrics
  PartitionOffsets last_end_;
  // Low watermarks of the partitions new at the last LatestOffset, for the
  // PlanBatch of the batch it planned.
  std::map<TopicPartition, int64_t> new_partition_lows_;
  std::chrono::steady_clock::time_point new_partition_lows_at_;
  std::shared_ptr<std::atomic<int64_t>> data_loss_offsets_;
};

}  // namespace lakestream::connectors::kafka
