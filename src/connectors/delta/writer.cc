// Delta writer: data files, stats, commits with optimistic concurrency,
// checkpoints.
#include "connectors/delta/writer.h"

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/io/memory.h>
#include <arrow/scalar.h>
#include <arrow/util/byte_size.h>
#include <arrow/util/utf8.h>
#include <parquet/arrow/writer.h>
#include <parquet/exception.h>
#include <parquet/metadata.h>
#include <parquet/properties.h>
#include <parquet/statistics.h>
#include <simdjson.h>
#include <strings.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "connectors/delta/checkpoint.h"
#include "connectors/delta/timestamps.h"
#include "formats/parquet_writer.h"
#include "types/types.h"

namespace lakestream::delta {
namespace {

constexpr const char* kEngineInfo = "lakestream/0.1";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Uuid() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  uint64_t a = rng(), b = rng();
  a = (a & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFFF,
                     b >> 48, b & 0xFFFFFFFFFFFFull);
}

// Howard Hinnant's civil_from_days.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string FormatDate(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  return fmt::format("{:04d}-{:02d}-{:02d}", y, m, d);
}

// "2021-01-01 08:09:10.123456" (partition values) or ISO with ms (stats).
std::string FormatMicros(int64_t us, bool iso_ms, bool utc_suffix) {
  int64_t days = FloorDiv(us, 86400000000LL);
  int64_t rem = us - days * 86400000000LL;
  int64_t secs = rem / 1000000, frac = rem % 1000000;
  std::string date = FormatDate(days);
  if (iso_ms) {
    return fmt::format("{}T{:02d}:{:02d}:{:02d}.{:03d}{}", date, secs / 3600, secs / 60 % 60,
                       secs % 60, frac / 1000, utc_suffix ? "Z" : "");
  }
  return fmt::format("{} {:02d}:{:02d}:{:02d}.{:06d}", date, secs / 3600, secs / 60 % 60, secs % 60,
                     frac);
}

bool EqualsIgnoreCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool HasTimestampNtz(const arrow::DataType& t) {
  if (t.id() == arrow::Type::TIMESTAMP) {
    return static_cast<const arrow::TimestampType&>(t).timezone().empty();
  }
  for (const auto& f : t.fields()) {
    if (HasTimestampNtz(*f->type())) return true;
  }
  return false;
}

// URL-encodes a relative path for add.path (RFC 3986 path characters kept).
std::string UrlEncodePath(std::string_view p) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : p) {
    if (isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~' || c == '=' ||
        c == ':' || c == '@' || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' ||
        c == ')' || c == '*' || c == '+' || c == ',' || c == ';') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// ---- stats --------------------------------------------------------------

// The JSON literal of a min/max scalar, or "" when Delta keeps no stat for it.
std::string StatLiteral(const arrow::Scalar& s, bool is_max) {
  if (!s.is_valid) return "";
  std::string out;
  switch (s.type->id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
      return s.ToString();
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE: {
      double v = s.type->id() == arrow::Type::FLOAT
                     ? static_cast<const arrow::FloatScalar&>(s).value
                     : static_cast<const arrow::DoubleScalar&>(s).value;
      if (!std::isfinite(v)) return "";
      return fmt::format("{}", v);
    }
    case arrow::Type::DECIMAL128:
      return s.ToString();
    case arrow::Type::DATE32:
      AppendJsonString(&out, FormatDate(static_cast<const arrow::Date32Scalar&>(s).value));
      return out;
    case arrow::Type::TIMESTAMP: {
      const auto& t = static_cast<const arrow::TimestampType&>(*s.type);
      int64_t us = TimestampToMicros(t, static_cast<const arrow::TimestampScalar&>(s).value);
      // Millisecond precision as Spark writes; readers widen max by 1 ms.
      AppendJsonString(&out, FormatMicros(us, true, !t.timezone().empty()));
      return out;
    }
    case arrow::Type::STRING: {
      std::string_view v = static_cast<const arrow::StringScalar&>(s).view();
      // A value that is not UTF-8 cannot be a JSON string bound: no stat.
      if (!arrow::util::ValidateUTF8(v)) return "";
      // Delta truncates string stats to 32 characters: a prefix is still a
      // lower bound, but not an upper bound, so a truncated max is dropped.
      size_t chars = 0, i = 0;
      while (i < v.size() && chars < 32) {
        unsigned char c = static_cast<unsigned char>(v[i]);
        i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        ++chars;
      }
      if (i < v.size()) {
        if (is_max) return "";
        v = v.substr(0, i);
      }
      AppendJsonString(&out, v);
      return out;
    }
    default:
      return "";  // booleans, binary, nested: no min/max (as Spark)
  }
}

}  // namespace

