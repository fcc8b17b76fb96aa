// The in-memory state provider: the committed state is a sorted map, the
// changes of the version being built an overlay map (so Abort is dropping the
// overlay and Commit's changelog is the overlay itself). Snapshots are record
// files. For small state and tests; RocksDB is the default.
#include <map>

#include "state/state_backend_internal.h"
#include "storage/filesystem.h"

namespace lakestream::state::internal {
namespace {

// Rough per-entry cost of a std::map node, for memoryUsedBytes.
constexpr int64_t kEntryOverhead = 64;

class MemoryBackend final : public StateBackend {
 public:
  StateStoreProvider provider() const override { return StateStoreProvider::kMemory; }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    if (auto p = pending_.find(key); p != pending_.end()) return p->second;
    if (auto b = base_.find(key); b != base_.end()) return std::optional<std::string>(b->second);
    return std::optional<std::string>();
  }

  Status Put(std::string_view key, std::string_view value) override {
    auto [it, inserted] = pending_.try_emplace(std::string(key));
    if (inserted) pending_bytes_ += static_cast<int64_t>(key.size()) + kEntryOverhead;
    if (it->second) pending_bytes_ -= static_cast<int64_t>(it->second->size());
    it->second = std::string(value);
    pending_bytes_ += static_cast<int64_t>(value.size());
    return Status::OK();
  }

  Status Delete(std::string_view key) override {
    auto [it, inserted] = pending_.try_emplace(std::string(key));
    if (inserted) pending_bytes_ += static_cast<int64_t>(key.size()) + kEntryOverhead;
    if (it->second) pending_bytes_ -= static_cast<int64_t>(it->second->size());
    it->second.reset();
    return Status::OK();
  }

  Status PrefixScan(std::string_view prefix, const StateVisitor& fn) override {
    auto b = base_.lower_bound(prefix);
    auto p = pending_.lower_bound(prefix);
    auto in_prefix = [&](const std::string& k) {
      return std::string_view(k).substr(0, prefix.size()) == prefix;
    };
    while (true) {
      bool b_ok = b != base_.end() && in_prefix(b->first);
      bool p_ok = p != pending_.end() && in_prefix(p->first);
      if (!b_ok && !p_ok) break;
      if (p_ok && (!b_ok || p->first <= b->first)) {
        if (b_ok && p->first == b->first) ++b;  // the overlay wins
        if (p->second) LS_RETURN_NOT_OK(fn(p->first, *p->second));
        ++p;
      } else {
        LS_RETURN_NOT_OK(fn(b->first, b->second));
        ++b;
      }
    }
    return Status::OK();
  }

  Status EncodePending(RecordFileWriter* log, int64_t rows_total_before,
                       CommitCounts* counts) override {
    counts->rows_total = rows_total_before;
    for (const auto& [key, value] : pending_) {
      bool existed = base_.count(key) > 0;
      if (value) {
        log->Put(key, *value);
        ++counts->rows_updated;
        if (!existed) ++counts->rows_total;
      } else if (existed) {
        log->Delete(key);
        ++counts->rows_removed;
        --counts->rows_total;
      }
    }
    return Status::OK();
  }

  Status ApplyPending() override {
    for (auto& [key, value] : pending_) Apply(key, value ? std::optional<std::string_view>(*value)
                                                         : std::nullopt);
    DropPending();
    return Status::OK();
  }

  void DropPending() override {
    pending_.clear();
    pending_bytes_ = 0;
  }

  Status ApplyRecords(const std::vector<Record>& records) override {
    for (const Record& r : records) Apply(r.key, r.value);
    return Status::OK();
  }

  Status LoadRocksDBSnapshot(const std::string& snapshot_dir) override {
    return ForEachInRocksDBSnapshot(snapshot_dir, [&](std::string_view k, std::string_view v) {
      Apply(k, v);
      return Status::OK();
    });
  }

  Status WriteSnapshot(const std::string& tmp_path, int64_t version, int64_t rows_total) override {
    RecordFileWriter w(RecordFileKind::kSnapshot, version);
    for (const auto& [k, v] : base_) w.Put(k, v);
    return storage::LocalFs()->WriteAtomic(tmp_path, w.Finish(rows_total));
  }

  int64_t MemoryUsedBytes() override { return base_bytes_ + pending_bytes_; }

 private:
  void Apply(std::string_view key, std::optional<std::string_view> value) {
    auto it = base_.find(key);
    if (value) {
      if (it == base_.end()) {
        base_.emplace(std::string(key), std::string(*value));
        base_bytes_ += static_cast<int64_t>(key.size() + value->size()) + kEntryOverhead;
      } else {
        base_bytes_ +=
            static_cast<int64_t>(value->size()) - static_cast<int64_t>(it->second.size());
        it->second.assign(value->data(), value->size());
      }
    } else if (it != base_.end()) {
      base_bytes_ -= static_cast<int64_t>(it->first.size() + it->second.size()) + kEntryOverhead;
      base_.erase(it);
    }
  }

  std::map<std::string, std::string, std::less<>> base_;
  std::map<std::string, std::optional<std::string>, std::less<>> pending_;
  int64_t base_bytes_ = 0;
  int64_t pending_bytes_ = 0;
};

}  // namespace

Result<std::unique_ptr<StateBackend>> MakeMemoryBackend() {
  return std::unique_ptr<StateBackend>(new MemoryBackend());
}

}  // namespace lakestream::state::internal
