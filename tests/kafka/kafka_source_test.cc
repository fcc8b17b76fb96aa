// The Kafka source against librdkafka's in-process mock cluster: starting
// offsets, rate limits, replay, headers, topic discovery, data loss, faults.
#include "connectors/kafka/kafka_source.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "connectors/kafka/kafka.h"
#include "formats/file_source.h"
#include "mock_kafka.h"

namespace lakestream::connectors::kafka {
namespace {

using testing::Header;
using testing::MockKafka;
using testing::Row;

SourceContext Streaming() {
  SourceContext ctx;
  ctx.metadata_dir = "/tmp/lakestream-kafka-test-unused";
  return ctx;
}

std::unique_ptr<KafkaSource> MakeSource(const MockKafka& kafka, Options options,
                                        const SourceContext& ctx = Streaming()) {
  auto r = KafkaSource::Make(kafka.SourceOptions(std::move(options)), ctx);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : nullptr;
}

// Runs every scan task of (start, end] and returns the rows sorted.
Result<std::vector<Row>> ReadBatch(KafkaSource* source, const Json& start, const Json& end,
                                   std::vector<std::shared_ptr<arrow::RecordBatch>>* batches_out = nullptr) {
  ARROW_ASSIGN_OR_RAISE(auto tasks, source->PlanBatch(start, end));
  std::vector<Row> rows;
  for (auto& task : tasks) {
    ARROW_ASSIGN_OR_RAISE(auto it, task());
    for (;;) {
      ARROW_ASSIGN_OR_RAISE(auto batch, it());
      if (!batch) break;
      if (!batch->schema()->Equals(*source->schema())) return Status::Invalid("schema mismatch ", batch->schema()->ToString());
      if (batches_out) batches_out->push_back(batch);
      auto key = std::static_pointer_cast<arrow::BinaryArray>(batch->column(0));
      auto value = std::static_pointer_cast<arrow::BinaryArray>(batch->column(1));
      auto topic = std::static_pointer_cast<arrow::StringArray>(batch->column(2));
      auto part = std::static_pointer_cast<arrow::Int32Array>(batch->column(3));
      auto offset = std::static_pointer_cast<arrow::Int64Array>(batch->column(4));
      for (int64_t i = 0; i < batch->num_rows(); ++i) {
        rows.push_back(Row{std::string(topic->GetView(i)), part->Value(i), offset->Value(i),
                           key->IsNull(i) ? "<null>" : std::string(key->GetView(i)),
                           value->IsNull(i) ? "<null>" : std::string(value->GetView(i))});
      }
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

Json J(const std::string& text) { return Json::parse(text); }

TEST(KafkaSource, EarliestReadsEveryPartitionWithSparkSchema) {
  MockKafka kafka;
  kafka.CreateTopic("events", 3);
  for (int p = 0; p < 3; ++p) kafka.Produce("events", p, 100, "p" + std::to_string(p) + "-");
  auto source = MakeSource(kafka, {{"subscribe", "events"}, {"startingOffsets", "earliest"}});
  ASSERT_TRUE(source);
  EXPECT_EQ(source->Description(), "KafkaV2[Subscribe[events]]");
  EXPECT_EQ(source->schema()->ToString(),
            KafkaSourceSchema(false)->ToString());
  EXPECT_EQ(source->schema()->field(5)->type()->ToString(), "timestamp[us, tz=UTC]");
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  EXPECT_EQ(start, J(R"({"events":{"0":0,"1":0,"2":0}})"));
  ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(start));
  EXPECT_EQ(end, J(R"({"events":{"0":100,"1":100,"2":100}})"));
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  ASSERT_OK_AND_ASSIGN(auto rows, ReadBatch(source.get(), start, end, &batches));
  ASSERT_EQ(rows.size(), 300u);
  for (int p = 0; p < 3; ++p) {
    for (int i = 0; i < 100; ++i) {
      const Row& r = rows[p * 100 + i];
      EXPECT_EQ(r.partition, p);
      EXPECT_EQ(r.offset, i);
      EXPECT_EQ(r.key, "k" + std::to_string(i));
      EXPECT_EQ(r.value, "p" + std::to_string(p) + "-" + std::to_string(i));
    }
  }
  // Producer timestamps are CreateTime (0), close to now.
  auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  auto ts = std::static_pointer_cast<arrow::TimestampArray>(batches[0]->column(5));
  auto ts_type = std::static_pointer_cast<arrow::Int32Array>(batches[0]->column(6));
  EXPECT_EQ(ts->null_count(), 0);
  EXPECT_NEAR(static_cast<double>(ts->Value(0)), static_cast<double>(now_us), 60e6);
  EXPECT_EQ(ts_type->Value(0), 0);
  // Nothing new: the end is the start.
  ASSERT_OK_AND_ASSIGN(auto again, source->LatestOffset(end));
  EXPECT_EQ(again, end);
  ASSERT_OK_AND_ASSIGN(auto none, source->PlanBatch(end, again));
  EXPECT_TRUE(none.empty());
}

TEST(KafkaSource, LatestStartReadsOnlyNewRecordsAcrossBatches) {
  MockKafka kafka;
  kafka.CreateTopic("t", 2);
  kafka.Produce("t", 0, 10);
  kafka.Produce("t", 1, 5);
  auto source = MakeSource(kafka, {{"subscribe", "t"}});  // streaming default: latest
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  EXPECT_EQ(start, J(R"({"t":{"0":10,"1":5}})"));
  kafka.Produce("t", 0, 3, "new", {}, 10);
  ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(start));
  EXPECT_EQ(end, J(R"({"t":{"0":13,"1":5}})"));
  ASSERT_OK_AND_ASSIGN(auto rows, ReadBatch(source.get(), start, end));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].offset, 10);
  EXPECT_EQ(rows[0].value, "new10");
  // The next batch continues where the last ended (the pooled consumer is reused).
  kafka.Produce("t", 0, 2, "more", {}, 13);
  kafka.Produce("t", 1, 1, "more", {}, 5);
  ASSERT_OK_AND_ASSIGN(auto end2, source->LatestOffset(end));
  EXPECT_EQ(end2, J(R"({"t":{"0":15,"1":6}})"));
  ASSERT_OK_AND_ASSIGN(auto rows2, ReadBatch(source.get(), end, end2));
  ASSERT_EQ(rows2.size(), 3u);
  EXPECT_EQ(rows2[0].value, "more13");
  EXPECT_EQ(rows2[1].value, "more14");
  EXPECT_EQ(rows2[2].value, "more5");
}

TEST(KafkaSource, JsonStartingOffsetsWithEarliestAndLatestMarkers) {
  MockKafka kafka;
  kafka.CreateTopic("t", 3);
  for (int p = 0; p < 3; ++p) kafka.Produce("t", p, 20);
  auto source = MakeSource(kafka, {{"subscribe", "t"}, {"startingOffsets", R"({"t":{"0":7,"1":-2,"2":-1}})"}});
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  EXPECT_EQ(start, J(R"({"t":{"0":7,"1":0,"2":20}})"));
  ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(start));
  ASSERT_OK_AND_ASSIGN(auto rows, ReadBatch(source.get(), start, end));
  EXPECT_EQ(rows.size(), 13u + 20u);
  EXPECT_EQ(rows.front().offset, 7);

