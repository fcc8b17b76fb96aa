#include "stream/query.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <future>
#include <mutex>
#include <set>

#include "exec/operator.h"
#include "exec/row_codec.h"
#include "exec/streaming_aggregate.h"
#include "expr/evaluator.h"
#include "plan/binder.h"
#include "plan/physical_planner.h"
#include "plan/session.h"
#include "sql/parser.h"
#include "state/state_store.h"
#include "stream/connectors.h"
#include "stream/event_time.h"
#include "stream/operator_state.h"
#include "stream/stream_join.h"
#include "stream/transform_with_state.h"
#include "types/types.h"

namespace lakestream::stream {

using connectors::OutputMode;
using Clock = std::chrono::steady_clock;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string IsoTime(int64_t ms) {
  auto secs = static_cast<time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

double PerSecond(int64_t rows, int64_t ms) {
  return ms <= 0 ? 0.0 : static_cast<double>(rows) * 1000.0 / ms;
}

// Records the event-time range of a batch and, once a watermark exists,
// drops the rows at or behind it (Spark: late rows never reach the stateful
// operator), counting them for numRowsDroppedByWatermark.
Result<exec::BatchPtr> TrackEventTime(exec::BatchPtr b, const std::shared_ptr<arrow::Array>& col,
                                      const std::string& name,
                                      const std::shared_ptr<std::atomic<int64_t>>& watermark,
                                      const std::shared_ptr<std::atomic<int64_t>>& max_event,
                                      const std::shared_ptr<std::atomic<int64_t>>& min_event,
                                      const std::shared_ptr<std::atomic<int64_t>>& late) {
  if (col->type_id() != arrow::Type::TIMESTAMP) {
    return UserError("the WATERMARK column `{}` must be a TIMESTAMP, got {}", name,
                     col->type()->ToString());
  }
  const auto& ts = static_cast<const arrow::TimestampArray&>(*col);
  int64_t hi = INT64_MIN, lo = INT64_MAX;
  for (int64_t i = 0; i < ts.length(); ++i) {
    if (ts.IsNull(i)) continue;
    hi = std::max(hi, ts.Value(i));
    lo = std::min(lo, ts.Value(i));
  }
  for (int64_t cur = max_event->load(); hi > cur && !max_event->compare_exchange_weak(cur, hi);) {
  }
  for (int64_t cur = min_event->load(); lo < cur && !min_event->compare_exchange_weak(cur, lo);) {
  }
  if (!watermark) return b;
  int64_t wm = watermark->load();
  if (wm == INT64_MIN || lo > wm) return b;
  arrow::BooleanBuilder keep;
  ARROW_RETURN_NOT_OK(keep.Reserve(ts.length()));
  int64_t dropped = 0;
  for (int64_t i = 0; i < ts.length(); ++i) {
    // NULL event times cannot be placed in time; Spark drops them too.
    bool ok = !ts.IsNull(i) && ts.Value(i) > wm;
    dropped += !ok;
    keep.UnsafeAppend(ok);
  }
  late->fetch_add(dropped);
  ARROW_ASSIGN_OR_RAISE(auto mask, keep.Finish());
  ARROW_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(b, mask));
  return filtered.record_batch();
}

}  // namespace

Result<Trigger> Trigger::Parse(std::string_view text) {
  std::string t = Lower(std::string(text));
  Trigger out;
  if (t.empty() || t == "default") return out;
  if (t == "once") {
    out.kind = Kind::kOnce;
    return out;
  }
  if (t == "availablenow" || t == "available_now") {
    out.kind = Kind::kAvailableNow;
    return out;
  }
  auto eq = t.find('=');
  if (eq != std::string::npos &&
      (t.substr(0, eq) == "processingtime" || t.substr(0, eq) == "processing_time")) {
    std::string v = t.substr(eq + 1);
    v.erase(std::remove(v.begin(), v.end(), ' '), v.end());
    size_t i = 0;
    while (i < v.size() && (isdigit(static_cast<unsigned char>(v[i])) || v[i] == '.')) ++i;
    if (i == 0)
      return UserError(
          "bad trigger '{}': expected processingTime=<number><unit>, e.g. processingTime=100ms",
          text);
    double n = std::stod(v.substr(0, i));
    std::string unit = v.substr(i);
    double scale = 0;
    if (unit.empty() || unit == "ms" || unit == "millisecond" || unit == "milliseconds") scale = 1;
    if (unit == "s" || unit == "sec" || unit == "second" || unit == "seconds") scale = 1000;
    if (unit == "m" || unit == "min" || unit == "minute" || unit == "minutes") scale = 60000;
    if (scale == 0)
      return UserError("bad trigger '{}': unknown unit '{}' (ms, seconds, minutes)", text, unit);
    out.kind = Kind::kProcessingTime;
    out.interval_ms = static_cast<int64_t>(n * scale);
    return out;
  }
  return UserError(
      "bad trigger '{}': expected default, once, availableNow or processingTime=<interval>", text);
}

std::string Trigger::ToString() const {
  switch (kind) {
    case Kind::kDefault:
      return "ProcessingTime(0)";
    case Kind::kProcessingTime:
      return fmt::format("ProcessingTime({}ms)", interval_ms);
    case Kind::kOnce:
      return "Once";
    case Kind::kAvailableNow:
      return "AvailableNow";
  }
  return "?";
}

namespace {

class CallbackSink : public connectors::Sink {
 public:
  using Fn = std::function<Status(int64_t, const std::shared_ptr<arrow::Schema>&,
                                  const std::vector<std::shared_ptr<arrow::RecordBatch>>&)>;
  explicit CallbackSink(Fn fn) : fn_(std::move(fn)) {}
  std::string Description() const override { return "ForeachBatchSink"; }
  Status AddBatch(int64_t batch_id, const std::shared_ptr<arrow::Schema>& schema,
                  const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) override {
    return fn_(batch_id, schema, batches);
  }

 private:
  Fn fn_;
};

}  // namespace

std::shared_ptr<connectors::Sink> ForeachBatchSink(CallbackSink::Fn fn) {
  return std::make_shared<CallbackSink>(std::move(fn));
}

// ------------------------------------------------------------------ the query

struct StreamingQuery::Impl {
  /// One streaming source of the plan and the scan tasks of the batch running now.
  struct Slot {
    std::unique_ptr<connectors::Source> source;
    std::string kind;
    std::vector<exec::ScanTask> tasks;  // set per batch, read by the ScanSource
    std::shared_ptr<std::atomic<int64_t>> rows = std::make_shared<std::atomic<int64_t>>(0);
    // WATERMARK col DELAY OF ...: the event-time column and its delay.
    int watermark_column = -1;     // a source column, or -1 with watermark_expr (a subquery's)
    expr::ExprPtr watermark_expr;  // the event time over the source's rows; null: no watermark
    bool has_watermark() const { return watermark_expr != nullptr; }
    std::string watermark_name;
    int64_t delay_us = 0;
    // Per batch: event-time range seen and rows dropped as late.
    std::shared_ptr<std::atomic<int64_t>> max_event =
        std::make_shared<std::atomic<int64_t>>(INT64_MIN);
    std::shared_ptr<std::atomic<int64_t>> min_event =
        std::make_shared<std::atomic<int64_t>>(INT64_MAX);
    std::shared_ptr<std::atomic<int64_t>> late_rows = std::make_shared<std::atomic<int64_t>>(0);
    int64_t max_event_ever = INT64_MIN;  // across batches (the watermark only moves forward)
    // dropDuplicates => 'cols' / dropDuplicatesWithinWatermark => 'cols' on the
    // source: the keys seen, in their own state store (operator 1 + slot index).
    std::vector<int> dedup_columns;
    bool dedup_within_watermark = false;
    std::unique_ptr<OperatorState> dedup_state;
    std::shared_ptr<std::mutex> dedup_mu = std::make_shared<std::mutex>();
    std::shared_ptr<std::atomic<int64_t>> dedup_dropped = std::make_shared<std::atomic<int64_t>>(0);
    std::shared_ptr<std::atomic<int64_t>> dedup_new = std::make_shared<std::atomic<int64_t>>(0);
    int64_t dedup_removed = 0;
    int64_t dedup_total = 0;
    // Scans of one source with the same options and watermark share a slot
    // (Flink's source reuse): read and decoded once per batch, the decoded
    // batches kept for the other readers until the batch's tasks are cleared.
    std::string share_key;
    int readers = 0;
    struct Decoded {
      std::once_flag once;
      Status status;
      std::vector<exec::BatchPtr> batches;
    };
    std::vector<std::shared_ptr<Decoded>> decoded;  // per task, when readers > 1
    void SetTasks(std::vector<exec::ScanTask> t) {
      tasks = std::move(t);
      decoded.clear();
      if (readers > 1) {
        for (size_t i = 0; i < tasks.size(); ++i) decoded.push_back(std::make_shared<Decoded>());
      }
    }
    void ClearTasks() {
      tasks.clear();
      decoded.clear();
    }
  };

  std::optional<Checkpoint> checkpoint;
  std::unique_ptr<plan::Session> session;
  std::vector<std::unique_ptr<Slot>> slots;
  int slots_created = 0;  // before sharing: the ids of per-source operators
  plan::LogicalPtr plan;
  std::shared_ptr<connectors::Sink> sink;
  std::set<const plan::ScanSource*> stream_scans;
  std::map<const plan::ScanSource*, Slot*> scan_slots;

