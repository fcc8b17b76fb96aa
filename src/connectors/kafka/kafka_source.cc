#include "connectors/kafka/kafka_source.h"

#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_nested.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/array/util.h>
#include <arrow/scalar.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <set>
#include <sstream>
#include <thread>

#include "formats/json_values.h"

namespace lakestream::connectors::kafka {

namespace {

// Rows per batch a partition read yields. Small batches keep each batch's
// buffers (values, parsed columns) in the allocator's reused size classes and
// in cache: with 64Ki rows (~16 MiB of values) a 500k-event drain spent a
// third of its CPU in the kernel faulting in fresh pages for every batch;
// with 8Ki rows about 40% less kernel time, ~20% less wall time and ~25%
// lower peak memory (medians of 6 runs on the shared 2-core machine). The
// DESIGN's streaming batches are 1-4K rows.
constexpr int64_t kMaxBatchRows = 8 * 1024;
constexpr int64_t kMaxBatchBytes = 8 << 20;  // also keeps Binary offsets far from 2 GiB
constexpr int kConsumeBatch = 8192;             // messages per rd_kafka_consume_batch call
constexpr int kPollSliceMs = 100;               // longest single wait inside the read loop

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string Trim(std::string s) {
  auto b = s.find_first_not_of(" \t\n");
  auto e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Spark's time strings (JavaUtils.timeStringAsMs): "15m", "30s", "100ms", "2h",
// "1d"; a bare number is milliseconds.
Result<int64_t> ParseDurationMs(const std::string& option, const std::string& text) {
  std::string t = Lower(Trim(text));
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  if (i == 0) return UserError("option '{}' must be a duration such as '15m' or '30s', got '{}'", option, text);
  double n = std::stod(t.substr(0, i));
  std::string unit = Trim(t.substr(i));
  double scale;
  if (unit.empty() || unit == "ms") {
    scale = 1;
  } else if (unit == "s" || unit == "sec" || unit == "second" || unit == "seconds") {
    scale = 1000;
  } else if (unit == "m" || unit == "min" || unit == "minute" || unit == "minutes") {
    scale = 60000;
  } else if (unit == "h" || unit == "hour" || unit == "hours") {
    scale = 3600000;
  } else if (unit == "d" || unit == "day" || unit == "days") {
    scale = 86400000;
  } else {
    return UserError("option '{}': unknown time unit '{}' in '{}' (ms, s, m, h or d)", option, unit, text);
  }
  return static_cast<int64_t>(n * scale);
}

std::vector<std::string> SplitTopics(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = Trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- options

Result<KafkaSourceOptions> KafkaSourceOptions::Parse(const Options& options, const SourceContext& context) {
  KafkaSourceOptions o;
  ARROW_ASSIGN_OR_RAISE(o.config, KafkaConfigFromOptions(options));
  int strategies = 0;
  if (auto v = GetOption(options, "subscribe")) {
    o.subscribe = SplitTopics(*v);
    if (o.subscribe.empty()) return UserError("option 'subscribe' names no topic: '{}'", *v);
    ++strategies;
  }
  if (auto v = GetOption(options, "subscribePattern")) {
    if (Trim(*v).empty()) return UserError("option 'subscribePattern' is empty");
    o.subscribe_pattern = *v;
    ++strategies;
  }
  if (auto v = GetOption(options, "assign")) {
    ARROW_ASSIGN_OR_RAISE(o.assign, PartitionsFromJson(*v));
    ++strategies;
  }
  if (strategies != 1) {
    return UserError("the Kafka source needs exactly one of the options 'subscribe', 'subscribePattern' or 'assign' "
                     "(got {})",
                     strategies);
  }
  const bool batch = context.metadata_dir.empty();
  o.starting_offsets = Trim(GetOption(options, "startingOffsets").value_or(batch ? "earliest" : "latest"));
  if (auto v = GetOption(options, "startingTimestamp")) {
    ARROW_ASSIGN_OR_RAISE(auto ts, GetIntOption(options, "startingTimestamp", 0));
    if (ts < 0) return UserError("option 'startingTimestamp' must be >= 0 (ms since the epoch), got {}", ts);
    o.starting_timestamp = ts;
  }
  o.ending_offsets = Trim(GetOption(options, "endingOffsets").value_or("latest"));
  if (auto v = GetOption(options, "maxOffsetsPerTrigger")) {
    ARROW_ASSIGN_OR_RAISE(auto n, GetIntOption(options, "maxOffsetsPerTrigger", 0));
    if (n <= 0) return UserError("option 'maxOffsetsPerTrigger' must be positive, got {}", n);
    o.max_offsets_per_trigger = n;
  }
  if (auto v = GetOption(options, "minOffsetsPerTrigger")) {
    ARROW_ASSIGN_OR_RAISE(auto n, GetIntOption(options, "minOffsetsPerTrigger", 0));
    if (n < 0) return UserError("option 'minOffsetsPerTrigger' must be >= 0, got {}", n);
    o.min_offsets_per_trigger = n;
  }
  if (auto v = GetOption(options, "maxTriggerDelay")) {
    ARROW_ASSIGN_OR_RAISE(o.max_trigger_delay_ms, ParseDurationMs("maxTriggerDelay", *v));
  }
  ARROW_ASSIGN_OR_RAISE(o.fail_on_data_loss, GetBoolOption(options, "failOnDataLoss", true));
  ARROW_ASSIGN_OR_RAISE(o.include_headers, GetBoolOption(options, "includeHeaders", false));
  ARROW_ASSIGN_OR_RAISE(o.poll_timeout_ms, GetIntOption(options, "kafkaConsumer.pollTimeoutMs", 120000));
  if (o.poll_timeout_ms <= 0) return UserError("option 'kafkaConsumer.pollTimeoutMs' must be positive");
  ARROW_ASSIGN_OR_RAISE(auto retries, GetIntOption(options, "fetchOffset.numRetries", 3));
  ARROW_ASSIGN_OR_RAISE(auto interval, GetIntOption(options, "fetchOffset.retryIntervalMs", 1000));
  o.fetch_policy.num_retries = static_cast<int>(std::clamp<int64_t>(retries, 0, 1000));
  o.fetch_policy.retry_interval_ms = static_cast<int>(std::clamp<int64_t>(interval, 0, 600000));
  o.fetch_policy.request_timeout_ms = static_cast<int>(std::clamp<int64_t>(o.poll_timeout_ms, 1000, 120000));
  o.fetch_policy.servers = o.config["bootstrap.servers"];
  ARROW_ASSIGN_OR_RAISE(auto cap, GetIntOption(options, "kafkaConsumer.cacheCapacity", 16));
  o.consumer_cache_capacity = static_cast<int>(std::clamp<int64_t>(cap, 0, 1024));
  return o;
}

std::shared_ptr<arrow::Schema> KafkaSourceSchema(bool include_headers) {
  arrow::FieldVector fields = {
      arrow::field("key", arrow::binary()),
      arrow::field("value", arrow::binary()),
      arrow::field("topic", arrow::utf8()),
      arrow::field("partition", arrow::int32()),
      arrow::field("offset", arrow::int64()),
      arrow::field("timestamp", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")),
      arrow::field("timestampType", arrow::int32()),
  };
  if (include_headers) {
    auto header = arrow::struct_({arrow::field("key", arrow::utf8()), arrow::field("value", arrow::binary())});
    fields.push_back(arrow::field("headers", arrow::list(arrow::field("element", header))));
  }
  return arrow::schema(std::move(fields));
}

// ---------------------------------------------------------------- consumer pool

// One legacy-API consumer (rd_kafka_consume_start on one partition at a time,
// no group). When a read ends at offset E it is parked there: the next batch
// of the same partition, which starts at E, continues without re-fetching.
struct PooledConsumer {
  KafkaPtr<rd_kafka_t> rk;
  std::map<std::string, KafkaPtr<rd_kafka_topic_t>> topics;
  std::optional<TopicPartition> started;
  int64_t next_offset = -1;  // where the fetch queue continues (valid when parked)
  bool parked = false;
  std::deque<KafkaPtr<rd_kafka_message_t>> leftovers;  // fetched, offsets >= next_offset
  std::mutex error_mu;
  std::string last_error;

  rd_kafka_topic_t* Topic(const std::string& name) {
    auto it = topics.find(name);
    if (it != topics.end()) return it->second.get();
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk.get(), name.c_str(), nullptr);
    if (!rkt) return nullptr;
    topics.emplace(name, KafkaPtr<rd_kafka_topic_t>(rkt));
    return rkt;
  }

  void StopConsuming() {
    leftovers.clear();
    if (started) rd_kafka_consume_stop(Topic(started->topic), started->partition);
    started.reset();
    parked = false;
  }

  std::string LastError() {
    std::lock_guard<std::mutex> lock(error_mu);
    return last_error.empty() ? "none" : last_error;
  }

  ~PooledConsumer() {
    StopConsuming();
    topics.clear();
    rk.reset();
  }
};

class ConsumerPool {
 public:
  ConsumerPool(KafkaConfig config, int capacity) : config_(std::move(config)), capacity_(capacity) {
    // Offsets live in the checkpoint: never commit, never reset silently
    // (an out-of-range start is a data loss the source reports).
    config_["enable.auto.commit"] = "false";
    config_["enable.auto.offset.store"] = "false";
    config_["auto.offset.reset"] = "error";
    config_["enable.partition.eof"] = "true";
    // A consumer switching partitions waits for its broker's outstanding
    // long-poll Fetch to return; a short wait keeps task start-up fast.
    config_.emplace("fetch.wait.max.ms", "50");
    // The prefetch queue per partition: bounded, so a drain does not take
    // the whole topic into memory (a 5M-event drain held 1.5 GB and spent a
    // sixth of its CPU in page faults of fresh fetch buffers), and re-checked
    // 5 ms after it filled instead of librdkafka's default second, so the
    // bound does not leave the reader idle. Measured on a 5M-event drain,
    // 4 partitions, 2 threads: 4.6 -> 4.3 CPU-s, peak RSS 1.6 GB -> 0.4 GB.
    // All three are kafka.* options for whoever needs other bounds.
    config_.emplace("queued.max.messages.kbytes", "16384");
    config_.emplace("queued.min.messages", "100000");
    config_.emplace("fetch.queue.backoff.ms", "5");
  }

  /// A consumer positioned at `offset` of `tp`. Preference: one parked there
  /// (its fetched records are the ones wanted); one on the same partition
  /// elsewhere; an idle one not reading anything; a new one while fewer than
  /// `capacity` exist; else any idle one. So a consumer stays on its
  /// partition from batch to batch and keeps prefetching it while the rest
  /// of the batch runs, instead of being taken by another partition's task
  /// and restarted: with more partitions than workers, every batch used to
  /// begin with empty fetch queues (measured at 100k events/s, 4 partitions:
  /// the read part of a small batch went from ~10 ms to ~4 ms).
  /// (Starting every partition's consumer at PlanBatch was tried too: it
  /// made a 500k-event drain slower, 0.3 s more kernel time in page faults,
  /// as all partitions' records then sat in memory at once.)
  Result<std::unique_ptr<PooledConsumer>> Acquire(const TopicPartition& tp, int64_t offset) {
    std::unique_ptr<PooledConsumer> c;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto take = [&](auto pred) {
        for (auto it = idle_.begin(); it != idle_.end(); ++it) {
          if (pred(**it)) {
            c = std::move(*it);
            idle_.erase(it);
            return true;
          }
        }
        return false;
      };
      if (take([&](const PooledConsumer& x) { return x.parked && x.started == tp && x.next_offset == offset; })) {
        return c;
      }
      if (!take([&](const PooledConsumer& x) { return x.started == tp; }) &&
          !take([&](const PooledConsumer& x) { return !x.started; }) && live_ >= capacity_ && !idle_.empty()) {
        c = std::move(idle_.back());
        idle_.pop_back();
      }
      if (!c) ++live_;  // reserved: created below
    }
    if (!c) {
      auto created = NewConsumer();
      if (!created.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        --live_;
        return created.status();
      }
      c = std::move(*created);
    }
    Status st = StartAt(c.get(), tp, offset);
    if (!st.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      --live_;  // `c` is destroyed on return
      return st;
    }
    return c;
  }

  /// (Re)starts `c` reading `tp` at `offset`, dropping what it had fetched.
  static Status StartAt(PooledConsumer* c, const TopicPartition& tp, int64_t offset) {
    c->StopConsuming();
    rd_kafka_topic_t* rkt = c->Topic(tp.topic);
    if (!rkt) return Status::IOError("Kafka: cannot open topic ", tp.topic, ": ", KafkaErrorText(rd_kafka_last_error()));
    if (rd_kafka_consume_start(rkt, tp.partition, offset) != 0) {
      return Status::IOError("Kafka: cannot start reading topic ", tp.topic, " partition ", tp.partition,
                             " at offset ", offset, ": ", KafkaErrorText(rd_kafka_last_error()));
    }
    c->started = tp;
    c->next_offset = offset;
    return Status::OK();
  }

  void Release(std::unique_ptr<PooledConsumer> c) {
    std::unique_ptr<PooledConsumer> drop;
    std::lock_guard<std::mutex> lock(mu_);
    if (static_cast<int>(idle_.size()) < capacity_ && !closed_) {
      idle_.push_back(std::move(c));
    } else {
      drop = std::move(c);  // destroyed after the lock is released (declared first)
      --live_;
    }
  }

  void Close() {
    std::vector<std::unique_ptr<PooledConsumer>> drop;
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    live_ -= static_cast<int>(idle_.size());
    drop.swap(idle_);
  }

 private:
  Result<std::unique_ptr<PooledConsumer>> NewConsumer() {
    auto c = std::make_unique<PooledConsumer>();
    ARROW_ASSIGN_OR_RAISE(c->rk, CreateHandle(RD_KAFKA_CONSUMER, config_, "Kafka source consumer", c.get(),
                                              [](rd_kafka_conf_t* conf) {
                                                rd_kafka_conf_set_error_cb(conf, &ConsumerPool::OnError);
                                              }));
    return c;
  }

  static void OnError(rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* c = static_cast<PooledConsumer*>(opaque);
    std::lock_guard<std::mutex> lock(c->error_mu);
    c->last_error = std::string(rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))) + ": " + reason;
  }

