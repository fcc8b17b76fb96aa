// The state store of stateful streaming operators (DESIGN.md "Contracts",
// StateStore): a versioned key/value map per (state checkpoint dir, operator
// id, partition id, store name), with byte-string keys and values (callers
// encode rows; the store does not look inside).
//
// Versions follow Spark: version 0 is empty, and committing batch b turns
// version b into b+1. Checkpoints are incremental, as Spark's "changelog
// checkpointing": Commit() writes only this version's net changes to
// `<store dir>/<v>.changelog`, and every `min_deltas_for_snapshot` versions a
// full snapshot `<store dir>/<v>.snapshot` (a RocksDB checkpoint folder: hard
// links, made at commit; or, for the in-memory provider, a record file merged
// on a background thread from the previous snapshot and the changelogs, so no
// commit pays O(state)). Open(v) = newest snapshot <= v plus the changelogs
// after it. Every file appears atomically (temp + fsync +
// rename), so a process killed mid-commit leaves only ignorable temp files.
//
// Layout (Spark's): <state_dir>/<operator_id>/<partition_id>[/<store_name>]/
//   1.changelog 2.changelog ... 10.snapshot[/] ... _work/ (live instance)
// and <state_dir>/<operator_id>/_metadata/schema (the schema guard).
//
// Threading: one StateStore object is used by one thread at a time; stores of
// different (operator, partition) may be used concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace lakestream::state {

namespace internal {
class StateBackend;
}

/// Which implementation keeps the live state (spark.sql.streaming.stateStore.providerClass).
enum class StateStoreProvider {
  kRocksDB,  ///< default: spills to disk, memory bounded by the options below
  kMemory,   ///< a sorted map; for small state and tests
};

/// Configuration of one state store. Plain data; fixed for the store's life.
struct StateStoreOptions {
  /// Root of the query's state checkpoint (Spark: `<checkpointLocation>/state`). Required.
  std::string state_dir;
  /// The stateful operator's id in the plan (Spark's operatorId).
  int64_t operator_id = 0;
  /// The shuffle partition (0 .. spark.sql.shuffle.partitions-1).
  int32_t partition_id = 0;
  /// Several stores of one operator and partition (e.g. a join's two sides)
  /// use different names; "default" keeps Spark's path without a name.
  std::string store_name = "default";
  /// Default kRocksDB.
  StateStoreProvider provider = StateStoreProvider::kRocksDB;
  /// spark.sql.streaming.minBatchesToRetain, default 100: the number of most
  /// recent versions that stay loadable; older files are deleted.
  int64_t min_batches_to_retain = 100;
  /// spark.sql.streaming.stateStore.minDeltasForSnapshot, default 10: a
  /// snapshot is written once this many changelogs follow the last one.
  /// <= 0: never (every load replays from version 0).
  int64_t min_deltas_for_snapshot = 10;
  /// spark.sql.streaming.stateStore.rocksdb.maxMemoryUsageMB (bytes here),
  /// default 256 MiB: the bound on RocksDB's block cache plus the memtables of
  /// ALL RocksDB stores in this process (they share one cache, and memtables
  /// are charged to it). Sized by the first store opened; a later store asking
  /// more grows it (never shrinks). State beyond it lives on disk.
  int64_t rocksdb_memory_bytes = 256ll << 20;
  /// spark.sql.streaming.stateStore.rocksdb.writeBufferSizeMB (bytes here),
  /// default 4 MiB: one store's memtable size (two at most per store). Small,
  /// because a query has one store per operator x shuffle partition.
  int64_t rocksdb_write_buffer_bytes = 4ll << 20;
  /// The key/value schema as text (e.g. Arrow Schema::ToString of key and
  /// value). Checked against `<state_dir>/<operator_id>/_metadata/schema`,
  /// which the first store writes; a mismatch is an error naming both.
  /// Empty: no check.
  std::string schema;
  /// How errors name the operator, e.g. "aggregate at line 3" (the id and dir
  /// are always named). Optional.
  std::string operator_name;
  /// Local folder for the live (working) RocksDB instance. Empty (default):
  /// `<store dir>/_work/<pid>-<n>`, on the checkpoint's disk so snapshots are
  /// hard links. Its content is disposable: durability comes from changelogs.
  std::string working_dir;
};

/// `<state_dir>/<operator_id>/<partition_id>[/<store_name>]`.
std::string StoreDir(const StateStoreOptions& options);

/// Spark's StateStoreMetrics names. Row counts describe the last Commit().
struct StateStoreMetrics {
  int64_t num_rows_total = 0;     ///< numRowsTotal: keys in the store (committed)
  int64_t num_rows_updated = 0;   ///< numRowsUpdated: distinct keys put by the last commit
  int64_t num_rows_removed = 0;   ///< numRowsRemoved: existing keys deleted by the last commit
  int64_t memory_used_bytes = 0;  ///< memoryUsedBytes: now (memtables, index, pending changes)
  int64_t commit_time_ms = 0;     ///< commitTimeMs: duration of the last Commit()
};

