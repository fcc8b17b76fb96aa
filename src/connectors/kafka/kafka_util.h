// What the Kafka source and sink share: RAII for librdkafka handles, building
// a librdkafka configuration from Spark-style options (`kafka.*` pass-through),
// topic-partition offsets and their Spark JSON form, and offset look-ups
// (watermarks, metadata) with retries.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/streaming.h"

namespace lakestream::connectors::kafka {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
  void operator()(rd_kafka_topic_t* rkt) const { rd_kafka_topic_destroy(rkt); }
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
  void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
  void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); }
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
template <typename T>
using KafkaPtr = std::unique_ptr<T, KafkaDeleter>;

/// librdkafka configuration properties, name -> value.
using KafkaConfig = std::map<std::string, std::string>;

/// The librdkafka properties among `options`: every `kafka.<name>` with the
/// prefix stripped, plus `bootstrapServers` / `bootstrap.servers` (as
/// Databricks' read_kafka accepts). An error when no bootstrap servers are set.
Result<KafkaConfig> KafkaConfigFromOptions(const Options& options);

/// Creates a client handle from `config` (applied in order, later wins).
/// `what` names the handle in errors ("Kafka source consumer").
Result<KafkaPtr<rd_kafka_t>> CreateHandle(rd_kafka_type_t type, const KafkaConfig& config, const std::string& what,
                                          void* opaque = nullptr,
                                          void (*configure)(rd_kafka_conf_t*) = nullptr);

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
  std::string ToString() const { return topic + "-" + std::to_string(partition); }
};

/// Offsets per partition. For the source: the NEXT offset to read, as Spark.
using PartitionOffsets = std::map<TopicPartition, int64_t>;

/// Spark's JSON form: {"topic": {"0": 42, "1": 7}}.
Json OffsetsToJson(const PartitionOffsets& offsets);
/// Parses Spark's JSON form; `what` names the option or offsets log entry in errors.
Result<PartitionOffsets> OffsetsFromJson(const Json& json, const std::string& what);
/// Parses assign's JSON form {"topic": [0, 1]}.
Result<std::vector<TopicPartition>> PartitionsFromJson(const std::string& text);

/// Timeouts and retries of the offset look-ups (Spark's fetchOffset.* options).
struct OffsetFetchPolicy {
  int num_retries = 3;           // fetchOffset.numRetries
  int retry_interval_ms = 1000;  // fetchOffset.retryIntervalMs
  int request_timeout_ms = 30000;
  std::string servers;  // bootstrap.servers, named in errors
};

/// Every topic name in the cluster with its partition count (one Metadata
/// request; retried under `policy`).
Result<std::map<std::string, int32_t>> ListTopics(rd_kafka_t* rk, const OffsetFetchPolicy& policy);

/// The low (earliest) and high (latest, the last stable offset under
/// read_committed) watermarks of `partitions`, looked up with one ListOffsets
/// request per leader broker (librdkafka batches them), retried under `policy`.
struct Watermarks {
  int64_t low = 0;
  int64_t high = 0;
};
Result<std::map<TopicPartition, Watermarks>> QueryWatermarks(rd_kafka_t* rk,
                                                             const std::vector<TopicPartition>& partitions,
                                                             const OffsetFetchPolicy& policy);
/// The low and high watermarks of `partitions`, asking the broker for low
/// watermarks only for `with_low` (the others' `low` is -1): one ListOffsets
/// round trip instead of two when `with_low` is empty.
Result<std::map<TopicPartition, Watermarks>> QueryWatermarks(
    rd_kafka_t* rk, const std::vector<TopicPartition>& partitions,
    const std::vector<TopicPartition>& with_low, const OffsetFetchPolicy& policy);
/// The first offset whose timestamp is >= `timestamp_ms` per partition, or the
/// partition's high watermark when every record is older.
Result<PartitionOffsets> OffsetsForTimestamp(rd_kafka_t* rk, const std::vector<TopicPartition>& partitions,
                                             int64_t timestamp_ms, const OffsetFetchPolicy& policy);

std::string KafkaErrorText(rd_kafka_resp_err_t err);

}  // namespace lakestream::connectors::kafka
