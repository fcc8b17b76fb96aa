// The state checkpoint files: the record-file format (changelogs and the
// in-memory provider's snapshots), listing a store dir by version, planning a
// load, and deleting versions beyond minBatchesToRetain.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <queue>
#include <system_error>

#include "state/state_backend_internal.h"
#include "storage/filesystem.h"

namespace lakestream::state::internal {
namespace {

constexpr std::string_view kMagic = "LSSTATE1";
// magic | kind u8 | version i64 | rows_total i64 | records u64
constexpr size_t kHeaderSize = 8 + 1 + 8 + 8 + 8;
constexpr size_t kVersionOffset = 9;
constexpr size_t kRowsOffset = 17;
constexpr size_t kRecordsOffset = 25;
constexpr uint8_t kPut = 1;
constexpr uint8_t kDelete = 2;

void PutFixed32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 4);
}
void PutFixed64At(std::string* out, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) (*out)[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t GetFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
uint64_t GetFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

const char* KindName(RecordFileKind kind) {
  return kind == RecordFileKind::kChangelog ? "changelog" : "snapshot";
}

// Parses "<digits><suffix>" into the version; nullopt otherwise.
std::optional<int64_t> ParseVersionName(std::string_view name, std::string_view suffix) {
  if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix) {
    return std::nullopt;
  }
  std::string_view digits = name.substr(0, name.size() - suffix.size());
  int64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size() || v <= 0) return std::nullopt;
  return v;
}

}  // namespace

// zlib's CRC-32 (the IEEE polynomial, several bytes per step).
uint32_t Crc32(std::string_view data, uint32_t crc) {
  while (!data.empty()) {
    const uInt n = static_cast<uInt>(std::min<size_t>(data.size(), 1u << 30));
    crc = static_cast<uint32_t>(::crc32(crc, reinterpret_cast<const Bytef*>(data.data()), n));
    data.remove_prefix(n);
  }
  return crc;
}

RecordFileWriter::RecordFileWriter(RecordFileKind kind, int64_t version) {
  buf_.append(kMagic);
  buf_.push_back(static_cast<char>(kind));
  buf_.append(24, '\0');
  PutFixed64At(&buf_, kVersionOffset, static_cast<uint64_t>(version));
}

void RecordFileWriter::Put(std::string_view key, std::string_view value) {
  buf_.push_back(static_cast<char>(kPut));
  PutFixed32(&buf_, static_cast<uint32_t>(key.size()));
  buf_.append(key);
  PutFixed32(&buf_, static_cast<uint32_t>(value.size()));
  buf_.append(value);
  ++records_;
}

void RecordFileWriter::Delete(std::string_view key) {
  buf_.push_back(static_cast<char>(kDelete));
  PutFixed32(&buf_, static_cast<uint32_t>(key.size()));
  buf_.append(key);
  ++records_;
}

std::string RecordFileWriter::Finish(int64_t rows_total) {
  PutFixed64At(&buf_, kRowsOffset, static_cast<uint64_t>(rows_total));
  PutFixed64At(&buf_, kRecordsOffset, static_cast<uint64_t>(records_));
  PutFixed32(&buf_, Crc32(buf_));
  return std::move(buf_);
}

namespace {

// Walks the records of a verified record file in order, without building a
// vector of them (a snapshot holds the whole state).
class RecordCursor {
 public:
  RecordCursor(const RecordFile* file, uint64_t count)
      : file_(file), pos_(kHeaderSize), end_(file->bytes.size() - 4), count_(count) {}

  /// Moves to the next record; false at the end. Corrupt framing is an error.
  Result<bool> Next(Record* out) {
    if (index_ == count_) {
      if (pos_ != end_) return Corrupt(fmt::format("{} bytes after the last record", end_ - pos_));
      return false;
    }
    const std::string& b = file_->bytes;
    if (pos_ >= end_) return Corrupt(fmt::format("ends after {} of {} records", index_, count_));
    uint8_t type = static_cast<uint8_t>(b[pos_++]);
    if (!ReadBytes(&out->key)) return Corrupt(fmt::format("record {} truncated", index_));
    if (type == kPut) {
      std::string_view v;
      if (!ReadBytes(&v)) return Corrupt(fmt::format("record {} truncated", index_));
      out->value = v;
    } else if (type == kDelete) {
      out->value.reset();
    } else {
      return Corrupt(fmt::format("record {} has type {}", index_, static_cast<int>(type)));
    }
    ++index_;
    return true;
  }