  auto bad = KafkaSource::Make(kafka.SourceOptions({{"subscribe", "t"}, {"startingOffsets", R"({"x":{"0":1}})"}}),
                               Streaming());
  ASSERT_TRUE(bad.ok());
  auto st = (*bad)->InitialOffset().status();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("topic x partition 0"), std::string::npos) << st.ToString();
}

TEST(KafkaSource, AssignReadsOnlyTheGivenPartitions) {
  MockKafka kafka;
  kafka.CreateTopic("t", 3);
  for (int p = 0; p < 3; ++p) kafka.Produce("t", p, 4);
  auto source = MakeSource(kafka, {{"assign", R"({"t":[0,2]})"}, {"startingOffsets", "earliest"}});
  EXPECT_EQ(source->Description(), "KafkaV2[Assign[t-0, t-2]]");
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  EXPECT_EQ(start, J(R"({"t":{"0":0,"2":0}})"));
  ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(start));
  ASSERT_OK_AND_ASSIGN(auto rows, ReadBatch(source.get(), start, end));
  ASSERT_EQ(rows.size(), 8u);
  for (const auto& r : rows) EXPECT_NE(r.partition, 1);
}

TEST(KafkaSource, MaxOffsetsPerTriggerSplitsProportionallyAndReadsEverythingOnce) {
  MockKafka kafka;
  kafka.CreateTopic("t", 2);
  kafka.Produce("t", 0, 200);
  kafka.Produce("t", 1, 100);
  auto source = MakeSource(kafka, {{"subscribe", "t"}, {"startingOffsets", "earliest"}, {"maxOffsetsPerTrigger", "30"}});
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  ASSERT_OK_AND_ASSIGN(auto first, source->LatestOffset(start));
  // 30 * 200/300 = 20 and 30 * 100/300 = 10, as Spark's rate limit.
  EXPECT_EQ(first, J(R"({"t":{"0":20,"1":10}})"));
  auto metrics = source->TakeMetrics();
  EXPECT_EQ(metrics["maxOffsetsBehindLatest"], "180");
  EXPECT_EQ(metrics["minOffsetsBehindLatest"], "90");

  std::vector<Row> all;
  Json at = start;
  int batches = 0;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(at));
    if (end == at) break;
    ASSERT_OK_AND_ASSIGN(auto rows, ReadBatch(source.get(), at, end));
    EXPECT_LE(rows.size(), 30u);
    all.insert(all.end(), rows.begin(), rows.end());
    at = end;
    ASSERT_LT(++batches, 100);
  }
  EXPECT_EQ(batches, 10);
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 300u);
  EXPECT_EQ(std::set<Row>(all.begin(), all.end()).size(), 300u);
}