namespace {

// Min and max of a top-level string column from the footer's per-row-group
// statistics (byte-wise, as Arrow's MinMax compares strings); nullopt when
// some row group with values has none (libparquet drops values over 4 KiB).
std::optional<std::pair<std::string_view, std::string_view>> FooterStringMinMax(
    const parquet::FileMetaData& footer, const std::string& name) {
  const auto* schema = footer.schema();
  int leaf = -1;
  for (int i = 0; i < schema->num_columns(); ++i) {
    auto path = schema->Column(i)->path()->ToDotVector();
    if (path.size() == 1 && path[0] == name) leaf = i;
  }
  if (leaf < 0 || schema->Column(leaf)->physical_type() != parquet::Type::BYTE_ARRAY) {
    return std::nullopt;
  }
  std::optional<std::pair<std::string_view, std::string_view>> out;
  for (int rg = 0; rg < footer.num_row_groups(); ++rg) {
    auto chunk = footer.RowGroup(rg)->ColumnChunk(leaf);
    auto stats = chunk->statistics();
    if (!stats) return std::nullopt;
    if (!stats->HasMinMax()) {
      if (stats->HasNullCount() && stats->null_count() == chunk->num_values()) continue;
      return std::nullopt;
    }
    const auto& typed = static_cast<const parquet::ByteArrayStatistics&>(*stats);
    std::string_view lo(reinterpret_cast<const char*>(typed.min().ptr), typed.min().len);
    std::string_view hi(reinterpret_cast<const char*>(typed.max().ptr), typed.max().len);
    if (!out) {
      out.emplace(lo, hi);
    } else {
      out->first = std::min(out->first, lo);
      out->second = std::max(out->second, hi);
    }
  }
  return out;
}

}  // namespace

std::string ComputeStatsJson(const arrow::Table& data, const parquet::FileMetaData* footer) {
  std::string mins, maxs, nulls;
  for (int c = 0; c < data.num_columns(); ++c) {
    const auto& field = data.schema()->field(c);
    const auto& col = data.column(c);
    if (!nulls.empty()) nulls += ",";
    AppendJsonString(&nulls, field->name());
    nulls += ":" + std::to_string(col->null_count());
    if (field->type()->num_fields() > 0 || field->type()->id() == arrow::Type::BOOL) continue;
    std::string lo, hi;
    std::optional<std::pair<std::string_view, std::string_view>> from_footer;
    if (footer != nullptr && field->type()->id() == arrow::Type::STRING &&
        col->null_count() < col->length()) {
      from_footer = FooterStringMinMax(*footer, field->name());
    }
    if (from_footer) {
      lo = StatLiteral(arrow::StringScalar(std::string(from_footer->first)), false);
      hi = StatLiteral(arrow::StringScalar(std::string(from_footer->second)), true);
    } else {
      auto mm = arrow::compute::MinMax(col);
      if (!mm.ok()) continue;
      const auto& st = static_cast<const arrow::StructScalar&>(*mm->scalar());
      lo = StatLiteral(*st.value[0], false);
      hi = StatLiteral(*st.value[1], true);
    }
    if (!lo.empty()) {
      if (!mins.empty()) mins += ",";
      AppendJsonString(&mins, field->name());
      mins += ":" + lo;
    }
    if (!hi.empty()) {
      if (!maxs.empty()) maxs += ",";
      AppendJsonString(&maxs, field->name());
      maxs += ":" + hi;
    }
  }
  return fmt::format(
      "{{\"numRecords\":{},\"minValues\":{{{}}},\"maxValues\":{{{}}},\"nullCount\":{{{}}}}}",
      data.num_rows(), mins, maxs, nulls);
}

