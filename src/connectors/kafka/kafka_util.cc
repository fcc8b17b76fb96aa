#include "connectors/kafka/kafka_util.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

namespace lakestream::connectors::kafka {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Runs `attempt` up to 1 + policy.num_retries times, sleeping between tries;
// returns the last error when every try failed.
template <typename T, typename F>
Result<T> WithRetries(const OffsetFetchPolicy& policy, F&& attempt) {
  Status last;
  for (int i = 0; i <= std::max(0, policy.num_retries); ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(policy.retry_interval_ms));
    Result<T> r = attempt();
    if (r.ok()) return r;
    last = r.status();
  }
  if (policy.num_retries <= 0) return last;  // the caller retries and says so
  return last.WithMessage(last.message(), " (bootstrap.servers '", policy.servers, "'; after ", policy.num_retries,
                          " retries, ", policy.request_timeout_ms, " ms each)");
}

}  // namespace

std::string KafkaErrorText(rd_kafka_resp_err_t err) {
  return std::string(rd_kafka_err2name(err)) + ": " + rd_kafka_err2str(err);
}

Result<KafkaConfig> KafkaConfigFromOptions(const Options& options) {
  KafkaConfig config;
  for (const auto& [key, value] : options) {
    auto lower = Lower(key);
    if (lower.rfind("kafka.", 0) == 0) {
      config[key.substr(6)] = value;
    } else if (lower == "bootstrapservers" || lower == "bootstrap.servers") {
      config["bootstrap.servers"] = value;
    }
  }
  if (config.find("bootstrap.servers") == config.end() || config["bootstrap.servers"].empty()) {
    return UserError("Kafka needs the option 'kafka.bootstrap.servers' (or 'bootstrapServers'), e.g. 'localhost:9092'");
  }
  return config;
}

Result<KafkaPtr<rd_kafka_t>> CreateHandle(rd_kafka_type_t type, const KafkaConfig& config, const std::string& what,
                                          void* opaque, void (*configure)(rd_kafka_conf_t*)) {
  KafkaPtr<rd_kafka_conf_t> conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [key, value] : config) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      return UserError("{}: invalid Kafka property '{}' = '{}': {}", what, key, value, errstr);
    }
  }
  if (opaque) rd_kafka_conf_set_opaque(conf.get(), opaque);
  if (configure) configure(conf.get());
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (!rk) return UserError("{}: cannot create the Kafka client: {}", what, errstr);
  conf.release();  // owned by rk now
  return KafkaPtr<rd_kafka_t>(rk);
}

Json OffsetsToJson(const PartitionOffsets& offsets) {
  Json out = Json::object();
  for (const auto& [tp, offset] : offsets) out[tp.topic][std::to_string(tp.partition)] = offset;
  return out;
}

Result<PartitionOffsets> OffsetsFromJson(const Json& json, const std::string& what) {
  if (!json.is_object()) {
    return UserError("{}: expected Kafka offsets as JSON like {{\"topic\":{{\"0\":23}}}}, got {}", what, json.dump());
  }
  PartitionOffsets out;
  for (const auto& [topic, parts] : json.items()) {
    if (!parts.is_object()) {
      return UserError("{}: offsets of topic '{}' must be an object of partition -> offset, got {}", what, topic,
                       parts.dump());
    }
    for (const auto& [p, off] : parts.items()) {
      int32_t partition = -1;
      auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), partition);
      if (ec != std::errc() || ptr != p.data() + p.size() || partition < 0) {
        return UserError("{}: '{}' is not a partition number (topic '{}')", what, p, topic);
      }
      if (!off.is_number_integer()) {
        return UserError("{}: offset of {}-{} must be an integer, got {}", what, topic, partition, off.dump());
      }
      out[TopicPartition{topic, partition}] = off.get<int64_t>();
    }
  }
  return out;
}

Result<std::vector<TopicPartition>> PartitionsFromJson(const std::string& text) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return UserError("option 'assign' must be JSON like {{\"topic\":[0,1]}}, got '{}'", text);
  }
  std::vector<TopicPartition> out;
  for (const auto& [topic, parts] : json.items()) {
    if (!parts.is_array()) return UserError("option 'assign': partitions of '{}' must be an array, got {}", topic, parts.dump());
    for (const auto& p : parts) {
      if (!p.is_number_integer() || p.get<int64_t>() < 0) {
        return UserError("option 'assign': '{}' is not a partition number (topic '{}')", p.dump(), topic);
      }
      out.push_back({topic, p.get<int32_t>()});
    }
  }
  if (out.empty()) return UserError("option 'assign' names no partitions: '{}'", text);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::map<std::string, int32_t>> ListTopics(rd_kafka_t* rk, const OffsetFetchPolicy& policy) {
  return WithRetries<std::map<std::string, int32_t>>(policy, [&]() -> Result<std::map<std::string, int32_t>> {
    const rd_kafka_metadata_t* md = nullptr;
    auto err = rd_kafka_metadata(rk, /*all_topics=*/1, nullptr, &md, policy.request_timeout_ms);
    if (err) return Status::IOError("Kafka: cannot list topics (metadata request): ", KafkaErrorText(err));
    KafkaPtr<const rd_kafka_metadata_t> guard(md);
    std::map<std::string, int32_t> out;
    for (int i = 0; i < md->topic_cnt; ++i) {
      const auto& t = md->topics[i];
      if (t.err) continue;  // e.g. a topic being deleted
      out[t.topic] = t.partition_cnt;
    }
    return out;
  });
}

