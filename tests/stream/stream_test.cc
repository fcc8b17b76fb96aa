// The streaming runtime end to end in-process: files, rate and Delta sources;
// Delta, memory and foreachBatch sinks; triggers; recovery of an uncommitted
// batch; corrupt checkpoints; unsupported operators refused at start.
#include <arrow/api.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "connectors/delta/writer.h"
#include "plan/session.h"
#include "stream/checkpoint.h"
#include "stream/pipeline.h"
#include "stream/query.h"

namespace lakestream::stream {
namespace {

namespace fs = std::filesystem;

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("lakestream-stream-{}-{}", getpid(), counter_++);
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& p) const { return (dir_ / p).string(); }

  // Writes a JSON-lines file atomically (as producers of a watched folder must).
  void WriteJson(const std::string& name, int first, int count, const std::string& extra = "") {
    auto tmp = Path("in/." + name + ".tmp");
    {
      std::ofstream out(tmp);
      for (int i = first; i < first + count; ++i) {
        out << fmt::format("{{\"id\": {}, \"kind\": \"{}\"}}\n", i, i % 3 == 0 ? "click" : "view");
      }
      out << extra;
    }
    fs::rename(tmp, Path("in/" + name));
  }

  static int64_t Scalar(const std::string& sql) {
    plan::Session s;
    auto r = s.ExecuteSql(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->batches.empty()) return -1;
    auto arr = r->batches[0]->column(0);
    if (arr->IsNull(0)) return -1;
    return std::static_pointer_cast<arrow::Int64Array>(arr)->Value(0);
  }

  std::shared_ptr<StreamingQuery> Run(QuerySpec spec) {
    auto q = StreamingQuery::Start(std::move(spec));
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    if (!q.ok()) return nullptr;
    EXPECT_TRUE((*q)->AwaitTermination(std::chrono::seconds(60)));
    return *q;
  }

  fs::path dir_;
  static inline int counter_ = 0;
};

TEST(TriggerTest, Parses) {
  EXPECT_EQ(Trigger::Parse("availableNow")->kind, Trigger::Kind::kAvailableNow);
  EXPECT_EQ(Trigger::Parse("once")->kind, Trigger::Kind::kOnce);
  EXPECT_EQ(Trigger::Parse("default")->kind, Trigger::Kind::kDefault);
  EXPECT_EQ(Trigger::Parse("processingTime=100ms")->interval_ms, 100);
  EXPECT_EQ(Trigger::Parse("processingTime=1 second")->interval_ms, 1000);
  EXPECT_EQ(Trigger::Parse("processingTime=1ms")->interval_ms, 1);
  EXPECT_FALSE(Trigger::Parse("processingTime=fast").ok());
  EXPECT_FALSE(Trigger::Parse("sometimes").ok());
}

TEST_F(StreamTest, FilesToDeltaEachFileOnceAcrossRuns) {
  WriteJson("a.json", 0, 10);
  WriteJson("b.json", 10, 10);
  WriteJson("c.json", 20, 10);
  QuerySpec spec;
  spec.checkpoint_dir = Path("cp");
  spec.sql = fmt::format(
      "SELECT id, upper(kind) AS kind FROM STREAM read_files('{}', format => 'json', "
      "maxFilesPerTrigger => 1) WHERE id % 2 = 0",
      Path("in"));
  spec.trigger.kind = Trigger::Kind::kAvailableNow;
  spec.sink_format = "delta";
  spec.sink_options["path"] = Path("out");
  auto q = Run(spec);
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->exception().ok()) << q->exception().ToString();
  EXPECT_EQ(q->recent_progress().size(), 3u);  // maxFilesPerTrigger = 1
  EXPECT_EQ(q->last_progress()["batchId"], 2);
  EXPECT_EQ(q->last_progress()["numInputRows"], 10);
  EXPECT_EQ(q->last_progress()["sink"]["numOutputRows"], 5);
  auto table = fmt::format("delta.`{}`", Path("out"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + table), 15);
  EXPECT_EQ(Scalar("SELECT count(DISTINCT id) FROM " + table), 15);

  // A restart with nothing new writes nothing; a new file is read once.
  auto again = Run(spec);
  ASSERT_TRUE(again && again->exception().ok());
  EXPECT_TRUE(again->recent_progress().empty());
  WriteJson("d.json", 30, 10);
  again = Run(spec);
  ASSERT_TRUE(again && again->exception().ok());
  EXPECT_EQ(again->recent_progress().size(), 1u);
  EXPECT_EQ(again->last_progress()["batchId"], 3);
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + table), 20);
  EXPECT_EQ(Scalar("SELECT sum(id) FROM " + table), 380);  // even ids 0..38
  EXPECT_EQ(again->id(), q->id());                         // the query id lives in the checkpoint
  EXPECT_NE(again->run_id(), q->run_id());
}

