// JSON files (JSON lines by default, one document per file with multiLine),
// parsed with simdjson one record at a time so that a malformed line fails on
// its own, as Spark's JacksonParser does: PERMISSIVE keeps the fields that
// converted and fills the corrupt-record column, DROPMALFORMED drops the
// record, FAILFAST stops naming file and line. Arrow's JSON reader is strict
// (one bad line fails the block), hence simdjson here.
//
// Inference follows Spark's JsonInferSchema: integers BIGINT, floats DOUBLE,
// objects STRUCT with fields sorted by name, conflicting types STRING,
// all-null fields STRING, empty structs dropped.
#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_decimal.h>
#include <arrow/array/builder_nested.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/table.h>
#include <arrow/util/decimal.h>
#include <arrow/util/utf8.h>
#include <arrow/util/value_parsing.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "formats/format_internal.h"
#include "formats/json_values.h"
#include "types/types.h"
#include "types/value_format.h"

namespace lakestream::formats::internal {
namespace {

/// One record's text and where it came from.
struct RecordSource {
  std::string_view text;
  int64_t line;  // 1-based physical line, or -1 (multiLine)
};

/// Splits JSON lines, skipping blank ones. `data` must stay alive.
std::vector<RecordSource> SplitJsonLines(std::string_view data, const FileReadOptions& o) {
  std::vector<RecordSource> out;
  int64_t line = 1;
  size_t i = 0;
  while (i < data.size()) {
    size_t j, next;
    if (!o.line_sep.empty()) {
      j = data.find(o.line_sep, i);
      if (j == std::string_view::npos) j = data.size();
      next = j + o.line_sep.size();
    } else {
      j = data.find('\n', i);
      if (j == std::string_view::npos) j = data.size();
      next = j + 1;
    }
    std::string_view text = data.substr(i, j - i);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    bool blank = std::all_of(text.begin(), text.end(),
                             [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
    if (!blank) out.push_back(RecordSource{text, line});
    ++line;
    i = next;
  }
  return out;
}

// ---- inference ----

struct JType {
  enum Kind { kNull, kBool, kLong, kDecimal, kDouble, kString, kStruct, kArray } kind = kNull;
  int precision = 0;
  int scale = 0;
  std::vector<std::string> names;  // kStruct: sorted
  std::vector<JType> children;     // kStruct: fields; kArray: [element]
};

JType Merge(const JType& a, const JType& b);

JType InferElement(simdjson::dom::element e, const FileReadOptions& o) {
  JType t;
  switch (e.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      t.kind = JType::kNull;
      break;
    case simdjson::dom::element_type::BOOL:
      t.kind = o.primitives_as_string ? JType::kString : JType::kBool;
      break;
    case simdjson::dom::element_type::INT64:
      t.kind = o.primitives_as_string ? JType::kString : JType::kLong;
      break;
    case simdjson::dom::element_type::UINT64:
      if (o.primitives_as_string) {
        t.kind = JType::kString;
      } else {
        t.kind = JType::kDecimal;  // beyond BIGINT: Spark infers DECIMAL(20,0)
        t.precision = 20;
      }
      break;
    case simdjson::dom::element_type::DOUBLE:
      t.kind = o.primitives_as_string ? JType::kString : JType::kDouble;
      break;
    case simdjson::dom::element_type::STRING:
      t.kind = JType::kString;
      break;
    case simdjson::dom::element_type::ARRAY: {
      t.kind = JType::kArray;
      JType elem;
      simdjson::dom::array arr = e.get_array().value_unsafe();
      for (auto v : arr) elem = Merge(elem, InferElement(v, o));
      t.children.push_back(std::move(elem));
      break;
    }
    case simdjson::dom::element_type::OBJECT: {
      t.kind = JType::kStruct;
      std::vector<std::pair<std::string, JType>> fields;
      simdjson::dom::object obj = e.get_object().value_unsafe();
      for (auto kv : obj) {
        std::string key(kv.key);
        auto it = std::find_if(fields.begin(), fields.end(),
                               [&](const auto& f) { return f.first == key; });
        if (it == fields.end()) {
          fields.emplace_back(key, InferElement(kv.value, o));
        } else {
          it->second = Merge(it->second, InferElement(kv.value, o));
        }
      }
      std::sort(fields.begin(), fields.end(),
                [](const auto& x, const auto& y) { return x.first < y.first; });
      for (auto& f : fields) {
        t.names.push_back(std::move(f.first));
        t.children.push_back(std::move(f.second));
      }
      break;
    }
  }
  return t;
}

JType Merge(const JType& a, const JType& b) {
  if (a.kind == JType::kNull) return b;
  if (b.kind == JType::kNull) return a;
  if (a.kind == JType::kStruct && b.kind == JType::kStruct) {
    JType t;
    t.kind = JType::kStruct;
    size_t i = 0, j = 0;
    while (i < a.names.size() || j < b.names.size()) {
      if (j >= b.names.size() || (i < a.names.size() && a.names[i] < b.names[j])) {
        t.names.push_back(a.names[i]);
        t.children.push_back(a.children[i++]);
      } else if (i >= a.names.size() || b.names[j] < a.names[i]) {
        t.names.push_back(b.names[j]);
        t.children.push_back(b.children[j++]);
      } else {
        t.names.push_back(a.names[i]);
        t.children.push_back(Merge(a.children[i++], b.children[j++]));
      }
    }
    return t;
  }
  if (a.kind == JType::kArray && b.kind == JType::kArray) {
    JType t;
    t.kind = JType::kArray;
    t.children.push_back(Merge(a.children[0], b.children[0]));
    return t;
  }
  auto numeric = [](JType::Kind k) {
    return k == JType::kLong || k == JType::kDecimal || k == JType::kDouble;
  };
  if (a.kind == b.kind && a.kind != JType::kDecimal) return a;
  if (numeric(a.kind) && numeric(b.kind)) {
    if (a.kind == JType::kDouble || b.kind == JType::kDouble) {
      JType t;
      t.kind = JType::kDouble;
      return t;
    }
    // Long (as DECIMAL(20,0)) and decimals widen to a decimal holding both.
    auto prec = [](const JType& x) { return x.kind == JType::kLong ? 20 : x.precision; };
    auto scale = [](const JType& x) { return x.kind == JType::kLong ? 0 : x.scale; };
    JType t;
    int s = std::max(scale(a), scale(b));
    int ip = std::max(prec(a) - scale(a), prec(b) - scale(b));
    if (ip + s > 38) {
      t.kind = JType::kDouble;
      return t;
    }
    t.kind = JType::kDecimal;
    t.precision = ip + s;
    t.scale = s;
    return t;
  }
  JType t;
  t.kind = JType::kString;
  return t;
}

/// Merges the type of `e` into `acc` in place: the common case (a record
/// shaped like the ones before) allocates nothing.
void InferInto(JType* acc, simdjson::dom::element e, const FileReadOptions& o) {
  using ET = simdjson::dom::element_type;
  const ET et = e.type();
  if (et == ET::NULL_VALUE || acc->kind == JType::kString) return;
  auto to_string = [acc] {
    acc->kind = JType::kString;
    acc->names.clear();
    acc->children.clear();
  };
  if (et == ET::ARRAY) {
    if (acc->kind == JType::kNull) {
      acc->kind = JType::kArray;
      acc->children.assign(1, JType{});
    } else if (acc->kind != JType::kArray) {
      return to_string();
    }
    simdjson::dom::array arr = e.get_array().value_unsafe();
    for (auto v : arr) InferInto(&acc->children[0], v, o);
    return;
  }
  if (et == ET::OBJECT) {
    if (acc->kind == JType::kNull) {
      acc->kind = JType::kStruct;
    } else if (acc->kind != JType::kStruct) {
      return to_string();
    }
    simdjson::dom::object obj = e.get_object().value_unsafe();
    for (auto kv : obj) {
      auto it = std::lower_bound(acc->names.begin(), acc->names.end(), kv.key);
      size_t i = static_cast<size_t>(it - acc->names.begin());
      if (it == acc->names.end() || *it != kv.key) {
        acc->names.insert(it, std::string(kv.key));
        acc->children.insert(acc->children.begin() + static_cast<std::ptrdiff_t>(i), JType{});
      }
      InferInto(&acc->children[i], kv.value, o);
    }
    return;
  }
  if (acc->kind == JType::kStruct || acc->kind == JType::kArray) return to_string();
  *acc = Merge(*acc, InferElement(e, o));  // primitives: no children to copy
}

/// Spark's canonicalizeType: NULL -> STRING, empty structs dropped (nullptr).
std::shared_ptr<arrow::DataType> ToArrow(const JType& t) {
  switch (t.kind) {
    case JType::kNull:
    case JType::kString:
      return arrow::utf8();
    case JType::kBool:
      return arrow::boolean();
    case JType::kLong:
      return arrow::int64();
    case JType::kDouble:
      return arrow::float64();
    case JType::kDecimal:
      return arrow::decimal128(t.precision, t.scale);
    case JType::kArray: {
      auto elem = ToArrow(t.children[0]);
      if (!elem) return nullptr;
      return arrow::list(elem);
    }
    case JType::kStruct: {
      std::vector<std::shared_ptr<arrow::Field>> fields;
      for (size_t i = 0; i < t.names.size(); ++i) {
        auto ft = ToArrow(t.children[i]);
        if (ft) fields.push_back(arrow::field(t.names[i], ft));
      }
      if (fields.empty()) return nullptr;
      return arrow::struct_(fields);
    }
  }
  return arrow::utf8();
}

simdjson::padded_string ToPadded(const arrow::Buffer& buf) {
  return simdjson::padded_string(reinterpret_cast<const char*>(buf.data()),
                                 static_cast<size_t>(buf.size()));
}

Result<simdjson::padded_string> LoadPadded(const std::string& path) {
  LS_ASSIGN_OR_RAISE(auto buf, ReadWholeFile(path));
  return ToPadded(*buf);
}

/// "file:line" (`first_line`: file line of the data's first line), or the
/// record number when lines are unknown (multiLine).
std::string Where(const std::string& path, const RecordSource& src, int64_t index,
                  int64_t first_line = 1) {
  if (src.line > 0) return fmt::format("{}:{}", path, first_line - 1 + src.line);
  return fmt::format("{} (record {})", path, index + 1);
}

/// Calls `fn(record element, source, index)` for each record of a file; a
/// malformed record calls `bad(source, index, message)` instead. multiLine:
/// the file is one document, an object or an array of objects.
template <typename Fn, typename Bad>
Status ForEachRecord(const std::string& path, const simdjson::padded_string& data,
                     const FileReadOptions& o, simdjson::dom::parser* parser, Fn&& fn, Bad&& bad) {
  std::string_view all(data.data(), data.size());
  if (o.multi_line) {
    RecordSource src{all, -1};
    auto doc = parser->parse(data);
    if (doc.error()) return bad(src, 0, std::string(simdjson::error_message(doc.error())));
    simdjson::dom::element root = doc.value_unsafe();
    if (root.is_array()) {
      int64_t i = 0;
      simdjson::dom::array arr = root.get_array().value_unsafe();
      for (auto e : arr) {
        LS_RETURN_NOT_OK(fn(e, src, i++));
      }
      return Status::OK();
    }
    return fn(root, src, 0);
  }
  auto lines = SplitJsonLines(all, o);
  int64_t index = 0;
  for (const auto& src : lines) {
    // The padded file buffer stays readable past each line, so no copy.
    auto doc = parser->parse(src.text.data(), src.text.size(), /*realloc_if_needed=*/false);
    if (doc.error()) {
      LS_RETURN_NOT_OK(bad(src, index++, std::string(simdjson::error_message(doc.error()))));
      continue;
    }
    auto e = doc.value_unsafe();
    if (e.is_array()) {  // a top-level array of objects holds several records
      simdjson::dom::array arr = e.get_array().value_unsafe();
      for (auto x : arr) LS_RETURN_NOT_OK(fn(x, src, index++));
      continue;
    }
    LS_RETURN_NOT_OK(fn(e, src, index++));
  }
  return Status::OK();
}

// ---- conversion into builders ----

// A column's dotted name, kept as links to the enclosing structs' names and
// spelled out only for an error message (most records have none).
struct ColumnPath {
  const ColumnPath* parent;
  std::string_view name;
  std::string ToString() const {
    return parent ? parent->ToString() + "." + std::string(name) : std::string(name);
  }
};

struct Converter {
  const FileReadOptions* options;
  std::shared_ptr<arrow::TimestampParser> ts_parser;  // timestampFormat, if any
  std::shared_ptr<arrow::TimestampParser> date_parser;
  std::string error;  // first mismatch of the current record

  // The field each key of the previous record of a struct type went to, by
  // the key's position in the record. Records of one source (Kafka values of
  // one producer, lines of one file) mostly repeat their keys in the same
  // order, so a key is matched with one comparison; looking every key up
  // among the wanted names compared each unwanted key with all of them (the
  // benchmark's 11-key events read into 5 columns: ~35 comparisons a record,
  // 4% of the drain's CPU). -1: a key no field wants.
  struct KeySlot {
    std::string key;
    int field;
  };
  static constexpr size_t kMaxKeySlots = 256;
  std::unordered_map<const arrow::StructType*, std::vector<KeySlot>> key_slots;

  void Mismatch(const ColumnPath& column, const arrow::DataType& type, simdjson::dom::element e) {
    if (!error.empty()) return;
    std::string text = simdjson::to_string(e);
    if (text.size() > 64) text = text.substr(0, 61) + "...";
    error = fmt::format("cannot read {} as {} for column '{}'", text, types::ToDDL(type),
                        column.ToString());
  }

  /// Appends `e` converted to `type`; a value that does not convert appends
  /// NULL and records the mismatch.
  Status Append(arrow::ArrayBuilder* b, const arrow::DataType& type, simdjson::dom::element e,
                const ColumnPath& column) {
    using ET = simdjson::dom::element_type;
    const ET et = e.type();
    if (et == ET::NULL_VALUE) return b->AppendNull();
    switch (type.id()) {
      case arrow::Type::STRING: {
        auto* sb = static_cast<arrow::StringBuilder*>(b);
        if (et == ET::STRING) return sb->Append(std::string_view(e.get_string().value_unsafe()));
        return sb->Append(simdjson::to_string(e));  // Spark keeps the raw JSON text
      }
      case arrow::Type::BINARY: {
        if (et != ET::STRING) break;
        return static_cast<arrow::BinaryBuilder*>(b)->Append(
            std::string_view(e.get_string().value_unsafe()));
      }
      case arrow::Type::BOOL:
        if (et != ET::BOOL) break;
        return static_cast<arrow::BooleanBuilder*>(b)->Append(e.get_bool().value_unsafe());
      case arrow::Type::INT8:
      case arrow::Type::INT16:
      case arrow::Type::INT32:
      case arrow::Type::INT64: {
        if (et != ET::INT64) break;
        int64_t v = e.get_int64().value_unsafe();
        switch (type.id()) {
          case arrow::Type::INT8:
            if (v < INT8_MIN || v > INT8_MAX) break;
            return static_cast<arrow::Int8Builder*>(b)->Append(static_cast<int8_t>(v));
          case arrow::Type::INT16:
            if (v < INT16_MIN || v > INT16_MAX) break;
            return static_cast<arrow::Int16Builder*>(b)->Append(static_cast<int16_t>(v));
          case arrow::Type::INT32:
            if (v < INT32_MIN || v > INT32_MAX) break;
            return static_cast<arrow::Int32Builder*>(b)->Append(static_cast<int32_t>(v));
          default:
            return static_cast<arrow::Int64Builder*>(b)->Append(v);
        }
        break;
      }
      case arrow::Type::FLOAT:
      case arrow::Type::DOUBLE: {
        double v;
        if (et == ET::DOUBLE || et == ET::INT64 || et == ET::UINT64) {
          v = e.get_double().value_unsafe();
        } else if (et == ET::STRING) {
          // Spark's allowNonNumericNumbers spellings.
          std::string_view s = e.get_string().value_unsafe();
          if (s == "NaN") {
            v = std::numeric_limits<double>::quiet_NaN();
          } else if (s == "Infinity" || s == "+Infinity" || s == "INF" || s == "+INF") {
            v = std::numeric_limits<double>::infinity();
          } else if (s == "-Infinity" || s == "-INF") {
            v = -std::numeric_limits<double>::infinity();
          } else {
            break;
          }
        } else {
          break;
        }
        if (type.id() == arrow::Type::FLOAT) {
          return static_cast<arrow::FloatBuilder*>(b)->Append(static_cast<float>(v));
        }
        return static_cast<arrow::DoubleBuilder*>(b)->Append(v);
      }
      case arrow::Type::DECIMAL128: {
        if (et != ET::INT64 && et != ET::UINT64 && et != ET::DOUBLE && et != ET::STRING) break;
        std::string text =
            et == ET::STRING ? std::string(e.get_string().value_unsafe()) : simdjson::to_string(e);
        const auto& dt = static_cast<const arrow::Decimal128Type&>(type);
        arrow::Decimal128 d;
        int32_t p, s;
        if (!arrow::Decimal128::FromString(text, &d, &p, &s).ok()) break;
        auto rescaled = d.Rescale(s, dt.scale());
        if (!rescaled.ok() || !rescaled->FitsInPrecision(dt.precision())) break;
        return static_cast<arrow::Decimal128Builder*>(b)->Append(*rescaled);
      }
      case arrow::Type::DATE32: {
        if (et != ET::STRING) break;
        std::string_view s = e.get_string().value_unsafe();
        int32_t days;
        if (date_parser) {
          int64_t secs;
          if (!(*date_parser)(s.data(), s.size(), arrow::TimeUnit::SECOND, &secs)) break;
          days = static_cast<int32_t>(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400);
        } else if (!arrow::internal::ParseValue<arrow::Date32Type>(s.data(), s.size(), &days)) {
          break;
        }
        return static_cast<arrow::Date32Builder*>(b)->Append(days);
      }
      case arrow::Type::TIMESTAMP: {
        int64_t us;
        if (et == ET::INT64) {  // Spark reads numbers as seconds since the epoch
          us = e.get_int64().value_unsafe() * 1000000;
        } else if (et == ET::STRING) {
          std::string_view s = e.get_string().value_unsafe();
          if (ts_parser) {
            if (!(*ts_parser)(s.data(), s.size(), arrow::TimeUnit::MICRO, &us)) break;
          } else {
            static const arrow::TimestampType kTs(arrow::TimeUnit::MICRO);
            if (!arrow::internal::ParseValue(kTs, s.data(), s.size(), &us)) break;
          }
        } else {
          break;
        }
        return static_cast<arrow::TimestampBuilder*>(b)->Append(us);
      }
      case arrow::Type::LIST: {
        if (et != ET::ARRAY) break;
        auto* lb = static_cast<arrow::ListBuilder*>(b);
        LS_RETURN_NOT_OK(lb->Append());
        const auto& vt = *static_cast<const arrow::ListType&>(type).value_type();
        simdjson::dom::array arr = e.get_array().value_unsafe();
        for (auto x : arr) {
          LS_RETURN_NOT_OK(Append(lb->value_builder(), vt, x, column));
        }
        return Status::OK();
      }
      case arrow::Type::MAP: {
        if (et != ET::OBJECT) break;
        const auto& mt = static_cast<const arrow::MapType&>(type);
        if (mt.key_type()->id() != arrow::Type::STRING) break;
        auto* mb = static_cast<arrow::MapBuilder*>(b);
        LS_RETURN_NOT_OK(mb->Append());
        simdjson::dom::object obj = e.get_object().value_unsafe();
        for (auto kv : obj) {
          LS_RETURN_NOT_OK(static_cast<arrow::StringBuilder*>(mb->key_builder())
                               ->Append(std::string_view(kv.key)));
          LS_RETURN_NOT_OK(Append(mb->item_builder(), *mt.item_type(), kv.value, column));
        }
        return Status::OK();
      }
      case arrow::Type::STRUCT: {
        if (et != ET::OBJECT) break;
        return AppendStruct(static_cast<arrow::StructBuilder*>(b),
                            static_cast<const arrow::StructType&>(type), e, &column);
      }
      default:
        break;
    }
    Mismatch(column, type, e);
    return b->AppendNull();
  }

  /// Appends an object's fields by name (JSON keys match case-sensitively, as
  /// in Spark; a repeated key counts once, the first); missing fields are NULL.
  /// One pass over the object's keys: each is tried against the field after
  /// the last one matched first, since writers mostly keep the schema's order.
  Status AppendStruct(arrow::StructBuilder* sb, const arrow::StructType& type,
                      simdjson::dom::element e, const ColumnPath* parent) {
    LS_RETURN_NOT_OK(sb->Append());
    const int n = type.num_fields();
    uint64_t small_seen = 0;  // fields appended so far, up to 64 fields
    std::vector<bool> large_seen(n > 64 ? n : 0, false);
    auto seen = [&](int i) { return n > 64 ? large_seen[i] : ((small_seen >> i) & 1) != 0; };
    auto mark = [&](int i) {
      if (n > 64) {
        large_seen[i] = true;
      } else {
        small_seen |= uint64_t{1} << i;
      }
    };
    int expect = 0;
    std::vector<KeySlot>& slots = key_slots[&type];
    size_t k = 0;
    simdjson::dom::object obj = e.get_object().value_unsafe();
    for (auto kv : obj) {
      int i = -1;
      if (k < slots.size() && slots[k].key == kv.key) {
        i = slots[k].field;
      } else {
        if (expect < n && type.field(expect)->name() == kv.key) {
          i = expect;
        } else {
          for (int j = 0; j < n; ++j) {
            if (type.field(j)->name() == kv.key) {
              i = j;
              break;
            }
          }
        }
        if (k < slots.size()) {
          slots[k] = KeySlot{std::string(kv.key), i};
        } else if (k < kMaxKeySlots) {
          slots.push_back(KeySlot{std::string(kv.key), i});
        }
      }
      ++k;
      if (i >= 0) expect = i + 1;
      if (i < 0 || seen(i)) continue;
      mark(i);
      const auto& f = type.field(i);
      ColumnPath path{parent, f->name()};
      LS_RETURN_NOT_OK(Append(sb->field_builder(i), *f->type(), kv.value, path));
    }
    for (int i = 0; i < n; ++i) {
      if (!seen(i)) LS_RETURN_NOT_OK(sb->field_builder(i)->AppendNull());
    }
    return Status::OK();
  }
};

}  // namespace

Result<SchemaPtr> InferJsonSchema(const std::vector<std::string>& files,
                                  const FileReadOptions& options) {
  simdjson::dom::parser parser;
  JType root;
  bool saw_malformed = false;
  for (const auto& path : files) {
    LS_ASSIGN_OR_RAISE(auto data, LoadPadded(path));
    auto bad = [&](const RecordSource& src, int64_t index, const std::string& msg) -> Status {
      if (options.mode == FileReadOptions::Mode::kFailFast) {
        return UserError("malformed JSON record at {}: {} (mode FAILFAST)", Where(path, src, index),
                         msg);
      }
      saw_malformed = true;
      return Status::OK();
    };
    LS_RETURN_NOT_OK(ForEachRecord(
        path, data, options, &parser,
        [&](simdjson::dom::element e, const RecordSource& src, int64_t index) -> Status {
          if (!e.is_object()) return bad(src, index, "a record must be a JSON object");
          InferInto(&root, e, options);
          return Status::OK();
        },
        bad));
  }
  std::vector<std::shared_ptr<arrow::Field>> fields;
  if (root.kind == JType::kStruct) {
    auto st = ToArrow(root);
    if (st) fields = st->fields();
  }
  if (saw_malformed && options.mode == FileReadOptions::Mode::kPermissive) {
    bool present = std::any_of(fields.begin(), fields.end(), [&](const auto& f) {
      return f->name() == options.column_name_of_corrupt_record;
    });
    if (!present) {
      fields.push_back(arrow::field(options.column_name_of_corrupt_record, arrow::utf8()));
      std::sort(fields.begin(), fields.end(),
                [](const auto& a, const auto& b) { return a->name() < b->name(); });
    }
  }
  return arrow::schema(std::move(fields));
}

Result<BatchIterator> OpenJsonFile(const ReadContext& ctx) {
  const FileReadOptions& o = *ctx.options;
  LS_ASSIGN_OR_RAISE(auto range, ReadLineRange(ctx.path, ctx.offset, ctx.length));
  ctx.metrics->bytes_read.fetch_add(range.data->size(), std::memory_order_relaxed);
  auto data = ToPadded(*range.data);
  range.data.reset();

  // One struct builder over the requested columns (minus the corrupt column).
  std::vector<std::shared_ptr<arrow::Field>> read_fields;
  for (int f : ctx.output_fields) {
    if (f != ctx.corrupt_index) read_fields.push_back(ctx.data_schema->field(f));
  }
  auto record_type = std::static_pointer_cast<arrow::StructType>(arrow::struct_(read_fields));
  std::unique_ptr<arrow::ArrayBuilder> builder;
  LS_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), record_type, &builder));
  auto* sb = static_cast<arrow::StructBuilder*>(builder.get());
  arrow::StringBuilder corrupt;
  std::vector<int64_t> bad_rows;
  int64_t rows = 0;