  Status Corrupt(std::string_view why) const {
    return IOErrorAt(
        "state {} '{}' is corrupt ({}): the file was torn or modified; expected a "
        "{} for version {} written by lakestream",
        KindName(file_->kind), file_->path, why, KindName(file_->kind), file_->version);
  }

 private:
  bool ReadBytes(std::string_view* out) {
    const std::string& b = file_->bytes;
    if (end_ - pos_ < 4) return false;
    uint32_t len = GetFixed32(b.data() + pos_);
    pos_ += 4;
    if (end_ - pos_ < len) return false;
    *out = std::string_view(b.data() + pos_, len);
    pos_ += len;
    return true;
  }

  const RecordFile* file_;
  size_t pos_;
  size_t end_;
  uint64_t count_;
  uint64_t index_ = 0;
};

// Reads `path` and verifies its frame (size, magic, checksum, kind, version);
// returns the record count of the header.
Result<uint64_t> ReadVerifiedRecordFile(const std::string& path, RecordFileKind kind,
                                        int64_t expected_version, RecordFile* f) {
  LS_ASSIGN_OR_RAISE(f->bytes, storage::LocalFs()->ReadAll(path));
  f->path = path;
  f->kind = kind;
  f->version = expected_version;
  const std::string& b = f->bytes;
  auto corrupt = [&](std::string_view why) {
    return IOErrorAt(
        "state {} '{}' is corrupt ({}): the file was torn or modified; expected a "
        "{} for version {} written by lakestream",
        KindName(kind), path, why, KindName(kind), expected_version);
  };
  if (b.size() < kHeaderSize + 4) {
    return corrupt(fmt::format("{} bytes, shorter than the {}-byte header and checksum", b.size(),
                               kHeaderSize + 4));
  }
  if (std::string_view(b).substr(0, kMagic.size()) != kMagic) return corrupt("bad magic");
  uint32_t stored = GetFixed32(b.data() + b.size() - 4);
  uint32_t actual = Crc32(std::string_view(b).substr(0, b.size() - 4));
  if (stored != actual) {
    return corrupt(
        fmt::format("checksum mismatch: stored {:08x}, computed {:08x}", stored, actual));
  }
  if (static_cast<uint8_t>(b[8]) != static_cast<uint8_t>(kind)) {
    return corrupt(fmt::format("kind {} in header", static_cast<int>(static_cast<uint8_t>(b[8]))));
  }
  int64_t version = static_cast<int64_t>(GetFixed64(b.data() + kVersionOffset));
  if (version != expected_version) return corrupt(fmt::format("header says version {}", version));
  f->rows_total = static_cast<int64_t>(GetFixed64(b.data() + kRowsOffset));
  return GetFixed64(b.data() + kRecordsOffset);
}

}  // namespace

Result<RecordFile> ReadRecordFile(const std::string& path, RecordFileKind kind,
                                  int64_t expected_version) {
  RecordFile f;
  LS_ASSIGN_OR_RAISE(uint64_t n, ReadVerifiedRecordFile(path, kind, expected_version, &f));
  f.records.reserve(static_cast<size_t>(std::min<uint64_t>(n, 1u << 20)));
  RecordCursor cursor(&f, n);
  Record r;
  while (true) {
    LS_ASSIGN_OR_RAISE(bool more, cursor.Next(&r));
    if (!more) break;
    f.records.push_back(r);
  }
  return f;
}

namespace {

// One input of a snapshot merge: a verified record file and a cursor on it.
struct MergeSource {
  RecordFile file;
  std::unique_ptr<RecordCursor> cursor;
  Record current;
  bool valid = false;
  int rank = 0;  // higher = newer: wins on equal keys