TEST(KafkaSource, ReplayOfTheSameRangeReturnsTheSameRows) {
  MockKafka kafka;
  kafka.CreateTopic("t", 2);
  kafka.Produce("t", 0, 50);
  kafka.Produce("t", 1, 50);
  auto source = MakeSource(kafka, {{"subscribe", "t"}, {"startingOffsets", "earliest"}});
  Json start = J(R"({"t":{"0":5,"1":10}})");
  Json end = J(R"({"t":{"0":25,"1":40}})");
  ASSERT_OK_AND_ASSIGN(auto a, ReadBatch(source.get(), start, end));
  ASSERT_OK_AND_ASSIGN(auto b, ReadBatch(source.get(), start, end));
  // A fresh source (a restarted query) reads the same rows too.
  auto restarted = MakeSource(kafka, {{"subscribe", "t"}});
  ASSERT_OK_AND_ASSIGN(auto c, ReadBatch(restarted.get(), start, end));
  ASSERT_EQ(a.size(), 50u);
  EXPECT_EQ(a.front().offset, 5);
  EXPECT_EQ(a.back().offset, 39);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
}

// valueSchema parsing done by the source as it reads (ParseValuesWhileReading)
// gives what parsing the value column afterwards gives, in every mode.
TEST(KafkaSource, ParsesValuesWhileReadingAsTheValueColumnParses) {
  MockKafka kafka;
  kafka.CreateTopic("j", 1);
  const std::vector<std::string> values = {R"({"id":1,"s":"a"})",   "not json",
                                           R"({"id":"x","s":"b"})", R"([1,2])",
                                           R"({"s":"e","id":5})",   R"({"id":6})"};
  for (size_t i = 0; i < values.size(); ++i)
    kafka.ProduceOne("j", 0, "k" + std::to_string(i), values[i]);
  kafka.Flush();
  auto value_schema =
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("s", arrow::utf8()),
                     arrow::field("_corrupt_record", arrow::utf8())});
  using Mode = formats::FileReadOptions::Mode;
  for (Mode mode : {Mode::kPermissive, Mode::kDropMalformed, Mode::kFailFast}) {
    SCOPED_TRACE(static_cast<int>(mode));
    formats::FileReadOptions options;
    options.mode = mode;
    // The value column parsed after the read.
    auto plain = MakeSource(kafka, {{"subscribe", "j"}, {"startingOffsets", "earliest"}});
    ASSERT_TRUE(plain);
    ASSERT_OK_AND_ASSIGN(auto start, plain->InitialOffset());
    ASSERT_OK_AND_ASSIGN(auto end, plain->LatestOffset(start));
    std::vector<std::shared_ptr<arrow::RecordBatch>> raw;
    ASSERT_OK(ReadBatch(plain.get(), start, end, &raw).status());
    ASSERT_EQ(raw.size(), 1u);
    auto where = [&](int64_t row) { return "topic j, partition 0, offset " + std::to_string(row); };
    auto expected = formats::ParseJsonValues(*raw[0]->column(1), value_schema, options, where);
    // Parsed while reading: the parsed fields, then key and offset.
    auto parsing_source = MakeSource(kafka, {{"subscribe", "j"}, {"startingOffsets", "earliest"}});
    ASSERT_TRUE(parsing_source);
    auto out_schema =
        arrow::schema({value_schema->field(0), value_schema->field(1), value_schema->field(2),
                       KafkaSourceSchema(false)->field(0), KafkaSourceSchema(false)->field(4)});
    auto malformed = std::make_shared<std::atomic<int64_t>>(0);
    ASSERT_TRUE(parsing_source->ParseValuesWhileReading(
        ValueParsing{value_schema, options, {0, 4}, out_schema, malformed}));
    EXPECT_TRUE(parsing_source->schema()->Equals(*out_schema));
    ASSERT_OK_AND_ASSIGN(auto tasks, parsing_source->PlanBatch(start, end));
    ASSERT_EQ(tasks.size(), 1u);
    ASSERT_OK_AND_ASSIGN(auto it, tasks[0]());
    auto batch = it();
    if (mode == Mode::kFailFast) {
      ASSERT_FALSE(expected.ok());
      ASSERT_FALSE(batch.ok());
      EXPECT_EQ(batch.status().message(), expected.status().message());
      EXPECT_NE(batch.status().message().find("topic j, partition 0, offset 1:"), std::string::npos)
          << batch.status().ToString();
      continue;
    }
    ASSERT_OK(expected.status());
    ASSERT_OK(batch.status());
    ASSERT_TRUE(*batch);
    ASSERT_OK_AND_ASSIGN(auto next, it());
    EXPECT_FALSE(next);
    const int64_t n = static_cast<int64_t>(expected->kept.size());
    EXPECT_EQ(n, mode == Mode::kPermissive ? 6 : 3);  // DROPMALFORMED keeps offsets 0, 4 and 5
    ASSERT_EQ((*batch)->num_rows(), n);
    for (int c = 0; c < 3; ++c)
      EXPECT_TRUE((*batch)->column(c)->Equals(*expected->columns[c])) << c;
    // The passthrough columns hold the kept rows' own key and offset.
    auto offsets = std::static_pointer_cast<arrow::Int64Array>((*batch)->column(4));
    auto keys = std::static_pointer_cast<arrow::BinaryArray>((*batch)->column(3));
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(offsets->Value(i), expected->kept[i]);
      EXPECT_EQ(keys->GetView(i), "k" + std::to_string(expected->kept[i]));
    }
    EXPECT_EQ(malformed->load(), 3);
    EXPECT_EQ(expected->malformed, 3);
  }
}

