// Spark reader options, schema resolution and the FileScanner that dispatches
// tasks to the per-format readers (csv_reader.cc, json_reader.cc,
// parquet_reader.cc). Also the text-to-type conversion shared by CSV and JSON.
#include "formats/file_source.h"

#include <arrow/array/builder_binary.h>
#include <arrow/array/concatenate.h>
#include <arrow/array/util.h>
#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <arrow/table.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "formats/format_internal.h"
#include "types/types.h"

namespace lakestream::formats {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<bool> ParseBool(const std::string& key, const std::string& value) {
  std::string v = Lower(value);
  if (v == "true") return true;
  if (v == "false") return false;
  return UserError("read_files: option '{}' expects true or false, got '{}'", key, value);
}

Result<char> ParseChar(const std::string& key, const std::string& value) {
  if (value.size() == 1) return value[0];
  // Spark accepts a few escaped spellings for the separator.
  if (value == "\\t") return '\t';
  if (value == "\\u0000") return '\0';
  return UserError("read_files: option '{}' expects a single character, got '{}'", key, value);
}

}  // namespace

const char* ModeName(FileReadOptions::Mode mode) {
  switch (mode) {
    case FileReadOptions::Mode::kPermissive:
      return "PERMISSIVE";
    case FileReadOptions::Mode::kDropMalformed:
      return "DROPMALFORMED";
    case FileReadOptions::Mode::kFailFast:
      return "FAILFAST";
  }
  return "?";
}

Result<FileReadOptions> FileReadOptions::FromMap(
    const std::map<std::string, std::string>& options) {
  FileReadOptions o;
  for (const auto& [raw_key, value] : options) {
    const std::string key = Lower(raw_key);
    if (key == "format") {
      std::string f = Lower(value);
      if (f != "csv" && f != "json" && f != "parquet" && f != "text") {
        return UserError(
            "read_files: option 'format' expects one of csv, json, parquet, text, got '{}'", value);
      }
      o.format = f;
    } else if (key == "schema") {
      o.schema = value;
    } else if (key == "header") {
      LS_ASSIGN_OR_RAISE(o.header, ParseBool(raw_key, value));
    } else if (key == "sep" || key == "delimiter") {
      LS_ASSIGN_OR_RAISE(o.sep, ParseChar(raw_key, value));
    } else if (key == "quote") {
      if (value.empty()) {
        o.quoting = false;
      } else {
        LS_ASSIGN_OR_RAISE(o.quote, ParseChar(raw_key, value));
        o.quoting = true;
      }
    } else if (key == "escape") {
      LS_ASSIGN_OR_RAISE(o.escape, ParseChar(raw_key, value));
    } else if (key == "inferschema") {
      LS_ASSIGN_OR_RAISE(o.infer_schema, ParseBool(raw_key, value));
    } else if (key == "nullvalue") {
      o.null_value = value;
    } else if (key == "nanvalue") {
      o.nan_value = value;
    } else if (key == "positiveinf") {
      o.positive_inf = value;
    } else if (key == "negativeinf") {
      o.negative_inf = value;
    } else if (key == "comment") {
      if (value.empty()) {
        o.comment.reset();
      } else {
        LS_ASSIGN_OR_RAISE(char c, ParseChar(raw_key, value));
        o.comment = c;
      }
    } else if (key == "ignoreleadingwhitespace") {
      LS_ASSIGN_OR_RAISE(o.ignore_leading_white_space, ParseBool(raw_key, value));
    } else if (key == "ignoretrailingwhitespace") {
      LS_ASSIGN_OR_RAISE(o.ignore_trailing_white_space, ParseBool(raw_key, value));
    } else if (key == "mode") {
      std::string m = Lower(value);
      if (m == "permissive") {
        o.mode = Mode::kPermissive;
      } else if (m == "dropmalformed") {
        o.mode = Mode::kDropMalformed;
      } else if (m == "failfast") {
        o.mode = Mode::kFailFast;
      } else {
        return UserError(
            "read_files: option 'mode' expects PERMISSIVE, DROPMALFORMED or FAILFAST, got '{}'",
            value);
      }
    } else if (key == "columnnameofcorruptrecord") {
      o.column_name_of_corrupt_record = value;
    } else if (key == "dateformat") {
      o.date_format = value;
    } else if (key == "timestampformat") {
      o.timestamp_format = value;
    } else if (key == "multiline") {
      LS_ASSIGN_OR_RAISE(o.multi_line, ParseBool(raw_key, value));
    } else if (key == "linesep") {
      if (value.empty() || value.size() > 2) {
        return UserError("read_files: option 'lineSep' expects 1 or 2 characters, got '{}'", value);
      }
      o.line_sep = value;
    } else if (key == "encoding" || key == "charset") {
      std::string e = Lower(value);
      if (e != "utf-8" && e != "utf8") {
        return Unsupported("read_files: option '{}' = '{}' is not supported: only UTF-8 is",
                           raw_key, value);
      }
      o.encoding = "UTF-8";
    } else if (key == "samplingratio") {
      try {
        size_t pos = 0;
        o.sampling_ratio = std::stod(value, &pos);
        if (pos != value.size() || !(o.sampling_ratio > 0 && o.sampling_ratio <= 1)) throw 0;
      } catch (...) {
        return UserError("read_files: option 'samplingRatio' expects a number in (0, 1], got '{}'",
                         value);
      }
    } else if (key == "primitivesasstring") {
      LS_ASSIGN_OR_RAISE(o.primitives_as_string, ParseBool(raw_key, value));
    } else if (key == "prefersdecimal") {
      LS_ASSIGN_OR_RAISE(o.prefers_decimal, ParseBool(raw_key, value));
    } else if (key == "recursivefilelookup") {
      LS_ASSIGN_OR_RAISE(o.recursive_file_lookup, ParseBool(raw_key, value));
    } else if (key == "pathglobfilter") {
      o.path_glob_filter = value;
    } else if (key == "wholetext") {
      LS_ASSIGN_OR_RAISE(o.whole_text, ParseBool(raw_key, value));
    } else if (key == "mergeschema") {
      LS_ASSIGN_OR_RAISE(o.merge_schema, ParseBool(raw_key, value));
    } else {
      o.extra[raw_key] = value;
    }
  }
  return o;
}

