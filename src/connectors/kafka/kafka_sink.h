// The Kafka streaming sink (Spark's "kafka" sink): each row becomes one
// record. Columns: `value` (STRING or BINARY, required), optional `key`
// (STRING or BINARY), `topic` (STRING, per row; else the option `topic`),
// `partition` (INT; NULL lets the partitioner choose) and `headers`
// (ARRAY<STRUCT<key: STRING, value: BINARY>>).
//
// Delivery guarantees:
// - Default: an idempotent producer (enable.idempotence=true; no duplicates
//   from the producer's own retries). AddBatch flushes and checks every
//   delivery report before it returns. A batch replayed after a crash is
//   written again: at-least-once.
// - Exactly-once with `kafka.transactional.id` (or `transactional.id`): each
//   AddBatch(batch_id) runs in one Kafka transaction that also writes a marker
//   record {"queryId": ..., "batchId": N} to partition 0 of the control topic
//   `__lakestream_sink_<query_id>` (created with one partition if missing).
//   There is no consumer group to commit offsets to, so the marker is how the
//   batch id becomes durable atomically with the rows. On start the sink
//   fences older producers of the same transactional.id (init_transactions
//   aborts their open transaction), then reads the control topic with
//   isolation.level=read_committed to learn the last committed batch id;
//   AddBatch with an id at or below it is a no-op. Readers of the output must
//   use read_committed to see each batch exactly once.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "connectors/kafka/kafka_util.h"
#include "connectors/streaming.h"

namespace lakestream::connectors::kafka {

/// The sink's settings (Spark's option names where Spark has them).
struct KafkaSinkOptions {
  KafkaConfig config;            // kafka.* (prefix stripped) and bootstrapServers
  std::string topic;             // topic: for rows without a `topic` column (or NULL there)
  std::string transactional_id;  // kafka.transactional.id / transactional.id: exactly-once when set
  int64_t timeout_ms = 120000;   // kafkaProducer.timeoutMs: flush, commit and startup bound

  static Result<KafkaSinkOptions> Parse(const Options& options);
};

/// The control topic that records a transactional sink's committed batch ids.
std::string KafkaSinkControlTopic(const std::string& query_id);

class KafkaSink : public Sink {
 public:
  static Result<std::unique_ptr<KafkaSink>> Make(const Options& options, const SinkContext& context);
  ~KafkaSink() override;

  std::string Description() const override;
  Status Prepare(const std::shared_ptr<arrow::Schema>& schema) override;
  Status AddBatch(int64_t batch_id, const std::shared_ptr<arrow::Schema>& schema,
                  const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) override;
  /// skippedBatches: replayed batch ids found already committed (transactional).
  SourceMetrics TakeMetrics() override;
  void Stop() override;

  /// The last batch id committed by a transactional sink (-1: none), as read
  /// from the control topic at start and advanced by each commit.
  int64_t last_committed_batch() const { return last_committed_batch_; }

  /// Delivery-report bookkeeping (public for the C callback).
  struct Deliveries {
    std::mutex mu;
    int64_t failed = 0;
    std::string first_error;
  };

 private:
  KafkaSink(KafkaSinkOptions options, SinkContext context);
  Status Open();
  Status EnsureControlTopic();
  Result<int64_t> ReadLastCommittedBatch();
  Status ProduceRows(const std::shared_ptr<arrow::Schema>& schema,
                     const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches);
  Status Produce(const std::string& topic, int32_t partition, std::string_view key, bool has_key,
                 std::string_view value, bool has_value, rd_kafka_headers_t* headers);
  Status CheckDeliveries(int64_t batch_id);
  Status AbortAfter(const Status& cause);

  KafkaSinkOptions options_;
  SinkContext context_;
  std::string control_topic_;
  KafkaPtr<rd_kafka_t> producer_;
  std::unique_ptr<Deliveries> deliveries_ = std::make_unique<Deliveries>();
  int64_t last_committed_batch_ = -1;
  int64_t skipped_batches_ = 0;
};

}  // namespace lakestream::connectors::kafka