TEST(KafkaSource, HeadersColumn) {
  MockKafka kafka;
  kafka.CreateTopic("h", 1);
  kafka.Produce("h", 0, 2, "v", {{"trace", "abc"}, {"n", "1"}});
  kafka.Produce("h", 0, 1, "plain", {}, 2);
  auto source = MakeSource(kafka, {{"subscribe", "h"}, {"startingOffsets", "earliest"}, {"includeHeaders", "true"}});
  ASSERT_EQ(source->schema()->num_fields(), 8);
  EXPECT_EQ(source->schema()->field(7)->type()->ToString(),
            "list<element: struct<key: string, value: binary>>");
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(start));
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  ASSERT_OK_AND_ASSIGN(auto rows, ReadBatch(source.get(), start, end, &batches));
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_EQ(batches.size(), 1u);
  auto headers = std::static_pointer_cast<arrow::ListArray>(batches[0]->column(7));
  ASSERT_EQ(headers->value_length(0), 2);
  auto items = std::static_pointer_cast<arrow::StructArray>(headers->values());
  auto keys = std::static_pointer_cast<arrow::StringArray>(items->field(0));
  auto values = std::static_pointer_cast<arrow::BinaryArray>(items->field(1));
  EXPECT_EQ(keys->GetString(0), "trace");
  EXPECT_EQ(values->GetString(0), "abc");
  EXPECT_EQ(keys->GetString(1), "n");
  EXPECT_EQ(values->GetString(1), "1");
  EXPECT_TRUE(headers->IsNull(2) || headers->value_length(2) == 0);
}

TEST(KafkaSource, SubscribePatternAndDiscoveryOfNewTopicsFromEarliest) {
  MockKafka kafka;
  kafka.CreateTopic("events-a", 1);
  kafka.CreateTopic("events-b", 2);
  kafka.CreateTopic("other", 1);
  kafka.Produce("events-a", 0, 3);
  kafka.Produce("events-b", 1, 4);
  kafka.Produce("other", 0, 5);
  auto source = MakeSource(kafka, {{"subscribePattern", "events-.*"}, {"startingOffsets", "latest"}});
  EXPECT_EQ(source->Description(), "KafkaV2[SubscribePattern[events-.*]]");
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  EXPECT_EQ(start, J(R"({"events-a":{"0":3},"events-b":{"0":0,"1":4}})"));
  // A topic that appears later (its partitions are new) is read from its
  // earliest offset, as Spark does, even though the query started at latest.
  kafka.CreateTopic("events-c", 2);
  kafka.Produce("events-c", 1, 6);
  kafka.Produce("events-a", 0, 1, "v", {}, 3);
  ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(start));
  EXPECT_EQ(end, J(R"({"events-a":{"0":4},"events-b":{"0":0,"1":4},"events-c":{"0":0,"1":6}})"));
  ASSERT_OK_AND_ASSIGN(auto rows, ReadBatch(source.get(), start, end));
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[0].topic, "events-a");
  EXPECT_EQ(rows[1].topic, "events-c");
  EXPECT_EQ(rows[1].offset, 0);
}