  KafkaConfig config_;
  int capacity_;
  std::mutex mu_;
  bool closed_ = false;
  int live_ = 0;  // consumers in existence: idle plus in tasks' hands
  std::vector<std::unique_ptr<PooledConsumer>> idle_;
};

// ---------------------------------------------------------------- one partition's read

namespace {

// Reads offsets [from, until) of one partition into batches of up to
// kMaxBatchRows. The end is reached when a record at or past until - 1 is
// seen, or the partition's end (EOF) or the consumer position is at or past
// until: with transactions (control records, aborted records under
// read_committed) and compaction, offsets have gaps, so counting records
// would never terminate.
class PartitionRead {
 public:
  PartitionRead(std::shared_ptr<ConsumerPool> pool, TopicPartition tp, int64_t from, int64_t until,
                const KafkaSourceOptions& options, std::shared_ptr<std::atomic<int64_t>> data_loss,
                std::shared_ptr<const ValueParsing> parsing)
      : pool_(std::move(pool)),
        tp_(std::move(tp)),
        from_(from),
        until_(until),
        next_(from),
        include_headers_(options.include_headers),
        fail_on_data_loss_(options.fail_on_data_loss),
        poll_timeout_ms_(options.poll_timeout_ms),
        data_loss_(std::move(data_loss)),
        parsing_(std::move(parsing)),
        schema_(KafkaSourceSchema(options.include_headers)) {}

