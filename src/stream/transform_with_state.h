// transformWithState (Spark 4's arbitrary stateful processing), C++ API.
//
// A StatefulProcessor sees, per micro-batch, the new rows of each grouping
// key together with that key's state: value, list and map state variables
// (each optionally with a TTL) and timers in processing time or event time.
// It emits output rows through an OutputRows. State lives in the query's
// state store (operator 0), spread over spark.sql.shuffle.partitions stores
// by grouping key, every variable under its own key prefix so a processor
// can add variables without breaking an existing checkpoint. K is the
// grouping key as stored: its row-codec bytes behind a 4-byte big-endian
// length, so that every entry of a key routes to one store and a prefix
// ending in K matches that key only:
//
//   v <name> 0x00 K                 value state
//   l <name> 0x00 K <seq be64>      list state elements
//   c <name> 0x00 K                 a list's next sequence number
//   m <name> 0x00 K <mkey>          map state entries
//   t <expiry be64> K               timers (ordered by expiry), and
//   k K <expiry be64>               the same timers listed per key
//   x <expiry be64> K <state key>   TTL index: entries that may expire then
//
// Values are byte strings; the processor encodes its own (EncodeInt64 and
// friends help). A TTL stores the expiry in front of the value: an expired
// value reads as absent and is removed at the end of the batch, found
// through the TTL index rather than by scanning the state. Timers and the
// TTL index are read in expiry order up to "now", so a batch touches the
// state of the keys it sees and of the timers that fire, not all of it.
#pragma once

#include <arrow/record_batch.h>
#include <arrow/scalar.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace lakestream::stream {

class OperatorState;

enum class TimeMode { kNone, kProcessingTime, kEventTime };

struct TimerValues {
  int64_t processing_time_ms = 0;       ///< the batch's timestamp
  std::optional<int64_t> watermark_ms;  ///< event-time watermark (kEventTime)
};

struct ExpiredTimerInfo {
  int64_t expiry_ms = 0;
};

/// Rows the processor emits, in the output schema it declared.
class OutputRows {
 public:
  explicit OutputRows(std::shared_ptr<arrow::Schema> schema) : schema_(std::move(schema)) {}
  /// One row: one scalar per output field (cast when the type differs).
  Status Emit(const std::vector<std::shared_ptr<arrow::Scalar>>& row);
  const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }
  /// The rows emitted so far, as one batch; resets.
  Result<std::shared_ptr<arrow::RecordBatch>> Take();

 private:
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<std::vector<std::shared_ptr<arrow::Scalar>>> rows_;
};

class StatefulProcessorHandle;

/// State of the current grouping key (set by the runtime around each call).
class ValueState {
 public:
  Result<std::optional<std::string>> Get();
  Status Update(const std::string& value);
  Status Clear();
  bool Exists() {
    auto v = Get();
    return v.ok() && v->has_value();
  }

 private:
  friend class StatefulProcessorHandle;
  ValueState(StatefulProcessorHandle* h, std::string name, int64_t ttl_ms)
      : h_(h), name_(std::move(name)), ttl_ms_(ttl_ms) {}
  StatefulProcessorHandle* h_;
  std::string name_;
  int64_t ttl_ms_;
};

class ListState {
 public:
  Result<std::vector<std::string>> Get();
  Status Append(const std::string& value);
  Status Put(const std::vector<std::string>& values);  ///< replaces the list
  Status Clear();

 private:
  friend class StatefulProcessorHandle;
  ListState(StatefulProcessorHandle* h, std::string name, int64_t ttl_ms)
      : h_(h), name_(std::move(name)), ttl_ms_(ttl_ms) {}
  StatefulProcessorHandle* h_;
  std::string name_;
  int64_t ttl_ms_;
};

class MapState {
 public:
  Result<std::optional<std::string>> Get(const std::string& key);
  Status Put(const std::string& key, const std::string& value);
  Status Remove(const std::string& key);
  Result<std::map<std::string, std::string>> Entries();
  Status Clear();

 private:
  friend class StatefulProcessorHandle;
  MapState(StatefulProcessorHandle* h, std::string name, int64_t ttl_ms)
      : h_(h), name_(std::move(name)), ttl_ms_(ttl_ms) {}
  StatefulProcessorHandle* h_;
  std::string name_;
  int64_t ttl_ms_;
};

/// Given to StatefulProcessor::Init: declares state variables; during
/// HandleInputRows/HandleExpiredTimer also registers and lists timers of the
/// current key.
class StatefulProcessorHandle {
 public:
  /// ttl_ms 0: no TTL. The returned objects stay valid for the query's life.
  /// Names are unique among a processor's variables and hold no NUL byte
  /// (else the query fails to start).
  ValueState* GetValueState(const std::string& name, int64_t ttl_ms = 0);
  ListState* GetListState(const std::string& name, int64_t ttl_ms = 0);
  MapState* GetMapState(const std::string& name, int64_t ttl_ms = 0);

