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
#include <map>
#include <random>
#include <set>
#include <thread>

#include "plan/session.h"
#include "stream/operator_state.h"
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

TEST_F(TransformWithStateTest, ProgressCountsTheStateRowsOverShufflePartitions) {
  auto spec = Spec();
  Write("0.json", {{"ann", "10:00:00", "/a"}, {"ann", "10:00:01", "/b"}});
  Write("1.json", {{"carl", "10:01:00", "/z"}});  // closes ann's session
  auto q = Run(spec);
  ASSERT_TRUE(q);
  const auto progress = q->last_progress();
  const auto& op = progress["stateOperators"][0];
  // carl's: count, last, one page, the pages' sequence counter, one seen
  // entry, and the timer with its per-key listing. Nothing of ann's is left.
  EXPECT_EQ(op["numRowsTotal"], 7);
  EXPECT_EQ(op["numShufflePartitions"], 8);
  int dirs = 0;
  for (const auto& e : fs::directory_iterator(Path("cp/state/0")))
    dirs += e.is_directory() && e.path().filename() != "_metadata";
  EXPECT_EQ(dirs, 8);
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

// --- The runtime on its own, with batch timestamps of the test's choosing.

// Per row (k, v): "count" += 1 (no TTL), "last" = v, list "hist" += v and map
// "seen"[v] = 1, those three with a TTL of 1000 ms; a processing-time timer
// at the batch time + v. Emits (k, expiry) when a timer fires.
class TtlAndTimers : public StatefulProcessor {
 public:
  Status Init(StatefulProcessorHandle* h, TimeMode) override {
    h_ = h;
    count_ = h->GetValueState("count");
    last_ = h->GetValueState("last", 1000);
    hist_ = h->GetListState("hist", 1000);
    seen_ = h->GetMapState("seen", 1000);
    return Status::OK();
  }
  Status HandleInputRows(const std::shared_ptr<arrow::RecordBatch>&,
                         const std::shared_ptr<arrow::RecordBatch>& rows, const TimerValues& tv,
                         OutputRows*) override {
    auto v = std::static_pointer_cast<arrow::Int64Array>(rows->GetColumnByName("v"));
    for (int64_t i = 0; i < rows->num_rows(); ++i) {
      ARROW_ASSIGN_OR_RAISE(auto c, count_->Get());
      ARROW_RETURN_NOT_OK(count_->Update(EncodeInt64((c ? DecodeInt64(*c) : 0) + 1)));
      ARROW_RETURN_NOT_OK(last_->Update(EncodeInt64(v->Value(i))));
      ARROW_RETURN_NOT_OK(hist_->Append(EncodeInt64(v->Value(i))));
      ARROW_RETURN_NOT_OK(seen_->Put(std::to_string(v->Value(i)), "1"));
      ARROW_RETURN_NOT_OK(h_->RegisterTimer(tv.processing_time_ms + v->Value(i)));
    }
    return Status::OK();
  }
  Status HandleExpiredTimer(const std::shared_ptr<arrow::RecordBatch>& key, const TimerValues&,
                            const ExpiredTimerInfo& timer, OutputRows* out) override {
    ARROW_ASSIGN_OR_RAISE(auto k, key->column(0)->GetScalar(0));
    return out->Emit({k, std::make_shared<arrow::Int64Scalar>(timer.expiry_ms)});
  }
  ValueState* last_ = nullptr;
  ListState* hist_ = nullptr;
  MapState* seen_ = nullptr;

 private:
  StatefulProcessorHandle* h_ = nullptr;
  ValueState* count_ = nullptr;
};

class TransformWithStateRuntimeTest : public TransformWithStateTest {
 protected:
  std::shared_ptr<arrow::Schema> In() {
    return arrow::schema({arrow::field("k", arrow::utf8()), arrow::field("v", arrow::int64())});
  }
  std::shared_ptr<arrow::RecordBatch> Batch(
      const std::vector<std::pair<std::string, int64_t>>& rows) {
    arrow::StringBuilder k;
    arrow::Int64Builder v;
    for (const auto& [key, val] : rows) {
      EXPECT_TRUE(k.Append(key).ok());
      EXPECT_TRUE(v.Append(val).ok());
    }
    return arrow::RecordBatch::Make(In(), static_cast<int64_t>(rows.size()),
                                    {k.Finish().ValueOrDie(), v.Finish().ValueOrDie()});
  }
  std::unique_ptr<TransformWithState> Make(TtlAndTimers** processor = nullptr) {
    TransformWithStateSpec spec;
    spec.key_columns = {"k"};
    spec.make_processor = [processor]() -> std::unique_ptr<StatefulProcessor> {
      auto p = std::make_unique<TtlAndTimers>();
      if (processor) *processor = p.get();
      return p;
    };
    spec.output_schema =
        arrow::schema({arrow::field("k", arrow::utf8()), arrow::field("expiry", arrow::int64())});
    spec.time_mode = TimeMode::kProcessingTime;
    auto t = TransformWithState::Make(spec, In());
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(*t) : nullptr;
  }
  std::unique_ptr<OperatorState> Open(int partitions) {
    auto s = OperatorState::Open(Path("state"), 0, partitions, "tws-test", "tws", false,
                                 &TransformWithStateRoute);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // Runs batch `version` at `now_ms` and commits; the emitted rows as "k|expiry".
  std::vector<std::string> Step(TransformWithState* t, OperatorState* st, int64_t version,
                                int64_t now_ms,
                                const std::vector<std::pair<std::string, int64_t>>& rows) {
    std::vector<std::string> emitted;
    EXPECT_TRUE(st->Load(version).ok());
    std::vector<std::shared_ptr<arrow::RecordBatch>> input;
    if (!rows.empty()) input.push_back(Batch(rows));
    auto out = t->Process(input, now_ms, -1, version == 0, st);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (!out.ok()) return emitted;
    for (const auto& b : *out) {
      for (int64_t i = 0; i < b->num_rows(); ++i)
        emitted.push_back((*b->column(0)->GetScalar(i))->ToString() + "|" +
                          (*b->column(1)->GetScalar(i))->ToString());
    }
    EXPECT_TRUE(st->Commit().ok());
    return emitted;
  }
  // Entries per kind letter (v, l, c, m, t, k, x).
  std::map<char, int> Kinds(OperatorState* st) {
    std::map<char, int> n;
    EXPECT_TRUE(st->Scan([&](std::string_view k, std::string_view) {
                    ++n[k[0]];
                    return Status::OK();
                  }).ok());
    return n;
  }
};

TEST_F(TransformWithStateRuntimeTest, TtlRemovesExpiredValuesListElementsAndMapEntries) {
  auto t = Make();
  auto st = Open(8);
  // 50 keys at t=0 (timers far away), then key "a" again at t=500.
  std::vector<std::pair<std::string, int64_t>> rows;
  for (int i = 0; i < 50; ++i) rows.emplace_back(fmt::format("k{}", i), 100000 + i);
  rows.emplace_back("a", 100000);
  Step(t.get(), st.get(), 0, 0, rows);
  Step(t.get(), st.get(), 1, 500, {{"a", 100001}});
  auto n = Kinds(st.get());
  EXPECT_EQ(n['v'], 2 * 51);  // count and last of each key
  EXPECT_EQ(n['l'], 51 + 1);  // a has two history elements
  EXPECT_EQ(n['m'], 51 + 1);
  EXPECT_EQ(n['x'], 3 * 51 + 3);  // one index entry per TTL'd write
  // t=1200: everything written at t=0 expired; a's writes at t=500 live on.
  Step(t.get(), st.get(), 2, 1200, {});
  n = Kinds(st.get());
  EXPECT_EQ(n['v'], 51 + 1);  // the counts, and a's last
  EXPECT_EQ(n['l'], 1);
  EXPECT_EQ(n['c'], 1);  // only a's list still has a counter
  EXPECT_EQ(n['m'], 1);
  EXPECT_EQ(n['x'], 3);
  // t=2000: the TTL'd state is gone, the index too; counts and timers stay.
  Step(t.get(), st.get(), 3, 2000, {});
  n = Kinds(st.get());
  EXPECT_EQ(n['v'], 51);
  EXPECT_EQ(n['l'] + n['c'] + n['m'] + n['x'], 0);
  EXPECT_EQ(n['t'], 52);
  EXPECT_EQ(n['k'], 52);
  EXPECT_EQ(st->metrics().num_rows_total, 51 + 52 + 52);
}

TEST_F(TransformWithStateRuntimeTest, ReadsSeeTtlAndListsKeepTheirOrder) {
  TtlAndTimers* p = nullptr;
  auto t = Make(&p);
  auto st = Open(8);
  Step(t.get(), st.get(), 0, 0, {{"a", 5000}, {"a", 5001}});
  Step(t.get(), st.get(), 1, 600, {{"a", 5002}});
  // Reads at t=1100 as the processor would make them for key "a".
  ASSERT_TRUE(st->Load(2).ok());
  auto v = t->Process({Batch({{"a", 5003}})}, 1100, -1, false, st.get());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  // The handle still points at "a": its list holds the t=600 and t=1100
  // elements (the t=0 ones expired), in append order.
  auto hist = p->hist_->Get();
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->size(), 2u);
  EXPECT_EQ(DecodeInt64((*hist)[0]), 5002);
  EXPECT_EQ(DecodeInt64((*hist)[1]), 5003);
  auto seen = p->seen_->Entries();
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->size(), 2u);
  EXPECT_TRUE(seen->count("5002") && seen->count("5003"));
  auto last = p->last_->Get();
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ(DecodeInt64(**last), 5003);
}