TEST_F(StreamTest, EqualScansOfOneSourceShareItAndEachGetsEveryRow) {
  for (int f = 0; f < 3; ++f) WriteJson(fmt::format("f{}.json", f), f * 10, 10);
  auto run = [&](const std::string& name, const std::string& wm_a, const std::string& wm_b) {
    auto scan = [&](const std::string& wm) {
      return fmt::format(
          "SELECT id FROM (SELECT id, timestamp_seconds(id) AS ts FROM STREAM read_files('{}', "
          "format => 'json', schema => 'id BIGINT, kind STRING', maxFilesPerTrigger => 1)) "
          "WATERMARK ts DELAY OF INTERVAL {} SECONDS",
          Path("in"), wm);
    };
    QuerySpec spec;
    spec.checkpoint_dir = Path("cp-" + name);
    spec.sql = scan(wm_a) + " UNION ALL " + scan(wm_b);
    spec.trigger.kind = Trigger::Kind::kAvailableNow;
    spec.sink_format = "delta";
    spec.sink_options["path"] = Path("out-" + name);
    auto q = Run(spec);
    EXPECT_TRUE(q && q->exception().ok()) << (q ? q->exception().ToString() : "");
    return q;
  };
  // The same watermark: one source read once, and both branches see all 30 rows.
  auto shared = run("same", "5", "5");
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->last_progress()["sources"].size(), 1u);
  EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM delta.`{}`", Path("out-same"))), 60);
  EXPECT_EQ(Scalar(fmt::format("SELECT count(DISTINCT id) FROM delta.`{}`", Path("out-same"))), 30);
  // Another watermark makes another source: two reads, as written.
  auto apart = run("other", "5", "10");
  ASSERT_TRUE(apart);
  EXPECT_EQ(apart->last_progress()["sources"].size(), 2u);
  EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM delta.`{}`", Path("out-other"))), 60);
}

TEST_F(StreamTest, AsyncProgressTrackingKeepsExactlyOnce) {
  for (int f = 0; f < 5; ++f) WriteJson(fmt::format("f{}.json", f), f * 100, 100);
  QuerySpec spec;
  spec.checkpoint_dir = Path("cp");
  spec.sql = fmt::format(
      "SELECT id FROM STREAM read_files('{}', format => 'json', maxFilesPerTrigger => 2)",
      Path("in"));
  spec.trigger.kind = Trigger::Kind::kAvailableNow;
  spec.async_progress = true;
  spec.sink_format = "delta";
  spec.sink_options["path"] = Path("out");
  auto q = Run(spec);
  ASSERT_TRUE(q && q->exception().ok()) << q->exception().ToString();
  EXPECT_EQ(Scalar(fmt::format("SELECT count(DISTINCT id) FROM delta.`{}`", Path("out"))), 500);
  EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM delta.`{}`", Path("out"))), 500);
  EXPECT_TRUE(fs::exists(Path("cp/commits/2")));
  EXPECT_TRUE(fs::exists(Path("cp/offsets/2")));
}

// Records the ids (column 0) a sink call received for `batch_id`; a replay
// of that batch must deliver the same ids as its first run.
void ExpectSameRowsOnReplay(std::map<int64_t, std::vector<int64_t>>* seen, int64_t batch_id,
                            const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) {
  std::vector<int64_t> ids;
  for (const auto& b : batches) {
    auto a = std::static_pointer_cast<arrow::Int64Array>(b->column(0));
    for (int64_t i = 0; i < a->length(); ++i) ids.push_back(a->Value(i));
  }
  std::sort(ids.begin(), ids.end());
  auto it = seen->find(batch_id);
  if (it != seen->end()) {
    EXPECT_EQ(it->second, ids) << "batch " << batch_id << " replayed with other rows";
  }
  (*seen)[batch_id] = std::move(ids);
}