  Converter conv{&o, nullptr, nullptr, {}, {}};
  if (!o.timestamp_format.empty()) {
    LS_ASSIGN_OR_RAISE(auto f, JavaPatternToStrptime(o.timestamp_format));
    conv.ts_parser = arrow::TimestampParser::MakeStrptime(f);
  }
  if (!o.date_format.empty()) {
    LS_ASSIGN_OR_RAISE(auto f, JavaPatternToStrptime(o.date_format));
    conv.date_parser = arrow::TimestampParser::MakeStrptime(f);
  }

  auto malformed = [&](const RecordSource& src, int64_t index, const std::string& msg,
                       bool appended) -> Status {
    if (o.mode == FileReadOptions::Mode::kFailFast) {
      auto first_line = range.FirstLineNumber();
      return UserError("malformed JSON record at {}: {} (mode FAILFAST)",
                       Where(ctx.path, src, index, first_line.ok() ? *first_line : 1), msg);
    }
    ctx.metrics->malformed_rows.fetch_add(1, std::memory_order_relaxed);
    if (!appended) {
      // Spark's PERMISSIVE row for an unparseable record: all fields NULL.
      LS_RETURN_NOT_OK(sb->Append());
      for (int i = 0; i < sb->num_fields(); ++i) {
        LS_RETURN_NOT_OK(sb->field_builder(i)->AppendNull());
      }
    }
    bad_rows.push_back(rows);
    if (arrow::util::ValidateUTF8(src.text)) {
      LS_RETURN_NOT_OK(corrupt.Append(src.text));
    } else {
      LS_RETURN_NOT_OK(corrupt.Append(types::DecodeUtf8Lossy(src.text)));
    }
    ++rows;
    return Status::OK();
  };
  simdjson::dom::parser parser;
  LS_RETURN_NOT_OK(ForEachRecord(
      ctx.path, data, o, &parser,
      [&](simdjson::dom::element e, const RecordSource& src, int64_t index) -> Status {
        if (!e.is_object()) {
          return malformed(src, index, "a record must be a JSON object", false);
        }
        conv.error.clear();
        LS_RETURN_NOT_OK(conv.AppendStruct(sb, *record_type, e, nullptr));
        if (!conv.error.empty()) return malformed(src, index, conv.error, true);
        LS_RETURN_NOT_OK(corrupt.AppendNull());
        ++rows;
        return Status::OK();
      },
      [&](const RecordSource& src, int64_t index, const std::string& msg) {
        return malformed(src, index, msg, false);
      }));