  Status Advance() {
    std::string_view prev = current.key;  // points into `file`, stays valid
    bool had = valid;
    LS_ASSIGN_OR_RAISE(valid, cursor->Next(&current));
    if (valid && had && current.key <= prev) {
      return cursor->Corrupt("keys out of order");  // our writers always sort
    }
    return Status::OK();
  }
};

Status OpenSource(MergeSource* s, const std::string& path, RecordFileKind kind, int64_t version) {
  LS_ASSIGN_OR_RAISE(uint64_t n, ReadVerifiedRecordFile(path, kind, version, &s->file));
  s->cursor = std::make_unique<RecordCursor>(&s->file, n);
  return s->Advance();
}

// A RocksDB snapshot folder (the store switched provider) as an in-memory
// record file, so it merges like the others.
Status OpenRocksDBSource(MergeSource* s, const std::string& snapshot_dir, int64_t version) {
  RecordFileWriter w(RecordFileKind::kSnapshot, version);
  LS_RETURN_NOT_OK(
      ForEachInRocksDBSnapshot(snapshot_dir, [&](std::string_view k, std::string_view v) {
        w.Put(k, v);
        return Status::OK();
      }));
  uint64_t n = static_cast<uint64_t>(w.records());
  s->file.bytes = w.Finish(0);
  s->file.path = snapshot_dir;
  s->file.kind = RecordFileKind::kSnapshot;
  s->file.version = version;
  s->cursor = std::make_unique<RecordCursor>(&s->file, n);
  return s->Advance();
}

}  // namespace

Status WriteMergedSnapshot(const std::string& dir, int64_t version, const std::string& tmp_path) {
  LS_ASSIGN_OR_RAISE(StoreFiles files, ListStoreFiles(dir));
  LS_ASSIGN_OR_RAISE(LoadPlan plan, PlanLoad(dir, files, version));
  std::vector<std::unique_ptr<MergeSource>> sources;
  int64_t rows_total = 0;
  if (plan.snapshot_version > 0) {
    auto s = std::make_unique<MergeSource>();
    if (plan.snapshot_is_dir) {
      std::string meta_path = storage::JoinPath(plan.snapshot_path, kSnapshotMetaFile);
      LS_ASSIGN_OR_RAISE(RecordFile meta, ReadRecordFile(meta_path, RecordFileKind::kSnapshot,
                                                         plan.snapshot_version));
      rows_total = meta.rows_total;
      LS_RETURN_NOT_OK(OpenRocksDBSource(s.get(), plan.snapshot_path, plan.snapshot_version));
    } else {
      LS_RETURN_NOT_OK(OpenSource(s.get(), plan.snapshot_path, RecordFileKind::kSnapshot,
                                  plan.snapshot_version));
      rows_total = s->file.rows_total;
    }
    sources.push_back(std::move(s));
  }
  for (const auto& [v, path] : plan.changelogs) {
    auto s = std::make_unique<MergeSource>();
    LS_RETURN_NOT_OK(OpenSource(s.get(), path, RecordFileKind::kChangelog, v));
    rows_total = s->file.rows_total;
    sources.push_back(std::move(s));
  }
  for (size_t i = 0; i < sources.size(); ++i) sources[i]->rank = static_cast<int>(i);

  // Smallest key first; on equal keys the newest source first.
  auto later = [](const MergeSource* a, const MergeSource* b) {
    int c = a->current.key.compare(b->current.key);
    return c != 0 ? c > 0 : a->rank < b->rank;
  };
  std::priority_queue<MergeSource*, std::vector<MergeSource*>, decltype(later)> heap(later);
  for (auto& s : sources) {
    if (s->valid) heap.push(s.get());
  }
  RecordFileWriter out(RecordFileKind::kSnapshot, version);
  std::vector<MergeSource*> advanced;
  while (!heap.empty()) {
    MergeSource* top = heap.top();
    heap.pop();
    if (top->current.value) out.Put(top->current.key, *top->current.value);
    advanced.assign(1, top);
    // Older versions of the same key are superseded.
    while (!heap.empty() && heap.top()->current.key == top->current.key) {
      advanced.push_back(heap.top());
      heap.pop();
    }
    for (MergeSource* s : advanced) {
      LS_RETURN_NOT_OK(s->Advance());
      if (s->valid) heap.push(s);
    }
  }
  if (out.records() != rows_total) {
    return InternalError(
        "state snapshot merge of '{}' at version {} produced {} rows but the changelog header "
        "says {}; the snapshot was not written",
        dir, version, out.records(), rows_total);
  }
  return storage::LocalFs()->WriteAtomic(tmp_path, out.Finish(rows_total));
}

