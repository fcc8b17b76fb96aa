// Private to the state layer: the checkpoint file format shared by both
// providers, the store-dir layout, and the interface a provider (RocksDB,
// in-memory) implements under StateStore's versioning.
//
// Record file (used for `<v>.changelog` and the in-memory provider's
// `<v>.snapshot`), little-endian:
//   header  magic "LSSTATE1" | kind u8 (1 changelog, 2 snapshot) | version i64
//           | rows_total i64 (keys in the store at `version`) | records u64
//   records type u8 (1 put, 2 delete) | key_len u32 | key | [value_len u32 | value]
//   trailer crc32 u32 over everything before it
// A file that is short, has a bad magic or a bad checksum is reported as
// corrupt, naming it.
#pragma once

#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/state_store.h"

namespace lakestream::state::internal {

enum class RecordFileKind : uint8_t { kChangelog = 1, kSnapshot = 2 };

/// One put (value set) or delete (value empty optional) of a record file.
struct Record {
  std::string_view key;
  std::optional<std::string_view> value;
};

/// Builds a record file in memory.
class RecordFileWriter {
 public:
  RecordFileWriter(RecordFileKind kind, int64_t version);
  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);
  int64_t records() const { return records_; }
  /// Patches the header and appends the checksum; the writer is done after.
  std::string Finish(int64_t rows_total);

 private:
  std::string buf_;
  int64_t records_ = 0;
};

/// A decoded record file; records point into `bytes`.
struct RecordFile {
  std::string bytes;
  std::string path;
  RecordFileKind kind;
  int64_t version = 0;
  int64_t rows_total = 0;
  std::vector<Record> records;
};

/// Reads and verifies `path`; `expected_version` must match the header.
Result<RecordFile> ReadRecordFile(const std::string& path, RecordFileKind kind,
                                  int64_t expected_version);

uint32_t Crc32(std::string_view data, uint32_t crc = 0);

/// The checkpoint files of one store dir, by version.
struct StoreFiles {
  std::map<int64_t, std::string> changelogs;  // version -> path
  std::map<int64_t, std::string> snapshots;   // version -> path (file or folder)
  std::map<int64_t, bool> snapshot_is_dir;
};

/// Lists `dir` (a missing dir is empty). Names not of the form `<v>.changelog`
/// / `<v>.snapshot` (temp files, `_work`, other stores' folders) are ignored.
Result<StoreFiles> ListStoreFiles(const std::string& dir);

/// How to load version `version`: the snapshot to start from (0 = empty) and
/// the changelogs to replay after it. Error if a needed file is missing.
struct LoadPlan {
  int64_t snapshot_version = 0;
  std::string snapshot_path;
  bool snapshot_is_dir = false;
  std::vector<std::pair<int64_t, std::string>> changelogs;
};
Result<LoadPlan> PlanLoad(const std::string& dir, const StoreFiles& files, int64_t version);

/// Deletes snapshots and changelogs not needed to load any of the last
/// `min_batches_to_retain` versions up to `latest`.
Status CleanupOldVersions(const std::string& dir, int64_t latest, int64_t min_batches_to_retain);

/// Writes the record-file snapshot of `version` of the store in `dir` to
/// `tmp_path`, from the checkpoint files alone (the newest snapshot before it
/// and the changelogs after that): a streaming merge of key-sorted files,
/// O(state), touching no live state, so it can run beside the commits of
/// later versions.
Status WriteMergedSnapshot(const std::string& dir, int64_t version, const std::string& tmp_path);

/// Removes a file or a folder tree; missing is OK.
Status RemoveTree(const std::string& path);

/// Net changes and counts of one commit.
struct CommitCounts {
  int64_t rows_total = 0;
  int64_t rows_updated = 0;
  int64_t rows_removed = 0;
};

/// A provider: the live state at some committed version plus pending changes.
class StateBackend {
 public:
  virtual ~StateBackend() = default;
  virtual StateStoreProvider provider() const = 0;

  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  /// `hint` (see KeyHint) may spare the lookup that tells whether a new
  /// pending key exists in the committed state.
  virtual Status Put(std::string_view key, std::string_view value, KeyHint hint) = 0;
  virtual Status Delete(std::string_view key, KeyHint hint) = 0;
  virtual Status PrefixScan(std::string_view prefix, const StateVisitor& fn) = 0;

  /// Appends the pending net changes to `log` and fills `counts` given the
  /// committed row count `rows_total_before`. Does not apply them.
  virtual Status EncodePending(RecordFileWriter* log, int64_t rows_total_before,
                               CommitCounts* counts) = 0;
  /// Makes the pending changes part of the committed state.
  virtual Status ApplyPending() = 0;
  virtual void DropPending() = 0;

  /// Applies the records of a changelog or record-file snapshot to the
  /// committed state (no pending changes may exist).
  virtual Status ApplyRecords(const std::vector<Record>& records) = 0;
  /// Loads a RocksDB snapshot folder as the committed state (the state must be empty).
  virtual Status LoadRocksDBSnapshot(const std::string& snapshot_dir) = 0;
  /// Writes the committed state as a snapshot at `tmp_path` (which does not
  /// exist); the caller renames it into place. StateStore runs it on a
  /// background thread (see SetSnapshotJob) while the next batch reads and
  /// stages changes, so it must be safe beside Get/PrefixScan/Put/Delete.
  virtual Status WriteSnapshot(const std::string& tmp_path, int64_t version,
                               int64_t rows_total) = 0;
  /// True if this provider's snapshots are record files that StateStore
  /// builds in the background from the previous snapshot and the changelogs
  /// (WriteMergedSnapshot), off the commit path; false if StateStore calls
  /// WriteSnapshot on the live state at commit.
  virtual bool SnapshotsFromFiles() const { return false; }
  /// For providers that snapshot the live state: the background job now
  /// running WriteSnapshot on this backend. The backend waits for it before
  /// its committed state changes (ApplyPending, ApplyRecords,
  /// LoadRocksDBSnapshot) and before it is destroyed.
  virtual void SetSnapshotJob(std::shared_future<void> job) {}

  virtual int64_t MemoryUsedBytes() = 0;
};

/// The snapshot of a RocksDB store is a folder: `db/` (a RocksDB checkpoint)
/// and `meta` (a record-file header-only snapshot carrying version and rows).
inline constexpr const char* kSnapshotDbDir = "db";
inline constexpr const char* kSnapshotMetaFile = "meta";

Result<std::unique_ptr<StateBackend>> MakeMemoryBackend();
Result<std::unique_ptr<StateBackend>> MakeRocksDBBackend(const StateStoreOptions& options,
                                                         const std::string& working_dir);

/// Calls `fn` for every entry of a RocksDB snapshot folder (read-only).
Status ForEachInRocksDBSnapshot(const std::string& snapshot_dir, const StateVisitor& fn);

}  // namespace lakestream::state::internal
