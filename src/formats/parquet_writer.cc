// Parquet file writing: libparquet's Arrow writer to a temp file, then rename,
// so readers never see a half-written data file; statistics from the data.
#include "formats/parquet_writer.h"

#include <arrow/array/array_nested.h>
#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <arrow/util/key_value_metadata.h>
#include <parquet/arrow/writer.h>
#include <parquet/exception.h>
#include <parquet/properties.h>

#include <cctype>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace lakestream::formats {
namespace {

namespace fs = std::filesystem;

/// Copies "delta.columnMapping.id" into "PARQUET:field_id" (recursively) so
/// libparquet writes it as the Parquet field id.
std::shared_ptr<arrow::Field> WithFieldIds(const std::shared_ptr<arrow::Field>& f) {
  std::shared_ptr<arrow::DataType> type = f->type();
  if (type->id() == arrow::Type::STRUCT) {
    std::vector<std::shared_ptr<arrow::Field>> children;
    for (const auto& c : type->fields()) children.push_back(WithFieldIds(c));
    type = arrow::struct_(children);
  }
  auto out = f->WithType(type);
  const auto& md = f->metadata();
  if (md && md->Contains("delta.columnMapping.id") && !md->Contains("PARQUET:field_id")) {
    auto copy = md->Copy();
    copy->Append("PARQUET:field_id", md->Get("delta.columnMapping.id").ValueOr(""));
    out = out->WithMetadata(copy);
  }
  return out;
}

bool CollectsMinMax(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::DECIMAL128:
    case arrow::Type::STRING:
    case arrow::Type::DATE32:
    case arrow::Type::TIMESTAMP:
      return true;
    default:
      return false;  // Delta collects no min/max for booleans, binary or nested types
  }
}

Status CollectStats(const std::shared_ptr<arrow::ChunkedArray>& column,
                    std::vector<std::string> path, std::vector<ColumnStats>* out) {
  const auto& type = column->type();
  if (type->id() == arrow::Type::STRUCT) {
    const auto& st = static_cast<const arrow::StructType&>(*type);
    for (int i = 0; i < st.num_fields(); ++i) {
      arrow::ArrayVector chunks;
      for (const auto& c : column->chunks()) {
        // Flattened: a NULL struct makes its fields NULL.
        LS_ASSIGN_OR_RAISE(auto f, static_cast<const arrow::StructArray&>(*c).GetFlattenedField(i));
        chunks.push_back(f);
      }
      auto child = std::make_shared<arrow::ChunkedArray>(chunks, st.field(i)->type());
      auto p = path;
      p.push_back(st.field(i)->name());
      LS_RETURN_NOT_OK(CollectStats(child, std::move(p), out));
    }
    return Status::OK();
  }
  ColumnStats s;
  s.path = std::move(path);
  s.null_count = column->null_count();
  if (CollectsMinMax(*type) && s.null_count < column->length()) {
    LS_ASSIGN_OR_RAISE(auto mm, arrow::compute::MinMax(column));
    const auto& st = mm.scalar_as<arrow::StructScalar>();
    if (st.value[0]->is_valid) {
      s.min = st.value[0];
      s.max = st.value[1];
    }
  }
  out->push_back(std::move(s));
  return Status::OK();
}

parquet::Compression::type ToParquetCodec(ParquetWriteOptions::Codec c) {
  switch (c) {
    case ParquetWriteOptions::Codec::kSnappy:
      return parquet::Compression::SNAPPY;
    case ParquetWriteOptions::Codec::kZstd:
      return parquet::Compression::ZSTD;
    case ParquetWriteOptions::Codec::kGzip:
      return parquet::Compression::GZIP;
    case ParquetWriteOptions::Codec::kNone:
      return parquet::Compression::UNCOMPRESSED;
  }
  return parquet::Compression::SNAPPY;
}

}  // namespace

Result<ParquetWriteOptions::Codec> ParquetWriteOptions::ParseCodec(const std::string& name) {
  std::string n;
  for (char c : name) n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (n == "snappy") return Codec::kSnappy;
  if (n == "zstd") return Codec::kZstd;
  if (n == "gzip") return Codec::kGzip;
  if (n == "none" || n == "uncompressed") return Codec::kNone;
  return UserError("parquet compression expects snappy, zstd, gzip or none, got '{}'", name);
}

