// OperatorState over the state layer's stores: one StateStore per shuffle
// partition (RocksDB by default; spark.sql.streaming.stateStore.providerClass
// may name the in-memory one), keys routed by a stable hash.
#include "stream/operator_state.h"

#include <charconv>
#include <chrono>
#include <filesystem>
#include <future>
#include <vector>

#include "state/state_store.h"
#include "storage/filesystem.h"

namespace lakestream::stream {

namespace {

// FNV-1a: stable across processes and builds, so a key finds its partition
// after a restart.
uint64_t StableHash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

class PartitionedState : public OperatorState {
 public:
  PartitionedState(std::vector<state::StateStoreOptions> options, KeyRouter router)
      : options_(std::move(options)), router_(router) {
    stores_.resize(options_.size());
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    return Store(key)->Get(key);
  }
  Status Put(std::string_view key, std::string_view value, exec::KeyHint hint) override {
    return Store(key)->Put(key, value, hint);
  }
  Status Delete(std::string_view key, exec::KeyHint hint) override {
    return Store(key)->Delete(key, hint);
  }
  Status Scan(const std::function<Status(std::string_view, std::string_view)>& fn) override {
    for (auto& s : stores_) ARROW_RETURN_NOT_OK(s->Scan(fn));
    return Status::OK();
  }

  Status PrefixScan(std::string_view prefix,
                    const std::function<Status(std::string_view, std::string_view)>& fn) override {
    // Cancelled from `fn` ends one store's scan (entries come in key order
    // within a store); the other stores are still scanned.
    for (auto& s : stores_) {
      Status st = s->PrefixScan(prefix, fn);
      if (!st.ok() && !st.IsCancelled()) return st;
    }
    return Status::OK();
  }

  Status PrefixScanIn(
      std::string_view route, std::string_view prefix,
      const std::function<Status(std::string_view, std::string_view)>& fn) override {
    Status st = StoreOfRoute(route)->PrefixScan(prefix, fn);
    return st.IsCancelled() ? Status::OK() : st;
  }

  Status Load(int64_t version) override {
    for (size_t p = 0; p < stores_.size(); ++p) {
      if (stores_[p] && stores_[p]->version() == version) {
        stores_[p]->Abort();
        continue;
      }
      stores_[p].reset();
      ARROW_ASSIGN_OR_RAISE(stores_[p], state::StateStore::Open(options_[p], version));
    }
    return Status::OK();
  }

  Status Commit() override {
    auto t0 = std::chrono::steady_clock::now();
    // The stores commit side by side: most of a small commit is waiting for
    // its changelog's fsync, once per store.
    std::vector<std::future<Status>> others;
    for (size_t p = 1; p < stores_.size(); ++p) {
      others.push_back(
          std::async(std::launch::async, [s = stores_[p].get()] { return s->Commit().status(); }));
    }
    std::vector<Status> results{stores_[0]->Commit().status()};
    for (auto& f : others) results.push_back(f.get());
    Status first;
    for (size_t p = 0; p < stores_.size(); ++p) {
      if (results[p].ok()) continue;
      stores_[p].reset();  // a failed commit leaves the live state untrustworthy: reload next time
      if (first.ok()) first = results[p];
    }
    if (!first.ok()) return first;
    commit_ms_ =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    return Status::OK();
  }

  int partitions() const override { return static_cast<int>(stores_.size()); }

  OperatorStateMetrics metrics() const override {
    OperatorStateMetrics m;
    for (const auto& s : stores_) {
      if (!s) continue;
      const auto sm = s->metrics();
      m.memory_used_bytes += sm.memory_used_bytes;
      m.num_rows_total += sm.num_rows_total;
      m.num_rows_updated += sm.num_rows_updated;
      m.num_rows_removed += sm.num_rows_removed;
    }
    m.commit_time_ms = commit_ms_;
    return m;
  }

 private:
  state::StateStore* Store(std::string_view key) {
    if (stores_.size() == 1) return stores_[0].get();
    return StoreOfRoute(router_ ? router_(key) : key);
  }
  state::StateStore* StoreOfRoute(std::string_view route) {
    if (stores_.size() == 1) return stores_[0].get();
    return stores_[StableHash(route) % stores_.size()].get();
  }

  std::vector<state::StateStoreOptions> options_;
  KeyRouter router_;
  std::vector<std::unique_ptr<state::StateStore>> stores_;
  int64_t commit_ms_ = 0;
};

// The operator's partition count as its checkpoint records it (keys are
// routed by it), `requested` for a new one. Spark keeps it in the offset
// log; here it sits beside the operator's schema, and checkpoints from
// before the record have it counted from their partition folders.
Result<int> RecordedPartitions(const std::string& state_dir, int64_t operator_id, int requested) {
  auto fs = storage::LocalFs();
  const std::string dir =
      storage::JoinPath(storage::JoinPath(state_dir, std::to_string(operator_id)), "_metadata");
  const std::string path = storage::JoinPath(dir, "partitions");
  ARROW_ASSIGN_OR_RAISE(bool recorded, fs->Exists(path));
  if (!recorded) {
    state::StateStoreOptions probe;
    probe.state_dir = state_dir;
    probe.operator_id = operator_id;
    int existing = 0;
    for (;; ++existing) {
      probe.partition_id = existing;
      std::error_code ec;
      if (!std::filesystem::is_directory(state::StoreDir(probe), ec)) break;
    }
    const int partitions = existing > 0 ? existing : requested;
    ARROW_RETURN_NOT_OK(fs->MakeDirs(dir));
    Status put = fs->PutIfAbsent(path, std::to_string(partitions));
    if (put.ok()) return partitions;
    if (!storage::IsAlreadyExists(put)) return put;
  }
  ARROW_ASSIGN_OR_RAISE(std::string text, fs->ReadAll(path));
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1) {
    return UserError("state checkpoint file '{}' should hold a partition count, not '{}'", path,
                     text.substr(0, 40));
  }
  return n;
}

}  // namespace

Result<std::unique_ptr<OperatorState>> OperatorState::Open(const std::string& state_dir,
                                                           int64_t operator_id, int partitions,
                                                           const std::string& schema,
                                                           const std::string& operator_name,
                                                           bool in_memory, KeyRouter router) {
  ARROW_ASSIGN_OR_RAISE(partitions, RecordedPartitions(state_dir, operator_id, partitions));
  std::vector<state::StateStoreOptions> all;
  for (int p = 0; p < partitions; ++p) {
    state::StateStoreOptions o;
    o.state_dir = state_dir;
    o.operator_id = operator_id;
    o.partition_id = p;
    o.schema = schema;
    o.operator_name = operator_name;
    o.provider =
        in_memory ? state::StateStoreProvider::kMemory : state::StateStoreProvider::kRocksDB;
    all.push_back(std::move(o));
  }
  return std::make_unique<PartitionedState>(std::move(all), router);
}

}  // namespace lakestream::stream
