// The files source: a folder (or glob) watched for new JSON, CSV, Parquet or
// text files, each file read exactly once, as Spark's FileStreamSource.
//
// The source keeps its own log in the checkpoint (`sources/<i>/log/<N>`: the
// files of log entry N). LatestOffset lists the folder, writes the next entry
// with the new files (at most maxFilesPerTrigger) and returns
// {"logOffset": N}; a batch (start, end] reads the files of entries
// start+1..end. The log is written before the offsets log names it, so a
// replay reads exactly the same files. The schema is resolved once and kept in
// `sources/<i>/schema`, so a restart reads new files with the same schema.
#include <algorithm>
#include <set>

#include "connectors/builtin.h"
#include "formats/file_source.h"
#include "storage/filesystem.h"
#include "types/types.h"

namespace lakestream::connectors {

namespace {

class FilesSource : public Source {
 public:
  static Result<std::unique_ptr<Source>> Make(const Options& options, const SourceContext& ctx) {
    auto src = std::unique_ptr<FilesSource>(new FilesSource());
    auto path = GetOption(options, "path");
    if (!path || path->empty())
      return UserError(
          "files source: a path is required, e.g. read_files('/data/in', format => 'json')");
    src->path_ = *path;
    src->dir_ = ctx.metadata_dir;
    ARROW_ASSIGN_OR_RAISE(src->max_files_, GetIntOption(options, "maxFilesPerTrigger", 1000));
    if (src->max_files_ <= 0) return UserError("files source: maxFilesPerTrigger must be positive");
    std::map<std::string, std::string> read_opts;
    for (const auto& [k, v] : options) {
      if (k != "path" && k != "maxFilesPerTrigger") read_opts[k] = v;
    }
    if (!GetOption(options, "format")) {
      auto ext = src->path_.substr(src->path_.find_last_of('.') + 1);
      read_opts["format"] =
          ext == "csv" || ext == "parquet" || ext == "txt" ? (ext == "txt" ? "text" : ext) : "json";
    }
    ARROW_ASSIGN_OR_RAISE(src->opts_, formats::FileReadOptions::FromMap(read_opts));
    src->fs_ = std::make_shared<storage::LocalFileSystem>();
    if (!src->dir_.empty()) ARROW_RETURN_NOT_OK(src->fs_->MakeDirs(src->dir_ + "/log"));
    ARROW_RETURN_NOT_OK(src->LoadLog());
    ARROW_RETURN_NOT_OK(src->ResolveSchema());
    return src;
  }

  std::string Description() const override { return fmt::format("FileStreamSource[{}]", path_); }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

  Result<Json> InitialOffset() override { return Json{{"logOffset", -1}}; }

  Result<Json> LatestOffset(const Json& start) override {
    ARROW_ASSIGN_OR_RAISE(int64_t s, LogOffset(start));
    // An entry written by an earlier run but never planned into a batch is
    // served first, unchanged.
    if (log_.count(s + 1)) return Json{{"logOffset", s + 1}};
    ARROW_ASSIGN_OR_RAISE(auto fresh, NewFiles());
    if (fresh.empty()) return start;
    if (static_cast<int64_t>(fresh.size()) > max_files_) fresh.resize(max_files_);
    Json entry = {{"files", fresh}};
    auto st = fs_->PutIfAbsent(LogPath(s + 1), entry.dump());
    if (!st.ok()) {
      if (storage::IsAlreadyExists(st)) {
        return UserError(
            "files source log '{}' was written by another run: is the query running twice?",
            LogPath(s + 1));
      }
      return st;
    }
    log_[s + 1] = fresh;
    for (const auto& f : fresh) seen_.insert(f);
    return Json{{"logOffset", s + 1}};
  }

  Status PrepareForAvailableNow() override {
    ARROW_ASSIGN_OR_RAISE(auto fresh, NewFiles());
    cap_ = std::set<std::string>(fresh.begin(), fresh.end());
    return Status::OK();
  }

  Result<std::vector<exec::ScanTask>> PlanBatch(const Json& start, const Json& end) override {
    ARROW_ASSIGN_OR_RAISE(int64_t s, LogOffset(start));
    ARROW_ASSIGN_OR_RAISE(int64_t e, LogOffset(end));
    std::vector<std::string> files;
    for (int64_t i = s + 1; i <= e; ++i) {
      auto it = log_.find(i);
      if (it == log_.end()) {
        return UserError(
            "files source: log entry {} is missing from '{}' (the checkpoint was edited or "
            "damaged)",
            i, dir_ + "/log");
      }
      files.insert(files.end(), it->second.begin(), it->second.end());
    }
    std::vector<exec::ScanTask> out;
    if (files.empty()) return out;
    formats::ScanRequest req;
    ARROW_ASSIGN_OR_RAISE(auto scanner, formats::FileScanner::Make(files, schema_, opts_, req));
    std::shared_ptr<formats::FileScanner> shared(std::move(scanner));
    scanners_.push_back(shared);
    ARROW_ASSIGN_OR_RAISE(auto tasks, shared->PlanTasks());
    for (const auto& t : tasks) {
      out.push_back([shared, t]() -> Result<exec::BatchIterator> {
        ARROW_ASSIGN_OR_RAISE(auto it, shared->OpenTask(t));
        auto holder = std::make_shared<formats::BatchIterator>(std::move(it));
        return exec::BatchIterator([holder, shared]() { return holder->Next(); });
      });
    }
    files_in_batch_ = static_cast<int64_t>(files.size());
    return out;
  }

