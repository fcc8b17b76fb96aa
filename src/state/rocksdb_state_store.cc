// The RocksDB state provider. The live state is a working RocksDB instance in
// a local folder; the changes of the version being built sit in an ordered
// overlay map in front of it (reads merge both), so Abort drops the overlay
// and Commit's changelog is the overlay's net changes, O(changes): whether a
// changed key existed is noted when it is first touched (from the writer's
// KeyHint or the Get just before it), so the commit reads nothing from the
// database, and the net changes are written to it in key order.
//
// Durability comes from the changelog files StateStore writes, not from
// RocksDB: the working instance runs without a WAL and is thrown away after a
// crash (it is rebuilt from the newest snapshot plus changelogs). Snapshots are
// RocksDB checkpoints (a memtable flush and hard links to the immutable SST
// files, so O(memtable + files)), taken on a background thread while the next
// batch runs: its changes stay in the overlay until its commit,
// whose ApplyPending waits for the checkpoint.
//
// Options are sized for many small instances per process (one per operator x
// shuffle partition): small memtables, one block cache shared by all
// instances, with memtables charged to it through a shared WriteBufferManager,
// so the whole process stays under StateStoreOptions::rocksdb_memory_bytes.
#include <fcntl.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_buffer_manager.h>
#include <unistd.h>

#include <cstdarg>
#include <filesystem>
#include <map>
#include <memory_resource>
#include <mutex>

#include "state/state_backend_internal.h"
#include "storage/filesystem.h"

