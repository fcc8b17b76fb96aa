// Spark SQL types on Arrow. Spark's type system maps onto Arrow types one to
// one (see the table in MapSparkType); this file converts between them, parses
// and prints Spark DDL strings, and formats values the way Spark shows them.
#pragma once

#include <arrow/type.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace lakestream::types {

using TypePtr = std::shared_ptr<arrow::DataType>;
using SchemaPtr = std::shared_ptr<arrow::Schema>;

// Spark type        Arrow type
// BOOLEAN           boolean
// TINYINT..BIGINT   int8, int16, int32, int64
// FLOAT, DOUBLE     float32, float64
// DECIMAL(p,s)      decimal128(p,s), p <= 38
// STRING            utf8
// STRING COLLATE c  utf8 with the collation attached (CollatedStringType, below)
// BINARY            binary
// DATE              date32
// TIMESTAMP         timestamp(us, "UTC")   (instants; shown in the session time zone)
// TIMESTAMP_NTZ     timestamp(us)          (no time zone)
// INTERVAL DAY TO SECOND  duration(us); other field ranges DayTimeIntervalType (below)
// INTERVAL YEAR TO MONTH  month_interval
// CALENDAR INTERVAL       month_day_nano_interval (interval literals with months and days)
// STRUCT<a: T, ...> struct
// ARRAY<T>          list
// MAP<K, V>         map
// VOID (NULL)       null

TypePtr Timestamp();     // timestamp(us, "UTC")
TypePtr TimestampNtz();  // timestamp(us)

/// The fields of Spark's DayTimeIntervalType, in Spark's order (DAY = 0 ...
/// SECOND = 3): INTERVAL DAY, INTERVAL HOUR TO MINUTE, ... They do not change
/// the values (microseconds), only how Spark names and shows them.
enum class DayTimeField : int8_t { kDay = 0, kHour = 1, kMinute = 2, kSecond = 3 };

/// Spark's DayTimeIntervalType(start, end) on Arrow: duration(us) with the
/// fields attached. A subclass of arrow::DurationType, not an extension type,
/// so that it keeps duration's id and equals duration(us): every Arrow kernel
/// and every check on duration(us) works unchanged. Where a type is rebuilt
/// from its id (Arrow kernels, IPC, Parquet) the fields are lost and it reads
/// as plain duration(us), i.e. INTERVAL DAY TO SECOND, Spark's default.
class DayTimeIntervalType final : public arrow::DurationType {
 public:
  DayTimeIntervalType(DayTimeField start, DayTimeField end)
      : arrow::DurationType(arrow::TimeUnit::MICRO), start_(start), end_(end) {}
  DayTimeField start_field() const { return start_; }
  DayTimeField end_field() const { return end_; }

 private:
  DayTimeField start_, end_;
};

/// INTERVAL start TO end (start <= end); DAY TO SECOND is plain duration(us).
TypePtr DayTimeInterval(DayTimeField start, DayTimeField end);
/// The fields of a duration type: DAY TO SECOND unless it is a DayTimeIntervalType.
std::pair<DayTimeField, DayTimeField> DayTimeFields(const arrow::DataType& duration);
/// Spark's name of a field: "DAY", "HOUR", "MINUTE", "SECOND".
std::string_view DayTimeFieldName(DayTimeField f);

/// Spark 4's collations of STRING (CollationFactory's built-in ones). UTF8_BINARY
/// compares bytes; UTF8_LCASE compares the strings lower-cased code point by
/// code point; UNICODE and UNICODE_CI compare with ICU's root collator at
/// tertiary and secondary strength.
enum class Collation : int8_t { kUtf8Binary = 0, kUtf8Lcase = 1, kUnicode = 2, kUnicodeCi = 3 };

/// How a string expression got its collation, Spark's collation strength: an
/// explicit COLLATE wins over a column's (implicit) collation, which wins over
/// a literal's (default). Two different explicit collations are an error.
enum class CollationStrength : int8_t { kDefault = 0, kImplicit = 1, kExplicit = 2 };

/// STRING COLLATE name on Arrow: utf8 with the collation attached, and whether
/// it is explicit (the type of a COLLATE expression). As DayTimeIntervalType,
/// a subclass rather than an extension type so that it keeps utf8's id and
/// equals utf8: every Arrow kernel, builder and check on utf8 works unchanged,
/// and the collation rides along wherever a type is passed on (expression
/// result types, projected schemas, views). Where Arrow rebuilds a type from
/// its id the collation is lost, which is why collation-sensitive operators
/// take it from the bound (static) types, never from arrays.
class CollatedStringType final : public arrow::StringType {
 public:
  CollatedStringType(Collation collation, bool is_explicit)
      : collation_(collation), explicit_(is_explicit) {}
  Collation collation() const { return collation_; }
  bool is_explicit() const { return explicit_; }