  ~PartitionRead() {
    if (consumer_) {
      if (!done_) consumer_->StopConsuming();  // abandoned mid-range: position unknown
      pool_->Release(std::move(consumer_));
    }
  }

  Result<exec::BatchPtr> Next() {
    if (done_) return nullptr;
    if (!consumer_) {
      ARROW_ASSIGN_OR_RAISE(consumer_, pool_->Acquire(tp_, next_));
    }
    if (parsing_ && !parser_) {
      ARROW_ASSIGN_OR_RAISE(
          parser_, formats::JsonValueParser::Make(parsing_->value_schema, parsing_->options));
    }
    Builders b(include_headers_, parser_ == nullptr);
    int64_t rows = 0;
    int64_t bytes = 0;
    auto last_progress = std::chrono::steady_clock::now();
    rd_kafka_topic_t* rkt = consumer_->Topic(tp_.topic);
    std::vector<rd_kafka_message_t*> msgs(kConsumeBatch);
    while (!done_ && rows < kMaxBatchRows && bytes < kMaxBatchBytes) {
      bool progress = false;
      // Records fetched past the end of an earlier range come first.
      while (!consumer_->leftovers.empty() && !done_ && rows < kMaxBatchRows) {
        KafkaPtr<rd_kafka_message_t> m = std::move(consumer_->leftovers.front());
        consumer_->leftovers.pop_front();
        bool keep = false;
        ARROW_RETURN_NOT_OK(Take(m.get(), &b, &rows, &bytes, &progress, &keep));
        if (keep) consumer_->leftovers.push_front(std::move(m));
      }
      if (done_ || rows >= kMaxBatchRows) break;
      // Take what is queued without waiting (consume_batch would otherwise
      // wait for a full array); only an empty queue waits, for one message.
      // No more than the batch has room for: a whole array past the cap made
      // batches of up to cap + kConsumeBatch rows.
      int64_t want = std::min<int64_t>({kConsumeBatch, std::max<int64_t>(until_ - next_, 0) + 1, kMaxBatchRows - rows});
      ssize_t n = rd_kafka_consume_batch(rkt, tp_.partition, 0, msgs.data(), static_cast<size_t>(want));
      if (n == 0) n = rd_kafka_consume_batch(rkt, tp_.partition, kPollSliceMs, msgs.data(), 1);
      if (n < 0) {
        return Status::IOError("Kafka: reading topic ", tp_.topic, " partition ", tp_.partition, " offsets [", from_,
                               ", ", until_, ") failed at offset ", next_, ": ", KafkaErrorText(rd_kafka_last_error()));
      }
      Status st;
      for (ssize_t i = 0; i < n; ++i) {
        KafkaPtr<rd_kafka_message_t> m(msgs[i]);
        if (!st.ok()) continue;  // drain (destroy) the rest after an error
        if (done_) {
          if (!m->err && m->offset >= until_) consumer_->leftovers.push_back(std::move(m));
          continue;
        }
        bool keep = false;
        st = Take(m.get(), &b, &rows, &bytes, &progress, &keep);
        if (keep) consumer_->leftovers.push_back(std::move(m));
      }
      ARROW_RETURN_NOT_OK(st);
      if (restart_) {
        restart_ = false;
        ARROW_RETURN_NOT_OK(ConsumerPool::StartAt(consumer_.get(), tp_, next_));
        continue;
      }
      rd_kafka_poll(consumer_->rk.get(), 0);  // serves the error callback
      if (!done_ && !progress) {
        // Gaps at the end of the range (control records) show in the position only.
        KafkaPtr<rd_kafka_topic_partition_list_t> list(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), tp_.topic.c_str(), tp_.partition);
        if (rd_kafka_position(consumer_->rk.get(), list.get()) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            list->elems[0].offset >= until_ && list->elems[0].offset != RD_KAFKA_OFFSET_INVALID &&
            consumer_->leftovers.empty()) {
          Finish();
        }
      }
      auto now = std::chrono::steady_clock::now();
      if (progress) {
        last_progress = now;
      } else if (!done_ &&
                 std::chrono::duration_cast<std::chrono::milliseconds>(now - last_progress).count() > poll_timeout_ms_) {
        return Status::IOError("Kafka: timed out after ", poll_timeout_ms_, " ms (kafkaConsumer.pollTimeoutMs) reading ",
                               "topic ", tp_.topic, " partition ", tp_.partition, " offsets [", from_, ", ", until_,
                               "): no record past offset ", next_ - 1, "; last client error: ", consumer_->LastError());
      }
    }
    // Parked at until_: the next batch of this partition (or any other task)
    // can take the consumer now.
    if (done_ && consumer_) pool_->Release(std::move(consumer_));
    if (rows == 0) return nullptr;
    if (!parser_) return b.Finish(schema_, tp_, rows);
    // Values parsed on the way: the parsed fields, then the passthrough columns.
    parsing_->malformed->fetch_add(parser_->malformed() - malformed_reported_);
    malformed_reported_ = parser_->malformed();
    ARROW_ASSIGN_OR_RAISE(auto parsed, parser_->Finish());
    const int64_t kept = parsed.empty() ? b.offset.length() : parsed[0]->length();
    ARROW_ASSIGN_OR_RAISE(auto raw, b.Columns(tp_, kept));
    for (int i : parsing_->passthrough) parsed.push_back(std::move(raw[static_cast<size_t>(i)]));
    return arrow::RecordBatch::Make(parsing_->schema, kept, std::move(parsed));
  }

