#include "connectors/kafka/kafka_sink.h"

#include <arrow/array.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

namespace lakestream::connectors::kafka {

namespace {

using Clock = std::chrono::steady_clock;

// A STRING or BINARY column (32- or 64-bit offsets) read as bytes.
class BytesColumn {
 public:
  static bool Accepts(const arrow::DataType& type) {
    switch (type.id()) {
      case arrow::Type::STRING:
      case arrow::Type::BINARY:
      case arrow::Type::LARGE_STRING:
      case arrow::Type::LARGE_BINARY:
        return true;
      default:
        return false;
    }
  }
  explicit BytesColumn(const std::shared_ptr<arrow::Array>& array) : array_(array) {
    if (array->type_id() == arrow::Type::LARGE_STRING || array->type_id() == arrow::Type::LARGE_BINARY) {
      large_ = static_cast<const arrow::LargeBinaryArray*>(array.get());
    } else {
      small_ = static_cast<const arrow::BinaryArray*>(array.get());
    }
  }
  bool IsNull(int64_t i) const { return array_->IsNull(i); }
  std::string_view View(int64_t i) const { return small_ ? small_->GetView(i) : large_->GetView(i); }

 private:
  std::shared_ptr<arrow::Array> array_;
  const arrow::BinaryArray* small_ = nullptr;
  const arrow::LargeBinaryArray* large_ = nullptr;
};

// Where the sink's columns are in a schema, checked against what Spark accepts.
struct ColumnPlan {
  int value = -1, key = -1, topic = -1, partition = -1, headers = -1;

