// Spark's JSON functions (jsonExpressions.scala): from_json (PERMISSIVE mode:
// a malformed record gives a row of NULLs, a field of the wrong type NULL),
// to_json (Spark's text: no spaces, NULL struct fields omitted, timestamps as
// yyyy-MM-dd'T'HH:mm:ss[.SSS]XXX in the session zone), get_json_object,
// schema_of_json, json_array_length, json_object_keys. Parsing is simdjson's DOM.
#include <simdjson.h>

#include <arrow/util/decimal.h>

#include <cctype>
#include <cmath>
#include <optional>

#include "expr/datetime_format.h"
#include "expr/row_kernel_internal.h"
#include "types/value_format.h"

namespace lakestream::expr {

namespace {

using arrow::Datum;
using internal::CheckArity;
using internal::MapRows;
using internal::Rows;
using internal::TypeMismatch;
using types::TypePtr;
using internal::Call;
using Resolver = std::function<Result<ResolvedCall>(const CallSite&)>;
namespace dom = simdjson::dom;


void Add(FunctionRegistry* r, const std::string& name, Resolver resolve) {
  r->AddScalar(ScalarFunction{name, std::move(resolve)});
}

// ---------------------------------------------------------------------------
// Writing JSON text

void EscapeJson(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Text as Spark re-serializes parsed JSON (get_json_object of an object or
// array, from_json into STRING): Jackson's UTF8JsonGenerator writes a
// supplementary character as its escaped UTF-16 surrogate pair ("\uD83D\uDE00"),
// control characters as upper-case \u escapes, and everything else as UTF-8.
void EscapeJsonAsJackson(std::string_view s, std::string* out) {
  out->push_back('"');
  char buf[16];
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out->append("\\\"");
        continue;
      case '\\':
        out->append("\\\\");
        continue;
      case '\n':
        out->append("\\n");
        continue;
      case '\r':
        out->append("\\r");
        continue;
      case '\t':
        out->append("\\t");
        continue;
      case '\b':
        out->append("\\b");
        continue;
      case '\f':
        out->append("\\f");
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      std::snprintf(buf, sizeof(buf), "\\u%04X", c);
      out->append(buf);
    } else if (c >= 0xF0 && i + 3 < s.size()) {
      const uint32_t cp = ((c & 0x07u) << 18) |
                          ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
                          ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) |
                          (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
      const uint32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof(buf), "\\u%04X\\u%04X", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      out->append(buf);
      i += 3;
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

struct JsonWriter {
  TimeZone tz;
  DateTimeFormat ts_format;
  DateTimeFormat ntz_format;

  void WriteDouble(double v, std::string* out) const {
    if (std::isnan(v) || std::isinf(v)) {
      out->append(std::isnan(v) ? "\"NaN\"" : (v > 0 ? "\"Infinity\"" : "\"-Infinity\""));
    } else {
      out->append(types::FormatDouble(v));
    }
  }

  Status Write(const arrow::Array& a, int64_t i, std::string* out) const {
    if (a.IsNull(i)) {
      out->append("null");
      return Status::OK();
    }
    switch (a.type_id()) {
      case arrow::Type::BOOL:
        out->append(static_cast<const arrow::BooleanArray&>(a).Value(i) ? "true" : "false");
        return Status::OK();
      case arrow::Type::INT8:
        out->append(std::to_string(static_cast<const arrow::Int8Array&>(a).Value(i)));
        return Status::OK();
      case arrow::Type::INT16:
        out->append(std::to_string(static_cast<const arrow::Int16Array&>(a).Value(i)));
        return Status::OK();
      case arrow::Type::INT32:
        out->append(std::to_string(static_cast<const arrow::Int32Array&>(a).Value(i)));
        return Status::OK();
      case arrow::Type::INT64:
        out->append(std::to_string(static_cast<const arrow::Int64Array&>(a).Value(i)));
        return Status::OK();
      case arrow::Type::FLOAT: {
        float f = static_cast<const arrow::FloatArray&>(a).Value(i);
        if (std::isnan(f) || std::isinf(f)) {
          WriteDouble(f, out);
        } else {
          out->append(types::FormatFloat(f));
        }
        return Status::OK();
      }
      case arrow::Type::DOUBLE:
        WriteDouble(static_cast<const arrow::DoubleArray&>(a).Value(i), out);
        return Status::OK();
      case arrow::Type::DECIMAL128:
        out->append(static_cast<const arrow::Decimal128Array&>(a).FormatValue(i));
        return Status::OK();
      case arrow::Type::STRING:
        EscapeJson(static_cast<const arrow::StringArray&>(a).GetView(i), out);
        return Status::OK();
      case arrow::Type::BINARY: {
        types::FormatOptions fo;
        EscapeJson(types::FormatValue(a, i, fo), out);
        return Status::OK();
      }
      case arrow::Type::DATE32: {
        std::string s;
        int64_t y;
        unsigned m, d;
        CivilFromDays(static_cast<const arrow::Date32Array&>(a).Value(i), &y, &m, &d);
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
        EscapeJson(buf, out);
        return Status::OK();
      }
      case arrow::Type::TIMESTAMP: {
        int64_t v = static_cast<const arrow::TimestampArray&>(a).Value(i);
        std::string s;
        if (static_cast<const arrow::TimestampType&>(*a.type()).timezone().empty()) {
          ntz_format.Format(v, 0, TimeZone::Utc(), &s);
        } else {
          int32_t off = tz.OffsetAt(FloorDiv(v, kMicrosPerSecond));
          ts_format.Format(v + int64_t{off} * kMicrosPerSecond, off, tz, &s);
        }
        EscapeJson(s, out);
        return Status::OK();
      }
      case arrow::Type::LIST: {
        const auto& l = static_cast<const arrow::ListArray&>(a);
        out->push_back('[');
        for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
          if (j > l.value_offset(i)) out->push_back(',');
          LS_RETURN_NOT_OK(Write(*l.values(), j, out));
        }
        out->push_back(']');
        return Status::OK();
      }
      case arrow::Type::MAP: {
        const auto& m = static_cast<const arrow::MapArray&>(a);
        out->push_back('{');
        types::FormatOptions fo;
        fo.time_zone = tz.id();
        for (int64_t j = m.value_offset(i); j < m.value_offset(i + 1); ++j) {
          if (j > m.value_offset(i)) out->push_back(',');
          EscapeJson(types::FormatValue(*m.keys(), j, fo), out);
          out->push_back(':');
          LS_RETURN_NOT_OK(Write(*m.items(), j, out));
        }
        out->push_back('}');
        return Status::OK();
      }
      case arrow::Type::STRUCT: {
        const auto& s = static_cast<const arrow::StructArray&>(a);
        out->push_back('{');
        bool first = true;
        for (int f = 0; f < s.num_fields(); ++f) {
          const auto& child = *s.field(f);
          int64_t ci = i;  // struct children share the parent's offset through field()
          if (child.IsNull(ci)) continue;  // Spark's ignoreNullFields (default true)
          if (!first) out->push_back(',');
          first = false;
          EscapeJson(s.type()->field(f)->name(), out);
          out->push_back(':');
          LS_RETURN_NOT_OK(Write(child, ci, out));
        }
        out->push_back('}');
        return Status::OK();
      }
      default:
        return Unsupported("to_json of {} values", types::ToDDL(*a.type()));
    }
  }
};

Result<JsonWriter> MakeWriter(const EvalContext& ctx) {
  LS_ASSIGN_OR_RAISE(auto tz, TimeZone::Make(ctx.config ? ctx.config->time_zone : "UTC"));
  LS_ASSIGN_OR_RAISE(auto ts, DateTimeFormat::Compile("yyyy-MM-dd'T'HH:mm:ss.SSSXXX"));
  LS_ASSIGN_OR_RAISE(auto ntz, DateTimeFormat::Compile("yyyy-MM-dd'T'HH:mm:ss.SSS"));
  return JsonWriter{tz, ts, ntz};
}

Result<ResolvedCall> ResolveToJson(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "to_json", 1, 2, "(STRUCT or ARRAY or MAP[, MAP options])"));
  auto id = site.arg_types[0]->id();
  if (id != arrow::Type::STRUCT && id != arrow::Type::LIST && id != arrow::Type::MAP) {
    return TypeMismatch(site, "to_json", "(STRUCT or ARRAY or MAP)");
  }
  return Call(arrow::utf8(), std::vector<TypePtr>(site.arg_types.size(), nullptr),
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(auto writer, MakeWriter(ctx));
                std::string buf;
                return MapRows<arrow::StringBuilder>(
                    std::vector<Datum>{args[0]}, length, ctx, arrow::utf8(),
                    [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                      buf.clear();
                      LS_RETURN_NOT_OK(writer.Write(*r.arrays[0], i, &buf));
                      return b->Append(buf);
                    });
              });
}

/// Minified JSON text of a parsed element, numbers as Jackson writes them.
void DomToJson(const dom::element& e, std::string* out) {
  switch (e.type()) {
    case dom::element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      for (dom::element c : dom::array(e)) {
        if (!first) out->push_back(',');
        first = false;
        DomToJson(c, out);
      }
      out->push_back(']');
      break;
    }
    case dom::element_type::OBJECT: {
      out->push_back('{');
      bool first = true;
      for (dom::key_value_pair kv : dom::object(e)) {
        if (!first) out->push_back(',');
        first = false;
        EscapeJsonAsJackson(kv.key, out);
        out->push_back(':');
        DomToJson(kv.value, out);
      }
      out->push_back('}');
      break;
    }
    case dom::element_type::INT64: out->append(std::to_string(int64_t(e))); break;
    case dom::element_type::UINT64: out->append(std::to_string(uint64_t(e))); break;
    case dom::element_type::DOUBLE: out->append(types::FormatDouble(double(e))); break;
    case dom::element_type::STRING:
      EscapeJsonAsJackson(std::string_view(e), out);
      break;
    case dom::element_type::BOOL: out->append(bool(e) ? "true" : "false"); break;
    case dom::element_type::NULL_VALUE: out->append("null"); break;
  }
}

