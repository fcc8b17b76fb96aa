// The small built-in streaming connectors: files (a watched folder), rate,
// Delta (source and sink), memory, console. Each Register* adds its entries to
// SourceRegistry()/SinkRegistry().
#pragma once

#include "connectors/streaming.h"

namespace lakestream::connectors {

/// "files" source (format => json|csv|parquet|text, path => folder or glob).
void RegisterFilesConnector();
/// "rate" source (rowsPerSecond, numPartitions).
void RegisterRateConnector();
/// "delta" source (startingVersion, maxFilesPerTrigger, maxBytesPerTrigger)
/// and sink (path, partitionBy; idempotent through txn).
void RegisterDeltaStreaming();
/// "memory" sink (queryName => table) and "console" sink.
void RegisterMemoryAndConsoleSinks();

/// The rows a memory sink named `name` holds (a snapshot).
Result<std::pair<std::shared_ptr<arrow::Schema>, std::vector<std::shared_ptr<arrow::RecordBatch>>>>
ReadMemoryTable(const std::string& name);

}  // namespace lakestream::connectors
