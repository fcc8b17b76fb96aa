// Streaming aggregations: window() with a watermark in append, update and
// complete modes over out-of-order and late rows; Spark's output-mode rules.
#include <arrow/api.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "plan/session.h"
#include "stream/query.h"

namespace lakestream::stream {
namespace {

namespace fs = std::filesystem;

class AggregateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("lakestream-agg-{}-{}", getpid(), counter_++);
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& p) const { return (dir_ / p).string(); }

  void WriteEvents(const std::string& name,
                   const std::vector<std::pair<std::string, std::string>>& events) {
    auto tmp = Path("in/." + name);
    {
      std::ofstream out(tmp);
      for (const auto& [ts, kind] : events)
        out << fmt::format("{{\"ts\": \"2026-01-01T{}Z\", \"kind\": \"{}\"}}\n", ts, kind);
    }
    fs::rename(tmp, Path("in/" + name));
  }

  QuerySpec Spec(const std::string& select, connectors::OutputMode mode, const std::string& table) {
    QuerySpec spec;
    spec.checkpoint_dir = Path("cp");
    spec.sql = fmt::format(
        fmt::runtime(select),
        fmt::format("STREAM read_files('{}', format => 'json', schema => 'ts TIMESTAMP, kind "
                    "STRING', maxFilesPerTrigger => 1) WATERMARK ts DELAY OF INTERVAL 5 "
                    "SECONDS",
                    Path("in")));
    spec.trigger.kind = Trigger::Kind::kAvailableNow;
    spec.output_mode = mode;
    spec.sink_format = "memory";
    spec.sink_options["queryName"] = table;
    return spec;
  }

  std::shared_ptr<StreamingQuery> Run(const QuerySpec& spec) {
    auto q = StreamingQuery::Start(spec);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    if (!q.ok()) return nullptr;
    EXPECT_TRUE((*q)->AwaitTermination(std::chrono::seconds(60)));
    EXPECT_TRUE((*q)->exception().ok()) << (*q)->exception().ToString();
    return *q;
  }

  static std::vector<std::string> Rows(const std::string& sql) {
    plan::Session s;
    auto r = s.ExecuteSql(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& b : r->batches) {
      for (int64_t i = 0; i < b->num_rows(); ++i) {
        std::string row;
        for (int c = 0; c < b->num_columns(); ++c)
          row += (c ? "|" : "") + (*b->column(c)->GetScalar(i))->ToString();
        out.push_back(row);
      }
    }
    return out;
  }

  fs::path dir_;
  static inline int counter_ = 0;
};

// Batch 0 sees 00:01 a, 00:05 a, 00:12 b (watermark then 00:07); batch 1 sees
// 00:03 a (behind the watermark, but its window [00:00, 00:10) is still open,
// so it counts, as in Spark), 00:15 b, 00:25 a (watermark then 00:20); batch 2
// sees 00:26 a and emits [00:00, 00:10) and [00:10, 00:20); batch 3 sees
// 00:04 a, whose window the previous batch's watermark closed: dropped.
// [00:20, 00:30) stays open.

TEST_F(AggregateTest, AppendEmitsEachClosedWindowOnce) {
  WriteEvents("0.json", {{"10:00:01", "a"}, {"10:00:05", "a"}, {"10:00:12", "b"}});
  WriteEvents("1.json", {{"10:00:03", "a"}, {"10:00:15", "b"}, {"10:00:25", "a"}});
  WriteEvents("2.json", {{"10:00:26", "a"}});
  WriteEvents("3.json", {{"10:00:04", "a"}});
  auto q =
      Run(Spec("SELECT window.start AS start, kind, count(*) AS n FROM {} GROUP BY window(ts, '10 "
               "seconds'), kind",
               connectors::OutputMode::kAppend, "agg_append"));
  ASSERT_TRUE(q);
  auto rows =
      Rows("SELECT CAST(start AS STRING), kind, n FROM memory.`agg_append` ORDER BY start, kind");
  EXPECT_EQ(rows, (std::vector<std::string>{"2026-01-01 10:00:00|a|3", "2026-01-01 10:00:10|b|2"}));
  auto progress = q->recent_progress();
  ASSERT_GE(progress.size(), 4u);
  EXPECT_EQ(progress[1]["stateOperators"][0]["numRowsDroppedByWatermark"], 0);
  EXPECT_EQ(progress[3]["stateOperators"][0]["numRowsDroppedByWatermark"], 1);
  EXPECT_EQ(progress[1]["eventTime"]["watermark"], "2026-01-01T10:00:07.000Z");
  EXPECT_EQ(progress.back()["stateOperators"][0]["numRowsTotal"],
            1);  // only [00:20, 00:30) a is left
}