  std::shared_ptr<arrow::Array> records, corrupt_array;
  LS_RETURN_NOT_OK(sb->Finish(&records));
  LS_RETURN_NOT_OK(corrupt.Finish(&corrupt_array));
  const auto& fields = static_cast<const arrow::StructArray&>(*records).fields();
  std::vector<std::shared_ptr<arrow::Array>> columns;
  size_t next = 0;
  for (int f : ctx.output_fields) {
    columns.push_back(f == ctx.corrupt_index ? corrupt_array : fields[next++]);
  }
  auto table = arrow::Table::Make(ctx.output_schema, columns, rows);
  if (o.mode == FileReadOptions::Mode::kDropMalformed && !bad_rows.empty()) {
    arrow::BooleanBuilder keep;
    LS_RETURN_NOT_OK(keep.Reserve(rows));
    size_t k = 0;
    for (int64_t r = 0; r < rows; ++r) {
      bool is_bad = k < bad_rows.size() && bad_rows[k] == r;
      if (is_bad) ++k;
      keep.UnsafeAppend(!is_bad);
    }
    std::shared_ptr<arrow::Array> mask;
    LS_RETURN_NOT_OK(keep.Finish(&mask));
    LS_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(table, mask));
    table = filtered.table();
  }
  return IterateTable(table, o.batch_size, ctx.metrics);
}

}  // namespace lakestream::formats::internal

