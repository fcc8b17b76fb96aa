// transformWithState: value/list/map state, event-time timers, TTL, initial
// state, and state that survives a restart.
#include "stream/transform_with_state.h"

#include <arrow/api.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "plan/session.h"
#include "stream/query.h"

namespace lakestream::stream {
namespace {

namespace fs = std::filesystem;

// Sessionization: counts a user's events, remembers the pages in a list and
// the last event time; when the watermark passes last event + 10 s the
// session closes: one output row (user, events, pages, closed) and the state
// is cleared.
class Sessions : public StatefulProcessor {
 public:
  Status Init(StatefulProcessorHandle* h, TimeMode) override {
    handle_ = h;
    count_ = h->GetValueState("count");
    last_ = h->GetValueState("last");
    pages_ = h->GetListState("pages");
    seen_ = h->GetMapState("seen");
    return Status::OK();
  }
  Status HandleInputRows(const std::shared_ptr<arrow::RecordBatch>& key,
                         const std::shared_ptr<arrow::RecordBatch>& rows, const TimerValues&,
                         OutputRows*) override {
    ARROW_ASSIGN_OR_RAISE(auto c, count_->Get());
    int64_t n = c ? DecodeInt64(*c) : 0;
    ARROW_ASSIGN_OR_RAISE(auto l, last_->Get());
    int64_t last = l ? DecodeInt64(*l) : 0;
    auto ts = std::static_pointer_cast<arrow::TimestampArray>(rows->GetColumnByName("ts"));
    auto page = std::static_pointer_cast<arrow::StringArray>(rows->GetColumnByName("page"));
    for (int64_t i = 0; i < rows->num_rows(); ++i) {
      ++n;
      last = std::max(last, ts->Value(i) / 1000);
      ARROW_ASSIGN_OR_RAISE(auto dup, seen_->Get(page->GetString(i)));
      if (!dup) {
        ARROW_RETURN_NOT_OK(pages_->Append(page->GetString(i)));
        ARROW_RETURN_NOT_OK(seen_->Put(page->GetString(i), "1"));
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto timers, handle_->ListTimers());
    for (auto t : timers) ARROW_RETURN_NOT_OK(handle_->DeleteTimer(t));
    ARROW_RETURN_NOT_OK(handle_->RegisterTimer(last + 10000));
    ARROW_RETURN_NOT_OK(count_->Update(EncodeInt64(n)));
    return last_->Update(EncodeInt64(last));
  }
  Status HandleExpiredTimer(const std::shared_ptr<arrow::RecordBatch>& key, const TimerValues&,
                            const ExpiredTimerInfo& timer, OutputRows* out) override {
    ARROW_ASSIGN_OR_RAISE(auto c, count_->Get());
    ARROW_ASSIGN_OR_RAISE(auto pages, pages_->Get());
    std::string joined;
    for (const auto& p : pages) joined += (joined.empty() ? "" : ",") + p;
    ARROW_ASSIGN_OR_RAISE(auto user, key->column(0)->GetScalar(0));
    ARROW_RETURN_NOT_OK(
        out->Emit({user, std::make_shared<arrow::Int64Scalar>(c ? DecodeInt64(*c) : 0),
                   std::make_shared<arrow::StringScalar>(joined),
                   std::make_shared<arrow::Int64Scalar>(timer.expiry_ms)}));
    ARROW_RETURN_NOT_OK(count_->Clear());
    ARROW_RETURN_NOT_OK(last_->Clear());
    ARROW_RETURN_NOT_OK(seen_->Clear());
    return pages_->Clear();
  }

 private:
  StatefulProcessorHandle* handle_ = nullptr;
  ValueState* count_ = nullptr;
  ValueState* last_ = nullptr;
  ListState* pages_ = nullptr;
  MapState* seen_ = nullptr;
};

class TransformWithStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("lakestream-tws-{}-{}", getpid(), counter_++);
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& p) const { return (dir_ / p).string(); }

  void Write(const std::string& name,
             const std::vector<std::tuple<std::string, std::string, std::string>>& rows) {
    {
      std::ofstream out(Path("in/." + name));
      for (const auto& [user, ts, page] : rows) {
        out << fmt::format("{{\"user\": \"{}\", \"ts\": \"2026-01-01T{}Z\", \"page\": \"{}\"}}\n",
                           user, ts, page);
      }
    }
    fs::rename(Path("in/." + name), Path("in/" + name));
  }