  static Result<ColumnPlan> Make(const arrow::Schema& schema, bool have_topic_option) {
    ColumnPlan plan;
    for (int i = 0; i < schema.num_fields(); ++i) {
      std::string name = schema.field(i)->name();
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      const auto& type = *schema.field(i)->type();
      if (name == "value") {
        if (!BytesColumn::Accepts(type)) {
          return UserError("Kafka sink: column 'value' must be STRING or BINARY, got {}", type.ToString());
        }
        plan.value = i;
      } else if (name == "key") {
        if (!BytesColumn::Accepts(type)) {
          return UserError("Kafka sink: column 'key' must be STRING or BINARY, got {}", type.ToString());
        }
        plan.key = i;
      } else if (name == "topic") {
        if (type.id() != arrow::Type::STRING && type.id() != arrow::Type::LARGE_STRING) {
          return UserError("Kafka sink: column 'topic' must be STRING, got {}", type.ToString());
        }
        plan.topic = i;
      } else if (name == "partition") {
        if (type.id() != arrow::Type::INT32 && type.id() != arrow::Type::INT64) {
          return UserError("Kafka sink: column 'partition' must be INT, got {}", type.ToString());
        }
        plan.partition = i;
      } else if (name == "headers") {
        bool ok = false;
        if (type.id() == arrow::Type::LIST) {
          const auto& item = *static_cast<const arrow::ListType&>(type).value_type();
          if (item.id() == arrow::Type::STRUCT && item.num_fields() == 2 &&
              BytesColumn::Accepts(*item.field(0)->type()) && BytesColumn::Accepts(*item.field(1)->type())) {
            ok = true;
          }
        }
        if (!ok) {
          return UserError("Kafka sink: column 'headers' must be ARRAY<STRUCT<key: STRING, value: BINARY>>, got {}",
                           type.ToString());
        }
        plan.headers = i;
      }
    }
    if (plan.value < 0) {
      return UserError("Kafka sink: the rows need a 'value' column (STRING or BINARY); got columns {}",
                       schema.ToString());
    }
    if (plan.topic < 0 && !have_topic_option) {
      return UserError("Kafka sink: no topic: give the option 'topic' or a 'topic' column");
    }
    return plan;
  }
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (!m->err) return;
  auto* d = static_cast<KafkaSink::Deliveries*>(opaque);
  std::lock_guard<std::mutex> lock(d->mu);
  if (d->failed++ == 0) {
    d->first_error = std::string("topic ") + rd_kafka_topic_name(m->rkt) + " partition " +
                     std::to_string(m->partition) + ": " + KafkaErrorText(m->err);
  }
}

std::string ErrorText(rd_kafka_error_t* e) {
  return std::string(rd_kafka_error_name(e)) + ": " + rd_kafka_error_string(e);
}

}  // namespace

std::string KafkaSinkControlTopic(const std::string& query_id) {
  std::string out = "__lakestream_sink_";
  for (char c : query_id) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  if (out.size() > 249) out.resize(249);  // Kafka's topic name limit
  return out;
}

Result<KafkaSinkOptions> KafkaSinkOptions::Parse(const Options& options) {
  KafkaSinkOptions o;
  ARROW_ASSIGN_OR_RAISE(o.config, KafkaConfigFromOptions(options));
  o.topic = GetOption(options, "topic").value_or("");
  auto tid = o.config.find("transactional.id");
  if (tid != o.config.end()) {
    o.transactional_id = tid->second;
  } else if (auto v = GetOption(options, "transactional.id")) {
    o.transactional_id = *v;
    o.config["transactional.id"] = *v;
  }
  ARROW_ASSIGN_OR_RAISE(o.timeout_ms, GetIntOption(options, "kafkaProducer.timeoutMs", 120000));
  if (o.timeout_ms <= 0) return UserError("option 'kafkaProducer.timeoutMs' must be positive");
  // Idempotence by default (no duplicates from retries); the user may turn it off.
  o.config.emplace("enable.idempotence", "true");
  return o;
}

KafkaSink::KafkaSink(KafkaSinkOptions options, SinkContext context)
    : options_(std::move(options)), context_(std::move(context)) {
  control_topic_ = KafkaSinkControlTopic(context_.query_id.empty() ? options_.transactional_id : context_.query_id);
}

KafkaSink::~KafkaSink() { Stop(); }

Result<std::unique_ptr<KafkaSink>> KafkaSink::Make(const Options& options, const SinkContext& context) {
  ARROW_ASSIGN_OR_RAISE(auto parsed, KafkaSinkOptions::Parse(options));
  return std::unique_ptr<KafkaSink>(new KafkaSink(std::move(parsed), context));
}

std::string KafkaSink::Description() const {
  std::string out = "KafkaSink[" + (options_.topic.empty() ? std::string("<topic column>") : options_.topic);
  if (!options_.transactional_id.empty()) out += ", transactional.id=" + options_.transactional_id;
  return out + "]";
}

Status KafkaSink::Prepare(const std::shared_ptr<arrow::Schema>& schema) {
  ARROW_RETURN_NOT_OK(ColumnPlan::Make(*schema, !options_.topic.empty()).status());
  return Open();
}

Status KafkaSink::Open() {
  if (producer_) return Status::OK();
  ARROW_ASSIGN_OR_RAISE(producer_, CreateHandle(RD_KAFKA_PRODUCER, options_.config, "Kafka sink producer",
                                                deliveries_.get(), [](rd_kafka_conf_t* conf) {
                                                  rd_kafka_conf_set_dr_msg_cb(conf, &OnDelivery);
                                                }));
  if (options_.transactional_id.empty()) return Status::OK();
  // Fences any older producer with this transactional.id and aborts its open
  // transaction, so the control topic below shows only committed batches.
  KafkaPtr<rd_kafka_error_t> err(rd_kafka_init_transactions(producer_.get(), static_cast<int>(options_.timeout_ms)));
  if (err) {
    std::string text = ErrorText(err.get());
    producer_.reset();
    return Status::IOError("Kafka sink: cannot start transactions for transactional.id '", options_.transactional_id,
                           "': ", text);
  }
  ARROW_RETURN_NOT_OK(EnsureControlTopic());
  ARROW_ASSIGN_OR_RAISE(last_committed_batch_, ReadLastCommittedBatch());
  return Status::OK();
}

Status KafkaSink::EnsureControlTopic() {
  // A metadata request for the topic finds it (or has a broker that
  // auto-creates topics create it); only when it is still missing is it
  // created explicitly, with one partition. Only partition 0 is ever used, so
  // an auto-created topic with more partitions works too.
  const int timeout = static_cast<int>(std::min<int64_t>(options_.timeout_ms, 10000));
  auto exists = [&]() {
    KafkaPtr<rd_kafka_topic_t> rkt(rd_kafka_topic_new(producer_.get(), control_topic_.c_str(), nullptr));
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(producer_.get(), 0, rkt.get(), &md, timeout) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    KafkaPtr<const rd_kafka_metadata_t> guard(md);
    return md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].partition_cnt > 0;
  };
  if (exists()) return Status::OK();
  KafkaPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(producer_.get()));
  char errstr[256];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(control_topic_.c_str(), 1, -1, errstr, sizeof(errstr));
  if (!nt) return InternalError("Kafka sink: cannot describe control topic {}: {}", control_topic_, errstr);
  rd_kafka_CreateTopics(producer_.get(), &nt, 1, nullptr, queue.get());
  rd_kafka_NewTopic_destroy(nt);
  std::string problem = "no answer from the cluster";
  if (rd_kafka_event_t* ev = rd_kafka_queue_poll(queue.get(), timeout)) {
    const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t** topics = res ? rd_kafka_CreateTopics_result_topics(res, &n) : nullptr;
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    if (!err && n == 1) err = rd_kafka_topic_result_error(topics[0]);
    problem = err ? KafkaErrorText(err) : "";
    rd_kafka_event_destroy(ev);
    if (!err || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return Status::OK();
  }
  if (exists()) return Status::OK();
  return Status::IOError("Kafka sink: cannot create control topic ", control_topic_,
                         " (it records committed batch ids of transactional.id '", options_.transactional_id,
                         "'): ", problem);
}

