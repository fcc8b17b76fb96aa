// Writing Delta tables: create, append, overwrite, with per-file statistics,
// Hive-style partition directories, commitInfo, txn for idempotent streaming
// writes, optimistic concurrency (put-if-absent of the next commit file plus
// the protocol's conflict checks and bounded retries) and checkpoints every
// delta.checkpointInterval commits.
//
// Crash safety: data files are written atomically before the commit; the
// commit is the single put-if-absent of NNNNNNNNNNNNNNNNNNNN.json; checkpoints
// and _last_checkpoint are written atomically after it. A crash at any point
// leaves the last committed version readable (orphan data files are ignored).
#pragma once

#include <arrow/record_batch.h>
#include <arrow/table.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "connectors/delta/log.h"

namespace parquet {
class FileMetaData;
}  // namespace parquet

namespace lakestream::delta {

/// Options of one write. Field names follow Spark's DataFrameWriter options.
struct DeltaWriteOptions {
  enum class Mode { kAppend, kOverwrite, kErrorIfExists, kIgnore };
  /// "mode": append (default) | overwrite | errorifexists | ignore.
  Mode mode = Mode::kAppend;
  /// "partitionBy": only used when the write creates the table. Default none.
  std::vector<std::string> partition_columns;
  /// Table properties (metaData.configuration) set at creation, e.g.
  /// {"delta.checkpointInterval", "10"}. Default none.
  std::map<std::string, std::string> configuration;
  /// "txnAppId"/"txnVersion": idempotent writes. A write whose version is <=
  /// the table's recorded version for the app id is skipped. Default none.
  std::optional<std::string> app_id;
  std::optional<int64_t> app_version;
  /// commitInfo.operation; default "WRITE" ("CREATE TABLE AS SELECT",
  /// "STREAMING UPDATE", ... as the caller knows).
  std::string operation = "WRITE";
  /// commitInfo.operationParameters (values are JSON strings as Spark writes).
  std::map<std::string, std::string> operation_parameters;
  /// Table name / description for a new table. Default none.
  std::optional<std::string> table_name;
  std::optional<std::string> description;
  /// Rows per data file (files are also split per partition). Default 1Mi.
  int64_t max_rows_per_file = 1 << 20;
  /// Rows per Parquet row group. Default 1Mi, as delta-rs (DuckDB writes
  /// 122,880 rows, Spark 128 MB). Smaller groups let readers skip and split
  /// inside a file, but measured on the Delta benchmark's data, 128Ki-row
  /// groups made files 12% larger (a dictionary per group) and a selective
  /// scan 9% more CPU; files have at most max_rows_per_file rows anyway, so
  /// per-file stats already skip at that granularity.
  /// SQL: session setting lakestream.delta.rowGroupRows.
  int64_t row_group_rows = 1 << 20;
  /// Delta-packed encoding for mostly distinct int/bigint/date/timestamp
  /// columns (formats::ChooseColumnEncodings). Default on; turn off for
  /// readers that cannot decode it (Spark before 3.3 with its vectorized
  /// Parquet reader). SQL: lakestream.delta.deltaBinaryPacked.
  bool delta_binary_packed = true;
  /// Parquet compression: "snappy" (default, as Spark) or "zstd".
  std::string compression = "snappy";
  /// Commit attempts before giving up on concurrent writers. Default 1000.
  int max_commit_attempts = 1000;
  /// Write the checkpoint a commit calls for (delta.checkpointInterval) before
  /// returning. A caller that writes it itself, off its commit path, sets
  /// false and reads DeltaWriteResult::checkpoint_due. Default true.
  bool write_checkpoint = true;
  /// The table as the caller last saw it, normally the `snapshot` of its own
  /// previous write (a streaming sink's). The write then neither lists nor
  /// replays the log: a commit made by someone else since is found by the
  /// put-if-absent of the next commit file, which fails, and is checked for
  /// conflicts (and for this write's txn) as always. Default none: the write
  /// reads the latest snapshot first.
  std::shared_ptr<const Snapshot> base;
};

/// What a write did.
struct DeltaWriteResult {
  int64_t version = -1;  ///< committed version (-1: nothing committed)
  int attempts = 0;      ///< commit attempts (1 = no conflict)
  bool skipped = false;  ///< txn already applied or mode=ignore on an existing table
  int64_t files_added = 0;
  int64_t files_removed = 0;
  int64_t rows_written = 0;
  bool checkpoint_written = false;
  bool checkpoint_due = false;       ///< this version calls for a checkpoint (written or not)
  /// The table right after this write, when known without reading the log:
  /// an append or overwrite committed right after its base version. Else null.
  std::shared_ptr<const Snapshot> snapshot;
};

/// Writes `data` to the Delta table at `table_root`, creating it if needed.
Result<DeltaWriteResult> WriteDelta(const std::string& table_root,
                                    const std::shared_ptr<arrow::Table>& data,
                                    const DeltaWriteOptions& options,
                                    std::shared_ptr<storage::FileSystem> fs = nullptr);

/// The latest version recorded for a streaming app id (txn), if any.
Result<std::optional<int64_t>> LatestTxnVersion(const std::string& table_root,
                                                const std::string& app_id,
                                                std::shared_ptr<storage::FileSystem> fs = nullptr);

/// Writes a classic Parquet checkpoint of `snapshot` and _last_checkpoint.
Status WriteCheckpoint(const Snapshot& snapshot);

/// Per-file statistics JSON (numRecords, minValues, maxValues, nullCount) of
/// the columns of `data` (the non-partition columns, physical names).
/// `footer`, the Parquet footer of the file just written from `data`, saves
/// computing string min/max again (libparquet has compared every value).
std::string ComputeStatsJson(const arrow::Table& data,
                             const parquet::FileMetaData* footer = nullptr);

/// Serializes a partition value for partitionValues (nullopt = NULL).
std::optional<std::string> SerializePartitionValue(const arrow::Array& array, int64_t row);
/// Escapes a partition value for a Hive directory name (col=value).
std::string EscapePartitionPathValue(std::string_view value);

}  // namespace lakestream::delta