  // Stateful operators split the plan into stages, innermost first. A
  // streaming aggregation runs `partial_plan` (the aggregate emitting
  // accumulators) over its input, merges them into its state and emits what
  // the output mode allows; a stream-stream join runs its two input plans
  // and joins them against its buffered state. What a stage emits replaces
  // its node (`output`) in the plans above it; `upper_plan`, the query with
  // every stage replaced, produces the rows for the sink.
  struct Stage {
    const plan::LogicalNode* node = nullptr;
    int64_t operator_id = 0;
    std::shared_ptr<plan::ScanSource> output;
    plan::LogicalPtr partial_plan;  // aggregation
    std::unique_ptr<exec::StreamingAggregate> aggregate;
    exec::StreamingAggregateMetrics agg_metrics;
    plan::LogicalPtr left_plan, right_plan;  // stream-stream join
    std::unique_ptr<StreamJoin> join;
    StreamJoinMetrics join_metrics;
    std::unique_ptr<OperatorState> state;
  };
  std::vector<std::unique_ptr<Stage>> stages;
  bool stateful = false;  // stages or transformWithState
  plan::LogicalPtr upper_plan;
  // transformWithState: the processor runtime (its state is `state`).
  std::unique_ptr<TransformWithState> tws;
  std::shared_ptr<arrow::Schema> output_schema() const {
    return tws ? tws_output_schema : plan->schema;
  }
  std::shared_ptr<arrow::Schema> tws_output_schema;
  std::unique_ptr<OperatorState> state;  // transformWithState's
  // The event-time watermark of the running batch (µs; INT64_MIN: none yet).
  std::shared_ptr<std::atomic<int64_t>> watermark_us =
      std::make_shared<std::atomic<int64_t>>(INT64_MIN);
  // The watermark late input is judged by: the previous batch's, as in Spark
  // since 3.4 (eviction uses this batch's; rows that arrived while a window
  // was still open at the last batch count).
  std::shared_ptr<std::atomic<int64_t>> late_watermark_us =
      std::make_shared<std::atomic<int64_t>>(INT64_MIN);

  /// The event times of a source batch's rows (null without a watermark).
  Result<std::shared_ptr<arrow::Array>> EventTimes(const Slot* slot, const exec::BatchPtr& b) {
    if (!slot->watermark_expr) return std::shared_ptr<arrow::Array>();
    if (slot->watermark_column >= 0) return b->column(slot->watermark_column);
    return expr::EvaluateToArray(*slot->watermark_expr, *b, session->MakeEvalContext());
  }

  /// Keeps the rows whose dedup key was never seen (in this batch or the
  /// state) and records their keys. Workers share the slot's store: a lock.
  Result<exec::BatchPtr> DropDuplicates(Slot* slot, const exec::BatchPtr& b) {
    std::vector<const arrow::Array*> key_cols;
    for (int c : slot->dedup_columns) key_cols.push_back(b->column(c).get());
    ARROW_ASSIGN_OR_RAISE(auto ts_array, EventTimes(slot, b));
    const auto* ts = static_cast<const arrow::TimestampArray*>(ts_array.get());
    arrow::BooleanBuilder keep;
    ARROW_RETURN_NOT_OK(keep.Reserve(b->num_rows()));
    int64_t dropped = 0, fresh = 0;
    std::string key;
    std::lock_guard<std::mutex> lock(*slot->dedup_mu);
    for (int64_t r = 0; r < b->num_rows(); ++r) {
      key.clear();
      ARROW_RETURN_NOT_OK(exec::EncodeRow(key_cols, r, &key));
      ARROW_ASSIGN_OR_RAISE(auto seen, slot->dedup_state->Get(key));
      if (seen) {
        keep.UnsafeAppend(false);
        ++dropped;
        continue;
      }
      // The value is when the key may be forgotten: its event time (plus the
      // delay for dropDuplicatesWithinWatermark); never without a watermark.
      int64_t expires = INT64_MAX;
      if (ts && !ts->IsNull(r)) {
        expires = ts->Value(r) + (slot->dedup_within_watermark ? slot->delay_us : 0);
      }
      std::string value(reinterpret_cast<const char*>(&expires), sizeof(expires));
      ARROW_RETURN_NOT_OK(slot->dedup_state->Put(key, value));
      if (expires != INT64_MAX) {
        // New: the key was not in the state, so neither is its index entry.
        ARROW_RETURN_NOT_OK(slot->dedup_state->Put(exec::EventTimeIndexKey(expires, key),
                                                   std::string_view(), state::KeyHint::kAbsent));
      }
      keep.UnsafeAppend(true);
      ++fresh;
    }
    slot->dedup_dropped->fetch_add(dropped);
    slot->dedup_new->fetch_add(fresh);
    if (dropped == 0) return b;
    ARROW_ASSIGN_OR_RAISE(auto mask, keep.Finish());
    ARROW_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(b, mask));
    return filtered.record_batch();
  }

  /// After the sink took the batch: forget keys behind the watermark (found
  /// through the expiry index, not by scanning every key), commit.
  Status CommitDedup(int64_t watermark_us_value) {
    for (auto& sl : slots) {
      if (!sl->dedup_state) continue;
      auto* st = sl->dedup_state.get();
      std::vector<std::string> expired;
      if (watermark_us_value != INT64_MIN) {
        std::string limit = exec::EventTimeIndexKey(watermark_us_value, std::string_view());
        Status scan = st->PrefixScan(limit.substr(0, 2), [&](std::string_view k, std::string_view) {
          if (k.substr(0, limit.size()) > limit) return Status::Cancelled("past the watermark");
          expired.emplace_back(k);
          return Status::OK();
        });
        if (!scan.ok() && !scan.IsCancelled()) return scan;
      }
      int64_t removed = 0;
      for (const auto& ik : expired) {
        if (exec::EventTimeIndexTime(ik) > watermark_us_value) continue;
        // The index entry came from the scan and names a stored key.
        ARROW_RETURN_NOT_OK(st->Delete(ik.substr(2 + 8), state::KeyHint::kPresent));
        ARROW_RETURN_NOT_OK(st->Delete(ik, state::KeyHint::kPresent));
        ++removed;
      }
      ARROW_ASSIGN_OR_RAISE(int64_t total, exec::ReadStoredCount(st, exec::kStateCountKey));
      total += sl->dedup_new->load() - removed;
      ARROW_RETURN_NOT_OK(exec::WriteStoredCount(st, exec::kStateCountKey, total));
      sl->dedup_removed = removed;
      sl->dedup_total = total;
      ARROW_RETURN_NOT_OK(st->Commit());
    }
    return Status::OK();
  }

  /// The planned source's ScanSource: the tasks of the current batch, projected.
  std::shared_ptr<plan::ScanSource> MakeScan(Slot* slot) {
    auto src = std::make_shared<plan::ScanSource>();
    src->description = "StreamingScan " + slot->source->Description();
    src->schema = slot->source->schema();
    auto schema = src->schema;
    const plan::ScanSource* key = src.get();
    src->make_tasks = [this, key, schema](const std::vector<int>& columns,
                                          const std::vector<expr::ExprPtr>&,
                                          std::string*) -> Result<std::vector<exec::ScanTask>> {
      Slot* slot = scan_slots.at(key);  // scans of equal sources may be merged after binding
      std::vector<exec::ScanTask> out;
      bool project = !columns.empty();
      std::vector<int> cols;
      for (int c : columns) {
        if (c >= 0) cols.push_back(c);
      }
      std::shared_ptr<arrow::Schema> projected;
      if (project) {
        arrow::FieldVector fields;
        for (int c : cols) fields.push_back(schema->field(c));
        projected = arrow::schema(fields);
      }
      auto rows = slot->rows;
      const bool has_wm = slot->has_watermark();
      auto max_event = slot->max_event, min_event = slot->min_event, late = slot->late_rows;
      // Late rows are dropped here for transformWithState and deduplication
      // (by their event time); a streaming aggregation judges them by group
      // instead (a window still open takes them), in StreamingAggregate.
      auto watermark =
          has_wm && (tws || !slot->dedup_columns.empty()) ? late_watermark_us : nullptr;
      for (size_t t = 0; t < slot->tasks.size(); ++t) {
        const auto& task = slot->tasks[t];
        // The source's rows of this task, counted, event times tracked and
        // duplicates dropped: once per batch, whoever reads them.
        exec::ScanTask read = [=, this]() -> Result<exec::BatchIterator> {
          ARROW_ASSIGN_OR_RAISE(auto it, task());
          return exec::BatchIterator([=, this]() -> Result<exec::BatchPtr> {
            ARROW_ASSIGN_OR_RAISE(auto b, it());
            if (!b) return b;
            rows->fetch_add(b->num_rows(), std::memory_order_relaxed);
            if (has_wm) {
              ARROW_ASSIGN_OR_RAISE(auto ts, EventTimes(slot, b));
              ARROW_ASSIGN_OR_RAISE(b, TrackEventTime(b, ts, slot->watermark_name, watermark,
                                                      max_event, min_event, late));
            }
            if (slot->dedup_state) {
              ARROW_ASSIGN_OR_RAISE(b, DropDuplicates(slot, b));
            }
            return b;
          });
        };
        if (t < slot->decoded.size()) {
          auto decoded = slot->decoded[t];
          read = [decoded, read]() -> Result<exec::BatchIterator> {
            std::call_once(decoded->once, [&] {
              decoded->status = [&]() -> Status {
                ARROW_ASSIGN_OR_RAISE(auto it, read());
                for (;;) {
                  ARROW_ASSIGN_OR_RAISE(auto b, it());
                  if (!b) return Status::OK();
                  decoded->batches.push_back(std::move(b));
                }
              }();
            });
            ARROW_RETURN_NOT_OK(decoded->status);
            auto next = std::make_shared<size_t>(0);
            return exec::BatchIterator([decoded, next]() -> Result<exec::BatchPtr> {
              if (*next >= decoded->batches.size()) return exec::BatchPtr();
              return decoded->batches[(*next)++];
            });
          };
        }
        out.push_back([=]() -> Result<exec::BatchIterator> {
          ARROW_ASSIGN_OR_RAISE(auto it, read());
          return exec::BatchIterator([=]() -> Result<exec::BatchPtr> {
            ARROW_ASSIGN_OR_RAISE(auto b, it());
            if (!b || !project) return b;
            arrow::ArrayVector arrays;
            for (int c : cols) arrays.push_back(b->column(c));
            return arrow::RecordBatch::Make(projected, b->num_rows(), arrays);
          });
        });
      }
      return out;
    };
    stream_scans.insert(src.get());
    scan_slots[src.get()] = slot;
    return src;
  }

  /// Scans of one source with the same options and the same watermark read
  /// it once: the later slot's scans move to the earlier slot, which the
  /// checkpoint then knows as one source. Deterministic in binding order, so
  /// a restart of the same query merges alike.
  void ShareEqualSources() {
    for (size_t j = 0; j < slots.size();) {
      Slot* later = slots[j].get();
      Slot* into = nullptr;
      for (size_t i = 0; i < j && !later->share_key.empty(); ++i) {
        Slot* s = slots[i].get();
        if (s->share_key == later->share_key && SameWatermark(*s, *later)) {
          into = s;
          break;
        }
      }
      if (!into) {
        ++j;
        continue;
      }
      for (auto& [scan, slot] : scan_slots) {
        if (slot == later) slot = into;
      }
      later->source->Stop();
      slots.erase(slots.begin() + static_cast<std::ptrdiff_t>(j));
    }
    for (auto& s : slots) s->readers = 0;
    for (auto& [scan, slot] : scan_slots) ++slot->readers;
  }
  static bool SameWatermark(const Slot& a, const Slot& b) {
    if (a.has_watermark() != b.has_watermark()) return false;
    if (!a.has_watermark()) return true;
    return a.watermark_column == b.watermark_column && a.delay_us == b.delay_us &&
           a.watermark_name == b.watermark_name &&
           a.watermark_expr->ToString() == b.watermark_expr->ToString();
  }

  /// What a stateful operator computes, for finding two that compute the same
  /// over the same (shared) sources: its whole subtree, scans by their slot.
  std::string Fingerprint(const plan::LogicalNode& n) const {
    std::string f = fmt::format("({} {}", static_cast<int>(n.kind), n.schema->ToString());
    // rand() and friends: two calls are two draws, never one computation.
    bool deterministic = true;
    std::function<void(const expr::Expr&)> check = [&](const expr::Expr& e) {
      if (e.call && !e.call->deterministic) deterministic = false;
      for (const auto& a : e.args) check(*a);
    };
    auto add = [&](const expr::ExprPtr& e) {
      f += e ? " " + e->ToString() : " -";
      if (e) check(*e);
    };
    if (n.scan) {
      auto it = scan_slots.find(n.scan.get());
      f += fmt::format(" scan={}", it != scan_slots.end() ? static_cast<const void*>(it->second)
                                                          : static_cast<const void*>(n.scan.get()));
    }
    for (int c : n.scan_columns) f += fmt::format(" c{}", c);
    for (const auto& e : n.scan_filters) add(e);
    add(n.predicate);
    for (const auto& e : n.exprs) add(e);
    for (const auto& a : n.aggregates) {
      f += fmt::format(" agg {} {} {}", a.name, a.distinct, a.args.size());
      for (const auto& e : a.args) add(e);
      add(a.filter);
    }
    for (const auto& g : n.grouping_sets) f += fmt::format(" gs{}", fmt::join(g, ","));
    f += fmt::format(" {} {} {} {} {} {} {}", n.emit_state, static_cast<int>(n.join_type), n.limit,
                     n.offset, n.outer, n.with_position, n.windows.size());
    for (const auto& k : n.sort_keys) {
      add(k.expr);
      f += fmt::format("{}{}", k.ascending, k.nulls_first);
    }
    if (!n.windows.empty() || !deterministic) return {};  // never shared
    for (const auto& c : n.children) {
      std::string child = Fingerprint(*c);
      if (child.empty()) return {};
      f += child;
    }
    return f + ")";
  }

  bool complete_mode = false;

  bool IsStage(const plan::LogicalPtr& n) const {
    if (n->kind == plan::LogicalKind::kAggregate) return HasStream(n);
    if (n->kind == plan::LogicalKind::kJoin)
      return HasStream(n->children[0]) && HasStream(n->children[1]);
    return false;
  }

  /// The stateful operators of the plan, innermost first.
  void CollectStages(const plan::LogicalPtr& n, std::vector<plan::LogicalPtr>* out) const {
    for (const auto& c : n->children) CollectStages(c, out);
    if (IsStage(n)) out->push_back(n);
  }

  bool HasStreamingAggregate(const plan::LogicalPtr& n) const {
    if (n->kind == plan::LogicalKind::kAggregate && HasStream(n)) return true;
    for (const auto& c : n->children) {
      if (HasStreamingAggregate(c)) return true;
    }
    return false;
  }

  bool HasStream(const plan::LogicalPtr& n) const {
    if (n->kind == plan::LogicalKind::kScan) return stream_scans.count(n->scan.get()) > 0;
    for (const auto& c : n->children) {
      if (HasStream(c)) return true;
    }
    return false;
  }

  /// Spark's UnsupportedOperationChecker for what this runtime runs today:
  /// stateless operators and stream-static joins. Stateful operators get
  /// their own error instead of silently computing per-batch results.
  Status CheckSupported(const plan::LogicalPtr& n) const {
    for (const auto& c : n->children) ARROW_RETURN_NOT_OK(CheckSupported(c));
    if (!HasStream(n)) return Status::OK();
    switch (n->kind) {
      case plan::LogicalKind::kAggregate:
        if (!n->grouping_sets.empty()) {
          return Unsupported(
              "GROUPING SETS, ROLLUP and CUBE are not supported on streaming data yet");
        }
        return Status::OK();
      case plan::LogicalKind::kSort:
      case plan::LogicalKind::kLimit:
        if (HasStreamingAggregate(n) && complete_mode) return Status::OK();
        return Unsupported(
            "[STREAMING_SORT] {} is not supported on streaming data, except after an aggregation "
            "in "
            "complete output mode (as in Spark)",
            n->kind == plan::LogicalKind::kSort ? "sorting" : "LIMIT");
      case plan::LogicalKind::kWindow:
        return Unsupported(
            "[NON_TIME_WINDOW_NOT_SUPPORTED_IN_STREAMING] window functions (OVER) are not "
            "supported on "
            "streaming data");
      case plan::LogicalKind::kJoin: {
        bool l = HasStream(n->children[0]), r = HasStream(n->children[1]);
        if (l && r) return Status::OK();  // checked by StreamJoin::Analyze
        auto jt = n->join_type;
        bool ok = jt == sql::JoinType::kInner || jt == sql::JoinType::kCross ||
                  (l && (jt == sql::JoinType::kLeft || jt == sql::JoinType::kLeftSemi ||
                         jt == sql::JoinType::kLeftAnti)) ||
                  (r && jt == sql::JoinType::kRight);
        if (!ok) {
          return Unsupported(
              "this outer join between a stream and a static table is not supported: the static "
              "side "
              "would need to know all future stream rows (Spark refuses it too)");
        }
        return Status::OK();
      }
      case plan::LogicalKind::kUnion:
        return Status::OK();
      default:
        return Status::OK();
    }
  }
};

