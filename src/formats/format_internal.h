// Private interface between file_source.cc and the per-format readers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "formats/file_source.h"

namespace lakestream::formats::internal {

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
};

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
                                              const SchemaPtr& data_schema, ScanMetrics* metrics);
Result<BatchIterator> OpenParquetTask(const ReadContext& ctx, const std::vector<int>& row_groups);

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
