// A streaming query: the micro-batch loop of DESIGN.md over the connector
// contracts, with Spark's triggers, checkpoint folder, recovery and progress.
//
// Batch N: pick end offsets -> write offsets/N -> run the plan over the rows
// in (start, end] -> sink.AddBatch(N) -> write commits/N. After a crash the
// runtime re-runs the last batch that has an offsets entry but no commit entry,
// with the same offsets; sinks are idempotent per batch id, so nothing is lost
// and nothing is duplicated.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "connectors/streaming.h"
#include "plan/session.h"
#include "stream/checkpoint.h"
#include "stream/transform_with_state.h"

namespace lakestream::stream {

/// Progress records keep Spark's field order (StreamingQueryProgress.json).
using ProgressJson = nlohmann::ordered_json;

struct Trigger {
  enum class Kind {
    kDefault,         ///< the next batch as soon as the last one ends
    kProcessingTime,  ///< a batch every interval_ms (a late batch starts at once)
    kOnce,            ///< one batch, then stop
    kAvailableNow,    ///< everything available at start, in rate-limited batches, then stop
  };
  Kind kind = Kind::kDefault;
  int64_t interval_ms = 0;

  /// "default", "once", "availableNow", "processingTime=100ms" (also "=1 second", "=2s", "=500").
  static Result<Trigger> Parse(std::string_view text);
  std::string ToString() const;
};

/// What a query runs. The plan comes from SQL: a query whose FROM names
/// streaming sources (`FROM STREAM read_kafka(...)`, `STREAM delta.\`p\``).
struct QuerySpec {
  std::string name;            ///< for logs and progress (optional)
  std::string checkpoint_dir;  ///< required
  std::string sql;             ///< the SELECT (or WITH ... SELECT) producing the rows to sink
  sql::QueryPtr query;         ///< or the query already parsed (wins over `sql`)
  Trigger trigger;
  connectors::OutputMode output_mode = connectors::OutputMode::kAppend;
  /// The sink: by format and options ("delta" + path, "kafka", "memory",
  /// "console"), or a ready-made sink (foreachBatch) which wins if set.
  std::string sink_format;
  connectors::Options sink_options;
  std::shared_ptr<connectors::Sink> sink;
  /// groupBy(key_columns).transformWithState(processor) over the query's rows
  /// (transform_with_state.h); the sink receives the processor's output.
  std::shared_ptr<TransformWithStateSpec> transform_with_state;
  SessionConfig config;
  /// Temporary views the query may reference (a pipeline file's CREATE VIEW).
  std::map<std::string, plan::Session::View> views;
  /// asyncProgressTrackingEnabled: write offsets/N while the batch runs and
  /// commits/N after the next batch started, instead of on the record path.
  /// Exactly-once holds: offsets/N is durable before the sink commits N.
  bool async_progress = false;
  /// Run batch N's tail (offsets/N, the sink, commits/N) on its own thread
  /// while batch N+1 is read and transformed; only stateless queries under
  /// the default and availableNow triggers, and not with async_progress.
  /// Also off with `lakestream.streaming.pipelined=false`. Only batches of
  /// at least `lakestream.streaming.pipelineMinRows` input rows (default
  /// 65536) run pipelined: a small batch's tail runs inline, which keeps
  /// freshness better. Default true.
  bool pipelined = true;
  /// spark.sql.streaming.minBatchesToRetain (default 100).
  int64_t min_batches_to_retain = 100;
  /// Poll interval when no data is available (spark.sql.streaming.pollingDelay, default 10 ms).
  int64_t polling_delay_ms = 10;
  /// Keep this many progress records in memory (recentProgress).
  size_t progress_retention = 100;
  /// Called after every batch with its progress JSON (the CLI prints a line).
  std::function<void(const ProgressJson&)> on_progress;
};

/// A C++ foreachBatch sink: `fn(batch_id, schema, batches)` for every batch,
/// possibly again with the same id after a crash (the callback de-duplicates).
std::shared_ptr<connectors::Sink> ForeachBatchSink(
    std::function<Status(int64_t, const std::shared_ptr<arrow::Schema>&,
                         const std::vector<std::shared_ptr<arrow::RecordBatch>>&)>
        fn);

struct QueryStatus {
  std::string
      message;  ///< "Initializing", "Waiting for data to arrive", "Processing new data", "Stopped"
  bool is_data_available = false;
  bool is_trigger_active = false;
};

class StreamingQuery {
 public:
  /// Plans the query, opens the checkpoint and starts the loop on its own thread.
  /// Planning errors (bad SQL, unsupported operators) come back here.
  static Result<std::shared_ptr<StreamingQuery>> Start(QuerySpec spec);
  ~StreamingQuery();

  const std::string& id() const { return id_; }
  const std::string& run_id() const { return run_id_; }
  const std::string& name() const { return spec_.name; }
  bool IsActive() const { return active_; }
  QueryStatus status() const;
  /// The last progress record (null before the first batch).
  ProgressJson last_progress() const;
  std::vector<ProgressJson> recent_progress() const;
  /// Stops after the current batch (graceful); returns when the loop ended.
  void Stop();
  /// Waits until the query ends (stop, error, or once/availableNow done).
  /// Returns false on timeout. The error that stopped it is in exception().
  bool AwaitTermination(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  /// OK while running or after a clean end; the error that stopped it otherwise.
  Status exception() const;
  /// The plan, for EXPLAIN.
  std::string Explain() const;

 private:
  struct Impl;
  explicit StreamingQuery(QuerySpec spec);
  void Loop();
  Status RunLoop();
  /// Splits the plan at its stateful operators (streaming aggregations,
  /// stream-stream joins) into stages and checks the output mode against
  /// them (Spark's rules).
  Status PlanStateful();
  /// Runs one batch's plan(s) over the planned source tasks; returns the rows to sink.
  Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> ExecuteBatch(int64_t batch_id,
                                                                        int64_t timestamp_ms,
                                                                        std::string* state_json);

  QuerySpec spec_;
  std::string id_;
  std::string run_id_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::atomic<bool> active_{false};
  std::atomic<bool> stop_requested_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  QueryStatus status_;
  std::deque<ProgressJson> progress_;
  Status error_;
  bool terminated_ = false;
};

}  // namespace lakestream::stream