std::optional<std::string> SerializePartitionValue(const arrow::Array& array, int64_t row) {
  if (array.IsNull(row)) return std::nullopt;
  switch (array.type_id()) {
    case arrow::Type::STRING: {
      // Spark writes an empty string partition value as NULL (Hive's default partition).
      auto v = static_cast<const arrow::StringArray&>(array).GetView(row);
      if (v.empty()) return std::nullopt;
      return std::string(v);
    }
    case arrow::Type::BINARY:
      return std::string(static_cast<const arrow::BinaryArray&>(array).GetView(row));
    case arrow::Type::BOOL:
      return static_cast<const arrow::BooleanArray&>(array).Value(row) ? "true" : "false";
    case arrow::Type::DATE32:
      return FormatDate(static_cast<const arrow::Date32Array&>(array).Value(row));
    case arrow::Type::TIMESTAMP: {
      const auto& t = static_cast<const arrow::TimestampType&>(*array.type());
      return FormatMicros(
          TimestampToMicros(t, static_cast<const arrow::TimestampArray&>(array).Value(row)), false,
          false);
    }
    default: {
      auto s = array.GetScalar(row);
      if (!s.ok()) return std::nullopt;
      return (*s)->ToString();
    }
  }
}

std::string EscapePartitionPathValue(std::string_view value) {
  // Spark's ExternalCatalogUtils.escapePathName character set.
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    bool esc = c < 0x20 || c == 0x7F || c == '"' || c == '#' || c == '%' || c == '\'' || c == '*' ||
               c == '/' || c == ':' || c == '=' || c == '?' || c == '\\' || c == '{' || c == '[' ||
               c == ']' || c == '^';
    if (esc) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

namespace {

// ---- data files ----------------------------------------------------------

// A data file's bytes and its footer (for the stats).
struct EncodedFile {
  std::shared_ptr<arrow::Buffer> bytes;
  std::shared_ptr<parquet::FileMetaData> footer;
};

Result<EncodedFile> EncodeParquet(const arrow::Table& table, const DeltaWriteOptions& options) {
  parquet::WriterProperties::Builder props;
  props.compression(options.compression == "zstd" ? parquet::Compression::ZSTD
                                                  : parquet::Compression::SNAPPY);
  props.enable_dictionary();
  props.enable_statistics();
  if (options.delta_binary_packed) formats::ChooseColumnEncodings(table, &props);
  const int64_t group_rows = std::max<int64_t>(1, options.row_group_rows);
  props.max_row_group_length(group_rows);
  auto arrow_props = parquet::ArrowWriterProperties::Builder().store_schema()->build();
  // Room for the whole file up front: growing by doubling copied it ~twice.
  // Untouched capacity costs address space only.
  const int64_t estimate =
      std::min<int64_t>(arrow::util::TotalBufferSize(table), int64_t{256} << 20) + 4096;
  LS_ASSIGN_OR_RAISE(auto sink, arrow::io::BufferOutputStream::Create(estimate));
  EncodedFile out;
  try {
    LS_ASSIGN_OR_RAISE(
        auto writer, parquet::arrow::FileWriter::Open(*table.schema(), arrow::default_memory_pool(),
                                                      sink, props.build(), arrow_props));
    LS_RETURN_NOT_OK(writer->WriteTable(table, group_rows));
    LS_RETURN_NOT_OK(writer->Close());
    out.footer = writer->metadata();
  } catch (const std::exception& e) {
    return InternalError("Parquet encoding failed: {}", e.what());
  }
  LS_ASSIGN_OR_RAISE(out.bytes, sink->Finish());
  return out;
}

// Aligns `data` to the table schema: columns by name (case-insensitive), cast
// to the table's types. Missing nullable columns become NULL.
Result<std::shared_ptr<arrow::Table>> AlignToSchema(const std::shared_ptr<arrow::Table>& data,
                                                    const arrow::Schema& schema,
                                                    const std::string& root) {
  arrow::ChunkedArrayVector cols;
  arrow::FieldVector fields;
  std::vector<bool> used(static_cast<size_t>(data->num_columns()), false);
  for (const auto& f : schema.fields()) {
    int idx = -1;
    for (int c = 0; c < data->num_columns(); ++c) {
      if (EqualsIgnoreCase(data->schema()->field(c)->name(), f->name())) idx = c;
    }
    auto plain = arrow::field(f->name(), f->type(), f->nullable());
    if (idx < 0) {
      if (!f->nullable()) {
        return UserError("cannot write to Delta table '{}': column '{}' (NOT NULL) is missing",
                         root, f->name());
      }
      LS_ASSIGN_OR_RAISE(auto nulls, arrow::MakeArrayOfNull(f->type(), data->num_rows()));
      cols.push_back(std::make_shared<arrow::ChunkedArray>(nulls));
    } else {
      used[static_cast<size_t>(idx)] = true;
      auto col = data->column(idx);
      if (!col->type()->Equals(*f->type())) {
        auto cast = arrow::compute::Cast(col, f->type());
        if (!cast.ok()) {
          return UserError(
              "cannot write to Delta table '{}': column '{}' has type {} but the table has {}",
              root, f->name(), col->type()->ToString(), f->type()->ToString());
        }
        col = cast->chunked_array();
      }
      cols.push_back(col);
    }
    fields.push_back(plain);
  }
  for (size_t c = 0; c < used.size(); ++c) {
    if (!used[c]) {
      return UserError(
          "cannot write to Delta table '{}': column '{}' is not in the table schema ({}); schema "
          "evolution is not supported",
          root, data->schema()->field(static_cast<int>(c))->name(), schema.ToString());
    }
  }
  return arrow::Table::Make(arrow::schema(fields), cols, data->num_rows());
}

// Writes the data files of `data` (already aligned) and returns their adds.
Result<std::vector<AddFile>> WriteDataFiles(storage::FileSystem* fs, const std::string& root,
                                            const std::shared_ptr<arrow::Table>& data,
                                            const std::vector<std::string>& partition_columns,
                                            const DeltaWriteOptions& options) {
  std::vector<int> part_idx, data_idx;
  for (const auto& p : partition_columns) {
    int idx = data->schema()->GetFieldIndex(p);
    if (idx < 0) return UserError("partition column '{}' is not in the data", p);
    part_idx.push_back(idx);
  }
  for (int c = 0; c < data->num_columns(); ++c) {
    if (std::find(part_idx.begin(), part_idx.end(), c) == part_idx.end()) data_idx.push_back(c);
  }
  // Each output file is a job: a slice of rows and where it goes.
  struct FileJob {
    std::shared_ptr<arrow::Table> rows;
    std::string dir;
    PartitionValues pv;
  };
  std::vector<FileJob> jobs;
  auto data_schema_of = [&](const arrow::Schema& schema) {
    arrow::FieldVector fields;
    for (int c : data_idx) fields.push_back(schema.field(c));
    return arrow::schema(fields);
  };
  if (part_idx.empty()) {
    // Unpartitioned: slices of the table as it is, chunks and all (no copy).
    if (data->num_rows() == 0) return std::vector<AddFile>{};
    for (int64_t off = 0; off < data->num_rows(); off += options.max_rows_per_file) {
      jobs.push_back({data->Slice(off, options.max_rows_per_file), "", {}});
    }
  } else {
    LS_ASSIGN_OR_RAISE(auto batch, data->CombineChunksToBatch());
    // Group rows by partition values (few distinct values in practice).
    std::map<std::string, std::pair<PartitionValues, std::vector<int64_t>>> groups;
    for (int64_t r = 0; r < batch->num_rows(); ++r) {
      PartitionValues pv;
      std::string key;
      for (size_t i = 0; i < part_idx.size(); ++i) {
        auto v = SerializePartitionValue(*batch->column(part_idx[i]), r);
        key += v ? "v" + *v : "n";
        key.push_back('\0');
        pv[partition_columns[i]] = std::move(v);
      }
      auto& g = groups[key];
      if (g.second.empty()) g.first = std::move(pv);
      g.second.push_back(r);
    }
    arrow::ArrayVector cols;
    for (int c : data_idx) cols.push_back(batch->column(c));
    auto data_batch =
        arrow::RecordBatch::Make(data_schema_of(*batch->schema()), batch->num_rows(), cols);
    for (auto& [key, group] : groups) {
      auto& [pv, rows] = group;
      std::string dir;
      for (const auto& p : partition_columns) {
        const auto& v = pv[p];
        dir += EscapePartitionPathValue(p) + "=" +
               (v ? EscapePartitionPathValue(*v) : "__HIVE_DEFAULT_PARTITION__") + "/";
      }
      std::shared_ptr<arrow::Array> take_idx;
      arrow::Int64Builder ib;
      LS_RETURN_NOT_OK(ib.AppendValues(rows));
      LS_RETURN_NOT_OK(ib.Finish(&take_idx));
      LS_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(data_batch, take_idx));
      auto part_batch = taken.record_batch();
      for (int64_t off = 0; off < part_batch->num_rows(); off += options.max_rows_per_file) {
        LS_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(
                                           {part_batch->Slice(off, options.max_rows_per_file)}));
        jobs.push_back({std::move(table), dir, pv});
      }
    }
  }
  if (jobs.empty()) return std::vector<AddFile>{};
  std::vector<std::string> dirs;
  for (const auto& job : jobs) {
    if (std::find(dirs.begin(), dirs.end(), job.dir) == dirs.end()) dirs.push_back(job.dir);
  }
  for (const auto& dir : dirs) {
    LS_RETURN_NOT_OK(fs->MakeDirs(dir.empty() ? root : storage::JoinPath(root, dir)));
  }
  // Files are encoded and written in parallel: Parquet encoding is most of a
  // write's CPU, and each file is independent until the commit.
  std::vector<AddFile> adds(jobs.size());
  std::vector<Status> errors(jobs.size());
  auto write_one = [&](size_t k) -> Status {
    auto& job = jobs[k];
    std::shared_ptr<arrow::Table> table = job.rows;
    if (part_idx.empty() && static_cast<int>(data_idx.size()) != table->num_columns()) {
      LS_ASSIGN_OR_RAISE(table, table->SelectColumns(data_idx));
    }
    LS_ASSIGN_OR_RAISE(auto encoded, EncodeParquet(*table, options));
    std::string_view bytes(reinterpret_cast<const char*>(encoded.bytes->data()),
                           static_cast<size_t>(encoded.bytes->size()));
    std::string name = fmt::format("part-{:05d}-{}.c000.{}.parquet", k, Uuid(),
                                   options.compression == "zstd" ? "zstd" : "snappy");
    std::string rel = job.dir + name;
    // Not atomic: a data file is read only once a commit names it, and the
    // commit is put after this returns (a crash leaves an orphan, ignored by
    // readers). A rename would cost a second journal commit per file, and
    // every freshness-critical batch writes one.
    LS_RETURN_NOT_OK(fs->WriteNew(storage::JoinPath(root, rel), bytes));
    AddFile add;
    add.path = UrlEncodePath(rel);
    add.partition_values = job.pv;
    add.size = static_cast<int64_t>(bytes.size());
    add.modification_time = NowMs();
    add.data_change = true;
    add.stats = ComputeStatsJson(*table, encoded.footer.get());
    adds[k] = std::move(add);
    return Status::OK();
  };
  const size_t workers =
      std::min<size_t>(jobs.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t k = next++; k < jobs.size(); k = next++) errors[k] = write_one(k);
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  for (const auto& st : errors) LS_RETURN_NOT_OK(st);
  return adds;
}