// ---------------------------------------------------------------------------
// from_json

struct JsonReader {
  TimeZone tz;
  std::vector<DateTimeFormat> ts_formats;
  DateTimeFormat date_format;

  /// Appends element e converted to the builder's type; false on a type mismatch
  /// (the caller appends NULL instead).
  Result<bool> Read(const dom::element& e, const arrow::DataType& t, arrow::ArrayBuilder* b) const {
    auto et = e.type();
    if (et == dom::element_type::NULL_VALUE) {
      LS_RETURN_NOT_OK(b->AppendNull());
      return true;
    }
    switch (t.id()) {
      case arrow::Type::BOOL:
        if (et != dom::element_type::BOOL) return false;
        LS_RETURN_NOT_OK(static_cast<arrow::BooleanBuilder*>(b)->Append(bool(e)));
        return true;
      case arrow::Type::INT8:
      case arrow::Type::INT16:
      case arrow::Type::INT32:
      case arrow::Type::INT64: {
        if (et != dom::element_type::INT64) return false;
        int64_t v = int64_t(e);
        int bits = t.byte_width() * 8;
        if (bits < 64 && (v < -(int64_t{1} << (bits - 1)) || v >= (int64_t{1} << (bits - 1)))) {
          return false;
        }
        switch (t.id()) {
          case arrow::Type::INT8:
            LS_RETURN_NOT_OK(static_cast<arrow::Int8Builder*>(b)->Append(static_cast<int8_t>(v)));
            break;
          case arrow::Type::INT16:
            LS_RETURN_NOT_OK(static_cast<arrow::Int16Builder*>(b)->Append(static_cast<int16_t>(v)));
            break;
          case arrow::Type::INT32:
            LS_RETURN_NOT_OK(static_cast<arrow::Int32Builder*>(b)->Append(static_cast<int32_t>(v)));
            break;
          default:
            LS_RETURN_NOT_OK(static_cast<arrow::Int64Builder*>(b)->Append(v));
        }
        return true;
      }
      case arrow::Type::FLOAT:
      case arrow::Type::DOUBLE: {
        double v;
        if (et == dom::element_type::DOUBLE) {
          v = double(e);
        } else if (et == dom::element_type::INT64) {
          v = static_cast<double>(int64_t(e));
        } else if (et == dom::element_type::UINT64) {
          v = static_cast<double>(uint64_t(e));
        } else if (et == dom::element_type::STRING) {
          // allowNonNumericNumbers: "NaN", "Infinity", "-Infinity" as strings.
          std::string_view s(e);
          if (s == "NaN") {
            v = std::nan("");
          } else if (s == "Infinity" || s == "+Infinity" || s == "+INF" || s == "INF") {
            v = INFINITY;
          } else if (s == "-Infinity" || s == "-INF") {
            v = -INFINITY;
          } else {
            return false;
          }
        } else {
          return false;
        }
        if (t.id() == arrow::Type::FLOAT) {
          LS_RETURN_NOT_OK(static_cast<arrow::FloatBuilder*>(b)->Append(static_cast<float>(v)));
        } else {
          LS_RETURN_NOT_OK(static_cast<arrow::DoubleBuilder*>(b)->Append(v));
        }
        return true;
      }
      case arrow::Type::DECIMAL128: {
        const auto& dt = static_cast<const arrow::Decimal128Type&>(t);
        arrow::Result<arrow::Decimal128> d;
        if (et == dom::element_type::INT64) {
          d = arrow::Decimal128(int64_t(e)).Rescale(0, dt.scale());
        } else if (et == dom::element_type::DOUBLE) {
          d = arrow::Decimal128::FromReal(double(e), dt.precision(), dt.scale());
        } else {
          return false;
        }
        if (!d.ok() || !d->FitsInPrecision(dt.precision())) return false;
        LS_RETURN_NOT_OK(static_cast<arrow::Decimal128Builder*>(b)->Append(*d));
        return true;
      }
      case arrow::Type::STRING: {
        auto* sb = static_cast<arrow::StringBuilder*>(b);
        if (et == dom::element_type::STRING) {
          LS_RETURN_NOT_OK(sb->Append(std::string_view(e)));
        } else {
          std::string text;  // Spark keeps a non-string value's JSON text
          DomToJson(e, &text);
          LS_RETURN_NOT_OK(sb->Append(text));
        }
        return true;
      }
      case arrow::Type::DATE32:
      case arrow::Type::TIMESTAMP: {
        if (et != dom::element_type::STRING) return false;
        std::string_view s(e);
        bool is_date = t.id() == arrow::Type::DATE32;
        bool ntz = !is_date && static_cast<const arrow::TimestampType&>(t).timezone().empty();
        ParsedDateTime p;
        size_t idx;
        int64_t v;
        bool ok = false;
        if (is_date) {
          ok = date_format.Parse(s, &p, &idx) && ResolveParsedLocal(p, &v);
          if (ok) v = FloorDiv(v, kMicrosPerDay);
        } else {
          for (const auto& f : ts_formats) {
            if (f.Parse(s, &p, &idx)) {
              ok = ntz ? ResolveParsedLocal(p, &v) : ResolveParsed(p, tz, &v);
              if (ok) break;
            }
          }
        }
        if (!ok) return false;
        if (is_date) {
          LS_RETURN_NOT_OK(static_cast<arrow::Date32Builder*>(b)->Append(static_cast<int32_t>(v)));
        } else {
          LS_RETURN_NOT_OK(static_cast<arrow::TimestampBuilder*>(b)->Append(v));
        }
        return true;
      }
      case arrow::Type::LIST:
      case arrow::Type::MAP: {
        // An element that does not convert fails the whole array or map (Spark:
        // from_json('{"a": [1, "x"]}', 'a ARRAY<INT>') is {null}), so the value
        // is built aside and appended only when every element converted.
        bool is_list = t.id() == arrow::Type::LIST;
        if (et != (is_list ? dom::element_type::ARRAY : dom::element_type::OBJECT)) return false;
        std::unique_ptr<arrow::ArrayBuilder> tmp;
        LS_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), t.GetSharedPtr(), &tmp));
        if (is_list) {
          auto* lb = static_cast<arrow::ListBuilder*>(tmp.get());
          LS_RETURN_NOT_OK(lb->Append());
          const auto& vt = *t.field(0)->type();
          for (dom::element c : dom::array(e)) {
            LS_ASSIGN_OR_RAISE(bool ok, Read(c, vt, lb->value_builder()));
            if (!ok) return false;
          }
        } else {
          auto* mb = static_cast<arrow::MapBuilder*>(tmp.get());
          const auto& mt = static_cast<const arrow::MapType&>(t);
          LS_RETURN_NOT_OK(mb->Append());
          for (dom::key_value_pair kv : dom::object(e)) {
            LS_RETURN_NOT_OK(static_cast<arrow::StringBuilder*>(mb->key_builder())->Append(kv.key));
            LS_ASSIGN_OR_RAISE(bool ok, Read(kv.value, *mt.item_type(), mb->item_builder()));
            if (!ok) return false;
          }
        }
        std::shared_ptr<arrow::Array> one;
        LS_RETURN_NOT_OK(tmp->Finish(&one));
        LS_RETURN_NOT_OK(b->AppendArraySlice(arrow::ArraySpan(*one->data()), 0, 1));
        return true;
      }
      case arrow::Type::STRUCT: {
        if (et != dom::element_type::OBJECT) return false;
        auto* sb = static_cast<arrow::StructBuilder*>(b);
        LS_RETURN_NOT_OK(sb->Append());
        // A key given twice takes its last value, as in Spark.
        std::vector<std::optional<dom::element>> values(t.num_fields());
        for (dom::key_value_pair kv : dom::object(e)) {
          for (int f = 0; f < t.num_fields(); ++f) {
            if (kv.key == t.field(f)->name()) values[f] = kv.value;
          }
        }
        for (int f = 0; f < t.num_fields(); ++f) {
          auto* fb = sb->field_builder(f);
          if (!values[f]) {
            LS_RETURN_NOT_OK(fb->AppendNull());
            continue;
          }
          dom::element v = *values[f];
          LS_ASSIGN_OR_RAISE(bool ok, Read(v, *t.field(f)->type(), fb));
          if (!ok) LS_RETURN_NOT_OK(fb->AppendNull());
        }
        return true;
      }
      default:
        return Unsupported("from_json into {}", types::ToDDL(t));
    }
  }
};