Result<int64_t> KafkaSink::ReadLastCommittedBatch() {
  KafkaConfig config = options_.config;
  config.erase("transactional.id");
  config.erase("enable.idempotence");
  for (auto it = config.begin(); it != config.end();) {
    // Producer-only properties would make the consumer warn; keep the rest (security, addresses).
    const auto& k = it->first;
    bool producer_only = k.rfind("transaction", 0) == 0 || k == "acks" || k.rfind("linger", 0) == 0 ||
                         k.rfind("batch.", 0) == 0 || k.rfind("queue.buffering", 0) == 0 ||
                         k.rfind("compression", 0) == 0 || k == "message.timeout.ms" || k == "delivery.timeout.ms";
    it = producer_only ? config.erase(it) : std::next(it);
  }
  config["isolation.level"] = "read_committed";
  config["enable.partition.eof"] = "true";
  config["enable.auto.commit"] = "false";
  config["auto.offset.reset"] = "error";
  ARROW_ASSIGN_OR_RAISE(auto consumer, CreateHandle(RD_KAFKA_CONSUMER, config, "Kafka sink control reader"));
  const int timeout = static_cast<int>(std::min<int64_t>(options_.timeout_ms, 30000));
  int64_t low = 0, high = 0;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  auto deadline = Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
  do {
    err = rd_kafka_query_watermark_offsets(consumer.get(), control_topic_.c_str(), 0, &low, &high, timeout);
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
        err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
      return -1;  // no batch was ever committed
    }
    if (err) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (err && Clock::now() < deadline);
  if (err) {
    return Status::IOError("Kafka sink: cannot read the offsets of control topic ", control_topic_, ": ",
                           KafkaErrorText(err));
  }
  int64_t best = -1;
  // Read backwards in growing windows until a marker shows up: the last
  // committed transaction's marker is near the end (its commit marker and
  // aborted transactions' records may follow it).
  for (int64_t window = 64; high > low; window *= 8) {
    int64_t from = std::max(low, high - window);
    KafkaPtr<rd_kafka_topic_t> rkt(rd_kafka_topic_new(consumer.get(), control_topic_.c_str(), nullptr));
    if (rd_kafka_consume_start(rkt.get(), 0, from) != 0) {
      return Status::IOError("Kafka sink: cannot read control topic ", control_topic_, ": ",
                             KafkaErrorText(rd_kafka_last_error()));
    }
    bool done = false;
    Status st;
    auto read_deadline = Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    while (!done && st.ok()) {
      rd_kafka_message_t* msgs[256];
      ssize_t n = rd_kafka_consume_batch(rkt.get(), 0, 100, msgs, 256);
      for (ssize_t i = 0; i < n; ++i) {
        KafkaPtr<rd_kafka_message_t> m(msgs[i]);
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          if (m->offset >= high) done = true;
        } else if (m->err) {
          if (st.ok() && (m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE || rd_kafka_fatal_error(consumer.get(), nullptr, 0))) {
            st = Status::IOError("Kafka sink: reading control topic ", control_topic_, ": ", KafkaErrorText(m->err));
          }
        } else {
          if (m->offset + 1 >= high) done = true;
          Json j = Json::parse(static_cast<const char*>(m->payload), static_cast<const char*>(m->payload) + m->len,
                               nullptr, false);
          if (j.is_object() && j.contains("batchId") && j["batchId"].is_number_integer() &&
              j.value("queryId", std::string()) == context_.query_id) {
            best = std::max(best, j["batchId"].get<int64_t>());
          }
        }
      }
      if (!done && Clock::now() > read_deadline) {
        st = Status::IOError("Kafka sink: timed out reading control topic ", control_topic_, " offsets [", from, ", ",
                             high, ")");
      }
    }
    rd_kafka_consume_stop(rkt.get(), 0);
    ARROW_RETURN_NOT_OK(st);
    if (best >= 0 || from == low) break;
  }
  return best;
}