Result<SchemaPtr> ResolveSchema(const std::vector<std::string>& files,
                                const FileReadOptions& options) {
  if (!options.schema.empty()) {
    auto parsed = types::ParseDDLSchema(options.schema);
    if (!parsed.ok()) {
      return UserError("read_files: invalid schema '{}': {}", options.schema,
                       parsed.status().message());
    }
    return parsed;
  }
  if (options.format == "text") {
    return arrow::schema({arrow::field("value", arrow::utf8())});
  }
  if (files.empty()) {
    return UserError("read_files: unable to infer a schema for {} without files; give 'schema'",
                     options.format);
  }
  if (options.format == "parquet") return internal::ReadParquetSchema(files.front());
  if (options.format == "csv") return internal::InferCsvSchema(files, options);
  if (options.format == "json") return internal::InferJsonSchema(files, options);
  return UserError("read_files: unknown format '{}'", options.format);
}

Result<std::unique_ptr<FileScanner>> FileScanner::Make(std::vector<std::string> files,
                                                       SchemaPtr schema, FileReadOptions options,
                                                       ScanRequest request) {
  if (!schema) return InternalError("FileScanner::Make without a schema");
  std::unique_ptr<FileScanner> s(new FileScanner());
  s->files_ = std::move(files);
  s->schema_ = std::move(schema);
  s->options_ = std::move(options);
  s->request_ = std::move(request);
  s->footers_ = std::make_shared<internal::FooterCache>();
  std::vector<std::shared_ptr<arrow::Field>> out;
  if (s->request_.columns) {
    for (const auto& name : *s->request_.columns) {
      int found = -1;
      for (int i = 0; i < s->schema_->num_fields(); ++i) {
        if (internal::EqualsIgnoreCase(s->schema_->field(i)->name(), name)) {
          found = i;
          break;
        }
      }
      if (found < 0) {
        return UserError("read_files: column '{}' not found in schema ({})", name,
                         types::ToDDL(*s->schema_));
      }
      out.push_back(s->schema_->field(found));
    }
  } else {
    out = s->schema_->fields();
  }
  s->output_schema_ = arrow::schema(std::move(out));
  return s;
}