Result<StoreFiles> ListStoreFiles(const std::string& dir) {
  StoreFiles out;
  auto listed = storage::LocalFs()->List(dir);
  if (!listed.ok()) {
    if (storage::IsNotFound(listed.status())) return out;
    return listed.status();
  }
  for (const auto& fi : *listed) {
    if (auto v = ParseVersionName(fi.name, ".changelog"); v && !fi.is_dir) {
      out.changelogs[*v] = fi.path;
    } else if (auto s = ParseVersionName(fi.name, ".snapshot")) {
      out.snapshots[*s] = fi.path;
      out.snapshot_is_dir[*s] = fi.is_dir;
    }
  }
  return out;
}

Result<LoadPlan> PlanLoad(const std::string& dir, const StoreFiles& files, int64_t version) {
  LoadPlan plan;
  if (version < 0) {
    return UserError("state version must be >= 0, got {} (store '{}')", version, dir);
  }
  if (version == 0) return plan;
  auto it = files.snapshots.upper_bound(version);
  if (it != files.snapshots.begin()) {
    --it;
    plan.snapshot_version = it->first;
    plan.snapshot_path = it->second;
    plan.snapshot_is_dir = files.snapshot_is_dir.at(it->first);
  }
  for (int64_t v = plan.snapshot_version + 1; v <= version; ++v) {
    auto c = files.changelogs.find(v);
    if (c == files.changelogs.end()) {
      std::string have;
      if (!files.changelogs.empty()) {
        have = fmt::format("changelogs {}..{}", files.changelogs.begin()->first,
                           files.changelogs.rbegin()->first);
      } else {
        have = "no changelogs";
      }
      if (!files.snapshots.empty()) {
        have += fmt::format(", snapshots {}..{}", files.snapshots.begin()->first,
                            files.snapshots.rbegin()->first);
      }
      return UserError(
          "cannot load state version {} of '{}': {}.changelog is missing (the store has {}); the "
          "version was never committed or was cleaned up (minBatchesToRetain)",
          version, dir, v, have);
    }
    plan.changelogs.emplace_back(v, c->second);
  }
  return plan;
}

Status RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return IOErrorAt("cannot remove '{}': {}", path, ec.message());
  return Status::OK();
}

Status CleanupOldVersions(const std::string& dir, int64_t latest, int64_t min_batches_to_retain) {
  int64_t oldest_kept = latest - std::max<int64_t>(min_batches_to_retain, 1) + 1;
  if (oldest_kept <= 1) return Status::OK();
  LS_ASSIGN_OR_RAISE(StoreFiles files, ListStoreFiles(dir));
  // The newest snapshot that can still start a load of `oldest_kept`.
  auto it = files.snapshots.upper_bound(oldest_kept);
  if (it == files.snapshots.begin()) return Status::OK();  // everything replays from 0
  int64_t base = std::prev(it)->first;
  for (const auto& [v, path] : files.snapshots) {
    if (v >= base) continue;
    // Renamed away before it is deleted: a RocksDB snapshot is a folder, and
    // a process killed while deleting it in place left a folder without its
    // meta file that still listed as a loadable version. The stale-temp
    // sweep of the next open removes a rename cut short.
    std::string trash = storage::JoinPath(dir, fmt::format(".{}.snapshot.removed.tmp", v));
    if (::rename(path.c_str(), trash.c_str()) != 0) {
      return IOErrorAt("cannot rename '{}' to '{}': {}", path, trash, std::strerror(errno));
    }
    LS_RETURN_NOT_OK(RemoveTree(trash));
  }
  for (const auto& [v, path] : files.changelogs) {
    if (v <= base) LS_RETURN_NOT_OK(storage::LocalFs()->Delete(path));
  }
  return Status::OK();
}

}  // namespace lakestream::state::internal
