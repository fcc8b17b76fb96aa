// Delta Lake as a streaming sink and source.
//
// Sink: every batch is one Delta commit carrying `txn(appId = query id,
// version = batch id)`; a batch replayed after a crash finds its txn already
// in the log and is skipped (WriteDelta's idempotence), so each batch lands
// exactly once. Complete mode overwrites the table in the same commit. A
// large batch is written as one file per core (encoded in parallel), a small
// one as one file; the sink's progress metrics say how long the Delta write
// itself took (writeMs) and whether it also wrote a checkpoint.
//
// Source: the table read as an ordered sequence of files: first the files of
// the starting snapshot (sorted by path), then the files each later commit
// adds (in log order). The offset names the last file processed, as Spark's
// DeltaSourceOffset: {"reservoirId", "reservoirVersion", "index",
// "isStartingVersion"}. Commits that remove data (UPDATE, DELETE, OVERWRITE)
// stop the stream with Spark's error unless ignoreDeletes/skipChangeCommits.
#include <arrow/table.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <future>
#include <limits>
#include <thread>

#include "connectors/builtin.h"
#include "connectors/delta/log.h"
#include "connectors/delta/scan.h"
#include "connectors/delta/writer.h"

namespace lakestream::connectors {

namespace {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    auto item = s.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

class DeltaSink : public Sink {
 public:
  DeltaSink(std::string path, SinkContext ctx, std::vector<std::string> partition_by,
            std::map<std::string, std::string> configuration, int64_t max_records_per_file)
      : path_(std::move(path)),
        ctx_(std::move(ctx)),
        partition_by_(std::move(partition_by)),
        configuration_(std::move(configuration)),
        max_records_per_file_(max_records_per_file) {}

  /// Rows per data file for a batch of `rows`: a large batch is cut into one
  /// file per core, because WriteDelta encodes files in parallel and Parquet
  /// encoding is most of a large batch's write (one 500k-row file kept one
  /// core busy while the other idled); small batches stay one file, as a file
  /// per core would only multiply the files a reader opens.
  int64_t RowsPerFile(int64_t rows) const {
    constexpr int64_t kMinRowsPerSplitFile = 64 * 1024;
    const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
    int64_t files = std::clamp<int64_t>(rows / kMinRowsPerSplitFile, 1, cores);
    int64_t per_file = (rows + files - 1) / files;
    return std::max<int64_t>(1, std::min(per_file, max_records_per_file_));
  }

  std::string Description() const override { return fmt::format("DeltaSink[{}]", path_); }

  Status Prepare(const std::shared_ptr<arrow::Schema>& schema) override {
    auto log = delta::DeltaLog::Open(path_);
    ARROW_ASSIGN_OR_RAISE(bool exists, log->TableExists());
    if (exists) {
      // Appending to an existing table: the schemas must agree now, not at the first batch.
      ARROW_ASSIGN_OR_RAISE(auto snap, log->Latest());
      if (snap->schema()->num_fields() != schema->num_fields()) {
        return UserError(
            "Delta sink '{}': the query produces {} columns but the table has {} ({}); write to a "
            "new "
            "table or change the query",
            path_, schema->num_fields(), snap->schema()->num_fields(), snap->schema()->ToString());
      }
      return Status::OK();
    }
    ARROW_ASSIGN_OR_RAISE(auto empty, arrow::Table::MakeEmpty(schema));
    delta::DeltaWriteOptions o;
    o.mode = delta::DeltaWriteOptions::Mode::kIgnore;  // another writer may create it first
    o.partition_columns = partition_by_;
    o.configuration = configuration_;
    o.operation = "CREATE TABLE";
    auto r = delta::WriteDelta(path_, empty, o);
    if (!r.ok())
      return r.status().WithMessage(
          fmt::format("Delta sink '{}': {}", path_, r.status().message()));
    return Status::OK();
  }