// ---- commit ---------------------------------------------------------------

const char* ModeName(DeltaWriteOptions::Mode m) {
  switch (m) {
    case DeltaWriteOptions::Mode::kAppend:
      return "Append";
    case DeltaWriteOptions::Mode::kOverwrite:
      return "Overwrite";
    case DeltaWriteOptions::Mode::kErrorIfExists:
      return "ErrorIfExists";
    case DeltaWriteOptions::Mode::kIgnore:
      return "Ignore";
  }
  return "Append";
}

std::string CommitInfoJson(const DeltaWriteOptions& options, int64_t read_version,
                           const std::vector<std::string>& partition_columns,
                           const std::vector<AddFile>& adds, int64_t rows, bool blind_append) {
  std::string out = "{";
  out += fmt::format("\"timestamp\":{},\"operation\":", NowMs());
  AppendJsonString(&out, options.operation);
  out += ",\"operationParameters\":{";
  std::map<std::string, std::string> params = options.operation_parameters;
  if (!params.count("mode")) params["mode"] = ModeName(options.mode);
  if (!params.count("partitionBy")) {
    std::string pb = "[";
    for (size_t i = 0; i < partition_columns.size(); ++i) {
      if (i) pb += ",";
      AppendJsonString(&pb, partition_columns[i]);
    }
    params["partitionBy"] = pb + "]";
  }
  bool first = true;
  for (const auto& [k, v] : params) {
    if (!first) out += ",";
    first = false;
    AppendJsonString(&out, k);
    out += ":";
    AppendJsonString(&out, v);
  }
  out += "}";
  if (read_version >= 0) out += fmt::format(",\"readVersion\":{}", read_version);
  int64_t bytes = 0;
  for (const auto& a : adds) bytes += a.size;
  out += fmt::format(
      ",\"isolationLevel\":\"Serializable\",\"isBlindAppend\":{},\"operationMetrics\":{{"
      "\"numFiles\":\"{}\",\"numOutputRows\":\"{}\",\"numOutputBytes\":\"{}\"}},"
      "\"engineInfo\":\"{}\",\"txnId\":\"{}\"}}",
      blind_append ? "true" : "false", adds.size(), rows, bytes, kEngineInfo, Uuid());
  return out;
}

