// Log listing, checkpoint selection and replay.
#include "connectors/delta/log.h"

#include <algorithm>

#include <arrow/type.h>
#include <unordered_map>

#include "connectors/delta/checkpoint.h"
#include "types/types.h"

namespace lakestream::delta {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One file of _delta_log, classified by name (PROTOCOL.md "Delta Log Entries").
struct LogEntry {
  enum Kind { kCommit, kClassicCheckpoint, kMultiPartCheckpoint, kV2Checkpoint, kOther };
  Kind kind = kOther;
  int64_t version = -1;
  int part = 0;
  int num_parts = 0;
  storage::FileInfo info;
};

LogEntry Classify(const storage::FileInfo& f) {
  LogEntry e;
  e.info = f;
  const std::string& n = f.name;
  if (n.size() < 21 || !AllDigits(std::string_view(n).substr(0, 20)) || n[20] != '.') return e;
  e.version = std::stoll(n.substr(0, 20));
  std::string_view rest = std::string_view(n).substr(21);
  if (rest == "json") {
    e.kind = LogEntry::kCommit;
  } else if (rest == "checkpoint.parquet") {
    e.kind = LogEntry::kClassicCheckpoint;
  } else if (rest.rfind("checkpoint.", 0) == 0) {
    std::string_view r = rest.substr(11);
    // checkpoint.0000000001.0000000003.parquet | checkpoint.<uuid>.json|parquet
    if (r.size() == 10 + 1 + 10 + 8 && AllDigits(r.substr(0, 10)) && r[10] == '.' &&
        AllDigits(r.substr(11, 10)) && r.substr(21) == ".parquet") {
      e.kind = LogEntry::kMultiPartCheckpoint;
      e.part = std::stoi(std::string(r.substr(0, 10)));
      e.num_parts = std::stoi(std::string(r.substr(11, 10)));
    } else if (r.size() > 5 && (r.substr(r.size() - 5) == ".json" ||
                                (r.size() > 8 && r.substr(r.size() - 8) == ".parquet"))) {
      e.kind = LogEntry::kV2Checkpoint;
    }
  }
  return e;
}

// A checkpoint choice: the files that together hold the state at `version`.
struct CheckpointChoice {
  int64_t version = -1;
  std::vector<storage::FileInfo> files;
};

// The newest complete checkpoint at or before `max_version`.
std::optional<CheckpointChoice> ChooseCheckpoint(const std::vector<LogEntry>& entries,
                                                 int64_t max_version) {
  std::map<int64_t, std::vector<const LogEntry*>> by_version;
  for (const auto& e : entries) {
    if (e.version > max_version) continue;
    if (e.kind == LogEntry::kClassicCheckpoint || e.kind == LogEntry::kMultiPartCheckpoint ||
        e.kind == LogEntry::kV2Checkpoint) {
      by_version[e.version].push_back(&e);
    }
  }
  for (auto it = by_version.rbegin(); it != by_version.rend(); ++it) {
    const auto& list = it->second;
    // Prefer a V2 checkpoint, then classic, then a complete multi-part set.
    for (auto* e : list) {
      if (e->kind == LogEntry::kV2Checkpoint) return CheckpointChoice{it->first, {e->info}};
    }
    for (auto* e : list) {
      if (e->kind == LogEntry::kClassicCheckpoint) return CheckpointChoice{it->first, {e->info}};
    }
    std::map<int, std::map<int, const LogEntry*>> parts;  // num_parts -> part -> file
    for (auto* e : list) {
      if (e->kind == LogEntry::kMultiPartCheckpoint) parts[e->num_parts][e->part] = e;
    }
    for (const auto& [n, ps] : parts) {
      if (static_cast<int>(ps.size()) == n && ps.begin()->first == 1 && ps.rbegin()->first == n) {
        CheckpointChoice c{it->first, {}};
        for (const auto& [p, e] : ps) c.files.push_back(e->info);
        return c;
      }
    }
  }
  return std::nullopt;
}

std::string FileKey(const std::string& path, const std::optional<DeletionVectorDescriptor>& dv) {
  std::string k = UrlDecodePath(path);
  if (dv) {
    k += '\x01';
    k += dv->UniqueId();
  }
  return k;
}

}  // namespace

