// The contracts every streaming connector implements (DESIGN.md, "Contracts"),
// and the registries through which the stream layer finds connectors by name
// without knowing their internals.
//
// Offsets are JSON values (nlohmann::json) so the checkpoint's offsets log is
// human readable: Kafka writes {"topic": {"0": 42, "1": 7}} as Spark does,
// files write {"logOffset": 3}, rate writes {"value": 1200}.
//
// Micro-batch N reads the half-open range (start, end] where start is batch
// N-1's end offset. A replay of the same range returns the same rows: this is
// what makes recovery exactly-once.
#pragma once

#include <arrow/record_batch.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "exec/basic_operators.h"
#include "formats/file_source.h"

namespace lakestream::connectors {

using Json = nlohmann::json;
using Options = std::map<std::string, std::string>;  // option name as given -> value

/// Looks up an option case-insensitively (Spark's options are case-insensitive).
std::optional<std::string> GetOption(const Options& options, std::string_view name);
/// An integer option, or `fallback` when absent; an error naming the option
/// when it is not an integer.
Result<int64_t> GetIntOption(const Options& options, std::string_view name, int64_t fallback);
/// A boolean option ("true"/"false", any case), or `fallback` when absent.
Result<bool> GetBoolOption(const Options& options, std::string_view name, bool fallback);

/// What a source needs to know about the query reading it.
struct SourceContext {
  /// The checkpoint sub-folder owned by this source (`<checkpoint>/sources/<i>`),
  /// e.g. for the files source's own log of seen files. Empty for batch reads.
  std::string metadata_dir;
  /// True under trigger availableNow: the source fixes its end at start
  /// (PrepareForAvailableNow) and must not go past it.
  bool available_now = false;
};

/// Per-source progress figures (Spark's SourceProgress.metrics).
using SourceMetrics = std::map<std::string, std::string>;

/// A source's `value` column parsed as JSON (the valueSchema option): the
/// rows become the parsed fields followed by the source's own columns at
/// `passthrough` (indices into its schema()), laid out as `schema`.
struct ValueParsing {
  std::shared_ptr<arrow::Schema> value_schema;  // with the corrupt-record column, if any
  formats::FileReadOptions options;             // mode, corrupt-record column, formats
  std::vector<int> passthrough;
  std::shared_ptr<arrow::Schema> schema;
  /// Malformed values, added to by every reading task.
  std::shared_ptr<std::atomic<int64_t>> malformed;
};

class Source {
 public:
  virtual ~Source() = default;

  /// For progress and EXPLAIN, e.g. "KafkaV2[Subscribe[events]]".
  virtual std::string Description() const = 0;
  /// The rows this source produces (fixed for the life of a query).
  virtual std::shared_ptr<arrow::Schema> schema() const = 0;

  /// The offset the first batch starts after (e.g. startingOffsets resolved).
  virtual Result<Json> InitialOffset() = 0;
  /// The end of the next batch after `start`, honouring the source's rate
  /// limits (maxOffsetsPerTrigger, maxFilesPerTrigger, ...). Returning `start`
  /// (or an equal value) means no new data.
  virtual Result<Json> LatestOffset(const Json& start) = 0;
  /// Under availableNow: remember what is available now; LatestOffset never
  /// goes beyond it afterwards.
  virtual Status PrepareForAvailableNow() { return Status::OK(); }
  /// The rows in (start, end] as scan tasks (one per partition / file), each
  /// readable on any worker thread. Deterministic for a given range.
  virtual Result<std::vector<exec::ScanTask>> PlanBatch(const Json& start, const Json& end) = 0;
  /// Everything up to `end` is durably processed (commit log written); the
  /// source may release it (e.g. forget seen files, commit consumer offsets
  /// for monitoring only).
  virtual Status Commit(const Json& end) { return Status::OK(); }
  /// Rows dropped or made NULL by the source's parse mode since the last call
  /// and other per-batch figures for the progress record.
  virtual SourceMetrics TakeMetrics() { return {}; }
  /// Releases connections; called once when the query stops.
  virtual void Stop() {}
  /// Asks the source to parse its `value` column itself while reading, so the
  /// values need not be copied into a column first (Kafka hands them over
  /// from the client's buffers). Called before the first PlanBatch; returns
  /// false when the source does not (the caller then parses the column).
  virtual bool ParseValuesWhileReading(const ValueParsing& parsing) { return false; }
};

enum class OutputMode { kAppend, kUpdate, kComplete };
Result<OutputMode> ParseOutputMode(std::string_view text);
const char* OutputModeName(OutputMode mode);

struct SinkContext {
  /// The query's id (stable across restarts): Delta's txn appId, the base of
  /// a Kafka transactional.id.
  std::string query_id;
  OutputMode output_mode = OutputMode::kAppend;
  std::string checkpoint_dir;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual std::string Description() const = 0;
  /// Called once when the query starts, with the schema of the rows to come
  /// (e.g. the Delta sink creates its table now, so downstream queries can
  /// read it before the first batch arrives).
  virtual Status Prepare(const std::shared_ptr<arrow::Schema>& schema) { return Status::OK(); }
  /// Writes batch `batch_id`. Idempotent per batch id: after a crash the same
  /// batch id may come again with the same rows, and must not be written twice.
  /// Under complete mode the rows are the whole result table.
  virtual Status AddBatch(int64_t batch_id, const std::shared_ptr<arrow::Schema>& schema,
                          const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) = 0;
  /// Figures for the progress record's sink section (numOutputRows is counted
  /// by the runtime).
  virtual SourceMetrics TakeMetrics() { return {}; }
  virtual void Stop() {}
};

using SourceFactory = std::function<Result<std::unique_ptr<Source>>(const Options& options,
                                                                    const SourceContext& context)>;
using SinkFactory = std::function<Result<std::unique_ptr<Sink>>(const Options& options,
                                                                const SinkContext& context)>;

/// Connectors by lower-case format name ("kafka", "files", "rate", "delta",
/// "memory", "console"). Filled by RegisterBuiltinConnectors().
std::map<std::string, SourceFactory>& SourceRegistry();
std::map<std::string, SinkFactory>& SinkRegistry();

Result<std::unique_ptr<Source>> MakeSource(const std::string& format, const Options& options,
                                           const SourceContext& context);
Result<std::unique_ptr<Sink>> MakeSink(const std::string& format, const Options& options,
                                       const SinkContext& context);

}  // namespace lakestream::connectors