Result<std::vector<ScanTask>> FileScanner::PlanTasks() const {
  std::vector<ScanTask> tasks;
  for (const auto& f : files_) {
    metrics_->files.fetch_add(1, std::memory_order_relaxed);
    if (options_.format == "parquet") {
      LS_ASSIGN_OR_RAISE(auto t, internal::PlanParquetFile(f, request_.predicates, schema_,
                                                           metrics_.get(), footers_.get()));
      tasks.insert(tasks.end(), t.begin(), t.end());
    } else {
      std::error_code ec;
      auto size = static_cast<int64_t>(std::filesystem::file_size(f, ec));
      if (ec) size = 0;
      const bool splittable = !options_.multi_line && !options_.whole_text &&
                              options_.line_sep.empty() && options_.split_bytes > 0;
      if (!splittable || size <= options_.split_bytes) {
        tasks.push_back(ScanTask{f, {}, size, 0, -1});
        continue;
      }
      for (int64_t off = 0; off < size; off += options_.split_bytes) {
        int64_t len = std::min(options_.split_bytes, size - off);
        tasks.push_back(ScanTask{f, {}, len, off, len});
      }
    }
  }
  return tasks;
}

Result<BatchIterator> FileScanner::OpenTask(const ScanTask& task) const {
  internal::ReadContext ctx;
  ctx.path = task.path;
  ctx.data_schema = schema_;
  ctx.output_schema = output_schema_;
  ctx.options = &options_;
  ctx.metrics = metrics_.get();
  ctx.footers = footers_.get();
  ctx.offset = task.offset;
  ctx.length = task.length;
  for (const auto& f : output_schema_->fields()) {
    ctx.output_fields.push_back(schema_->GetFieldIndex(f->name()));
    bool keep = false;
    for (const auto& d : request_.dictionary_columns) {
      keep = keep || internal::EqualsIgnoreCase(d, f->name());
    }
    ctx.keep_dictionary.push_back(keep);
  }
  if (options_.format == "csv" || options_.format == "json") {
    int i = schema_->GetFieldIndex(options_.column_name_of_corrupt_record);
    if (i >= 0 && schema_->field(i)->type()->id() == arrow::Type::STRING) ctx.corrupt_index = i;
  }
  metrics_->tasks.fetch_add(1, std::memory_order_relaxed);
  if (options_.format == "parquet") return internal::OpenParquetTask(ctx, task.row_groups);
  if (options_.format == "csv") return internal::OpenCsvFile(ctx);
  if (options_.format == "json") return internal::OpenJsonFile(ctx);
  if (options_.format == "text") return internal::OpenTextFile(ctx);
  return UserError("read_files: unknown format '{}'", options_.format);
}

Result<BatchPtr> FileScanner::Next() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!planned_) {
    LS_ASSIGN_OR_RAISE(tasks_, PlanTasks());
    planned_ = true;
  }
  while (true) {
    if (current_) {
      LS_ASSIGN_OR_RAISE(auto batch, current_->Next());
      if (batch) return batch;
      current_.reset();
    }
    if (next_task_ >= tasks_.size()) return BatchPtr();
    LS_ASSIGN_OR_RAISE(auto it, OpenTask(tasks_[next_task_++]));
    current_ = std::move(it);
  }
}