TEST_F(AggregateTest, WatermarkOnASubqueryColumn) {
  // `(subquery) WATERMARK col`: the event time is a column the subquery
  // computes from the source (here a renamed one), as withWatermark on a
  // derived DataFrame; the same input as AppendEmitsEachClosedWindowOnce.
  WriteEvents("0.json", {{"10:00:01", "a"}, {"10:00:05", "a"}, {"10:00:12", "b"}});
  WriteEvents("1.json", {{"10:00:03", "a"}, {"10:00:15", "b"}, {"10:00:25", "a"}});
  WriteEvents("2.json", {{"10:00:26", "a"}});
  QuerySpec spec = Spec(
      "SELECT window.start AS start, kind, count(*) AS n FROM {} GROUP BY window(t2, '10 "
      "seconds'), kind",
      connectors::OutputMode::kAppend, "agg_subquery");
  spec.sql = fmt::format(
      "SELECT window.start AS start, kind, count(*) AS n FROM (SELECT ts AS t2, upper(kind) AS "
      "kind FROM STREAM "
      "read_files('{}', format => 'json', schema => 'ts TIMESTAMP, kind STRING', "
      "maxFilesPerTrigger => 1) "
      "WHERE kind IS NOT NULL) WATERMARK t2 DELAY OF INTERVAL 5 SECONDS GROUP BY window(t2, '10 "
      "seconds'), kind",
      Path("in"));
  auto q = Run(spec);
  ASSERT_TRUE(q);
  auto rows =
      Rows("SELECT CAST(start AS STRING), kind, n FROM memory.`agg_subquery` ORDER BY start, kind");
  EXPECT_EQ(rows, (std::vector<std::string>{"2026-01-01 10:00:00|A|3", "2026-01-01 10:00:10|B|2"}));
  EXPECT_EQ(q->last_progress()["eventTime"]["watermark"], "2026-01-01T10:00:21.000Z");

  // A WATERMARK the stream layer cannot trace to a source column is refused,
  // never ignored.
  spec.sql = fmt::format(
      "SELECT * FROM (SELECT kind, max(ts) AS m FROM STREAM read_files('{}', format => 'json', "
      "schema => "
      "'ts TIMESTAMP, kind STRING') GROUP BY kind) WATERMARK m DELAY OF INTERVAL 5 SECONDS",
      Path("in"));
  spec.checkpoint_dir = Path("cp2");
  auto bad = StreamingQuery::Start(spec);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("must come from one streaming source"), std::string::npos)
      << bad.status().ToString();
}

TEST_F(AggregateTest, RestartRunsTheNoDataBatchTheLastRunOwed) {
  // Batch 0 moves the watermark past [00:00, 00:10), but trigger once stops
  // before the no-data batch that would close it: the next run, with no new
  // data, must run that batch (the window must not wait for more input).
  WriteEvents("0.json", {{"10:00:01", "a"}, {"10:00:30", "b"}});
  auto spec = Spec(
      "SELECT window.start AS start, kind, count(*) AS n FROM {} GROUP BY window(ts, '10 "
      "seconds'), kind",
      connectors::OutputMode::kAppend, "agg_owed");
  spec.sink_format = "delta";
  spec.sink_options = {{"path", Path("out")}};
  spec.trigger.kind = Trigger::Kind::kOnce;
  ASSERT_TRUE(Run(spec));
  spec.trigger.kind = Trigger::Kind::kAvailableNow;
  ASSERT_TRUE(Run(spec));
  auto rows = Rows(fmt::format(
      "SELECT CAST(start AS STRING), kind, n FROM delta.`{}` ORDER BY start, kind", Path("out")));
  EXPECT_EQ(rows, (std::vector<std::string>{"2026-01-01 10:00:00|a|1"}));
}