  Status RegisterTimer(int64_t expiry_ms);
  Status DeleteTimer(int64_t expiry_ms);
  Result<std::vector<int64_t>> ListTimers();
  TimeMode time_mode() const { return time_mode_; }

 private:
  friend class TransformWithState;
  friend class ValueState;
  friend class ListState;
  friend class MapState;
  std::string Prefix(char kind, const std::string& name) const;
  bool Expired(std::string_view stored) const;
  /// Stores `value` under `state_key`, with its expiry and a TTL index entry
  /// when `ttl_ms` > 0.
  Status PutValue(const std::string& state_key, const std::string& value, int64_t ttl_ms);
  Status PrefixScan(const std::string& prefix,
                    const std::function<Status(std::string_view, std::string_view)>& fn);
  void Declare(const std::string& name);

  OperatorState* store_ = nullptr;
  std::string key_;  // K: the grouping key of the current call, as stored
  Status declare_error_;
  std::vector<std::string> names_;
  int64_t now_ms_ = 0;
  TimeMode time_mode_ = TimeMode::kNone;
  std::vector<std::unique_ptr<ValueState>> values_;
  std::vector<std::unique_ptr<ListState>> lists_;
  std::vector<std::unique_ptr<MapState>> maps_;
};

class StatefulProcessor {
 public:
  virtual ~StatefulProcessor() = default;
  /// Once per query start: declare state variables through `handle`.
  virtual Status Init(StatefulProcessorHandle* handle, TimeMode mode) = 0;
  /// The new rows of one grouping key (`key` holds the key columns, one row).
  virtual Status HandleInputRows(const std::shared_ptr<arrow::RecordBatch>& key,
                                 const std::shared_ptr<arrow::RecordBatch>& rows,
                                 const TimerValues& timers, OutputRows* out) = 0;
  /// A timer of `key` fired (processing time passed / watermark passed it).
  virtual Status HandleExpiredTimer(const std::shared_ptr<arrow::RecordBatch>& key,
                                    const TimerValues& timers, const ExpiredTimerInfo& timer,
                                    OutputRows* out) {
    return Status::OK();
  }
  /// Rows of an initial state input (once, before the first batch), per key.
  virtual Status HandleInitialState(const std::shared_ptr<arrow::RecordBatch>& key,
                                    const std::shared_ptr<arrow::RecordBatch>& rows,
                                    const TimerValues& timers) {
    return Status::OK();
  }
  virtual Status Close() { return Status::OK(); }
};

/// What QuerySpec::transform_with_state asks for: groupBy(keys).transformWithState(...).
struct TransformWithStateSpec {
  std::vector<std::string> key_columns;  ///< grouping columns of the query's output
  std::function<std::unique_ptr<StatefulProcessor>()> make_processor;
  std::shared_ptr<arrow::Schema> output_schema;
  TimeMode time_mode = TimeMode::kNone;
  /// Optional initial state rows (same key columns), given to HandleInitialState
  /// once, when the query starts with no checkpointed state.
  std::vector<std::shared_ptr<arrow::RecordBatch>> initial_state;
};

/// The part of a transformWithState state key that picks its partition: K.
std::string_view TransformWithStateRoute(std::string_view state_key);

/// Helpers for processors: fixed-width values as state bytes.
std::string EncodeInt64(int64_t v);
int64_t DecodeInt64(std::string_view bytes);

/// The runtime side: runs a processor over micro-batches.
class TransformWithState {
 public:
  static Result<std::unique_ptr<TransformWithState>> Make(
      const TransformWithStateSpec& spec, const std::shared_ptr<arrow::Schema>& input_schema);
  /// One batch: input rows grouped by key, then expired timers. `state` is
  /// loaded at the batch's version; `watermark_ms` < 0 means none yet.
  Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> Process(
      const std::vector<std::shared_ptr<arrow::RecordBatch>>& input, int64_t batch_timestamp_ms,
      int64_t watermark_ms, bool first_batch, OperatorState* state);
  Status Close() { return processor_->Close(); }
  /// True if a processing-time timer is due at `now_ms` (a batch should run
  /// even without new data).
  Result<bool> HasDueTimer(OperatorState* state, int64_t now_ms) const;
  int64_t timers_fired() const { return timers_fired_; }

 private:
  TransformWithState() = default;
  /// The key columns of K, as one row.
  Result<std::shared_ptr<arrow::RecordBatch>> KeyBatch(std::string_view stored_key) const;
  Status ExpireTtl(OperatorState* state);
  Status GroupAndCall(const std::vector<std::shared_ptr<arrow::RecordBatch>>& input,
                      const TimerValues& tv, bool initial, OutputRows* out);

  TransformWithStateSpec spec_;
  std::shared_ptr<arrow::Schema> input_schema_;
  std::vector<int> key_indices_;
  std::shared_ptr<arrow::Schema> key_schema_;
  std::unique_ptr<StatefulProcessor> processor_;
  StatefulProcessorHandle handle_;
  int64_t timers_fired_ = 0;
};

}  // namespace lakestream::stream