Result<JsonReader> MakeReader(const EvalContext& ctx) {
  JsonReader r;
  LS_ASSIGN_OR_RAISE(r.tz, TimeZone::Make(ctx.config ? ctx.config->time_zone : "UTC"));
  for (const char* p : {"yyyy-MM-dd'T'HH:mm:ss[.SSSSSSSSS][XXX]", "yyyy-MM-dd HH:mm:ss[.SSSSSSSSS][XXX]",
                        "yyyy-MM-dd[XXX]"}) {
    LS_ASSIGN_OR_RAISE(auto f, DateTimeFormat::Compile(p));
    r.ts_formats.push_back(std::move(f));
  }
  LS_ASSIGN_OR_RAISE(r.date_format, DateTimeFormat::Compile("yyyy-MM-dd"));
  return r;
}

/// The schema argument of from_json: a DDL type ("ARRAY<INT>") or field list ("a INT, b STRING").
Result<TypePtr> ParseJsonSchema(std::string_view ddl) {
  auto t = types::ParseDDLType(ddl);
  if (t.ok() && ((*t)->id() == arrow::Type::STRUCT || (*t)->id() == arrow::Type::LIST ||
                 (*t)->id() == arrow::Type::MAP)) {
    return *t;
  }
  auto s = types::ParseDDLSchema(ddl);
  if (!s.ok()) {
    return UserError("[INVALID_SCHEMA.PARSE_ERROR] The input schema '{}' is not a valid schema "
                     "string: {}",
                     ddl, s.status().message());
  }
  return arrow::struct_((*s)->fields());
}