StreamingQuery::StreamingQuery(QuerySpec spec)
    : spec_(std::move(spec)), impl_(std::make_unique<Impl>()) {}

StreamingQuery::~StreamingQuery() { Stop(); }

Result<std::shared_ptr<StreamingQuery>> StreamingQuery::Start(QuerySpec spec) {
  RegisterBuiltinConnectors();
  std::shared_ptr<StreamingQuery> q(new StreamingQuery(std::move(spec)));
  auto& impl = *q->impl_;
  ARROW_ASSIGN_OR_RAISE(auto cp, Checkpoint::Open(q->spec_.checkpoint_dir));
  impl.checkpoint = cp;
  q->id_ = cp.query_id();
  q->run_id_ = NewUuid();
  impl.session = std::make_unique<plan::Session>();
  impl.session->config() = q->spec_.config;
  impl.session->views() = q->spec_.views;
  bool available_now = q->spec_.trigger.kind == Trigger::Kind::kAvailableNow;
  auto* implp = &impl;
  const int shuffle_partitions = std::max(1, q->spec_.config.shuffle_partitions);
  impl.session->stream_resolver =
      [implp, available_now, shuffle_partitions](
          const std::string& kind, const std::vector<std::shared_ptr<arrow::Scalar>>& positional,
          const std::map<std::string, std::shared_ptr<arrow::Scalar>>& named,
          const sql::TableRef& ref) -> Result<std::shared_ptr<plan::ScanSource>> {
    ARROW_ASSIGN_OR_RAISE(auto options, SourceOptions(positional, named));
    // dropDuplicates / dropDuplicatesWithinWatermark are ours, not the connector's.
    std::string dedup_spec;
    bool within_watermark = false;
    for (auto it = options.begin(); it != options.end();) {
      auto k = Lower(it->first);
      if (k == "dropduplicates" || k == "dropduplicateswithinwatermark") {
        dedup_spec = it->second;
        within_watermark = k == "dropduplicateswithinwatermark";
        it = options.erase(it);
      } else {
        ++it;
      }
    }
    int index = static_cast<int>(implp->slots.size());
    connectors::SourceContext ctx;
    ctx.metadata_dir = implp->checkpoint->SourceDir(index);
    ctx.available_now = available_now;
    auto slot = std::make_unique<Impl::Slot>();
    slot->kind = kind;
    slot->share_key = kind;
    for (const auto& [k, v] : options) slot->share_key += fmt::format("\x1f{}={}", Lower(k), v);
    ARROW_ASSIGN_OR_RAISE(slot->source, MakeStreamSource(kind, options, ctx));
    if (ref.watermark_column) {
      // WATERMARK col DELAY OF INTERVAL ...: col names a TIMESTAMP column of the source.
      const auto& w = *ref.watermark_column;
      if (w.type != sql::ExprType::kColumn || w.name_parts.empty()) {
        return UserError(
            "WATERMARK expects a column of the source, e.g. WATERMARK event_time DELAY OF INTERVAL "
            "10 "
            "SECONDS");
      }
      auto schema = slot->source->schema();
      for (int i = 0; i < schema->num_fields(); ++i) {
        if (Lower(schema->field(i)->name()) == Lower(w.name_parts.back()))
          slot->watermark_column = i;
      }
      if (slot->watermark_column < 0) {
        return UserError("WATERMARK column `{}` is not a column of {} ({})", w.name_parts.back(),
                         slot->source->Description(), schema->ToString());
      }
      if (schema->field(slot->watermark_column)->type()->id() != arrow::Type::TIMESTAMP) {
        return UserError("WATERMARK column `{}` must be a TIMESTAMP, got {}", w.name_parts.back(),
                         types::ToDDL(*schema->field(slot->watermark_column)->type()));
      }
      slot->watermark_name = schema->field(slot->watermark_column)->name();
      slot->watermark_expr = expr::MakeColumn(slot->watermark_column, slot->watermark_name,
                                              schema->field(slot->watermark_column)->type());
      const auto* d = ref.watermark_delay.get();
      if (!d || (d->type != sql::ExprType::kInterval && d->type != sql::ExprType::kLiteral)) {
        return UserError("WATERMARK ... DELAY OF expects an interval such as INTERVAL 10 SECONDS");
      }
      ARROW_ASSIGN_OR_RAISE(slot->delay_us, types::ParseDurationMicros(d->text));
      if (slot->delay_us < 0) return UserError("WATERMARK delay must not be negative");
    }
    if (!dedup_spec.empty()) {
      auto schema = slot->source->schema();
      size_t start = 0;
      while (start <= dedup_spec.size()) {
        auto comma = dedup_spec.find(',', start);
        if (comma == std::string::npos) comma = dedup_spec.size();
        auto name = dedup_spec.substr(start, comma - start);
        name.erase(0, name.find_first_not_of(" "));
        name.erase(name.find_last_not_of(" ") + 1);
        start = comma + 1;
        if (name.empty()) continue;
        int found = -1;
        for (int i = 0; i < schema->num_fields(); ++i) {
          if (Lower(schema->field(i)->name()) == Lower(name)) found = i;
        }
        if (found < 0) {
          return UserError("dropDuplicates: `{}` is not a column of {} ({})", name,
                           slot->source->Description(), schema->ToString());
        }
        slot->dedup_columns.push_back(found);
      }
      if (slot->dedup_columns.empty())
        return UserError("dropDuplicates needs column names, e.g. 'event_id'");
      if (within_watermark && !slot->has_watermark()) {
        return UserError("dropDuplicatesWithinWatermark needs a WATERMARK on the source");
      }
      slot->dedup_within_watermark = within_watermark;
      arrow::FieldVector key_fields;
      for (int c : slot->dedup_columns) key_fields.push_back(schema->field(c));
      auto layout = Json{{"operatorName", within_watermark ? "dedupeWithinWatermark" : "dedupe"},
                         {"key", types::ToDDL(*arrow::schema(key_fields))},
                         {"value", "expires_us BIGINT"}}
                        .dump();
      ARROW_ASSIGN_OR_RAISE(
          slot->dedup_state,
          OperatorState::Open(implp->checkpoint->StateDir(), 1 + index, shuffle_partitions, layout,
                              fmt::format("deduplication of source {}", index),
                              /*in_memory=*/false));
    }
    // Deduplicating sources keep a state of their own: never shared.
    if (!dedup_spec.empty()) slot->share_key.clear();
    if (ref.watermark_column) {
      slot->share_key += fmt::format("\x1fwatermark={}/{}", slot->watermark_column, slot->delay_us);
    }
    auto scan = implp->MakeScan(slot.get());
    implp->slots.push_back(std::move(slot));
    ++implp->slots_created;
    return scan;
  };
  impl.session->stream_watermark = [implp](const plan::ScanSource* source, expr::ExprPtr e,
                                           const std::string& name, int64_t delay_us) -> Status {
    auto it = implp->scan_slots.find(source);
    if (it == implp->scan_slots.end()) {
      return UserError(
          "WATERMARK on a subquery: its column `{}` does not come from a streaming source", name);
    }
    Impl::Slot* slot = it->second;
    if (slot->has_watermark()) {
      return UserError("the source {} has a WATERMARK already (`{}`); one per source",
                       slot->source->Description(), slot->watermark_name);
    }
    slot->watermark_expr = std::move(e);
    slot->watermark_name = name;
    slot->delay_us = delay_us;
    return Status::OK();
  };
  sql::QueryPtr query = q->spec_.query;
  if (!query) {
    ARROW_ASSIGN_OR_RAISE(auto statement, sql::ParseStatement(q->spec_.sql));
    if (statement->type != sql::StatementType::kQuery) {
      return UserError("a streaming query must be a SELECT, got: {}", q->spec_.sql.substr(0, 80));
    }
    query = statement->query;
  }
  ARROW_ASSIGN_OR_RAISE(auto bound, plan::BindQuery(impl.session.get(), *query));
  impl.ShareEqualSources();
  if (impl.slots.empty()) {
    return UserError(
        "a streaming query must read at least one streaming source (FROM STREAM read_kafka(...), "
        "STREAM "
        "read_files(...), STREAM delta.`path`)");
  }
  impl.complete_mode = q->spec_.output_mode == OutputMode::kComplete;
  ARROW_RETURN_NOT_OK(impl.CheckSupported(bound));
  ARROW_ASSIGN_OR_RAISE(impl.plan, plan::Optimize(bound));
  ARROW_RETURN_NOT_OK(q->PlanStateful());
  // Physical planning once up front surfaces its errors at start, not in batch 0.
  if (impl.stages.empty()) {
    ARROW_RETURN_NOT_OK(plan::PlanPhysical(impl.plan, impl.session->config()).status());
  } else {
    for (const auto& st : impl.stages) {
      for (const auto& p : {st->partial_plan, st->left_plan, st->right_plan}) {
        if (p) ARROW_RETURN_NOT_OK(plan::PlanPhysical(p, impl.session->config()).status());
      }
    }
    ARROW_RETURN_NOT_OK(plan::PlanPhysical(impl.upper_plan, impl.session->config()).status());
  }
  if (q->spec_.sink) {
    impl.sink = q->spec_.sink;
  } else {
    connectors::SinkContext sctx;
    sctx.query_id = q->id_;
    sctx.output_mode = q->spec_.output_mode;
    sctx.checkpoint_dir = cp.dir();
    auto format = q->spec_.sink_format.empty() ? std::string("console") : q->spec_.sink_format;
    ARROW_ASSIGN_OR_RAISE(auto sink, connectors::MakeSink(format, q->spec_.sink_options, sctx));
    impl.sink = std::move(sink);
  }
  ARROW_RETURN_NOT_OK(impl.sink->Prepare(impl.output_schema()));
  q->status_.message = "Initializing sources";
  q->active_ = true;
  q->thread_ = std::thread([q = q.get()] { q->Loop(); });
  return q;
}