Result<std::shared_ptr<arrow::Table>> FileScanner::ReadAll() {
  std::vector<BatchPtr> batches;
  while (true) {
    LS_ASSIGN_OR_RAISE(auto b, Next());
    if (!b) break;
    batches.push_back(std::move(b));
  }
  return arrow::Table::FromRecordBatches(output_schema_, batches);
}

namespace internal {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Result<std::shared_ptr<arrow::Buffer>> ReadWholeFile(const std::string& path) {
  auto file = arrow::io::ReadableFile::Open(path);
  if (!file.ok()) return IOErrorAt("cannot open {}: {}", path, file.status().message());
  auto size = (*file)->GetSize();
  if (!size.ok()) return IOErrorAt("cannot stat {}: {}", path, size.status().message());
  auto buf = (*file)->Read(*size);
  if (!buf.ok()) return IOErrorAt("cannot read {}: {}", path, buf.status().message());
  return *buf;
}

namespace {

/// Position of the first '\n' at or after `from`, or `size` if none.
Result<int64_t> FindNewline(arrow::io::RandomAccessFile* file, int64_t from, int64_t size) {
  constexpr int64_t kChunk = 64 * 1024;
  for (int64_t pos = from; pos < size; pos += kChunk) {
    LS_ASSIGN_OR_RAISE(auto chunk, file->ReadAt(pos, std::min(kChunk, size - pos)));
    const void* hit = std::memchr(chunk->data(), '\n', static_cast<size_t>(chunk->size()));
    if (hit) return pos + (static_cast<const uint8_t*>(hit) - chunk->data());
  }
  return size;
}

}  // namespace

Result<LineRange> ReadLineRange(const std::string& path, int64_t offset, int64_t length) {
  LineRange out;
  out.path = path;
  if (length < 0) {
    LS_ASSIGN_OR_RAISE(out.data, ReadWholeFile(path));
    return out;
  }
  auto file = arrow::io::ReadableFile::Open(path);
  if (!file.ok()) return IOErrorAt("cannot open {}: {}", path, file.status().message());
  auto status = [&](const Status& st) {
    return IOErrorAt("cannot read {}: {}", path, st.message());
  };
  auto size = (*file)->GetSize();
  if (!size.ok()) return status(size.status());
  // A line belongs to the range holding the newline that precedes it.
  int64_t begin = 0;
  if (offset > 0) {
    auto nl = FindNewline(file->get(), offset - 1, *size);
    if (!nl.ok()) return status(nl.status());
    begin = *nl + 1;
  }
  int64_t end = *size;
  if (offset + length < *size) {
    auto nl = FindNewline(file->get(), offset + length - 1, *size);
    if (!nl.ok()) return status(nl.status());
    end = std::min(*nl + 1, *size);
  }
  out.begin = begin;
  if (begin >= end) {
    out.data = std::make_shared<arrow::Buffer>(nullptr, 0);
    return out;
  }
  auto buf = (*file)->ReadAt(begin, end - begin);
  if (!buf.ok()) return status(buf.status());
  out.data = *buf;
  return out;
}

Result<int64_t> LineRange::FirstLineNumber() const {
  if (begin == 0) return 1;
  auto file = arrow::io::ReadableFile::Open(path);
  if (!file.ok()) return IOErrorAt("cannot open {}: {}", path, file.status().message());
  int64_t lines = 1;
  constexpr int64_t kChunk = 1 << 20;
  for (int64_t pos = 0; pos < begin; pos += kChunk) {
    auto chunk = (*file)->ReadAt(pos, std::min(kChunk, begin - pos));
    if (!chunk.ok()) return IOErrorAt("cannot read {}: {}", path, chunk.status().message());
    const auto* p = (*chunk)->data();
    lines += std::count(p, p + (*chunk)->size(), '\n');
  }
  return lines;
}

BatchIterator IterateTable(std::shared_ptr<arrow::Table> table, int64_t batch_size,
                           ScanMetrics* metrics) {
  if (table->num_columns() == 0) {
    // A zero-column projection still carries its row count (COUNT(*)).
    int64_t remaining = table->num_rows();
    auto schema = table->schema();
    return BatchIterator([remaining, schema, batch_size, metrics]() mutable -> Result<BatchPtr> {
      if (remaining <= 0) return BatchPtr();
      int64_t n = std::min(remaining, batch_size);
      remaining -= n;
      metrics->rows.fetch_add(n, std::memory_order_relaxed);
      return arrow::RecordBatch::Make(schema, n, std::vector<std::shared_ptr<arrow::Array>>{});
    });
  }
  auto reader = std::make_shared<arrow::TableBatchReader>(*table);
  reader->set_chunksize(batch_size);
  return BatchIterator([table, reader, metrics]() -> Result<BatchPtr> {
    BatchPtr batch;
    LS_RETURN_NOT_OK(reader->ReadNext(&batch));
    if (batch) metrics->rows.fetch_add(batch->num_rows(), std::memory_order_relaxed);
    return batch;
  });
}

Result<std::string> JavaPatternToStrptime(const std::string& pattern) {
  std::string out;
  for (size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    size_t n = 1;
    while (i + n < pattern.size() && pattern[i + n] == c) ++n;
    if (c == '\'') {  // quoted literal
      size_t end = pattern.find('\'', i + 1);
      if (end == std::string::npos) end = pattern.size();
      out += pattern.substr(i + 1, end - i - 1);
      i = end + 1;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c))) {
      switch (c) {
        case 'y':
        case 'u':
          out += (n == 2) ? "%y" : "%Y";
          break;
        case 'M':
          out += n >= 3 ? (n == 3 ? "%b" : "%B") : "%m";
          break;
        case 'd':
          out += "%d";
          break;
        case 'H':
          out += "%H";
          break;
        case 'h':
          out += "%I";
          break;
        case 'a':
          out += "%p";
          break;
        case 'm':
          out += "%M";
          break;
        case 's':
          out += "%S";
          break;
        case 'S':  // fraction: strptime's %S already takes fractions in Arrow
          if (!out.empty() && out.back() == '.') out.pop_back();
          break;
        case 'X':
        case 'Z':
        case 'x':
          out += "%z";
          break;
        case 'E':
          out += n >= 4 ? "%A" : "%a";
          break;
        default:
          return UserError("unsupported datetime pattern letter '{}' in '{}'", c, pattern);
      }
      i += n;
      continue;
    }
    out.append(n, c);
    i += n;
  }
  return out;
}

