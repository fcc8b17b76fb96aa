// Stream-stream joins (Spark's StreamingSymmetricHashJoinExec), written here
// because no library does Spark's semantics: both inputs are buffered in the
// operator's state store; each micro-batch joins the new rows of one side with
// everything buffered on the other, so every matching pair is emitted exactly
// once, then evicts the rows no future row of the other side can match (the
// join condition's time bound against the watermark). Evicted rows of a
// preserved side that never matched are emitted padded with NULLs (outer
// joins); a left semi join emits a left row once, at its first match.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "exec/operator.h"
#include "expr/expr.h"
#include "plan/logical_plan.h"
#include "stream/event_time.h"
#include "stream/operator_state.h"

namespace lakestream::stream {

struct StreamJoinOptions {
  sql::JoinType type = sql::JoinType::kInner;
  std::shared_ptr<arrow::Schema> left_schema, right_schema;
  std::shared_ptr<arrow::Schema> output_schema;  // the join node's
  expr::ExprPtr condition;                       // over left ++ right; null: none
  std::vector<expr::ExprPtr> left_keys;          // equi-join keys over the left schema
  std::vector<expr::ExprPtr> right_keys;         // ... and the right one
  /// Per side (0 left, 1 right): a row expires, i.e. no future row of the
  /// other side can match it, once the watermark reaches the value of its
  /// TIMESTAMP column `expiry_column` plus `expiry_offset` µs (-1: the
  /// side's rows are kept forever).
  int expiry_column[2] = {-1, -1};
  int64_t expiry_offset[2] = {0, 0};
  /// Per side: the event-time column (TIMESTAMP or window struct, by its
  /// end) late rows are judged by (-1: none), and its lag (EventTimeColumn).
  int event_time[2] = {-1, -1};
  int64_t event_time_lag[2] = {0, 0};
};

struct StreamJoinMetrics {
  int64_t rows_total = 0;    // buffered rows of both sides after the batch
  int64_t rows_updated = 0;  // rows added to the state
  int64_t rows_removed = 0;  // rows evicted
  int64_t rows_dropped_by_watermark = 0;
};

class StreamJoin {
 public:
  /// Derives the options from a planned join between two streams:
  /// equi-join keys and the time bound of each side from the condition.
  /// `left_times` and `right_times` are the inputs' event-time columns.
  /// Refuses what Spark refuses: outer joins without a time bound on the
  /// side whose rows must be emitted, joins other than inner, left/right/full
  /// outer and left semi.
  static Result<StreamJoinOptions> Analyze(const plan::LogicalNode& join,
                                           const EventTimeColumns& left_times,
                                           const EventTimeColumns& right_times);

  static Result<std::unique_ptr<StreamJoin>> Make(StreamJoinOptions options);

  /// Joins one micro-batch. `watermark_us` evicts; `late_watermark_us`
  /// (the previous batch's) drops late input (INT64_MIN: none).
  Result<std::vector<exec::BatchPtr>> Process(int64_t batch_id,
                                              const std::vector<exec::BatchPtr>& left,
                                              const std::vector<exec::BatchPtr>& right,
                                              int64_t watermark_us, int64_t late_watermark_us,
                                              const expr::EvalContext& ctx, OperatorState* state,
                                              StreamJoinMetrics* metrics);

  /// The state layout, for the schema guard and read_statestore.
  std::string StateLayout() const;
  /// Routes the join's state keys over shuffle partitions: a buffered row by
  /// its join key (so both sides' rows of a key share a partition and a probe
  /// reads one store), any other entry by its whole key.
  static std::string_view StateRoute(std::string_view key);

 private:
  explicit StreamJoin(StreamJoinOptions options) : o_(std::move(options)) {}
  Status ProbeAndStore(int side, int64_t batch_id, const exec::BatchPtr& rows,
                       const expr::EvalContext& ctx, OperatorState* state,
                       std::vector<exec::BatchPtr>* out, StreamJoinMetrics* metrics);
  Status Evict(int side, int64_t watermark_us, OperatorState* state,
               std::vector<exec::BatchPtr>* out, StreamJoinMetrics* metrics);
  /// Output rows for pairs (left row li[k], right row ri[k]); a -1 index
  /// stands for a side of NULLs.
  Result<exec::BatchPtr> Pairs(const exec::BatchPtr& left, const std::vector<int64_t>& li,
                               const exec::BatchPtr& right, const std::vector<int64_t>& ri) const;

  /// Rebuilds key_counts_ from the state (after a restart or a replay).
  Status LoadKeyCounts(OperatorState* state);

  StreamJoinOptions o_;
  std::vector<std::shared_ptr<arrow::DataType>> key_types_;
  // Per side, how many buffered rows each join key has: most probes find no
  // partner, and a hash look-up is far cheaper than a state-store prefix scan.
  // By a 64-bit hash of the encoded key, not the key: a collision only costs
  // a probe that finds nothing, and a million buffered keys cost 16 bytes
  // each instead of a string apiece.
  std::unordered_map<uint64_t, int64_t> key_counts_[2];
  int64_t counted_batch_ = -2;  // the batch key_counts_ reflects (-2: none)
};

}  // namespace lakestream::stream