Status CheckWriteProtocol(const Snapshot& snap, const DeltaWriteOptions& options) {
  const Protocol& p = snap.protocol();
  if (p.min_writer_version > 7) {
    return Unsupported(
        "Delta table '{}' requires writer version {}, which lakestream does not "
        "support",
        snap.table_root(), p.min_writer_version);
  }
  if (p.min_writer_version >= 3 && p.min_writer_version < 7) {
    // Writer versions 3..6 imply checkConstraints/generatedColumns/... that
    // we do not enforce; 4+ also change data feed, 5 column mapping.
    return Unsupported(
        "Delta table '{}' requires writer version {} (constraints, generated "
        "columns, change data feed or column mapping), which lakestream cannot "
        "write yet",
        snap.table_root(), p.min_writer_version);
  }
  static const std::vector<std::string> kOk = {
      "appendOnly",     "invariants",          "timestampNtz", "deletionVectors",
      "domainMetadata", "vacuumProtocolCheck", "v2Checkpoint"};
  if (p.writer_features) {
    for (const auto& f : *p.writer_features) {
      if (std::find(kOk.begin(), kOk.end(), f) == kOk.end()) {
        return Unsupported(
            "Delta table '{}' requires writer feature '{}', which lakestream does not support",
            snap.table_root(), f);
      }
    }
  }
  if (options.mode == DeltaWriteOptions::Mode::kOverwrite &&
      snap.Config("delta.appendOnly") == "true") {
    return UserError("cannot overwrite Delta table '{}': it is append-only (delta.appendOnly)",
                     snap.table_root());
  }
  return Status::OK();
}

