// Delta data reading: file pruning and per-file conversion to the logical schema.
#include "connectors/delta/scan.h"

#include <arrow/array.h>
#include <arrow/array/concatenate.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <arrow/io/memory.h>
#include <arrow/scalar.h>
#include <arrow/util/key_value_metadata.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/exception.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>
#include <simdjson.h>
#include <strings.h>

#include <cmath>
#include <variant>

#include "connectors/delta/checkpoint.h"
#include "connectors/delta/deletion_vector.h"
#include "connectors/delta/timestamps.h"
#include "formats/format_internal.h"

namespace lakestream::delta {
namespace {

constexpr const char* kPhysicalNameKey = "delta.columnMapping.physicalName";
constexpr const char* kColumnIdKey = "delta.columnMapping.id";
constexpr const char* kParquetFieldIdKey = "PARQUET:field_id";

std::optional<std::string> Meta(const arrow::Field& f, const std::string& key) {
  if (!f.metadata()) return std::nullopt;
  auto v = f.metadata()->Get(key);
  if (!v.ok()) return std::nullopt;
  return *v;
}

std::string PhysicalName(const arrow::Field& f, ColumnMappingMode mode) {
  if (mode != ColumnMappingMode::kNone) {
    if (auto p = Meta(f, kPhysicalNameKey)) return *p;
  }
  return f.name();
}

bool EqualsIgnoreCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Finds the file field holding logical field `logical` among `file_fields`.
int FindFileField(const arrow::FieldVector& file_fields, const arrow::Field& logical,
                  ColumnMappingMode mode) {
  if (mode == ColumnMappingMode::kId) {
    if (auto id = Meta(logical, kColumnIdKey)) {
      for (size_t i = 0; i < file_fields.size(); ++i) {
        auto fid = Meta(*file_fields[i], kParquetFieldIdKey);
        if (fid && *fid == *id) return static_cast<int>(i);
      }
    }
  }
  std::string name = PhysicalName(logical, mode);
  for (size_t i = 0; i < file_fields.size(); ++i) {
    if (file_fields[i]->name() == name) return static_cast<int>(i);
  }
  for (size_t i = 0; i < file_fields.size(); ++i) {
    if (EqualsIgnoreCase(file_fields[i]->name(), name)) return static_cast<int>(i);
  }
  return -1;
}

std::shared_ptr<arrow::DataType> StripMetadata(const std::shared_ptr<arrow::DataType>& t);

std::shared_ptr<arrow::Field> StripField(const std::shared_ptr<arrow::Field>& f) {
  return arrow::field(f->name(), StripMetadata(f->type()), f->nullable());
}

std::shared_ptr<arrow::DataType> StripMetadata(const std::shared_ptr<arrow::DataType>& t) {
  switch (t->id()) {
    case arrow::Type::STRUCT: {
      arrow::FieldVector fs;
      for (const auto& f : t->fields()) fs.push_back(StripField(f));
      return arrow::struct_(fs);
    }
    case arrow::Type::LIST:
      return arrow::list(StripField(t->field(0)));
    case arrow::Type::MAP: {
      const auto& m = static_cast<const arrow::MapType&>(*t);
      return std::make_shared<arrow::MapType>(StripField(m.key_field()),
                                              StripField(m.item_field()));
    }
    default:
      return t;
  }
}

Result<std::shared_ptr<arrow::Array>> Adapt(std::shared_ptr<arrow::Array> arr,
                                            const std::shared_ptr<arrow::Field>& logical,
                                            ColumnMappingMode mode, const std::string& file);

Result<std::shared_ptr<arrow::Array>> Normalize(std::shared_ptr<arrow::Array> arr) {
  if (arr->offset() == 0) return arr;
  return arrow::Concatenate({arr});
}

Result<std::shared_ptr<arrow::Array>> AdaptImpl(std::shared_ptr<arrow::Array> arr,
                                                const std::shared_ptr<arrow::Field>& logical,
                                                ColumnMappingMode mode, const std::string& file) {
  const auto& ltype = logical->type();
  auto out_type = StripMetadata(ltype);
  switch (ltype->id()) {
    case arrow::Type::STRUCT: {
      if (arr->type_id() != arrow::Type::STRUCT) break;
      LS_ASSIGN_OR_RAISE(arr, Normalize(arr));
      auto s = std::static_pointer_cast<arrow::StructArray>(arr);
      const auto& file_fields = s->type()->fields();
      arrow::ArrayVector children;
      for (const auto& lf : ltype->fields()) {
        int idx = FindFileField(file_fields, *lf, mode);
        std::shared_ptr<arrow::Array> child;
        if (idx < 0) {
          LS_ASSIGN_OR_RAISE(child, arrow::MakeArrayOfNull(StripMetadata(lf->type()), s->length()));
        } else {
          LS_ASSIGN_OR_RAISE(child, Adapt(s->field(idx), lf, mode, file));
        }
        children.push_back(std::move(child));
      }
      arrow::FieldVector out_fields = out_type->fields();
      return arrow::StructArray::Make(children, out_fields, s->null_bitmap(), s->null_count());
    }
    case arrow::Type::LIST: {
      std::shared_ptr<arrow::Array> values;
      std::shared_ptr<arrow::Buffer> offsets, validity;
      int64_t length = arr->length(), null_count = arr->null_count(), offset = arr->offset();
      if (arr->type_id() == arrow::Type::LIST) {
        auto l = std::static_pointer_cast<arrow::ListArray>(arr);
        values = l->values();
        offsets = l->value_offsets();
        validity = l->null_bitmap();
      } else {
        break;
      }
      LS_ASSIGN_OR_RAISE(values, Adapt(values, ltype->field(0), mode, file));
      return std::make_shared<arrow::ListArray>(out_type, length, offsets, values, validity,
                                                null_count, offset);
    }
    case arrow::Type::MAP: {
      if (arr->type_id() != arrow::Type::MAP) break;
      auto m = std::static_pointer_cast<arrow::MapArray>(arr);
      const auto& lm = static_cast<const arrow::MapType&>(*ltype);
      LS_ASSIGN_OR_RAISE(auto keys, Adapt(m->keys(), lm.key_field(), mode, file));
      LS_ASSIGN_OR_RAISE(auto items, Adapt(m->items(), lm.item_field(), mode, file));
      return std::make_shared<arrow::MapArray>(out_type, m->length(), m->value_offsets(), keys,
                                               items, m->null_bitmap(), m->null_count(),
                                               m->offset());
    }
    default:
      if (arr->type()->Equals(*out_type)) return arr;
      {
        arrow::compute::CastOptions opts = arrow::compute::CastOptions::Safe(out_type);
        opts.allow_time_truncate = true;  // INT96 nanoseconds -> microseconds
        auto cast = arrow::compute::Cast(arr, opts);
        if (cast.ok()) return cast->make_array();
        return UserError("data file '{}': column '{}' has type {} which cannot be read as {}: {}",
                         file, logical->name(), arr->type()->ToString(), out_type->ToString(),
                         cast.status().message());
      }
  }
  return UserError("data file '{}': column '{}' has type {} but the table schema says {}", file,
                   logical->name(), arr->type()->ToString(), out_type->ToString());
}

Result<std::shared_ptr<arrow::Array>> Adapt(std::shared_ptr<arrow::Array> arr,
                                            const std::shared_ptr<arrow::Field>& logical,
                                            ColumnMappingMode mode, const std::string& file) {
  return AdaptImpl(std::move(arr), logical, mode, file);
}

// ---- data skipping ------------------------------------------------------

using Key = std::variant<std::monostate, int64_t, double, std::string>;

Key ScalarKey(const arrow::Scalar& s) {
  if (!s.is_valid) return std::monostate{};
  switch (s.type->id()) {
    case arrow::Type::INT8:
      return int64_t{static_cast<const arrow::Int8Scalar&>(s).value};
    case arrow::Type::INT16:
      return int64_t{static_cast<const arrow::Int16Scalar&>(s).value};
    case arrow::Type::INT32:
      return int64_t{static_cast<const arrow::Int32Scalar&>(s).value};
    case arrow::Type::INT64:
      return int64_t{static_cast<const arrow::Int64Scalar&>(s).value};
    case arrow::Type::DATE32:
      return int64_t{static_cast<const arrow::Date32Scalar&>(s).value};
    case arrow::Type::TIMESTAMP: {
      const auto& tt = static_cast<const arrow::TimestampType&>(*s.type);
      int64_t v = static_cast<const arrow::TimestampScalar&>(s).value;
      // Stats and data are whole microseconds; a bound between two of them
      // stays exact as a fraction, so that both `<` and `>` prune only what
      // cannot match (either rounding would be wrong for one of them).
      if (tt.unit() == arrow::TimeUnit::NANO && v % 1000 != 0) return static_cast<double>(v) / 1000;
      return TimestampToMicros(tt, v);
    }
    case arrow::Type::FLOAT:
      return double{static_cast<const arrow::FloatScalar&>(s).value};
    case arrow::Type::DOUBLE:
      return static_cast<const arrow::DoubleScalar&>(s).value;
    case arrow::Type::STRING:
      return std::string(static_cast<const arrow::StringScalar&>(s).view());
    case arrow::Type::DECIMAL128: {
      const auto& d = static_cast<const arrow::Decimal128Scalar&>(s);
      const auto& dt = static_cast<const arrow::Decimal128Type&>(*s.type);
      return d.value.ToDouble(dt.scale());
    }
    default:
      return std::monostate{};
  }
}

// -1, 0, 1, or nullopt when not comparable.
std::optional<int> Compare(const Key& a, const Key& b) {
  if (std::holds_alternative<std::monostate>(a) || std::holds_alternative<std::monostate>(b)) {
    return std::nullopt;
  }
  if (std::holds_alternative<std::string>(a) != std::holds_alternative<std::string>(b)) {
    return std::nullopt;
  }
  if (auto* sa = std::get_if<std::string>(&a)) {
    int c = sa->compare(std::get<std::string>(b));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (std::holds_alternative<int64_t>(a) && std::holds_alternative<int64_t>(b)) {
    int64_t x = std::get<int64_t>(a), y = std::get<int64_t>(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  double x =
      std::holds_alternative<int64_t>(a) ? double(std::get<int64_t>(a)) : std::get<double>(a);
  double y =
      std::holds_alternative<int64_t>(b) ? double(std::get<int64_t>(b)) : std::get<double>(b);
  if (std::isnan(x) || std::isnan(y)) return std::nullopt;
  return x < y ? -1 : (x > y ? 1 : 0);
}

// Stats value (JSON) of a column as a key of `type`. Timestamps in stats have
// millisecond precision, so the max is widened by 1 ms.
Key StatKey(simdjson::dom::element e, const std::shared_ptr<arrow::DataType>& type, bool is_max) {
  switch (type->id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64: {
      int64_t v;
      if (e.get(v) == simdjson::SUCCESS) return v;
      return std::monostate{};
    }
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::DECIMAL128: {
      double v;
      if (e.get(v) == simdjson::SUCCESS) return v;
      return std::monostate{};  // NaN / Infinity strings: no pruning
    }
    case arrow::Type::STRING: {
      std::string_view v;
      if (e.get(v) != simdjson::SUCCESS) return std::monostate{};
      // Delta truncates string stats (32 chars by default); a truncated max
      // is not a bound we can trust exactly.
      if (is_max && v.size() >= 32) return std::monostate{};
      return std::string(v);
    }
    case arrow::Type::DATE32:
    case arrow::Type::TIMESTAMP: {
      std::string_view v;
      if (e.get(v) != simdjson::SUCCESS) return std::monostate{};
      auto s = arrow::Scalar::Parse(type, v);
      if (!s.ok()) {
        // Offsets like +00:00 or 'Z' forms Arrow does not parse: no pruning.
        return std::monostate{};
      }
      Key k = ScalarKey(**s);
      if (is_max && type->id() == arrow::Type::TIMESTAMP && std::holds_alternative<int64_t>(k)) {
        k = std::get<int64_t>(k) + 1000;
      }
      return k;
    }
    default:
      return std::monostate{};
  }
}

// Whether a column with bounds [min, max] (either may be unknown), null count
// and row count may satisfy `p`.
bool MayMatch(const ColumnPredicate& p, const Key& min, const Key& max,
              std::optional<int64_t> null_count, std::optional<int64_t> num_records) {
  bool all_null = null_count && num_records && *null_count == *num_records;
  switch (p.op) {
    case ColumnPredicate::kIsNull:
      return !(null_count && *null_count == 0);
    case ColumnPredicate::kIsNotNull:
      return !all_null;
    default:
      break;
  }
  if (all_null) return false;  // comparisons with NULL are never true
  auto val = [&](size_t i) {
    return p.values.size() > i && p.values[i] ? ScalarKey(*p.values[i]) : Key{};
  };
  auto lt = [](std::optional<int> c) { return c && *c < 0; };
  auto gt = [](std::optional<int> c) { return c && *c > 0; };
  switch (p.op) {
    case ColumnPredicate::kEq: {
      Key v = val(0);
      return !(gt(Compare(min, v)) || lt(Compare(max, v)));
    }
    case ColumnPredicate::kNe: {
      Key v = val(0);
      auto a = Compare(min, v), b = Compare(max, v);
      return !(a && *a == 0 && b && *b == 0 && null_count && *null_count == 0);
    }
    case ColumnPredicate::kLt: {
      auto c = Compare(min, val(0));
      return !(c && *c >= 0);
    }
    case ColumnPredicate::kLe:
      return !gt(Compare(min, val(0)));
    case ColumnPredicate::kGt: {
      auto c = Compare(max, val(0));
      return !(c && *c <= 0);
    }
    case ColumnPredicate::kGe:
      return !lt(Compare(max, val(0)));
    case ColumnPredicate::kIn: {
      for (size_t i = 0; i < p.values.size(); ++i) {
        Key v = val(i);
        if (!(gt(Compare(min, v)) || lt(Compare(max, v)))) return true;
      }
      return p.values.empty() ? true : false;
    }
    default:
      return true;
  }
}

const arrow::Field* FindLogical(const arrow::Schema& schema, const std::string& name) {
  for (const auto& f : schema.fields()) {
    if (EqualsIgnoreCase(f->name(), name)) return f.get();
  }
  return nullptr;
}

// ---- Parquet data files ---------------------------------------------------

Status ParquetFileError(const std::string& path, std::string_view what) {
  return UserError("cannot read Parquet file '{}': {}", path, what);
}

// The bytes of a data file: memory-mapped when local, so libparquet touches
// only the footer and the column chunks it decodes; else read through the
// FileSystem (object stores). The buffer owns the bytes, so arrays that slice
// it stay valid.
Result<std::shared_ptr<arrow::io::RandomAccessFile>> OpenInput(storage::FileSystem* fs,
                                                               const std::string& path) {
  if (dynamic_cast<storage::LocalFileSystem*>(fs) != nullptr) {
    auto mapped = arrow::io::MemoryMappedFile::Open(path, arrow::io::FileMode::READ);
    if (mapped.ok()) return std::shared_ptr<arrow::io::RandomAccessFile>(*mapped);
    // If it cannot be mapped, the FileSystem read below names the problem.
  }
  LS_ASSIGN_OR_RAISE(auto bytes, fs->ReadAll(path));
  return std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(std::move(bytes)));
}

// Rows per decoded batch. Decoding a whole row group (lakestream and delta-rs
// write them of 1Mi rows) at once allocates ~100 MB of fresh memory per row
// group, and faulting it in (kernel page clearing) was a large part of a
// selective scan's profile; batches of this size stay in memory the
// allocator reuses, and in cache for the operators above.
constexpr int64_t kBatchRows = 64 * 1024;

// Top-level string (and binary) columns whose data pages are all dictionary
// encoded in every row group. They are decoded as dictionary arrays and then
// unpacked by Arrow's cast (a gather): about twice as fast as libparquet
// appending each value to a string builder, the largest part of decoding
// low-cardinality strings. A column with plain pages (a dictionary that grew
// too large) is decoded directly, as a dictionary would only be built there.
std::vector<int> DictionaryOnlyStringLeaves(const parquet::FileMetaData& md) {
  std::vector<int> out;
  const auto* schema = md.schema();
  for (int leaf = 0; leaf < schema->num_columns(); ++leaf) {
    const auto* col = schema->Column(leaf);
    // Strings and plain binary only (not decimals or other logical types
    // stored as byte arrays).
    const auto& logical = col->logical_type();
    if (col->physical_type() != parquet::Type::BYTE_ARRAY || col->max_repetition_level() != 0 ||
        col->path()->ToDotVector().size() != 1 ||
        !(logical == nullptr || logical->is_string() || logical->is_none())) {
      continue;
    }
    bool dictionary_only = md.num_row_groups() > 0;
    for (int rg = 0; rg < md.num_row_groups() && dictionary_only; ++rg) {
      // Held: encoding_stats() refers into the column chunk's metadata.
      auto row_group = md.RowGroup(rg);
      auto chunk = row_group->ColumnChunk(leaf);
      const auto& stats = chunk->encoding_stats();
      dictionary_only = !stats.empty();
      for (const auto& page : stats) {
        if ((page.page_type == parquet::PageType::DATA_PAGE ||
             page.page_type == parquet::PageType::DATA_PAGE_V2) &&
            page.encoding != parquet::Encoding::RLE_DICTIONARY &&
            page.encoding != parquet::Encoding::PLAIN_DICTIONARY) {
          dictionary_only = false;
        }
      }
    }
    if (dictionary_only) out.push_back(leaf);
  }
  return out;
}

// Opens a data file; `footer` (from planning) saves parsing it again.
Result<std::unique_ptr<parquet::arrow::FileReader>> OpenDataFile(
    storage::FileSystem* fs, const std::string& path,
    std::shared_ptr<parquet::FileMetaData> footer) {
  LS_ASSIGN_OR_RAISE(auto input, OpenInput(fs, path));
  const bool mapped = dynamic_cast<arrow::io::MemoryMappedFile*>(input.get()) != nullptr;
  parquet::ArrowReaderProperties props = parquet::default_arrow_reader_properties();
  props.set_batch_size(kBatchRows);
  // Pre-buffering coalesces reads of remote files; a mapped file has nothing
  // to gain from it.
  props.set_pre_buffer(!mapped);
  // Decode the columns of a batch in parallel on Arrow's CPU pool: a selective
  // scan often keeps one file, which one scan task (one core) would decode
  // alone. lakestream runs nothing else on that pool, so the blocking wait
  // of a worker thread cannot starve it.
  props.set_use_threads(true);
  try {
    auto raw = parquet::ParquetFileReader::Open(
        std::move(input), parquet::default_reader_properties(), std::move(footer));
    for (int leaf : DictionaryOnlyStringLeaves(*raw->metadata())) {
      props.set_read_dictionary(leaf, true);
    }
    auto reader =
        parquet::arrow::FileReader::Make(arrow::default_memory_pool(), std::move(raw), props);
    if (!reader.ok()) return ParquetFileError(path, reader.status().message());
    return std::move(*reader);
  } catch (const std::exception& e) {
    return ParquetFileError(path, e.what());
  }
}

bool IsNested(const arrow::DataType& t) {
  return t.id() == arrow::Type::STRUCT || t.id() == arrow::Type::LIST ||
         t.id() == arrow::Type::MAP || t.id() == arrow::Type::LARGE_LIST;
}

// Whether the values of a file column of type `file` are read unchanged as the
// logical `logical` type (so its Parquet statistics bound the values the query
// sees): equal types, exact widenings (ints to wider ints, float to double,
// decimals, coarser timestamps). Nanosecond and INT96 timestamps are
// truncated to microseconds on read, date -> timestamp widening changes the
// domain, anything else is not worth the risk: no row-group pruning.
bool StatsUsableFor(const arrow::DataType& file, const arrow::DataType& logical) {
  if (file.Equals(logical)) return true;
  if (arrow::is_signed_integer(file.id()) && arrow::is_signed_integer(logical.id())) {
    return arrow::bit_width(file.id()) <= arrow::bit_width(logical.id());
  }
  if (file.id() == arrow::Type::FLOAT && logical.id() == arrow::Type::DOUBLE) return true;
  if (file.id() == arrow::Type::DECIMAL128 && logical.id() == arrow::Type::DECIMAL128) return true;
  if (file.id() == arrow::Type::TIMESTAMP && logical.id() == arrow::Type::TIMESTAMP) {
    auto fu = static_cast<const arrow::TimestampType&>(file).unit();
    auto lu = static_cast<const arrow::TimestampType&>(logical).unit();
    return fu <= lu;  // SECOND < MILLI < MICRO < NANO: coarser or equal is exact
  }
  if (file.id() == arrow::Type::STRING && logical.id() == arrow::Type::STRING) return true;
  return false;
}

// The row groups of a data file that may hold rows matching `predicates`
// (ascending). Predicates on partition columns, unknown columns, nested
// columns and columns whose file type is converted on read are not used.
// `manifest_fields` are the file's top-level fields as Arrow reads them.
std::vector<int> SelectRowGroups(const parquet::FileMetaData& md,
                                 const parquet::arrow::SchemaManifest& manifest,
                                 const Snapshot& snapshot,
                                 const std::vector<ColumnPredicate>& predicates, int64_t* pruned) {
  const auto& schema = *snapshot.schema();
  const auto& parts = snapshot.metadata().partition_columns;
  const ColumnMappingMode mode = snapshot.column_mapping_mode();
  arrow::FieldVector file_fields;
  for (const auto& sf : manifest.schema_fields) file_fields.push_back(sf.field);
  std::vector<formats::internal::BoundParquetPredicate> bound;
  for (const auto& p : predicates) {
    const arrow::Field* f = FindLogical(schema, p.column);
    if (f == nullptr || IsNested(*f->type())) continue;
    bool is_part = false;
    for (const auto& pc : parts) is_part |= EqualsIgnoreCase(pc, f->name());
    if (is_part) continue;
    int idx = FindFileField(file_fields, *f, mode);
    if (idx < 0) continue;  // missing from this file: all NULL, nothing to learn
    const auto& sf = manifest.schema_fields[static_cast<size_t>(idx)];
    if (!sf.is_leaf() || sf.column_index < 0 || sf.column_index >= md.num_columns()) continue;
    if (md.schema()->Column(sf.column_index)->physical_type() == parquet::Type::INT96) continue;
    if (!StatsUsableFor(*sf.field->type(), *f->type())) continue;
    bound.push_back({&p, sf.column_index});
  }
  std::vector<int> out;
  for (int rg = 0; rg < md.num_row_groups(); ++rg) {
    if (!bound.empty() && formats::internal::ParquetRowGroupCanSkip(*md.RowGroup(rg), bound)) {
      ++*pruned;
      continue;
    }
    out.push_back(rg);
  }
  return out;
}

bool TouchesDataColumn(const Snapshot& snapshot, const std::vector<ColumnPredicate>& predicates) {
  const auto& parts = snapshot.metadata().partition_columns;
  for (const auto& p : predicates) {
    const arrow::Field* f = FindLogical(*snapshot.schema(), p.column);
    if (f == nullptr || IsNested(*f->type())) continue;
    bool is_part = false;
    for (const auto& pc : parts) is_part |= EqualsIgnoreCase(pc, f->name());
    if (!is_part) return true;
  }
  return false;
}

}  // namespace

Result<std::shared_ptr<arrow::Scalar>> ParsePartitionValue(
    const std::optional<std::string>& value, const std::shared_ptr<arrow::DataType>& type) {
  if (!value || value->empty()) return arrow::MakeNullScalar(type);
  const std::string& v = *value;
  switch (type->id()) {
    case arrow::Type::STRING:
      return arrow::MakeScalar(v);
    case arrow::Type::BINARY:
      return std::make_shared<arrow::BinaryScalar>(arrow::Buffer::FromString(v));
    case arrow::Type::BOOL:
      if (EqualsIgnoreCase(v, "true")) return arrow::MakeScalar(true);
      if (EqualsIgnoreCase(v, "false")) return arrow::MakeScalar(false);
      break;
    case arrow::Type::TIMESTAMP: {
      // "2021-01-01 08:09:10[.ffffff]" or ISO 8601 with 'T' and 'Z'.
      auto s = arrow::Scalar::Parse(type, v);
      if (s.ok()) return s;
      break;
    }
    default: {
      auto s = arrow::Scalar::Parse(type, v);
      if (s.ok()) return s;
      // Decimals may be written with a different scale ("1.5" for DECIMAL(5,2)).
      if (type->id() == arrow::Type::DECIMAL128) {
        arrow::Decimal128 d;
        int32_t p = 0, sc = 0;
        if (arrow::Decimal128::FromString(v, &d, &p, &sc).ok()) {
          const auto& dt = static_cast<const arrow::Decimal128Type&>(*type);
          auto r = d.Rescale(sc, dt.scale());
          if (r.ok()) return std::make_shared<arrow::Decimal128Scalar>(*r, type);
        }
      }
      break;
    }
  }
  return UserError("invalid partition value '{}' for type {}", v, type->ToString());
}

bool FileMayMatch(const AddFile& file, const Snapshot& snapshot,
                  const std::vector<ColumnPredicate>& predicates, bool* pruned_by_partition) {
  *pruned_by_partition = false;
  if (predicates.empty()) return true;
  const auto& schema = *snapshot.schema();
  const auto& parts = snapshot.metadata().partition_columns;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element stats;
  bool have_stats = false;
  std::optional<int64_t> num_records;
  if (file.stats) {
    if (parser.parse(*file.stats).get(stats) == simdjson::SUCCESS) {
      have_stats = true;
      int64_t n;
      if (stats["numRecords"].get(n) == simdjson::SUCCESS) num_records = n;
    }
  }
  for (const auto& p : predicates) {
    const arrow::Field* f = FindLogical(schema, p.column);
    if (f == nullptr) continue;
    bool is_part = false;
    for (const auto& pc : parts) is_part |= EqualsIgnoreCase(pc, f->name());
    if (is_part) {
      std::string pname = PhysicalName(*f, snapshot.column_mapping_mode());
      auto it = file.partition_values.find(pname);
      if (it == file.partition_values.end()) it = file.partition_values.find(f->name());
      std::optional<std::string> raw =
          it == file.partition_values.end() ? std::nullopt : it->second;
      auto scalar = ParsePartitionValue(raw, f->type());
      if (!scalar.ok()) continue;
      Key k = ScalarKey(**scalar);
      bool is_null = !(*scalar)->is_valid;
      if (!MayMatch(p, k, k, is_null ? 1 : 0, int64_t{1})) {
        *pruned_by_partition = true;
        return false;
      }
      continue;
    }
    if (!have_stats) continue;
    std::string pname = PhysicalName(*f, snapshot.column_mapping_mode());
    simdjson::dom::element mn, mx;
    Key min, max;
    if (stats["minValues"][pname].get(mn) == simdjson::SUCCESS) min = StatKey(mn, f->type(), false);
    if (stats["maxValues"][pname].get(mx) == simdjson::SUCCESS) max = StatKey(mx, f->type(), true);
    std::optional<int64_t> nulls;
    int64_t nc;
    if (stats["nullCount"][pname].get(nc) == simdjson::SUCCESS) nulls = nc;
    if (!MayMatch(p, min, max, nulls, num_records)) return false;
  }
  return true;
}

namespace {

// Whether every value in [min, max] (both known, no NULLs) satisfies `p`.
bool AllInRangeMatch(const ColumnPredicate& p, const Key& min, const Key& max) {
  auto val = [&](size_t i) {
    return p.values.size() > i && p.values[i] ? ScalarKey(*p.values[i]) : Key{};
  };
  auto cmp = [](const Key& a, const Key& b, auto ok) {
    auto c = Compare(a, b);
    return c.has_value() && ok(*c);
  };
  auto eq = [](int c) { return c == 0; };
  switch (p.op) {
    case ColumnPredicate::kIsNotNull:
      return true;
    case ColumnPredicate::kIsNull:
      return false;
    case ColumnPredicate::kEq:
      return cmp(min, val(0), eq) && cmp(max, val(0), eq);
    case ColumnPredicate::kNe:
      return cmp(max, val(0), [](int c) { return c < 0; }) ||
             cmp(min, val(0), [](int c) { return c > 0; });
    case ColumnPredicate::kLt:
      return cmp(max, val(0), [](int c) { return c < 0; });
    case ColumnPredicate::kLe:
      return cmp(max, val(0), [](int c) { return c <= 0; });
    case ColumnPredicate::kGt:
      return cmp(min, val(0), [](int c) { return c > 0; });
    case ColumnPredicate::kGe:
      return cmp(min, val(0), [](int c) { return c >= 0; });
    case ColumnPredicate::kIn:
      if (!cmp(min, max, eq)) return false;
      for (size_t i = 0; i < p.values.size(); ++i) {
        if (cmp(min, val(i), eq)) return true;
      }
      return false;
  }
  return false;
}

}  // namespace

bool FileProves(const AddFile& file, const Snapshot& snapshot, const ColumnPredicate& p) {
  const arrow::Field* f = FindLogical(*snapshot.schema(), p.column);
  if (f == nullptr) return false;
  std::string pname = PhysicalName(*f, snapshot.column_mapping_mode());
  bool is_part = false;
  for (const auto& pc : snapshot.metadata().partition_columns) {
    is_part |= EqualsIgnoreCase(pc, f->name());
  }
  if (is_part) {
    auto it = file.partition_values.find(pname);
    if (it == file.partition_values.end()) it = file.partition_values.find(f->name());
    std::optional<std::string> raw = it == file.partition_values.end() ? std::nullopt : it->second;
    auto scalar = ParsePartitionValue(raw, f->type());
    if (!scalar.ok()) return false;
    if (!(*scalar)->is_valid) return p.op == ColumnPredicate::kIsNull;
    Key k = ScalarKey(**scalar);
    return AllInRangeMatch(p, k, k);
  }
  if (!file.stats) return false;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element stats;
  if (parser.parse(*file.stats).get(stats) != simdjson::SUCCESS) return false;
  int64_t num_records, nulls;
  // A NULL fails every comparison: only a file known to hold none is proven.
  if (stats["numRecords"].get(num_records) != simdjson::SUCCESS ||
      stats["nullCount"][pname].get(nulls) != simdjson::SUCCESS || nulls != 0) {
    return false;
  }
  if (p.op == ColumnPredicate::kIsNotNull) return true;
  // Only exact bounds prove a comparison: string stats are truncated,
  // timestamp stats are milliseconds, float stats may leave out NaN.
  switch (f->type()->id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::DATE32:
      break;
    default:
      return false;
  }
  simdjson::dom::element mn, mx;
  if (stats["minValues"][pname].get(mn) != simdjson::SUCCESS ||
      stats["maxValues"][pname].get(mx) != simdjson::SUCCESS) {
    return false;
  }
  return AllInRangeMatch(p, StatKey(mn, f->type(), false), StatKey(mx, f->type(), true));
}

struct DeltaScan::FilePlan {
  std::shared_ptr<parquet::FileMetaData> footer;
  std::vector<int> row_groups;
};

Result<std::unique_ptr<DeltaScan>> DeltaScan::Make(std::shared_ptr<const Snapshot> snapshot,
                                                   DeltaScanOptions options) {
  std::unique_ptr<DeltaScan> scan(new DeltaScan());
  const auto& schema = *snapshot->schema();
  const auto& parts = snapshot->metadata().partition_columns;
  std::vector<std::shared_ptr<arrow::Field>> fields;
  if (options.columns) {
    for (const auto& c : *options.columns) {
      auto idx = -1;
      for (int i = 0; i < schema.num_fields(); ++i) {
        if (EqualsIgnoreCase(schema.field(i)->name(), c)) idx = i;
      }
      if (idx < 0) {
        return UserError("column '{}' does not exist in Delta table '{}' (columns: {})", c,
                         snapshot->table_root(), schema.ToString());
      }
      fields.push_back(schema.field(idx));
    }
  } else {
    fields = schema.fields();
  }
  arrow::FieldVector out_fields;
  for (const auto& f : fields) {
    bool is_part = false;
    for (const auto& pc : parts) is_part |= EqualsIgnoreCase(pc, f->name());
    scan->output_is_partition_.push_back(is_part);
    bool keep_dictionary = false;
    for (const auto& d : options.dictionary_columns) {
      keep_dictionary |= EqualsIgnoreCase(d, f->name());
    }
    scan->output_keeps_dictionary_.push_back(keep_dictionary && !is_part &&
                                             f->type()->id() == arrow::Type::STRING);
    scan->output_logical_fields_.push_back(f);
    out_fields.push_back(StripField(f));
  }
  scan->output_schema_ = arrow::schema(out_fields);
  scan->metrics_.files_total = static_cast<int64_t>(snapshot->files().size());
  for (const auto& file : snapshot->files()) {
    bool by_partition = false;
    if (FileMayMatch(file, *snapshot, options.predicates, &by_partition)) {
      scan->files_.push_back(file);
    } else if (by_partition) {
      scan->metrics_.files_pruned_by_partition++;
    } else {
      scan->metrics_.files_pruned_by_stats++;
    }
  }
  // Row groups: with a predicate on a data column, read the footers of the
  // files left now, so EXPLAIN can tell row groups scanned / pruned and the
  // reads do not parse them again. A file that cannot be read here is left
  // to ReadFile, which reports it.
  if (TouchesDataColumn(*snapshot, options.predicates)) {
    for (const auto& file : scan->files_) {
      if (scan->plans_.count(file.path)) continue;
      std::string path = ResolveDataPath(snapshot->table_root(), file.path);
      auto input = OpenInput(snapshot->fs().get(), path);
      if (!input.ok()) continue;
      try {
        auto raw = parquet::ParquetFileReader::Open(*input);
        auto md = raw->metadata();
        parquet::arrow::SchemaManifest manifest;
        if (!parquet::arrow::SchemaManifest::Make(md->schema(), md->key_value_metadata(),
                                                  parquet::default_arrow_reader_properties(),
                                                  &manifest)
                 .ok()) {
          continue;
        }
        auto plan = std::make_shared<FilePlan>();
        int64_t pruned = 0;
        plan->row_groups = SelectRowGroups(*md, manifest, *snapshot, options.predicates, &pruned);
        plan->footer = std::move(md);
        scan->metrics_.row_groups_total += plan->footer->num_row_groups();
        scan->metrics_.row_groups_pruned_by_stats += pruned;
        scan->plans_[file.path] = std::move(plan);
      } catch (const std::exception&) {
        continue;
      }
    }
  }
  scan->snapshot_ = std::move(snapshot);
  scan->options_ = std::move(options);
  return scan;
}

namespace {

// Reads the row groups of one data file one at a time and converts each to
// the scan's logical output (partition values, column mapping, widening,
// deletion vectors).
struct FileCursor {
  std::unique_ptr<parquet::arrow::FileReader> reader;
  std::string path;  // resolved, for errors
  std::vector<int> row_groups;
  std::vector<int64_t> first_row;  // file row number of each row group's first row
  std::vector<int> leaves;         // leaf columns to decode (empty: row counts only)
  std::vector<std::shared_ptr<arrow::Array>> partition_arrays;  // per output column
  std::optional<std::vector<uint64_t>> deleted;
  size_t next = 0;                                    // next entry of row_groups
  size_t d = 0;                                       // next deleted row to look at
  std::unique_ptr<arrow::RecordBatchReader> batches;  // of the current row group
  int64_t footer_rows = 0;  // rows left of the current row group when no leaf is decoded
  int64_t base = 0;         // file row number of the next batch's first row
  bool emitted = false;
};

}  // namespace

std::vector<std::vector<int>> DeltaScan::RowGroupSplits(const AddFile& file,
                                                        int64_t target_rows) const {
  auto it = plans_.find(file.path);
  if (it == plans_.end() || it->second->row_groups.size() < 2) return {{}};
  const auto& plan = *it->second;
  std::vector<std::vector<int>> out;
  int64_t rows = 0;
  for (int rg : plan.row_groups) {
    if (out.empty() || rows >= target_rows) {
      out.emplace_back();
      rows = 0;
    }
    out.back().push_back(rg);
    rows += plan.footer->RowGroup(rg)->num_rows();
  }
  return out;
}

Result<formats::BatchIterator> DeltaScan::OpenFile(const AddFile& file,
                                                   const std::vector<int>* row_groups) const {
  const auto& snap = *snapshot_;
  auto cursor = std::make_shared<FileCursor>();
  cursor->path = ResolveDataPath(snap.table_root(), file.path);
  const std::string& path = cursor->path;
  const ColumnMappingMode mode = snap.column_mapping_mode();
  std::shared_ptr<const FilePlan> plan;
  if (auto it = plans_.find(file.path); it != plans_.end()) plan = it->second;
  LS_ASSIGN_OR_RAISE(cursor->reader,
                     OpenDataFile(snap.fs().get(), path, plan ? plan->footer : nullptr));
  try {
    auto md = cursor->reader->parquet_reader()->metadata();
    const auto& manifest = cursor->reader->manifest();
    if (row_groups != nullptr && !row_groups->empty()) {
      cursor->row_groups = *row_groups;
    } else if (plan) {
      cursor->row_groups = plan->row_groups;
    } else {
      int64_t pruned = 0;
      cursor->row_groups = SelectRowGroups(*md, manifest, snap, options_.predicates, &pruned);
      metrics_.row_groups_total += md->num_row_groups();
      metrics_.row_groups_pruned_by_stats += pruned;
    }
    int64_t row = 0;
    std::vector<int64_t> starts;
    for (int rg = 0; rg < md->num_row_groups(); ++rg) {
      starts.push_back(row);
      row += md->RowGroup(rg)->num_rows();
    }
    for (int rg : cursor->row_groups) {
      if (rg < 0 || rg >= md->num_row_groups()) {
        return InternalError("row group {} out of range for {}", rg, path);
      }
      cursor->first_row.push_back(starts[static_cast<size_t>(rg)]);
    }
    // Projection: only the leaves of the output's data columns, found as
    // reading finds them (physical names; field ids in id mode).
    arrow::FieldVector file_fields;
    for (const auto& sf : manifest.schema_fields) file_fields.push_back(sf.field);
    for (size_t i = 0; i < output_logical_fields_.size(); ++i) {
      if (output_is_partition_[i]) continue;
      int idx = FindFileField(file_fields, *output_logical_fields_[i], mode);
      if (idx < 0) continue;
      std::vector<const parquet::arrow::SchemaField*> stack = {
          &manifest.schema_fields[static_cast<size_t>(idx)]};
      while (!stack.empty()) {
        auto* sf = stack.back();
        stack.pop_back();
        if (sf->is_leaf() && sf->column_index >= 0) cursor->leaves.push_back(sf->column_index);
        for (const auto& ch : sf->children) stack.push_back(&ch);
      }
    }
    std::sort(cursor->leaves.begin(), cursor->leaves.end());
    cursor->leaves.erase(std::unique(cursor->leaves.begin(), cursor->leaves.end()),
                         cursor->leaves.end());
  } catch (const std::exception& e) {
    return ParquetFileError(path, e.what());
  }
  // Partition values once per file (parsed here so errors come early).
  cursor->partition_arrays.resize(output_logical_fields_.size());
  std::vector<std::shared_ptr<arrow::Scalar>> partition_scalars(output_logical_fields_.size());
  for (size_t i = 0; i < output_logical_fields_.size(); ++i) {
    if (!output_is_partition_[i]) continue;
    const auto& lf = output_logical_fields_[i];
    auto out_type = output_schema_->field(static_cast<int>(i))->type();
    std::string pname = PhysicalName(*lf, mode);
    auto it = file.partition_values.find(pname);
    if (it == file.partition_values.end()) it = file.partition_values.find(lf->name());
    std::optional<std::string> raw = it == file.partition_values.end() ? std::nullopt : it->second;
    auto scalar = ParsePartitionValue(raw, out_type);
    if (!scalar.ok()) {
      return UserError("Delta table '{}', file '{}': partition column '{}': {}", snap.table_root(),
                       file.path, lf->name(), scalar.status().message());
    }
    partition_scalars[i] = *scalar;
  }
  if (file.deletion_vector) {
    auto dv = LoadDeletionVector(*file.deletion_vector, snap.table_root(), snap.fs().get());
    if (!dv.ok()) {
      return UserError("Delta table '{}', file '{}': {}", snap.table_root(), file.path,
                       dv.status().message());
    }
    cursor->deleted = std::move(*dv);
  }
  // A file read in several splits counts once: with its first split.
  const bool first_split = row_groups == nullptr || row_groups->empty() || !plan ||
                           plan->row_groups.empty() ||
                           row_groups->front() == plan->row_groups.front();
  if (first_split) metrics_.files_read++;

  // Converts one decoded batch (file columns) of `n` rows to the output.
  auto convert = [this, cursor, partition_scalars, mode](
                     const std::shared_ptr<arrow::RecordBatch>& batch,
                     int64_t n) -> Result<std::shared_ptr<arrow::RecordBatch>> {
    arrow::ArrayVector columns;
    arrow::FieldVector file_fields;
    if (batch) file_fields = batch->schema()->fields();
    for (size_t i = 0; i < output_logical_fields_.size(); ++i) {
      const auto& lf = output_logical_fields_[i];
      auto out_type = output_schema_->field(static_cast<int>(i))->type();
      if (output_is_partition_[i]) {
        auto& cached = cursor->partition_arrays[i];
        if (!cached || cached->length() < n) {
          LS_ASSIGN_OR_RAISE(cached, arrow::MakeArrayFromScalar(*partition_scalars[i], n));
        }
        columns.push_back(cached->length() == n ? cached : cached->Slice(0, n));
        continue;
      }
      int idx = FindFileField(file_fields, *lf, mode);
      if (idx < 0) {
        LS_ASSIGN_OR_RAISE(auto arr, arrow::MakeArrayOfNull(out_type, n));
        columns.push_back(std::move(arr));
        continue;
      }
      const auto& col = batch->column(idx);
      if (output_keeps_dictionary_[i] && col->type_id() == arrow::Type::DICTIONARY &&
          static_cast<const arrow::DictionaryType&>(*col->type()).value_type()->Equals(*out_type)) {
        columns.push_back(col);
        continue;
      }
      LS_ASSIGN_OR_RAISE(auto arr, Adapt(col, lf, mode, cursor->path));
      columns.push_back(std::move(arr));
    }
    auto out = arrow::RecordBatch::Make(output_schema_, n, std::move(columns));
    if (cursor->deleted) {
      const auto& deleted = *cursor->deleted;
      size_t& d = cursor->d;
      while (d < deleted.size() && deleted[d] < static_cast<uint64_t>(cursor->base)) ++d;
      if (d < deleted.size() && deleted[d] < static_cast<uint64_t>(cursor->base + n)) {
        arrow::BooleanBuilder keep;
        LS_RETURN_NOT_OK(keep.Reserve(n));
        for (int64_t r = 0; r < n; ++r) {
          const auto row = static_cast<uint64_t>(cursor->base + r);
          while (d < deleted.size() && deleted[d] < row) ++d;
          keep.UnsafeAppend(!(d < deleted.size() && deleted[d] == row));
        }
        LS_ASSIGN_OR_RAISE(auto mask, keep.Finish());
        LS_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(out, mask));
        metrics_.rows_deleted_by_dv += n - filtered.record_batch()->num_rows();
        out = filtered.record_batch();
      }
    }
    cursor->base += n;
    metrics_.rows += out->num_rows();
    return out;
  };

  formats::BatchIterator decode([this, cursor, convert]() -> Result<formats::BatchPtr> {
    while (true) {
      if (cursor->batches) {
        std::shared_ptr<arrow::RecordBatch> batch;
        try {
          auto st = cursor->batches->ReadNext(&batch);
          if (!st.ok()) return ParquetFileError(cursor->path, st.message());
        } catch (const std::exception& e) {
          return ParquetFileError(cursor->path, e.what());
        }
        if (batch) {
          cursor->emitted = true;
          return convert(batch, batch->num_rows());
        }
        cursor->batches.reset();
      }
      if (cursor->footer_rows > 0) {
        const int64_t n = std::min(cursor->footer_rows, kBatchRows);
        cursor->footer_rows -= n;
        cursor->emitted = true;
        return convert(nullptr, n);
      }
      if (cursor->next >= cursor->row_groups.size()) {
        if (cursor->emitted) return formats::BatchPtr();
        // Every row group pruned, or an empty file: one empty batch, so
        // callers see the schema.
        cursor->emitted = true;
        return arrow::RecordBatch::MakeEmpty(output_schema_);
      }
      const size_t k = cursor->next++;
      const int rg = cursor->row_groups[k];
      cursor->base = cursor->first_row[k];
      metrics_.row_groups_read++;
      if (cursor->leaves.empty()) {
        // Only partition columns or columns missing from the file: the row
        // count comes from the footer.
        try {
          cursor->footer_rows =
              cursor->reader->parquet_reader()->metadata()->RowGroup(rg)->num_rows();
        } catch (const std::exception& e) {
          return ParquetFileError(cursor->path, e.what());
        }
        continue;
      }
      // One reader per row group, so that batches never span row groups and
      // row numbers (deletion vectors) stay exact across skipped ones.
      try {
        auto batches = cursor->reader->GetRecordBatchReader({rg}, cursor->leaves);
        if (!batches.ok()) return ParquetFileError(cursor->path, batches.status().message());
        cursor->batches = std::move(*batches);
      } catch (const std::exception& e) {
        return ParquetFileError(cursor->path, e.what());
      }
    }
  });
  // Not decoded one batch ahead on another thread: that showed no wall-time
  // gain, and a decode still in flight when the process exited crashed it
  // (libparquet's tracing context torn down under it, ~1% of `lakestream sql`
  // runs on a loaded machine).
  return decode;
}

Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> DeltaScan::ReadFile(
    const AddFile& file) const {
  LS_ASSIGN_OR_RAISE(auto it, OpenFile(file));
  std::vector<std::shared_ptr<arrow::RecordBatch>> result;
  while (true) {
    LS_ASSIGN_OR_RAISE(auto batch, it.Next());
    if (!batch) break;
    result.push_back(std::move(batch));
  }
  return result;
}

Result<std::shared_ptr<arrow::Table>> DeltaScan::ReadAll() const {
  std::vector<std::shared_ptr<arrow::RecordBatch>> all;
  for (const auto& f : files_) {
    LS_ASSIGN_OR_RAISE(auto batches, ReadFile(f));
    for (auto& b : batches) all.push_back(std::move(b));
  }
  return arrow::Table::FromRecordBatches(output_schema_, all);
}

}  // namespace lakestream::delta
