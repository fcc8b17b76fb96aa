// Test helpers: an in-process librdkafka mock cluster (real wire protocol on
// loopback, fault injection), a plain producer to fill it, and a reader that
// runs a source's scan tasks into sorted rows.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>
#include <tuple>
#include <vector>

#include "connectors/kafka/kafka_util.h"
#include "connectors/streaming.h"

#ifndef ASSERT_OK
#define LS_KAFKA_CONCAT_INNER(a, b) a##b
#define LS_KAFKA_CONCAT(a, b) LS_KAFKA_CONCAT_INNER(a, b)
#define ASSERT_OK(expr)                      \
  do {                                       \
    auto _st = (expr);                       \
    ASSERT_TRUE(_st.ok()) << _st.ToString(); \
  } while (0)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, rexpr)  \
  auto tmp = (rexpr);                               \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).ValueUnsafe();
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) ASSERT_OK_AND_ASSIGN_IMPL(LS_KAFKA_CONCAT(_res_, __COUNTER__), lhs, rexpr)
#endif

namespace lakestream::connectors::kafka::testing {

// Kafka protocol API keys for rd_kafka_mock_push_request_errors (the
// constants live in a private librdkafka header).
constexpr int16_t kApiFetch = 1;
constexpr int16_t kApiListOffsets = 2;

struct Header {
  std::string key;
  std::string value;
};

class MockKafka {
 public:
  explicit MockKafka(int brokers = 1) {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    EXPECT_NE(handle_, nullptr) << errstr;
    cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
    EXPECT_NE(cluster_, nullptr);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  ~MockKafka() {
    if (producer_) rd_kafka_destroy(producer_);
    if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
    if (handle_) rd_kafka_destroy(handle_);
  }
  MockKafka(const MockKafka&) = delete;
  MockKafka& operator=(const MockKafka&) = delete;

  rd_kafka_mock_cluster_t* cluster() { return cluster_; }
  const std::string& bootstraps() const { return bootstraps_; }

  void CreateTopic(const std::string& topic, int partitions) {
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  /// Produces `count` records to one partition: key "k<i>", value "<prefix><i>".
  void Produce(const std::string& topic, int32_t partition, int count, const std::string& prefix = "v",
               const std::vector<Header>& headers = {}, int first = 0) {
    for (int i = first; i < first + count; ++i) {
      std::string key = "k" + std::to_string(i);
      std::string value = prefix + std::to_string(i);
      ProduceOne(topic, partition, key, value, headers);
    }
    Flush();
  }

  void ProduceOne(const std::string& topic, int32_t partition, const std::string& key, const std::string& value,
                  const std::vector<Header>& headers = {}) {
    rd_kafka_headers_t* hdrs = nullptr;
    if (!headers.empty()) {
      hdrs = rd_kafka_headers_new(headers.size());
      for (const auto& h : headers) rd_kafka_header_add(hdrs, h.key.c_str(), -1, h.value.data(), h.value.size());
    }
    rd_kafka_resp_err_t err;
    do {
      err = rd_kafka_producev(Producer(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                              RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) rd_kafka_poll(Producer(), 10);
    } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
  }

  void Flush() { ASSERT_EQ(rd_kafka_flush(Producer(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR); }

  Options SourceOptions(Options extra) const {
    extra["kafka.bootstrap.servers"] = bootstraps_;
    extra.emplace("fetchOffset.retryIntervalMs", "20");
    return extra;
  }

 private:
  rd_kafka_t* Producer() {
    if (!producer_) {
      char errstr[512];
      rd_kafka_conf_t* conf = rd_kafka_conf_new();
      rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), errstr, sizeof(errstr));
      rd_kafka_conf_set(conf, "linger.ms", "2", errstr, sizeof(errstr));
      rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
      producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    }
    return producer_;
  }

  rd_kafka_t* handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::string bootstraps_;
};

/// One record as the source returns it.
struct Row {
  std::string topic;
  int32_t partition;
  int64_t offset;
  std::string key;
  std::string value;
  bool operator<(const Row& o) const {
    return std::tie(topic, partition, offset) < std::tie(o.topic, o.partition, o.offset);
  }
  bool operator==(const Row& o) const {
    return std::tie(topic, partition, offset, key, value) == std::tie(o.topic, o.partition, o.offset, o.key, o.value);
  }
};

}  // namespace lakestream::connectors::kafka::testing
