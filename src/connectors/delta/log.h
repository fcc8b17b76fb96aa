// The Delta transaction log of one table: listing _delta_log, choosing a
// checkpoint, replaying commits into a Snapshot (PROTOCOL.md "Action
// Reconciliation"), time travel, history, and the per-version changes a
// streaming source consumes.
//
// A Snapshot is immutable and shared; a DeltaLog holds no cache, so every call
// sees the log as it is on storage now.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/type_fwd.h>

#include "common/status.h"
#include "connectors/delta/actions.h"
#include "storage/filesystem.h"

namespace lakestream::delta {

using SchemaPtr = std::shared_ptr<arrow::Schema>;

/// Column mapping mode of a table (delta.columnMapping.mode).
enum class ColumnMappingMode { kNone, kName, kId };

/// The state of a table at one version.
class Snapshot {
 public:
  int64_t version() const { return version_; }
  const std::string& table_root() const { return table_root_; }
  const Protocol& protocol() const { return protocol_; }
  const Metadata& metadata() const { return metadata_; }
  /// The logical schema (Arrow), with column-mapping metadata on its fields.
  const SchemaPtr& schema() const { return schema_; }
  /// The live data files, in log order.
  const std::vector<AddFile>& files() const { return files_; }
  const std::map<std::string, Txn>& txns() const { return txns_; }
  const std::map<std::string, DomainMetadata>& domain_metadata() const { return domains_; }
  /// The latest committed version for a streaming app id (txn action), if any.
  std::optional<int64_t> TxnVersion(const std::string& app_id) const;
  ColumnMappingMode column_mapping_mode() const { return column_mapping_mode_; }
  /// A table property (metaData.configuration) or `def`.
  std::string Config(const std::string& key, const std::string& def = "") const;
  /// Commit timestamp of this version (ms since epoch).
  int64_t timestamp_ms() const { return timestamp_ms_; }
  const std::shared_ptr<storage::FileSystem>& fs() const { return fs_; }
  /// The version of the checkpoint this snapshot was built from (-1: none).
  int64_t checkpoint_version() const { return checkpoint_version_; }

  /// This snapshot after one more commit, version() + 1, that the caller
  /// wrote itself on top of it: `adds` appended (after removing every live
  /// file when `removed_all`, an overwrite) and `txn` recorded. It is what
  /// reading the log again would give, except the timestamp (`timestamp_ms`,
  /// the writer's clock): a writer committing version after version (a
  /// streaming sink) need not list and replay the log before every commit.
  std::shared_ptr<const Snapshot> WithOwnCommit(const std::vector<AddFile>& adds, bool removed_all,
                                                const std::optional<Txn>& txn,
                                                int64_t timestamp_ms) const;

 private:
  friend class DeltaLog;
  friend class LogReplayer;
  int64_t version_ = -1;
  std::string table_root_;
  Protocol protocol_;
  Metadata metadata_;
  SchemaPtr schema_;
  std::vector<AddFile> files_;
  std::map<std::string, Txn> txns_;
  std::map<std::string, DomainMetadata> domains_;
  ColumnMappingMode column_mapping_mode_ = ColumnMappingMode::kNone;
  int64_t timestamp_ms_ = 0;
  int64_t checkpoint_version_ = -1;
  std::shared_ptr<storage::FileSystem> fs_;
};

/// What one commit changed, for streaming reads and history.
struct VersionChanges {
  int64_t version = 0;
  int64_t timestamp_ms = 0;
  std::vector<AddFile> adds;
  std::vector<RemoveFile> removes;
  std::vector<AddCdcFile> cdc;
  std::optional<Metadata> metadata;  ///< a schema/property change in this version
  std::optional<Protocol> protocol;
  std::optional<CommitInfo> commit_info;
  std::vector<Txn> txns;
};

/// One row of DESCRIBE HISTORY.
struct HistoryEntry {
  int64_t version = 0;
  int64_t timestamp_ms = 0;
  std::optional<CommitInfo> commit_info;
};

/// Reader features this implementation supports (PROTOCOL.md "Table Features").
const std::vector<std::string>& SupportedReaderFeatures();
/// Checks that this reader may read a table with `protocol`; the error names
/// the table and the first unsupported feature or version.
Status CheckReadProtocol(const Protocol& protocol, std::string_view table_root);

/// Opens the log of the table at `table_root`.
class DeltaLog {
 public:
  /// Never fails for a missing table (the writer creates tables through it);
  /// reads then report "not a Delta table".
  static std::shared_ptr<DeltaLog> Open(std::string table_root,
                                        std::shared_ptr<storage::FileSystem> fs = nullptr);

  const std::string& table_root() const { return table_root_; }
  std::string log_dir() const;
  const std::shared_ptr<storage::FileSystem>& fs() const { return fs_; }

  /// True if _delta_log holds at least one commit or checkpoint.
  Result<bool> TableExists();
  /// The latest version (from listing), or an error if not a Delta table.
  Result<int64_t> LatestVersion();

  Result<std::shared_ptr<const Snapshot>> Latest();
  /// Time travel: the table as of `version` ("VERSION AS OF").
  Result<std::shared_ptr<const Snapshot>> AtVersion(int64_t version);
  /// Time travel: the latest version committed at or before `timestamp_ms`
  /// ("TIMESTAMP AS OF"); an error before the first or after the latest commit,
  /// as Spark does.
  Result<std::shared_ptr<const Snapshot>> AtTimestamp(int64_t timestamp_ms);

  /// The changes of every version after `since_version` up to `until_version`
  /// (inclusive; nullopt = latest), in order. For streaming sources.
  Result<std::vector<VersionChanges>> ChangesSince(int64_t since_version,
                                                   std::optional<int64_t> until_version = {});
  /// Reads the changes of exactly one version.
  Result<VersionChanges> ReadVersion(int64_t version);

  /// Newest first; `limit` 0 = all available commits.
  Result<std::vector<HistoryEntry>> History(int64_t limit = 0);

  /// Commit timestamps (ms) of every listed commit, made strictly increasing
  /// as Delta does; ICT (inCommitTimestamp) wins over file times when present.
  Result<std::map<int64_t, int64_t>> CommitTimestamps();

 private:
  DeltaLog(std::string root, std::shared_ptr<storage::FileSystem> fs)
      : table_root_(std::move(root)), fs_(std::move(fs)) {}
  Result<std::shared_ptr<const Snapshot>> Load(std::optional<int64_t> version);

  std::string table_root_;
  std::shared_ptr<storage::FileSystem> fs_;
};

/// Percent-decodes a path from an add/remove action.
std::string UrlDecodePath(std::string_view path);
/// Resolves an add path (relative and URL-encoded, or an absolute URI) to a
/// filesystem path.
std::string ResolveDataPath(std::string_view table_root, std::string_view add_path);

}  // namespace lakestream::delta
