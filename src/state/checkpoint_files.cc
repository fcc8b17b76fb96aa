// The state checkpoint files: the record-file format (changelogs and the
// in-memory provider's snapshots), listing a store dir by version, planning a
// load, and deleting versions beyond minBatchesToRetain.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <filesystem>
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

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
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

uint32_t Crc32(std::string_view data, uint32_t crc) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  uint32_t c = ~crc;
  for (unsigned char ch : data) c = table[(c ^ ch) & 0xff] ^ (c >> 8);
  return ~c;
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

Result<RecordFile> ReadRecordFile(const std::string& path, RecordFileKind kind,
                                  int64_t expected_version) {
  RecordFile f;
  LS_ASSIGN_OR_RAISE(f.bytes, storage::LocalFs()->ReadAll(path));
  const std::string& b = f.bytes;
  auto corrupt = [&](std::string_view why) {
    return IOErrorAt("state {} '{}' is corrupt ({}): the file was torn or modified; expected a "
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
  f.kind = kind;
  f.version = static_cast<int64_t>(GetFixed64(b.data() + kVersionOffset));
  f.rows_total = static_cast<int64_t>(GetFixed64(b.data() + kRowsOffset));
  uint64_t n = GetFixed64(b.data() + kRecordsOffset);
  if (f.version != expected_version) {
    return corrupt(fmt::format("header says version {}", f.version));
  }
  size_t pos = kHeaderSize;
  size_t end = b.size() - 4;
  auto read_bytes = [&](std::string_view* out) -> bool {
    if (end - pos < 4) return false;
    uint32_t len = GetFixed32(b.data() + pos);
    pos += 4;
    if (end - pos < len) return false;
    *out = std::string_view(b.data() + pos, len);
    pos += len;
    return true;
  };
  f.records.reserve(static_cast<size_t>(std::min<uint64_t>(n, 1u << 20)));
  for (uint64_t i = 0; i < n; ++i) {
    if (pos >= end) return corrupt(fmt::format("ends after {} of {} records", i, n));
    uint8_t type = static_cast<uint8_t>(b[pos++]);
    Record r;
    if (!read_bytes(&r.key)) return corrupt(fmt::format("record {} truncated", i));
    if (type == kPut) {
      std::string_view v;
      if (!read_bytes(&v)) return corrupt(fmt::format("record {} truncated", i));
      r.value = v;
    } else if (type != kDelete) {
      return corrupt(fmt::format("record {} has type {}", i, static_cast<int>(type)));
    }
    f.records.push_back(r);
  }
  if (pos != end) return corrupt(fmt::format("{} bytes after the last record", end - pos));
  return f;
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
    if (v < base) LS_RETURN_NOT_OK(RemoveTree(path));
  }
  for (const auto& [v, path] : files.changelogs) {
    if (v <= base) LS_RETURN_NOT_OK(storage::LocalFs()->Delete(path));
  }
  return Status::OK();
}

}  // namespace lakestream::state::internal