TEST_F(AggregateTest, UpdateEmitsChangedGroupsEveryBatch) {
  WriteEvents("0.json", {{"10:00:01", "a"}, {"10:00:05", "a"}, {"10:00:12", "b"}});
  WriteEvents("1.json", {{"10:00:03", "a"}, {"10:00:15", "b"}, {"10:00:25", "a"}});
  auto q =
      Run(Spec("SELECT window.start AS start, kind, count(*) AS n, max(ts) AS last FROM {} GROUP "
               "BY window(ts, "
               "'10 seconds'), kind",
               connectors::OutputMode::kUpdate, "agg_update"));
  ASSERT_TRUE(q);
  auto rows = Rows(
      "SELECT CAST(start AS STRING), kind, n FROM memory.`agg_update` ORDER BY start, kind, n");
  EXPECT_EQ(rows, (std::vector<std::string>{"2026-01-01 10:00:00|a|2", "2026-01-01 10:00:00|a|3",
                                            "2026-01-01 10:00:10|b|1", "2026-01-01 10:00:10|b|2",
                                            "2026-01-01 10:00:20|a|1"}));
}

TEST_F(AggregateTest, CompleteEmitsTheWholeResultSorted) {
  WriteEvents("0.json", {{"10:00:01", "a"}, {"10:00:05", "b"}});
  WriteEvents("1.json", {{"10:00:03", "a"}, {"10:00:15", "c"}});
  QuerySpec spec = Spec("SELECT kind, count(*) AS n FROM {} GROUP BY kind ORDER BY n DESC, kind",
                        connectors::OutputMode::kComplete, "agg_complete");
  auto q = Run(spec);
  ASSERT_TRUE(q);
  auto rows = Rows("SELECT kind, n FROM memory.`agg_complete`");
  EXPECT_EQ(rows, (std::vector<std::string>{"a|2", "b|1", "c|1"}));
}

TEST_F(AggregateTest, OutputModeRulesAreCheckedAtStart) {
  WriteEvents("0.json", {{"10:00:01", "a"}});
  auto spec = Spec("SELECT kind, count(*) AS n FROM {} GROUP BY kind",
                   connectors::OutputMode::kAppend, "x");
  auto q = StreamingQuery::Start(spec);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find(
                "append output mode is not supported for a streaming aggregation without a "
                "watermark"),
            std::string::npos)
      << q.status().ToString();
  spec = Spec("SELECT kind FROM {}", connectors::OutputMode::kComplete, "x");
  q = StreamingQuery::Start(spec);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("complete output mode needs a streaming aggregation"),
            std::string::npos);
  spec = Spec("SELECT kind, count(*) FROM {} GROUP BY kind", connectors::OutputMode::kUpdate, "x");
  spec.sink_format = "delta";
  spec.sink_options = {{"path", Path("out")}};
  q = StreamingQuery::Start(spec);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("not update"), std::string::npos) << q.status().ToString();
}

TEST_F(AggregateTest, SlidingWindowsCountEachRowInEveryWindow) {
  WriteEvents("0.json", {{"10:00:01", "a"}, {"10:00:06", "a"}, {"10:00:12", "a"}});
  WriteEvents("1.json", {{"10:00:31", "a"}});  // moves the watermark to 10:00:26
  auto q =
      Run(Spec("SELECT window.start AS start, count(*) AS n FROM {} GROUP BY window(ts, '10 "
               "seconds', '5 seconds')",
               connectors::OutputMode::kAppend, "agg_sliding"));
  ASSERT_TRUE(q);
  EXPECT_EQ(Rows("SELECT CAST(start AS STRING), n FROM memory.`agg_sliding` ORDER BY start"),
            (std::vector<std::string>{"2026-01-01 09:59:55|1", "2026-01-01 10:00:00|2",
                                      "2026-01-01 10:00:05|2", "2026-01-01 10:00:10|1"}));
}

