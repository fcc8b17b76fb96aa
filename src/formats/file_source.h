// Reading CSV, JSON, text and Parquet files with Spark's reader options.
//
// This layer is a thin adapter over Arrow's readers (arrow/csv, parquet/arrow)
// and simdjson (JSON lines, so that each line can fail on its own): it maps
// Spark's options onto theirs, resolves the schema the way Spark does (user
// schema, Parquet footer, or inference), applies Spark's malformed-record
// modes, and turns every library error into a Status naming the file.
//
// A scan node uses it in two steps: `PlanTasks()` cuts the files into tasks
// (a byte range of lines of a CSV/JSON/text file, a whole file when records
// may span lines, or one Parquet row group left after pruning by statistics),
// and worker threads call `OpenTask()` on their tasks concurrently.
// `FileScanner::Next()` is the sequential convenience on top.
//
// Known gaps: a CSV/JSON task is held in memory whole (at most split_bytes
// for line-delimited files); Parquet mergeSchema reads with the first file's
// schema; only the local file system.
#pragma once

#include <arrow/record_batch.h>
#include <arrow/scalar.h>
#include <arrow/type.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace lakestream::formats {
namespace internal {
class FooterCache;
}

using BatchPtr = std::shared_ptr<arrow::RecordBatch>;
using SchemaPtr = std::shared_ptr<arrow::Schema>;

/// Spark's DataFrameReader options. Keys are matched case-insensitively by
/// FromMap; unknown keys are kept in `extra` and otherwise ignored, as Spark does.
struct FileReadOptions {
  enum class Mode { kPermissive, kDropMalformed, kFailFast };

  /// "format": "csv" | "json" | "parquet" | "text". Default "parquet" (Spark's
  /// spark.sql.sources.default).
  std::string format = "parquet";
  /// "schema": a Spark DDL schema; when set it wins over inference. Default none.
  std::string schema;

  // -- CSV --
  /// "header": the first line holds column names. Default false.
  bool header = false;
  /// "sep" / "delimiter": one character. Default ','.
  char sep = ',';
  /// "quote": one character; "" turns quoting off. Default '"'.
  char quote = '"';
  bool quoting = true;
  /// "escape": one character inside quoted values. Default '\\'.
  char escape = '\\';
  /// "inferSchema": infer column types (CSV only; JSON always infers). Default
  /// false: every CSV column is STRING.
  bool infer_schema = false;
  /// "nullValue": the text read as NULL. Default "".
  std::string null_value;
  /// "nanValue": the text read as NaN in float columns. Default "NaN".
  std::string nan_value = "NaN";
  /// "positiveInf" / "negativeInf". Defaults "Inf" / "-Inf".
  std::string positive_inf = "Inf";
  std::string negative_inf = "-Inf";
  /// "comment": lines starting with this character are skipped. Default none.
  std::optional<char> comment;
  /// "ignoreLeadingWhiteSpace" / "ignoreTrailingWhiteSpace": trim values.
  /// Defaults false (Spark's defaults for reading).
  bool ignore_leading_white_space = false;
  bool ignore_trailing_white_space = false;

  // -- text --
  /// "wholetext": one row per file instead of one per line. Default false.
  bool whole_text = false;

  // -- CSV and JSON --
  /// "mode": PERMISSIVE (default) | DROPMALFORMED | FAILFAST.
  Mode mode = Mode::kPermissive;
  /// "columnNameOfCorruptRecord": a STRING column of this name in the user
  /// schema receives the raw text of malformed records. Default "_corrupt_record".
  std::string column_name_of_corrupt_record = "_corrupt_record";
  /// "dateFormat" / "timestampFormat": Java (DateTimeFormatter) patterns.
  /// Default none: ISO-8601 forms are accepted.
  std::string date_format;
  std::string timestamp_format;
  /// "multiLine": a CSV record may span lines / a JSON file is one document
  /// (an object or an array of objects). Default false.
  bool multi_line = false;
  /// "lineSep": the line separator; default none means \n, \r\n or \r.
  std::string line_sep;
  /// "encoding" / "charset": only UTF-8 is supported. Default "UTF-8".
  std::string encoding = "UTF-8";
  /// "samplingRatio": fraction of JSON/CSV records used for inference (only
  /// 1.0 is honoured exactly: inference reads every record). Default 1.0.
  double sampling_ratio = 1.0;
  /// "primitivesAsString" (JSON): infer every primitive as STRING. Default false.
  bool primitives_as_string = false;
  /// "prefersDecimal" (JSON): infer floats as DECIMAL when they fit. Default false.
  bool prefers_decimal = false;