// Applies actions in log order to build a snapshot (PROTOCOL.md "Action
// Reconciliation"): the newest protocol and metaData win, a file is live if its
// newest add/remove (keyed by path and deletion vector id) is an add, txn is
// kept per appId and domainMetadata per domain.
class LogReplayer {
 public:
  void Apply(Action&& a, bool from_checkpoint) {
    if (auto* add = std::get_if<AddFile>(&a)) {
      std::string key = FileKey(add->path, add->deletion_vector);
      auto it = index_.find(key);
      if (it != index_.end()) {
        files_[it->second] = std::move(*add);
      } else {
        index_.emplace(std::move(key), files_.size());
        files_.push_back(std::move(*add));
        live_.push_back(true);
      }
      if (it != index_.end()) live_[it->second] = true;
    } else if (auto* rm = std::get_if<RemoveFile>(&a)) {
      if (from_checkpoint) return;  // tombstones only matter for VACUUM
      auto it = index_.find(FileKey(rm->path, rm->deletion_vector));
      if (it != index_.end()) {
        live_[it->second] = false;
        index_.erase(it);
      }
    } else if (auto* p = std::get_if<Protocol>(&a)) {
      protocol_ = std::move(*p);
    } else if (auto* m = std::get_if<Metadata>(&a)) {
      metadata_ = std::move(*m);
    } else if (auto* t = std::get_if<Txn>(&a)) {
      txns_[t->app_id] = std::move(*t);
    } else if (auto* d = std::get_if<DomainMetadata>(&a)) {
      if (d->removed) {
        domains_.erase(d->domain);
      } else {
        domains_[d->domain] = std::move(*d);
      }
    }
  }

  Result<std::shared_ptr<Snapshot>> Finish(const std::string& root, int64_t version) {
    if (!protocol_) {
      return UserError("Delta table '{}' at version {} has no protocol action in its log",
                       root, version);
    }
    if (!metadata_) {
      return UserError("Delta table '{}' at version {} has no metaData action in its log",
                       root, version);
    }
    LS_RETURN_NOT_OK(CheckReadProtocol(*protocol_, root));
    auto snap = std::make_shared<Snapshot>();
    snap->version_ = version;
    snap->table_root_ = root;
    snap->protocol_ = std::move(*protocol_);
    snap->metadata_ = std::move(*metadata_);
    // Some log-only tables (and old writers) omit schemaString: an empty schema.
    auto schema = snap->metadata_.schema_string.empty()
                      ? Result<SchemaPtr>(arrow::schema(arrow::FieldVector{}))
                      : types::SchemaFromDeltaJson(snap->metadata_.schema_string);
    if (!schema.ok()) {
      return UserError("Delta table '{}' version {}: invalid schemaString: {}", root, version,
                       schema.status().message());
    }
    snap->schema_ = *schema;
    auto mode_it = snap->metadata_.configuration.find("delta.columnMapping.mode");
    if (mode_it != snap->metadata_.configuration.end()) {
      if (mode_it->second == "name") {
        snap->column_mapping_mode_ = ColumnMappingMode::kName;
      } else if (mode_it->second == "id") {
        snap->column_mapping_mode_ = ColumnMappingMode::kId;
      } else if (mode_it->second != "none") {
        return Unsupported("Delta table '{}' uses column mapping mode '{}', which lakestream does "
                           "not support",
                           root, mode_it->second);
      }
    }
    for (size_t i = 0; i < files_.size(); ++i) {
      if (live_[i]) snap->files_.push_back(std::move(files_[i]));
    }
    snap->txns_ = std::move(txns_);
    snap->domains_ = std::move(domains_);
    return snap;
  }

 private:
  std::optional<Protocol> protocol_;
  std::optional<Metadata> metadata_;
  std::vector<AddFile> files_;
  std::vector<bool> live_;
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, Txn> txns_;
  std::map<std::string, DomainMetadata> domains_;
};

std::optional<int64_t> Snapshot::TxnVersion(const std::string& app_id) const {
  auto it = txns_.find(app_id);
  if (it == txns_.end()) return std::nullopt;
  return it->second.version;
}

std::string Snapshot::Config(const std::string& key, const std::string& def) const {
  auto it = metadata_.configuration.find(key);
  return it == metadata_.configuration.end() ? def : it->second;
}