Result<ResolvedCall> ResolveFromJson(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "from_json", 2, 3, "(STRING, STRING schema[, MAP options])"));
  if (!internal::IsStringCoercible(*site.arg_types[0])) {
    return TypeMismatch(site, "from_json", "(STRING, STRING schema)");
  }
  std::string storage;
  const std::string* ddl = internal::LiteralString(site, 1, &storage);
  if (!ddl) {
    return UserError(
        "[INVALID_SCHEMA.NON_STRING_LITERAL] The input schema of from_json must be a string "
        "literal such as 'a INT, b STRING' (or schema_of_json of a literal)");
  }
  LS_ASSIGN_OR_RAISE(TypePtr out, ParseJsonSchema(*ddl));
  // Options map: only `mode` changes anything here (PERMISSIVE, the default,
  // or FAILFAST: a malformed record is an error).
  bool failfast = false;
  if (site.arg_types.size() > 2) {
    const auto& opts = site.literal_args[2];
    if (!opts || opts->type->id() != arrow::Type::MAP) {
      return UserError("[INVALID_OPTIONS.NON_MAP_FUNCTION] from_json options must be a literal map such as "
                       "map('mode', 'FAILFAST')");
    }
    const auto& m = static_cast<const arrow::MapScalar&>(*opts);
    if (m.is_valid && m.value) {
      const auto& entries = static_cast<const arrow::StructArray&>(*m.value);
      for (int64_t i = 0; i < entries.length(); ++i) {
        LS_ASSIGN_OR_RAISE(auto k, entries.field(0)->GetScalar(i));
        LS_ASSIGN_OR_RAISE(auto v, entries.field(1)->GetScalar(i));
        if (!k->is_valid || !v->is_valid) continue;
        auto lower = [](std::string x) {
          for (auto& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          return x;
        };
        if (lower(k->ToString()) != "mode") continue;
        std::string mode = lower(v->ToString());
        if (mode == "failfast") {
          failfast = true;
        } else if (mode != "permissive") {
          return UserError("[PARSE_MODE_UNSUPPORTED] from_json supports the PERMISSIVE and FAILFAST modes, not {}",
                           v->ToString());
        }
      }
    }
  }
  std::vector<TypePtr> casts(site.arg_types.size(), nullptr);
  casts[0] = arrow::utf8();
  auto rc = Call(out, casts,
                 [out, failfast](const std::vector<Datum>& args, int64_t length,
                       const EvalContext& ctx) -> Result<Datum> {
                   LS_ASSIGN_OR_RAISE(auto reader, MakeReader(ctx));
                   dom::parser parser;
                   return MapRows<arrow::ArrayBuilder>(
                       std::vector<Datum>{args[0]}, length, ctx, out,
                       [&](const Rows& r, int64_t i, arrow::ArrayBuilder* b) -> Status {
                         auto s = r.Str(0, i);
                         // An empty (or blank) string is NULL, not a malformed record.
                         if (s.find_first_not_of(" \t\r\n") == std::string_view::npos) return b->AppendNull();
                         dom::element doc;
                         bool ok = parser.parse(s.data(), s.size(), true).get(doc) == simdjson::SUCCESS;
                         if (ok) {
                           // Spark: a single object against an ARRAY<STRUCT> schema is a one-element array.
                           if (out->id() == arrow::Type::LIST && doc.type() == dom::element_type::OBJECT &&
                               out->field(0)->type()->id() == arrow::Type::STRUCT) {
                             auto* lb = static_cast<arrow::ListBuilder*>(b);
                             LS_RETURN_NOT_OK(lb->Append());
                             LS_ASSIGN_OR_RAISE(bool okv, reader.Read(doc, *out->field(0)->type(),
                                                                      lb->value_builder()));
                             if (!okv) LS_RETURN_NOT_OK(lb->value_builder()->AppendNull());
                             return Status::OK();
                           }
                           if (doc.type() == dom::element_type::NULL_VALUE) return b->AppendNull();
                           LS_ASSIGN_OR_RAISE(ok, reader.Read(doc, *out, b));
                         }
                         if (ok) return Status::OK();
                         if (failfast) {
                           return ExecutionError(
                               "[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected in "
                               "record parsing: {}. Parse Mode: FAILFAST. To process malformed records as null "
                               "result, try setting the option 'mode' as 'PERMISSIVE'.",
                               s);
                         }
                         // PERMISSIVE: a malformed struct record is a struct of NULLs;
                         // arrays and maps are NULL.
                         if (out->id() == arrow::Type::STRUCT) {
                           auto* sb = static_cast<arrow::StructBuilder*>(b);
                           LS_RETURN_NOT_OK(sb->Append());
                           for (int f = 0; f < sb->num_fields(); ++f) {
                             LS_RETURN_NOT_OK(sb->field_builder(f)->AppendNull());
                           }
                           return Status::OK();
                         }
                         return b->AppendNull();
                       });
                 });
  return rc;
}

