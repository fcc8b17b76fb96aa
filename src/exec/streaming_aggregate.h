// The stateful step of a streaming aggregation (Spark's StateStoreRestore +
// StateStoreSave): merges one micro-batch's partial aggregates (keys +
// accumulators from HashAggregateNode with emit_state) into the keyed state,
// and returns what the output mode emits for this batch:
//   update   - the groups this batch changed, with their new results;
//   complete - every group;
//   append   - the groups the watermark has closed (window end <= watermark),
//              once, after which their state is dropped.
// In update and complete modes groups behind the watermark are evicted too,
// so state stays bounded whenever a watermark is declared.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "exec/operator.h"
#include "expr/function.h"
#include "state/state_store.h"

namespace lakestream::exec {

using state::KeyHint;

/// The keyed state a streaming operator keeps between batches (the state
/// layer's StateStore implements it; tests use a map).
class KeyValueState {
 public:
  virtual ~KeyValueState() = default;
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual Status Put(std::string_view key, std::string_view value, KeyHint hint) = 0;
  virtual Status Delete(std::string_view key, KeyHint hint) = 0;
  Status Put(std::string_view key, std::string_view value) {
    return Put(key, value, KeyHint::kUnknown);
  }
  Status Delete(std::string_view key) { return Delete(key, KeyHint::kUnknown); }
  /// Every entry; `fn` must not modify the state.
  virtual Status Scan(
      const std::function<Status(std::string_view key, std::string_view value)>& fn) = 0;
  /// The entries whose key starts with `prefix` (default: a filtered Scan).
  virtual Status PrefixScan(
      std::string_view prefix,
      const std::function<Status(std::string_view key, std::string_view value)>& fn) {
    return Scan([&](std::string_view k, std::string_view v) {
      return k.substr(0, prefix.size()) == prefix ? fn(k, v) : Status::OK();
    });
  }
};

enum class StreamOutputMode { kAppend, kUpdate, kComplete };

/// A count kept in the state under `key` (an int64; 0 when absent), so that
/// no batch has to count entries by scanning them.
Result<int64_t> ReadStoredCount(KeyValueState* state, std::string_view key);
Status WriteStoredCount(KeyValueState* state, std::string_view key, int64_t n);
/// The key of the group/entry count of an aggregation or deduplication state.
inline constexpr std::string_view kStateCountKey("\0n", 2);

/// True for the entries StreamingAggregate keeps next to its groups (an
/// event-time index and a group count); readers of its state skip them.
bool IsStreamingAggregateMetaKey(std::string_view key);
/// "\0t" + `time` (ordered bytes) + `key`: an index entry that lists state
/// keys in the event-time order they expire (a scan of the prefix "\0t" in a
/// store meets the earliest first).
std::string EventTimeIndexKey(int64_t time, std::string_view key);
/// The time of an EventTimeIndexKey.
int64_t EventTimeIndexTime(std::string_view index_key);

struct StreamingAggregateOptions {
  /// Output: keys then one result per aggregate (the logical aggregate's schema).
  std::shared_ptr<arrow::Schema> output_schema;
  int num_keys = 0;
  std::vector<expr::ResolvedAggregate> aggregates;
  StreamOutputMode mode = StreamOutputMode::kUpdate;
  /// The key holding event time: a window struct<start, end> (closes at end)
  /// or a timestamp; -1 if none (then nothing is ever evicted).
  int event_time_key = -1;
  /// How long after the event time key's value (a struct's end) the group's
  /// input is complete: 0 for a source's event time; the window width for
  /// the start of a window an upstream aggregation emits.
  int64_t event_time_lag_us = 0;
  /// The key that is a session_window(): each input row brings a session of
  /// its own, merged with the overlapping sessions of the same other keys
  /// (state keys are then the other keys' encoding + the session, so the
  /// sessions of a key are one prefix scan); -1 if none.
  int session_key = -1;
};

struct StreamingAggregateMetrics {
  int64_t rows_total = 0;                 // numRowsTotal after the batch
  int64_t rows_updated = 0;               // numRowsUpdated
  int64_t rows_removed = 0;               // numRowsRemoved (evicted or emitted in append)
  int64_t rows_dropped_by_watermark = 0;  // partial groups for already closed groups
  int64_t count_delta = 0;                // groups added minus merged away (internal)
};

class StreamingAggregate {
 public:
  static Result<std::unique_ptr<StreamingAggregate>> Make(StreamingAggregateOptions options);

  /// `partials`: keys + one accumulator column per aggregate. `watermark_us`:
  /// the batch's event-time watermark in microseconds (INT64_MIN: none),
  /// which closes and evicts groups; `late_watermark_us`: the one late input
  /// is judged by, the previous batch's (Spark's eventTimeWatermarkForLateEvents).
  Result<std::vector<BatchPtr>> Process(const std::vector<BatchPtr>& partials, int64_t watermark_us,
                                        int64_t late_watermark_us, KeyValueState* state,
                                        StreamingAggregateMetrics* metrics);

 private:
  explicit StreamingAggregate(StreamingAggregateOptions options) : options_(std::move(options)) {}
  /// Decodes state values (keys + accumulators) into key arrays and one
  /// accumulator array per aggregate.
  Status Decode(const std::vector<std::string>& values, arrow::ArrayVector* keys,
                arrow::ArrayVector* states);
  /// Finalizes accumulators (one array per aggregate) into output batches.
  Result<BatchPtr> Finalize(const arrow::ArrayVector& keys, const arrow::ArrayVector& states,
                            int64_t rows);
  /// Event time (µs) that closes the group whose key row is `row`.
  std::optional<int64_t> ClosesAt(const arrow::ArrayVector& keys, int64_t row) const;
  /// Merges one batch's single-row sessions into the stored sessions of
  /// their keys; returns the changed sessions (for update mode).
  Result<std::vector<BatchPtr>> MergeSessions(const BatchPtr& partial, KeyValueState* state,
                                              StreamingAggregateMetrics* metrics);

  StreamingAggregateOptions options_;
  std::vector<std::shared_ptr<arrow::DataType>> key_types_;
  std::vector<std::shared_ptr<arrow::DataType>> state_types_;
};

}  // namespace lakestream::exec