  SourceMetrics TakeMetrics() override {
    int64_t malformed = 0, bytes = 0;
    for (const auto& s : scanners_) {
      malformed += s->metrics().malformed_rows.load();
      bytes += s->metrics().bytes_read.load();
    }
    scanners_.clear();
    SourceMetrics m = {{"numFilesRead", std::to_string(files_in_batch_)},
                       {"bytesRead", std::to_string(bytes)}};
    m[opts_.mode == formats::FileReadOptions::Mode::kDropMalformed ? "numDroppedMalformedRows"
                                                                   : "numMalformedRows"] =
        std::to_string(malformed);
    files_in_batch_ = 0;
    return m;
  }

 private:
  FilesSource() = default;

  std::string LogPath(int64_t n) const { return fmt::format("{}/log/{}", dir_, n); }

  Result<int64_t> LogOffset(const Json& o) const {
    if (!o.is_object() || !o.contains("logOffset") || !o["logOffset"].is_number_integer()) {
      return UserError("bad files source offset {}: expected {{\"logOffset\": n}}", o.dump());
    }
    return o["logOffset"].get<int64_t>();
  }

  Status LoadLog() {
    if (dir_.empty()) return Status::OK();
    ARROW_ASSIGN_OR_RAISE(auto entries, fs_->List(dir_ + "/log"));
    for (const auto& e : entries) {
      if (e.is_dir || e.name.empty() || !std::all_of(e.name.begin(), e.name.end(), ::isdigit))
        continue;
      ARROW_ASSIGN_OR_RAISE(auto text, fs_->ReadAll(e.path));
      Json j = Json::parse(text, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("files") || !j["files"].is_array()) {
        return UserError("corrupt files source log '{}': expected {{\"files\": [...]}}", e.path);
      }
      std::vector<std::string> files;
      for (const auto& f : j["files"]) {
        if (!f.is_string())
          return UserError("corrupt files source log '{}': file names must be strings", e.path);
        files.push_back(f.get<std::string>());
        seen_.insert(files.back());
      }
      log_[std::stoll(e.name)] = std::move(files);
    }
    return Status::OK();
  }

  Status ResolveSchema() {
    std::string schema_path = dir_.empty() ? "" : dir_ + "/schema";
    if (!schema_path.empty()) {
      auto text = fs_->ReadAll(schema_path);
      if (text.ok()) {
        auto parsed = types::ParseDDLSchema(*text);
        if (!parsed.ok())
          return UserError("corrupt files source schema '{}': {}", schema_path,
                           parsed.status().message());
        schema_ = *parsed;
        opts_.schema = *text;
        return Status::OK();
      }
    }
    if (opts_.schema.empty()) {
      auto files = formats::ListFiles(path_, opts_);
      if (!files.ok() || files->empty()) {
        return UserError(
            "files source: no files in '{}' to infer a schema from; give one with schema => 'a "
            "INT, b "
            "STRING'",
            path_);
      }
      ARROW_ASSIGN_OR_RAISE(schema_, formats::ResolveSchema(*files, opts_));
    } else {
      ARROW_ASSIGN_OR_RAISE(schema_, types::ParseDDLSchema(opts_.schema));
    }
    auto ddl = types::ToDDL(*schema_);
    opts_.schema = ddl;  // every batch reads with the resolved schema
    if (!schema_path.empty()) {
      auto st = fs_->PutIfAbsent(schema_path, ddl);
      if (!st.ok() && !storage::IsAlreadyExists(st)) return st;
    }
    return Status::OK();
  }

  /// Files not seen yet, oldest first (modification time, then name).
  Result<std::vector<std::string>> NewFiles() {
    auto listed = formats::ListFiles(path_, opts_);
    if (!listed.ok()) {
      // An empty or not-yet-created folder is just "no data yet".
      return std::vector<std::string>();
    }
    std::vector<std::pair<int64_t, std::string>> fresh;
    for (const auto& f : *listed) {
      if (seen_.count(f)) continue;
      if (cap_ && !cap_->count(f)) continue;
      auto info = fs_->Stat(f);
      fresh.emplace_back(info.ok() ? info->modification_time_ms : 0, f);
    }
    std::sort(fresh.begin(), fresh.end());
    std::vector<std::string> out;
    for (auto& [t, f] : fresh) out.push_back(std::move(f));
    return out;
  }

  std::string path_;
  std::string dir_;
  int64_t max_files_ = 1000;
  formats::FileReadOptions opts_;
  std::shared_ptr<storage::FileSystem> fs_;
  std::shared_ptr<arrow::Schema> schema_;
  std::map<int64_t, std::vector<std::string>> log_;
  std::set<std::string> seen_;
  std::optional<std::set<std::string>> cap_;
  std::vector<std::shared_ptr<formats::FileScanner>> scanners_;
  int64_t files_in_batch_ = 0;
};

}  // namespace

void RegisterFilesConnector() {
  SourceRegistry()["files"] = FilesSource::Make;
  SourceRegistry()["json"] = [](const Options& o, const SourceContext& c) {
    auto opts = o;
    opts["format"] = "json";
    return FilesSource::Make(opts, c);
  };
}

}  // namespace lakestream::connectors