  // -- listing --
  /// "recursiveFileLookup": descend into sub-folders. Default false.
  bool recursive_file_lookup = false;
  /// "pathGlobFilter": keep only files whose name matches this glob. Default none.
  std::string path_glob_filter;

  // -- Parquet --
  /// "mergeSchema": not supported beyond the first file's schema; accepted.
  bool merge_schema = false;

  /// Bytes per task when cutting line-delimited CSV/JSON/text files (not a
  /// reader option; Spark's spark.sql.files.maxPartitionBytes). Default 128 MiB.
  int64_t split_bytes = int64_t{128} << 20;

  /// Rows per produced batch (not a Spark option). Default 64Ki.
  int64_t batch_size = 64 * 1024;

  /// Unknown options, ignored (Spark ignores them too).
  std::map<std::string, std::string> extra;

  /// Parses Spark's option map. Errors name the option and the accepted values.
  static Result<FileReadOptions> FromMap(const std::map<std::string, std::string>& options);
};

const char* ModeName(FileReadOptions::Mode mode);

/// A predicate pushed into the scan: `column <op> values`. A list of them is a
/// conjunction. The scan uses it only to skip whole Parquet row groups whose
/// statistics prove no row matches; rows are NOT filtered, the caller must
/// still evaluate the filter.
struct ColumnPredicate {
  enum Op { kEq, kNe, kLt, kLe, kGt, kGe, kIsNull, kIsNotNull, kIn };
  std::string column;
  Op op = kEq;
  /// One value for comparisons, the list for kIn, none for the null tests.
  std::vector<std::shared_ptr<arrow::Scalar>> values;
};

/// What the consumer wants from the files.
struct ScanRequest {
  /// Output columns, by name (case-insensitive), in this order. nullopt: all
  /// columns of the schema. Empty: no columns (batches carry only a row count).
  std::optional<std::vector<std::string>> columns;
  std::vector<ColumnPredicate> predicates;
  /// Output STRING columns (names) the consumer takes as dictionary<int32,
  /// string> arrays where a Parquet row group stores them dictionary-encoded,
  /// instead of unpacked: batches then hold a dictionary array where the
  /// output schema says STRING. Only for consumers that handle both (see
  /// plan/physical_planner.cc). Other formats ignore it.
  std::vector<std::string> dictionary_columns;
};

/// A unit of work for one worker: a file, and for Parquet the row groups to
/// read (empty `row_groups` for CSV/JSON/text means the whole file).
///
/// Large CSV/JSON/text files (line-delimited: not multiLine, default lineSep)
/// are cut into byte ranges: a task owns the lines whose first byte lies in
/// [offset, offset + length), as Hadoop's line reader does. length -1: whole file.
struct ScanTask {
  std::string path;
  std::vector<int> row_groups;
  int64_t estimated_bytes = 0;
  int64_t offset = 0;
  int64_t length = -1;
};

/// Counters for EXPLAIN ANALYZE and progress. Updated concurrently.
struct ScanMetrics {
  std::atomic<int64_t> files{0};               // files planned (PlanTasks)
  std::atomic<int64_t> tasks{0};               // tasks opened (OpenTask)
  std::atomic<int64_t> row_groups_read{0};     // Parquet row groups read
  std::atomic<int64_t> row_groups_skipped{0};  // Parquet row groups pruned by statistics
  std::atomic<int64_t> bytes_read{0};          // file bytes read (CSV/JSON: file size;
                                               // Parquet: compressed column chunks read)
  std::atomic<int64_t> rows{0};                // rows produced
  std::atomic<int64_t> malformed_rows{0};      // malformed records seen (dropped or nulled)
};