void StreamingQuery::Loop() {
  Status st = RunLoop();
  for (auto& s : impl_->slots) s->source->Stop();
  if (impl_->sink) impl_->sink->Stop();
  bool dedup = false;
  for (auto& sl : impl_->slots) {
    dedup |= sl->dedup_state != nullptr;
    sl->dedup_state.reset();
  }
  if (impl_->stateful || dedup) {
    impl_->state.reset();
    for (auto& st : impl_->stages) st->state.reset();
    // The live state instances are only worth keeping while the query runs.
    state::ReleaseCachedStateStores(impl_->checkpoint->StateDir());
  }
  std::lock_guard<std::mutex> lock(mu_);
  error_ = st;
  status_.message = st.ok() ? "Stopped" : "Terminated with exception: " + st.message();
  status_.is_trigger_active = false;
  status_.is_data_available = false;
  terminated_ = true;
  active_ = false;
  cv_.notify_all();
}

Status StreamingQuery::RunLoop() {
  auto& impl = *impl_;
  const Checkpoint& cp = *impl.checkpoint;
  const size_t n = impl.slots.size();
  auto set_status = [&](const char* msg, bool data, bool trigger) {
    std::lock_guard<std::mutex> lock(mu_);
    status_.message = msg;
    status_.is_data_available = data;
    status_.is_trigger_active = trigger;
  };

  // Initial offsets are persisted on first use, so a restart before batch 0
  // committed resolves "latest" to the same place.
  std::vector<Json> initial(n);
  storage::LocalFileSystem fs;
  for (size_t i = 0; i < n; ++i) {
    auto path = cp.SourceDir(static_cast<int>(i)) + "/initialOffset";
    auto text = fs.ReadAll(path);
    if (text.ok()) {
      initial[i] = Json::parse(*text, nullptr, false);
      if (initial[i].is_discarded()) {
        return UserError(
            "corrupt streaming checkpoint file '{}': not JSON (restore it, or start the query with "
            "a new "
            "checkpoint folder)",
            path);
      }
      continue;
    }
    if (!storage::IsNotFound(text.status())) return text.status();
    ARROW_ASSIGN_OR_RAISE(initial[i], impl.slots[i]->source->InitialOffset());
    ARROW_RETURN_NOT_OK(fs.MakeDirs(cp.SourceDir(static_cast<int>(i))));
    auto put = fs.PutIfAbsent(path, initial[i].dump());
    if (!put.ok() && !storage::IsAlreadyExists(put)) return put;
  }

  // Recovery.
  std::vector<Json> current = initial;
  int64_t next_batch = 0;
  ARROW_ASSIGN_OR_RAISE(auto latest_offsets, cp.LatestOffsetBatch());
  ARROW_ASSIGN_OR_RAISE(auto latest_commit, cp.LatestCommitBatch());
  std::optional<OffsetEntry> replay;
  int64_t prev_batch_wm_ms = 0;  // the watermark of the batch before the next one (0: none)
  if (latest_offsets) {
    ARROW_ASSIGN_OR_RAISE(auto entry, cp.ReadOffsets(*latest_offsets));
    if (entry.offsets.size() != n) {
      return UserError(
          "the checkpoint '{}' belongs to a query with {} sources, this query reads {}: use a new "
          "checkpoint folder for a changed query",
          cp.dir(), entry.offsets.size(), n);
    }
    if (latest_commit && *latest_commit > *latest_offsets) {
      return UserError("corrupt streaming checkpoint '{}': commits/{} exists without offsets/{}",
                       cp.dir(), *latest_commit, *latest_commit);
    }
    if (!latest_commit || *latest_commit < *latest_offsets) {
      // Planned but not committed: re-run with exactly the same range.
      if (*latest_offsets > 0) {
        auto prev = cp.ReadOffsets(*latest_offsets - 1);
        if (!prev.ok()) {
          return UserError(
              "cannot recover batch {} of '{}': offsets/{} is missing or unreadable ({})",
              *latest_offsets, cp.dir(), *latest_offsets - 1, prev.status().message());
        }
        current = prev->offsets;
        prev_batch_wm_ms = prev->batch_watermark_ms;
      }
      replay = entry;
      next_batch = *latest_offsets;
    } else {
      current = entry.offsets;
      next_batch = *latest_offsets + 1;
      prev_batch_wm_ms = entry.batch_watermark_ms;
    }
  }

  // The watermark the next new batch runs with (0: none yet), from the last commit.
  int64_t watermark_ms = 0;
  if (latest_commit) {
    ARROW_ASSIGN_OR_RAISE(watermark_ms, cp.ReadCommit(*latest_commit));
  }
  // A run that stopped after committing its last data batch but before the
  // no-data batch its moved watermark called for (a kill, or a stop) owes
  // that batch: closed windows and due timers come out on restart.
  bool no_data_batch_due = false;
  if (latest_commit && latest_offsets && *latest_commit == *latest_offsets) {
    bool has_state = impl.stateful;
    for (auto& sl : impl.slots) has_state |= sl->dedup_state != nullptr;
    ARROW_ASSIGN_OR_RAISE(auto last, cp.ReadOffsets(*latest_offsets));
    no_data_batch_due = has_state && watermark_ms > last.batch_watermark_ms;
  }
  const auto& trig = spec_.trigger;
  if (trig.kind == Trigger::Kind::kAvailableNow) {
    for (auto& s : impl.slots) ARROW_RETURN_NOT_OK(s->source->PrepareForAvailableNow());
  }

  std::future<Status> pending_commit;  // async progress tracking: commits/N-1 in flight
  auto wait_commit = [&]() -> Status {
    if (pending_commit.valid()) return pending_commit.get();
    return Status::OK();
  };

  // Pipelining (stateless queries, default and availableNow triggers): batch
  // N's tail -- offsets/N, the sink's write and commit, commits/N -- runs on
  // a thread of its own while this one reads and transforms batch N+1. The
  // protocol's order holds because the tail of each batch is one sequential
  // task and the next task starts only after the previous one ended:
  // offsets/N is durable before the sink commits N, commits/N is written
  // after it, and offsets/N+1 only after commits/N, so at most one batch is
  // ever planned and not committed (recovery is unchanged). Reading N+1 before
  // offsets/N+1 exists has no effect a crash could leave behind: a source
  // read is side-effect free until Source::Commit, which runs after commits/N.
  // Stateful queries read the state the previous batch commits, so they run
  // one batch at a time.
  bool has_any_state = impl.stateful || impl.tws != nullptr;
  for (auto& sl : impl.slots) has_any_state |= sl->dedup_state != nullptr;
  auto pipe_conf = spec_.config.raw.find("lakestream.streaming.pipelined");
  const bool pipelined =
      spec_.pipelined && !has_any_state && !spec_.async_progress &&
      (pipe_conf == spec_.config.raw.end() || Lower(pipe_conf->second) != "false") &&
      (trig.kind == Trigger::Kind::kDefault || trig.kind == Trigger::Kind::kAvailableNow);
  // lakestream.streaming.pipelineMinRows: smaller batches run their tail inline.
  int64_t pipeline_min_rows = 64 * 1024;
  if (auto it = spec_.config.raw.find("lakestream.streaming.pipelineMinRows");
      it != spec_.config.raw.end()) {
    char* end = nullptr;
    long long v = std::strtoll(it->second.c_str(), &end, 10);
    if (end == it->second.c_str() || *end != '\0' || v < 0) {
      return UserError("lakestream.streaming.pipelineMinRows must be a row count >= 0, got '{}'",
                       it->second);
    }
    pipeline_min_rows = v;
  }

  // What one batch did, for its tail and its progress record.
  struct BatchRun {
    OffsetEntry entry;
    std::vector<Json> start, latest;
    bool is_replay = false;
    std::vector<std::shared_ptr<arrow::RecordBatch>> rows;
    int64_t output_rows = 0;
    Clock::time_point trigger_start;
    int64_t latest_offset_ms = 0, get_batch_ms = 0, exec_ms = 0;
    int64_t batch_wm_ms = 0, next_wm_ms = 0;
    std::vector<int64_t> slot_rows;
    std::vector<connectors::SourceMetrics> slot_metrics;
    int64_t max_ev = INT64_MIN, min_ev = INT64_MAX, late_rows = 0;
    bool has_wm = false;
    // Filled by the tail.
    int64_t wal_ms = 0, sink_ms = 0, state_commit_ms = 0, commit_ms = 0;
    Clock::time_point done;
    // Pipelined: the next batch, once its end offsets are known. This
    // batch's tail writes its offsets/N+1 right after commits/N, so the next
    // tail does not start with that write (one fsync off the path of every
    // small batch, which is most of its freshness).
    std::mutex next_mu;
    std::shared_ptr<BatchRun> next;
    bool offsets_written = false;  // by the previous batch's tail
    bool pipelined = false;        // this batch's tail ran beside the next batch
  };
  // The tail of a batch: offsets/N (pipelined; else already written or in
  // flight in `wal`), sink, state, commits/N.
  auto tail = [pipelined, &impl, &cp](BatchRun& b, std::future<Status>* wal) -> Status {
    const int64_t batch_id = b.entry.batch_id;
    if (pipelined && !b.is_replay && !b.offsets_written) {
      auto t0 = Clock::now();
      ARROW_RETURN_NOT_OK(cp.WriteOffsets(b.entry));
      b.wal_ms = MsSince(t0);
    }
    if (wal && wal->valid()) {
      auto t0 = Clock::now();
      ARROW_RETURN_NOT_OK(wal->get());
      b.wal_ms = MsSince(t0);
    }
    auto t_sink = Clock::now();
    ARROW_RETURN_NOT_OK(impl.sink->AddBatch(batch_id, impl.output_schema(), b.rows));
    b.rows.clear();
    b.sink_ms = MsSince(t_sink);
    {
      auto t0 = Clock::now();
      if (impl.state) ARROW_RETURN_NOT_OK(impl.state->Commit());
      for (auto& st : impl.stages) ARROW_RETURN_NOT_OK(st->state->Commit());
      ARROW_RETURN_NOT_OK(impl.CommitDedup(b.batch_wm_ms > 0 ? b.batch_wm_ms * 1000 : INT64_MIN));
      b.state_commit_ms = MsSince(t0);
    }
    return Status::OK();
  };
  auto emit_progress = [&](BatchRun& b) -> Status {
    const int64_t batch_id = b.entry.batch_id;
    int64_t trigger_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(b.done - b.trigger_start).count();
    int64_t input_rows = 0;
    ProgressJson sources = ProgressJson::array();
    for (size_t i = 0; i < n; ++i) {
      int64_t r = b.slot_rows[i];
      input_rows += r;
      ProgressJson s = {{"description", impl.slots[i]->source->Description()},
                        {"startOffset", b.start[i]},
                        {"endOffset", b.entry.offsets[i]},
                        {"latestOffset", b.latest[i].is_null() ? b.entry.offsets[i] : b.latest[i]},
                        {"numInputRows", r},
                        {"inputRowsPerSecond", PerSecond(r, trigger_ms)},
                        {"processedRowsPerSecond", PerSecond(r, trigger_ms)}};
      if (!b.slot_metrics[i].empty()) s["metrics"] = b.slot_metrics[i];
      sources.push_back(std::move(s));
    }
    ProgressJson sink = {{"description", impl.sink->Description()},
                         {"numOutputRows", b.output_rows}};
    auto sink_metrics = impl.sink->TakeMetrics();
    if (!sink_metrics.empty()) sink["metrics"] = sink_metrics;
    ProgressJson event_time = ProgressJson::object();
    if (b.has_wm) {
      event_time["watermark"] = IsoTime(b.batch_wm_ms);
      if (b.max_ev != INT64_MIN) {
        event_time["max"] = IsoTime(b.max_ev / 1000);
        event_time["min"] = IsoTime(b.min_ev / 1000);
      }
    }
    ProgressJson state_ops = ProgressJson::array();
    if (impl.tws) {
      auto sm = impl.state->metrics();
      state_ops.push_back({{"operatorName", "transformWithStateExec"},
                           {"numRowsTotal", sm.num_rows_total},
                           {"numRowsUpdated", sm.num_rows_updated},
                           {"numRowsRemoved", sm.num_rows_removed},
                           {"commitTimeMs", sm.commit_time_ms},
                           {"memoryUsedBytes", sm.memory_used_bytes},
                           {"numRowsDroppedByWatermark", b.late_rows},
                           {"numShufflePartitions", impl.state->partitions()},
                           {"numStateStoreInstances", impl.state->partitions()}});
    }
    for (const auto& st : impl.stages) {
      auto sm = st->state->metrics();
      const bool join = st->join != nullptr;
      const auto& am = st->agg_metrics;
      const auto& jm = st->join_metrics;
      int parts = st->state->partitions();
      state_ops.push_back({{"operatorName", join ? "symmetricHashJoin" : "stateStoreSave"},
                           {"numRowsTotal", join ? jm.rows_total : am.rows_total},
                           {"numRowsUpdated", join ? jm.rows_updated : am.rows_updated},
                           {"numRowsRemoved", join ? jm.rows_removed : am.rows_removed},
                           {"commitTimeMs", sm.commit_time_ms},
                           {"memoryUsedBytes", sm.memory_used_bytes},
                           {"numRowsDroppedByWatermark",
                            join ? jm.rows_dropped_by_watermark : am.rows_dropped_by_watermark},
                           {"numShufflePartitions", parts},
                           {"numStateStoreInstances", parts}});
    }
    for (auto& sl : impl.slots) {
      if (!sl->dedup_state) continue;
      state_ops.push_back(
          {{"operatorName", sl->dedup_within_watermark ? "dedupeWithinWatermark" : "dedupe"},
           {"numRowsTotal", sl->dedup_total},
           {"numRowsUpdated", sl->dedup_new->load()},
           {"numRowsRemoved", sl->dedup_removed},
           {"numDroppedDuplicateRows", sl->dedup_dropped->load()},
           {"numRowsDroppedByWatermark", sl->late_rows->load()}});
    }
    ProgressJson progress = {
        {"id", id_},
        {"runId", run_id_},
        {"name", spec_.name.empty() ? ProgressJson() : ProgressJson(spec_.name)},
        {"timestamp", IsoTime(b.entry.batch_timestamp_ms)},
        {"batchId", batch_id},
        {"batchDuration", trigger_ms},
        {"numInputRows", input_rows},
        {"inputRowsPerSecond", PerSecond(input_rows, trigger_ms)},
        {"processedRowsPerSecond", PerSecond(input_rows, trigger_ms)},
        // Pipelined batches overlap: a batch's tail (walCommit, the sink's
        // part of addBatch, commitOffsets) runs while the next one reads, so
        // triggerExecution of consecutive batches may add up to more than
        // the wall time; addBatch is the batch's own transform + sink time.
        {"durationMs",
         {{"latestOffset", b.latest_offset_ms},
          {"getBatch", b.get_batch_ms},
          {"queryPlanning", 0},
          {"stateCommit", b.state_commit_ms},
          {"addBatch", b.exec_ms + b.sink_ms},
          {"walCommit", b.wal_ms},
          {"commitOffsets", b.commit_ms},
          {"triggerExecution", trigger_ms}}},
        {"eventTime", event_time},
        {"stateOperators", state_ops},
        {"sources", sources},
        {"sink", sink}};
    if (b.pipelined) progress["pipelined"] = true;
    ARROW_RETURN_NOT_OK(cp.AppendProgress(progress.dump()));
    {
      std::lock_guard<std::mutex> lock(mu_);
      progress_.push_back(progress);
      while (progress_.size() > spec_.progress_retention) progress_.pop_front();
    }
    if (spec_.on_progress) spec_.on_progress(progress);
    return Status::OK();
  };
  // commits/N, then let sources release what is done; `b` must be committed
  // to the sink and state.
  auto commit_batch = [&](BatchRun& b) -> Status {
    const int64_t batch_id = b.entry.batch_id;
    auto t_commit = Clock::now();
    if (spec_.async_progress) {
      pending_commit = std::async(std::launch::async, [&cp, batch_id, wm = b.next_wm_ms] {
        return cp.WriteCommit(batch_id, wm);
      });
    } else {
      ARROW_RETURN_NOT_OK(cp.WriteCommit(batch_id, b.next_wm_ms));
    }
    for (size_t i = 0; i < n; ++i)
      ARROW_RETURN_NOT_OK(impl.slots[i]->source->Commit(b.entry.offsets[i]));
    if (batch_id >= spec_.min_batches_to_retain && batch_id % 10 == 0) {
      ARROW_RETURN_NOT_OK(cp.Purge(batch_id - spec_.min_batches_to_retain + 1));
    }
    b.commit_ms += MsSince(t_commit);
    b.done = Clock::now();
    return Status::OK();
  };
  // The pipelined tail in flight (batch N-1) and its run.
  std::shared_ptr<BatchRun> in_flight;
  std::future<Status> in_flight_tail;
  auto finish_in_flight = [&]() -> Status {
    if (!in_flight) return Status::OK();
    auto b = std::move(in_flight);
    in_flight.reset();
    ARROW_RETURN_NOT_OK(in_flight_tail.get());
    // commits/N was written by the tail; the sources are released here, on
    // the query thread, where they are otherwise used.
    for (size_t i = 0; i < n; ++i)
      ARROW_RETURN_NOT_OK(impl.slots[i]->source->Commit(b->entry.offsets[i]));
    return emit_progress(*b);
  };

  int batches_run = 0;
  auto last_trigger = Clock::now();
  while (!stop_requested_) {
    if (trig.kind == Trigger::Kind::kProcessingTime && batches_run > 0) {
      auto due = last_trigger + std::chrono::milliseconds(trig.interval_ms);
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, due, [&] { return stop_requested_.load(); });
      if (stop_requested_) break;
    }
    auto trigger_start = Clock::now();
    last_trigger = trigger_start;
    set_status("Getting offsets", false, true);

    // 1. End offsets.
    OffsetEntry entry;
    std::vector<Json> latest(n);
    int64_t latest_offset_ms = 0;
    if (replay) {
      entry = *replay;
      replay.reset();
    } else {
      auto t0 = Clock::now();
      bool any = false;
      for (size_t i = 0; i < n; ++i) {
        ARROW_ASSIGN_OR_RAISE(latest[i], impl.slots[i]->source->LatestOffset(current[i]));
        if (latest[i] != current[i]) any = true;
      }
      latest_offset_ms = MsSince(t0);
      if (!any && impl.tws && impl.state) {
        // Processing-time timers fire in a batch of their own when they are due.
        ARROW_ASSIGN_OR_RAISE(bool due, impl.tws->HasDueTimer(impl.state.get(), NowMs()));
        no_data_batch_due |= due;
      }
      if (!any && no_data_batch_due) {
        latest = current;
        any = true;  // a no-data batch: same offsets, the new watermark
      }
      no_data_batch_due = false;
      if (!any) {
        if (in_flight) {
          // Look again as soon as the last tail ends, without the polling
          // delay: records that arrived meanwhile are the next batch.
          ARROW_RETURN_NOT_OK(finish_in_flight());
          continue;
        }
        if (trig.kind == Trigger::Kind::kOnce || trig.kind == Trigger::Kind::kAvailableNow) break;
        set_status("Waiting for data to arrive", false, false);
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(spec_.polling_delay_ms),
                     [&] { return stop_requested_.load(); });
        // A processingTime trigger with no data waits for its next interval.
        if (trig.kind == Trigger::Kind::kProcessingTime) batches_run = std::max(batches_run, 1);
        continue;
      }
      entry.batch_id = next_batch;
      entry.batch_timestamp_ms = NowMs();
      entry.batch_watermark_ms = watermark_ms;
      entry.offsets = latest;
      entry.conf = {
          {"spark.sql.shuffle.partitions", std::to_string(spec_.config.shuffle_partitions)}};
    }
    set_status("Processing new data", true, true);
    const int64_t batch_id = entry.batch_id;
    auto run = std::make_shared<BatchRun>();
    run->trigger_start = trigger_start;
    run->latest_offset_ms = latest_offset_ms;
    run->is_replay = latest_offsets && batch_id == *latest_offsets &&
                     (!latest_commit || *latest_commit < batch_id);
    run->entry = entry;
    if (in_flight) {
      std::lock_guard<std::mutex> lock(in_flight->next_mu);
      in_flight->next = run;
    }

    // 2. offsets/N (write-ahead), async under asyncProgressTrackingEnabled;
    // pipelined, at the head of the batch's tail.
    std::future<Status> wal;
    if (pipelined && !run->is_replay && !in_flight) {
      // With no tail in flight, commits/N-1 is written, so offsets/N may be
      // written now, while the batch is read; the tail waits for it before
      // the sink commits anything. A crash before it is durable leaves
      // nothing of batch N behind (reading the source has no side effects),
      // so recovery plans N again. Written at the head of the tail instead,
      // its two fsyncs were on the path of every small batch's freshness.
      wal = std::async(std::launch::async, [&cp, entry] { return cp.WriteOffsets(entry); });
      run->offsets_written = true;
    }
    if (!run->is_replay && !pipelined) {
      ARROW_RETURN_NOT_OK(wait_commit());
      if (spec_.async_progress) {
        wal = std::async(std::launch::async, [&cp, entry] { return cp.WriteOffsets(entry); });
      } else {
        auto t0 = Clock::now();
        ARROW_RETURN_NOT_OK(cp.WriteOffsets(entry));
        run->wal_ms = MsSince(t0);
      }
    }

    // 3. The rows of (current, end] as scan tasks.
    for (auto& sl : impl.slots) {
      if (!sl->dedup_state) continue;
      ARROW_RETURN_NOT_OK(sl->dedup_state->Load(batch_id));
      sl->dedup_dropped->store(0);
      sl->dedup_new->store(0);
    }
    auto t_get = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      impl.slots[i]->rows->store(0);
      ARROW_ASSIGN_OR_RAISE(auto tasks,
                            impl.slots[i]->source->PlanBatch(current[i], entry.offsets[i]));
      impl.slots[i]->SetTasks(std::move(tasks));
    }
    run->get_batch_ms = MsSince(t_get);

    // 4. Plan and run (stateful queries: partial aggregate, state, upper plan).
    for (auto& sl : impl.slots) {
      sl->max_event->store(INT64_MIN);
      sl->min_event->store(INT64_MAX);
      sl->late_rows->store(0);
    }
    const int64_t batch_wm_ms = entry.batch_watermark_ms;
    impl.watermark_us->store(batch_wm_ms > 0 ? batch_wm_ms * 1000 : INT64_MIN);
    impl.late_watermark_us->store(prev_batch_wm_ms > 0 ? prev_batch_wm_ms * 1000 : INT64_MIN);
    auto t_add = Clock::now();
    std::string state_json;
    ARROW_ASSIGN_OR_RAISE(run->rows, ExecuteBatch(batch_id, entry.batch_timestamp_ms, &state_json));
    for (const auto& b : run->rows) run->output_rows += b->num_rows();
    for (auto& s : impl.slots) s->ClearTasks();
    run->exec_ms = MsSince(t_add);

    // What the sources did in this batch (before the next batch resets it).
    for (size_t i = 0; i < n; ++i) {
      run->slot_rows.push_back(impl.slots[i]->rows->load());
      run->slot_metrics.push_back(impl.slots[i]->source->TakeMetrics());
    }
    for (auto& sl : impl.slots) {
      if (!sl->has_watermark()) continue;
      run->has_wm = true;
      run->max_ev = std::max(run->max_ev, sl->max_event->load());
      run->min_ev = std::min(run->min_ev, sl->min_event->load());
      run->late_rows += sl->late_rows->load();
    }

    // The next batch's watermark: per source max event time minus its delay,
    // the min over sources (max under multipleWatermarkPolicy=max), never back.
    std::optional<int64_t> global;
    bool use_max = Lower(spec_.config.raw.count("spark.sql.streaming.multipleWatermarkPolicy")
                             ? spec_.config.raw.at("spark.sql.streaming.multipleWatermarkPolicy")
                             : "min") == "max";
    for (auto& sl : impl.slots) {
      if (!sl->has_watermark()) continue;
      sl->max_event_ever = std::max(sl->max_event_ever, sl->max_event->load());
      if (sl->max_event_ever == INT64_MIN) continue;  // no data yet: does not hold the others back
      int64_t w = sl->max_event_ever - sl->delay_us;
      global = !global ? w : use_max ? std::max(*global, w) : std::min(*global, w);
    }
    int64_t next_wm_ms = batch_wm_ms;
    if (global) next_wm_ms = std::max(next_wm_ms, *global / 1000);
    watermark_ms = next_wm_ms;
    // A moved watermark may close windows: run a batch for it even without data.
    no_data_batch_due = has_any_state && next_wm_ms > batch_wm_ms;
    run->start = current;
    run->latest = latest;
    run->batch_wm_ms = batch_wm_ms;
    run->next_wm_ms = next_wm_ms;

    // 5. The tail: sink, state, commits/N; then progress.
    // Only large batches are worth it: a small batch reads in a few ms, and
    // handing its tail to another thread made freshness worse (at 100k
    // events/s, ~2k-row batches: p50/p99 51/151-215 ms pipelined, 37/109-134
    // ms not, on a loaded machine), while a 500k-row batch overlaps its
    // Delta write with ~0.4 s of reading the next one.
    int64_t batch_input_rows = 0;
    for (int64_t r : run->slot_rows) batch_input_rows += r;
    // The previous batch's tail must end first: it writes commits/N-1, after
    // which this batch's tail writes offsets/N.
    if (pipelined) ARROW_RETURN_NOT_OK(finish_in_flight());
    if (pipelined && batch_input_rows >= pipeline_min_rows) {
      if (wal.valid()) {
        auto t0 = Clock::now();
        ARROW_RETURN_NOT_OK(wal.get());
        run->wal_ms = MsSince(t0);
      }
      run->pipelined = true;
      in_flight = run;
      in_flight_tail = std::async(std::launch::async, [&tail, &cp, run]() -> Status {
        ARROW_RETURN_NOT_OK(tail(*run, nullptr));
        auto t_commit = Clock::now();
        ARROW_RETURN_NOT_OK(cp.WriteCommit(run->entry.batch_id, run->next_wm_ms));
        run->commit_ms = MsSince(t_commit);
        run->done = Clock::now();
        // offsets/N+1 now, if the query thread has planned N+1 (its fields
        // are read there only after this task ended).
        std::lock_guard<std::mutex> lock(run->next_mu);
        if (run->next && !run->next->is_replay) {
          auto t0 = Clock::now();
          ARROW_RETURN_NOT_OK(cp.WriteOffsets(run->next->entry));
          run->next->wal_ms = MsSince(t0);
          run->next->offsets_written = true;
        }
        run->next.reset();
        return Status::OK();
      });
      if (batch_id >= spec_.min_batches_to_retain && batch_id % 10 == 0) {
        // Only files of batches long committed.
        ARROW_RETURN_NOT_OK(cp.Purge(batch_id - spec_.min_batches_to_retain));
      }
    } else {
      ARROW_RETURN_NOT_OK(tail(*run, &wal));
      ARROW_RETURN_NOT_OK(commit_batch(*run));
      ARROW_RETURN_NOT_OK(emit_progress(*run));
    }

    current = entry.offsets;
    next_batch = batch_id + 1;
    prev_batch_wm_ms = batch_wm_ms;
    ++batches_run;
    if (trig.kind == Trigger::Kind::kOnce) break;
  }
  ARROW_RETURN_NOT_OK(finish_in_flight());
  return wait_commit();
}