void ChooseColumnEncodings(const arrow::Table& table, parquet::WriterProperties::Builder* props) {
  // Rows sampled per column; a cheap hash of a few pages' worth of values.
  constexpr int64_t kSampleRows = 16 * 1024;
  const int64_t n = std::min(table.num_rows(), kSampleRows);
  if (n == 0) return;
  for (int i = 0; i < table.num_columns(); ++i) {
    switch (table.field(i)->type()->id()) {
      case arrow::Type::INT32:
      case arrow::Type::INT64:
      case arrow::Type::DATE32:
      case arrow::Type::TIMESTAMP:
        break;
      default:
        // Strings and floats decode no faster without a dictionary; bytes and
        // shorts have too few values to be mostly distinct in a real file.
        continue;
    }
    auto distinct = arrow::compute::CallFunction("count_distinct", {table.column(i)->Slice(0, n)});
    if (!distinct.ok()) continue;
    const auto& count = distinct->scalar_as<arrow::Int64Scalar>();
    // Mostly distinct: a dictionary would hold most values once more.
    if (count.is_valid && count.value * 4 > n) {
      auto path = std::make_shared<parquet::schema::ColumnPath>(
          std::vector<std::string>{table.field(i)->name()});
      props->disable_dictionary(path);
      props->encoding(path, parquet::Encoding::DELTA_BINARY_PACKED);
    }
  }
}

Result<std::vector<ColumnStats>> ComputeColumnStats(const arrow::Table& table) {
  std::vector<ColumnStats> out;
  for (int i = 0; i < table.num_columns(); ++i) {
    LS_RETURN_NOT_OK(CollectStats(table.column(i), {table.field(i)->name()}, &out));
  }
  return out;
}

Result<WrittenFileInfo> WriteParquetFile(const std::string& path,
                                         const std::shared_ptr<arrow::Table>& table,
                                         const ParquetWriteOptions& options) {
  fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
      return IOErrorAt("cannot create folder {}: {}", target.parent_path().string(), ec.message());
    }
  }
  std::random_device rd;
  fs::path tmp = target.parent_path() / fmt::format(".{}.{:016x}.tmp", target.filename().string(),
                                                    (uint64_t{rd()} << 32) | rd());

  std::shared_ptr<arrow::Table> data = table;
  if (options.write_field_ids) {
    std::vector<std::shared_ptr<arrow::Field>> fields;
    for (const auto& f : table->schema()->fields()) fields.push_back(WithFieldIds(f));
    data = arrow::Table::Make(arrow::schema(fields, table->schema()->metadata()), table->columns(),
                              table->num_rows());
  }

  parquet::WriterProperties::Builder props;
  props.compression(ToParquetCodec(options.codec));
  if (options.dictionary) {
    props.enable_dictionary();
    ChooseColumnEncodings(*data, &props);
  } else {
    props.disable_dictionary();
  }
  if (options.statistics) {
    props.enable_statistics();
  } else {
    props.disable_statistics();
  }
  props.max_row_group_length(options.row_group_rows);
  props.data_pagesize(options.data_page_size);
  props.created_by("lakestream (parquet-cpp-arrow)");
  auto arrow_props = parquet::ArrowWriterProperties::Builder().build();

  Status st;
  try {
    auto sink = arrow::io::FileOutputStream::Open(tmp.string());
    if (!sink.ok()) return IOErrorAt("cannot create {}: {}", tmp.string(), sink.status().message());
    auto writer = parquet::arrow::FileWriter::Open(*data->schema(), arrow::default_memory_pool(),
                                                   *sink, props.build(), arrow_props);
    if (!writer.ok()) {
      st = writer.status();
    } else {
      st = (*writer)->WriteTable(*data, options.row_group_rows);
      if (st.ok()) st = (*writer)->Close();
    }
    if (st.ok()) st = (*sink)->Close();
  } catch (const std::exception& e) {
    st = Status::IOError(e.what());
  }
  if (!st.ok()) {
    fs::remove(tmp, ec);
    return IOErrorAt("writing parquet file {}: {}", path, st.message());
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return IOErrorAt("cannot rename {} to {}: {}", tmp.string(), path, ec.message());
  }
  WrittenFileInfo info;
  info.path = path;
  info.size_bytes = static_cast<int64_t>(fs::file_size(target, ec));
  info.num_records = table->num_rows();
  LS_ASSIGN_OR_RAISE(info.columns, ComputeColumnStats(*table));
  return info;
}

Result<WrittenFileInfo> WriteParquetFile(
    const std::string& path, const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
    const std::shared_ptr<arrow::Schema>& schema, const ParquetWriteOptions& options) {
  LS_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(schema, batches));
  return WriteParquetFile(path, table, options);
}

}  // namespace lakestream::formats