 private:
  struct Builders {
    Builders(bool headers, bool with_value) : with_value(with_value) {
      if (headers) {
        auto key = std::make_shared<arrow::StringBuilder>();
        auto value = std::make_shared<arrow::BinaryBuilder>();
        auto header_type = arrow::struct_({arrow::field("key", arrow::utf8()), arrow::field("value", arrow::binary())});
        header_struct = std::make_shared<arrow::StructBuilder>(header_type, arrow::default_memory_pool(),
                                                               std::vector<std::shared_ptr<arrow::ArrayBuilder>>{key, value});
        header_key = key.get();
        header_value = value.get();
        header_list = std::make_unique<arrow::ListBuilder>(arrow::default_memory_pool(), header_struct,
                                                           arrow::list(arrow::field("element", header_type)));
      }
    }
    bool with_value;  // false: the values were parsed instead
    arrow::BinaryBuilder key, value;
    arrow::Int64Builder offset;
    arrow::TimestampBuilder timestamp{arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool()};
    arrow::Int32Builder timestamp_type;
    std::shared_ptr<arrow::StructBuilder> header_struct;
    arrow::StringBuilder* header_key = nullptr;
    arrow::BinaryBuilder* header_value = nullptr;
    std::unique_ptr<arrow::ListBuilder> header_list;

    Status Append(const rd_kafka_message_t* m) {
      if (m->key) {
        ARROW_RETURN_NOT_OK(key.Append(static_cast<const uint8_t*>(m->key), static_cast<int32_t>(m->key_len)));
      } else {
        ARROW_RETURN_NOT_OK(key.AppendNull());
      }
      if (with_value) {
        ARROW_RETURN_NOT_OK(m->payload ? value.Append(static_cast<const uint8_t*>(m->payload),
                                                      static_cast<int32_t>(m->len))
                                       : value.AppendNull());
      }
      ARROW_RETURN_NOT_OK(offset.Append(m->offset));
      rd_kafka_timestamp_type_t tstype;
      int64_t ts = rd_kafka_message_timestamp(m, &tstype);
      if (ts >= 0 && tstype != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) {
        ARROW_RETURN_NOT_OK(timestamp.Append(ts * 1000));
      } else {
        ARROW_RETURN_NOT_OK(timestamp.AppendNull());
      }
      // Spark's timestampType: 0 CreateTime, 1 LogAppendTime.
      ARROW_RETURN_NOT_OK(timestamp_type.Append(tstype == RD_KAFKA_TIMESTAMP_CREATE_TIME      ? 0
                                                : tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? 1
                                                                                                : -1));
      if (header_list) {
        rd_kafka_headers_t* hdrs = nullptr;
        if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || !hdrs) {
          ARROW_RETURN_NOT_OK(header_list->AppendNull());
        } else {
          ARROW_RETURN_NOT_OK(header_list->Append());
          const char* name;
          const void* val;
          size_t size;
          for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
            ARROW_RETURN_NOT_OK(header_struct->Append());
            ARROW_RETURN_NOT_OK(header_key->Append(name));
            if (val) {
              ARROW_RETURN_NOT_OK(header_value->Append(static_cast<const uint8_t*>(val), static_cast<int32_t>(size)));
            } else {
              ARROW_RETURN_NOT_OK(header_value->AppendNull());
            }
          }
        }
      }
      return Status::OK();
    }