namespace {

// The stateful step of a streaming aggregation, after Spark's rules on
// output modes.
Result<std::unique_ptr<exec::StreamingAggregate>> PlanAggregate(
    const plan::LogicalPtr& agg, const std::set<std::string>& watermark_names,
    const std::set<const plan::ScanSource*>& stream_scans, OutputMode mode) {
  // The key that closes groups: a window over the event time, or the event
  // time itself (Spark's rule for append mode and for state eviction), traced
  // through projections and upstream stages (a renamed window bound counts).
  int event_key = -1;
  int64_t event_lag = 0;
  const auto times = TraceEventTime(*agg, watermark_names, stream_scans);
  for (size_t i = 0; i < agg->exprs.size() && event_key < 0; ++i) {
    if (i < times.size() && times[i]) {
      event_key = static_cast<int>(i);
      event_lag = times[i]->lag_us;
    }
  }
  if (watermark_names.empty()) event_key = -1;
  if (mode == OutputMode::kAppend && event_key < 0) {
    return UserError(
        "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] append output mode is not supported for a "
        "streaming "
        "aggregation without a watermark: declare `WATERMARK <col> DELAY OF INTERVAL ...` on the "
        "source and group by "
        "window(<col>, ...) or <col>, or use outputMode 'update' or 'complete'");
  }
  exec::StreamingAggregateOptions o;
  o.output_schema = agg->schema;
  o.num_keys = static_cast<int>(agg->exprs.size());
  for (const auto& a : agg->aggregates) o.aggregates.push_back(a.resolved);
  o.mode = mode == OutputMode::kAppend     ? exec::StreamOutputMode::kAppend
           : mode == OutputMode::kComplete ? exec::StreamOutputMode::kComplete
                                           : exec::StreamOutputMode::kUpdate;
  o.event_time_key = event_key;
  o.event_time_lag_us = event_lag;
  for (size_t i = 0; i < agg->exprs.size(); ++i) {
    const auto& k = agg->exprs[i];
    if (k->kind == expr::ExprKind::kCall && k->name == "session_window") {
      o.session_key = static_cast<int>(i);
    }
  }
  if (o.session_key >= 0 && mode == OutputMode::kComplete) {
    return UserError(
        "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] session windows support the append and "
        "update output modes, not complete");
  }
  return exec::StreamingAggregate::Make(o);
}

// spark.sql.streaming.stateStore.providerClass naming the in-memory store
// (or Spark's HDFS-backed one, which is also memory-resident).
bool StateInMemory(const SessionConfig& config) {
  auto it = config.raw.find("spark.sql.streaming.stateStore.providerClass");
  if (it == config.raw.end()) return false;
  const std::string provider = Lower(it->second);
  return provider.find("memory") != std::string::npos || provider.find("hdfs") != std::string::npos;
}

}  // namespace

