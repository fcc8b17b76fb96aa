// Checkpoint files (PROTOCOL.md "Checkpoints"): reading classic, multi-part and
// V2 checkpoints (Parquet or JSON, with sidecars) into actions, and writing a
// classic single-file Parquet checkpoint with the schema Spark writes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <arrow/table.h>

#include "common/status.h"
#include "connectors/delta/actions.h"
#include "storage/filesystem.h"

namespace lakestream::delta {

/// Reads a whole Parquet file into a table; every libparquet error or
/// exception becomes a Status naming `path`. With `combine`, each column is
/// one chunk; without, a chunk per row group (no copy).
Result<std::shared_ptr<arrow::Table>> ReadParquetTable(
    storage::FileSystem* fs, const std::string& path,
    const std::vector<std::string>& columns = {}, bool combine = true);

/// Reads the actions of one checkpoint file (.parquet or .json). Does not
/// follow sidecars.
Result<std::vector<Action>> ReadCheckpointFile(storage::FileSystem* fs, const std::string& path);

/// Converts the rows of a checkpoint-shaped table (one struct column per
/// action type) into actions. `where` names the file in errors.
Result<std::vector<Action>> ActionsFromTable(const arrow::Table& table, std::string_view where);

/// Serializes `actions` (protocol, metaData, txn, add, remove, domainMetadata)
/// as a classic Parquet checkpoint with Spark's checkpoint schema.
Result<std::string> WriteCheckpointParquet(const std::vector<Action>& actions);

}  // namespace lakestream::delta