namespace {

/// Cast with per-element fallback: a vectorized cast of the whole slice, and
/// when it fails, bisection down to the offending elements (malformed input is
/// rare, so this costs O(bad * log n) casts).
Status CastBisect(const std::shared_ptr<arrow::Array>& values,
                  const std::shared_ptr<arrow::DataType>& type, int64_t offset,
                  std::vector<std::shared_ptr<arrow::Array>>* pieces,
                  std::vector<int64_t>* bad_rows) {
  auto cast = arrow::compute::Cast(*values, type, arrow::compute::CastOptions::Safe());
  if (cast.ok()) {
    pieces->push_back(*cast);
    return Status::OK();
  }
  if (values->length() == 1) {
    LS_ASSIGN_OR_RAISE(auto nulls, arrow::MakeArrayOfNull(type, 1));
    pieces->push_back(nulls);
    bad_rows->push_back(offset);
    return Status::OK();
  }
  int64_t half = values->length() / 2;
  LS_RETURN_NOT_OK(CastBisect(values->Slice(0, half), type, offset, pieces, bad_rows));
  return CastBisect(values->Slice(half), type, offset + half, pieces, bad_rows);
}

/// strptime-based parsing for dateFormat/timestampFormat; unparseable -> bad.
Result<std::shared_ptr<arrow::Array>> ParseWithFormat(const std::shared_ptr<arrow::Array>& values,
                                                      const std::shared_ptr<arrow::DataType>& type,
                                                      const std::string& java_pattern,
                                                      std::vector<int64_t>* bad_rows) {
  LS_ASSIGN_OR_RAISE(auto format, JavaPatternToStrptime(java_pattern));
  arrow::compute::StrptimeOptions opts(format, arrow::TimeUnit::MICRO, /*error_is_null=*/true);
  LS_ASSIGN_OR_RAISE(auto parsed, arrow::compute::CallFunction("strptime", {values}, &opts));
  auto arr = parsed.make_array();
  for (int64_t i = 0; i < arr->length(); ++i) {
    if (arr->IsNull(i) && values->IsValid(i)) bad_rows->push_back(i);
  }
  if (type->id() == arrow::Type::TIMESTAMP) {
    // Naive instants: Spark reads them in the session time zone (UTC here).
    LS_ASSIGN_OR_RAISE(auto data, arr->View(arrow::timestamp(arrow::TimeUnit::MICRO)));
    return data->View(type);
  }
  return arrow::compute::Cast(*arr, type);
}

}  // namespace