TEST_F(TransformWithStateRuntimeTest, ProcessingTimeTimersFireInExpiryOrderAcrossPartitions) {
  auto t = Make();
  auto st = Open(8);
  std::vector<std::pair<std::string, int64_t>> rows;
  std::vector<std::pair<int64_t, std::string>> want;
  for (int i = 0; i < 40; ++i) {
    int64_t delay = 1000 + (i * 37 % 40) * 10;
    rows.emplace_back(fmt::format("k{:02}", i), delay);
    want.emplace_back(delay, fmt::format("k{:02}", i));
  }
  std::sort(want.begin(), want.end());
  EXPECT_TRUE(Step(t.get(), st.get(), 0, 0, rows).empty());
  EXPECT_FALSE(*t->HasDueTimer(st.get(), 999));
  EXPECT_TRUE(*t->HasDueTimer(st.get(), 1000));
  auto first = Step(t.get(), st.get(), 1, 1195, {});
  auto second = Step(t.get(), st.get(), 2, 5000, {});
  std::vector<std::string> expected_first, expected_second;
  for (const auto& [expiry, key] : want)
    (expiry <= 1195 ? expected_first : expected_second)
        .push_back(key + "|" + std::to_string(expiry));
  EXPECT_EQ(first, expected_first);
  EXPECT_EQ(second, expected_second);
  EXPECT_EQ(t->timers_fired(), 40);
  EXPECT_FALSE(*t->HasDueTimer(st.get(), INT64_MAX / 2));
}