  Status AddBatch(int64_t batch_id, const std::shared_ptr<arrow::Schema>& schema,
                  const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) override {
    ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(schema, batches));
    delta::DeltaWriteOptions o;
    o.mode = ctx_.output_mode == OutputMode::kComplete ? delta::DeltaWriteOptions::Mode::kOverwrite
                                                       : delta::DeltaWriteOptions::Mode::kAppend;
    o.partition_columns = partition_by_;
    o.configuration = configuration_;
    o.app_id = ctx_.query_id;
    o.app_version = batch_id;
    o.max_rows_per_file = RowsPerFile(table->num_rows());
    o.operation = "STREAMING UPDATE";
    o.operation_parameters = {{"outputMode", OutputModeName(ctx_.output_mode)},
                              {"queryId", ctx_.query_id},
                              {"epochId", std::to_string(batch_id)}};
    // The checkpoint every delta.checkpointInterval commits is written on a
    // thread of its own, so the batch (and the freshness of the next one)
    // does not wait for it: it took 60-130 ms, one commit in ten. It is
    // optional in the protocol: a later commit or reader that starts before
    // it is complete replays the JSON commits as if it did not exist (the
    // Parquet file appears by rename, _last_checkpoint after it), and a
    // crash mid-way leaves at most a temp file.
    o.write_checkpoint = false;
    // The table as this sink's last commit left it: no listing and replay of
    // _delta_log before each commit (with ~800 commits, listing and stat-ing
    // every entry was ~14% of the CPU at 40 commits/s). A commit by another
    // writer since makes the put-if-absent fail and WriteDelta reads it.
    o.base = std::move(snapshot_);
    auto t0 = std::chrono::steady_clock::now();
    auto r = delta::WriteDelta(path_, table, o);
    if (!r.ok())
      return r.status().WithMessage(
          fmt::format("Delta sink '{}', batch {}: {}", path_, batch_id, r.status().message()));
    snapshot_ = r->snapshot;
    if (r->checkpoint_due) StartCheckpoint(r->version, r->snapshot);
    last_ = *r;
    last_.snapshot.reset();
    last_write_ms_ =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    return Status::OK();
  }

  SourceMetrics TakeMetrics() override {
    // writeMs: the Delta write alone (files and commit), the part of the
    // progress record's addBatch that is not reading and transforming.
    // checkpointWritten: this commit started a Delta checkpoint (in the background).
    SourceMetrics m = {{"numFilesAdded", std::to_string(last_.files_added)},
                       {"writeMs", std::to_string(last_write_ms_)},
                       {"checkpointWritten", last_.checkpoint_due ? "true" : "false"},
                       {"version", std::to_string(last_.version)},
                       {"skippedAsDuplicate", last_.skipped ? "true" : "false"}};
    last_ = {};
    last_write_ms_ = 0;
    return m;
  }

  ~DeltaSink() override {
    if (checkpoint_.valid()) checkpoint_.wait();
  }

 private:
  /// Writes the checkpoint of `version` in the background; one at a time
  /// (the previous one, ten commits older, has normally finished long ago).
  /// `snapshot`: the table at `version`, if the write knew it.
  void StartCheckpoint(int64_t version, std::shared_ptr<const delta::Snapshot> snapshot) {
    if (checkpoint_.valid()) checkpoint_.wait();
    checkpoint_ = std::async(std::launch::async, [path = path_, version, snapshot]() {
      // Best effort, as in Delta: without it readers replay the JSON commits.
      if (snapshot) {
        (void)delta::WriteCheckpoint(*snapshot);
        return;
      }
      auto snap = delta::DeltaLog::Open(path)->AtVersion(version);
      if (snap.ok()) (void)delta::WriteCheckpoint(**snap);
    });
  }