Status StreamingQuery::PlanStateful() {
  auto& impl = *impl_;
  const auto mode = spec_.output_mode;
  if (spec_.transform_with_state) {
    std::vector<plan::LogicalPtr> inner;
    impl.CollectStages(impl.plan, &inner);
    if (!inner.empty()) {
      return Unsupported(
          "transformWithState over a streaming aggregation or stream-stream join is not "
          "supported yet");
    }
    if (mode == OutputMode::kComplete) {
      return UserError(
          "transformWithState supports the append and update output modes, not complete");
    }
    const auto& tspec = *spec_.transform_with_state;
    if (tspec.time_mode == TimeMode::kEventTime) {
      bool any = false;
      for (const auto& sl : impl.slots) any |= sl->has_watermark();
      if (!any)
        return UserError(
            "transformWithState with timeMode eventTime needs a WATERMARK on the source");
    }
    ARROW_ASSIGN_OR_RAISE(impl.tws, TransformWithState::Make(tspec, impl.plan->schema));
    impl.tws_output_schema = tspec.output_schema;
    impl.stateful = true;
    arrow::FieldVector key_fields;
    for (const auto& k : tspec.key_columns)
      key_fields.push_back(impl.plan->schema->GetFieldByName(k));
    // "keys" names the layout of transform_with_state.h, so that a checkpoint
    // written with another one is refused rather than misread.
    std::string layout = Json{{"operatorName", "transformWithStateExec"},
                              {"key", types::ToDDL(*arrow::schema(key_fields))},
                              {"keys", "kind name 0 length-prefixed grouping key"},
                              {"value", "state variables (bytes)"}}
                             .dump();
    // Partitioned by grouping key: a key's variables and timers share a store.
    ARROW_ASSIGN_OR_RAISE(
        impl.state, OperatorState::Open(impl.checkpoint->StateDir(), 0,
                                        std::max(1, spec_.config.shuffle_partitions), layout,
                                        "transformWithState (operator 0)",
                                        StateInMemory(spec_.config), &TransformWithStateRoute));
    return Status::OK();
  }
  std::vector<plan::LogicalPtr> nodes;
  impl.CollectStages(impl.plan, &nodes);
  if (nodes.empty()) {
    if (mode == OutputMode::kComplete) {
      return UserError(
          "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] complete output mode needs a streaming "
          "aggregation; this query has none");
    }
    return Status::OK();
  }
  if (nodes.size() > 1 && mode != OutputMode::kAppend) {
    return UserError(
        "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] a query with several stateful operators "
        "(here {}: aggregations over joins or over aggregations) supports only the append output "
        "mode, as in Spark",
        nodes.size());
  }
  for (const auto& n : nodes) {
    if (n->kind == plan::LogicalKind::kJoin && mode != OutputMode::kAppend) {
      return UserError(
          "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] a stream-stream join supports only the "
          "append output mode (Spark refuses {} too)",
          mode == OutputMode::kComplete ? "complete" : "update");
    }
  }
  impl.stateful = true;
  std::set<std::string> watermark_names;
  for (const auto& sl : impl.slots) {
    if (sl->has_watermark()) watermark_names.insert(Lower(sl->watermark_name));
  }
  const bool in_memory = StateInMemory(spec_.config);
  // Nodes already turned into stages, by the scan that stands for their output.
  std::map<const plan::LogicalNode*, plan::LogicalPtr> replaced;
  std::function<plan::LogicalPtr(const plan::LogicalPtr&)> replace_stages =
      [&](const plan::LogicalPtr& n) -> plan::LogicalPtr {
    auto it = replaced.find(n.get());
    if (it != replaced.end()) return it->second;
    bool changed = false;
    std::vector<plan::LogicalPtr> kids;
    for (const auto& c : n->children) {
      kids.push_back(replace_stages(c));
      changed |= kids.back() != c;
    }
    if (!changed) return n;
    auto copy = std::make_shared<plan::LogicalNode>(*n);
    copy->children = std::move(kids);
    return copy;
  };
  // Two stateful operators computing the same over the same sources (Nexmark
  // q5's two windowed counts) run once; the second's consumers read the
  // first's output, as Flink's sub-plan reuse does.
  std::map<std::string, const plan::LogicalNode*> computed;
  for (size_t k = 0; k < nodes.size(); ++k) {
    const auto& node = nodes[k];
    const std::string fingerprint = impl.Fingerprint(*node);
    if (!fingerprint.empty()) {
      auto same = computed.find(fingerprint);
      if (same != computed.end()) {
        replaced[node.get()] = replaced.at(same->second);
        continue;
      }
      computed[fingerprint] = node.get();
    }
    auto stage = std::make_unique<Impl::Stage>();
    stage->node = node.get();
    // The first stateful operator is operator 0 (as before chaining existed);
    // ids 1..#sources belong to per-source deduplication.
    stage->operator_id = k == 0 ? 0 : static_cast<int64_t>(impl.slots_created + k);
    stage->output = std::make_shared<plan::ScanSource>();
    stage->output->schema = node->schema;
    std::string layout;
    int partitions = 1;
    KeyRouter router = nullptr;
    std::string what;
    if (node->kind == plan::LogicalKind::kJoin) {
      ARROW_ASSIGN_OR_RAISE(
          auto options,
          StreamJoin::Analyze(
              *node, TraceEventTime(*node->children[0], watermark_names, impl.stream_scans),
              TraceEventTime(*node->children[1], watermark_names, impl.stream_scans)));
      ARROW_ASSIGN_OR_RAISE(stage->join, StreamJoin::Make(std::move(options)));
      stage->left_plan = replace_stages(node->children[0]);
      stage->right_plan = replace_stages(node->children[1]);
      stage->output->description = "StreamingSymmetricHashJoin (state store)";
      layout = stage->join->StateLayout();
      what = fmt::format("stream-stream join (operator {})", stage->operator_id);
      partitions = std::max(1, spec_.config.shuffle_partitions);
      router = &StreamJoin::StateRoute;
    } else {
      ARROW_ASSIGN_OR_RAISE(stage->aggregate,
                            PlanAggregate(node, watermark_names, impl.stream_scans, mode));
      auto partial = std::make_shared<plan::LogicalNode>(*node);
      partial->emit_state = true;
      for (auto& c : partial->children) c = replace_stages(c);
      stage->partial_plan = partial;
      stage->output->description = "StatefulAggregate (state store)";
      // The state's layout in DDL, so read_statestore() can decode it and a
      // changed query is refused: keys -> keys + one accumulator per aggregate.
      arrow::FieldVector key_fields, value_fields;
      for (size_t i = 0; i < node->exprs.size(); ++i)
        key_fields.push_back(node->schema->field(static_cast<int>(i)));
      value_fields = key_fields;
      for (size_t i = 0; i < node->aggregates.size(); ++i) {
        ARROW_ASSIGN_OR_RAISE(auto st, node->aggregates[i].resolved.make()->SaveState());
        value_fields.push_back(
            arrow::field(fmt::format("{}_{}", node->aggregates[i].name, i), st->type()));
      }
      layout = Json{{"operatorName", "stateStoreSave"},
                    {"key", types::ToDDL(*arrow::schema(key_fields))},
                    {"value", types::ToDDL(*arrow::schema(value_fields))}}
                   .dump();
      partitions = std::max(1, spec_.config.shuffle_partitions);
      what = fmt::format("streaming aggregation (operator {})", stage->operator_id);
    }
    ARROW_ASSIGN_OR_RAISE(stage->state,
                          OperatorState::Open(impl.checkpoint->StateDir(), stage->operator_id,
                                              partitions, layout, what, in_memory, router));
    auto scan = std::make_shared<plan::LogicalNode>();
    scan->kind = plan::LogicalKind::kScan;
    scan->schema = node->schema;
    scan->scan = stage->output;
    replaced[node.get()] = scan;
    impl.stages.push_back(std::move(stage));
  }
  impl.upper_plan = replace_stages(impl.plan);
  return Status::OK();
}

Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> StreamingQuery::ExecuteBatch(
    int64_t batch_id, int64_t timestamp_ms, std::string*) {
  auto& impl = *impl_;
  auto run = [&](const plan::LogicalPtr& p) -> Result<std::vector<exec::BatchPtr>> {
    ARROW_ASSIGN_OR_RAISE(auto physical, plan::PlanPhysical(p, impl.session->config()));
    exec::ExecContext ctx;
    ctx.eval = impl.session->MakeEvalContext();
    ctx.eval.now_micros = timestamp_ms * 1000;
    ctx.threads = spec_.config.threads;
    ctx.memory_limit = spec_.config.memory_limit;
    ctx.batch_size = 4096;
    return exec::ExecutePlan(physical, &ctx);
  };
  std::vector<exec::BatchPtr> out;
  if (impl.tws) {
    ARROW_ASSIGN_OR_RAISE(auto input, run(impl.plan));
    for (auto& sl : impl.slots) sl->ClearTasks();
    std::vector<std::shared_ptr<arrow::RecordBatch>> rows;
    for (auto& b : input)
      rows.push_back(arrow::RecordBatch::Make(impl.plan->schema, b->num_rows(), b->columns()));
    ARROW_RETURN_NOT_OK(impl.state->Load(batch_id));
    int64_t wm = impl.watermark_us->load();
    return impl.tws->Process(rows, timestamp_ms, wm == INT64_MIN ? -1 : wm / 1000, batch_id == 0,
                             impl.state.get());
  }
  if (impl.stages.empty()) {
    ARROW_ASSIGN_OR_RAISE(out, run(impl.plan));
  } else {
    const int64_t wm = impl.watermark_us->load();
    const int64_t late_wm = impl.late_watermark_us->load();
    auto eval = impl.session->MakeEvalContext();
    eval.now_micros = timestamp_ms * 1000;
    Status st;
    for (auto& stage : impl.stages) {
      std::vector<exec::BatchPtr> emitted;
      if (stage->join) {
        ARROW_ASSIGN_OR_RAISE(auto left, run(stage->left_plan));
        ARROW_ASSIGN_OR_RAISE(auto right, run(stage->right_plan));
        ARROW_RETURN_NOT_OK(stage->state->Load(batch_id));
        stage->join_metrics = {};
        ARROW_ASSIGN_OR_RAISE(emitted,
                              stage->join->Process(batch_id, left, right, wm, late_wm, eval,
                                                   stage->state.get(), &stage->join_metrics));
      } else {
        ARROW_ASSIGN_OR_RAISE(auto partials, run(stage->partial_plan));
        ARROW_RETURN_NOT_OK(stage->state->Load(batch_id));
        stage->agg_metrics = {};
        ARROW_ASSIGN_OR_RAISE(emitted,
                              stage->aggregate->Process(partials, wm, late_wm, stage->state.get(),
                                                        &stage->agg_metrics));
      }
      stage->output->batches = std::move(emitted);
      if (stage->output->batches.empty()) {
        ARROW_ASSIGN_OR_RAISE(auto empty, arrow::RecordBatch::MakeEmpty(stage->output->schema));
        stage->output->batches.push_back(empty);
      }
    }
    auto result = run(impl.upper_plan);
    for (auto& stage : impl.stages) stage->output->batches.clear();
    ARROW_ASSIGN_OR_RAISE(out, std::move(result));
  }
  for (auto& sl : impl.slots) sl->ClearTasks();
  std::vector<std::shared_ptr<arrow::RecordBatch>> rows;
  for (auto& b : out) {
    // Nodes may name fields differently (hidden columns); the plan's schema is the contract.
    rows.push_back(arrow::RecordBatch::Make(impl.plan->schema, b->num_rows(), b->columns()));
  }
  return rows;
}

QueryStatus StreamingQuery::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

ProgressJson StreamingQuery::last_progress() const {
  std::lock_guard<std::mutex> lock(mu_);
  return progress_.empty() ? ProgressJson() : progress_.back();
}

std::vector<ProgressJson> StreamingQuery::recent_progress() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {progress_.begin(), progress_.end()};
}

void StreamingQuery::Stop() {
  stop_requested_ = true;
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool StreamingQuery::AwaitTermination(std::optional<std::chrono::milliseconds> timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (timeout) return cv_.wait_for(lock, *timeout, [&] { return terminated_; });
  cv_.wait(lock, [&] { return terminated_; });
  return true;
}

Status StreamingQuery::exception() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

std::string StreamingQuery::Explain() const { return plan::ExplainLogical(*impl_->plan); }

}  // namespace lakestream::stream