Status KafkaSink::Produce(const std::string& topic, int32_t partition, std::string_view key, bool has_key,
                          std::string_view value, bool has_value, rd_kafka_headers_t* headers) {
  auto deadline = Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(has_value ? const_cast<char*>(value.data()) : nullptr, has_value ? value.size() : 0),
        RD_KAFKA_V_KEY(has_key ? key.data() : nullptr, has_key ? key.size() : 0),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();  // headers now owned by the message
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && Clock::now() < deadline) {
      rd_kafka_poll(producer_.get(), 50);  // let deliveries drain the queue
      continue;
    }
    if (headers) rd_kafka_headers_destroy(headers);
    return Status::IOError("Kafka sink: cannot produce to topic ", topic, ": ", KafkaErrorText(err));
  }
}

Status KafkaSink::ProduceRows(const std::shared_ptr<arrow::Schema>& schema,
                              const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) {
  ARROW_ASSIGN_OR_RAISE(auto plan, ColumnPlan::Make(*schema, !options_.topic.empty()));
  std::string topic_buf;
  for (const auto& batch : batches) {
    if (!batch || batch->num_rows() == 0) continue;
    BytesColumn value(batch->column(plan.value));
    std::optional<BytesColumn> key, topic;
    if (plan.key >= 0) key.emplace(batch->column(plan.key));
    if (plan.topic >= 0) topic.emplace(batch->column(plan.topic));
    std::shared_ptr<arrow::Array> partition = plan.partition >= 0 ? batch->column(plan.partition) : nullptr;
    const arrow::ListArray* headers =
        plan.headers >= 0 ? static_cast<const arrow::ListArray*>(batch->column(plan.headers).get()) : nullptr;
    std::optional<BytesColumn> header_keys, header_values;
    if (headers) {
      const auto& items = static_cast<const arrow::StructArray&>(*headers->values());
      header_keys.emplace(items.field(0));
      header_values.emplace(items.field(1));
    }
    for (int64_t row = 0; row < batch->num_rows(); ++row) {
      const std::string* topic_name = &options_.topic;
      if (topic && !topic->IsNull(row)) {
        auto t = topic->View(row);
        if (t != topic_buf) topic_buf.assign(t);
        topic_name = &topic_buf;
      }
      if (topic_name->empty()) {
        return UserError("Kafka sink: row {} has a NULL topic and no option 'topic' is set", row);
      }
      int32_t part = RD_KAFKA_PARTITION_UA;
      if (partition && !partition->IsNull(row)) {
        part = partition->type_id() == arrow::Type::INT32
                   ? static_cast<const arrow::Int32Array&>(*partition).Value(row)
                   : static_cast<int32_t>(static_cast<const arrow::Int64Array&>(*partition).Value(row));
      }
      rd_kafka_headers_t* hdrs = nullptr;
      if (headers && !headers->IsNull(row)) {
        int64_t begin = headers->value_offset(row), end = headers->value_offset(row + 1);
        hdrs = rd_kafka_headers_new(static_cast<size_t>(end - begin));
        for (int64_t h = begin; h < end; ++h) {
          if (header_keys->IsNull(h)) continue;
          auto k = header_keys->View(h);
          bool has_v = !header_values->IsNull(h);
          auto v = has_v ? header_values->View(h) : std::string_view();
          rd_kafka_header_add(hdrs, k.data(), static_cast<ssize_t>(k.size()), has_v ? v.data() : nullptr,
                              has_v ? static_cast<ssize_t>(v.size()) : 0);
        }
      }
      bool has_key = key && !key->IsNull(row);
      bool has_value = !value.IsNull(row);
      ARROW_RETURN_NOT_OK(Produce(*topic_name, part, has_key ? key->View(row) : std::string_view(), has_key,
                                  has_value ? value.View(row) : std::string_view(), has_value, hdrs));
    }
    rd_kafka_poll(producer_.get(), 0);  // serve delivery reports as we go
  }
  return Status::OK();
}