TEST(KafkaSource, AvailableNowCapsAtWhatWasThere) {
  MockKafka kafka;
  kafka.CreateTopic("t", 1);
  kafka.Produce("t", 0, 10);
  auto source = MakeSource(kafka, {{"subscribe", "t"}, {"startingOffsets", "earliest"}, {"maxOffsetsPerTrigger", "4"}});
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  ASSERT_OK(source->PrepareForAvailableNow());
  kafka.Produce("t", 0, 10, "late", {}, 10);
  Json at = start;
  std::vector<Json> ends;
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(at));
    if (end == at) break;
    ends.push_back(end);
    at = end;
  }
  ASSERT_EQ(ends.size(), 3u);  // 4 + 4 + 2, never past offset 10
  EXPECT_EQ(at, J(R"({"t":{"0":10}})"));
}

TEST(KafkaSource, EndingOffsetsCapABatchRead) {
  MockKafka kafka;
  kafka.CreateTopic("t", 2);
  kafka.Produce("t", 0, 10);
  kafka.Produce("t", 1, 10);
  auto source = MakeSource(kafka, {{"subscribe", "t"}, {"endingOffsets", R"({"t":{"0":4,"1":-1}})"}}, SourceContext{});
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());  // batch default: earliest
  EXPECT_EQ(start, J(R"({"t":{"0":0,"1":0}})"));
  ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(start));
  EXPECT_EQ(end, J(R"({"t":{"0":4,"1":10}})"));
}

TEST(KafkaSource, MinOffsetsPerTriggerWaitsUntilEnoughOrDelayPassed) {
  MockKafka kafka;
  kafka.CreateTopic("t", 1);
  kafka.Produce("t", 0, 5);
  auto source = MakeSource(kafka, {{"subscribe", "t"},
                                   {"startingOffsets", "earliest"},
                                   {"minOffsetsPerTrigger", "8"},
                                   {"maxTriggerDelay", "300ms"}});
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  ASSERT_OK_AND_ASSIGN(auto held, source->LatestOffset(start));
  EXPECT_EQ(held, start);  // 5 < 8 and the delay has not passed
  kafka.Produce("t", 0, 4, "v", {}, 5);
  ASSERT_OK_AND_ASSIGN(auto enough, source->LatestOffset(start));
  EXPECT_EQ(enough, J(R"({"t":{"0":9}})"));
  kafka.Produce("t", 0, 1, "v", {}, 9);
  ASSERT_OK_AND_ASSIGN(auto held2, source->LatestOffset(enough));
  EXPECT_EQ(held2, enough);
  // After maxTriggerDelay the few available offsets go anyway.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  Json next = held2;
  while (next == enough && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_OK_AND_ASSIGN(next, source->LatestOffset(enough));
  }
  EXPECT_EQ(next, J(R"({"t":{"0":10}})"));
}

// The mock broker keeps at most 5 MiB per partition and drops the oldest
// message sets beyond that, like retention: the low watermark moves up.
void ProduceUntilRetentionDropsTheStart(MockKafka& kafka, const std::string& topic) {
  std::string big(200 * 1024, 'x');
  for (int i = 0; i < 40; ++i) {
    kafka.ProduceOne(topic, 0, "k" + std::to_string(i), big);
    kafka.Flush();  // one message set each
  }
}

TEST(KafkaSource, FailOnDataLossNamesTheLostOffsets) {
  MockKafka kafka;
  kafka.CreateTopic("r", 1);
  ProduceUntilRetentionDropsTheStart(kafka, "r");
  auto source = MakeSource(kafka, {{"subscribe", "r"}, {"startingOffsets", "earliest"}});
  ASSERT_OK_AND_ASSIGN(auto first, source->InitialOffset());
  int64_t low = first["r"]["0"].get<int64_t>();
  ASSERT_GT(low, 0) << "the mock kept every message; cannot test retention";
  Json start = J(R"({"r":{"0":0}})");  // a checkpoint from before retention ran
  ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(start));
  EXPECT_EQ(end, J(R"({"r":{"0":40}})"));
  auto failed = ReadBatch(source.get(), start, end);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("topic r partition 0: offsets [0, " + std::to_string(low) + ")"),
            std::string::npos)
      << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("failOnDataLoss"), std::string::npos);

  auto lenient = MakeSource(kafka, {{"subscribe", "r"}, {"failOnDataLoss", "false"}});
  ASSERT_OK_AND_ASSIGN(auto rows, ReadBatch(lenient.get(), start, end));
  EXPECT_EQ(static_cast<int64_t>(rows.size()), 40 - low);
  EXPECT_EQ(rows.front().offset, low);
  EXPECT_EQ(lenient->TakeMetrics()["dataLossOffsets"], std::to_string(low));
}