TEST_F(TransformWithStateRuntimeTest, EveryEntryOfAKeyRoutesByItsKey) {
  auto t = Make();
  auto st = Open(8);
  Step(t.get(), st.get(), 0, 0, {{"a", 10}, {"bb", 20}});
  std::map<std::string, std::set<std::string>> routes;  // K -> kinds seen
  ASSERT_TRUE(st->Scan([&](std::string_view k, std::string_view) {
                  routes[std::string(TransformWithStateRoute(k))].insert(std::string(1, k[0]));
                  return Status::OK();
                }).ok());
  ASSERT_EQ(routes.size(), 2u);
  for (const auto& [key, kinds] : routes) {
    ASSERT_GE(key.size(), 4u);  // K: a 4-byte length, then that many key bytes
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(key[i]);
    EXPECT_EQ(n + 4u, key.size());
    EXPECT_EQ(kinds, (std::set<std::string>{"c", "k", "l", "m", "t", "v", "x"})) << key;
  }
}

TEST_F(TransformWithStateRuntimeTest, StateOutlivesAReopenWithAnotherPartitionCount) {
  auto t = Make();
  {
    auto st = Open(8);
    Step(t.get(), st.get(), 0, 0, {{"a", 3000}, {"b", 4000}});
  }
  auto st = Open(3);  // the checkpoint's 8 partitions are kept
  EXPECT_EQ(st->partitions(), 8);
  EXPECT_EQ(Step(t.get(), st.get(), 1, 3500, {}), (std::vector<std::string>{"a|3000"}));
  EXPECT_EQ(Kinds(st.get())['v'], 2);  // counts; the lasts expired at 1000
}

TEST_F(TransformWithStateRuntimeTest, RefusesDuplicateAndNulVariableNames) {
  struct Twice : StatefulProcessor {
    std::string second;
    Status Init(StatefulProcessorHandle* h, TimeMode) override {
      h->GetValueState("x");
      h->GetListState(second);
      return Status::OK();
    }
    Status HandleInputRows(const std::shared_ptr<arrow::RecordBatch>&,
                           const std::shared_ptr<arrow::RecordBatch>&, const TimerValues&,
                           OutputRows*) override {
      return Status::OK();
    }
  };
  for (std::string second : {std::string("x"), std::string("y\0z", 3)}) {
    TransformWithStateSpec spec;
    spec.key_columns = {"k"};
    spec.make_processor = [second] {
      auto p = std::make_unique<Twice>();
      p->second = second;
      return p;
    };
    spec.output_schema = In();
    auto made = TransformWithState::Make(spec, In());
    ASSERT_FALSE(made.ok());
    EXPECT_NE(made.status().message().find(second[0] == 'x' ? "declared twice" : "NUL"),
              std::string::npos)
        << made.status().ToString();
  }
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
