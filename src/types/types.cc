// Spark type predicates, the Arrow -> Spark type mapping used when reading
// files written by other engines, and Spark's two type spellings (DDL and
// simpleString). The DDL parser lives in ddl.cc, Delta JSON in delta_schema.cc.
#include "types/types.h"

#include <arrow/extension_type.h>
#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>

#include <cctype>
#include <string>
#include <vector>

#include "types/ddl_internal.h"

namespace lakestream::types {

TypePtr Timestamp() {
  static const TypePtr kType = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  return kType;
}

TypePtr TimestampNtz() {
  static const TypePtr kType = arrow::timestamp(arrow::TimeUnit::MICRO);
  return kType;
}

bool IsIntegral(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
      return true;
    default:
      return false;
  }
}

bool IsFloating(const arrow::DataType& t) {
  return t.id() == arrow::Type::FLOAT || t.id() == arrow::Type::DOUBLE;
}

bool IsNumeric(const arrow::DataType& t) {
  return IsIntegral(t) || IsFloating(t) || t.id() == arrow::Type::DECIMAL128;
}

bool IsStringLike(const arrow::DataType& t) { return t.id() == arrow::Type::STRING; }

std::shared_ptr<arrow::Decimal128Type> DecimalForIntegral(const arrow::DataType& t) {
  int32_t precision;
  switch (t.id()) {
    case arrow::Type::INT8:
      precision = 3;
      break;
    case arrow::Type::INT16:
      precision = 5;
      break;
    case arrow::Type::INT32:
      precision = 10;
      break;
    case arrow::Type::INT64:
      precision = 20;
      break;
    default:
      return nullptr;
  }
  return std::static_pointer_cast<arrow::Decimal128Type>(arrow::decimal128(precision, 0));
}

bool IsSparkType(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::NA:
    case arrow::Type::BOOL:
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::STRING:
    case arrow::Type::BINARY:
    case arrow::Type::DATE32:
    case arrow::Type::INTERVAL_MONTHS:
    case arrow::Type::INTERVAL_MONTH_DAY_NANO:
      return true;
    case arrow::Type::DECIMAL128:
      return static_cast<const arrow::Decimal128Type&>(type).precision() <= 38;
    case arrow::Type::DURATION:
      return static_cast<const arrow::DurationType&>(type).unit() == arrow::TimeUnit::MICRO;
    case arrow::Type::TIMESTAMP: {
      const auto& ts = static_cast<const arrow::TimestampType&>(type);
      return ts.unit() == arrow::TimeUnit::MICRO && (ts.timezone().empty() || ts.timezone() == "UTC");
    }
    case arrow::Type::LIST:
    case arrow::Type::MAP:
    case arrow::Type::STRUCT:
      for (const auto& f : type.fields()) {
        if (!IsSparkType(*f->type())) return false;
      }
      return true;
    default:
      return false;
  }
}

namespace {

std::shared_ptr<arrow::Field> ToSparkField(const std::shared_ptr<arrow::Field>& f) {
  TypePtr t = ToSparkType(f->type());
  if (t == f->type()) return f;
  return f->WithType(t);
}

}  // namespace