TEST_F(StreamTest, FailedBatchIsReplayedWithTheSameOffsets) {
  for (int f = 0; f < 4; ++f) WriteJson(fmt::format("f{}.json", f), f * 10, 10);
  std::map<int64_t, std::vector<int64_t>> seen;  // batch id -> ids, across both runs
  int calls = 0;
  auto sink = ForeachBatchSink(
      [&](int64_t batch_id, const std::shared_ptr<arrow::Schema>&,
          const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) -> Status {
        ++calls;
        ExpectSameRowsOnReplay(&seen, batch_id, batches);
        if (calls == 2) return Status::IOError("sink unavailable");  // batch 1 fails the first time
        return Status::OK();
      });
  QuerySpec spec;
  spec.checkpoint_dir = Path("cp");
  spec.sql = fmt::format(
      "SELECT id FROM STREAM read_files('{}', format => 'json', maxFilesPerTrigger => 1)",
      Path("in"));
  spec.trigger.kind = Trigger::Kind::kAvailableNow;
  spec.sink = sink;
  auto q = Run(spec);
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->exception().ok());
  EXPECT_NE(q->exception().message().find("sink unavailable"), std::string::npos);
  EXPECT_TRUE(fs::exists(Path("cp/offsets/1")));
  EXPECT_FALSE(fs::exists(Path("cp/commits/1")));
  // More data arrived meanwhile: the replay must still read only batch 1's file.
  WriteJson("f9.json", 90, 10);
  auto again = Run(spec);
  ASSERT_TRUE(again && again->exception().ok()) << again->exception().ToString();
  EXPECT_EQ(again->recent_progress().front()["batchId"], 1);
  std::multiset<int64_t> all;
  for (const auto& [id, ids] : seen) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), 50u);
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 50u);
}

TEST_F(StreamTest, PipelinedBatchesKeepTheProtocolOrderAndReplayAFailedTail) {
  // Every batch pipelined (its tail on another thread while the next one is
  // read): when the sink sees batch N, offsets/N is durable, commits/N-1 is
  // written, and neither commits/N nor offsets/N+1 exists yet.
  for (int f = 0; f < 6; ++f) WriteJson(fmt::format("f{}.json", f), f * 10, 10);
  std::map<int64_t, std::vector<int64_t>> seen;
  int calls = 0;
  auto exists = [&](const std::string& p) { return fs::exists(Path("cp/" + p)); };
  auto sink = ForeachBatchSink(
      [&](int64_t batch_id, const std::shared_ptr<arrow::Schema>&,
          const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) -> Status {
        ++calls;
        EXPECT_TRUE(exists(fmt::format("offsets/{}", batch_id))) << batch_id;
        if (batch_id > 0) {
          EXPECT_TRUE(exists(fmt::format("commits/{}", batch_id - 1))) << batch_id;
        }
        EXPECT_FALSE(exists(fmt::format("commits/{}", batch_id))) << batch_id;
        EXPECT_FALSE(exists(fmt::format("offsets/{}", batch_id + 1))) << batch_id;
        ExpectSameRowsOnReplay(&seen, batch_id, batches);
        if (calls == 3) return Status::IOError("sink unavailable");  // batch 2, the first time
        return Status::OK();
      });
  QuerySpec spec;
  spec.checkpoint_dir = Path("cp");
  spec.sql = fmt::format(
      "SELECT id FROM STREAM read_files('{}', format => 'json', maxFilesPerTrigger => 1)",
      Path("in"));
  spec.trigger.kind = Trigger::Kind::kAvailableNow;
  spec.config.raw["lakestream.streaming.pipelineMinRows"] = "1";
  spec.sink = sink;
  auto q = Run(spec);
  ASSERT_TRUE(q);
  EXPECT_NE(q->exception().message().find("sink unavailable"), std::string::npos)
      << q->exception().ToString();
  EXPECT_TRUE(exists("offsets/2"));
  EXPECT_FALSE(exists("commits/2"));
  EXPECT_FALSE(exists("offsets/3"));  // batch 3 was read, never planned durably
  auto again = Run(spec);
  ASSERT_TRUE(again && again->exception().ok()) << again->exception().ToString();
  auto progress = again->recent_progress();
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.front()["batchId"], 2);
  EXPECT_TRUE(progress.front().value("pipelined", false));
  std::multiset<int64_t> all;
  for (const auto& [id, ids] : seen) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), 60u);
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 60u);
}