TEST(KafkaSource, OffsetsBelowTheSourcePositionAreDataLoss) {
  MockKafka kafka;
  kafka.CreateTopic("t", 1);
  kafka.Produce("t", 0, 5);
  auto source = MakeSource(kafka, {{"subscribe", "t"}});
  auto st = source->LatestOffset(J(R"({"t":{"0":50}})")).status();  // e.g. the topic was re-created
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("topic t partition 0: the latest offset 5 is below the source's offset 50"),
            std::string::npos)
      << st.ToString();
}

TEST(KafkaSource, RetriesThroughFetchAndListOffsetsErrorsAndLatency) {
  MockKafka kafka;
  kafka.CreateTopic("t", 2);
  kafka.Produce("t", 0, 300);
  kafka.Produce("t", 1, 300);
  rd_kafka_mock_broker_set_rtt(kafka.cluster(), 1, 30);
  auto source = MakeSource(kafka, {{"subscribe", "t"}, {"startingOffsets", "earliest"}, {"fetchOffset.numRetries", "5"}});
  rd_kafka_mock_push_request_errors(kafka.cluster(), testing::kApiListOffsets, 2,
                                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(start));
  EXPECT_EQ(end, J(R"({"t":{"0":300,"1":300}})"));
  rd_kafka_mock_push_request_errors(kafka.cluster(), testing::kApiFetch, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  ASSERT_OK_AND_ASSIGN(auto rows, ReadBatch(source.get(), start, end));
  ASSERT_EQ(rows.size(), 600u);
  EXPECT_EQ(std::set<Row>(rows.begin(), rows.end()).size(), 600u);
}

TEST(KafkaSource, BrokerDownFailsWithinThePollTimeoutNamingTheRange) {
  MockKafka kafka;
  kafka.CreateTopic("t", 1);
  kafka.Produce("t", 0, 10);
  auto source = MakeSource(kafka, {{"subscribe", "t"}, {"kafkaConsumer.pollTimeoutMs", "1500"}});
  Json start = J(R"({"t":{"0":0}})");
  Json end = J(R"({"t":{"0":10}})");
  ASSERT_OK_AND_ASSIGN(auto tasks, source->PlanBatch(start, end));
  ASSERT_EQ(tasks.size(), 1u);
  ASSERT_EQ(rd_kafka_mock_broker_set_down(kafka.cluster(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(auto it, tasks[0]());
  auto batch = it();
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(batch.ok());
  EXPECT_LT(secs, 30);
  EXPECT_NE(batch.status().message().find("topic t partition 0 offsets [0, 10)"), std::string::npos)
      << batch.status().ToString();
  rd_kafka_mock_broker_set_up(kafka.cluster(), 1);
}

TEST(KafkaSource, TasksRunConcurrentlyOnWorkerThreads) {
  MockKafka kafka;
  kafka.CreateTopic("t", 4);
  for (int p = 0; p < 4; ++p) kafka.Produce("t", p, 500);
  auto source = MakeSource(kafka, {{"subscribe", "t"}, {"startingOffsets", "earliest"}, {"maxOffsetsPerTrigger", "1000"}});
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  int64_t total = 0;
  Json at = start;
  for (int round = 0; round < 2; ++round) {
    ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(at));
    ASSERT_OK_AND_ASSIGN(auto tasks, source->PlanBatch(at, end));
    ASSERT_EQ(tasks.size(), 4u);
    std::vector<int64_t> counts(tasks.size(), 0);
    std::vector<Status> errors(tasks.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < tasks.size(); ++i) {
      threads.emplace_back([&, i]() {
        auto it = tasks[i]();
        if (!it.ok()) {
          errors[i] = it.status();
          return;
        }
        for (;;) {
          auto batch = (*it)();
          if (!batch.ok()) {
            errors[i] = batch.status();
            return;
          }
          if (!*batch) return;
          counts[i] += (*batch)->num_rows();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < tasks.size(); ++i) {
      ASSERT_TRUE(errors[i].ok()) << errors[i].ToString();
      EXPECT_EQ(counts[i], 250);
      total += counts[i];
    }
    at = end;
  }
  EXPECT_EQ(total, 2000);
}

TEST(KafkaSource, StartingTimestampAfterEveryRecordStartsAtTheEnd) {
  MockKafka kafka;
  kafka.CreateTopic("t", 2);
  kafka.Produce("t", 0, 3);
  kafka.Produce("t", 1, 2);
  auto tomorrow = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch() + std::chrono::hours(24)).count();
  auto source = MakeSource(kafka, {{"subscribe", "t"}, {"startingTimestamp", std::to_string(tomorrow)}});
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  EXPECT_EQ(start, J(R"({"t":{"0":3,"1":2}})"));
}

TEST(KafkaSource, UnreachableServersFailWithinTheTimeoutsNamingThem) {
  // Nothing listens on the port of a cluster that is gone.
  std::string servers;
  {
    MockKafka gone;
    servers = gone.bootstraps();
  }
  auto source = KafkaSource::Make({{"kafka.bootstrap.servers", servers},
                                   {"subscribe", "t"},
                                   {"kafkaConsumer.pollTimeoutMs", "1000"},
                                   {"fetchOffset.numRetries", "1"},
                                   {"fetchOffset.retryIntervalMs", "100"}},
                                  Streaming());
  ASSERT_TRUE(source.ok());
  auto t0 = std::chrono::steady_clock::now();
  auto st = (*source)->InitialOffset().status();
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(st.ok());
  EXPECT_LT(secs, 15);
  EXPECT_NE(st.message().find(servers), std::string::npos) << st.ToString();
}

TEST(KafkaSource, OptionErrors) {
  SourceContext ctx;
  auto no_servers = KafkaSource::Make({{"subscribe", "t"}}, ctx);
  ASSERT_FALSE(no_servers.ok());
  EXPECT_NE(no_servers.status().message().find("bootstrap"), std::string::npos);
  auto two = KafkaSource::Make({{"bootstrapServers", "localhost:1"}, {"subscribe", "t"}, {"assign", R"({"t":[0]})"}}, ctx);
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("exactly one"), std::string::npos);
  auto bad_regex = KafkaSource::Make({{"bootstrap.servers", "localhost:1"}, {"subscribePattern", "(["}}, ctx);
  ASSERT_FALSE(bad_regex.ok());
  auto bad_prop = KafkaSource::Make({{"kafka.bootstrap.servers", "localhost:1"}, {"kafka.no.such.property", "1"},
                                     {"subscribe", "t"}}, ctx);
  ASSERT_FALSE(bad_prop.ok());
  EXPECT_NE(bad_prop.status().message().find("no.such.property"), std::string::npos);
}

TEST(KafkaSource, RegisteredAsKafka) {
  RegisterKafkaConnectors();
  MockKafka kafka;
  kafka.CreateTopic("t", 1);
  auto source = connectors::MakeSource("kafka", kafka.SourceOptions({{"subscribe", "t"}}), Streaming());
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ((*source)->Description(), "KafkaV2[Subscribe[t]]");
  EXPECT_TRUE(SinkRegistry().count("kafka"));
}

// Throughput against a bare librdkafka consume loop over the same records.
// The engine's way of running a batch: two worker threads take the scan
// tasks in turn (more partitions than workers), and the source's consumers
// stay parked on their partitions between batches. Whatever consumer a task gets (parked at its start, moved from
// another partition, or taken from a full pool), batch N holds exactly the
// offsets of (start_N, end_N], each once, in offset order per partition.
void ExpectRecordExactAcrossBatches(const std::string& capacity) {
  MockKafka kafka;
  const int parts = 6, per_part = 900;
  kafka.CreateTopic("t", parts);
  for (int p = 0; p < parts; ++p) kafka.Produce("t", p, per_part);
  auto source = MakeSource(kafka, {{"subscribe", "t"},
                                   {"startingOffsets", "earliest"},
                                   {"maxOffsetsPerTrigger", "700"},
                                   {"kafkaConsumer.cacheCapacity", capacity}});
  ASSERT_OK_AND_ASSIGN(Json at, source->InitialOffset());
  std::map<int32_t, std::vector<int64_t>> seen;  // partition -> offsets in read order
  int batches = 0;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(at));
    if (end == at) break;
    // Replays the batch before running it once in three: consumers parked at
    // the end of the first run must be repositioned, not trusted.
    for (int run = 0; run < (batches % 3 == 1 ? 2 : 1); ++run) {
      ASSERT_OK_AND_ASSIGN(auto tasks, source->PlanBatch(at, end));
      std::atomic<size_t> next{0};
      std::mutex mu;
      std::vector<Status> errors(2);
      std::map<int32_t, std::vector<int64_t>> batch_rows;
      auto worker = [&](int w) {
        for (size_t t = next++; t < tasks.size(); t = next++) {
          auto it = tasks[t]();
          if (!it.ok()) {
            errors[w] = it.status();
            return;
          }
          for (;;) {
            auto b = (*it)();
            if (!b.ok()) {
              errors[w] = b.status();
              return;
            }
            if (!*b) break;
            auto part = std::static_pointer_cast<arrow::Int32Array>((*b)->column(3));
            auto offset = std::static_pointer_cast<arrow::Int64Array>((*b)->column(4));
            std::lock_guard<std::mutex> lock(mu);
            for (int64_t i = 0; i < (*b)->num_rows(); ++i) batch_rows[part->Value(i)].push_back(offset->Value(i));
          }
        }
      };
      std::thread other(worker, 1);
      worker(0);
      other.join();
      for (const auto& e : errors) ASSERT_TRUE(e.ok()) << e.ToString();
      // Exactly (start, end] of every partition, in order.
      for (int p = 0; p < parts; ++p) {
        int64_t from = at.is_object() && at["t"].contains(std::to_string(p)) ? at["t"][std::to_string(p)].get<int64_t>() : 0;
        int64_t until = end["t"][std::to_string(p)].get<int64_t>();
        std::vector<int64_t> expected;
        for (int64_t o = from; o < until; ++o) expected.push_back(o);
        EXPECT_EQ(batch_rows[p], expected) << "batch " << batches << " run " << run << " partition " << p;
        if (run == 0) seen[p].insert(seen[p].end(), batch_rows[p].begin(), batch_rows[p].end());
      }
    }
    at = end;
    ASSERT_LT(++batches, 100);
  }
  EXPECT_GE(batches, 8);
  for (int p = 0; p < parts; ++p) {
    ASSERT_EQ(seen[p].size(), static_cast<size_t>(per_part)) << "partition " << p;
    for (int64_t o = 0; o < per_part; ++o) ASSERT_EQ(seen[p][o], o) << "partition " << p;
  }
}

TEST(KafkaSource, ParkedConsumersGiveRecordExactBatches) { ExpectRecordExactAcrossBatches("16"); }

TEST(KafkaSource, ConsumersMovedBetweenPartitionsGiveRecordExactBatches) {
  // Two consumers for six partitions: every task restarts one elsewhere.
  ExpectRecordExactAcrossBatches("2");
}

TEST(KafkaSource, ThroughputComparedWithBareConsumer) {
  // The mock keeps at most 5 MiB per partition, so 200K records are spread
  // over 8 partitions (~3 MiB each).
  MockKafka kafka;
  const int parts = 8, per_part = 25000, n = parts * per_part;
  kafka.CreateTopic("perf", parts);
  std::string value(100, 'v');
  for (int p = 0; p < parts; ++p) {
    for (int i = 0; i < per_part; ++i) kafka.ProduceOne("perf", p, "key" + std::to_string(i), value);
  }
  kafka.Flush();

  auto bare_start = std::chrono::steady_clock::now();
  {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", kafka.bootstraps().c_str(), errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "auto.offset.reset", "error", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "50", errstr, sizeof(errstr));  // as the source's consumers
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, "perf", nullptr);
    std::vector<rd_kafka_message_t*> msgs(8192);
    int64_t got = 0, bytes = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (int p = 0; p < parts; ++p) {
      rd_kafka_consume_start(rkt, p, 0);
      int64_t part_got = 0;
      while (part_got < per_part && std::chrono::steady_clock::now() < deadline) {
        size_t want = std::min<size_t>(msgs.size(), static_cast<size_t>(per_part - part_got));
        ssize_t k = rd_kafka_consume_batch(rkt, p, 1000, msgs.data(), want);
        for (ssize_t i = 0; i < k; ++i) {
          if (!msgs[i]->err) {
            ++part_got;
            bytes += static_cast<int64_t>(msgs[i]->len);
          }
          rd_kafka_message_destroy(msgs[i]);
        }
      }
      rd_kafka_consume_stop(rkt, p);
      got += part_got;
    }
    EXPECT_EQ(got, n);
    EXPECT_EQ(bytes, int64_t{n} * 100);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
  }
  double bare = std::chrono::duration<double>(std::chrono::steady_clock::now() - bare_start).count();

  auto source = MakeSource(kafka, {{"subscribe", "perf"}, {"startingOffsets", "earliest"}});
  ASSERT_OK_AND_ASSIGN(auto start, source->InitialOffset());
  ASSERT_OK_AND_ASSIGN(auto end, source->LatestOffset(start));
  ASSERT_OK_AND_ASSIGN(auto tasks, source->PlanBatch(start, end));
  auto ours_start = std::chrono::steady_clock::now();  // reading only, as the bare loop
  int64_t rows = 0;
  for (auto& task : tasks) {
    ASSERT_OK_AND_ASSIGN(auto it, task());
    for (;;) {
      ASSERT_OK_AND_ASSIGN(auto batch, it());
      if (!batch) break;
      EXPECT_LE(batch->num_rows(), 8 * 1024);  // the source's batch cap
      rows += batch->num_rows();
    }
  }
  double ours = std::chrono::duration<double>(std::chrono::steady_clock::now() - ours_start).count();
  EXPECT_EQ(rows, n);
  std::printf("[ perf ] %d records: bare consumer %.3f s, source %.3f s (%.0f%% of bare speed)\n", n, bare, ours,
              100.0 * bare / ours);
  EXPECT_GT(bare / ours, 0.35);  // lenient (two shared cores); typically 80-100%
}

}  // namespace
}  // namespace lakestream::connectors::kafka