// Choices where Spark itself has no equivalent (documented for callers that
// cast the data): time32/time64 -> int64 (the raw count in the source unit;
// Spark 4.0 has no TIME type), decimal256 with precision > 38 -> double,
// unions are left unchanged (IsSparkType stays false; callers reject them).
TypePtr ToSparkType(const TypePtr& type) {
  switch (type->id()) {
    case arrow::Type::UINT8:
      return arrow::int16();
    case arrow::Type::UINT16:
      return arrow::int32();
    case arrow::Type::UINT32:
      return arrow::int64();
    case arrow::Type::UINT64:
      return arrow::decimal128(20, 0);
    case arrow::Type::HALF_FLOAT:
      return arrow::float32();
    case arrow::Type::LARGE_STRING:
    case arrow::Type::STRING_VIEW:
      return arrow::utf8();
    case arrow::Type::LARGE_BINARY:
    case arrow::Type::BINARY_VIEW:
    case arrow::Type::FIXED_SIZE_BINARY:
      return arrow::binary();
    case arrow::Type::TIMESTAMP: {
      const auto& ts = static_cast<const arrow::TimestampType&>(*type);
      if (IsSparkType(ts)) return type;
      return ts.timezone().empty() ? TimestampNtz() : Timestamp();
    }
    case arrow::Type::DATE64:
      return arrow::date32();
    case arrow::Type::TIME32:
    case arrow::Type::TIME64:
      return arrow::int64();
    case arrow::Type::DURATION:
      if (IsSparkType(*type)) return type;  // keeps a DayTimeIntervalType's fields
      return arrow::duration(arrow::TimeUnit::MICRO);
    case arrow::Type::INTERVAL_DAY_TIME:
      return arrow::duration(arrow::TimeUnit::MICRO);
    case arrow::Type::DECIMAL32:
    case arrow::Type::DECIMAL64: {
      const auto& d = static_cast<const arrow::DecimalType&>(*type);
      return arrow::decimal128(d.precision(), d.scale());
    }
    case arrow::Type::DECIMAL256: {
      const auto& d = static_cast<const arrow::DecimalType&>(*type);
      if (d.precision() <= 38) return arrow::decimal128(d.precision(), d.scale());
      return arrow::float64();
    }
    case arrow::Type::DICTIONARY:
      return ToSparkType(static_cast<const arrow::DictionaryType&>(*type).value_type());
    case arrow::Type::RUN_END_ENCODED:
      return ToSparkType(static_cast<const arrow::RunEndEncodedType&>(*type).value_type());
    case arrow::Type::EXTENSION:
      return ToSparkType(static_cast<const arrow::ExtensionType&>(*type).storage_type());
    case arrow::Type::LIST: {
      auto f = ToSparkField(type->field(0));
      if (f == type->field(0)) return type;
      return arrow::list(f);
    }
    case arrow::Type::LARGE_LIST:
    case arrow::Type::FIXED_SIZE_LIST:
    case arrow::Type::LIST_VIEW:
    case arrow::Type::LARGE_LIST_VIEW:
      return arrow::list(ToSparkField(type->field(0)));
    case arrow::Type::MAP: {
      const auto& m = static_cast<const arrow::MapType&>(*type);
      auto k = ToSparkField(m.key_field());
      auto v = ToSparkField(m.item_field());
      if (k == m.key_field() && v == m.item_field()) return type;
      return std::make_shared<arrow::MapType>(k, v, m.keys_sorted());
    }
    case arrow::Type::STRUCT: {
      std::vector<std::shared_ptr<arrow::Field>> fields;
      bool changed = false;
      for (const auto& f : type->fields()) {
        fields.push_back(ToSparkField(f));
        changed |= fields.back() != f;
      }
      if (!changed) return type;
      return arrow::struct_(std::move(fields));
    }
    default:
      return type;
  }
}

SchemaPtr ToSparkSchema(const SchemaPtr& schema) {
  std::vector<std::shared_ptr<arrow::Field>> fields;
  bool changed = false;
  for (const auto& f : schema->fields()) {
    fields.push_back(ToSparkField(f));
    changed |= fields.back() != f;
  }
  if (!changed) return schema;
  return arrow::schema(std::move(fields), schema->metadata());
}

// ---------------------------------------------------------------------------
// Printing.

namespace internal {

bool NeedsQuoting(std::string_view name) {
  // Spark's QuotingUtils.quoteIfNeeded: [a-zA-Z0-9_]+ and not all digits.
  if (name.empty()) return true;
  bool all_digits = true;
  for (char c : name) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!alpha && !digit) return true;
    all_digits &= digit;
  }
  return all_digits;
}

std::string QuoteIfNeeded(std::string_view name) {
  if (!NeedsQuoting(name)) return std::string(name);
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  out += '`';
  return out;
}