TEST_F(AggregateTest, DropDuplicatesKeepsTheFirstOfEachKeyAcrossRestarts) {
  auto write = [&](const std::string& name, const std::vector<std::pair<int, std::string>>& rows) {
    std::ofstream out(Path("in/." + name));
    for (const auto& [id, ts] : rows)
      out << fmt::format("{{\"id\": {}, \"ts\": \"2026-01-01T{}Z\"}}\n", id, ts);
    out.close();
    fs::rename(Path("in/." + name), Path("in/" + name));
  };
  QuerySpec spec;
  spec.checkpoint_dir = Path("cp");
  spec.sql = fmt::format(
      "SELECT id FROM STREAM read_files('{}', format => 'json', schema => 'id BIGINT, ts "
      "TIMESTAMP', "
      "dropDuplicatesWithinWatermark => 'id') WATERMARK ts DELAY OF INTERVAL 10 SECONDS",
      Path("in"));
  spec.trigger.kind = Trigger::Kind::kAvailableNow;
  spec.sink_format = "delta";
  spec.sink_options = {{"path", Path("out")}};
  write("0.json", {{1, "10:00:01"}, {2, "10:00:02"}, {2, "10:00:03"}, {3, "10:00:04"}});
  ASSERT_TRUE(Run(spec));
  write("1.json",
        {{3, "10:00:05"}, {4, "10:00:30"}});  // 3 is a duplicate; 4 moves the watermark to 10:00:20
  auto q = Run(spec);
  ASSERT_TRUE(q);
  write("2.json",
        {{1, "10:00:31"}, {4, "10:00:32"}});  // 1 was forgotten behind the watermark, 4 was not
  ASSERT_TRUE(Run(spec));
  EXPECT_EQ(
      Rows(fmt::format("SELECT id, count(*) FROM delta.`{}` GROUP BY id ORDER BY id", Path("out"))),
      (std::vector<std::string>{"1|2", "2|1", "3|1", "4|1"}));
  auto ops = q->recent_progress().front()["stateOperators"];
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0]["operatorName"], "dedupeWithinWatermark");
  EXPECT_EQ(ops[0]["numDroppedDuplicateRows"], 1);
}

TEST_F(AggregateTest, StateSurvivesARestart) {
  // The first two files of AppendEmitsEachClosedWindowOnce, but the query stops
  // after each file and a new query object (new state store instances, as
  // after a crash) continues from the checkpoint.
  auto spec = Spec(
      "SELECT window.start AS start, kind, count(*) AS n FROM {} GROUP BY window(ts, '10 "
      "seconds'), kind",
      connectors::OutputMode::kAppend, "agg_restart");
  spec.sink_format = "delta";
  spec.sink_options = {{"path", Path("out")}};
  WriteEvents("0.json", {{"10:00:01", "a"}, {"10:00:05", "a"}, {"10:00:12", "b"}});
  ASSERT_TRUE(Run(spec));
  WriteEvents("1.json", {{"10:00:03", "a"}, {"10:00:15", "b"}, {"10:00:25", "a"}});
  ASSERT_TRUE(Run(spec));
  auto rows = Rows(fmt::format(
      "SELECT CAST(start AS STRING), kind, n FROM delta.`{}` ORDER BY start, kind", Path("out")));
  EXPECT_EQ(rows, (std::vector<std::string>{"2026-01-01 10:00:00|a|3", "2026-01-01 10:00:10|b|2"}));
  // The state lives in the checkpoint as Spark lays it out, readable as a table:
  // only the [00:20, 00:30) window of `a` is still open.
  EXPECT_TRUE(fs::exists(Path("cp/state/0/0")));
  EXPECT_TRUE(fs::exists(Path("cp/state/0/_metadata/schema")));
  EXPECT_EQ(Rows(fmt::format("SELECT CAST(key.window.start AS STRING), key.kind, value.kind FROM "
                             "read_statestore('{}')",
                             Path("cp"))),
            (std::vector<std::string>{"2026-01-01 10:00:20|a|a"}));
  EXPECT_EQ(Rows(fmt::format(
                "SELECT operatorId, operatorName, numPartitions FROM read_state_metadata('{}')",
                Path("cp"))),
            (std::vector<std::string>{"0|stateStoreSave|8"}));
  // batchId => 0: after the first batch, the windows of batch 0 were all open.
  EXPECT_EQ(
      Rows(fmt::format("SELECT count(*) FROM read_statestore('{}', batchId => 0)", Path("cp"))),
      (std::vector<std::string>{"2"}));
}

TEST_F(AggregateTest, StateOfAnotherQueryIsRefused) {
  WriteEvents("0.json", {{"10:00:01", "a"}});
  auto spec = Spec("SELECT kind, count(*) AS n FROM {} GROUP BY kind",
                   connectors::OutputMode::kUpdate, "agg_schema");
  ASSERT_TRUE(Run(spec));
  spec = Spec("SELECT kind, sum(1) AS s, max(ts) AS m FROM {} GROUP BY kind",
              connectors::OutputMode::kUpdate, "agg_schema");
  WriteEvents("1.json", {{"10:00:02", "a"}});
  auto q = StreamingQuery::Start(spec);
  std::string error =
      q.ok() ? ((*q)->AwaitTermination(std::chrono::seconds(30)), (*q)->exception().message())
             : q.status().message();
  EXPECT_NE(error.find("schema"), std::string::npos) << error;
  EXPECT_NE(error.find("operator 0"), std::string::npos) << error;
}

}  // namespace
}  // namespace lakestream::stream
