// The keyed state of one stateful streaming operator: `partitions` state
// stores (spark.sql.shuffle.partitions), a key living in the store its hash
// picks, versioned with the micro-batches: version v is the state after batch
// v-1, so batch N loads version N and commits version N+1. A replayed batch
// loads its version again, whatever was committed after it.
#pragma once

#include <memory>
#include <string>

#include "exec/streaming_aggregate.h"

namespace lakestream::stream {

struct OperatorStateMetrics {
  int64_t memory_used_bytes = 0;
  int64_t commit_time_ms = 0;
  /// Summed over the partitions' stores, as of the last commit: entries
  /// held, and entries written and removed by that commit.
  int64_t num_rows_total = 0;
  int64_t num_rows_updated = 0;
  int64_t num_rows_removed = 0;
};

/// The part of a state key that picks its partition (a key is routed by its
/// whole bytes without one).
using KeyRouter = std::string_view (*)(std::string_view key);

class OperatorState : public exec::KeyValueState {
 public:
  /// `state_dir`: <checkpoint>/state; `schema`: text describing keys and
  /// values, checked against what the checkpoint holds (a changed query must
  /// not read another query's state). RocksDB stores unless `in_memory`.
  /// `partitions` applies to a new checkpoint only: a checkpoint that has
  /// partition folders of this operator keeps their number, as Spark keeps
  /// spark.sql.shuffle.partitions from the offset log, since keys are routed
  /// by it (a restart with another setting would look keys up in the wrong
  /// store).
  /// `router` (optional) routes keys by a part of them, so that the keys
  /// sharing it live in one partition and PrefixScanIn finds them there.
  static Result<std::unique_ptr<OperatorState>> Open(const std::string& state_dir,
                                                     int64_t operator_id, int partitions,
                                                     const std::string& schema,
                                                     const std::string& operator_name,
                                                     bool in_memory, KeyRouter router = nullptr);
  /// Entries whose key starts with `prefix`, in key order within each partition.
  Status PrefixScan(std::string_view prefix,
                    const std::function<Status(std::string_view, std::string_view)>& fn) override =
      0;
  /// Entries whose key starts with `prefix`, in key order, of the one
  /// partition that keys routed by `route` live in.
  virtual Status PrefixScanIn(
      std::string_view route, std::string_view prefix,
      const std::function<Status(std::string_view, std::string_view)>& fn) = 0;
  /// Loads version `version` (0: empty).
  virtual Status Load(int64_t version) = 0;
  /// Commits the changes since Load as version+1.
  virtual Status Commit() = 0;
  virtual OperatorStateMetrics metrics() const = 0;
  /// The number of shuffle partitions (one store each) keys are routed over.
  virtual int partitions() const = 0;
};

}  // namespace lakestream::stream