TEST_F(StreamTest, CorruptCheckpointIsAClearError) {
  WriteJson("a.json", 0, 10);
  QuerySpec spec;
  spec.checkpoint_dir = Path("cp");
  spec.sql = fmt::format("SELECT id FROM STREAM read_files('{}', format => 'json')", Path("in"));
  spec.trigger.kind = Trigger::Kind::kAvailableNow;
  spec.sink_format = "memory";
  spec.sink_options["queryName"] = "corrupt_test";
  ASSERT_TRUE(Run(spec)->exception().ok());
  {
    std::ofstream out(Path("cp/offsets/0"), std::ios::trunc);
    out << "v1\n{not json";
  }
  fs::remove(Path("cp/commits/0"));
  auto q = Run(spec);
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->exception().ok());
  EXPECT_NE(q->exception().message().find("corrupt streaming checkpoint file"), std::string::npos)
      << q->exception().ToString();
  EXPECT_NE(q->exception().message().find("offsets/0"), std::string::npos);

  // A deleted metadata file with batches present is refused, not a silent restart.
  fs::remove(Path("cp/metadata"));
  auto r = StreamingQuery::Start(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("metadata"), std::string::npos) << r.status().ToString();
}

TEST_F(StreamTest, RateSourceIntoMemoryWithProcessingTime) {
  QuerySpec spec;
  spec.checkpoint_dir = Path("cp");
  spec.sql =
      "SELECT value, timestamp FROM STREAM read_rate(rowsPerSecond => 2000, numPartitions => 3)";
  spec.trigger = *Trigger::Parse("processingTime=50ms");
  spec.sink_format = "memory";
  spec.sink_options["queryName"] = "rate_test";
  auto q = StreamingQuery::Start(spec);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  for (int i = 0; i < 200 && (*q)->recent_progress().size() < 4; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  (*q)->Stop();
  ASSERT_TRUE((*q)->exception().ok()) << (*q)->exception().ToString();
  EXPECT_GE((*q)->recent_progress().size(), 4u);
  plan::Session s;
  auto r = s.ExecuteSql(
      "SELECT count(*), min(value), max(value), count(DISTINCT value) FROM memory.`rate_test`");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto row = r->batches[0];
  int64_t n = std::static_pointer_cast<arrow::Int64Array>(row->column(0))->Value(0);
  EXPECT_GT(n, 0);
  EXPECT_EQ(std::static_pointer_cast<arrow::Int64Array>(row->column(1))->Value(0), 0);
  EXPECT_EQ(std::static_pointer_cast<arrow::Int64Array>(row->column(2))->Value(0),
            n - 1);  // no gaps
  EXPECT_EQ(std::static_pointer_cast<arrow::Int64Array>(row->column(3))->Value(0),
            n);  // no duplicates
  EXPECT_EQ((*q)->status().message, "Stopped");
}

TEST_F(StreamTest, DeltaSourceReadsSnapshotThenNewCommits) {
  auto src = Path("src");
  auto write = [&](int first, int n) {
    arrow::Int64Builder b;
    for (int i = first; i < first + n; ++i) ASSERT_TRUE(b.Append(i).ok());
    auto schema = arrow::schema({arrow::field("id", arrow::int64())});
    auto table = arrow::Table::Make(schema, {*b.Finish()});
    ASSERT_TRUE(delta::WriteDelta(src, table, {}).ok());
  };
  write(0, 10);
  write(10, 10);
  QuerySpec spec;
  spec.checkpoint_dir = Path("cp");
  spec.sql =
      fmt::format("SELECT id * 10 AS x FROM STREAM read_delta('{}', maxFilesPerTrigger => 1)", src);
  spec.trigger.kind = Trigger::Kind::kAvailableNow;
  spec.sink_format = "delta";
  spec.sink_options["path"] = Path("out");
  auto q = Run(spec);
  ASSERT_TRUE(q && q->exception().ok()) << q->exception().ToString();
  EXPECT_EQ(q->recent_progress().size(), 2u);
  write(20, 5);
  q = Run(spec);
  ASSERT_TRUE(q && q->exception().ok()) << q->exception().ToString();
  auto out = fmt::format("delta.`{}`", Path("out"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + out), 25);
  EXPECT_EQ(Scalar("SELECT sum(x) FROM " + out), 3000);  // 10 * (0 + ... + 24)

  // An overwrite of the source is a data change a stream cannot follow.
  delta::DeltaWriteOptions ow;
  ow.mode = delta::DeltaWriteOptions::Mode::kOverwrite;
  arrow::Int64Builder b;
  ASSERT_TRUE(b.Append(1).ok());
  ASSERT_TRUE(
      delta::WriteDelta(
          src,
          arrow::Table::Make(arrow::schema({arrow::field("id", arrow::int64())}), {*b.Finish()}),
          ow)
          .ok());
  q = Run(spec);
  ASSERT_TRUE(q);
  EXPECT_NE(q->exception().message().find("skipChangeCommits"), std::string::npos)
      << q->exception().ToString();
}

TEST_F(StreamTest, DeltaSinkSkipsAReplayedBatch) {
  auto sink = connectors::MakeSink("delta", {{"path", Path("out")}},
                                   {"query-1", connectors::OutputMode::kAppend, ""});
  ASSERT_TRUE(sink.ok());
  auto schema = arrow::schema({arrow::field("id", arrow::int64())});
  arrow::Int64Builder b;
  ASSERT_TRUE(b.AppendValues({1, 2, 3}).ok());
  auto batch = arrow::RecordBatch::Make(schema, 3, {*b.Finish()});
  ASSERT_TRUE((*sink)->AddBatch(0, schema, {batch}).ok());
  ASSERT_TRUE((*sink)->AddBatch(0, schema, {batch}).ok());
  ASSERT_TRUE((*sink)->AddBatch(1, schema, {batch}).ok());
  EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM delta.`{}`", Path("out"))), 6);
}

TEST_F(StreamTest, UnsupportedQueriesAreRefusedAtStart) {
  WriteJson("a.json", 0, 10);
  QuerySpec spec;
  spec.checkpoint_dir = Path("cp");
  spec.sink_format = "memory";
  spec.sink_options["queryName"] = "x";
  auto src = fmt::format("STREAM read_files('{}', format => 'json')", Path("in"));
  for (const auto& [sql, want] : std::vector<std::pair<std::string, std::string>>{
           {"SELECT kind, count(*) FROM " + src + " GROUP BY kind", "aggregation"},
           {"SELECT * FROM " + src + " ORDER BY id", "sort"},
           // An outer stream-stream join needs a time bound to ever emit its NULL rows.
           {"SELECT * FROM " + src + " a LEFT JOIN " + src + " b ON a.id = b.id", "time bound"},
           {"SELECT * FROM range(3) r LEFT JOIN " + src + " s ON r.id = s.id", "outer join"},
           {"SELECT id FROM read_files('" + Path("in") + "', format => 'json')",
            "at least one streaming source"},
           {"SELECT * FROM STREAM read_nothing(x => 1)", "unknown streaming source"},
       }) {
    spec.sql = sql;
    auto q = StreamingQuery::Start(spec);
    ASSERT_FALSE(q.ok()) << sql;
    EXPECT_NE(q.status().message().find(want), std::string::npos)
        << sql << ": " << q.status().ToString();
  }
  // A stream-static inner join is stateless and allowed.
  spec.sql = "SELECT s.id, r.id AS rid FROM " + src + " s JOIN range(5) r ON s.id = r.id";
  spec.trigger.kind = Trigger::Kind::kAvailableNow;
  spec.sink_options["queryName"] = "join_static";
  auto q = Run(spec);
  ASSERT_TRUE(q && q->exception().ok());
  EXPECT_EQ(q->last_progress()["sink"]["numOutputRows"], 5);
}

TEST_F(StreamTest, PipelineOrdersTablesAndRunsStatements) {
  WriteJson("a.json", 0, 30);
  auto sql = fmt::format(R"(
    SET spark.sql.session.timeZone = UTC;
    CREATE STREAMING TABLE delta.`{0}` AS SELECT id, kind FROM STREAM delta.`{1}` WHERE kind = 'click';
    CREATE TEMPORARY VIEW raw AS SELECT * FROM STREAM read_files('{2}', format => 'json');
    CREATE STREAMING TABLE delta.`{1}` PARTITIONED BY (kind) AS SELECT * FROM raw;
  )",
                         Path("silver"), Path("bronze"), Path("in"));
  PipelineOptions opts;
  opts.checkpoint_dir = Path("cp");
  opts.trigger.kind = Trigger::Kind::kAvailableNow;
  auto specs = PlanPipeline(sql, opts);
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  ASSERT_EQ(specs->size(), 2u);
  EXPECT_EQ((*specs)[0].name, "bronze");  // written first: silver reads it
  EXPECT_EQ((*specs)[1].name, "silver");
  for (auto& s : *specs) ASSERT_TRUE(Run(s)->exception().ok());
  EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM delta.`{}`", Path("bronze"))), 30);
  EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM delta.`{}`", Path("silver"))), 10);

  auto cycle = fmt::format(
      "CREATE STREAMING TABLE delta.`{0}` AS SELECT * FROM STREAM delta.`{1}`;"
      "CREATE STREAMING TABLE delta.`{1}` AS SELECT * FROM STREAM delta.`{0}`;",
      Path("x"), Path("y"));
  auto bad = PlanPipeline(cycle, opts);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cycle"), std::string::npos);
}

