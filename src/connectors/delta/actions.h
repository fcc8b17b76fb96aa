// The actions of the Delta transaction log (PROTOCOL.md, "Actions") as plain
// structs, and their JSON form: one action per line of a commit file
// NNNNNNNNNNNNNNNNNNNN.json. Parsing follows the protocol's forward
// compatibility rule (readers ignore unknown fields and unknown action types);
// serialization writes exactly the fields Spark and delta-rs write.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace lakestream::delta {

using StringMap = std::map<std::string, std::string>;
/// Partition column -> serialized value; nullopt is a NULL partition value.
using PartitionValues = std::map<std::string, std::optional<std::string>>;

struct Protocol {
  int32_t min_reader_version = 1;
  int32_t min_writer_version = 2;
  /// Present only for reader version 3 / writer version 7 (table features).
  std::optional<std::vector<std::string>> reader_features;
  std::optional<std::vector<std::string>> writer_features;

  bool HasReaderFeature(std::string_view f) const;
  bool HasWriterFeature(std::string_view f) const;
};

struct Format {
  std::string provider = "parquet";
  StringMap options;
};

struct Metadata {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  Format format;
  std::string schema_string;
  std::vector<std::string> partition_columns;
  StringMap configuration;
  std::optional<int64_t> created_time;
};

/// PROTOCOL.md "Deletion Vector Descriptor Schema".
struct DeletionVectorDescriptor {
  std::string storage_type;  ///< 'u' (relative, UUID), 'p' (absolute path), 'i' (inline)
  std::string path_or_inline_dv;
  std::optional<int32_t> offset;
  int32_t size_in_bytes = 0;
  int64_t cardinality = 0;
  std::optional<int64_t> max_row_index;

  /// storageType + pathOrInlineDv [+ '@' offset]: the DV's identity in
  /// reconciliation (the "dvId" of the protocol).
  std::string UniqueId() const;
};

struct AddFile {
  std::string path;  ///< URL-encoded, relative to the table root (or absolute URI)
  PartitionValues partition_values;
  int64_t size = 0;
  int64_t modification_time = 0;
  bool data_change = true;
  std::optional<std::string> stats;  ///< JSON string
  std::optional<StringMap> tags;
  std::optional<DeletionVectorDescriptor> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
  std::optional<std::string> clustering_provider;
};

struct RemoveFile {
  std::string path;
  std::optional<int64_t> deletion_timestamp;
  bool data_change = true;
  std::optional<bool> extended_file_metadata;
  std::optional<PartitionValues> partition_values;
  std::optional<int64_t> size;
  std::optional<std::string> stats;
  std::optional<StringMap> tags;
  std::optional<DeletionVectorDescriptor> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
};

struct AddCdcFile {
  std::string path;
  PartitionValues partition_values;
  int64_t size = 0;
  bool data_change = false;
  std::optional<StringMap> tags;
};

struct Txn {
  std::string app_id;
  int64_t version = 0;
  std::optional<int64_t> last_updated;
};

/// commitInfo is free-form; the raw JSON object is kept and the fields the
/// engine uses are extracted.
struct CommitInfo {
  std::string raw_json;  ///< the JSON object (without the {"commitInfo": ...} wrapper)
  std::optional<int64_t> timestamp;
  std::optional<int64_t> in_commit_timestamp;
  std::optional<std::string> operation;
};

struct DomainMetadata {
  std::string domain;
  std::string configuration;
  bool removed = false;
};

struct CheckpointMetadata {
  int64_t version = 0;
  std::optional<StringMap> tags;
};

struct Sidecar {
  std::string path;
  int64_t size_in_bytes = 0;
  int64_t modification_time = 0;
  std::optional<StringMap> tags;
};

using Action = std::variant<Protocol, Metadata, AddFile, RemoveFile, AddCdcFile, Txn, CommitInfo,
                            DomainMetadata, CheckpointMetadata, Sidecar>;

/// Parses one line of a commit file (or a JSON checkpoint). Returns nullopt for
/// an action type this reader does not know (ignored per the protocol) and for
/// blank lines. `where` names the file and line in errors.
Result<std::optional<Action>> ParseActionLine(std::string_view line, std::string_view where);

/// Parses a whole newline-delimited commit file; errors name `file` and the
/// 1-based line number.
Result<std::vector<Action>> ParseCommitFile(std::string_view content, std::string_view file);

/// Serializes one action as a single JSON line (no trailing newline).
std::string ToJson(const Action& action);
/// Serializes actions as a commit file (one per line, '\n'-terminated).
std::string ToCommitFile(const std::vector<Action>& actions);

/// Appends `s` as a JSON string literal (quoted, escaped) to `out`.
void AppendJsonString(std::string* out, std::string_view s);

/// Delta's file name helpers (PROTOCOL.md "Delta Log Entries").
std::string CommitFileName(int64_t version);      ///< 00000000000000000007.json
std::string CheckpointFileName(int64_t version);  ///< 00000000000000000007.checkpoint.parquet

}  // namespace lakestream::delta
