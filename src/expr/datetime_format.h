// Spark's datetime patterns (sql-ref-datetime-pattern.html): a compiled
// pattern formats and parses wall-clock fields, and TimeZone converts between
// instants and wall-clock time with Java's rules (a local time in a DST gap
// moves forward by the gap, an ambiguous one takes the earlier offset). Time
// zones come from the system tz database through Arrow's vendored date library.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace arrow_vendored::date {
class time_zone;
}

namespace lakestream::expr {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

/// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
/// The inverse of DaysFromCivil.
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);
int DaysInMonth(int64_t y, unsigned m);
inline int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
inline int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

/// A time zone: a region of the tz database or a fixed offset.
class TimeZone {
 public:
  /// Accepts region ids ("America/Los_Angeles"), "UTC"/"GMT"/"Z", and offsets
  /// ("+08:00", "-0530", "UTC+8", "GMT-03:00"), as Spark's getZoneId.
  static Result<TimeZone> Make(std::string_view id);
  static TimeZone Utc() { return TimeZone(); }

  const std::string& id() const { return id_; }
  bool is_utc() const { return zone_ == nullptr && fixed_offset_ == 0; }
  /// Offset from UTC in seconds at the instant `utc_seconds`.
  int32_t OffsetAt(int64_t utc_seconds) const;
  int64_t UtcToLocal(int64_t utc_micros) const {
    if (is_utc()) return utc_micros;
    return utc_micros + int64_t{OffsetAt(FloorDiv(utc_micros, kMicrosPerSecond))} * kMicrosPerSecond;
  }
  /// The instant of a wall-clock time (Java's ZonedDateTime.of rules).
  int64_t LocalToUtc(int64_t local_micros) const;
  /// Short name at an instant ("PST", "UTC", "+08:00"), for the 'z' pattern.
  std::string Abbreviation(int64_t utc_seconds) const;

 private:
  std::string id_ = "UTC";
  const arrow_vendored::date::time_zone* zone_ = nullptr;
  int32_t fixed_offset_ = 0;
};

/// Wall-clock fields read by DateTimeFormat::Parse.
struct ParsedDateTime {
  int64_t year = 1970;
  int month = 1;
  int day = 1;
  int day_of_year = -1;  // 'D' when given
  int hour = 0;          // 0-23 once resolved
  int minute = 0;
  int second = 0;
  int32_t nanos = 0;
  bool has_offset = false;  // the text named an offset or zone
  int32_t offset_seconds = 0;
  std::string zone_id;  // set when the text named a region ('VV', 'z')
};

/// A compiled Spark datetime pattern.
class DateTimeFormat {
 public:
  /// Compiles `pattern`; fails with [INVALID_DATETIME_PATTERN] for letters
  /// Spark rejects (week-based 'Y', 'w', 'u', 'e', 'c', ...) or unclosed quotes.
  static Result<DateTimeFormat> Compile(std::string_view pattern);

  /// Formats the wall-clock time `local_micros` (microseconds since the epoch,
  /// in the zone), whose offset is `offset_seconds` and zone `zone`.
  void Format(int64_t local_micros, int32_t offset_seconds, const TimeZone& zone,
              std::string* out) const;

  /// Parses the whole of `text`; on failure returns false and sets
  /// *error_index to where the text stopped matching.
  bool Parse(std::string_view text, ParsedDateTime* out, size_t* error_index) const;

  const std::string& pattern() const { return pattern_; }

  enum class Kind : uint8_t { kLiteral, kField, kOptionalStart, kOptionalEnd };
  struct Item {
    Kind kind;
    char letter = 0;
    int count = 0;
    std::string text;  // literal text
  };

 private:
  bool ParseItems(std::string_view text, size_t* pos, size_t begin, size_t end,
                  ParsedDateTime* out, bool* pm, bool* has_ampm, int* hour12) const;
  std::string pattern_;
  std::vector<Item> items_;
};

/// Instant (UTC micros) of parsed fields: the text's own offset/zone wins over `zone`.
/// Fails if the fields are out of range (Feb 30, hour 25).
bool ResolveParsed(const ParsedDateTime& p, const TimeZone& zone, int64_t* utc_micros);
/// Wall-clock micros of parsed fields (ignoring any offset in the text).
bool ResolveParsedLocal(const ParsedDateTime& p, int64_t* local_micros);

}  // namespace lakestream::expr