namespace lakestream::state {
namespace internal {
namespace {

// Working instances and snapshots write no LOG files (they would pile up in
// every store dir and checkpoint).
class NullLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

Status FromRocks(const rocksdb::Status& st, std::string_view what, std::string_view path) {
  if (st.ok()) return Status::OK();
  return IOErrorAt("RocksDB state store: {} '{}': {}", what, path, st.ToString());
}

// The process-wide memory budget shared by every RocksDB state store.
struct SharedMemory {
  std::mutex mu;
  std::shared_ptr<rocksdb::Cache> cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
  int64_t capacity = 0;
};

SharedMemory& Shared() {
  static SharedMemory* m = new SharedMemory();  // never destroyed: DBs may outlive statics
  return *m;
}

// Half of the budget may be memtables (Spark's writeBufferCacheRatio 0.5);
// both count against the one cache capacity.
void EnsureSharedMemory(int64_t bytes) {
  SharedMemory& m = Shared();
  std::lock_guard<std::mutex> lock(m.mu);
  bytes = std::max<int64_t>(bytes, 8 << 20);
  if (!m.cache) {
    // Few shards: a shard must hold the largest block the stores read (with
    // 64 shards of a 256 MiB cache, a 5 MB filter block of a multi-million-
    // key store did not fit and was read again from disk on every Get).
    m.cache = rocksdb::NewLRUCache(static_cast<size_t>(bytes), /*num_shard_bits=*/2);
    m.write_buffers =
        std::make_shared<rocksdb::WriteBufferManager>(static_cast<size_t>(bytes / 2), m.cache);
    m.capacity = bytes;
  } else if (bytes > m.capacity) {
    m.cache->SetCapacity(static_cast<size_t>(bytes));
    m.write_buffers->SetBufferSize(static_cast<size_t>(bytes / 2));
    m.capacity = bytes;
  }
}

rocksdb::Options MakeOptions(const StateStoreOptions& o) {
  EnsureSharedMemory(o.rocksdb_memory_bytes);
  rocksdb::Options options;
  options.create_if_missing = true;
  options.info_log = std::make_shared<NullLogger>();
  options.write_buffer_size =
      static_cast<size_t>(std::max<int64_t>(o.rocksdb_write_buffer_bytes, 64 << 10));
  options.max_write_buffer_number = 2;
  options.write_buffer_manager = Shared().write_buffers;
  options.max_background_jobs = 2;
  options.max_open_files = 256;
  // A bloom filter over the memtable's whole keys: most lookups of a new
  // group or join key miss, and without it each miss walks the skip list.
  options.memtable_prefix_bloom_size_ratio = 0.05;
  options.memtable_whole_key_filtering = true;
  // The working instance is disposable: skip the flush on close.
  options.avoid_flush_during_shutdown = true;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = Shared().cache;
  // Index and filter blocks live in the (bounded) cache instead of beside it.
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // Partitioned index and filters: a large file's metadata comes in small
  // blocks that are cached one by one, with only the top level pinned.
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.pin_top_level_index_and_filter = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

Status CopyFile(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return IOErrorAt("cannot copy '{}' to '{}': {}", from, to, ec.message());
  return Status::OK();
}

class RocksDBBackend final : public StateBackend {
 public:
  RocksDBBackend(const StateStoreOptions& options, std::string working_dir)
      : options_(MakeOptions(options)),
        working_dir_(std::move(working_dir)),
        pending_(&arena_),
        last_put_(pending_.end()) {
    // No WAL: durability comes from the changelog written before each apply.
    write_options_.disableWAL = true;
  }

  ~RocksDBBackend() override {
    WaitForSnapshotJob();
    Close();
    (void)RemoveTree(working_dir_);
  }

  Status OpenEmpty() {
    LS_RETURN_NOT_OK(RemoveTree(working_dir_));
    LS_RETURN_NOT_OK(storage::LocalFs()->MakeDirs(working_dir_));
    return OpenDb();
  }

  StateStoreProvider provider() const override { return StateStoreProvider::kRocksDB; }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    if (auto p = pending_.find(key); p != pending_.end()) {
      if (p->second.deleted) return std::optional<std::string>();
      return std::optional<std::string>(std::string(p->second.value));
    }
    std::string value;
    rocksdb::Status st = db_->Get(read_options_, ToSlice(key), &value);
    if (st.ok() || st.IsNotFound()) {
      // The put that usually follows reuses this lookup.
      last_get_key_.assign(key.data(), key.size());
      last_get_found_ = st.ok();
      last_get_valid_ = true;
    }
    if (st.IsNotFound()) return std::optional<std::string>();
    LS_RETURN_NOT_OK(FromRocks(st, "get from", working_dir_));
    return std::optional<std::string>(std::move(value));
  }

  Status Put(std::string_view key, std::string_view value, KeyHint hint) override {
    LS_ASSIGN_OR_RAISE(Change * c, Touch(key, hint));
    pending_bytes_ += static_cast<int64_t>(value.size()) - static_cast<int64_t>(c->value.size());
    c->value.assign(value.data(), value.size());
    c->deleted = false;
    return Status::OK();
  }

  Status Delete(std::string_view key, KeyHint hint) override {
    LS_ASSIGN_OR_RAISE(Change * c, Touch(key, hint));
    pending_bytes_ -= static_cast<int64_t>(c->value.size());
    c->value.clear();
    c->deleted = true;
    return Status::OK();
  }

  // The database's entries merged with the pending changes (which win).
  Status PrefixScan(std::string_view prefix, const StateVisitor& fn) override {
    rocksdb::ReadOptions ro = read_options_;
    std::string upper;
    rocksdb::Slice upper_slice;
    if (PrefixUpperBound(prefix, &upper)) {
      upper_slice = rocksdb::Slice(upper);
      ro.iterate_upper_bound = &upper_slice;
    }
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    it->Seek(ToSlice(prefix));
    auto p = pending_.lower_bound(prefix);
    auto in_prefix = [&](std::string_view k) { return k.substr(0, prefix.size()) == prefix; };
    while (true) {
      const bool d_ok = it->Valid();
      const bool p_ok = p != pending_.end() && in_prefix(p->first);
      if (!d_ok && !p_ok) break;
      std::string_view dk = d_ok ? std::string_view(it->key().data(), it->key().size()) : "";
      if (p_ok && (!d_ok || std::string_view(p->first) <= dk)) {
        if (d_ok && std::string_view(p->first) == dk) it->Next();  // the change wins
        if (!p->second.deleted) LS_RETURN_NOT_OK(fn(p->first, p->second.value));
        ++p;
      } else {
        LS_RETURN_NOT_OK(fn(dk, std::string_view(it->value().data(), it->value().size())));
        it->Next();
      }
    }
    return FromRocks(it->status(), "scan", working_dir_);
  }

  // No reads of the database: whether each key existed was noted when it was
  // first touched. The changes applied are the net ones only, in key order.
  Status EncodePending(RecordFileWriter* log, int64_t rows_total_before,
                       CommitCounts* counts) override {
    counts->rows_total = rows_total_before;
    for (const auto& [key, c] : pending_) {
      if (!c.deleted) {
        log->Put(key, c.value);
        ++counts->rows_updated;
        if (!c.existed) ++counts->rows_total;
      } else if (c.existed) {
        log->Delete(key);
        ++counts->rows_removed;
        --counts->rows_total;
      }
    }
    return Status::OK();
  }

  // The net changes as one write batch in key order (the memtable inserts
  // sorted keys faster). Ingesting large batches as SST files instead saved
  // ~10% CPU on Nexmark q5/q7 but made the process RSS grow batch after batch
  // under a moving watermark (test_state_bounded), so it is not done.
  Status ApplyPending() override {
    WaitForSnapshotJob();
    rocksdb::WriteBatch batch;
    for (const auto& [key, c] : pending_) {
      rocksdb::Status st = !c.deleted  ? batch.Put(ToSlice(key), ToSlice(c.value))
                           : c.existed ? batch.Delete(ToSlice(key))
                                       : rocksdb::Status::OK();
      LS_RETURN_NOT_OK(FromRocks(st, "batch for", working_dir_));
    }
    LS_RETURN_NOT_OK(FromRocks(db_->Write(write_options_, &batch), "write to", working_dir_));
    DropPending();
    return Status::OK();
  }

  void DropPending() override {
    pending_.clear();
    last_put_ = pending_.end();
    arena_.release();
    pending_bytes_ = 0;
    last_get_valid_ = false;
  }

  Status ApplyRecords(const std::vector<Record>& records) override {
    WaitForSnapshotJob();
    last_get_valid_ = false;
    rocksdb::WriteBatch batch;
    for (const Record& r : records) {
      rocksdb::Status st =
          r.value ? batch.Put(ToSlice(r.key), ToSlice(*r.value)) : batch.Delete(ToSlice(r.key));
      LS_RETURN_NOT_OK(FromRocks(st, "batch for", working_dir_));
      if (batch.GetDataSize() > (8u << 20)) {
        LS_RETURN_NOT_OK(FromRocks(db_->Write(write_options_, &batch), "write to", working_dir_));
        batch.Clear();
      }
    }
    return FromRocks(db_->Write(write_options_, &batch), "write to", working_dir_);
  }

  // The snapshot's SST files are immutable, so the working instance hard-links
  // them (RocksDB never modifies an SST, and deleting its link leaves the
  // snapshot's); the small MANIFEST/CURRENT/OPTIONS files are copied.
  Status LoadRocksDBSnapshot(const std::string& snapshot_dir) override {
    WaitForSnapshotJob();
    last_get_valid_ = false;
    Close();
    LS_RETURN_NOT_OK(RemoveTree(working_dir_));
    LS_RETURN_NOT_OK(storage::LocalFs()->MakeDirs(working_dir_));
    std::string db_dir = storage::JoinPath(snapshot_dir, kSnapshotDbDir);
    LS_ASSIGN_OR_RAISE(auto files, storage::LocalFs()->List(db_dir));
    for (const auto& f : files) {
      std::string to = storage::JoinPath(working_dir_, f.name);
      bool sst = f.name.size() > 4 && f.name.substr(f.name.size() - 4) == ".sst";
      if (sst && ::link(f.path.c_str(), to.c_str()) == 0) continue;
      LS_RETURN_NOT_OK(CopyFile(f.path, to));
    }
    return OpenDb();
  }

  Status WriteSnapshot(const std::string& tmp_path, int64_t version, int64_t rows_total) override {
    LS_RETURN_NOT_OK(storage::LocalFs()->MakeDirs(tmp_path));
    rocksdb::Checkpoint* raw = nullptr;
    LS_RETURN_NOT_OK(
        FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint", working_dir_));
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    // log_size_for_flush = 0: always flush first, since memtables are not in
    // any WAL.
    std::string db_dir = storage::JoinPath(tmp_path, kSnapshotDbDir);
    LS_RETURN_NOT_OK(FromRocks(cp->CreateCheckpoint(db_dir, 0), "create checkpoint", db_dir));
    RecordFileWriter meta(RecordFileKind::kSnapshot, version);
    return storage::LocalFs()->WriteAtomic(storage::JoinPath(tmp_path, kSnapshotMetaFile),
                                           meta.Finish(rows_total));
  }

  void SetSnapshotJob(std::shared_future<void> job) override { snapshot_job_ = std::move(job); }

  int64_t MemoryUsedBytes() override {
    uint64_t mem = 0, readers = 0;
    db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
    db_->GetIntProperty("rocksdb.estimate-table-readers-mem", &readers);
    return static_cast<int64_t>(mem + readers) + pending_bytes_;
  }

  const rocksdb::Options& rocksdb_options() const { return options_; }

 private:
  // A pending change: the new value or a delete, and whether the key is in
  // the database (the committed state), so a commit counts rows without
  // reading it.
  struct Change {
    explicit Change(std::pmr::polymorphic_allocator<char> alloc) : value(alloc) {}
    std::pmr::string value;
    bool deleted = false;
    bool existed = false;
  };
  using Pending = std::pmr::map<std::pmr::string, Change, std::less<>>;
  static constexpr int64_t kChangeOverhead = 96;  // map node + key header

  static rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

  // The smallest key greater than every key starting with `prefix`; false if
  // there is none (empty prefix or all 0xff).
  static bool PrefixUpperBound(std::string_view prefix, std::string* out) {
    *out = std::string(prefix);
    while (!out->empty() && static_cast<uint8_t>(out->back()) == 0xff) out->pop_back();
    if (out->empty()) return false;
    out->back() = static_cast<char>(static_cast<uint8_t>(out->back()) + 1);
    return true;
  }

  // The pending change of `key`, created on first touch with whether the key
  // is in the database: from the hint, else from the Get just before if it
  // read that key, else looked up. Operators write in key order (a batch's
  // new rows, an eviction's deletes), so the position after the last write is
  // tried first and such a run of writes inserts without a search.
  Result<Change*> Touch(std::string_view key, KeyHint hint) {
    Pending::iterator at;
    if (last_put_ != pending_.end() && std::string_view(last_put_->first) < key) {
      at = std::next(last_put_);
      if (at != pending_.end() && std::string_view(at->first) < key) at = pending_.lower_bound(key);
    } else {
      at = pending_.lower_bound(key);
    }
    if (at != pending_.end() && std::string_view(at->first) == key) {
      last_put_ = at;
      return &at->second;
    }
    bool existed;
    if (hint != KeyHint::kUnknown) {
      existed = hint == KeyHint::kPresent;
    } else if (last_get_valid_ && last_get_key_ == key) {
      existed = last_get_found_;
    } else {
      std::string value;
      bool value_found = false;
      if (!db_->KeyMayExist(read_options_, db_->DefaultColumnFamily(), ToSlice(key), &value,
                            &value_found)) {
        existed = false;
      } else {
        rocksdb::PinnableSlice existing;
        rocksdb::Status st =
            db_->Get(read_options_, db_->DefaultColumnFamily(), ToSlice(key), &existing);
        if (!st.ok() && !st.IsNotFound()) return FromRocks(st, "get from", working_dir_);
        existed = st.ok();
      }
    }
    at = pending_.emplace_hint(at, std::piecewise_construct, std::forward_as_tuple(key),
                               std::forward_as_tuple(pending_.get_allocator()));
    at->second.existed = existed;
    pending_bytes_ += static_cast<int64_t>(key.size()) + kChangeOverhead;
    last_put_ = at;
    return &at->second;
  }

  void WaitForSnapshotJob() {
    if (snapshot_job_.valid()) {
      snapshot_job_.wait();
      snapshot_job_ = {};
    }
  }

  Status OpenDb() {
    rocksdb::DB* raw = nullptr;
    LS_RETURN_NOT_OK(
        FromRocks(rocksdb::DB::Open(options_, working_dir_, &raw), "open", working_dir_));
    db_.reset(raw);
    return Status::OK();
  }

  void Close() {
    if (db_) {
      (void)db_->Close();
      db_.reset();
    }
  }

  rocksdb::Options options_;
  std::string working_dir_;
  std::unique_ptr<rocksdb::DB> db_;
  // The changes of the version being built, in key order, allocated from an
  // arena that is dropped whole with them: one map node per changed key
  // instead of RocksDB's indexed write batch plus a hash set of touched keys.
  std::pmr::monotonic_buffer_resource arena_;
  Pending pending_;
  Pending::iterator last_put_;
  int64_t pending_bytes_ = 0;
  // The key the last Get read from the database, and whether it was there.
  std::string last_get_key_;
  bool last_get_found_ = false;
  bool last_get_valid_ = false;
  // The background checkpoint of the committed state, if one runs (the
  // database must not change under it).
  std::shared_future<void> snapshot_job_;
  rocksdb::ReadOptions read_options_;
  rocksdb::WriteOptions write_options_;
};

}  // namespace

Result<std::unique_ptr<StateBackend>> MakeRocksDBBackend(const StateStoreOptions& options,
                                                         const std::string& working_dir) {
  auto backend = std::make_unique<RocksDBBackend>(options, working_dir);
  LS_RETURN_NOT_OK(backend->OpenEmpty());
  return std::unique_ptr<StateBackend>(std::move(backend));
}

Status ForEachInRocksDBSnapshot(const std::string& snapshot_dir, const StateVisitor& fn) {
  rocksdb::Options options;
  options.info_log = std::make_shared<NullLogger>();
  options.create_if_missing = false;
  std::string db_dir = storage::JoinPath(snapshot_dir, kSnapshotDbDir);
  rocksdb::DB* raw = nullptr;
  LS_RETURN_NOT_OK(FromRocks(rocksdb::DB::OpenForReadOnly(options, db_dir, &raw),
                             "open state snapshot", db_dir));
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    LS_RETURN_NOT_OK(fn(std::string_view(it->key().data(), it->key().size()),
                        std::string_view(it->value().data(), it->value().size())));
  }
  return FromRocks(it->status(), "read state snapshot", db_dir);
}

}  // namespace internal

int64_t RocksDBSharedCacheCapacity() {
  internal::SharedMemory& m = internal::Shared();
  std::lock_guard<std::mutex> lock(m.mu);
  return m.cache ? static_cast<int64_t>(m.cache->GetCapacity()) : 0;
}

int64_t RocksDBSharedWriteBufferBytes() {
  internal::SharedMemory& m = internal::Shared();
  std::lock_guard<std::mutex> lock(m.mu);
  return m.write_buffers ? static_cast<int64_t>(m.write_buffers->buffer_size()) : 0;
}

}  // namespace lakestream::state