    // The columns of KafkaSourceSchema; the value column is null when the
    // values were parsed instead (never passed through).
    Result<arrow::ArrayVector> Columns(const TopicPartition& tp, int64_t rows) {
      arrow::ArrayVector cols(header_list ? 8 : 7);
      ARROW_RETURN_NOT_OK(key.Finish(&cols[0]));
      if (with_value) ARROW_RETURN_NOT_OK(value.Finish(&cols[1]));
      ARROW_ASSIGN_OR_RAISE(cols[2], arrow::MakeArrayFromScalar(arrow::StringScalar(tp.topic), rows));
      ARROW_ASSIGN_OR_RAISE(cols[3], arrow::MakeArrayFromScalar(arrow::Int32Scalar(tp.partition), rows));
      ARROW_RETURN_NOT_OK(offset.Finish(&cols[4]));
      ARROW_RETURN_NOT_OK(timestamp.Finish(&cols[5]));
      ARROW_RETURN_NOT_OK(timestamp_type.Finish(&cols[6]));
      if (header_list) ARROW_RETURN_NOT_OK(header_list->Finish(&cols[7]));
      return cols;
    }

    Result<exec::BatchPtr> Finish(const std::shared_ptr<arrow::Schema>& schema,
                                  const TopicPartition& tp, int64_t rows) {
      ARROW_ASSIGN_OR_RAISE(auto cols, Columns(tp, rows));
      return arrow::RecordBatch::Make(schema, rows, std::move(cols));
    }
  };

  void Finish() {
    done_ = true;
    consumer_->parked = true;
    consumer_->next_offset = until_;
  }

  // Handles one fetched message or event.
  // Sets *keep for a record past the range, which the caller parks with the
  // consumer for the next batch.
  Status Take(const rd_kafka_message_t* m, Builders* b, int64_t* rows, int64_t* bytes, bool* progress, bool* keep) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (m->offset >= until_) Finish();
      return Status::OK();
    }
    if (m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE || m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
      return OutOfRange();
    }
    if (m->err) {
      std::lock_guard<std::mutex> lock(consumer_->error_mu);
      consumer_->last_error = KafkaErrorText(m->err);
      return Status::OK();  // transient: librdkafka retries the fetch
    }
    if (m->offset < next_) return Status::OK();
    if (m->offset >= until_) {
      Finish();
      *keep = true;
      return Status::OK();
    }
    bool kept = true;
    if (parser_) {
      current_offset_ = m->offset;
      ARROW_ASSIGN_OR_RAISE(kept, parser_->Append(static_cast<const char*>(m->payload), m->len,
                                                  m->payload == nullptr, where_));
    }
    if (kept) ARROW_RETURN_NOT_OK(b->Append(m));
    ++*rows;
    *bytes += static_cast<int64_t>(m->len + m->key_len);
    *progress = true;
    next_ = m->offset + 1;
    if (next_ >= until_) Finish();
    return Status::OK();
  }

  // The start offset is no longer on the broker (retention, deletion).
  Status OutOfRange() {
    int64_t low = -1, high = -1;
    auto err = rd_kafka_query_watermark_offsets(consumer_->rk.get(), tp_.topic.c_str(), tp_.partition, &low, &high,
                                                static_cast<int>(std::min<int64_t>(poll_timeout_ms_, 30000)));
    std::string where = "Kafka topic " + tp_.topic + " partition " + std::to_string(tp_.partition);
    if (err) {
      return Status::IOError(where, ": offset ", next_, " is out of range and the watermarks cannot be read: ",
                             KafkaErrorText(err));
    }
    if (next_ >= high) {
      return Status::Invalid(where, ": offset ", next_, " is past the end of the partition (latest offset ", high,
                             "); the topic may have been deleted and re-created");
    }
    if (fail_on_data_loss_ || low <= next_) {
      return Status::Invalid(where, ": offsets [", next_, ", ", std::min(low, until_),
                             ") are no longer available (earliest available offset is ", low, ", latest ", high,
                             "); they were removed by retention or deletion before the query read them. Set the "
                             "option failOnDataLoss=false to skip lost offsets");
    }
    int64_t resume = std::min(low, until_);
    data_loss_->fetch_add(resume - next_);
    next_ = resume;
    if (next_ >= until_) {
      consumer_->StopConsuming();
      done_ = true;
      return Status::OK();
    }
    restart_ = true;  // after the fetched messages are released
    return Status::OK();
  }

  std::shared_ptr<ConsumerPool> pool_;
  TopicPartition tp_;
  int64_t from_, until_, next_;
  bool include_headers_, fail_on_data_loss_;
  int64_t poll_timeout_ms_;
  std::shared_ptr<std::atomic<int64_t>> data_loss_;
  std::shared_ptr<const ValueParsing> parsing_;  // null: values kept as they are
  std::unique_ptr<formats::JsonValueParser> parser_;
  int64_t malformed_reported_ = 0;
  int64_t current_offset_ = -1;  // of the value being parsed, for FAILFAST errors
  const std::function<std::string()> where_ = [this] {
    return fmt::format("topic {}, partition {}, offset {}", tp_.topic, tp_.partition,
                       current_offset_);
  };
  std::shared_ptr<arrow::Schema> schema_;
  std::unique_ptr<PooledConsumer> consumer_;
  bool done_ = false;
  bool restart_ = false;  // an out-of-range start skipped ahead (failOnDataLoss=false)
};

}  // namespace