// ---------------------------------------------------------------------------
// get_json_object

struct PathStep {
  enum Kind { kKey, kIndex, kWildcard } kind;
  std::string key;
  int64_t index = 0;
};

/// Spark's JSON path subset: $ then .name, ['name'], [n], [*], .*; nullopt if invalid.
std::optional<std::vector<PathStep>> ParsePath(std::string_view p) {
  if (p.empty() || p[0] != '$') return std::nullopt;
  std::vector<PathStep> steps;
  size_t i = 1;
  while (i < p.size()) {
    if (p[i] == '.') {
      ++i;
      size_t j = i;
      while (j < p.size() && p[j] != '.' && p[j] != '[') ++j;
      if (j == i) return std::nullopt;
      std::string key(p.substr(i, j - i));
      if (key == "*") {
        steps.push_back({PathStep::kWildcard, {}, 0});
      } else {
        steps.push_back({PathStep::kKey, key, 0});
      }
      i = j;
    } else if (p[i] == '[') {
      size_t j = p.find(']', i);
      if (j == std::string_view::npos) return std::nullopt;
      std::string_view inner = p.substr(i + 1, j - i - 1);
      if (inner == "*") {
        steps.push_back({PathStep::kWildcard, {}, 0});
      } else if (inner.size() >= 2 && inner.front() == '\'' && inner.back() == '\'') {
        steps.push_back({PathStep::kKey, std::string(inner.substr(1, inner.size() - 2)), 0});
      } else {
        if (inner.empty()) return std::nullopt;
        int64_t n = 0;
        for (char c : inner) {
          if (c < '0' || c > '9') return std::nullopt;
          n = n * 10 + (c - '0');
        }
        steps.push_back({PathStep::kIndex, {}, n});
      }
      i = j + 1;
    } else {
      return std::nullopt;
    }
  }
  return steps;
}