/// What a writer knows about a key's presence in the committed state (the
/// state as of the last commit, before this batch's changes). A store counts
/// its rows (numRowsTotal) from it instead of looking each written key up:
/// kPresent when this batch read the key from the state (a Get or a scan
/// returned it), kAbsent when the key cannot exist yet (it carries this
/// batch's id). A wrong hint miscounts rows; it never loses data.
enum class KeyHint { kUnknown, kPresent, kAbsent };

/// Receives one entry of a scan; a non-OK status stops the scan and is returned.
using StateVisitor = std::function<Status(std::string_view key, std::string_view value)>;

/// A loaded state store at version(), collecting changes for version()+1.
class StateStore {
 public:
  /// Loads the state as of `version` (0 = empty; b+1 = after batch b). Reuses
  /// the live instance this process left at exactly `version` (no reload
  /// between consecutive batches); otherwise loads the newest snapshot <=
  /// `version` and replays the changelogs after it. Errors name the store dir
  /// and the missing or corrupt file, or both schemas on a schema mismatch.
  static Result<std::unique_ptr<StateStore>> Open(const StateStoreOptions& options,
                                                  int64_t version);

  /// Drops uncommitted changes and keeps the live instance (at version()) for
  /// a later Open of the same store and version in this process.
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  /// The committed version the store is at (its reads see it plus the changes
  /// made since).
  int64_t version() const { return version_; }
  const StateStoreOptions& options() const { return options_; }
  const std::string& dir() const { return dir_; }

  /// The value of `key`, including uncommitted changes.
  Result<std::optional<std::string>> Get(std::string_view key);
  Status Put(std::string_view key, std::string_view value, KeyHint hint = KeyHint::kUnknown);
  /// Deleting a missing key is OK.
  Status Delete(std::string_view key, KeyHint hint = KeyHint::kUnknown);
  /// Calls `fn` for every key starting with `prefix`, in byte order, including
  /// uncommitted changes. `fn` must not modify the store.
  Status PrefixScan(std::string_view prefix, const StateVisitor& fn);
  /// Every entry, in key byte order.
  Status Scan(const StateVisitor& fn) { return PrefixScan("", fn); }

  /// Makes the changes since the last commit durable as version()+1 and
  /// returns it. Costs O(changes), with no lookups in the committed state:
  /// writes `<v>.changelog` (fsync) and applies the changes. Every
  /// min_deltas_for_snapshot versions also a snapshot: for RocksDB a flush of
  /// the memtables plus hard links (O(memtable + files)); for the in-memory
  /// provider a background job is started (after waiting for the previous
  /// one, should it still run). The store stays usable for the next version.
  /// On error the store must be discarded.
  Result<int64_t> Commit();
  /// Drops the changes since the last commit.
  void Abort();

  StateStoreMetrics metrics() const;

 private:
  StateStore(StateStoreOptions options, std::string dir,
             std::unique_ptr<internal::StateBackend> backend, int64_t version,
             int64_t last_snapshot_version);
  Status MaybeSnapshotAndCleanup();
  Status RemoveAbandonedVersions(int64_t next);

  StateStoreOptions options_;
  std::string dir_;
  std::unique_ptr<internal::StateBackend> backend_;
  int64_t version_;
  int64_t last_snapshot_version_;
  StateStoreMetrics metrics_;
  bool broken_ = false;  // a commit failed half-way: the live state is not trustworthy
  // The newest version with files on disk when loaded: files above the
  // version being committed belong to an abandoned run and are removed.
  int64_t newest_on_disk_ = 0;
};

/// Drops the live instances this process keeps for fast reopening, for stores
/// whose dir starts with `dir_prefix` (all if empty); call when a query stops.
/// Waits for their background snapshots first.
void ReleaseCachedStateStores(std::string_view dir_prefix = "");

/// Waits until the background snapshots of stores whose dir starts with
/// `dir_prefix` (all if empty) are published and their old files cleaned up.
/// The in-memory provider's snapshots are built off the commit path from the
/// checkpoint files; Open of a store waits for its own.
void WaitForStateStoreSnapshots(std::string_view dir_prefix = "");

/// One key/value pair of a state store.
struct StateRow {
  std::string key;
  std::string value;
};

/// All key/value pairs of the store in `store_dir` at `version`, in key byte
/// order, read from its checkpoint files only (never the live instance); for
/// "state as a table" (read_statestore). Works for either provider's files.
Result<std::vector<StateRow>> ReadStateRows(std::string_view store_dir, int64_t version);

/// The versions of `store_dir` that can be loaded (every version from the
/// oldest snapshot, or 1 if none, up to the newest changelog), ascending.
Result<std::vector<int64_t>> ListStateVersions(std::string_view store_dir);

/// The schema text recorded for an operator (`<state_dir>/<operator_id>/_metadata/schema`);
/// std::nullopt if none was recorded.
Result<std::optional<std::string>> ReadStateSchema(std::string_view state_dir, int64_t operator_id);

/// The capacity in bytes of the block cache shared by this process's RocksDB
/// state stores (memtables are charged to it too); 0 before the first opens.
int64_t RocksDBSharedCacheCapacity();
/// The part of that capacity memtables may use (half of it).
int64_t RocksDBSharedWriteBufferBytes();

}  // namespace lakestream::state
