// Text form of values as Spark shows them (CAST(x AS STRING) and the CLI):
// timestamps "YYYY-MM-DD HH:MM:SS[.ffffff]" in the session time zone, doubles
// as Java prints them ("1.0E10", "NaN", "Infinity"), decimals with their scale,
// arrays "[1, 2]", maps "{a -> 1}", structs "{1, x}".
#pragma once

#include <arrow/array.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lakestream::types {

/// A session time zone as Spark accepts it (spark.sql.session.timeZone): a tz
/// database name ("America/Los_Angeles"), a fixed offset ("+05:30", "-08",
/// "UTC+01:00", "GMT+8", "Z") or one of Java's short ids ("PST", "IST").
/// Cheap to copy and safe to share between threads (the offset periods of a
/// region are computed once per process and shared).
class TimeZone {
 public:
  /// Error (user's) naming the id when it is not a known zone or offset.
  static Result<TimeZone> Make(std::string_view id);
  static TimeZone Utc();

  /// Offset from UTC in seconds at the instant `utc_seconds` (seconds since epoch).
  int64_t OffsetSeconds(int64_t utc_seconds) const;
  /// UTC microseconds -> wall-clock microseconds in this zone.
  int64_t ToLocalMicros(int64_t utc_micros) const;
  /// Wall-clock microseconds -> UTC microseconds, resolving gaps and overlaps
  /// as java.time does (ZonedDateTime.of): a time in an overlap takes the
  /// earlier offset, a time in a gap is moved forward by the gap's length.
  int64_t ToUtcMicros(int64_t local_micros) const;
  const std::string& id() const { return id_; }

 private:
  struct Periods;  // a region's offset periods, see value_format.cc
  std::string id_;
  std::shared_ptr<const Periods> periods_;  // null for fixed offsets
  int64_t fixed_offset_ = 0;               // seconds, when periods_ is null
};

struct FormatOptions {
  /// Session time zone for TIMESTAMP values (see TimeZone). FormatArray fails
  /// on an unknown zone; FormatValue falls back to UTC.
  std::string time_zone = "UTC";
  /// Text for NULL at the top level ("NULL" in tables, "" in CSV).
  std::string null_text = "NULL";
};

/// Formats element `i` of `array` (must not be null at the top level unless
/// null_text is wanted).
std::string FormatValue(const arrow::Array& array, int64_t i, const FormatOptions& options);

/// Converts a whole array to Spark's string form (a utf8 array); NULL stays NULL.
Result<std::shared_ptr<arrow::Array>> FormatArray(const arrow::Array& array,
                                                  const FormatOptions& options);

/// "yyyy-MM-dd" for days since 1970-01-01 (years beyond 9999 as "+10000", BC as "-0001").
std::string FormatDate(int32_t days);
/// "yyyy-MM-dd HH:mm:ss[.ffffff]" for microseconds since the epoch, shown in
/// `tz`, or as they are when `tz` is null (TIMESTAMP_NTZ).
std::string FormatTimestamp(int64_t micros, const TimeZone* tz);

/// Spark's display of BINARY in show(): "[0A FF 41]".
std::string FormatBinaryHex(std::string_view bytes);

/// Spark's CAST(binary AS STRING): UTF-8 decoding, each malformed sequence
/// replaced by U+FFFD (as Java's new String(bytes, UTF_8)).
std::string DecodeUtf8Lossy(std::string_view bytes);

/// Java's Double.toString / Float.toString spelling, which Spark uses: the
/// shortest digits that round-trip, except that integer-valued numbers below
/// 2^63 keep the extra digits JDK 17 prints ("2.82198298E9" for a float); on
/// 200k random values this matches java 17.0.15 in all but 5 cases.
std::string FormatDouble(double v);
std::string FormatFloat(float v);

}  // namespace lakestream::types