// Checks a winning commit against ours (PROTOCOL.md / Delta's conflict
// detection): returns OK if ours can be retried on top of it.
Status CheckConflict(const VersionChanges& winner, const DeltaWriteOptions& options,
                     const std::vector<RemoveFile>& our_removes, const std::string& root) {
  if (winner.metadata || winner.protocol) {
    return UserError(
        "concurrent modification of Delta table '{}': version {} changed the table's metadata "
        "or protocol (MetadataChangedException)",
        root, winner.version);
  }
  if (options.mode == DeltaWriteOptions::Mode::kOverwrite) {
    for (const auto& a : winner.adds) {
      if (a.data_change) {
        return UserError(
            "concurrent modification of Delta table '{}': version {} added files that this "
            "overwrite would have read (ConcurrentAppendException)",
            root, winner.version);
      }
    }
    std::set<std::string> ours;
    for (const auto& r : our_removes) ours.insert(UrlDecodePath(r.path));
    for (const auto& r : winner.removes) {
      if (ours.count(UrlDecodePath(r.path))) {
        return UserError(
            "concurrent modification of Delta table '{}': version {} removed file '{}' this "
            "write also removes (ConcurrentDeleteDeleteException)",
            root, winner.version, r.path);
      }
    }
  }
  return Status::OK();
}

int64_t CheckpointInterval(const Snapshot& snap) {
  try {
    int64_t v = std::stoll(snap.Config("delta.checkpointInterval", "10"));
    return v > 0 ? v : 10;
  } catch (...) {
    return 10;
  }
}

}  // namespace