const std::vector<std::string>& SupportedReaderFeatures() {
  static const std::vector<std::string> k = {
      "columnMapping",  "deletionVectors",      "timestampNtz", "typeWidening",
      "typeWidening-preview", "v2Checkpoint", "vacuumProtocolCheck"};
  return k;
}

Status CheckReadProtocol(const Protocol& protocol, std::string_view table_root) {
  if (protocol.min_reader_version < 1 || protocol.min_reader_version > 3) {
    return Unsupported(
        "Delta table '{}' requires reader version {}, which lakestream does not support "
        "(supported: 1 to 3)",
        table_root, protocol.min_reader_version);
  }
  if (protocol.min_reader_version == 3) {
    if (!protocol.reader_features) {
      return UserError("Delta table '{}' has reader version 3 but no readerFeatures", table_root);
    }
    const auto& ok = SupportedReaderFeatures();
    for (const auto& f : *protocol.reader_features) {
      if (std::find(ok.begin(), ok.end(), f) == ok.end()) {
        return Unsupported(
            "Delta table '{}' requires reader feature '{}', which lakestream does not support",
            table_root, f);
      }
    }
  }
  return Status::OK();
}

std::shared_ptr<DeltaLog> DeltaLog::Open(std::string table_root,
                                         std::shared_ptr<storage::FileSystem> fs) {
  if (table_root.rfind("file://", 0) == 0) table_root = table_root.substr(7);
  while (table_root.size() > 1 && table_root.back() == '/') table_root.pop_back();
  return std::shared_ptr<DeltaLog>(
      new DeltaLog(std::move(table_root), fs ? std::move(fs) : storage::LocalFs()));
}

std::string DeltaLog::log_dir() const { return storage::JoinPath(table_root_, "_delta_log"); }

namespace {

Result<std::vector<LogEntry>> ListLog(storage::FileSystem* fs, const std::string& root,
                                      const std::string& log_dir) {
  auto listed = fs->List(log_dir);
  if (!listed.ok()) {
    if (storage::IsNotFound(listed.status())) {
      return UserError("'{}' is not a Delta table: it has no _delta_log directory", root);
    }
    return listed.status();
  }
  std::vector<LogEntry> out;
  for (const auto& f : *listed) {
    LogEntry e = Classify(f);
    if (e.kind != LogEntry::kOther) out.push_back(std::move(e));
  }
  if (out.empty()) {
    return UserError("'{}' is not a Delta table: _delta_log holds no commit or checkpoint", root);
  }
  return out;
}

int64_t MaxVersion(const std::vector<LogEntry>& entries) {
  int64_t v = -1;
  for (const auto& e : entries) v = std::max(v, e.version);
  return v;
}

}  // namespace

Result<bool> DeltaLog::TableExists() {
  auto listed = fs_->List(log_dir());
  if (!listed.ok()) {
    if (storage::IsNotFound(listed.status())) return false;
    return listed.status();
  }
  for (const auto& f : *listed) {
    if (Classify(f).kind != LogEntry::kOther) return true;
  }
  return false;
}

Result<int64_t> DeltaLog::LatestVersion() {
  LS_ASSIGN_OR_RAISE(auto entries, ListLog(fs_.get(), table_root_, log_dir()));
  return MaxVersion(entries);
}

Result<std::shared_ptr<const Snapshot>> DeltaLog::Latest() { return Load(std::nullopt); }

Result<std::shared_ptr<const Snapshot>> DeltaLog::AtVersion(int64_t version) {
  if (version < 0) return UserError("invalid Delta table version {}", version);
  return Load(version);
}

