#include "stream/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

namespace lakestream::stream {

namespace {

// A checkpoint file that does not parse is a hand-edited or damaged
// checkpoint: refuse with the path rather than silently starting over.
Status Corrupt(const std::string& path, std::string_view why) {
  return UserError(
      "corrupt streaming checkpoint file '{}': {} (restore it, or start the query with a new "
      "checkpoint "
      "folder)",
      path, why);
}

Result<Json> ParseJson(const std::string& path, std::string_view text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corrupt(path, fmt::format("not JSON: '{}'", text.substr(0, 80)));
  return j;
}

// Log files are named by decimal batch id; anything else (temp files of an
// interrupted write, editor backups) is ignored.
std::optional<int64_t> BatchIdOf(const std::string& name) {
  if (name.empty() || name.size() > 18) return std::nullopt;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::stoll(name);
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    out.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  while (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

}  // namespace

std::string NewUuid() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                     b >> 48, b & 0xffffffffffffULL);
}

Result<Checkpoint> Checkpoint::Open(const std::string& dir) {
  if (dir.empty())
    return UserError("a streaming query needs a checkpoint location (--checkpoint DIR)");
  Checkpoint cp;
  cp.dir_ = dir;
  while (cp.dir_.size() > 1 && cp.dir_.back() == '/') cp.dir_.pop_back();
  cp.fs_ = std::make_shared<storage::LocalFileSystem>();
  ARROW_RETURN_NOT_OK(cp.fs_->MakeDirs(cp.dir_ + "/offsets"));
  ARROW_RETURN_NOT_OK(cp.fs_->MakeDirs(cp.dir_ + "/commits"));
  ARROW_RETURN_NOT_OK(cp.fs_->MakeDirs(cp.dir_ + "/sources"));
  auto meta = cp.dir_ + "/metadata";
  auto text = cp.fs_->ReadAll(meta);
  if (!text.ok() && !storage::IsNotFound(text.status())) return text.status();
  if (!text.ok()) {
    // A fresh checkpoint must not already hold batches: that would be a
    // checkpoint whose metadata was deleted by hand.
    ARROW_ASSIGN_OR_RAISE(auto latest, cp.LatestOffsetBatch());
    if (latest) return Corrupt(meta, "missing while offsets/ holds batches");
    Json j = {{"id", NewUuid()}};
    auto st = cp.fs_->PutIfAbsent(meta, j.dump());
    if (!st.ok() && !storage::IsAlreadyExists(st)) return st;
    ARROW_ASSIGN_OR_RAISE(auto again, cp.fs_->ReadAll(meta));
    text = again;
  }
  ARROW_ASSIGN_OR_RAISE(auto j, ParseJson(meta, *text));
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string())
    return Corrupt(meta, "no \"id\" string");
  cp.query_id_ = j["id"].get<std::string>();
  return cp;
}

std::string Checkpoint::SourceDir(int index) const {
  return fmt::format("{}/sources/{}", dir_, index);
}
std::string Checkpoint::StateDir() const { return dir_ + "/state"; }

Result<std::optional<int64_t>> Checkpoint::LatestIn(const std::string& sub) const {
  auto listing = fs_->List(dir_ + "/" + sub);
  if (!listing.ok()) {
    if (storage::IsNotFound(listing.status())) return std::optional<int64_t>();
    return listing.status();
  }
  std::optional<int64_t> best;
  for (const auto& f : *listing) {
    if (f.is_dir) continue;
    auto id = BatchIdOf(f.name);
    if (id && (!best || *id > *best)) best = id;
  }
  return best;
}

Result<std::optional<int64_t>> Checkpoint::LatestOffsetBatch() const { return LatestIn("offsets"); }
Result<std::optional<int64_t>> Checkpoint::LatestCommitBatch() const { return LatestIn("commits"); }

Result<OffsetEntry> Checkpoint::ReadOffsets(int64_t batch_id) const {
  auto path = fmt::format("{}/offsets/{}", dir_, batch_id);
  ARROW_ASSIGN_OR_RAISE(auto text, fs_->ReadAll(path));
  auto lines = Lines(text);
  if (lines.size() < 2 || lines[0] != "v1")
    return Corrupt(path, "expected 'v1', a metadata line and one offset per source");
  OffsetEntry e;
  e.batch_id = batch_id;
  ARROW_ASSIGN_OR_RAISE(auto meta, ParseJson(path, lines[1]));
  if (!meta.is_object()) return Corrupt(path, "the metadata line is not a JSON object");
  e.batch_watermark_ms = meta.value("batchWatermarkMs", int64_t{0});
  e.batch_timestamp_ms = meta.value("batchTimestampMs", int64_t{0});
  if (meta.contains("conf")) e.conf = meta["conf"];
  for (size_t i = 2; i < lines.size(); ++i) {
    if (lines[i] == "-") {
      e.offsets.push_back(Json());  // a source without an offset yet, as Spark writes it
      continue;
    }
    ARROW_ASSIGN_OR_RAISE(auto off, ParseJson(path, lines[i]));
    e.offsets.push_back(std::move(off));
  }
  return e;
}