Result<std::shared_ptr<arrow::Array>> ConvertStrings(const std::shared_ptr<arrow::Array>& values,
                                                     const std::shared_ptr<arrow::DataType>& type,
                                                     const FileReadOptions& options,
                                                     std::vector<int64_t>* bad_rows) {
  if (type->id() == arrow::Type::STRING) return values;
  if (type->id() == arrow::Type::TIMESTAMP && !options.timestamp_format.empty()) {
    return ParseWithFormat(values, type, options.timestamp_format, bad_rows);
  }
  if (type->id() == arrow::Type::DATE32 && !options.date_format.empty()) {
    return ParseWithFormat(values, type, options.date_format, bad_rows);
  }
  std::shared_ptr<arrow::Array> input = values;
  if (types::IsFloating(*type) && (options.nan_value != "NaN" || options.positive_inf != "Inf" ||
                                   options.negative_inf != "-Inf")) {
    // Custom spellings of NaN and infinities become the ones Arrow parses.
    const auto& in = static_cast<const arrow::StringArray&>(*values);
    arrow::StringBuilder b;
    for (int64_t i = 0; i < in.length(); ++i) {
      if (in.IsNull(i)) {
        LS_RETURN_NOT_OK(b.AppendNull());
        continue;
      }
      std::string_view v = in.GetView(i);
      if (v == options.nan_value) {
        v = "NaN";
      } else if (v == options.positive_inf) {
        v = "inf";
      } else if (v == options.negative_inf) {
        v = "-inf";
      }
      LS_RETURN_NOT_OK(b.Append(v));
    }
    LS_RETURN_NOT_OK(b.Finish(&input));
  }
  std::shared_ptr<arrow::DataType> cast_type = type;
  if (type->id() == arrow::Type::TIMESTAMP) {
    // Arrow refuses zone-less text for a zoned type; Spark reads it in the
    // session time zone (UTC), which is the same value as the naive parse.
    cast_type = arrow::timestamp(arrow::TimeUnit::MICRO);
  }
  std::vector<std::shared_ptr<arrow::Array>> pieces;
  size_t first_bad = bad_rows->size();
  LS_RETURN_NOT_OK(CastBisect(input, cast_type, 0, &pieces, bad_rows));
  std::shared_ptr<arrow::Array> out;
  if (pieces.size() == 1) {
    out = pieces[0];
  } else {
    LS_ASSIGN_OR_RAISE(out, arrow::Concatenate(pieces));
  }
  std::sort(bad_rows->begin() + first_bad, bad_rows->end());
  if (cast_type != type) {
    LS_ASSIGN_OR_RAISE(out, out->View(type));
  }
  return out;
}

}  // namespace internal
}  // namespace lakestream::formats