TEST_F(StreamTest, StreamStaticJoinSeesNewCommitsOfTheStaticDeltaTable) {
  // The static side is re-read per micro-batch, as Spark re-plans it: rows
  // after the dimension table's INSERT find the new dimension rows.
  plan::Session s;
  ASSERT_TRUE(
      s.ExecuteSql(fmt::format("CREATE TABLE delta.`{}` AS SELECT * FROM VALUES (0, 'zero') "
                               "AS t(id, name)",
                               Path("dim")))
          .ok());
  WriteJson("a.json", 0, 1);
  QuerySpec spec;
  spec.checkpoint_dir = Path("cp");
  spec.sink_format = "delta";
  spec.sink_options = {{"path", Path("out")}};
  spec.sql = fmt::format(
      "SELECT s.id, d.name FROM STREAM read_files('{}', format => 'json', schema => 'id BIGINT') s "
      "LEFT JOIN delta.`{}` d ON s.id = d.id",
      Path("in"), Path("dim"));
  spec.polling_delay_ms = 10;
  auto q = StreamingQuery::Start(spec);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  auto wait_batches = [&](size_t n) {
    for (int i = 0; i < 1000 && (*q)->recent_progress().size() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return (*q)->recent_progress().size() >= n;
  };
  ASSERT_TRUE(wait_batches(1));
  ASSERT_TRUE(s.ExecuteSql(fmt::format("INSERT INTO delta.`{}` SELECT * FROM VALUES (1, 'one') AS "
                                       "t(id, name)",
                                       Path("dim")))
                  .ok());
  WriteJson("b.json", 1, 1);
  ASSERT_TRUE(wait_batches(2));
  (*q)->Stop();
  ASSERT_TRUE((*q)->exception().ok()) << (*q)->exception().ToString();
  EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM delta.`{}` WHERE id = 1 AND name = 'one'",
                               Path("out"))),
            1);
  EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM delta.`{}` WHERE name = 'zero'", Path("out"))),
            1);
}

}  // namespace
}  // namespace lakestream::stream

namespace lakestream::stream {
namespace {

TEST_F(StreamTest, ProgressAppendCutsATornLastLine) {
  // A kill in the middle of an earlier append left half a record: the next
  // append drops it, so every line is one whole JSON record.
  auto opened = Checkpoint::Open(Path("cp"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const Checkpoint& cp = *opened;
  ASSERT_TRUE(cp.AppendProgress(R"({"batchId":0})").ok());
  {
    std::ofstream torn(Path("cp/progress.jsonl"), std::ios::app);
    torn << R"({"batchId":1,"sour)";
  }
  ASSERT_TRUE(cp.AppendProgress(R"({"batchId":1})").ok());
  std::ifstream in(Path("cp/progress.jsonl"));
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "{\"batchId\":0}\n{\"batchId\":1}\n");
}

}  // namespace
}  // namespace lakestream::stream