/// Collects the elements matching steps[k..] under e.
void Walk(const dom::element& e, const std::vector<PathStep>& steps, size_t k,
          std::vector<dom::element>* out, bool* wildcard) {
  if (k == steps.size()) {
    out->push_back(e);
    return;
  }
  const auto& s = steps[k];
  if (s.kind == PathStep::kKey) {
    if (e.type() != dom::element_type::OBJECT) return;
    dom::element v;
    if (dom::object(e).at_key(s.key).get(v) == simdjson::SUCCESS) Walk(v, steps, k + 1, out, wildcard);
  } else if (s.kind == PathStep::kIndex) {
    if (e.type() != dom::element_type::ARRAY) return;
    dom::element v;
    if (dom::array(e).at(s.index).get(v) == simdjson::SUCCESS) Walk(v, steps, k + 1, out, wildcard);
  } else {
    *wildcard = true;
    if (e.type() == dom::element_type::ARRAY) {
      for (dom::element c : dom::array(e)) Walk(c, steps, k + 1, out, wildcard);
    } else if (e.type() == dom::element_type::OBJECT) {
      for (dom::key_value_pair kv : dom::object(e)) Walk(kv.value, steps, k + 1, out, wildcard);
    }
  }
}

Result<ResolvedCall> ResolveGetJsonObject(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "get_json_object", 2, 2, "(STRING json, STRING path)"));
  if (!internal::IsStringCoercible(*site.arg_types[0]) || !internal::IsStringCoercible(*site.arg_types[1])) {
    return TypeMismatch(site, "get_json_object", "(STRING, STRING)");
  }
  std::shared_ptr<std::vector<PathStep>> fixed;
  std::string storage;
  bool bad_literal = false;
  if (const std::string* p = internal::LiteralString(site, 1, &storage)) {
    auto steps = ParsePath(*p);
    if (steps) {
      fixed = std::make_shared<std::vector<PathStep>>(std::move(*steps));
    } else {
      bad_literal = true;
    }
  }
  return Call(arrow::utf8(), {arrow::utf8(), arrow::utf8()},
              [fixed, bad_literal](const std::vector<Datum>& args, int64_t length,
                                   const EvalContext& ctx) -> Result<Datum> {
                dom::parser parser;
                std::vector<dom::element> hits;
                std::string buf;
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, arrow::utf8(),
                    [&](const Rows& r, int64_t i, arrow::StringBuilder* b) -> Status {
                      if (bad_literal) return b->AppendNull();
                      std::optional<std::vector<PathStep>> dyn;
                      const std::vector<PathStep>* steps = fixed.get();
                      if (!steps) {
                        dyn = ParsePath(r.Str(1, i));
                        if (!dyn) return b->AppendNull();
                        steps = &*dyn;
                      }
                      auto s = r.Str(0, i);
                      dom::element doc;
                      if (parser.parse(s.data(), s.size(), true).get(doc) != simdjson::SUCCESS) {
                        return b->AppendNull();
                      }
                      hits.clear();
                      bool wildcard = false;
                      Walk(doc, *steps, 0, &hits, &wildcard);
                      if (hits.empty()) return b->AppendNull();
                      buf.clear();
                      if (hits.size() == 1 && !wildcard) {
                        const auto& h = hits[0];
                        if (h.type() == dom::element_type::NULL_VALUE) return b->AppendNull();
                        if (h.type() == dom::element_type::STRING) return b->Append(std::string_view(h));
                        DomToJson(h, &buf);
                        return b->Append(buf);
                      }
                      buf.push_back('[');
                      for (size_t k = 0; k < hits.size(); ++k) {
                        if (k) buf.push_back(',');
                        DomToJson(hits[k], &buf);
                      }
                      buf.push_back(']');
                      return b->Append(buf);
                    });
              });
}

