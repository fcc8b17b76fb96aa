// Delta Lake schema JSON <-> Arrow schema (Delta PROTOCOL.md, "Schema
// Serialization Format"): {"type":"struct","fields":[{"name","type","nullable",
// "metadata"}]}, primitive type names, "array" and "map" objects.
//
// Field metadata is a JSON object whose values may be strings, numbers,
// booleans or nested JSON; Arrow metadata holds only strings. String values are
// kept as their text; any other value is kept as its raw (minified) JSON text.
// To write those back with their JSON type, keys Delta defines as numbers or
// booleans are written raw when their text is a valid literal of that kind,
// and any other key that held a non-string value is listed under
// kJsonValuedKeysMetadataKey on the same field.
#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>
#include <simdjson.h>

#include <charconv>
#include <string>
#include <vector>

#include "types/types.h"

namespace lakestream::types {

namespace {

// Keys the Delta protocol (column mapping, identity columns) and Spark's
// Parquet field ids define as JSON numbers or booleans.
constexpr std::string_view kIntegerKeys[] = {"delta.columnMapping.id", "parquet.field.id",
                                             "delta.identity.start", "delta.identity.step",
                                             "delta.identity.highWaterMark"};
constexpr std::string_view kBooleanKeys[] = {"delta.identity.allowExplicitInsert"};

bool IsIntegerText(std::string_view s) {
  if (s.empty()) return false;
  int64_t v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          *out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// ---------------------------------------------------------------------------
// JSON -> Arrow.

class DeltaSchemaReader {
 public:
  Result<TypePtr> ReadType(simdjson::dom::element e, const std::string& path, int depth) {
    if (depth > 256) return Fail(path, "types nested too deep");
    if (e.is_string()) return ReadPrimitive(std::string_view(e.get_string().value_unsafe()), path);
    if (!e.is_object()) return Fail(path, "expected a type name or a type object");
    simdjson::dom::object obj = e.get_object().value_unsafe();
    std::string_view kind;
    if (obj["type"].get_string().get(kind) != simdjson::SUCCESS) {
      return Fail(path, "expected a string member \"type\"");
    }
    if (kind == "struct") {
      LS_ASSIGN_OR_RAISE(auto fields, ReadFields(obj, path, depth));
      return arrow::struct_(std::move(fields));
    }
    if (kind == "array") {
      simdjson::dom::element elem;
      if (obj["elementType"].get(elem) != simdjson::SUCCESS) {
        return Fail(path, "array type without \"elementType\"");
      }
      LS_ASSIGN_OR_RAISE(auto elem_type, ReadType(elem, path + ".element", depth + 1));
      bool contains_null = true;
      LS_RETURN_NOT_OK(ReadBool(obj, "containsNull", path, &contains_null));
      return arrow::list(arrow::field("item", std::move(elem_type), contains_null));
    }
    if (kind == "map") {
      simdjson::dom::element k, v;
      if (obj["keyType"].get(k) != simdjson::SUCCESS || obj["valueType"].get(v) != simdjson::SUCCESS) {
        return Fail(path, "map type without \"keyType\" and \"valueType\"");
      }
      LS_ASSIGN_OR_RAISE(auto key_type, ReadType(k, path + ".key", depth + 1));
      LS_ASSIGN_OR_RAISE(auto value_type, ReadType(v, path + ".value", depth + 1));
      bool value_contains_null = true;
      LS_RETURN_NOT_OK(ReadBool(obj, "valueContainsNull", path, &value_contains_null));
      return std::make_shared<arrow::MapType>(
          arrow::field("key", std::move(key_type), false),
          arrow::field("value", std::move(value_type), value_contains_null));
    }
    return ReadPrimitive(kind, path);
  }

  Result<std::vector<std::shared_ptr<arrow::Field>>> ReadFields(simdjson::dom::object obj,
                                                                const std::string& path, int depth) {
    simdjson::dom::array arr;
    if (obj["fields"].get_array().get(arr) != simdjson::SUCCESS) {
      return Fail(path, "struct type without a \"fields\" array");
    }
    std::vector<std::shared_ptr<arrow::Field>> fields;
    for (simdjson::dom::element fe : arr) {
      simdjson::dom::object fo;
      if (fe.get_object().get(fo) != simdjson::SUCCESS) return Fail(path, "a field must be an object");
      std::string_view name;
      if (fo["name"].get_string().get(name) != simdjson::SUCCESS) {
        return Fail(path, "a field without a string \"name\"");
      }
      std::string field_path = path.empty() ? std::string(name) : path + "." + std::string(name);
      simdjson::dom::element te;
      if (fo["type"].get(te) != simdjson::SUCCESS) return Fail(field_path, "field without \"type\"");
      LS_ASSIGN_OR_RAISE(auto type, ReadType(te, field_path, depth + 1));
      bool nullable = true;
      LS_RETURN_NOT_OK(ReadBool(fo, "nullable", field_path, &nullable));
      LS_ASSIGN_OR_RAISE(auto metadata, ReadMetadata(fo, field_path));
      fields.push_back(arrow::field(std::string(name), std::move(type), nullable, std::move(metadata)));
    }
    return fields;
  }

 private:
  template <typename... Args>
  static Status Fail(const std::string& path, fmt::format_string<Args...> f, Args&&... args) {
    return UserError("invalid Delta schema JSON at field '{}': {}", path,
                     fmt::format(f, std::forward<Args>(args)...));
  }

  static Status ReadBool(simdjson::dom::object obj, std::string_view key, const std::string& path,
                         bool* out) {
    simdjson::dom::element e;
    if (obj[key].get(e) != simdjson::SUCCESS) return Status::OK();  // absent: keep the default
    if (!e.is_bool()) return Fail(path, "\"{}\" must be true or false", key);
    *out = e.get_bool().value_unsafe();
    return Status::OK();
  }

  static Result<std::shared_ptr<arrow::KeyValueMetadata>> ReadMetadata(simdjson::dom::object fo,
                                                                       const std::string& path) {
    simdjson::dom::element me;
    if (fo["metadata"].get(me) != simdjson::SUCCESS) return nullptr;
    simdjson::dom::object mo;
    if (me.get_object().get(mo) != simdjson::SUCCESS) return Fail(path, "\"metadata\" must be an object");
    std::vector<std::string> keys, values;
    std::vector<std::string> json_valued;
    for (auto [key, value] : mo) {
      keys.emplace_back(key);
      if (value.is_string()) {
        values.emplace_back(value.get_string().value_unsafe());
        continue;
      }
      values.push_back(simdjson::to_string(value));
      bool well_known = false;
      for (auto k : kIntegerKeys) well_known |= key == k && IsIntegerText(values.back());
      for (auto k : kBooleanKeys) well_known |= key == k && value.is_bool();
      if (!well_known) json_valued.emplace_back(key);
    }
    if (!json_valued.empty()) {
      std::string list = "[";
      for (size_t i = 0; i < json_valued.size(); ++i) {
        if (i > 0) list += ",";
        AppendJsonString(json_valued[i], &list);
      }
      keys.emplace_back(kJsonValuedKeysMetadataKey);
      values.push_back(list + "]");
    }
    if (keys.empty()) return nullptr;
    return arrow::key_value_metadata(std::move(keys), std::move(values));
  }

  static Result<TypePtr> ReadPrimitive(std::string_view name, const std::string& path) {
    if (name == "string") return arrow::utf8();
    if (name == "long") return arrow::int64();
    if (name == "integer") return arrow::int32();
    if (name == "short") return arrow::int16();
    if (name == "byte") return arrow::int8();
    if (name == "float") return arrow::float32();
    if (name == "double") return arrow::float64();
    if (name == "boolean") return arrow::boolean();
    if (name == "binary") return arrow::binary();
    if (name == "date") return arrow::date32();
    if (name == "timestamp") return Timestamp();
    if (name == "timestamp_ntz") return TimestampNtz();
    if (name == "void") return arrow::null();
    if (name == "decimal") return arrow::decimal128(10, 0);
    if (name.substr(0, 8) == "decimal(" || name.substr(0, 8) == "varchar(" ||
        name.substr(0, 5) == "char(" || name.substr(0, 8) == "interval") {
      // Same spelling as Spark's DDL: reuse the DDL parser for the details.
      auto type = ParseDDLType(name);
      if (type.ok()) return type;
      return Fail(path, "invalid type \"{}\": {}", name, type.status().message());
    }
    return Fail(path, "unknown type \"{}\"", name);
  }
};

// ---------------------------------------------------------------------------
// Arrow -> JSON.

std::string PrimitiveName(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::STRING:
      return "string";
    case arrow::Type::INT64:
      return "long";
    case arrow::Type::INT32:
      return "integer";
    case arrow::Type::INT16:
      return "short";
    case arrow::Type::INT8:
      return "byte";
    case arrow::Type::FLOAT:
      return "float";
    case arrow::Type::DOUBLE:
      return "double";
    case arrow::Type::BOOL:
      return "boolean";
    case arrow::Type::BINARY:
      return "binary";
    case arrow::Type::DATE32:
      return "date";
    case arrow::Type::NA:
      return "void";
    default:
      return SimpleString(type);  // decimal(p,s), timestamp, timestamp_ntz, intervals
  }
}

void AppendMetadata(const arrow::KeyValueMetadata* md, std::string* out) {
  out->push_back('{');
  if (md == nullptr) {
    out->push_back('}');
    return;
  }
  // Keys whose values were non-string JSON when read.
  std::vector<std::string> json_valued;
  auto listed = md->Get(kJsonValuedKeysMetadataKey);
  if (listed.ok()) {
    simdjson::dom::parser parser;
    simdjson::dom::array arr;
    if (parser.parse(*listed).get_array().get(arr) == simdjson::SUCCESS) {
      for (auto e : arr) {
        std::string_view k;
        if (e.get_string().get(k) == simdjson::SUCCESS) json_valued.emplace_back(k);
      }
    }
  }
  bool first = true;
  for (int64_t i = 0; i < md->size(); ++i) {
    const std::string& key = md->key(i);
    const std::string& value = md->value(i);
    if (key == kJsonValuedKeysMetadataKey) continue;
    bool raw = false;
    for (auto k : kIntegerKeys) raw |= key == k && IsIntegerText(value);
    for (auto k : kBooleanKeys) raw |= key == k && (value == "true" || value == "false");
    for (const auto& k : json_valued) raw |= key == k;
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(key, out);
    out->push_back(':');
    if (raw) {
      *out += value;
    } else {
      AppendJsonString(value, out);
    }
  }
  out->push_back('}');
}

void AppendType(const TypePtr& type_ptr, std::string* out);

void AppendFields(const arrow::FieldVector& fields, std::string* out) {
  *out += "{\"type\":\"struct\",\"fields\":[";
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto& f = *fields[i];
    if (i > 0) out->push_back(',');
    *out += "{\"name\":";
    AppendJsonString(f.name(), out);
    *out += ",\"type\":";
    AppendType(f.type(), out);
    *out += f.nullable() ? ",\"nullable\":true" : ",\"nullable\":false";
    *out += ",\"metadata\":";
    AppendMetadata(f.metadata().get(), out);
    out->push_back('}');
  }
  *out += "]}";
}

void AppendType(const TypePtr& type_ptr, std::string* out) {
  const arrow::DataType& type = *type_ptr;
  switch (type.id()) {
    case arrow::Type::STRUCT:
      AppendFields(type.fields(), out);
      return;
    case arrow::Type::LIST:
    case arrow::Type::LARGE_LIST:
    case arrow::Type::FIXED_SIZE_LIST:
    case arrow::Type::LIST_VIEW:
    case arrow::Type::LARGE_LIST_VIEW:
      *out += "{\"type\":\"array\",\"elementType\":";
      AppendType(type.field(0)->type(), out);
      *out += type.field(0)->nullable() ? ",\"containsNull\":true}" : ",\"containsNull\":false}";
      return;
    case arrow::Type::MAP: {
      const auto& m = static_cast<const arrow::MapType&>(type);
      *out += "{\"type\":\"map\",\"keyType\":";
      AppendType(m.key_type(), out);
      *out += ",\"valueType\":";
      AppendType(m.item_type(), out);
      *out += m.item_field()->nullable() ? ",\"valueContainsNull\":true}"
                                         : ",\"valueContainsNull\":false}";
      return;
    }
    default: {
      if (IsSparkType(type)) {
        AppendJsonString(PrimitiveName(type), out);
      } else {
        // Types read from foreign files: write what Spark would read them as.
        TypePtr spark = ToSparkType(type_ptr);
        if (spark == type_ptr) {
          AppendJsonString(type.ToString(), out);  // no Spark equivalent (unions)
        } else {
          AppendType(spark, out);
        }
      }
    }
  }
}

}  // namespace

Result<SchemaPtr> SchemaFromDeltaJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::padded_string padded(json);
  if (auto err = parser.parse(padded).get(doc); err != simdjson::SUCCESS) {
    return UserError("invalid Delta schema JSON: {}", simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  std::string_view kind;
  if (doc.get_object().get(obj) != simdjson::SUCCESS ||
      obj["type"].get_string().get(kind) != simdjson::SUCCESS || kind != "struct") {
    return UserError("invalid Delta schema JSON: expected an object with \"type\":\"struct\"");
  }
  DeltaSchemaReader reader;
  LS_ASSIGN_OR_RAISE(auto fields, reader.ReadFields(obj, "", 0));
  return arrow::schema(std::move(fields));
}

std::string SchemaToDeltaJson(const arrow::Schema& schema) {
  std::string out;
  AppendFields(schema.fields(), &out);
  return out;
}

}  // namespace lakestream::types