  QuerySpec Spec() {
    QuerySpec spec;
    spec.checkpoint_dir = Path("cp");
    spec.sql = fmt::format(
        "SELECT user, ts, page FROM STREAM read_files('{}', format => 'json', schema => 'user "
        "STRING, ts TIMESTAMP, page STRING', maxFilesPerTrigger => 1) WATERMARK ts DELAY OF "
        "INTERVAL 5 SECONDS",
        Path("in"));
    spec.trigger.kind = Trigger::Kind::kAvailableNow;
    auto t = std::make_shared<TransformWithStateSpec>();
    t->key_columns = {"user"};
    t->make_processor = [] { return std::make_unique<Sessions>(); };
    t->output_schema = arrow::schema(
        {arrow::field("user", arrow::utf8()), arrow::field("events", arrow::int64()),
         arrow::field("pages", arrow::utf8()), arrow::field("closed_at", arrow::int64())});
    t->time_mode = TimeMode::kEventTime;
    spec.transform_with_state = t;
    spec.sink_format = "delta";
    spec.sink_options = {{"path", Path("out")}};
    return spec;
  }

  // `timeout`: sanitizer builds drain the crash test's backlog slowly.
  std::shared_ptr<StreamingQuery> Run(const QuerySpec& spec,
                                      std::chrono::seconds timeout = std::chrono::seconds(60)) {
    auto q = StreamingQuery::Start(spec);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    if (!q.ok()) return nullptr;
    EXPECT_TRUE((*q)->AwaitTermination(timeout));
    EXPECT_TRUE((*q)->exception().ok()) << (*q)->exception().ToString();
    return *q;
  }

