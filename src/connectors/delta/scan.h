// Reading the data of a Delta snapshot as Arrow record batches in the table's
// logical schema: partition columns materialized from partitionValues, column
// mapping (name: physical names; id: Parquet field ids), deletion vectors,
// type widening and timestamp normalization (INT96, millis -> micros), data
// skipping from partition values and per-file statistics, and row-group
// skipping inside the files from their Parquet footer statistics.
#pragma once

#include <arrow/record_batch.h>
#include <arrow/table.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "connectors/delta/log.h"
#include "formats/file_source.h"

namespace lakestream::delta {

using formats::ColumnPredicate;

/// What to read. Column names are logical names, matched case-insensitively.
struct DeltaScanOptions {
  /// Output columns in this order; nullopt = all columns of the table.
  std::optional<std::vector<std::string>> columns;
  /// A conjunction; used to skip whole files (partition values and stats)
  /// and Parquet row groups (footer statistics). Rows are NOT filtered: the
  /// caller evaluates the filter.
  std::vector<ColumnPredicate> predicates;
  /// Output STRING columns (logical names) the caller takes as
  /// dictionary<int32, string> arrays where a file stores them
  /// dictionary-encoded, instead of unpacked: batches then hold a
  /// dictionary array where the output schema says STRING. Only for
  /// consumers that handle both (see plan/physical_planner.cc).
  std::vector<std::string> dictionary_columns;
};

/// Counters for EXPLAIN (files and row groups scanned / pruned).
struct DeltaScanMetrics {
  int64_t files_total = 0;
  int64_t files_pruned_by_partition = 0;
  int64_t files_pruned_by_stats = 0;
  /// Row groups of the files left after file pruning, and those of them whose
  /// footer statistics prove that no row matches. Known after Make() when the
  /// predicates touch a data column (the footers are read while planning);
  /// files read later that were not planned (ChangesSince) add to them.
  std::atomic<int64_t> row_groups_total{0};
  std::atomic<int64_t> row_groups_pruned_by_stats{0};
  /// Row groups decoded by ReadFile/OpenFile.
  std::atomic<int64_t> row_groups_read{0};
  std::atomic<int64_t> files_read{0};
  std::atomic<int64_t> rows_deleted_by_dv{0};
  std::atomic<int64_t> rows{0};
};

/// A scan of one snapshot. PlanFiles() is done in Make; ReadFile may be called
/// concurrently for different files.
class DeltaScan {
 public:
  static Result<std::unique_ptr<DeltaScan>> Make(std::shared_ptr<const Snapshot> snapshot,
                                                 DeltaScanOptions options = {});

  /// The logical schema of the output (no column-mapping metadata).
  const SchemaPtr& output_schema() const { return output_schema_; }
  /// The files left after pruning.
  const std::vector<AddFile>& files() const { return files_; }
  const DeltaScanMetrics& metrics() const { return metrics_; }

  /// Reads one data file (any add of this table, also from ChangesSince):
  /// the row groups left after pruning, in batches of at most 64Ki rows that
  /// never span row groups (at least one batch, maybe empty, so callers see
  /// the schema).
  Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> ReadFile(const AddFile& file) const;
  /// Like ReadFile, but decodes one batch per Next(): memory stays bounded by
  /// a batch instead of a file. The DeltaScan must outlive the iterator.
  /// `row_groups`, when given, restricts the read to those row groups of the
  /// file (ascending; from RowGroupSplits), so that parts of one file can be
  /// read by different workers.
  Result<formats::BatchIterator> OpenFile(const AddFile& file,
                                          const std::vector<int>* row_groups = nullptr) const;
  /// The row groups left after pruning of a kept file, in runs of about
  /// `target_rows` rows each, when its footer was read while planning (a
  /// predicate on a data column); otherwise one empty run, meaning the whole
  /// file. A scan that keeps few files gives each run to its own task, so
  /// every core decodes, filters and aggregates, not just one per file.
  std::vector<std::vector<int>> RowGroupSplits(const AddFile& file, int64_t target_rows) const;
  /// Reads all remaining files into one table.
  Result<std::shared_ptr<arrow::Table>> ReadAll() const;

 private:
  DeltaScan() = default;
  std::shared_ptr<const Snapshot> snapshot_;
  DeltaScanOptions options_;
  SchemaPtr output_schema_;
  std::vector<std::shared_ptr<arrow::Field>> output_logical_fields_;  // with metadata
  std::vector<bool> output_is_partition_;
  std::vector<bool> output_keeps_dictionary_;  // per output column: options_.dictionary_columns
  std::vector<AddFile> files_;
  /// Per data file (by path): the footer read while planning and the row
  /// groups that survive pruning. Read-only after Make.
  struct FilePlan;
  std::unordered_map<std::string, std::shared_ptr<const FilePlan>> plans_;
  mutable DeltaScanMetrics metrics_;
};

/// Parses a serialized partition value (PROTOCOL.md "Partition Value
/// Serialization") as `type`; nullopt or "" is NULL.
Result<std::shared_ptr<arrow::Scalar>> ParsePartitionValue(
    const std::optional<std::string>& value, const std::shared_ptr<arrow::DataType>& type);

/// True if the file may hold rows matching all `predicates` (false = skip).
/// `physical_names` maps logical column names to stats keys.
bool FileMayMatch(const AddFile& file, const Snapshot& snapshot,
                  const std::vector<ColumnPredicate>& predicates, bool* pruned_by_partition);

/// True if every row of `file` satisfies `predicate`, as its partition value
/// or its statistics prove (no NULLs, min and max inside the bound): a filter
/// on that predicate need not be evaluated over the file. Only exact
/// statistics prove a comparison: integer and date columns (string stats are
/// truncated, timestamp stats are milliseconds, float stats may leave out NaN).
bool FileProves(const AddFile& file, const Snapshot& snapshot, const ColumnPredicate& predicate);

}  // namespace lakestream::delta