Result<int64_t> Checkpoint::ReadCommit(int64_t batch_id) const {
  auto path = fmt::format("{}/commits/{}", dir_, batch_id);
  ARROW_ASSIGN_OR_RAISE(auto text, fs_->ReadAll(path));
  auto lines = Lines(text);
  if (lines.size() != 2 || lines[0] != "v1")
    return Corrupt(path, "expected 'v1' and one JSON line");
  ARROW_ASSIGN_OR_RAISE(auto j, ParseJson(path, lines[1]));
  if (!j.is_object()) return Corrupt(path, "not a JSON object");
  return j.value("nextBatchWatermarkMs", int64_t{0});
}

Status Checkpoint::WriteOffsets(const OffsetEntry& e) const {
  Json meta = {{"batchWatermarkMs", e.batch_watermark_ms},
               {"batchTimestampMs", e.batch_timestamp_ms},
               {"conf", e.conf}};
  std::string text = "v1\n" + meta.dump();
  for (const auto& o : e.offsets) text += "\n" + (o.is_null() ? std::string("-") : o.dump());
  auto path = fmt::format("{}/offsets/{}", dir_, e.batch_id);
  auto st = fs_->PutIfAbsent(path, text);
  if (storage::IsAlreadyExists(st)) {
    return UserError(
        "batch {} of the query in '{}' was already planned by another run: is the same query "
        "running "
        "twice on one checkpoint?",
        e.batch_id, dir_);
  }
  return st;
}

Status Checkpoint::WriteCommit(int64_t batch_id, int64_t next_watermark_ms) const {
  Json j = {{"nextBatchWatermarkMs", next_watermark_ms}};
  auto path = fmt::format("{}/commits/{}", dir_, batch_id);
  auto st = fs_->PutIfAbsent(path, "v1\n" + j.dump());
  if (storage::IsAlreadyExists(st)) {
    return UserError("batch {} of the query in '{}' was already committed by another run", batch_id,
                     dir_);
  }
  return st;
}

// One write(2) per record, so a kill cannot split it; a torn last line left
// by a kill during an earlier append (an ofstream wrote a long record in
// pieces) is cut off first, so every line of the file is one whole record.
Status Checkpoint::AppendProgress(const std::string& json_line) const {
  const std::string path = dir_ + "/progress.jsonl";
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IOErrorAt("cannot append to {}: {}", path, std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    char last = '\n';
    if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
      // Find the end of the last whole line.
      off_t end = st.st_size;
      char buf[4096];
      off_t keep = 0;
      while (end > 0 && keep == 0) {
        off_t from =
            end > static_cast<off_t>(sizeof(buf)) ? end - static_cast<off_t>(sizeof(buf)) : 0;
        ssize_t n = ::pread(fd, buf, static_cast<size_t>(end - from), from);
        if (n <= 0) break;
        for (ssize_t i = n - 1; i >= 0; --i) {
          if (buf[i] == '\n') {
            keep = from + i + 1;
            break;
          }
        }
        end = from;
      }
      if (::ftruncate(fd, keep) != 0) {
        ::close(fd);
        return IOErrorAt("cannot repair {}: {}", path, std::strerror(errno));
      }
    }
  }
  std::string line = json_line + '\n';
  ssize_t written = ::write(fd, line.data(), line.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size())) {
    return IOErrorAt("cannot append to {}: {}", path, std::strerror(errno));
  }
  return Status::OK();
}

Status Checkpoint::Purge(int64_t keep_from) const {
  for (const char* sub : {"offsets", "commits"}) {
    auto listing = fs_->List(dir_ + "/" + sub);
    if (!listing.ok()) continue;
    for (const auto& f : *listing) {
      auto id = BatchIdOf(f.name);
      if (id && *id < keep_from) ARROW_RETURN_NOT_OK(fs_->Delete(f.path));
    }
  }
  return Status::OK();
}

}  // namespace lakestream::stream