  std::string path_;
  SinkContext ctx_;
  std::vector<std::string> partition_by_;
  std::map<std::string, std::string> configuration_;
  int64_t max_records_per_file_;  // maxRecordsPerFile (Spark's name); default 1Mi
  delta::DeltaWriteResult last_;
  int64_t last_write_ms_ = 0;
  std::future<void> checkpoint_;  // the checkpoint being written, if any
  // The table after this sink's last commit, if WriteDelta knew it (null:
  // the next write reads the log).
  std::shared_ptr<const delta::Snapshot> snapshot_;
};

/// A position in the table's file sequence.
struct DeltaOffset {
  std::string reservoir_id;
  int64_t version = 0;
  int64_t index = -1;  // last processed file of `version` (-1: none yet)
  bool is_starting_version = false;

  Json ToJson() const {
    return Json{{"sourceVersion", 1},
                {"reservoirId", reservoir_id},
                {"reservoirVersion", version},
                {"index", index},
                {"isStartingVersion", is_starting_version}};
  }
  static Result<DeltaOffset> FromJson(const Json& j) {
    if (!j.is_object() || !j.contains("reservoirVersion") ||
        !j["reservoirVersion"].is_number_integer() || !j.contains("index") ||
        !j["index"].is_number_integer()) {
      return UserError(
          "bad Delta source offset {}: expected {{\"reservoirVersion\": v, \"index\": i, ...}}",
          j.dump());
    }
    DeltaOffset o;
    o.reservoir_id = j.value("reservoirId", "");
    o.version = j["reservoirVersion"].get<int64_t>();
    o.index = j["index"].get<int64_t>();
    o.is_starting_version = j.value("isStartingVersion", false);
    return o;
  }
};

class DeltaSource : public Source {
 public:
  static Result<std::unique_ptr<Source>> Make(const Options& options, const SourceContext&) {
    auto src = std::unique_ptr<DeltaSource>(new DeltaSource());
    auto path = GetOption(options, "path");
    if (!path || path->empty())
      return UserError("Delta source: a table path is required (STREAM delta.`/path`)");
    src->path_ = *path;
    ARROW_ASSIGN_OR_RAISE(src->max_files_, GetIntOption(options, "maxFilesPerTrigger", 1000));
    ARROW_ASSIGN_OR_RAISE(src->max_bytes_, GetIntOption(options, "maxBytesPerTrigger", -1));
    ARROW_ASSIGN_OR_RAISE(bool ignore_deletes, GetBoolOption(options, "ignoreDeletes", false));
    ARROW_ASSIGN_OR_RAISE(bool ignore_changes, GetBoolOption(options, "ignoreChanges", false));
    ARROW_ASSIGN_OR_RAISE(bool skip_changes, GetBoolOption(options, "skipChangeCommits", false));
    src->skip_change_commits_ = skip_changes || ignore_changes;
    src->ignore_deletes_ = ignore_deletes;
    src->starting_version_ = GetOption(options, "startingVersion");
    src->log_ = delta::DeltaLog::Open(src->path_);
    auto snapshot = src->log_->Latest();
    if (!snapshot.ok()) {
      return UserError("Delta source: cannot read the table at '{}': {}", src->path_,
                       snapshot.status().message());
    }
    src->snapshot_ = *snapshot;
    ARROW_ASSIGN_OR_RAISE(src->scan_, delta::DeltaScan::Make(src->snapshot_));
    return src;
  }

  std::string Description() const override { return fmt::format("DeltaSource[{}]", path_); }
  std::shared_ptr<arrow::Schema> schema() const override { return scan_->output_schema(); }

  Result<Json> InitialOffset() override {
    DeltaOffset o;
    o.reservoir_id = snapshot_->metadata().id;
    if (starting_version_ && *starting_version_ != "latest") {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(starting_version_->data(),
                                     starting_version_->data() + starting_version_->size(), v);
      if (ec != std::errc() || p != starting_version_->data() + starting_version_->size() ||
          v < 0) {
        return UserError(
            "Delta source: startingVersion must be a version number or 'latest', got '{}'",
            *starting_version_);
      }
      if (v > snapshot_->version()) {
        return UserError("Delta source: startingVersion {} is after the table's latest version {}",
                         v, snapshot_->version());
      }
      o.version = v;
    } else if (starting_version_) {
      o.version = snapshot_->version() + 1;  // "latest": only changes after now
    } else {
      o.version = snapshot_->version();
      o.is_starting_version = true;
    }
    return o.ToJson();
  }