  std::vector<std::string> Rows(const std::string& sql) {
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

TEST_F(TransformWithStateTest, SessionsCloseWhenTheWatermarkPassesTheirTimer) {
  auto spec = Spec();
  Write("0.json",
        {{"ann", "10:00:00", "/a"}, {"bob", "10:00:01", "/a"}, {"ann", "10:00:03", "/b"}});
  ASSERT_TRUE(Run(spec));  // a restart between files: state and timers come from the checkpoint
  Write("1.json", {{"ann", "10:00:08", "/a"}, {"bob", "10:00:30", "/c"}});
  ASSERT_TRUE(Run(spec));
  Write("2.json",
        {{"carl", "10:01:00", "/z"}});  // watermark 10:00:55 closes ann (18 s) and bob (40 s)
  auto q = Run(spec);
  ASSERT_TRUE(q);
  EXPECT_EQ(Rows(fmt::format("SELECT user, events, pages, closed_at FROM delta.`{}` ORDER BY user",
                             Path("out"))),
            (std::vector<std::string>{"ann|3|/a,/b|1767261618000", "bob|2|/a,/c|1767261640000"}));
  EXPECT_EQ(q->last_progress()["stateOperators"][0]["operatorName"], "transformWithStateExec");
}

TEST_F(TransformWithStateTest, RefusesEventTimeWithoutWatermark) {
  auto spec = Spec();
  spec.sql = fmt::format(
      "SELECT user, ts, page FROM STREAM read_files('{}', format => 'json', schema => 'user "
      "STRING, "
      "ts TIMESTAMP, page STRING')",
      Path("in"));
  Write("0.json", {{"ann", "10:00:00", "/a"}});
  auto q = StreamingQuery::Start(spec);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("WATERMARK"), std::string::npos);
}

// --- SIGKILL: a processor with event-time timers killed mid-stream 20 times.

constexpr const char* kCrashDirEnv = "LAKESTREAM_TWS_CRASH_DIR";

QuerySpec CrashSpec(const std::string& dir, Trigger::Kind trigger) {
  QuerySpec spec;
  spec.checkpoint_dir = dir + "/cp";
  spec.sql = fmt::format(
      "SELECT user, ts, page FROM STREAM read_files('{}/in', format => 'json', schema => 'user "
      "STRING, ts TIMESTAMP, page STRING', maxFilesPerTrigger => 2) WATERMARK ts DELAY OF INTERVAL "
      "5 SECONDS",
      dir);
  spec.trigger.kind = trigger;
  auto t = std::make_shared<TransformWithStateSpec>();
  t->key_columns = {"user"};
  t->make_processor = [] { return std::make_unique<Sessions>(); };
  t->output_schema = arrow::schema(
      {arrow::field("user", arrow::utf8()), arrow::field("events", arrow::int64()),
       arrow::field("pages", arrow::utf8()), arrow::field("closed_at", arrow::int64())});
  t->time_mode = TimeMode::kEventTime;
  spec.transform_with_state = t;
  spec.sink_format = "delta";
  spec.sink_options = {{"path", dir + "/out"}};
  return spec;
}

// The child: streams until killed. Skipped unless started by the parent below.
TEST(TransformWithStateCrashChild, RunForever) {
  const char* dir = ::getenv(kCrashDirEnv);
  if (dir == nullptr)
    GTEST_SKIP() << "only run as the child of TransformWithStateTest.SigkillMidStream";
  auto q = StreamingQuery::Start(CrashSpec(dir, Trigger::Kind::kDefault));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  (*q)->AwaitTermination();
  FAIL() << "the query stopped: " << (*q)->exception().ToString();
}

TEST_F(TransformWithStateTest, SigkillMidStreamLosesAndDuplicatesNothing) {
  const std::string dir = dir_.string();
  // File j: user u<j> with three events at j*20 s (+0, +1, +2 s): one session each.
  std::atomic<int> files{0};
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    while (!stop) {
      int j = files.load();
      std::vector<std::tuple<std::string, std::string, std::string>> rows;
      for (int e = 0; e < 3; ++e) {
        int secs = j * 20 + e;
        rows.emplace_back(
            fmt::format("u{:04}", j),
            fmt::format("{:02}:{:02}:{:02}", 10 + secs / 3600, (secs / 60) % 60, secs % 60),
            fmt::format("/p{}", e % 2));
      }
      Write(fmt::format("{:06}.json", j), rows);
      files = j + 1;
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
  });
  std::string self = fs::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=TransformWithStateCrashChild.RunForever";
  std::string env_dir = std::string(kCrashDirEnv) + "=" + dir;
  std::vector<char*> argv = {self.data(), filter.data(), nullptr};
  std::vector<char*> envp = {env_dir.data(), nullptr};
  int log_fd =
      ::open((dir + "/child.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ASSERT_GE(log_fd, 0);
  std::mt19937 rng(77);
  auto progress_lines = [&] {
    std::ifstream progress(dir + "/cp/progress.jsonl");
    size_t n = 0;
    for (std::string line; std::getline(progress, line);) ++n;
    return n;
  };
  for (int round = 0; round < 20; ++round) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::execve(self.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    // Kill once this run has committed a batch (slow builds such as the
    // sanitizers' take long to start), then a random while into the next.
    const size_t before = progress_lines();
    for (int waited = 0; progress_lines() == before && waited < 20000; waited += 20)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
    int status = 0;
    ASSERT_NE(::waitpid(pid, &status, WNOHANG), pid) << "child exited early in round " << round;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  stop = true;
  producer.join();
  ::close(log_fd);
  // The kills landed mid-stream: many killed runs had committed batches.
  {
    std::ifstream progress(dir + "/cp/progress.jsonl");
    std::set<std::string> runs;
    for (std::string line; std::getline(progress, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object()) runs.insert(j.value("runId", ""));
    }
    EXPECT_GE(runs.size(), 10u);
  }
  // Drain in-process, then check: every closed session exactly once.
  auto q = Run(CrashSpec(dir, Trigger::Kind::kAvailableNow), std::chrono::seconds(600));
  ASSERT_TRUE(q);
  const int n = files.load();
  ASSERT_GT(n, 10);
  auto rows =
      Rows(fmt::format("SELECT user, events, pages FROM delta.`{}/out` ORDER BY user", dir));
  std::vector<std::string> want;
  for (int j = 0; j + 1 < n; ++j)
    want.push_back(fmt::format("u{:04}|3|/p0,/p1", j));  // the last is still open
  EXPECT_EQ(rows, want);
}

}  // namespace
}  // namespace lakestream::stream