std::string QuoteStringLiteral(std::string_view s) {
  // Spark's escapeSingleQuotedString: backslash-escape '\' and '\''.
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace internal

namespace {

std::string FieldSuffix(const arrow::Field& f) {
  std::string out;
  if (!f.nullable()) out += " NOT NULL";
  if (f.metadata() != nullptr) {
    auto comment = f.metadata()->Get("comment");
    if (comment.ok()) out += " COMMENT " + internal::QuoteStringLiteral(*comment);
  }
  return out;
}

std::string AtomicName(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::NA:
      return "void";
    case arrow::Type::BOOL:
      return "boolean";
    case arrow::Type::INT8:
      return "tinyint";
    case arrow::Type::INT16:
      return "smallint";
    case arrow::Type::INT32:
      return "int";
    case arrow::Type::INT64:
      return "bigint";
    case arrow::Type::FLOAT:
      return "float";
    case arrow::Type::DOUBLE:
      return "double";
    case arrow::Type::STRING:
      return "string";
    case arrow::Type::BINARY:
      return "binary";
    case arrow::Type::DATE32:
      return "date";
    case arrow::Type::TIMESTAMP:
      return static_cast<const arrow::TimestampType&>(type).timezone().empty() ? "timestamp_ntz"
                                                                               : "timestamp";
    case arrow::Type::DURATION:
      return "interval day to second";
    case arrow::Type::INTERVAL_MONTHS:
      return "interval year to month";
    case arrow::Type::INTERVAL_MONTH_DAY_NANO:
      return "interval";
    case arrow::Type::DECIMAL128: {
      const auto& d = static_cast<const arrow::DecimalType&>(type);
      return "decimal(" + std::to_string(d.precision()) + "," + std::to_string(d.scale()) + ")";
    }
    default:
      return "";
  }
}

// The Spark type a foreign Arrow type (uint32, large_utf8, dictionary...) is
// read as, or null when there is none.
TypePtr SparkEquivalent(const arrow::DataType& type) {
  TypePtr self = std::const_pointer_cast<arrow::DataType>(type.weak_from_this().lock());
  if (self == nullptr) return nullptr;
  TypePtr spark = ToSparkType(self);
  return IsSparkType(*spark) ? spark : nullptr;
}

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

}  // namespace

TypePtr DayTimeInterval(DayTimeField start, DayTimeField end) {
  if (start == DayTimeField::kDay && end == DayTimeField::kSecond) {
    return arrow::duration(arrow::TimeUnit::MICRO);
  }
  return std::make_shared<DayTimeIntervalType>(start, end);
}

std::pair<DayTimeField, DayTimeField> DayTimeFields(const arrow::DataType& duration) {
  if (const auto* t = dynamic_cast<const DayTimeIntervalType*>(&duration)) {
    return {t->start_field(), t->end_field()};
  }
  return {DayTimeField::kDay, DayTimeField::kSecond};
}

std::string_view DayTimeFieldName(DayTimeField f) {
  static constexpr std::string_view kNames[] = {"DAY", "HOUR", "MINUTE", "SECOND"};
  return kNames[static_cast<int>(f)];
}

namespace {
// "INTERVAL DAY", "INTERVAL DAY TO HOUR", as Spark's DayTimeIntervalType.typeName upper-cased.
std::string DayTimeIntervalName(const arrow::DataType& type) {
  auto [start, end] = DayTimeFields(type);
  std::string out = "INTERVAL ";
  out += DayTimeFieldName(start);
  if (end != start) {
    out += " TO ";
    out += DayTimeFieldName(end);
  }
  return out;
}
}  // namespace

TypePtr CollatedString(Collation collation, bool is_explicit) {
  if (collation == Collation::kUtf8Binary && !is_explicit) return arrow::utf8();
  return std::make_shared<CollatedStringType>(collation, is_explicit);
}

Collation CollationOf(const arrow::DataType& type) {
  if (const auto* t = dynamic_cast<const CollatedStringType*>(&type)) return t->collation();
  return Collation::kUtf8Binary;
}

bool IsExplicitCollation(const arrow::DataType& type) {
  const auto* t = dynamic_cast<const CollatedStringType*>(&type);
  return t != nullptr && t->is_explicit();
}

TypePtr WithoutExplicitCollation(const TypePtr& type) {
  if (!IsExplicitCollation(*type)) return type;
  return CollatedString(CollationOf(*type), false);
}