namespace lakestream::formats {

struct JsonValueParser::Impl {
  FileReadOptions options;
  SchemaPtr schema;
  int corrupt_index = -1;
  std::shared_ptr<arrow::StructType> record_type;
  std::unique_ptr<arrow::ArrayBuilder> builder;
  arrow::StringBuilder corrupt;
  internal::Converter conv;
  simdjson::dom::parser parser;
  simdjson::padded_string buffer;
  std::vector<int64_t> dropped_after_append;  // DROPMALFORMED rows in `builder`, by position
};

JsonValueParser::JsonValueParser(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JsonValueParser::~JsonValueParser() = default;

Result<std::unique_ptr<JsonValueParser>> JsonValueParser::Make(const SchemaPtr& schema,
                                                               const FileReadOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->schema = schema;
  impl->corrupt_index = schema->GetFieldIndex(options.column_name_of_corrupt_record);
  std::vector<std::shared_ptr<arrow::Field>> read_fields;
  for (int i = 0; i < schema->num_fields(); ++i) {
    if (i != impl->corrupt_index) read_fields.push_back(schema->field(i));
  }
  impl->record_type = std::static_pointer_cast<arrow::StructType>(arrow::struct_(read_fields));
  LS_RETURN_NOT_OK(
      arrow::MakeBuilder(arrow::default_memory_pool(), impl->record_type, &impl->builder));
  impl->conv = internal::Converter{&impl->options, nullptr, nullptr, {}, {}};
  if (!options.timestamp_format.empty()) {
    LS_ASSIGN_OR_RAISE(auto f, internal::JavaPatternToStrptime(options.timestamp_format));
    impl->conv.ts_parser = arrow::TimestampParser::MakeStrptime(f);
  }
  return std::unique_ptr<JsonValueParser>(new JsonValueParser(std::move(impl)));
}

Result<bool> JsonValueParser::Append(const char* data, size_t size, bool is_null,
                                     const std::function<std::string()>& where) {
  Impl& m = *impl_;
  auto* sb = static_cast<arrow::StructBuilder*>(m.builder.get());
  const std::string_view text = is_null ? std::string_view() : std::string_view(data, size);
  std::string error;
  bool appended = false;
  if (is_null) {
    error = "the value is NULL";
  } else {
    // simdjson reads up to SIMDJSON_PADDING bytes past the end: the record's
    // own buffer gives no such promise, a reused padded copy does (and stays
    // in cache).
    if (m.buffer.size() < text.size()) m.buffer = simdjson::padded_string(text.size() * 2);
    std::memcpy(m.buffer.data(), text.data(), text.size());
    auto doc = m.parser.parse(m.buffer.data(), text.size(), /*realloc_if_needed=*/false);
    if (doc.error()) {
      error = simdjson::error_message(doc.error());
    } else if (!doc.value_unsafe().is_object()) {
      error = "a record must be a JSON object";
    } else {
      m.conv.error.clear();
      LS_RETURN_NOT_OK(m.conv.AppendStruct(sb, *m.record_type, doc.value_unsafe(), nullptr));
      appended = true;
      error = m.conv.error;
    }
  }
  if (error.empty()) {
    LS_RETURN_NOT_OK(m.corrupt.AppendNull());
    return true;
  }
  if (m.options.mode == FileReadOptions::Mode::kFailFast) {
    return UserError("malformed JSON record at {}: {} (mode FAILFAST)", where(), error);
  }
  ++malformed_;
  if (m.options.mode == FileReadOptions::Mode::kDropMalformed) {
    // The row was (partly) appended: Finish removes it.
    if (appended) {
      LS_RETURN_NOT_OK(m.corrupt.AppendNull());
      m.dropped_after_append.push_back(m.builder->length() - 1);
    }
    return false;
  }
  if (!appended) {
    LS_RETURN_NOT_OK(sb->Append());
    for (int i = 0; i < sb->num_fields(); ++i) LS_RETURN_NOT_OK(sb->field_builder(i)->AppendNull());
  }
  // The raw record as Spark keeps it: a STRING, so bytes that are not UTF-8 become U+FFFD.
  if (arrow::util::ValidateUTF8(text)) {
    LS_RETURN_NOT_OK(m.corrupt.Append(text));
  } else {
    LS_RETURN_NOT_OK(m.corrupt.Append(types::DecodeUtf8Lossy(text)));
  }
  return true;
}

Result<arrow::ArrayVector> JsonValueParser::Finish() {
  Impl& m = *impl_;
  std::shared_ptr<arrow::Array> records, corrupt_array;
  LS_RETURN_NOT_OK(m.builder->Finish(&records));
  LS_RETURN_NOT_OK(m.corrupt.Finish(&corrupt_array));
  if (!m.dropped_after_append.empty()) {
    // DROPMALFORMED rows that parsed as JSON but mismatched a type were
    // appended; filter them out (rare: only type mismatches get here).
    arrow::BooleanBuilder keep;
    LS_RETURN_NOT_OK(keep.Reserve(records->length()));
    size_t k = 0;
    for (int64_t i = 0; i < records->length(); ++i) {
      bool bad = k < m.dropped_after_append.size() && m.dropped_after_append[k] == i;
      if (bad) ++k;
      keep.UnsafeAppend(!bad);
    }
    std::shared_ptr<arrow::Array> mask;
    LS_RETURN_NOT_OK(keep.Finish(&mask));
    LS_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(records, mask));
    records = filtered.make_array();
    LS_ASSIGN_OR_RAISE(corrupt_array, arrow::MakeArrayOfNull(arrow::utf8(), records->length()));
  }
  m.dropped_after_append.clear();
  const auto& fields = static_cast<const arrow::StructArray&>(*records).fields();
  arrow::ArrayVector columns;
  size_t next = 0;
  for (int i = 0; i < m.schema->num_fields(); ++i) {
    columns.push_back(i == m.corrupt_index ? corrupt_array : fields[next++]);
  }
  return columns;
}

Result<ParsedValues> ParseJsonValues(const arrow::Array& values, const SchemaPtr& schema,
                                     const FileReadOptions& o,
                                     const std::function<std::string(int64_t)>& where) {
  if (values.type_id() != arrow::Type::BINARY && values.type_id() != arrow::Type::STRING) {
    return UserError("JSON values must be STRING or BINARY, got {}", types::ToDDL(*values.type()));
  }
  const auto& bin = static_cast<const arrow::BinaryArray&>(values);
  LS_ASSIGN_OR_RAISE(auto parser, JsonValueParser::Make(schema, o));
  ParsedValues out;
  int64_t r = 0;
  const std::function<std::string()> where_r = [&] { return where(r); };
  for (; r < bin.length(); ++r) {
    std::string_view text = bin.IsNull(r) ? std::string_view() : bin.GetView(r);
    LS_ASSIGN_OR_RAISE(bool kept, parser->Append(text.data(), text.size(), bin.IsNull(r), where_r));
    if (kept) out.kept.push_back(r);
  }
  out.malformed = parser->malformed();
  LS_ASSIGN_OR_RAISE(out.columns, parser->Finish());
  return out;
}

}  // namespace lakestream::formats