/// A pull iterator over record batches; Next() returns nullptr at the end.
/// Move-only; not thread-safe (one worker drives one iterator).
class BatchIterator {
 public:
  using NextFn = std::function<Result<BatchPtr>()>;
  BatchIterator() = default;
  explicit BatchIterator(NextFn next) : next_(std::move(next)) {}
  Result<BatchPtr> Next() { return next_ ? next_() : Result<BatchPtr>(BatchPtr()); }

 private:
  NextFn next_;
};

/// JSON documents held in a column (Kafka record values), parsed with `schema`.
struct ParsedValues {
  /// One array per field of the schema, over the kept rows.
  std::vector<std::shared_ptr<arrow::Array>> columns;
  /// Input row of each output row (DROPMALFORMED removes rows).
  std::vector<int64_t> kept;
  /// Malformed values seen (made NULL, or dropped).
  int64_t malformed = 0;
};

/// Parses every value of `values` (STRING or BINARY) as one JSON object with
/// `schema` under options.mode, as the JSON file reader does: PERMISSIVE keeps
/// malformed rows with NULL fields and the raw text in the corrupt-record
/// column (when the schema has one), DROPMALFORMED drops them, FAILFAST fails
/// naming `where(row)` (e.g. "topic events, partition 3, offset 1234").
Result<ParsedValues> ParseJsonValues(const arrow::Array& values, const SchemaPtr& schema,
                                     const FileReadOptions& options,
                                     const std::function<std::string(int64_t)>& where);

/// Lists the data files behind `path`: a file, a folder (its files, skipping
/// names starting with '_' or '.', recursively only with recursiveFileLookup),
/// or a glob (`*`, `?`, `[...]`, `{a,b}` in any path component). Sorted.
/// Errors: "path does not exist: X", "no files match X".
Result<std::vector<std::string>> ListFiles(const std::string& path, const FileReadOptions& options);
/// ListFiles over several paths, concatenated in argument order.
Result<std::vector<std::string>> ListFiles(const std::vector<std::string>& paths,
                                           const FileReadOptions& options);

/// The schema Spark would give these files: the user schema when
/// `options.schema` is set, else the Parquet footer of the first file, or
/// inference over all CSV/JSON files. Types are Spark types (see types.h).
Result<SchemaPtr> ResolveSchema(const std::vector<std::string>& files,
                                const FileReadOptions& options);

/// Reads files of one format with a resolved schema.
class FileScanner {
 public:
  /// `schema` is the full data schema (from ResolveSchema or the user); it may
  /// contain the corrupt-record column. Output batches have the columns of
  /// `request.columns` (or all of `schema`), typed as in `schema`.
  static Result<std::unique_ptr<FileScanner>> Make(std::vector<std::string> files, SchemaPtr schema,
                                                   FileReadOptions options,
                                                   ScanRequest request = {});

  /// Schema of the produced batches.
  const SchemaPtr& output_schema() const { return output_schema_; }
  const SchemaPtr& data_schema() const { return schema_; }

  /// Cuts the files into tasks; prunes Parquet row groups by statistics
  /// (counted in metrics().row_groups_skipped). Thread-safe.
  Result<std::vector<ScanTask>> PlanTasks() const;
  /// Opens one task. Thread-safe: workers may open tasks concurrently.
  Result<BatchIterator> OpenTask(const ScanTask& task) const;

  /// Sequential reading over all tasks in order; nullptr at the end.
  /// Serialized by a mutex, so it is safe but not parallel.
  Result<BatchPtr> Next();
  /// Reads everything into one table (tests, small inputs).
  Result<std::shared_ptr<arrow::Table>> ReadAll();

  const ScanMetrics& metrics() const { return *metrics_; }

 private:
  FileScanner() = default;

  std::vector<std::string> files_;
  SchemaPtr schema_;
  SchemaPtr output_schema_;
  FileReadOptions options_;
  ScanRequest request_;
  std::unique_ptr<ScanMetrics> metrics_ = std::make_unique<ScanMetrics>();
  std::shared_ptr<internal::FooterCache> footers_;

  std::mutex mutex_;  // guards the sequential state below
  bool planned_ = false;
  std::vector<ScanTask> tasks_;
  size_t next_task_ = 0;
  std::optional<BatchIterator> current_;
};

}  // namespace lakestream::formats