// ---------------------------------------------------------------- the source

KafkaSource::KafkaSource(KafkaSourceOptions options, KafkaPtr<rd_kafka_t> meta, std::shared_ptr<ConsumerPool> pool)
    : options_(std::move(options)),
      schema_(KafkaSourceSchema(options_.include_headers)),
      meta_(std::move(meta)),
      pool_(std::move(pool)),
      last_trigger_(std::chrono::steady_clock::now()),
      data_loss_offsets_(std::make_shared<std::atomic<int64_t>>(0)) {}

KafkaSource::~KafkaSource() { Stop(); }

Result<std::unique_ptr<KafkaSource>> KafkaSource::Make(const Options& options, const SourceContext& context) {
  ARROW_ASSIGN_OR_RAISE(auto parsed, KafkaSourceOptions::Parse(options, context));
  std::optional<std::regex> pattern;
  if (!parsed.subscribe_pattern.empty()) {
    try {
      pattern.emplace(parsed.subscribe_pattern);
    } catch (const std::regex_error& e) {
      return UserError("option 'subscribePattern': '{}' is not a valid regular expression: {}",
                       parsed.subscribe_pattern, e.what());
    }
  }
  KafkaConfig meta_config = parsed.config;
  meta_config["enable.auto.commit"] = "false";
  ARROW_ASSIGN_OR_RAISE(auto meta, CreateHandle(RD_KAFKA_CONSUMER, meta_config, "Kafka source"));
  auto pool = std::make_shared<ConsumerPool>(parsed.config, parsed.consumer_cache_capacity);
  std::unique_ptr<KafkaSource> source(new KafkaSource(std::move(parsed), std::move(meta), std::move(pool)));
  source->pattern_ = std::move(pattern);
  source->meta_config_ = std::move(meta_config);
  return source;
}

std::string KafkaSource::Description() const {
  std::string what;
  if (!options_.subscribe.empty()) {
    std::string topics;
    for (const auto& t : options_.subscribe) topics += (topics.empty() ? "" : ",") + t;
    what = "Subscribe[" + topics + "]";
  } else if (!options_.subscribe_pattern.empty()) {
    what = "SubscribePattern[" + options_.subscribe_pattern + "]";
  } else {
    std::string parts;
    for (const auto& tp : options_.assign) parts += (parts.empty() ? "" : ", ") + tp.ToString();
    what = "Assign[" + parts + "]";
  }
  return "KafkaV2[" + what + "]";
}

template <typename F>
auto KafkaSource::WithMetaHandle(F&& f) -> decltype(f(nullptr, OffsetFetchPolicy{})) {
  // After a broker restart a long-lived handle can keep answering from stale
  // metadata (UNKNOWN_TOPIC_OR_PART for partitions that are back), so every
  // retry bootstraps a new handle instead of asking the old one again.
  const OffsetFetchPolicy& policy = options_.fetch_policy;
  OffsetFetchPolicy once = policy;
  once.num_retries = 0;
  auto result = f(meta_.get(), once);
  for (int i = 0; i < policy.num_retries && !result.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(policy.retry_interval_ms));
    auto fresh = CreateHandle(RD_KAFKA_CONSUMER, meta_config_, "Kafka source");
    if (fresh.ok()) meta_ = std::move(*fresh);
    result = f(meta_.get(), once);
  }
  if (!result.ok()) {
    const Status& st = result.status();
    return st.WithMessage(st.message(), " (bootstrap.servers '", policy.servers, "'; after ", policy.num_retries,
                          " retries, ", policy.request_timeout_ms, " ms each)");
  }
  return result;
}