std::string_view CollationName(Collation collation) {
  static constexpr std::string_view kNames[] = {"UTF8_BINARY", "UTF8_LCASE", "UNICODE",
                                                "UNICODE_CI"};
  return kNames[static_cast<int>(collation)];
}

Result<Collation> ParseCollation(std::string_view name) {
  for (int c = 0; c < 4; ++c) {
    auto known = CollationName(static_cast<Collation>(c));
    if (known.size() == name.size() &&
        std::equal(known.begin(), known.end(), name.begin(), [](char a, char b) {
          return a == std::toupper(static_cast<unsigned char>(b));
        })) {
      return static_cast<Collation>(c);
    }
  }
  return UserError(
      "[COLLATION_INVALID_NAME] The value {} does not represent a correct collation name. "
      "Supported collation names: UTF8_BINARY, UTF8_LCASE, UNICODE, UNICODE_CI.",
      name);
}

namespace {
// " COLLATE UTF8_LCASE" for a collated STRING, "" otherwise (UTF8_BINARY is
// not spelled out, as in Spark's StringType.typeName).
std::string CollateSuffix(const arrow::DataType& type) {
  if (type.id() != arrow::Type::STRING) return "";
  Collation c = CollationOf(type);
  if (c == Collation::kUtf8Binary) return "";
  return std::string(" COLLATE ") + std::string(CollationName(c));
}
}  // namespace

std::string ToDDL(const arrow::DataType& type) {
  if (type.id() == arrow::Type::DURATION) return DayTimeIntervalName(type);
  switch (type.id()) {
    case arrow::Type::LIST:
      return "ARRAY<" + ToDDL(*type.field(0)->type()) + ">";
    case arrow::Type::MAP: {
      const auto& m = static_cast<const arrow::MapType&>(type);
      return "MAP<" + ToDDL(*m.key_type()) + ", " + ToDDL(*m.item_type()) + ">";
    }
    case arrow::Type::STRUCT: {
      std::string out = "STRUCT<";
      for (int i = 0; i < type.num_fields(); ++i) {
        const auto& f = *type.field(i);
        if (i > 0) out += ", ";
        out += internal::QuoteIfNeeded(f.name()) + ": " + ToDDL(*f.type()) + FieldSuffix(f);
      }
      return out + ">";
    }
    default: {
      std::string name = AtomicName(type);
      if (!name.empty()) return Upper(std::move(name)) + CollateSuffix(type);
      if (auto spark = SparkEquivalent(type)) return ToDDL(*spark);
      return Upper(type.ToString());  // no Spark equivalent (unions)
    }
  }
}

std::string ToDDL(const arrow::Schema& schema) {
  std::string out;
  for (int i = 0; i < schema.num_fields(); ++i) {
    const auto& f = *schema.field(i);
    if (i > 0) out += ", ";
    out += internal::QuoteIfNeeded(f.name()) + " " + ToDDL(*f.type()) + FieldSuffix(f);
  }
  return out;
}

std::string SimpleString(const arrow::DataType& type) {
  if (type.id() == arrow::Type::DURATION) {
    std::string name = DayTimeIntervalName(type);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  }
  switch (type.id()) {
    case arrow::Type::LIST:
      return "array<" + SimpleString(*type.field(0)->type()) + ">";
    case arrow::Type::MAP: {
      const auto& m = static_cast<const arrow::MapType&>(type);
      return "map<" + SimpleString(*m.key_type()) + "," + SimpleString(*m.item_type()) + ">";
    }
    case arrow::Type::STRUCT: {
      // Spark's simpleString does not quote names.
      std::string out = "struct<";
      for (int i = 0; i < type.num_fields(); ++i) {
        if (i > 0) out += ",";
        out += type.field(i)->name() + ":" + SimpleString(*type.field(i)->type());
      }
      return out + ">";
    }
    default: {
      std::string name = AtomicName(type);
      if (!name.empty()) {
        auto suffix = CollateSuffix(type);
        // Spark's simpleString: "string collate UTF8_LCASE".
        if (!suffix.empty()) suffix.replace(1, 7, "collate");
        return name + suffix;
      }
      if (auto spark = SparkEquivalent(type)) return SimpleString(*spark);
      return type.ToString();
    }
  }
}

}  // namespace lakestream::types