Result<DeltaWriteResult> WriteDelta(const std::string& table_root,
                                    const std::shared_ptr<arrow::Table>& data,
                                    const DeltaWriteOptions& options,
                                    std::shared_ptr<storage::FileSystem> fs) {
  auto log = DeltaLog::Open(table_root, std::move(fs));
  const std::string& root = log->table_root();
  storage::FileSystem* f = log->fs().get();
  DeltaWriteResult result;
  std::shared_ptr<const Snapshot> base = options.base;
  bool exists = base != nullptr;
  if (!base) {
    LS_ASSIGN_OR_RAISE(exists, log->TableExists());
  }
  if (exists) {
    if (!base) {
      LS_ASSIGN_OR_RAISE(base, log->Latest());
    }
    if (options.mode == DeltaWriteOptions::Mode::kErrorIfExists) {
      return UserError("Delta table '{}' already exists (mode ErrorIfExists)", root);
    }
    if (options.mode == DeltaWriteOptions::Mode::kIgnore) {
      result.skipped = true;
      return result;
    }
    LS_RETURN_NOT_OK(CheckWriteProtocol(*base, options));
    if (base->column_mapping_mode() != ColumnMappingMode::kNone) {
      return Unsupported("writing to Delta table '{}' with column mapping is not supported yet",
                         root);
    }
  }
  if (options.app_id && options.app_version && base) {
    auto v = base->TxnVersion(*options.app_id);
    if (v && *v >= *options.app_version) {
      result.skipped = true;
      result.version = base->version();
      return result;
    }
  }
  // Schema and partitioning: the table's, or the data's for a new table.
  types::SchemaPtr schema;
  std::vector<std::string> partition_columns;
  if (base) {
    schema = base->schema();
    partition_columns = base->metadata().partition_columns;
  } else {
    schema = types::ToSparkSchema(data->schema());
    for (const auto& p : options.partition_columns) {
      int idx = -1;
      for (int i = 0; i < schema->num_fields(); ++i) {
        if (EqualsIgnoreCase(schema->field(i)->name(), p)) idx = i;
      }
      if (idx < 0) {
        return UserError("partition column '{}' is not in the schema ({})", p, schema->ToString());
      }
      partition_columns.push_back(schema->field(idx)->name());
    }
  }
  LS_ASSIGN_OR_RAISE(auto aligned, AlignToSchema(data, *schema, root));
  LS_ASSIGN_OR_RAISE(auto adds, WriteDataFiles(f, root, aligned, partition_columns, options));
  result.files_added = static_cast<int64_t>(adds.size());
  result.rows_written = aligned->num_rows();

  // New-table actions.
  std::optional<Protocol> protocol;
  std::optional<Metadata> metadata;
  auto make_new_table_actions = [&]() {
    Protocol p;
    if (HasTimestampNtz(*arrow::struct_(schema->fields()))) {
      p.min_reader_version = 3;
      p.min_writer_version = 7;
      p.reader_features = std::vector<std::string>{"timestampNtz"};
      p.writer_features = std::vector<std::string>{"timestampNtz"};
    }
    Metadata m;
    m.id = Uuid();
    m.name = options.table_name;
    m.description = options.description;
    m.schema_string = types::SchemaToDeltaJson(*schema);
    m.partition_columns = partition_columns;
    m.configuration = StringMap(options.configuration.begin(), options.configuration.end());
    m.created_time = NowMs();
    protocol = std::move(p);
    metadata = std::move(m);
  };
  if (!base) make_new_table_actions();

  std::vector<RemoveFile> removes;
  auto make_removes = [&]() {
    removes.clear();
    if (options.mode != DeltaWriteOptions::Mode::kOverwrite || !base) return;
    for (const auto& a : base->files()) {
      RemoveFile r;
      r.path = a.path;
      r.deletion_timestamp = NowMs();
      r.data_change = true;
      r.extended_file_metadata = true;
      r.partition_values = a.partition_values;
      r.size = a.size;
      r.deletion_vector = a.deletion_vector;
      removes.push_back(std::move(r));
    }
  };
  make_removes();

  int64_t read_version = base ? base->version() : -1;
  int64_t version = read_version + 1;
  bool blind_append = options.mode == DeltaWriteOptions::Mode::kAppend;
  Txn committed_txn;
  for (int attempt = 1;; ++attempt) {
    result.attempts = attempt;
    std::vector<Action> actions;
    CommitInfo ci;
    ci.raw_json = CommitInfoJson(options, read_version, partition_columns, adds,
                                 result.rows_written, blind_append && base != nullptr);
    actions.push_back(ci);
    if (protocol) actions.push_back(*protocol);
    if (metadata) actions.push_back(*metadata);
    if (options.app_id && options.app_version) {
      committed_txn = Txn{*options.app_id, *options.app_version, NowMs()};
      actions.push_back(committed_txn);
    }
    for (const auto& r : removes) actions.push_back(r);
    for (const auto& a : adds) actions.push_back(a);
    LS_RETURN_NOT_OK(f->MakeDirs(log->log_dir()));
    std::string path = storage::JoinPath(log->log_dir(), CommitFileName(version));
    Status st = f->PutIfAbsent(path, ToCommitFile(actions));
    if (st.ok()) break;
    if (!storage::IsAlreadyExists(st)) return st;
    if (attempt >= options.max_commit_attempts) {
      return UserError(
          "could not commit to Delta table '{}' after {} attempts: concurrent "
          "writers keep winning",
          root, attempt);
    }
    if (!base) {
      // Another writer created the table first: continue as an append if it
      // has our schema and partitioning.
      if (options.mode != DeltaWriteOptions::Mode::kAppend) {
        return UserError("Delta table '{}' was created concurrently by another writer", root);
      }
      LS_ASSIGN_OR_RAISE(base, log->Latest());
      if (!base->schema()->Equals(*schema, false) ||
          base->metadata().partition_columns != partition_columns) {
        return UserError(
            "Delta table '{}' was created concurrently with a different schema or partitioning",
            root);
      }
      LS_RETURN_NOT_OK(CheckWriteProtocol(*base, options));
      protocol.reset();
      metadata.reset();
      read_version = base->version();
      version = base->version() + 1;
      if (options.app_id && options.app_version) {
        auto v = base->TxnVersion(*options.app_id);
        if (v && *v >= *options.app_version) {
          result.skipped = true;
          result.version = base->version();
          return result;
        }
      }
      continue;
    }
    // Check every commit that won since our read against ours.
    while (true) {
      auto winner = log->ReadVersion(version);
      if (!winner.ok()) break;  // no such version yet: retry at `version`
      if (options.app_id && options.app_version) {
        for (const auto& t : winner->txns) {
          if (t.app_id == *options.app_id && t.version >= *options.app_version) {
            result.skipped = true;  // the same batch was committed by another attempt
            result.version = winner->version;
            return result;
          }
        }
      }
      LS_RETURN_NOT_OK(CheckConflict(*winner, options, removes, root));
      ++version;
    }
  }
  result.version = version;
  result.files_removed = static_cast<int64_t>(removes.size());
  const bool overwrite = options.mode == DeltaWriteOptions::Mode::kOverwrite;
  if (base && version == read_version + 1 &&
      (overwrite || options.mode == DeltaWriteOptions::Mode::kAppend)) {
    std::optional<Txn> txn;
    if (options.app_id && options.app_version) txn = committed_txn;
    result.snapshot = base->WithOwnCommit(adds, overwrite, txn, NowMs());
  }

  // Checkpoint (best effort: the commit already succeeded).
  int64_t interval = base ? CheckpointInterval(*base) : [&] {
    auto it = options.configuration.find("delta.checkpointInterval");
    try {
      return it == options.configuration.end() ? int64_t{10}
                                               : static_cast<int64_t>(std::stoll(it->second));
    } catch (...) {
      return int64_t{10};
    }
  }();
  bool v2 = base && base->protocol().HasWriterFeature("v2Checkpoint");
  result.checkpoint_due = !v2 && interval > 0 && version > 0 && version % interval == 0;
  if (result.checkpoint_due && options.write_checkpoint) {
    auto snap = result.snapshot ? Result<std::shared_ptr<const Snapshot>>(result.snapshot)
                                : log->AtVersion(version);
    if (snap.ok() && WriteCheckpoint(**snap).ok()) result.checkpoint_written = true;
  }
  return result;
}