Result<std::vector<TopicPartition>> KafkaSource::CurrentPartitions() {
  if (!options_.assign.empty()) return options_.assign;
  ARROW_ASSIGN_OR_RAISE(auto topics, WithMetaHandle([](rd_kafka_t* rk, const OffsetFetchPolicy& p) { return ListTopics(rk, p); }));
  std::vector<TopicPartition> out;
  auto add = [&](const std::string& topic, int32_t count) {
    for (int32_t p = 0; p < count; ++p) out.push_back({topic, p});
  };
  if (pattern_) {
    for (const auto& [topic, count] : topics) {
      // Internal topics (__consumer_offsets, our sink's markers) never match, as in Kafka.
      if (topic.rfind("__", 0) == 0) continue;
      if (std::regex_match(topic, *pattern_)) add(topic, count);
    }
  } else {
    for (const auto& topic : options_.subscribe) {
      auto it = topics.find(topic);
      if (it != topics.end()) add(topic, it->second);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<PartitionOffsets> KafkaSource::ResolveStart(const std::string& spec,
                                                   const std::vector<TopicPartition>& partitions,
                                                   const std::map<TopicPartition, Watermarks>& marks) {
  PartitionOffsets out;
  auto lower = Lower(spec);
  if (lower == "earliest" || lower == "latest") {
    for (const auto& tp : partitions) out[tp] = lower == "earliest" ? marks.at(tp).low : marks.at(tp).high;
    return out;
  }
  Json json = Json::parse(spec, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return UserError("option 'startingOffsets' must be 'earliest', 'latest' or JSON like {{\"topic\":{{\"0\":23}}}}, "
                     "got '{}'",
                     spec);
  }
  ARROW_ASSIGN_OR_RAISE(auto given, OffsetsFromJson(json, "option 'startingOffsets'"));
  std::set<TopicPartition> known(partitions.begin(), partitions.end());
  for (const auto& [tp, offset] : given) {
    if (!known.count(tp)) {
      return UserError("option 'startingOffsets' names topic {} partition {}, which this source does not read", tp.topic,
                       tp.partition);
    }
  }
  // Partitions the JSON leaves out start at earliest, like partitions
  // discovered later.
  for (const auto& tp : partitions) {
    auto it = given.find(tp);
    int64_t v = it == given.end() ? -2 : it->second;
    out[tp] = v == -2 ? marks.at(tp).low : v == -1 ? marks.at(tp).high : v;
  }
  return out;
}

Result<Json> KafkaSource::InitialOffset() {
  ARROW_ASSIGN_OR_RAISE(auto partitions, CurrentPartitions());
  if (options_.starting_timestamp) {
    ARROW_ASSIGN_OR_RAISE(auto start,
                          WithMetaHandle([&](rd_kafka_t* rk, const OffsetFetchPolicy& p) {
                            return OffsetsForTimestamp(rk, partitions, *options_.starting_timestamp, p);
                          }));
    return OffsetsToJson(start);
  }
  ARROW_ASSIGN_OR_RAISE(auto marks, WithMetaHandle([&](rd_kafka_t* rk, const OffsetFetchPolicy& p) { return QueryWatermarks(rk, partitions, p); }));
  ARROW_ASSIGN_OR_RAISE(auto start, ResolveStart(options_.starting_offsets, partitions, marks));
  return OffsetsToJson(start);
}

Result<PartitionOffsets> KafkaSource::AvailableOffsets(std::map<TopicPartition, Watermarks>* marks,
                                                       const PartitionOffsets* from) {
  ARROW_ASSIGN_OR_RAISE(auto partitions, CurrentPartitions());
  // Low watermarks only where a read will start at one: partitions new to
  // `from`. (Retention below a known position is found by the read itself,
  // PartitionRead::OutOfRange.)
  std::vector<TopicPartition> with_low;
  if (from) {
    for (const auto& tp : partitions) {
      if (!from->count(tp)) with_low.push_back(tp);
    }
  }
  ARROW_ASSIGN_OR_RAISE(*marks, WithMetaHandle([&](rd_kafka_t* rk, const OffsetFetchPolicy& p) {
    return QueryWatermarks(rk, partitions, with_low, p);
  }));
  PartitionOffsets latest;
  for (const auto& [tp, m] : *marks) latest[tp] = m.high;
  if (!ending_cap_ && Lower(options_.ending_offsets) != "latest") {
    Json json = Json::parse(options_.ending_offsets, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
      return UserError("option 'endingOffsets' must be 'latest' or JSON like {{\"topic\":{{\"0\":23}}}}, got '{}'",
                       options_.ending_offsets);
    }
    ARROW_ASSIGN_OR_RAISE(auto cap, OffsetsFromJson(json, "option 'endingOffsets'"));
    for (auto& [tp, offset] : cap) {
      if (offset == -2) return UserError("option 'endingOffsets' cannot use -2 (earliest) for {}", tp.ToString());
      if (offset == -1) {
        auto it = latest.find(tp);
        if (it == latest.end()) return UserError("option 'endingOffsets' names {}, which this source does not read", tp.ToString());
        offset = it->second;
      }
    }
    ending_cap_ = std::move(cap);
  }
  if (ending_cap_) {
    // Partitions endingOffsets leaves out read up to latest.
    for (auto& [tp, offset] : latest) {
      auto it = ending_cap_->find(tp);
      if (it != ending_cap_->end()) offset = std::min(offset, it->second);
    }
  }
  if (available_now_cap_) {
    PartitionOffsets capped;  // partitions that appear later are not read
    for (const auto& [tp, offset] : latest) {
      auto it = available_now_cap_->find(tp);
      if (it != available_now_cap_->end()) capped[tp] = std::min(offset, it->second);
    }
    latest = std::move(capped);
  }
  return latest;
}

Status KafkaSource::PrepareForAvailableNow() {
  std::map<TopicPartition, Watermarks> marks;
  ARROW_ASSIGN_OR_RAISE(auto latest, AvailableOffsets(&marks, nullptr));
  available_now_cap_ = std::move(latest);
  return Status::OK();
}

Status KafkaSource::DataLoss(const std::string& message) {
  if (options_.fail_on_data_loss) {
    return Status::Invalid(message,
                           ". Some data may have been lost because it is no longer available in Kafka (retention, "
                           "deletion, or the topic was re-created). Set the option failOnDataLoss=false to continue");
  }
  return Status::OK();
}

Result<Json> KafkaSource::LatestOffset(const Json& start_json) {
  PartitionOffsets from;
  if (!start_json.is_null()) {
    ARROW_ASSIGN_OR_RAISE(from, OffsetsFromJson(start_json, "Kafka start offset"));
  }
  std::map<TopicPartition, Watermarks> marks;
  ARROW_ASSIGN_OR_RAISE(auto latest, AvailableOffsets(&marks, &from));
  new_partition_lows_.clear();
  for (const auto& [tp, m] : marks) {
    if (m.low >= 0) new_partition_lows_[tp] = m.low;
  }
  new_partition_lows_at_ = std::chrono::steady_clock::now();

  PartitionOffsets begin;  // where each partition's next batch begins
  PartitionOffsets end = latest;
  for (const auto& [tp, offset] : from) {
    auto it = latest.find(tp);
    if (it == latest.end()) {
      if (marks.find(tp) == marks.end()) {
        ARROW_RETURN_NOT_OK(
            DataLoss(fmt::format("Kafka topic {} partition {} is gone (the source was at offset {})", tp.topic,
                                 tp.partition, offset)));
      }
      end[tp] = offset;  // keep it, without reading
      continue;
    }
    if (it->second < offset) {
      ARROW_RETURN_NOT_OK(DataLoss(fmt::format(
          "Kafka topic {} partition {}: the latest offset {} is below the source's offset {} (offsets were reset)",
          tp.topic, tp.partition, it->second, offset)));
    }
    begin[tp] = offset;
  }
  for (const auto& [tp, offset] : latest) {
    if (!begin.count(tp) && !from.count(tp)) begin[tp] = marks.count(tp) ? marks[tp].low : 0;  // new: earliest
  }

  int64_t total = 0;
  std::map<TopicPartition, int64_t> sizes;
  for (const auto& [tp, until] : latest) {
    auto b = begin.find(tp);
    if (b != begin.end() && until > b->second) {
      sizes[tp] = until - b->second;
      total += until - b->second;
    }
  }
  auto now = std::chrono::steady_clock::now();
  if (options_.min_offsets_per_trigger && total < *options_.min_offsets_per_trigger &&
      std::chrono::duration_cast<std::chrono::milliseconds>(now - last_trigger_).count() <
          options_.max_trigger_delay_ms) {
    last_latest_ = latest;
    return start_json.is_null() ? OffsetsToJson(from) : start_json;
  }
  if (options_.max_offsets_per_trigger && total > 0) {
    // Spark's rate limit: each partition gets its share of the limit, at
    // least one offset so a small partition is never starved.
    const double limit = static_cast<double>(*options_.max_offsets_per_trigger);
    for (const auto& [tp, size] : sizes) {
      double prorate = limit * (static_cast<double>(size) / static_cast<double>(total));
      auto step = static_cast<int64_t>(prorate < 1 ? std::ceil(prorate) : std::floor(prorate));
      int64_t b = begin[tp];
      int64_t off = step > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max() : b + step;
      end[tp] = std::min(latest[tp], off);
    }
  }
  // A new partition with nothing to read still enters the offsets at its
  // earliest offset (equal to its end), so later batches start there.
  for (const auto& [tp, b] : begin) {
    if (!from.count(tp) && !sizes.count(tp)) end[tp] = std::max<int64_t>(b, end[tp]);
  }
  if (end != from) last_trigger_ = now;
  last_latest_ = latest;
  last_end_ = end;
  return OffsetsToJson(end);
}

Result<std::vector<exec::ScanTask>> KafkaSource::PlanBatch(const Json& start_json, const Json& end_json) {
  PartitionOffsets from;
  if (!start_json.is_null()) {
    ARROW_ASSIGN_OR_RAISE(from, OffsetsFromJson(start_json, "Kafka batch start offset"));
  }
  ARROW_ASSIGN_OR_RAISE(auto until, OffsetsFromJson(end_json, "Kafka batch end offset"));
  std::vector<TopicPartition> candidates;
  for (const auto& [tp, u] : until) {
    auto it = from.find(tp);
    if (it == from.end() || it->second < u) candidates.push_back(tp);
  }
  std::vector<exec::ScanTask> tasks;
  if (candidates.empty()) return tasks;
  // A partition new to `from` starts at its low watermark: the one the
  // LatestOffset that planned this batch looked up (a replayed batch asks
  // again). Each broker round trip is on the path of every small batch's
  // freshness; this one used to look up every partition's watermarks again,
  // for retention checks that the read itself makes (PartitionRead::OutOfRange
  // reports or skips offsets gone before the read, under failOnDataLoss).
  std::vector<TopicPartition> need_low;
  for (const auto& tp : candidates) {
    if (!from.count(tp)) need_low.push_back(tp);
  }
  std::map<TopicPartition, int64_t> lows;
  if (!need_low.empty()) {
    bool known =
        std::chrono::steady_clock::now() - new_partition_lows_at_ < std::chrono::seconds(10);
    for (const auto& tp : need_low) known = known && new_partition_lows_.count(tp);
    if (known) {
      for (const auto& tp : need_low) lows[tp] = new_partition_lows_[tp];
    } else {
      ARROW_ASSIGN_OR_RAISE(auto marks,
                            WithMetaHandle([&](rd_kafka_t* rk, const OffsetFetchPolicy& p) {
                              return QueryWatermarks(rk, need_low, need_low, p);
                            }));
      for (const auto& [tp, m] : marks) lows[tp] = m.low;
    }
  }
  for (const auto& tp : candidates) {
    int64_t u = until[tp];
    auto it = from.find(tp);
    int64_t b = it == from.end() ? lows[tp] : it->second;
    if (b >= u) continue;
    auto pool = pool_;
    auto data_loss = data_loss_offsets_;
    KafkaSourceOptions read_options;
    read_options.include_headers = options_.include_headers;
    read_options.fail_on_data_loss = options_.fail_on_data_loss;
    read_options.poll_timeout_ms = options_.poll_timeout_ms;
    auto parsing = parsing_;
    tasks.push_back([pool, tp, b, u, read_options, data_loss,
                     parsing]() -> Result<exec::BatchIterator> {
      auto read = std::make_shared<PartitionRead>(pool, tp, b, u, read_options, data_loss, parsing);
      return exec::BatchIterator([read]() { return read->Next(); });
    });
  }
  return tasks;
}

bool KafkaSource::ParseValuesWhileReading(const ValueParsing& parsing) {
  parsing_ = std::make_shared<const ValueParsing>(parsing);
  schema_ = parsing.schema;
  return true;
}

SourceMetrics KafkaSource::TakeMetrics() {
  SourceMetrics m;
  if (!last_latest_.empty()) {
    int64_t sum = 0, max = std::numeric_limits<int64_t>::min(), min = std::numeric_limits<int64_t>::max();
    int64_t n = 0;
    for (const auto& [tp, latest] : last_latest_) {
      auto it = last_end_.find(tp);
      int64_t behind = std::max<int64_t>(0, latest - (it == last_end_.end() ? latest : it->second));
      sum += behind;
      max = std::max(max, behind);
      min = std::min(min, behind);
      ++n;
    }
    m["avgOffsetsBehindLatest"] = std::to_string(static_cast<double>(sum) / static_cast<double>(n));
    m["maxOffsetsBehindLatest"] = std::to_string(max);
    m["minOffsetsBehindLatest"] = std::to_string(min);
  }
  int64_t lost = data_loss_offsets_->exchange(0);
  if (lost > 0) m["dataLossOffsets"] = std::to_string(lost);
  return m;
}

void KafkaSource::Stop() {
  if (pool_) pool_->Close();
}

}  // namespace lakestream::connectors::kafka
