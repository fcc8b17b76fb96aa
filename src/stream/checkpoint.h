// The checkpoint folder of a streaming query, laid out as Spark's so people
// who know Spark can read it:
//
//   metadata          {"id": "<query id>"}                  (written once)
//   offsets/N         v1 \n {batchWatermarkMs, batchTimestampMs, conf} \n one JSON offset per
//   source commits/N         v1 \n {"nextBatchWatermarkMs": ...} sources/<i>/      owned by source
//   i (initial offset, files log, ...) state/            owned by stateful operators progress.jsonl
//   one StreamingQueryProgress JSON per batch
//
// Every file appears atomically (put-if-absent for the logs, so two runs of
// the same query cannot both write batch N: the loser stops with an error).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/filesystem.h"

namespace lakestream::stream {

using Json = nlohmann::json;

/// One entry of the offsets log.
struct OffsetEntry {
  int64_t batch_id = 0;
  int64_t batch_watermark_ms = 0;
  int64_t batch_timestamp_ms = 0;
  Json conf = Json::object();
  std::vector<Json> offsets;  // per source, in source order
};

class Checkpoint {
 public:
  /// Opens (creating if needed) the checkpoint at `dir`; reads or writes
  /// `metadata`. A corrupt metadata file is an error naming it.
  static Result<Checkpoint> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const std::string& query_id() const { return query_id_; }
  std::string SourceDir(int index) const;
  std::string StateDir() const;

  /// The highest batch id in offsets/ (nullopt: none).
  Result<std::optional<int64_t>> LatestOffsetBatch() const;
  /// The highest batch id in commits/ (nullopt: none).
  Result<std::optional<int64_t>> LatestCommitBatch() const;
  Result<OffsetEntry> ReadOffsets(int64_t batch_id) const;
  /// Reads commits/N: nextBatchWatermarkMs.
  Result<int64_t> ReadCommit(int64_t batch_id) const;
  Status WriteOffsets(const OffsetEntry& entry) const;
  Status WriteCommit(int64_t batch_id, int64_t next_watermark_ms) const;
  /// Appends one line to progress.jsonl (not atomic with anything; progress is
  /// informational).
  Status AppendProgress(const std::string& json_line) const;
  /// Deletes offsets/ and commits/ entries older than `keep_from` (Spark's
  /// minBatchesToRetain).
  Status Purge(int64_t keep_from) const;

 private:
  Result<std::optional<int64_t>> LatestIn(const std::string& sub) const;

  std::string dir_;
  std::string query_id_;
  std::shared_ptr<storage::FileSystem> fs_;
};

/// A random RFC 4122 version 4 UUID (query and run ids).
std::string NewUuid();

}  // namespace lakestream::stream