  Status PrepareForAvailableNow() override {
    ARROW_ASSIGN_OR_RAISE(cap_version_, log_->LatestVersion());
    return Status::OK();
  }

  Result<Json> LatestOffset(const Json& start_json) override {
    ARROW_ASSIGN_OR_RAISE(auto start, DeltaOffset::FromJson(start_json));
    ARROW_ASSIGN_OR_RAISE(auto files, FilesAfter(start, /*limit=*/true, std::nullopt));
    if (files.empty()) return start_json;
    return files.back().offset.ToJson();
  }

  Result<std::vector<exec::ScanTask>> PlanBatch(const Json& start_json,
                                                const Json& end_json) override {
    ARROW_ASSIGN_OR_RAISE(auto start, DeltaOffset::FromJson(start_json));
    ARROW_ASSIGN_OR_RAISE(auto end, DeltaOffset::FromJson(end_json));
    ARROW_ASSIGN_OR_RAISE(auto files, FilesAfter(start, /*limit=*/false, end));
    std::vector<exec::ScanTask> tasks;
    auto scan = scan_;
    for (const auto& f : files) {
      auto add = f.add;
      tasks.push_back([scan, add]() -> Result<exec::BatchIterator> {
        ARROW_ASSIGN_OR_RAISE(auto batches, scan->ReadFile(add));
        auto state =
            std::make_shared<std::pair<std::vector<std::shared_ptr<arrow::RecordBatch>>, size_t>>(
                std::move(batches), 0);
        return exec::BatchIterator([state]() -> Result<exec::BatchPtr> {
          if (state->second >= state->first.size()) return nullptr;
          return state->first[state->second++];
        });
      });
    }
    files_in_batch_ = static_cast<int64_t>(files.size());
    return tasks;
  }

  SourceMetrics TakeMetrics() override {
    SourceMetrics m = {{"numFilesRead", std::to_string(files_in_batch_)}};
    files_in_batch_ = 0;
    return m;
  }

 private:
  struct FileAt {
    delta::AddFile add;
    DeltaOffset offset;
  };

  DeltaSource() = default;

  Result<const delta::VersionChanges*> Changes(int64_t version) {
    auto it = changes_.find(version);
    if (it != changes_.end()) return &it->second;
    ARROW_ASSIGN_OR_RAISE(auto c, log_->ReadVersion(version));
    if (c.metadata && version > snapshot_->version()) {
      return UserError(
          "Delta source '{}': the table's metadata (schema or properties) changed at version {}; "
          "restart "
          "the query to pick up the new schema",
          path_, version);
    }
    bool removes_data = std::any_of(c.removes.begin(), c.removes.end(),
                                    [](const auto& r) { return r.data_change; });
    if (removes_data && !skip_change_commits_ && !ignore_deletes_) {
      return UserError(
          "Delta source '{}': detected a data update (for example an UPDATE, DELETE or OVERWRITE) "
          "at "
          "version {}; this is not supported in a stream. Set skipChangeCommits => 'true' to "
          "ignore such "
          "commits",
          path_, version);
    }
    if (removes_data && skip_change_commits_) c.adds.clear();
    // Bound the cache: versions behind the stream are not read again.
    while (changes_.size() > 256) changes_.erase(changes_.begin());
    return &changes_.emplace(version, std::move(c)).first->second;
  }

