// Pipelines in SQL: a file of statements where each
//
//   CREATE STREAMING TABLE delta.`/path` [PARTITIONED BY (c, ...)]
//     [TBLPROPERTIES ('delta.checkpointInterval' = '10', 'trigger' = 'processingTime=1s', ...)]
//     AS SELECT ... FROM STREAM read_kafka(...) | STREAM read_files(...) | STREAM delta.`/p` ...
//
// becomes a streaming query, and every other statement (SET, CREATE VIEW,
// batch CREATE TABLE AS, ...) runs once, in order, before the queries start.
// Streaming into Kafka, memory or the console uses the same form with the
// sink as the target:
//
//   CREATE STREAMING TABLE kafka.`topic` OPTIONS ('kafka.bootstrap.servers' = 'host:port',
//       'kafka.transactional.id' = 'tx-1') AS SELECT key, value FROM STREAM ...
//   CREATE STREAMING TABLE memory.`name` AS SELECT ...
//   CREATE STREAMING TABLE console.`out` AS SELECT ...
//
// Queries are ordered so a table is created before a query reading it as a
// stream starts (bronze -> silver -> gold); each query has its own checkpoint
// sub-folder `<checkpoint>/<table name>-<hash of the target>`.
#pragma once

#include <string>
#include <vector>

#include "stream/query.h"

namespace lakestream::stream {

struct PipelineOptions {
  std::string checkpoint_dir;  ///< required
  Trigger trigger;             ///< for every query unless its TBLPROPERTIES say 'trigger'
  SessionConfig config;        ///< --conf settings; SET in the file adds to them
};

/// Parses a pipeline, runs its non-streaming statements, and returns the
/// queries to start, in dependency order. Errors name the statement.
Result<std::vector<QuerySpec>> PlanPipeline(const std::string& sql, const PipelineOptions& options);

}  // namespace lakestream::stream