Status KafkaSink::CheckDeliveries(int64_t batch_id) {
  std::lock_guard<std::mutex> lock(deliveries_->mu);
  if (deliveries_->failed == 0) return Status::OK();
  auto st = Status::IOError("Kafka sink: batch ", batch_id, ": ", deliveries_->failed,
                            " record(s) were not delivered; first failure: ", deliveries_->first_error);
  deliveries_->failed = 0;
  deliveries_->first_error.clear();
  return st;
}

Status KafkaSink::AbortAfter(const Status& cause) {
  KafkaPtr<rd_kafka_error_t> err(rd_kafka_abort_transaction(producer_.get(), static_cast<int>(options_.timeout_ms)));
  if (err) producer_.reset();  // start over (re-fence) on the next batch
  {
    std::lock_guard<std::mutex> lock(deliveries_->mu);
    deliveries_->failed = 0;
    deliveries_->first_error.clear();
  }
  return cause;
}

Status KafkaSink::AddBatch(int64_t batch_id, const std::shared_ptr<arrow::Schema>& schema,
                           const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) {
  ARROW_RETURN_NOT_OK(Open());
  const int timeout = static_cast<int>(options_.timeout_ms);
  if (options_.transactional_id.empty()) {
    ARROW_RETURN_NOT_OK(ProduceRows(schema, batches));
    auto err = rd_kafka_flush(producer_.get(), timeout);
    ARROW_RETURN_NOT_OK(CheckDeliveries(batch_id));
    if (err) {
      return Status::IOError("Kafka sink: batch ", batch_id, ": ", rd_kafka_outq_len(producer_.get()),
                             " record(s) still undelivered after ", options_.timeout_ms,
                             " ms (kafkaProducer.timeoutMs): ", KafkaErrorText(err));
    }
    return Status::OK();
  }
  if (batch_id <= last_committed_batch_) {
    ++skipped_batches_;  // a replay of a batch already committed
    return Status::OK();
  }
  KafkaPtr<rd_kafka_error_t> err(rd_kafka_begin_transaction(producer_.get()));
  if (err) {
    std::string text = ErrorText(err.get());
    producer_.reset();
    return Status::IOError("Kafka sink: batch ", batch_id, ": cannot begin a transaction: ", text);
  }
  Status st = ProduceRows(schema, batches);
  if (st.ok()) {
    Json marker = {{"queryId", context_.query_id}, {"batchId", batch_id}};
    std::string text = marker.dump();
    st = Produce(control_topic_, 0, context_.query_id, true, text, true, nullptr);
  }
  if (!st.ok()) return AbortAfter(st);
  err.reset(rd_kafka_commit_transaction(producer_.get(), timeout));
  if (err) {
    std::string text = ErrorText(err.get());
    bool abort = rd_kafka_error_txn_requires_abort(err.get());
    bool fatal = rd_kafka_error_is_fatal(err.get());
    Status cause = Status::IOError("Kafka sink: batch ", batch_id, ": commit of the transaction failed: ", text);
    if (abort) return AbortAfter(cause);
    if (fatal) producer_.reset();
    return cause;
  }
  ARROW_RETURN_NOT_OK(CheckDeliveries(batch_id));
  last_committed_batch_ = batch_id;
  return Status::OK();
}

SourceMetrics KafkaSink::TakeMetrics() {
  SourceMetrics m;
  if (skipped_batches_ > 0) m["skippedBatches"] = std::to_string(skipped_batches_);
  skipped_batches_ = 0;
  return m;
}

void KafkaSink::Stop() {
  if (producer_) {
    rd_kafka_flush(producer_.get(), static_cast<int>(std::min<int64_t>(options_.timeout_ms, 10000)));
    producer_.reset();
  }
}

}  // namespace lakestream::connectors::kafka