Result<std::optional<int64_t>> LatestTxnVersion(const std::string& table_root,
                                                const std::string& app_id,
                                                std::shared_ptr<storage::FileSystem> fs) {
  auto log = DeltaLog::Open(table_root, std::move(fs));
  LS_ASSIGN_OR_RAISE(bool exists, log->TableExists());
  if (!exists) return std::optional<int64_t>();
  LS_ASSIGN_OR_RAISE(auto snap, log->Latest());
  return snap->TxnVersion(app_id);
}

Status WriteCheckpoint(const Snapshot& snapshot) {
  std::vector<Action> actions;
  actions.push_back(snapshot.protocol());
  actions.push_back(snapshot.metadata());
  for (const auto& [id, t] : snapshot.txns()) actions.push_back(t);
  for (const auto& [d, m] : snapshot.domain_metadata()) actions.push_back(m);
  int64_t num_adds = 0;
  for (const auto& a : snapshot.files()) {
    AddFile copy = a;
    copy.data_change = false;
    actions.push_back(std::move(copy));
    ++num_adds;
  }
  LS_ASSIGN_OR_RAISE(auto bytes, WriteCheckpointParquet(actions));
  std::string log_dir = storage::JoinPath(snapshot.table_root(), "_delta_log");
  auto fs = snapshot.fs();
  LS_RETURN_NOT_OK(
      fs->WriteAtomic(storage::JoinPath(log_dir, CheckpointFileName(snapshot.version())), bytes));
  std::string last =
      fmt::format("{{\"version\":{},\"size\":{},\"sizeInBytes\":{},\"numOfAddFiles\":{}}}",
                  snapshot.version(), actions.size(), bytes.size(), num_adds);
  return fs->WriteAtomic(storage::JoinPath(log_dir, "_last_checkpoint"), last);
}

}  // namespace lakestream::delta
