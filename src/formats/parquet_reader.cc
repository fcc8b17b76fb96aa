// Parquet files through libparquet's Arrow reader: schema from the footer,
// real column projection (only the leaves of requested columns are read),
// row-group pruning by column-chunk statistics, and conversion of what other
// writers produce (uint32, large strings, nanosecond timestamps, INT96,
// dictionaries) to Spark types. libparquet throws; every call is wrapped so
// that errors come back as a Status naming the file.
#include <arrow/array/util.h>
#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <arrow/table.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/exception.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>
#include <parquet/statistics.h>

#include <cmath>
#include <string>
#include <vector>

#include "formats/format_internal.h"
#include "types/types.h"

namespace lakestream::formats::internal {
namespace {

bool EndsWithEncryptedMagic(const std::string& path) {
  auto file = arrow::io::ReadableFile::Open(path);
  if (!file.ok()) return false;
  auto size = (*file)->GetSize();
  if (!size.ok() || *size < 4) return false;
  auto tail = (*file)->ReadAt(*size - 4, 4);
  return tail.ok() && (*tail)->ToString() == "PARE";
}

Status ParquetError(const std::string& path, std::string_view what) {
  if (what.find("ncrypt") != std::string_view::npos ||
      what.find("ecrypt") != std::string_view::npos) {
    return Unsupported("parquet file {} is encrypted: decryption keys are not supported ({})", path,
                       what);
  }
  return IOErrorAt("cannot read parquet file {}: {}", path, what);
}

Status Wrap(const std::string& path, const Status& st) {
  if (st.ok()) return st;
  return ParquetError(path, st.message());
}

/// The file, memory-mapped when it can be: libparquet then reads column
/// chunks as slices of the mapping instead of copying them out with read(2)
/// (the copies were ~15% of a Parquet scan's CPU).
Result<std::shared_ptr<arrow::io::RandomAccessFile>> OpenInput(const std::string& path) {
  auto mapped = arrow::io::MemoryMappedFile::Open(path, arrow::io::FileMode::READ);
  if (mapped.ok()) return std::shared_ptr<arrow::io::RandomAccessFile>(*mapped);
  auto file = arrow::io::ReadableFile::Open(path);
  if (!file.ok()) return IOErrorAt("cannot open {}: {}", path, file.status().message());
  return std::shared_ptr<arrow::io::RandomAccessFile>(*file);
}

/// Opens the raw file reader, refusing encrypted files with a clear error.
Result<std::unique_ptr<parquet::ParquetFileReader>> OpenRaw(
    const std::string& path, std::shared_ptr<parquet::FileMetaData> footer = nullptr) {
  if (!footer && EndsWithEncryptedMagic(path)) {
    return Unsupported(
        "parquet file {} is encrypted (encrypted footer): decryption keys are not supported", path);
  }
  try {
    LS_ASSIGN_OR_RAISE(auto file, OpenInput(path));
    auto reader =
        parquet::ParquetFileReader::Open(file, parquet::default_reader_properties(), footer);
    auto md = reader->metadata();
    if (md->is_encryption_algorithm_set()) {
      return Unsupported(
          "parquet file {} is encrypted (encrypted columns): decryption keys are not supported",
          path);
    }
    return reader;
  } catch (const std::exception& e) {
    return ParquetError(path, e.what());
  }
}

parquet::ArrowReaderProperties ReaderProperties(int64_t batch_size) {
  parquet::ArrowReaderProperties props(/*use_threads=*/false);
  props.set_batch_size(batch_size);
  // Spark reads INT96 as microsecond timestamps.
  props.set_coerce_int96_timestamp_unit(arrow::TimeUnit::MICRO);
  return props;
}

/// True when `leaf` is a top-level string/binary column whose data pages in
/// every row group of `row_groups` are dictionary-encoded (the writer did not
/// fall back to plain pages, per the footer's page encoding statistics).
bool FullyDictionaryEncoded(const parquet::FileMetaData& md, int leaf,
                            const std::vector<int>& row_groups) {
  const auto* col = md.schema()->Column(leaf);
  if (col->physical_type() != parquet::Type::BYTE_ARRAY || col->max_repetition_level() != 0 ||
      col->path()->ToDotVector().size() != 1) {
    return false;
  }
  if (row_groups.empty()) return false;
  for (int rg : row_groups) {
    auto group = md.RowGroup(rg);
    auto chunk = group->ColumnChunk(leaf);
    const auto& stats = chunk->encoding_stats();  // refers into `chunk`
    if (stats.empty()) return false;              // an older writer: unknown
    for (const auto& s : stats) {
      if (s.page_type != parquet::PageType::DATA_PAGE &&
          s.page_type != parquet::PageType::DATA_PAGE_V2) {
        continue;
      }
      if (s.encoding != parquet::Encoding::PLAIN_DICTIONARY &&
          s.encoding != parquet::Encoding::RLE_DICTIONARY) {
        return false;
      }
    }
  }
  return true;
}

/// `dictionary_leaves`: string columns read as dictionary arrays (indices
/// into the chunk's dictionary) and expanded afterwards with one gather,
/// which is several times cheaper than libparquet's value-by-value decoding
/// into a string builder.
Result<std::unique_ptr<parquet::arrow::FileReader>> OpenArrow(
    const std::string& path, int64_t batch_size,
    std::shared_ptr<parquet::FileMetaData> footer = nullptr,
    const std::vector<int>& dictionary_leaves = {}) {
  LS_ASSIGN_OR_RAISE(auto raw, OpenRaw(path, std::move(footer)));
  try {
    auto props = ReaderProperties(batch_size);
    for (int leaf : dictionary_leaves) props.set_read_dictionary(leaf, true);
    auto reader =
        parquet::arrow::FileReader::Make(arrow::default_memory_pool(), std::move(raw), props);
    if (!reader.ok()) return Wrap(path, reader.status());
    return std::move(*reader);
  } catch (const std::exception& e) {
    return ParquetError(path, e.what());
  }
}

void CollectLeaves(const parquet::arrow::SchemaField& f, std::vector<int>* out) {
  if (f.is_leaf()) {
    out->push_back(f.column_index);
    return;
  }
  for (const auto& c : f.children) CollectLeaves(c, out);
}

// ---- statistics ----

/// Compares two scalars with a compute function ("less", "equal", ...);
/// nullopt when they cannot be compared.
std::optional<bool> Compare(const char* fn, const std::shared_ptr<arrow::Scalar>& a,
                            const std::shared_ptr<arrow::Scalar>& b) {
  auto r = arrow::compute::CallFunction(fn, {a, b});
  if (!r.ok() || !r->is_scalar()) return std::nullopt;
  const auto& s = r->scalar_as<arrow::BooleanScalar>();
  if (!s.is_valid) return std::nullopt;
  return s.value;
}

bool IsNaN(const arrow::Scalar& s) {
  if (!s.is_valid) return false;
  if (s.type->id() == arrow::Type::DOUBLE) {
    return std::isnan(static_cast<const arrow::DoubleScalar&>(s).value);
  }
  if (s.type->id() == arrow::Type::FLOAT) {
    return std::isnan(static_cast<const arrow::FloatScalar&>(s).value);
  }
  return false;
}

/// Leaf column index of a top-level primitive column named `name`, or -1.
int FindTopLevelLeaf(const parquet::SchemaDescriptor& schema, const std::string& name) {
  for (int i = 0; i < schema.num_columns(); ++i) {
    const auto* col = schema.Column(i);
    if (col->path()->ToDotVector().size() == 1 && EqualsIgnoreCase(col->name(), name)) return i;
  }
  return -1;
}

Result<std::shared_ptr<arrow::Array>> ToTargetType(const std::shared_ptr<arrow::Array>& array,
                                                   const std::shared_ptr<arrow::DataType>& type,
                                                   const std::string& path,
                                                   const std::string& column) {
  if (array->type()->Equals(*type)) return array;
  std::shared_ptr<arrow::Array> in = array;
  if (in->type()->id() == arrow::Type::DICTIONARY) {
    LS_ASSIGN_OR_RAISE(
        auto decoded,
        arrow::compute::Cast(*in,
                             static_cast<const arrow::DictionaryType&>(*in->type()).value_type()));
    in = decoded;
    if (in->type()->Equals(*type)) return in;
  }
  // Timestamps may truncate (nanoseconds to Spark's microseconds, as Spark
  // does); any other lossy conversion (BIGINT data into an INT column) fails.
  auto options = in->type()->id() == arrow::Type::TIMESTAMP ? arrow::compute::CastOptions::Unsafe()
                                                            : arrow::compute::CastOptions::Safe();
  auto r = arrow::compute::Cast(*in, type, options);
  if (!r.ok()) {
    return UserError("parquet file {}: column '{}' of type {} cannot be read as {}: {}", path,
                     column, in->type()->ToString(), types::ToDDL(*type), r.status().message());
  }
  return *r;
}

}  // namespace

// Shared with the Delta scan (see format_internal.h).
bool ParquetChunkCanSkip(const ColumnPredicate& pred, const parquet::ColumnChunkMetaData& chunk,
                         int64_t num_rows) {
  if (!chunk.is_stats_set()) return false;
  std::shared_ptr<parquet::Statistics> stats;
  try {
    stats = chunk.statistics();
  } catch (const std::exception&) {
    return false;
  }
  if (!stats) return false;
  const bool has_nulls = stats->HasNullCount();
  const int64_t nulls = has_nulls ? stats->null_count() : -1;
  if (pred.op == ColumnPredicate::kIsNull) return has_nulls && nulls == 0;
  if (pred.op == ColumnPredicate::kIsNotNull) return has_nulls && nulls == num_rows;
  // Comparisons are never true on NULL: an all-NULL chunk matches nothing.
  if (has_nulls && nulls == num_rows && num_rows > 0) return true;
  if (!stats->HasMinMax()) return false;
  std::shared_ptr<arrow::Scalar> mn, mx;
  if (!parquet::arrow::StatisticsAsScalars(*stats, &mn, &mx).ok() || !mn || !mx) return false;
  if (IsNaN(*mn) || IsNaN(*mx)) return false;
  const bool floating = types::IsFloating(*mn->type);
  auto cast = [&](const std::shared_ptr<arrow::Scalar>& v) -> std::shared_ptr<arrow::Scalar> {
    if (!v || !v->is_valid || IsNaN(*v)) return nullptr;
    if (v->type->Equals(*mn->type)) return v;
    auto r = v->CastTo(mn->type);
    if (!r.ok()) return nullptr;
    // A lossy cast (1.5 -> int 1) would prune wrongly: check the round trip.
    auto back = (*r)->CastTo(v->type);
    if (!back.ok() || !(*back)->Equals(*v)) return nullptr;
    return *r;
  };
  auto outside = [&](const std::shared_ptr<arrow::Scalar>& v) -> bool {
    auto lt = Compare("less", v, mn);
    auto gt = Compare("greater", v, mx);
    return (lt && *lt) || (gt && *gt);
  };
  std::vector<std::shared_ptr<arrow::Scalar>> vals;
  for (const auto& v : pred.values) {
    auto c = cast(v);
    if (!c) return false;
    vals.push_back(std::move(c));
  }
  if (vals.empty()) return false;
  const auto& v = vals[0];
  switch (pred.op) {
    case ColumnPredicate::kEq:
      return outside(v);
    case ColumnPredicate::kIn:
      for (const auto& x : vals) {
        if (!outside(x)) return false;
      }
      return true;
    case ColumnPredicate::kNe: {
      // NaN != v holds in Spark, and NaN is not in the statistics.
      if (floating) return false;
      auto a = Compare("equal", mn, v);
      auto b = Compare("equal", mx, v);
      return a && *a && b && *b && has_nulls && nulls == 0;
    }
    case ColumnPredicate::kLt: {
      auto r = Compare("greater_equal", mn, v);
      return r && *r;
    }
    case ColumnPredicate::kLe: {
      auto r = Compare("greater", mn, v);
      return r && *r;
    }
    case ColumnPredicate::kGt: {
      if (floating) return false;  // NaN is greater than every number in Spark
      auto r = Compare("less_equal", mx, v);
      return r && *r;
    }
    case ColumnPredicate::kGe: {
      if (floating) return false;
      auto r = Compare("less", mx, v);
      return r && *r;
    }
    default:
      return false;
  }
}

bool ParquetRowGroupCanSkip(const parquet::RowGroupMetaData& row_group,
                            const std::vector<BoundParquetPredicate>& predicates) {
  for (const auto& bound : predicates) {
    if (bound.leaf < 0 || bound.leaf >= row_group.num_columns()) continue;
    auto chunk = row_group.ColumnChunk(bound.leaf);
    if (ParquetChunkCanSkip(*bound.predicate, *chunk, row_group.num_rows())) return true;
  }
  return false;
}

Result<SchemaPtr> ReadParquetSchema(const std::string& path) {
  LS_ASSIGN_OR_RAISE(auto reader, OpenArrow(path, 1024));
  std::shared_ptr<arrow::Schema> schema;
  try {
    LS_RETURN_NOT_OK(Wrap(path, reader->GetSchema(&schema)));
    // INT96 holds instants (Spark and Impala write them in UTC) but Arrow
    // reads it zone-less; Spark reads it as TIMESTAMP.
    const auto& manifest = reader->manifest();
    for (size_t i = 0; i < manifest.schema_fields.size(); ++i) {
      const auto& f = manifest.schema_fields[i];
      if (f.is_leaf() &&
          manifest.descr->Column(f.column_index)->physical_type() == parquet::Type::INT96) {
        LS_ASSIGN_OR_RAISE(
            schema,
            schema->SetField(static_cast<int>(i),
                             schema->field(static_cast<int>(i))->WithType(types::Timestamp())));
      }
    }
  } catch (const std::exception& e) {
    return ParquetError(path, e.what());
  }
  return types::ToSparkSchema(schema);
}

Result<std::vector<ScanTask>> PlanParquetFile(const std::string& path,
                                              const std::vector<ColumnPredicate>& predicates,
                                              const SchemaPtr& data_schema, ScanMetrics* metrics,
                                              FooterCache* footers) {
  LS_ASSIGN_OR_RAISE(auto raw, OpenRaw(path));
  std::vector<ScanTask> tasks;
  try {
    auto md = raw->metadata();
    if (footers) footers->Put(path, md);
    std::vector<BoundParquetPredicate> usable;
    for (const auto& p : predicates) {
      int leaf = FindTopLevelLeaf(*md->schema(), p.column);
      if (leaf >= 0) usable.push_back({&p, leaf});
    }
    for (int rg = 0; rg < md->num_row_groups(); ++rg) {
      auto rg_md = md->RowGroup(rg);
      if (ParquetRowGroupCanSkip(*rg_md, usable)) {
        metrics->row_groups_skipped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      tasks.push_back(ScanTask{path, {rg}, rg_md->total_compressed_size()});
    }
  } catch (const std::exception& e) {
    return ParquetError(path, e.what());
  }
  return tasks;
}

Result<BatchIterator> OpenParquetTask(const ReadContext& ctx, const std::vector<int>& row_groups) {
  const std::string path = ctx.path;
  std::shared_ptr<parquet::FileMetaData> footer = ctx.footers ? ctx.footers->Get(path) : nullptr;
  std::vector<int> dictionary_leaves;
  if (footer) {
    try {
      for (int leaf = 0; leaf < footer->num_columns(); ++leaf) {
        if (FullyDictionaryEncoded(*footer, leaf, row_groups)) dictionary_leaves.push_back(leaf);
      }
    } catch (const std::exception& e) {
      return ParquetError(path, e.what());
    }
  }
  LS_ASSIGN_OR_RAISE(auto owned,
                     OpenArrow(path, ctx.options->batch_size, footer, dictionary_leaves));
  std::shared_ptr<parquet::arrow::FileReader> reader = std::move(owned);
  std::vector<int> groups = row_groups;
  ScanMetrics* metrics = ctx.metrics;
  try {
    auto md = reader->parquet_reader()->metadata();
    if (groups.empty()) {
      for (int rg = 0; rg < md->num_row_groups(); ++rg) groups.push_back(rg);
    }
    for (int rg : groups) {
      if (rg < 0 || rg >= md->num_row_groups()) {
        return InternalError("row group {} out of range for {}", rg, path);
      }
    }
    const auto& manifest = reader->manifest();
    // Which top-level fields of the file feed which output columns.
    std::vector<int> source_field(ctx.output_fields.size(), -1);
    std::vector<int> leaves;
    for (size_t k = 0; k < ctx.output_fields.size(); ++k) {
      const auto& name = ctx.data_schema->field(ctx.output_fields[k])->name();
      for (size_t i = 0; i < manifest.schema_fields.size(); ++i) {
        if (EqualsIgnoreCase(manifest.schema_fields[i].field->name(), name)) {
          source_field[k] = static_cast<int>(i);
          CollectLeaves(manifest.schema_fields[i], &leaves);
          break;
        }
      }
    }
    std::sort(leaves.begin(), leaves.end());
    leaves.erase(std::unique(leaves.begin(), leaves.end()), leaves.end());
    int64_t bytes = 0;
    int64_t total_rows = 0;
    for (int rg : groups) {
      auto rg_md = md->RowGroup(rg);
      total_rows += rg_md->num_rows();
      for (int leaf : leaves) bytes += rg_md->ColumnChunk(leaf)->total_compressed_size();
    }
    metrics->row_groups_read.fetch_add(static_cast<int64_t>(groups.size()),
                                       std::memory_order_relaxed);
    metrics->bytes_read.fetch_add(bytes, std::memory_order_relaxed);

    SchemaPtr out_schema = ctx.output_schema;
    int64_t batch_size = ctx.options->batch_size;
    if (leaves.empty()) {
      // Nothing to decode (COUNT(*), or only columns missing from the file):
      // the row count comes from the footer.
      int64_t remaining = total_rows;
      return BatchIterator(
          [remaining, out_schema, batch_size, metrics]() mutable -> Result<BatchPtr> {
            if (remaining <= 0) return BatchPtr();
            int64_t n = std::min(remaining, batch_size);
            remaining -= n;
            std::vector<std::shared_ptr<arrow::Array>> cols;
            for (const auto& f : out_schema->fields()) {
              LS_ASSIGN_OR_RAISE(auto nulls, arrow::MakeArrayOfNull(f->type(), n));
              cols.push_back(nulls);
            }
            metrics->rows.fetch_add(n, std::memory_order_relaxed);
            return arrow::RecordBatch::Make(out_schema, n, std::move(cols));
          });
    }
    auto rb = reader->GetRecordBatchReader(groups, leaves);
    if (!rb.ok()) return Wrap(path, rb.status());
    std::shared_ptr<arrow::RecordBatchReader> batches = std::move(*rb);
    std::vector<std::string> source_names;
    for (int s : source_field) {
      source_names.push_back(s >= 0 ? manifest.schema_fields[s].field->name() : std::string());
    }
    std::vector<bool> keep_dictionary = ctx.keep_dictionary;
    keep_dictionary.resize(static_cast<size_t>(out_schema->num_fields()), false);
    return BatchIterator([reader, batches, out_schema, source_names, keep_dictionary, path,
                          metrics]() -> Result<BatchPtr> {
      BatchPtr batch;
      try {
        LS_RETURN_NOT_OK(Wrap(path, batches->ReadNext(&batch)));
      } catch (const std::exception& e) {
        return ParquetError(path, e.what());
      }
      if (!batch) return BatchPtr();
      std::vector<std::shared_ptr<arrow::Array>> cols;
      for (int k = 0; k < out_schema->num_fields(); ++k) {
        const auto& target = out_schema->field(k);
        std::shared_ptr<arrow::Array> col;
        if (!source_names[k].empty()) col = batch->GetColumnByName(source_names[k]);
        if (!col) {
          LS_ASSIGN_OR_RAISE(col, arrow::MakeArrayOfNull(target->type(), batch->num_rows()));
        } else if (keep_dictionary[static_cast<size_t>(k)] &&
                   col->type_id() == arrow::Type::DICTIONARY &&
                   static_cast<const arrow::DictionaryType&>(*col->type())
                       .value_type()
                       ->Equals(*target->type())) {
          // Handed over as read; the consumer takes dictionary arrays.
        } else {
          LS_ASSIGN_OR_RAISE(col, ToTargetType(col, target->type(), path, target->name()));
        }
        cols.push_back(std::move(col));
      }
      metrics->rows.fetch_add(batch->num_rows(), std::memory_order_relaxed);
      return arrow::RecordBatch::Make(out_schema, batch->num_rows(), std::move(cols));
    });
  } catch (const std::exception& e) {
    return ParquetError(path, e.what());
  }
}

}  // namespace lakestream::formats::internal