Result<std::shared_ptr<const Snapshot>> DeltaLog::Load(std::optional<int64_t> want) {
  LS_ASSIGN_OR_RAISE(auto entries, ListLog(fs_.get(), table_root_, log_dir()));
  int64_t latest = MaxVersion(entries);
  int64_t version = want.value_or(latest);
  if (version > latest) {
    return UserError("cannot time travel Delta table '{}' to version {}: the latest version is {}",
                     table_root_, version, latest);
  }
  auto checkpoint = ChooseCheckpoint(entries, version);
  std::map<int64_t, const LogEntry*> commits;
  for (const auto& e : entries) {
    if (e.kind == LogEntry::kCommit && e.version <= version) commits[e.version] = &e;
  }
  int64_t first = checkpoint ? checkpoint->version + 1 : 0;
  for (int64_t v = first; v <= version; ++v) {
    if (commits.count(v) == 0) {
      if (v == 0 || (!checkpoint && commits.count(v) == 0 && commits.empty())) {
        return UserError(
            "cannot reconstruct Delta table '{}' at version {}: missing {} and no checkpoint "
            "covers it",
            table_root_, version, CommitFileName(v));
      }
      return UserError("Delta log of '{}' is corrupt: versions not contiguous: missing {}",
                       table_root_, CommitFileName(v));
    }
  }
  LogReplayer replayer;
  if (checkpoint) {
    for (const auto& f : checkpoint->files) {
      LS_ASSIGN_OR_RAISE(auto actions, ReadCheckpointFile(fs_.get(), f.path));
      for (auto& a : actions) {
        if (auto* sc = std::get_if<Sidecar>(&a)) {
          // V2 checkpoint: file actions live in sidecar files under _sidecars/.
          std::string sp = sc->path.find('/') == std::string::npos
                               ? storage::JoinPath(log_dir(), "_sidecars/" + sc->path)
                               : ResolveDataPath(log_dir(), sc->path);
          LS_ASSIGN_OR_RAISE(auto side, ReadCheckpointFile(fs_.get(), sp));
          for (auto& s : side) replayer.Apply(std::move(s), true);
        } else {
          replayer.Apply(std::move(a), true);
        }
      }
    }
  }
  for (int64_t v = first; v <= version; ++v) {
    const auto* e = commits[v];
    LS_ASSIGN_OR_RAISE(auto content, fs_->ReadAll(e->info.path));
    LS_ASSIGN_OR_RAISE(auto actions, ParseCommitFile(content, e->info.path));
    for (auto& a : actions) replayer.Apply(std::move(a), false);
  }
  LS_ASSIGN_OR_RAISE(auto snap, replayer.Finish(table_root_, version));
  snap->fs_ = fs_;
  snap->checkpoint_version_ = checkpoint ? checkpoint->version : -1;
  auto ts = CommitTimestamps();
  if (ts.ok() && ts->count(version)) {
    snap->timestamp_ms_ = ts->at(version);
  } else if (checkpoint) {
    snap->timestamp_ms_ = checkpoint->files.front().modification_time_ms;
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

std::shared_ptr<const Snapshot> Snapshot::WithOwnCommit(const std::vector<AddFile>& adds,
                                                        bool removed_all,
                                                        const std::optional<Txn>& txn,
                                                        int64_t timestamp_ms) const {
  auto next = std::make_shared<Snapshot>(*this);
  next->version_ = version_ + 1;
  next->timestamp_ms_ = timestamp_ms;
  if (removed_all) next->files_.clear();
  next->files_.insert(next->files_.end(), adds.begin(), adds.end());
  if (txn) next->txns_[txn->app_id] = *txn;
  return next;
}

Result<std::map<int64_t, int64_t>> DeltaLog::CommitTimestamps() {
  LS_ASSIGN_OR_RAISE(auto entries, ListLog(fs_.get(), table_root_, log_dir()));
  std::map<int64_t, int64_t> out;
  for (const auto& e : entries) {
    if (e.kind == LogEntry::kCommit) out[e.version] = e.info.modification_time_ms;
  }
  // In-commit timestamps (when the table enables them) are authoritative.
  // Reading every commit is costly, so only when the latest snapshot says so
  // would it be worth it; here only the first line is checked per commit.
  int64_t prev = INT64_MIN;
  for (auto& [v, ts] : out) {
    if (ts <= prev) ts = prev + 1;  // Delta makes commit times strictly increasing
    prev = ts;
  }
  return out;
}

Result<std::shared_ptr<const Snapshot>> DeltaLog::AtTimestamp(int64_t timestamp_ms) {
  LS_ASSIGN_OR_RAISE(auto ts, CommitTimestamps());
  if (ts.empty()) return UserError("Delta table '{}' has no commits to time travel", table_root_);
  std::optional<int64_t> found;
  for (const auto& [v, t] : ts) {
    if (t <= timestamp_ms) found = v;
  }
  if (!found) {
    return UserError(
        "the provided timestamp ({} ms) is before the earliest version available of Delta table "
        "'{}' ({} ms, version {})",
        timestamp_ms, table_root_, ts.begin()->second, ts.begin()->first);
  }
  return Load(*found);
}

Result<VersionChanges> DeltaLog::ReadVersion(int64_t version) {
  std::string path = storage::JoinPath(log_dir(), CommitFileName(version));
  auto content = fs_->ReadAll(path);
  if (!content.ok()) {
    if (storage::IsNotFound(content.status())) {
      return UserError("Delta table '{}' has no commit file {} (version {} missing or cleaned up)",
                       table_root_, CommitFileName(version), version);
    }
    return content.status();
  }
  LS_ASSIGN_OR_RAISE(auto actions, ParseCommitFile(*content, path));
  VersionChanges ch;
  ch.version = version;
  for (auto& a : actions) {
    if (auto* add = std::get_if<AddFile>(&a)) {
      ch.adds.push_back(std::move(*add));
    } else if (auto* rm = std::get_if<RemoveFile>(&a)) {
      ch.removes.push_back(std::move(*rm));
    } else if (auto* c = std::get_if<AddCdcFile>(&a)) {
      ch.cdc.push_back(std::move(*c));
    } else if (auto* m = std::get_if<Metadata>(&a)) {
      ch.metadata = std::move(*m);
    } else if (auto* p = std::get_if<Protocol>(&a)) {
      ch.protocol = std::move(*p);
    } else if (auto* ci = std::get_if<CommitInfo>(&a)) {
      ch.commit_info = std::move(*ci);
    } else if (auto* t = std::get_if<Txn>(&a)) {
      ch.txns.push_back(std::move(*t));
    }
  }
  if (ch.commit_info && ch.commit_info->in_commit_timestamp) {
    ch.timestamp_ms = *ch.commit_info->in_commit_timestamp;
  } else {
    auto st = fs_->Stat(path);
    if (st.ok()) ch.timestamp_ms = st->modification_time_ms;
  }
  return ch;
}

Result<std::vector<VersionChanges>> DeltaLog::ChangesSince(int64_t since_version,
                                                           std::optional<int64_t> until_version) {
  LS_ASSIGN_OR_RAISE(int64_t latest, LatestVersion());
  int64_t until = std::min(until_version.value_or(latest), latest);
  std::vector<VersionChanges> out;
  for (int64_t v = since_version + 1; v <= until; ++v) {
    LS_ASSIGN_OR_RAISE(auto ch, ReadVersion(v));
    out.push_back(std::move(ch));
  }
  return out;
}

Result<std::vector<HistoryEntry>> DeltaLog::History(int64_t limit) {
  LS_ASSIGN_OR_RAISE(auto ts, CommitTimestamps());
  std::vector<HistoryEntry> out;
  for (auto it = ts.rbegin(); it != ts.rend(); ++it) {
    if (limit > 0 && static_cast<int64_t>(out.size()) >= limit) break;
    LS_ASSIGN_OR_RAISE(auto ch, ReadVersion(it->first));
    HistoryEntry h;
    h.version = it->first;
    h.timestamp_ms = ch.commit_info && ch.commit_info->in_commit_timestamp
                         ? *ch.commit_info->in_commit_timestamp
                         : it->second;
    h.commit_info = std::move(ch.commit_info);
    out.push_back(std::move(h));
  }
  return out;
}

std::string UrlDecodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() + 0 && i + 2 <= path.size() - 1 + 0 &&
        hex(path[i + 1]) >= 0 && hex(path[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(path[i + 1]) * 16 + hex(path[i + 2])));
      i += 2;
    } else {
      out.push_back(path[i]);
    }
  }
  return out;
}

std::string ResolveDataPath(std::string_view table_root, std::string_view add_path) {
  std::string decoded = UrlDecodePath(add_path);
  if (decoded.rfind("file://", 0) == 0) return decoded.substr(7);
  if (decoded.rfind("file:/", 0) == 0) return decoded.substr(5);
  if (!decoded.empty() && decoded[0] == '/') return decoded;
  return storage::JoinPath(table_root, decoded);
}

}  // namespace lakestream::delta