// ---------------------------------------------------------------------------
// schema_of_json, json_array_length, json_object_keys

/// Spark's JSON schema inference: integers BIGINT, other numbers DOUBLE,
/// null STRING, object fields sorted by name, array elements widened.
TypePtr InferType(const dom::element& e);

TypePtr Widen(const TypePtr& a, const TypePtr& b) {
  if (!a) return b;
  if (!b) return a;
  if (a->Equals(*b)) return a;
  if (a->id() == arrow::Type::NA) return b;
  if (b->id() == arrow::Type::NA) return a;
  bool an = a->id() == arrow::Type::INT64 || a->id() == arrow::Type::DOUBLE;
  bool bn = b->id() == arrow::Type::INT64 || b->id() == arrow::Type::DOUBLE;
  if (an && bn) return arrow::float64();
  if (a->id() == arrow::Type::STRUCT && b->id() == arrow::Type::STRUCT) {
    std::map<std::string, TypePtr> fields;
    for (const auto& f : a->fields()) fields[f->name()] = f->type();
    for (const auto& f : b->fields()) fields[f->name()] = Widen(fields[f->name()], f->type());
    std::vector<std::shared_ptr<arrow::Field>> out;
    for (auto& [n, t] : fields) out.push_back(arrow::field(n, t));
    return arrow::struct_(out);
  }
  if (a->id() == arrow::Type::LIST && b->id() == arrow::Type::LIST) {
    return arrow::list(Widen(a->field(0)->type(), b->field(0)->type()));
  }
  return arrow::utf8();
}