 private:
  Collation collation_;
  bool explicit_;
};

/// STRING with `collation`; plain utf8 for a non-explicit UTF8_BINARY.
TypePtr CollatedString(Collation collation, bool is_explicit = false);
/// The collation of a STRING type (UTF8_BINARY for plain utf8).
Collation CollationOf(const arrow::DataType& type);
/// True for the type of a COLLATE expression.
bool IsExplicitCollation(const arrow::DataType& type);
/// `type` with the explicit mark dropped (a column's type: implicit); other
/// types, including nested ones, are returned as they are.
TypePtr WithoutExplicitCollation(const TypePtr& type);
/// Spark's name of a collation: "UTF8_BINARY", "UTF8_LCASE", "UNICODE", "UNICODE_CI".
std::string_view CollationName(Collation collation);
/// A collation by name, case-insensitive; [COLLATION_INVALID_NAME] otherwise.
Result<Collation> ParseCollation(std::string_view name);

/// Parses a Spark DDL type, e.g. "DECIMAL(10,2)", "ARRAY<STRUCT<a: INT, b STRING>>",
/// "int", "long", "map<string,bigint>". Case-insensitive, accepts Spark's aliases
/// (INTEGER, LONG, SHORT, BYTE, REAL, DEC, NUMERIC, VARCHAR(n), CHAR(n), TEXT?).
Result<TypePtr> ParseDDLType(std::string_view ddl);

/// Parses a Spark DDL schema, e.g. "a INT, b STRUCT<x: STRING> NOT NULL, `c d` DOUBLE".
/// Also accepts "STRUCT<...>" wrapping the list. Errors name the position.
Result<SchemaPtr> ParseDDLSchema(std::string_view ddl);

/// Spark's DDL spelling: "INT", "DECIMAL(10,2)", "STRUCT<a: INT, b: STRING>".
std::string ToDDL(const arrow::DataType& type);
/// "a INT, b STRING NOT NULL"
std::string ToDDL(const arrow::Schema& schema);
/// Spark's simpleString: "int", "bigint", "decimal(10,2)", "struct<a:int>".
std::string SimpleString(const arrow::DataType& type);

/// True if `type` is one of the types of the table above.
bool IsSparkType(const arrow::DataType& type);
/// Converts an Arrow type read from a file (uint32, large_utf8, timestamp(ns), ...)
/// to the nearest Spark type (what Spark would read it as).
TypePtr ToSparkType(const TypePtr& type);
SchemaPtr ToSparkSchema(const SchemaPtr& schema);

bool IsIntegral(const arrow::DataType& t);   // int8..int64
bool IsFloating(const arrow::DataType& t);   // float, double
bool IsNumeric(const arrow::DataType& t);    // integral, floating, decimal
bool IsStringLike(const arrow::DataType& t); // utf8

/// Precision/scale Spark assigns to an integral type when it meets a decimal
/// (TINYINT -> DECIMAL(3,0), INT -> DECIMAL(10,0), BIGINT -> DECIMAL(20,0)).
std::shared_ptr<arrow::Decimal128Type> DecimalForIntegral(const arrow::DataType& t);

/// Delta Lake's schema JSON (PROTOCOL.md "Schema Serialization Format") <-> Arrow.
/// Field metadata (column mapping ids and physical names, comments) is kept in
/// Arrow field metadata under the same keys, as text: strings as they are, other
/// JSON values as their raw JSON text. Known numeric/boolean keys
/// (delta.columnMapping.id, parquet.field.id, delta.identity.*) are written back
/// as JSON numbers/booleans; other keys that held non-string JSON are listed in
/// kJsonValuedKeysMetadataKey (a JSON array of key names) so they round-trip.
inline constexpr char kJsonValuedKeysMetadataKey[] = "lakestream.delta.jsonValuedKeys";
Result<SchemaPtr> SchemaFromDeltaJson(std::string_view json);
std::string SchemaToDeltaJson(const arrow::Schema& schema);

/// A duration as Spark's window() and withWatermark() accept it ("10 seconds",
/// "1 minute 30 seconds", "INTERVAL 5 MINUTES", "500 ms"), in microseconds.
Result<int64_t> ParseDurationMicros(std::string_view text);

}  // namespace lakestream::types
