// Private interface between file_source.cc and the per-format readers. The
// Parquet statistics test (ParquetChunkCanSkip) is also used by the Delta scan
// (connectors/delta/scan.cc), so both prune row groups by the same rules.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "formats/file_source.h"

namespace parquet {
class ColumnChunkMetaData;
class FileMetaData;
class RowGroupMetaData;
}

namespace lakestream::formats::internal {

/// Parquet footers parsed while planning, reused when tasks open the file
/// (a file is cut into one task per row group; parsing a wide footer once
/// per task would cost more than reading a small row group). Thread-safe.
class FooterCache {
 public:
  std::shared_ptr<parquet::FileMetaData> Get(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = footers_.find(path);
    return it == footers_.end() ? nullptr : it->second;
  }
  void Put(const std::string& path, std::shared_ptr<parquet::FileMetaData> footer) {
    std::lock_guard<std::mutex> lock(mutex_);
    footers_[path] = std::move(footer);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<parquet::FileMetaData>> footers_;
};

/// Everything a per-format reader needs to read one file (or task).
struct ReadContext {
  std::string path;
  /// Full data schema, possibly including the corrupt-record column.
  SchemaPtr data_schema;
  /// Fields of data_schema to produce, in output order.
  std::vector<int> output_fields;
  SchemaPtr output_schema;
  /// Index of the corrupt-record column in data_schema, or -1.
  int corrupt_index = -1;
  const FileReadOptions* options = nullptr;
  ScanMetrics* metrics = nullptr;
  FooterCache* footers = nullptr;  // Parquet only; may be null
  /// Byte range of a line-delimited file (see ScanTask); length -1: whole file.
  int64_t offset = 0;
  int64_t length = -1;
  /// Per output column: hand a dictionary-encoded STRING column over as its
  /// dictionary array (Parquet; ScanRequest::dictionary_columns).
  std::vector<bool> keep_dictionary;
};

/// The bytes of a task's lines and where they start in the file.
struct LineRange {
  std::shared_ptr<arrow::Buffer> data;
  int64_t begin = 0;  // file offset of data[0]
  std::string path;
  /// 1-based file line number of the first line of `data`. Counting the
  /// newlines before `begin` reads the prefix, so it is done only when an
  /// error message needs it.
  Result<int64_t> FirstLineNumber() const;
};

/// Reads the lines owned by [offset, offset + length) (whole file if length < 0).
Result<LineRange> ReadLineRange(const std::string& path, int64_t offset, int64_t length);

Result<SchemaPtr> InferCsvSchema(const std::vector<std::string>& files,
                                 const FileReadOptions& options);
Result<BatchIterator> OpenCsvFile(const ReadContext& ctx);
Result<BatchIterator> OpenTextFile(const ReadContext& ctx);

Result<SchemaPtr> InferJsonSchema(const std::vector<std::string>& files,
                                  const FileReadOptions& options);
Result<BatchIterator> OpenJsonFile(const ReadContext& ctx);

/// Spark schema from a Parquet footer.
Result<SchemaPtr> ReadParquetSchema(const std::string& path);
/// Tasks for one Parquet file: row groups that survive pruning.
Result<std::vector<ScanTask>> PlanParquetFile(const std::string& path,
                                              const std::vector<ColumnPredicate>& predicates,
                                              const SchemaPtr& data_schema, ScanMetrics* metrics,
                                              FooterCache* footers);
Result<BatchIterator> OpenParquetTask(const ReadContext& ctx, const std::vector<int>& row_groups);

/// True when the column-chunk statistics prove that no row of the chunk
/// (`num_rows` rows) satisfies `pred`. Anything uncertain (no or untrusted
/// statistics, values that do not convert exactly to the statistics' type,
/// NaN) keeps the chunk. The caller must make sure that the chunk's values are
/// read as-is (no lossy conversion between the file type and the column type).
bool ParquetChunkCanSkip(const ColumnPredicate& pred, const parquet::ColumnChunkMetaData& chunk,
                         int64_t num_rows);

/// A pushed-down predicate bound to a leaf column of one Parquet file.
struct BoundParquetPredicate {
  const ColumnPredicate* predicate = nullptr;
  int leaf = -1;  // column index in the file's SchemaDescriptor
};

/// True when the statistics of `row_group` prove that no row satisfies the
/// conjunction `predicates` (some predicate can skip its chunk).
bool ParquetRowGroupCanSkip(const parquet::RowGroupMetaData& row_group,
                            const std::vector<BoundParquetPredicate>& predicates);

/// Reads a whole local file into memory; errors name the path.
Result<std::shared_ptr<arrow::Buffer>> ReadWholeFile(const std::string& path);

/// Case-insensitive ASCII comparison (Spark resolves column names so by default).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

/// Splits a batch-sized slice stream out of a table: yields batches of at most
/// `batch_size` rows.
BatchIterator IterateTable(std::shared_ptr<arrow::Table> table, int64_t batch_size,
                           ScanMetrics* metrics);

/// Converts a Java DateTimeFormatter pattern (yyyy-MM-dd HH:mm:ss) to strptime's
/// (%Y-%m-%d %H:%M:%S). Errors on letters it does not know.
Result<std::string> JavaPatternToStrptime(const std::string& pattern);

/// Casts string `values` to `type` the way Spark's CSV/JSON readers convert
/// text. Elements that cannot be converted become null and their indices are
/// appended to `bad_rows` (sorted). Fast path: one vectorized cast.
Result<std::shared_ptr<arrow::Array>> ConvertStrings(const std::shared_ptr<arrow::Array>& values,
                                                     const std::shared_ptr<arrow::DataType>& type,
                                                     const FileReadOptions& options,
                                                     std::vector<int64_t>* bad_rows);

}  // namespace lakestream::formats::internal