TypePtr InferType(const dom::element& e) {
  switch (e.type()) {
    case dom::element_type::INT64:
    case dom::element_type::UINT64: return arrow::int64();
    case dom::element_type::DOUBLE: return arrow::float64();
    case dom::element_type::STRING: return arrow::utf8();
    case dom::element_type::BOOL: return arrow::boolean();
    case dom::element_type::NULL_VALUE: return arrow::null();
    case dom::element_type::ARRAY: {
      TypePtr t;
      for (dom::element c : dom::array(e)) t = Widen(t, InferType(c));
      return arrow::list(t ? t : arrow::null());
    }
    case dom::element_type::OBJECT: {
      std::map<std::string, TypePtr> fields;
      for (dom::key_value_pair kv : dom::object(e)) {
        fields[std::string(kv.key)] = Widen(fields[std::string(kv.key)], InferType(kv.value));
      }
      std::vector<std::shared_ptr<arrow::Field>> out;
      for (auto& [n, t] : fields) out.push_back(arrow::field(n, t));
      return arrow::struct_(out);
    }
  }
  return arrow::utf8();
}

/// NULL (no value seen) becomes STRING, as Spark's canonicalizeType.
TypePtr Canonical(const TypePtr& t) {
  switch (t->id()) {
    case arrow::Type::NA: return arrow::utf8();
    case arrow::Type::LIST: return arrow::list(Canonical(t->field(0)->type()));
    case arrow::Type::STRUCT: {
      std::vector<std::shared_ptr<arrow::Field>> out;
      for (const auto& f : t->fields()) out.push_back(arrow::field(f->name(), Canonical(f->type())));
      return arrow::struct_(out);
    }
    default: return t;
  }
}

Result<ResolvedCall> ResolveSchemaOfJson(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "schema_of_json", 1, 2, "(STRING json literal[, MAP options])"));
  std::string storage;
  const std::string* lit = internal::LiteralString(site, 0, &storage);
  if (!lit) {
    return UserError(
        "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] The input `json` of schema_of_json must be a "
        "string literal");
  }
  dom::parser parser;
  dom::element doc;
  if (parser.parse(lit->data(), lit->size(), true).get(doc) != simdjson::SUCCESS) {
    return UserError("schema_of_json: cannot parse the JSON literal '{}'", *lit);
  }
  std::string ddl = types::ToDDL(*Canonical(InferType(doc)));
  auto rc = Call(arrow::utf8(), std::vector<TypePtr>(site.arg_types.size(), nullptr),
                 [ddl](const std::vector<Datum>& args, int64_t length,
                       const EvalContext& ctx) -> Result<Datum> {
                   return Datum(std::make_shared<arrow::StringScalar>(ddl));
                 });
  rc.null_intolerant = false;
  return rc;
}

Result<ResolvedCall> ResolveJsonArrayLength(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "json_array_length", 1, 1, "(STRING)"));
  if (!internal::IsStringCoercible(*site.arg_types[0])) {
    return TypeMismatch(site, "json_array_length", "(STRING)");
  }
  return Call(arrow::int32(), {arrow::utf8()},
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                dom::parser parser;
                return MapRows<arrow::Int32Builder>(
                    args, length, ctx, arrow::int32(), [&](const Rows& r, int64_t i, arrow::Int32Builder* b) {
                      auto s = r.Str(0, i);
                      dom::element doc;
                      if (parser.parse(s.data(), s.size(), true).get(doc) != simdjson::SUCCESS ||
                          doc.type() != dom::element_type::ARRAY) {
                        return b->AppendNull();
                      }
                      return b->Append(static_cast<int32_t>(dom::array(doc).size()));
                    });
              });
}

Result<ResolvedCall> ResolveJsonObjectKeys(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "json_object_keys", 1, 1, "(STRING)"));
  if (!internal::IsStringCoercible(*site.arg_types[0])) {
    return TypeMismatch(site, "json_object_keys", "(STRING)");
  }
  TypePtr out = arrow::list(arrow::utf8());
  return Call(out, {arrow::utf8()},
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                dom::parser parser;
                return MapRows<arrow::ListBuilder>(
                    args, length, ctx, out, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      auto s = r.Str(0, i);
                      dom::element doc;
                      if (parser.parse(s.data(), s.size(), true).get(doc) != simdjson::SUCCESS ||
                          doc.type() != dom::element_type::OBJECT) {
                        return b->AppendNull();
                      }
                      LS_RETURN_NOT_OK(b->Append());
                      auto* vb = static_cast<arrow::StringBuilder*>(b->value_builder());
                      for (dom::key_value_pair kv : dom::object(doc)) LS_RETURN_NOT_OK(vb->Append(kv.key));
                      return Status::OK();
                    });
              });
}

}  // namespace

void RegisterJsonFunctions(FunctionRegistry* r) {
  Add(r, "from_json", ResolveFromJson);
  Add(r, "to_json", ResolveToJson);
  Add(r, "get_json_object", ResolveGetJsonObject);
  Add(r, "schema_of_json", ResolveSchemaOfJson);
  Add(r, "json_array_length", ResolveJsonArrayLength);
  Add(r, "json_object_keys", ResolveJsonObjectKeys);
}

}  // namespace lakestream::expr
