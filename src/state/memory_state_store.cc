// The in-memory state provider: the committed state is a sorted map, the
// changes of the version being built an overlay map (so Abort is dropping the
// overlay and Commit's changelog is the overlay itself). Each change records
// where its key sits in the committed map when first touched, so a commit
// costs O(changes) with no lookups in the (large) committed map. Snapshots are
// record files, merged from the previous snapshot and the changelogs in the
// background (StateStore), never from the live map. For small state and tests;
// RocksDB is the default.
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
    if (auto p = pending_.find(key); p != pending_.end()) return p->second.value;
    // Remember where the key is in the committed map: the operators read a
    // key and then put it, and the put reuses this lookup.
    Base::iterator at = base_.lower_bound(key);
    last_get_key_.assign(key.data(), key.size());
    last_get_at_ = at;
    last_get_valid_ = true;
    if (at != base_.end() && at->first == key) return std::optional<std::string>(at->second);
    return std::optional<std::string>();
  }

  // Hints are not used: a new change needs its key's position in base_ anyway.
  Status Put(std::string_view key, std::string_view value, KeyHint) override {
    Change& c = Touch(key);
    if (c.value) pending_bytes_ -= static_cast<int64_t>(c.value->size());
    c.value = std::string(value);
    pending_bytes_ += static_cast<int64_t>(value.size());
    return Status::OK();
  }

  Status Delete(std::string_view key, KeyHint) override {
    Change& c = Touch(key);
    if (c.value) pending_bytes_ -= static_cast<int64_t>(c.value->size());
    c.value.reset();
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
        if (p->second.value) LS_RETURN_NOT_OK(fn(p->first, *p->second.value));
        ++p;
      } else {
        LS_RETURN_NOT_OK(fn(b->first, b->second));
        ++b;
      }
    }
    return Status::OK();
  }

  // No lookups in the committed map: each change knows whether its key existed.
  Status EncodePending(RecordFileWriter* log, int64_t rows_total_before,
                       CommitCounts* counts) override {
    counts->rows_total = rows_total_before;
    for (const auto& [key, c] : pending_) {
      if (c.value) {
        log->Put(key, *c.value);
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

  // O(changes): every change carries its position in the committed map (the
  // entry itself, or the first entry after it). New keys are inserted in
  // ascending order right before that position, which no earlier insertion or
  // erase (all of smaller keys) has moved, so each insertion is amortized O(1).
  Status ApplyPending() override {
    for (auto& [key, c] : pending_) {
      if (c.existed) {
        if (c.value) {
          base_bytes_ +=
              static_cast<int64_t>(c.value->size()) - static_cast<int64_t>(c.at->second.size());
          c.at->second = std::move(*c.value);
        } else {
          base_bytes_ -= static_cast<int64_t>(key.size() + c.at->second.size()) + kEntryOverhead;
          base_.erase(c.at);
        }
      } else if (c.value) {
        base_bytes_ += static_cast<int64_t>(key.size() + c.value->size()) + kEntryOverhead;
        base_.emplace_hint(c.at, key, std::move(*c.value));
      }
    }
    DropPending();
    return Status::OK();
  }

  void DropPending() override {
    pending_.clear();
    pending_bytes_ = 0;
    last_get_valid_ = false;
  }

  Status ApplyRecords(const std::vector<Record>& records) override {
    last_get_valid_ = false;
    for (const Record& r : records) Apply(r.key, r.value);
    return Status::OK();
  }

  Status LoadRocksDBSnapshot(const std::string& snapshot_dir) override {
    last_get_valid_ = false;
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

  bool SnapshotsFromFiles() const override { return true; }

  int64_t MemoryUsedBytes() override { return base_bytes_ + pending_bytes_; }

 private:
  using Base = std::map<std::string, std::string, std::less<>>;

  // A pending change and where its key is in `base_`.
  struct Change {
    std::optional<std::string> value;  // empty: deleted
    bool existed = false;              // the key is in base_, at `at`
    Base::iterator at;                 // the key's entry, or the first entry after it
  };

  // The pending change of `key`, created on first touch with the key's
  // position in base_ (from the preceding Get of the same key if there was one).
  Change& Touch(std::string_view key) {
    auto [it, inserted] = pending_.try_emplace(std::string(key));
    if (!inserted) return it->second;
    Change& c = it->second;
    c.at = last_get_valid_ && last_get_key_ == key ? last_get_at_ : base_.lower_bound(key);
    c.existed = c.at != base_.end() && c.at->first == key;
    pending_bytes_ += static_cast<int64_t>(key.size()) + kEntryOverhead;
    return c;
  }

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

  Base base_;
  std::map<std::string, Change, std::less<>> pending_;
  int64_t base_bytes_ = 0;
  int64_t pending_bytes_ = 0;
  // The position the last Get found in base_ (valid until base_ changes).
  std::string last_get_key_;
  Base::iterator last_get_at_;
  bool last_get_valid_ = false;
};

}  // namespace

Result<std::unique_ptr<StateBackend>> MakeMemoryBackend() {
  return std::unique_ptr<StateBackend>(new MemoryBackend());
}

}  // namespace lakestream::state::internal
