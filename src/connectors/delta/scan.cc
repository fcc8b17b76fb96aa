// Delta data reading: file pruning and per-file conversion to the logical schema.
#include "connectors/delta/scan.h"

#include <arrow/array.h>
#include <arrow/array/concatenate.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/scalar.h>
#include <arrow/util/key_value_metadata.h>
#include <simdjson.h>
#include <strings.h>

#include <cmath>
#include <variant>

#include "connectors/delta/checkpoint.h"
#include "connectors/delta/deletion_vector.h"

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
      return std::make_shared<arrow::MapType>(StripField(m.key_field()), StripField(m.item_field()));
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
      const auto& ts = static_cast<const arrow::TimestampScalar&>(s);
      const auto& tt = static_cast<const arrow::TimestampType&>(*s.type);
      int64_t v = ts.value;
      switch (tt.unit()) {
        case arrow::TimeUnit::SECOND: return v * 1000000;
        case arrow::TimeUnit::MILLI: return v * 1000;
        case arrow::TimeUnit::MICRO: return v;
        case arrow::TimeUnit::NANO: return v / 1000;
      }
      return v;
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
  double x = std::holds_alternative<int64_t>(a) ? double(std::get<int64_t>(a)) : std::get<double>(a);
  double y = std::holds_alternative<int64_t>(b) ? double(std::get<int64_t>(b)) : std::get<double>(b);
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
  auto val = [&](size_t i) { return p.values.size() > i && p.values[i] ? ScalarKey(*p.values[i]) : Key{}; };
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
  scan->snapshot_ = std::move(snapshot);
  scan->options_ = std::move(options);
  return scan;
}

Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> DeltaScan::ReadFile(
    const AddFile& file) const {
  const auto& snap = *snapshot_;
  std::string path = ResolveDataPath(snap.table_root(), file.path);
  ColumnMappingMode mode = snap.column_mapping_mode();
  // Projection: read only the needed top-level columns (by physical name;
  // id mode matches by field id, so it reads all columns).
  std::vector<std::string> wanted;
  if (mode != ColumnMappingMode::kId) {
    for (size_t i = 0; i < output_logical_fields_.size(); ++i) {
      if (!output_is_partition_[i]) wanted.push_back(PhysicalName(*output_logical_fields_[i], mode));
    }
  }
  LS_ASSIGN_OR_RAISE(auto table, ReadParquetTable(snap.fs().get(), path, wanted, /*combine=*/false));
  metrics_.files_read++;
  std::optional<std::vector<uint64_t>> deleted;
  if (file.deletion_vector) {
    auto dv = LoadDeletionVector(*file.deletion_vector, snap.table_root(), snap.fs().get());
    if (!dv.ok()) {
      return UserError("Delta table '{}', file '{}': {}", snap.table_root(), file.path,
                       dv.status().message());
    }
    deleted = std::move(*dv);
  }
  // One output batch per row group (the file's chunks), without copies.
  std::vector<std::shared_ptr<arrow::RecordBatch>> result;
  arrow::TableBatchReader batches(*table);
  int64_t base = 0;  // row number of the batch's first row in the file
  size_t d = 0;      // next deleted row to look at
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    LS_RETURN_NOT_OK(batches.ReadNext(&batch));
    if (!batch) break;
    int64_t n = batch->num_rows();
    arrow::ArrayVector columns;
    arrow::FieldVector file_fields = batch->schema()->fields();
    for (size_t i = 0; i < output_logical_fields_.size(); ++i) {
      const auto& lf = output_logical_fields_[i];
      auto out_type = output_schema_->field(static_cast<int>(i))->type();
      if (output_is_partition_[i]) {
        std::string pname = PhysicalName(*lf, mode);
        auto it = file.partition_values.find(pname);
        if (it == file.partition_values.end()) it = file.partition_values.find(lf->name());
        std::optional<std::string> raw =
            it == file.partition_values.end() ? std::nullopt : it->second;
        auto scalar = ParsePartitionValue(raw, out_type);
        if (!scalar.ok()) {
          return UserError("Delta table '{}', file '{}': partition column '{}': {}",
                           snap.table_root(), file.path, lf->name(), scalar.status().message());
        }
        LS_ASSIGN_OR_RAISE(auto arr, arrow::MakeArrayFromScalar(**scalar, n));
        columns.push_back(std::move(arr));
        continue;
      }
      int idx = FindFileField(file_fields, *lf, mode);
      if (idx < 0) {
        LS_ASSIGN_OR_RAISE(auto arr, arrow::MakeArrayOfNull(out_type, n));
        columns.push_back(std::move(arr));
        continue;
      }
      LS_ASSIGN_OR_RAISE(auto arr, Adapt(batch->column(idx), lf, mode, path));
      columns.push_back(std::move(arr));
    }
    auto out = arrow::RecordBatch::Make(output_schema_, n, std::move(columns));
    if (deleted) {
      arrow::BooleanBuilder keep;
      LS_RETURN_NOT_OK(keep.Reserve(n));
      bool any = false;
      for (int64_t r = 0; r < n; ++r) {
        const auto row = static_cast<uint64_t>(base + r);
        while (d < deleted->size() && (*deleted)[d] < row) ++d;
        bool gone = d < deleted->size() && (*deleted)[d] == row;
        any |= gone;
        keep.UnsafeAppend(!gone);
      }
      if (any) {
        LS_ASSIGN_OR_RAISE(auto mask, keep.Finish());
        LS_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(out, mask));
        metrics_.rows_deleted_by_dv += n - filtered.record_batch()->num_rows();
        out = filtered.record_batch();
      }
    }
    base += n;
    metrics_.rows += out->num_rows();
    result.push_back(std::move(out));
  }
  if (result.empty()) {
    // An empty file still yields its (empty) batch, so callers see the schema.
    LS_ASSIGN_OR_RAISE(auto empty, arrow::RecordBatch::MakeEmpty(output_schema_));
    result.push_back(std::move(empty));
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
