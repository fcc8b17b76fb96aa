// StateStore: versioning over a provider (state_backend_internal.h). Open
// loads snapshot + changelogs (or reuses the instance this process parked at
// that version), Commit writes the changelog then applies, and every
// min_deltas_for_snapshot versions publishes a snapshot and deletes versions
// beyond minBatchesToRetain (for the in-memory provider on a background
// thread, merged from the files). Also the schema guard and the state reader.
#include "state/state_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <mutex>
#include <random>
#include <unordered_map>

#include "state/state_backend_internal.h"
#include "storage/filesystem.h"

namespace lakestream::state {

using internal::StateBackend;

namespace {

// An idle live instance left by a closed StateStore, reusable by an Open of
// the same store at the same version (consecutive batches in one process).
struct Parked {
  std::unique_ptr<StateBackend> backend;
  int64_t version = 0;
  int64_t last_snapshot_version = 0;
  int64_t rows_total = 0;
  std::string schema;
};

struct ParkedStores {
  std::mutex mu;
  std::unordered_map<std::string, Parked> by_dir;
};

ParkedStores& Registry() {
  static ParkedStores* r = new ParkedStores();  // never destroyed: outlives other statics
  return *r;
}

std::optional<Parked> TakeParked(const std::string& dir) {
  ParkedStores& r = Registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.by_dir.find(dir);
  if (it == r.by_dir.end()) return std::nullopt;
  Parked p = std::move(it->second);
  r.by_dir.erase(it);
  return p;
}

void Park(const std::string& dir, Parked parked) {
  Parked old;
  {
    ParkedStores& r = Registry();
    std::lock_guard<std::mutex> lock(r.mu);
    Parked& slot = r.by_dir[dir];
    old = std::move(slot);
    slot = std::move(parked);
  }
  // `old` (a RocksDB close) is destroyed outside the lock.
}

// Snapshots built in the background (merged from the checkpoint files, or a
// RocksDB checkpoint of the live instance) with the cleanup after them: at
// most one job per store dir at a time.
struct SnapshotJobs {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_future<void>> by_dir;
};

SnapshotJobs& Jobs() {
  static SnapshotJobs* j = new SnapshotJobs();  // never destroyed, like Registry()
  return *j;
}

// Waits for the jobs of store dirs starting with `dir_prefix` (exactly `dir`
// if `exact`).
void WaitForSnapshotJobs(std::string_view dir_prefix, bool exact) {
  std::vector<std::shared_future<void>> waiting;
  {
    SnapshotJobs& j = Jobs();
    std::lock_guard<std::mutex> lock(j.mu);
    for (auto it = j.by_dir.begin(); it != j.by_dir.end();) {
      bool match = exact ? it->first == dir_prefix
                         : std::string_view(it->first).substr(0, dir_prefix.size()) == dir_prefix;
      if (match) {
        waiting.push_back(std::move(it->second));
        it = j.by_dir.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& f : waiting) f.wait();
}

Status PublishSnapshot(const std::string& tmp, const std::string& final_path);
Status FsyncDir(const std::string& dir);

// Builds the snapshot of `version` at `tmp` with `write`, publishes it, then
// deletes what minBatchesToRetain no longer needs. Runs on its own thread: a
// failure only means loads replay more changelogs until the next snapshot, so
// it is dropped (the commits were durable without it).
void RunSnapshotJob(std::string dir, int64_t version, int64_t min_batches_to_retain,
                    std::string tmp, std::function<Status()> write) {
  Status st = write();
  if (st.ok())
    st = PublishSnapshot(tmp, storage::JoinPath(dir, fmt::format("{}.snapshot", version)));
  // Durable before cleanup deletes the changelogs it replaces.
  if (st.ok()) st = FsyncDir(dir);
  if (!st.ok()) {
    (void)internal::RemoveTree(tmp);
    return;
  }
  (void)internal::CleanupOldVersions(dir, version, min_batches_to_retain);
}

// Starts the snapshot job of `dir` at `version`. If the previous one (started
// min_deltas_for_snapshot versions ago) still runs, waits for it first: the
// commit is held back only when snapshots cannot keep up, and then snapshots
// and cleanup still happen at every min_deltas_for_snapshot-th version.
std::shared_future<void> StartSnapshotJob(const std::string& dir, int64_t version,
                                          int64_t min_batches_to_retain, std::string tmp,
                                          std::function<Status()> write) {
  // A process that exits without ReleaseCachedStateStores still finishes its
  // jobs before static destructors run under them (registered after the
  // statics the jobs use, so it runs before their destructors).
  static const bool at_exit = std::atexit([] { WaitForSnapshotJobs("", /*exact=*/false); }) == 0;
  (void)at_exit;
  WaitForSnapshotJobs(dir, /*exact=*/true);  // one job per dir: ours is the only writer
  std::shared_future<void> job = std::async(std::launch::async, RunSnapshotJob, dir, version,
                                            min_batches_to_retain, std::move(tmp), std::move(write))
                                     .share();
  SnapshotJobs& j = Jobs();
  std::lock_guard<std::mutex> lock(j.mu);
  j.by_dir[dir] = job;
  return job;
}

std::string OperatorDir(const std::string& state_dir, int64_t operator_id) {
  return storage::JoinPath(state_dir, std::to_string(operator_id));
}

std::string SchemaPath(const std::string& state_dir, int64_t operator_id) {
  return storage::JoinPath(storage::JoinPath(OperatorDir(state_dir, operator_id), "_metadata"),
                           "schema");
}

Status CheckSchema(const StateStoreOptions& o) {
  if (o.schema.empty()) return Status::OK();
  auto fs = storage::LocalFs();
  std::string path = SchemaPath(o.state_dir, o.operator_id);
  LS_RETURN_NOT_OK(fs->MakeDirs(path.substr(0, path.find_last_of('/'))));
  Status put = fs->PutIfAbsent(path, o.schema);
  if (put.ok()) return Status::OK();
  if (!storage::IsAlreadyExists(put)) return put;
  LS_ASSIGN_OR_RAISE(std::string recorded, fs->ReadAll(path));
  if (recorded == o.schema) return Status::OK();
  std::string name = o.operator_name.empty() ? "" : fmt::format(" ({})", o.operator_name);
  return UserError(
      "state schema mismatch for stateful operator {}{} (checkpoint '{}'): the checkpoint was "
      "written with schema\n  {}\nbut this query's state has schema\n  {}\nThe query changed in a "
      "way that is incompatible with its checkpoint; start from a new checkpoint location",
      o.operator_id, name, OperatorDir(o.state_dir, o.operator_id), recorded, o.schema);
}

// Removes temp files a killed commit left behind (`.<name>.<pid>...tmp`). The
// store has a single writer, the one opening it.
void RemoveStaleTemps(const std::string& dir) {
  auto listed = storage::LocalFs()->List(dir, ".");
  if (!listed.ok()) return;
  for (const auto& f : *listed) {
    if (f.name.size() > 4 && f.name.substr(f.name.size() - 4) == ".tmp") {
      (void)internal::RemoveTree(f.path);
    }
  }
}

// Removes working instances of processes that no longer run (killed ones).
void RemoveDeadWorkingDirs(const std::string& work_root) {
  auto listed = storage::LocalFs()->List(work_root);
  if (!listed.ok()) return;
  for (const auto& f : *listed) {
    long pid = std::strtol(f.name.c_str(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      (void)internal::RemoveTree(f.path);
    }
  }
}

std::string NewWorkingDir(const StateStoreOptions& o, const std::string& store_dir) {
  static std::atomic<uint64_t> seq{0};
  std::string root = o.working_dir.empty() ? storage::JoinPath(store_dir, "_work") : o.working_dir;
  RemoveDeadWorkingDirs(root);
  return storage::JoinPath(root, fmt::format("{}-{}", ::getpid(), seq.fetch_add(1)));
}

// Publishes the finished temp snapshot `tmp` as `final_path`, replacing one a
// crashed earlier run of the same version may have left.
Status PublishSnapshot(const std::string& tmp, const std::string& final_path) {
  if (::rename(tmp.c_str(), final_path.c_str()) == 0) return Status::OK();
  if (errno != ENOTEMPTY && errno != EEXIST && errno != EISDIR && errno != ENOTDIR) {
    return IOErrorAt("cannot rename '{}' to '{}': {}", tmp, final_path, std::strerror(errno));
  }
  std::string trash = tmp + ".old.tmp";  // removed as a stale temp if we die here
  if (::rename(final_path.c_str(), trash.c_str()) != 0) {
    return IOErrorAt("cannot rename '{}' to '{}': {}", final_path, trash, std::strerror(errno));
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    return IOErrorAt("cannot rename '{}' to '{}': {}", tmp, final_path, std::strerror(errno));
  }
  return internal::RemoveTree(trash);
}

// Makes renames inside `dir` durable.
Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IOErrorAt("cannot open directory '{}': {}", dir, std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IOErrorAt("cannot fsync directory '{}': {}", dir, std::strerror(err));
  return Status::OK();
}

struct Loaded {
  int64_t rows_total = 0;
  int64_t snapshot_version = 0;
  int64_t newest_on_disk = 0;
};

// Loads `version` of the store in `dir` into the empty `backend`.
Result<Loaded> LoadVersion(const std::string& dir, int64_t version, StateBackend* backend) {
  using internal::RecordFileKind;
  LS_ASSIGN_OR_RAISE(internal::StoreFiles files, internal::ListStoreFiles(dir));
  LS_ASSIGN_OR_RAISE(internal::LoadPlan plan, internal::PlanLoad(dir, files, version));
  Loaded loaded;
  loaded.snapshot_version = plan.snapshot_version;
  if (!files.changelogs.empty()) loaded.newest_on_disk = files.changelogs.rbegin()->first;
  if (!files.snapshots.empty()) {
    loaded.newest_on_disk = std::max(loaded.newest_on_disk, files.snapshots.rbegin()->first);
  }
  if (plan.snapshot_version > 0) {
    if (plan.snapshot_is_dir) {
      std::string meta_path = storage::JoinPath(plan.snapshot_path, internal::kSnapshotMetaFile);
      LS_ASSIGN_OR_RAISE(
          internal::RecordFile meta,
          internal::ReadRecordFile(meta_path, RecordFileKind::kSnapshot, plan.snapshot_version));
      LS_RETURN_NOT_OK(backend->LoadRocksDBSnapshot(plan.snapshot_path));
      loaded.rows_total = meta.rows_total;
    } else {
      LS_ASSIGN_OR_RAISE(internal::RecordFile snap,
                         internal::ReadRecordFile(plan.snapshot_path, RecordFileKind::kSnapshot,
                                                  plan.snapshot_version));
      LS_RETURN_NOT_OK(backend->ApplyRecords(snap.records));
      loaded.rows_total = snap.rows_total;
    }
  }
  for (const auto& [v, path] : plan.changelogs) {
    LS_ASSIGN_OR_RAISE(internal::RecordFile log,
                       internal::ReadRecordFile(path, RecordFileKind::kChangelog, v));
    LS_RETURN_NOT_OK(backend->ApplyRecords(log.records));
    loaded.rows_total = log.rows_total;
  }
  return loaded;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string StoreDir(const StateStoreOptions& o) {
  std::string dir =
      storage::JoinPath(OperatorDir(o.state_dir, o.operator_id), std::to_string(o.partition_id));
  if (!o.store_name.empty() && o.store_name != "default") {
    dir = storage::JoinPath(dir, o.store_name);
  }
  return dir;
}

StateStore::StateStore(StateStoreOptions options, std::string dir,
                       std::unique_ptr<StateBackend> backend, int64_t version,
                       int64_t last_snapshot_version)
    : options_(std::move(options)),
      dir_(std::move(dir)),
      backend_(std::move(backend)),
      version_(version),
      last_snapshot_version_(last_snapshot_version) {}

Result<std::unique_ptr<StateStore>> StateStore::Open(const StateStoreOptions& options,
                                                     int64_t version) {
  if (options.state_dir.empty()) return UserError("state store: state_dir is required");
  if (version < 0) {
    return UserError("state store: version must be >= 0, got {} (operator {}, partition {})",
                     version, options.operator_id, options.partition_id);
  }
  if (options.store_name.find('/') != std::string::npos || options.store_name.starts_with("_")) {
    return UserError("state store name '{}' must not contain '/' or start with '_'",
                     options.store_name);
  }
  std::string dir = StoreDir(options);
  std::optional<Parked> parked = TakeParked(dir);
  if (parked && parked->backend->provider() == options.provider && parked->version == version) {
    if (parked->schema != options.schema) LS_RETURN_NOT_OK(CheckSchema(options));
    std::unique_ptr<StateStore> store(new StateStore(options, dir, std::move(parked->backend),
                                                     version, parked->last_snapshot_version));
    store->metrics_.num_rows_total = parked->rows_total;
    return store;
  }
  // A snapshot job of this dir must not publish or clean up under the load
  // (nor outlive the parked instance it may be reading).
  WaitForSnapshotJobs(dir, /*exact=*/true);
  parked.reset();  // a different version: reload from the checkpoint files

  LS_RETURN_NOT_OK(CheckSchema(options));
  LS_RETURN_NOT_OK(storage::LocalFs()->MakeDirs(dir));
  RemoveStaleTemps(dir);
  std::unique_ptr<StateBackend> backend;
  if (options.provider == StateStoreProvider::kMemory) {
    LS_ASSIGN_OR_RAISE(backend, internal::MakeMemoryBackend());
  } else {
    LS_ASSIGN_OR_RAISE(backend, internal::MakeRocksDBBackend(options, NewWorkingDir(options, dir)));
  }
  LS_ASSIGN_OR_RAISE(Loaded loaded, LoadVersion(dir, version, backend.get()));
  std::unique_ptr<StateStore> store(
      new StateStore(options, dir, std::move(backend), version, loaded.snapshot_version));
  store->metrics_.num_rows_total = loaded.rows_total;
  store->newest_on_disk_ = loaded.newest_on_disk;
  return store;
}

StateStore::~StateStore() {
  if (!backend_ || broken_) return;
  backend_->DropPending();
  Parked p;
  p.backend = std::move(backend_);
  p.version = version_;
  p.last_snapshot_version = last_snapshot_version_;
  p.rows_total = metrics_.num_rows_total;
  p.schema = options_.schema;
  Park(dir_, std::move(p));
}

Result<std::optional<std::string>> StateStore::Get(std::string_view key) {
  return backend_->Get(key);
}

Status StateStore::Put(std::string_view key, std::string_view value, KeyHint hint) {
  return backend_->Put(key, value, hint);
}

Status StateStore::Delete(std::string_view key, KeyHint hint) {
  return backend_->Delete(key, hint);
}

Status StateStore::PrefixScan(std::string_view prefix, const StateVisitor& fn) {
  return backend_->PrefixScan(prefix, fn);
}

void StateStore::Abort() { backend_->DropPending(); }

Result<int64_t> StateStore::Commit() {
  if (broken_) {
    return InternalError("state store '{}' is unusable after a failed commit; reopen it", dir_);
  }
  int64_t start = NowMs();
  int64_t next = version_ + 1;
  internal::RecordFileWriter log(internal::RecordFileKind::kChangelog, next);
  internal::CommitCounts counts;
  LS_RETURN_NOT_OK(backend_->EncodePending(&log, metrics_.num_rows_total, &counts));
  if (next <= newest_on_disk_) LS_RETURN_NOT_OK(RemoveAbandonedVersions(next));
  // The changelog is durable before the live state changes: after a crash
  // between the two, the live instance is discarded and the changelog replayed.
  LS_RETURN_NOT_OK(storage::LocalFs()->WriteAtomic(
      storage::JoinPath(dir_, fmt::format("{}.changelog", next)), log.Finish(counts.rows_total)));
  Status applied = backend_->ApplyPending();
  if (!applied.ok()) {
    broken_ = true;
    return applied;
  }
  version_ = next;
  metrics_.num_rows_total = counts.rows_total;
  metrics_.num_rows_updated = counts.rows_updated;
  metrics_.num_rows_removed = counts.rows_removed;
  // A failed snapshot or cleanup does not undo the commit: the changelog is
  // durable, and the snapshot is retried at the next commit.
  (void)MaybeSnapshotAndCleanup();
  metrics_.commit_time_ms = NowMs() - start;
  return version_;
}

// The store was loaded at an older version than its files reach (a batch
// re-run after a crash, or a restart from an earlier batch): the newer files
// are another run's and must not mix with this one's. Snapshots go first, so
// a crash in between leaves only loadable versions.
Status StateStore::RemoveAbandonedVersions(int64_t next) {
  LS_ASSIGN_OR_RAISE(internal::StoreFiles files, internal::ListStoreFiles(dir_));
  for (auto it = files.snapshots.lower_bound(next); it != files.snapshots.end(); ++it) {
    LS_RETURN_NOT_OK(internal::RemoveTree(it->second));
  }
  LS_RETURN_NOT_OK(FsyncDir(dir_));
  for (auto it = files.changelogs.upper_bound(next); it != files.changelogs.end(); ++it) {
    LS_RETURN_NOT_OK(storage::LocalFs()->Delete(it->second));
  }
  newest_on_disk_ = 0;
  return Status::OK();
}

Status StateStore::MaybeSnapshotAndCleanup() {
  if (options_.min_deltas_for_snapshot <= 0 ||
      version_ - last_snapshot_version_ < options_.min_deltas_for_snapshot) {
    return Status::OK();
  }
  static std::atomic<uint64_t> seq{0};
  std::string tmp = storage::JoinPath(
      dir_, fmt::format(".{}.snapshot.{}.{}.tmp", version_, ::getpid(), seq.fetch_add(1)));
  std::function<Status()> write;
  internal::StateBackend* backend = backend_.get();
  if (backend->SnapshotsFromFiles()) {
    // O(state) work off the commit path, merged from the files just written.
    write = [dir = dir_, v = version_, tmp] { return internal::WriteMergedSnapshot(dir, v, tmp); };
  } else {
    // The live instance stays at this version until the next ApplyPending,
    // which waits for the job (as do the backend's reloads and destructor).
    write = [backend, tmp, v = version_, rows = metrics_.num_rows_total] {
      return backend->WriteSnapshot(tmp, v, rows);
    };
  }
  std::shared_future<void> job =
      StartSnapshotJob(dir_, version_, options_.min_batches_to_retain, tmp, std::move(write));
  if (!backend->SnapshotsFromFiles()) backend->SetSnapshotJob(std::move(job));
  last_snapshot_version_ = version_;
  return Status::OK();
}

StateStoreMetrics StateStore::metrics() const {
  StateStoreMetrics m = metrics_;
  m.memory_used_bytes = backend_ ? backend_->MemoryUsedBytes() : 0;
  return m;
}

void WaitForStateStoreSnapshots(std::string_view dir_prefix) {
  WaitForSnapshotJobs(dir_prefix, /*exact=*/false);
}

void ReleaseCachedStateStores(std::string_view dir_prefix) {
  WaitForSnapshotJobs(dir_prefix, /*exact=*/false);
  std::vector<Parked> dropped;
  {
    ParkedStores& r = Registry();
    std::lock_guard<std::mutex> lock(r.mu);
    for (auto it = r.by_dir.begin(); it != r.by_dir.end();) {
      if (std::string_view(it->first).substr(0, dir_prefix.size()) == dir_prefix) {
        dropped.push_back(std::move(it->second));
        it = r.by_dir.erase(it);
      } else {
        ++it;
      }
    }
  }
}

Result<std::vector<StateRow>> ReadStateRows(std::string_view store_dir, int64_t version) {
  std::string dir(store_dir);
  LS_ASSIGN_OR_RAISE(auto backend, internal::MakeMemoryBackend());
  LS_RETURN_NOT_OK(LoadVersion(dir, version, backend.get()).status());
  std::vector<StateRow> rows;
  LS_RETURN_NOT_OK(backend->PrefixScan("", [&](std::string_view k, std::string_view v) {
    rows.push_back(StateRow{std::string(k), std::string(v)});
    return Status::OK();
  }));
  return rows;
}

Result<std::vector<int64_t>> ListStateVersions(std::string_view store_dir) {
  std::string dir(store_dir);
  LS_ASSIGN_OR_RAISE(internal::StoreFiles files, internal::ListStoreFiles(dir));
  std::vector<int64_t> out;
  int64_t lo = INT64_MAX, hi = 0;
  if (!files.changelogs.empty()) lo = files.changelogs.begin()->first;
  if (!files.snapshots.empty()) lo = std::min(lo, files.snapshots.begin()->first);
  if (!files.changelogs.empty()) hi = files.changelogs.rbegin()->first;
  if (!files.snapshots.empty()) hi = std::max(hi, files.snapshots.rbegin()->first);
  for (int64_t v = lo; v <= hi; ++v) {
    if (internal::PlanLoad(dir, files, v).ok()) out.push_back(v);
  }
  return out;
}

Result<std::optional<std::string>> ReadStateSchema(std::string_view state_dir,
                                                   int64_t operator_id) {
  std::string path = SchemaPath(std::string(state_dir), operator_id);
  auto content = storage::LocalFs()->ReadAll(path);
  if (!content.ok()) {
    if (storage::IsNotFound(content.status())) return std::optional<std::string>();
    return content.status();
  }
  return std::optional<std::string>(std::move(*content));
}

}  // namespace lakestream::state