namespace {

// One offsets_for_times call for all `partitions` with the same "timestamp"
// (-2 earliest, -1 latest, or a time in ms).
Result<std::map<TopicPartition, int64_t>> ListOffsets(rd_kafka_t* rk, const std::vector<TopicPartition>& partitions,
                                                      int64_t timestamp, const OffsetFetchPolicy& policy) {
  return WithRetries<std::map<TopicPartition, int64_t>>(policy, [&]() -> Result<std::map<TopicPartition, int64_t>> {
    KafkaPtr<rd_kafka_topic_partition_list_t> list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
    for (const auto& tp : partitions) {
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = timestamp;
    }
    auto err = rd_kafka_offsets_for_times(rk, list.get(), policy.request_timeout_ms);
    if (err) {
      return Status::IOError("Kafka: cannot look up offsets of ", partitions.size(), " partition(s) (first ",
                             partitions.front().ToString(), "): ", KafkaErrorText(err));
    }
    std::map<TopicPartition, int64_t> out;
    for (int i = 0; i < list->cnt; ++i) {
      const auto& e = list->elems[i];
      if (e.err) {
        return Status::IOError("Kafka: cannot look up offsets of topic ", e.topic, " partition ", e.partition, ": ",
                               KafkaErrorText(e.err));
      }
      out[TopicPartition{e.topic, e.partition}] = e.offset;
    }
    return out;
  });
}

}  // namespace

Result<std::map<TopicPartition, Watermarks>> QueryWatermarks(rd_kafka_t* rk,
                                                             const std::vector<TopicPartition>& partitions,
                                                             const OffsetFetchPolicy& policy) {
  std::map<TopicPartition, Watermarks> out;
  if (partitions.empty()) return out;
  ARROW_ASSIGN_OR_RAISE(auto low, ListOffsets(rk, partitions, RD_KAFKA_OFFSET_BEGINNING, policy));
  ARROW_ASSIGN_OR_RAISE(auto high, ListOffsets(rk, partitions, RD_KAFKA_OFFSET_END, policy));
  for (const auto& tp : partitions) {
    auto l = low.find(tp);
    auto h = high.find(tp);
    if (l == low.end() || h == high.end() || l->second < 0 || h->second < 0) {
      return Status::IOError("Kafka: no offsets returned for topic ", tp.topic, " partition ", tp.partition);
    }
    out[tp] = Watermarks{l->second, h->second};
  }
  return out;
}

Result<std::map<TopicPartition, Watermarks>> QueryWatermarks(
    rd_kafka_t* rk, const std::vector<TopicPartition>& partitions,
    const std::vector<TopicPartition>& with_low, const OffsetFetchPolicy& policy) {
  std::map<TopicPartition, Watermarks> out;
  if (partitions.empty()) return out;
  ARROW_ASSIGN_OR_RAISE(auto high, ListOffsets(rk, partitions, RD_KAFKA_OFFSET_END, policy));
  std::map<TopicPartition, int64_t> low;
  if (!with_low.empty()) {
    ARROW_ASSIGN_OR_RAISE(low, ListOffsets(rk, with_low, RD_KAFKA_OFFSET_BEGINNING, policy));
  }
  for (const auto& tp : partitions) {
    auto h = high.find(tp);
    if (h == high.end() || h->second < 0) {
      return Status::IOError("Kafka: no offsets returned for topic ", tp.topic, " partition ",
                             tp.partition);
    }
    out[tp] = Watermarks{-1, h->second};
  }
  for (const auto& tp : with_low) {
    auto l = low.find(tp);
    auto o = out.find(tp);
    if (l == low.end() || l->second < 0 || o == out.end()) {
      return Status::IOError("Kafka: no offsets returned for topic ", tp.topic, " partition ",
                             tp.partition);
    }
    o->second.low = l->second;
  }
  return out;
}

Result<PartitionOffsets> OffsetsForTimestamp(rd_kafka_t* rk, const std::vector<TopicPartition>& partitions,
                                             int64_t timestamp_ms, const OffsetFetchPolicy& policy) {
  PartitionOffsets out;
  if (partitions.empty()) return out;
  ARROW_ASSIGN_OR_RAISE(auto by_time, ListOffsets(rk, partitions, timestamp_ms, policy));
  ARROW_ASSIGN_OR_RAISE(auto marks, QueryWatermarks(rk, partitions, policy));
  for (const auto& tp : partitions) {
    auto it = by_time.find(tp);
    // -1: every record is older than the timestamp -> start at the end.
    out[tp] = (it == by_time.end() || it->second < 0) ? marks[tp].high : it->second;
  }
  return out;
}

}  // namespace lakestream::connectors::kafka