  /// Files after `start`, in stream order, up to `end` (inclusive) or up to
  /// the rate limits when `limit`.
  Result<std::vector<FileAt>> FilesAfter(const DeltaOffset& start, bool limit,
                                         std::optional<DeltaOffset> end) {
    std::vector<FileAt> out;
    int64_t bytes = 0;
    auto full = [&] {
      if (!limit || out.empty()) return false;
      if (static_cast<int64_t>(out.size()) >= max_files_) return true;
      return max_bytes_ > 0 && bytes >= max_bytes_;
    };
    auto past_end = [&](int64_t v, int64_t i) {
      return end && (v > end->version || (v == end->version && i > end->index));
    };
    int64_t v = start.version;
    if (start.is_starting_version) {
      if (starting_files_version_ != start.version) {
        ARROW_ASSIGN_OR_RAISE(auto snap, log_->AtVersion(start.version));
        starting_files_ = snap->files();
        std::sort(starting_files_.begin(), starting_files_.end(),
                  [](const auto& a, const auto& b) { return a.path < b.path; });
        starting_files_version_ = start.version;
      }
      for (int64_t i = start.index + 1; i < static_cast<int64_t>(starting_files_.size()); ++i) {
        if (full() || past_end(v, i)) return out;
        out.push_back({starting_files_[i], DeltaOffset{start.reservoir_id, v, i, true}});
        bytes += starting_files_[i].size;
      }
      ++v;
    }
    ARROW_ASSIGN_OR_RAISE(int64_t latest, log_->LatestVersion());
    if (cap_version_) latest = std::min(latest, *cap_version_);
    if (end) latest = std::min(latest, end->version);
    for (; v <= latest; ++v) {
      ARROW_ASSIGN_OR_RAISE(auto changes, Changes(v));
      int64_t first = (!start.is_starting_version && v == start.version) ? start.index + 1 : 0;
      for (int64_t i = first; i < static_cast<int64_t>(changes->adds.size()); ++i) {
        if (full() || past_end(v, i)) return out;
        if (!changes->adds[i].data_change) continue;
        out.push_back({changes->adds[i], DeltaOffset{start.reservoir_id, v, i, false}});
        bytes += changes->adds[i].size;
      }
    }
    return out;
  }

  std::string path_;
  int64_t max_files_ = 1000;
  int64_t max_bytes_ = -1;
  bool skip_change_commits_ = false;
  bool ignore_deletes_ = false;
  std::optional<std::string> starting_version_;
  std::shared_ptr<delta::DeltaLog> log_;
  std::shared_ptr<const delta::Snapshot> snapshot_;
  std::shared_ptr<delta::DeltaScan> scan_;
  std::optional<int64_t> cap_version_;
  std::map<int64_t, delta::VersionChanges> changes_;
  std::vector<delta::AddFile> starting_files_;
  int64_t starting_files_version_ = -2;
  int64_t files_in_batch_ = 0;
};

}  // namespace

void RegisterDeltaStreaming() {
  SinkRegistry()["delta"] = [](const Options& o,
                               const SinkContext& ctx) -> Result<std::unique_ptr<Sink>> {
    auto path = GetOption(o, "path");
    if (!path || path->empty()) return UserError("Delta sink: a table path is required");
    if (ctx.output_mode == OutputMode::kUpdate) {
      // A Delta append cannot replace the rows an update changes (Spark refuses it too).
      return UserError(
          "the Delta sink supports the append and complete output modes, not update (write updates "
          "with "
          "a memory, console, Kafka or foreachBatch sink)");
    }
    std::vector<std::string> partition_by;
    if (auto p = GetOption(o, "partitionBy")) partition_by = SplitList(*p);
    std::map<std::string, std::string> conf;
    for (const auto& [k, v] : o) {
      if (k.rfind("delta.", 0) == 0) conf[k] = v;
    }
    ARROW_ASSIGN_OR_RAISE(
        int64_t max_records,
        GetIntOption(o, "maxRecordsPerFile", delta::DeltaWriteOptions{}.max_rows_per_file));
    if (max_records <= 0) max_records = std::numeric_limits<int64_t>::max();  // Spark: 0 = no limit
    return std::make_unique<DeltaSink>(*path, ctx, partition_by, conf, max_records);
  };
  SourceRegistry()["delta"] = DeltaSource::Make;
}

}  // namespace lakestream::connectors
