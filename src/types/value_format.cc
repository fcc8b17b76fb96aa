// Spark's text form of values (Cast.castToString): Java's double spelling,
// plain decimals, dates and timestamps in the session time zone, ANSI interval
// strings, and the "[a, b]" / "{k -> v}" / "{a, b}" forms of nested values.
// Time zones come from Arrow's vendored copy of Howard Hinnant's date/tz
// library (reads the OS tz database; gcc 12's libstdc++ has no
// std::chrono::locate_zone).
#include "types/value_format.h"

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/extension_type.h>
#include <arrow/util/checked_cast.h>
#include <arrow/util/decimal.h>
#include <arrow/util/float16.h>
#include <arrow/vendored/datetime.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace lakestream::types {

namespace tzlib = arrow_vendored::date;
using arrow::internal::checked_cast;

namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendUInt(uint64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendPadded(int64_t v, int width, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  for (int n = static_cast<int>(r.ptr - buf); n < width; ++n) out->push_back('0');
  out->append(buf, r.ptr);
}

// ---------------------------------------------------------------------------
// Time zones.

bool ParseDigits(std::string_view s, size_t* i, size_t max_digits, int* value) {
  size_t start = *i;
  int v = 0;
  while (*i < s.size() && *i - start < max_digits && s[*i] >= '0' && s[*i] <= '9') {
    v = v * 10 + (s[*i] - '0');
    ++*i;
  }
  *value = v;
  return *i > start;
}

// "+h", "+hh", "+hh:mm", "+hhmm", "+hh:mm:ss" (java.time ZoneOffset.of forms).
bool ParseOffset(std::string_view s, int64_t* seconds) {
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return false;
  int sign = s[0] == '-' ? -1 : 1;
  size_t i = 1;
  int h = 0, m = 0, sec = 0;
  if (!ParseDigits(s, &i, 2, &h)) return false;
  if (i < s.size()) {
    if (s[i] == ':') ++i;
    if (!ParseDigits(s, &i, 2, &m)) return false;
    if (i < s.size()) {
      if (s[i] == ':') ++i;
      if (!ParseDigits(s, &i, 2, &sec)) return false;
    }
  }
  if (i != s.size() || h > 18 || m > 59 || sec > 59) return false;
  *seconds = sign * (h * 3600 + m * 60 + sec);
  return true;
}

// java.time.ZoneId.SHORT_IDS, which Spark applies to session time zones.
std::string_view ShortIdTarget(std::string_view id) {
  static constexpr std::pair<std::string_view, std::string_view> kShortIds[] = {
      {"ACT", "Australia/Darwin"},   {"AET", "Australia/Sydney"},
      {"AGT", "America/Argentina/Buenos_Aires"},
      {"ART", "Africa/Cairo"},       {"AST", "America/Anchorage"},
      {"BET", "America/Sao_Paulo"},  {"BST", "Asia/Dhaka"},
      {"CAT", "Africa/Harare"},      {"CNT", "America/St_Johns"},
      {"CST", "America/Chicago"},    {"CTT", "Asia/Shanghai"},
      {"EAT", "Africa/Addis_Ababa"}, {"ECT", "Europe/Paris"},
      {"IET", "America/Indiana/Indianapolis"},
      {"IST", "Asia/Kolkata"},       {"JST", "Asia/Tokyo"},
      {"MIT", "Pacific/Apia"},       {"NET", "Asia/Yerevan"},
      {"NST", "Pacific/Auckland"},   {"PLT", "Asia/Karachi"},
      {"PNT", "America/Phoenix"},    {"PRT", "America/Puerto_Rico"},
      {"PST", "America/Los_Angeles"}, {"SST", "Pacific/Guadalcanal"},
      {"VST", "Asia/Ho_Chi_Minh"},   {"EST", "-05:00"},
      {"MST", "-07:00"},             {"HST", "-10:00"}};
  for (const auto& [k, v] : kShortIds) {
    if (k == id) return v;
  }
  return id;
}

}  // namespace

Result<TimeZone> TimeZone::Make(std::string_view id) {
  TimeZone tz;
  tz.id_ = std::string(id);
  std::string_view target = ShortIdTarget(id);
  if (target == "UTC" || target == "Z" || target == "GMT" || target == "UT") return tz;
  int64_t offset;
  if (ParseOffset(target, &offset)) {
    tz.fixed_offset_ = offset;
    return tz;
  }
  for (std::string_view prefix : {"UTC", "GMT", "UT"}) {
    if (target.substr(0, prefix.size()) == prefix &&
        ParseOffset(target.substr(prefix.size()), &offset)) {
      tz.fixed_offset_ = offset;
      return tz;
    }
  }
  try {
    tz.zone_ = tzlib::locate_zone(target);
  } catch (const std::exception& e) {
    return UserError(
        "unknown time zone '{}': expected a region id such as 'America/Los_Angeles' or an "
        "offset such as '+05:30'",
        id);
  }
  return tz;
}

TimeZone TimeZone::Utc() {
  TimeZone tz;
  tz.id_ = "UTC";
  return tz;
}

int64_t TimeZone::OffsetSeconds(int64_t utc_seconds) const {
  if (zone_ == nullptr) return fixed_offset_;
  if (utc_seconds >= cache_begin_ && utc_seconds < cache_end_) return cache_offset_;
  const auto* zone = static_cast<const tzlib::time_zone*>(zone_);
  tzlib::sys_info info = zone->get_info(tzlib::sys_seconds{std::chrono::seconds{utc_seconds}});
  cache_begin_ = info.begin.time_since_epoch().count();
  cache_end_ = info.end.time_since_epoch().count();
  cache_offset_ = info.offset.count();
  return cache_offset_;
}

int64_t TimeZone::ToLocalMicros(int64_t utc_micros) const {
  return utc_micros + OffsetSeconds(FloorDiv(utc_micros, kMicrosPerSecond)) * kMicrosPerSecond;
}

int64_t TimeZone::ToUtcMicros(int64_t local_micros) const {
  if (zone_ == nullptr) return local_micros - fixed_offset_ * kMicrosPerSecond;
  const auto* zone = static_cast<const tzlib::time_zone*>(zone_);
  int64_t local_seconds = FloorDiv(local_micros, kMicrosPerSecond);
  tzlib::local_info info =
      zone->get_info(tzlib::local_seconds{std::chrono::seconds{local_seconds}});
  // unique: first is the offset; ambiguous: first is the earlier offset; in a
  // gap, subtracting the offset before the gap moves the time forward.
  return local_micros - info.first.offset.count() * kMicrosPerSecond;
}

// ---------------------------------------------------------------------------
// Dates and times.

namespace {

// Howard Hinnant's civil_from_days (proleptic Gregorian, as Spark 3+).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

void AppendDate(int64_t days, std::string* out) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  // java.time's ISO year: 4 digits, "+" beyond 9999, "-" before year 0.
  if (y > 9999) {
    out->push_back('+');
    AppendInt(y, out);
  } else if (y < 0) {
    out->push_back('-');
    AppendPadded(-y, 4, out);
  } else {
    AppendPadded(y, 4, out);
  }
  out->push_back('-');
  AppendPadded(m, 2, out);
  out->push_back('-');
  AppendPadded(d, 2, out);
}

// Appends ".ffffff" without trailing zeros, nothing when `micros` is 0.
void AppendFraction(int64_t micros, std::string* out) {
  if (micros == 0) return;
  char buf[7];
  int64_t v = micros;
  for (int i = 5; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  int len = 6;
  while (buf[len - 1] == '0') --len;
  out->push_back('.');
  out->append(buf, len);
}

void AppendLocalTimestamp(int64_t local_micros, std::string* out) {
  int64_t days = FloorDiv(local_micros, kMicrosPerDay);
  int64_t rest = local_micros - days * kMicrosPerDay;
  AppendDate(days, out);
  out->push_back(' ');
  AppendPadded(rest / kMicrosPerHour, 2, out);
  out->push_back(':');
  AppendPadded(rest / kMicrosPerMinute % 60, 2, out);
  out->push_back(':');
  AppendPadded(rest / kMicrosPerSecond % 60, 2, out);
  AppendFraction(rest % kMicrosPerSecond, out);
}

int64_t ToMicros(int64_t v, arrow::TimeUnit::type unit) {
  switch (unit) {
    case arrow::TimeUnit::SECOND:
      return v * kMicrosPerSecond;
    case arrow::TimeUnit::MILLI:
      return v * 1000;
    case arrow::TimeUnit::MICRO:
      return v;
    case arrow::TimeUnit::NANO:
      return FloorDiv(v, 1000);
  }
  return v;
}

// Spark's IntervalUtils.toDayTimeIntervalString, ANSI style, DAY TO SECOND.
void AppendDayTimeInterval(int64_t micros, std::string* out) {
  *out += "INTERVAL '";
  uint64_t rest = static_cast<uint64_t>(micros);
  if (micros < 0) {
    out->push_back('-');
    rest = 0 - rest;  // well defined for INT64_MIN too
  }
  AppendUInt(rest / kMicrosPerDay, out);
  rest %= kMicrosPerDay;
  out->push_back(' ');
  AppendPadded(static_cast<int64_t>(rest / kMicrosPerHour), 2, out);
  out->push_back(':');
  AppendPadded(static_cast<int64_t>(rest / kMicrosPerMinute % 60), 2, out);
  out->push_back(':');
  AppendPadded(static_cast<int64_t>(rest / kMicrosPerSecond % 60), 2, out);
  AppendFraction(static_cast<int64_t>(rest % kMicrosPerSecond), out);
  *out += "' DAY TO SECOND";
}

void AppendYearMonthInterval(int32_t months, std::string* out) {
  *out += "INTERVAL '";
  int64_t m = months;
  if (m < 0) {
    out->push_back('-');
    m = -m;
  }
  AppendInt(m / 12, out);
  out->push_back('-');
  AppendInt(m % 12, out);
  *out += "' YEAR TO MONTH";
}

// Spark's CalendarInterval.toString: "1 years 2 months 3 days 4 hours 5 minutes 6.5 seconds".
void AppendCalendarInterval(int32_t months, int32_t days, int64_t nanos, std::string* out) {
  int64_t micros = nanos / 1000;
  if (months == 0 && days == 0 && micros == 0) {
    *out += "0 seconds";
    return;
  }
  size_t start = out->size();
  auto unit = [&](int64_t v, const char* name) {
    if (v == 0) return;
    AppendInt(v, out);
    out->push_back(' ');
    *out += name;
    out->push_back(' ');
  };
  unit(months / 12, "years");
  unit(months % 12, "months");
  unit(days, "days");
  unit(micros / kMicrosPerHour, "hours");
  micros %= kMicrosPerHour;
  unit(micros / kMicrosPerMinute, "minutes");
  micros %= kMicrosPerMinute;
  if (micros != 0) {
    if (micros < 0) {
      out->push_back('-');
      micros = -micros;
    }
    AppendInt(micros / kMicrosPerSecond, out);
    AppendFraction(micros % kMicrosPerSecond, out);
    *out += " seconds ";
  }
  if (out->size() > start) out->pop_back();  // trailing space
}

// ---------------------------------------------------------------------------
// Numbers.

// JDK 17's FloatingDecimal.dtoa takes a fast path for integer-valued numbers
// below 2^63: it prints the exact integer, rounded to drop only
// floor(log10(2^(binExp - significand_bits - 1))) low digits, which can give
// more digits than the shortest form (Float 2.82198298E9, not 2.821983E9).
// Spark on Java 17 shows those digits, so we do too. Returns false when the
// fast path does not apply.
template <typename T>
bool Jdk17IntegerDigits(T a, char* digits, int* n, int* exp) {
  constexpr int kSignificandBits = std::numeric_limits<T>::digits;  // 53 or 24
  if (!(a < 9223372036854775808.0) || a != std::floor(a)) return false;
  int bin_exp = std::ilogb(a);
  auto value = static_cast<uint64_t>(a);
  int insignificant = 0;
  int p2 = bin_exp - kSignificandBits - 1;
  if (bin_exp > kSignificandBits && p2 > 1) {
    // floor(log10(2^p2)), as the JDK's insignificantDigitsNumber table.
    insignificant = static_cast<int>(std::floor(p2 * 0.30102999566398120));
  }
  if (insignificant > 0) {
    uint64_t pow10 = 1;
    for (int i = 0; i < insignificant; ++i) pow10 *= 10;
    uint64_t residue = value % pow10;
    value /= pow10;
    if (residue >= pow10 / 2) ++value;
  }
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), value);
  int len = static_cast<int>(r.ptr - buf);
  *exp = len - 1 + insignificant;
  while (len > 1 && buf[len - 1] == '0') --len;
  std::memcpy(digits, buf, len);
  *n = len;
  return true;
}

// Java's Double.toString / Float.toString layout: plain "123.45" when
// 1e-3 <= |v| < 1e7, otherwise computerized scientific notation "1.2345E-5";
// always a digit after the point. The digits are the shortest that round-trip
// (what JDK 19+ prints; JDK 17 agrees except for the integer fast path above).
template <typename T>
void AppendJavaFloating(T v, std::string* out) {
  if (std::isnan(v)) {
    *out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    *out += v > 0 ? "Infinity" : "-Infinity";
    return;
  }
  if (v == 0) {
    *out += std::signbit(v) ? "-0.0" : "0.0";
    return;
  }
  if (v < 0) out->push_back('-');
  T a = std::fabs(v);
  char digits[32];
  int n = 0;
  int exp = 0;
  if (!Jdk17IntegerDigits(a, digits, &n, &exp)) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::scientific);
    if (r.ptr - buf < 3 || buf[1] != '.') {
      // One significant digit: Java renders at least two, choosing the two-digit
      // decimal closest to the value (Double.MIN_VALUE is "4.9E-324", not "5.0E-324").
      r = std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::scientific, 1);
    }
    // buf holds d[.ddd]e(+|-)xx
    const char* p = buf;
    while (p < r.ptr && *p != 'e') {
      if (*p != '.') digits[n++] = *p;
      ++p;
    }
    while (n > 1 && digits[n - 1] == '0') --n;
    std::from_chars(p + 1 + (p[1] == '+'), r.ptr, exp);
  }
  if (exp >= -3 && exp < 7) {
    if (exp >= 0) {
      for (int i = 0; i <= exp; ++i) out->push_back(i < n ? digits[i] : '0');
      out->push_back('.');
      if (n > exp + 1) {
        out->append(digits + exp + 1, n - exp - 1);
      } else {
        out->push_back('0');
      }
    } else {
      *out += "0.";
      out->append(static_cast<size_t>(-exp - 1), '0');
      out->append(digits, n);
    }
  } else {
    out->push_back(digits[0]);
    out->push_back('.');
    if (n > 1) {
      out->append(digits + 1, n - 1);
    } else {
      out->push_back('0');
    }
    out->push_back('E');
    AppendInt(exp, out);
  }
}

template <typename RunEndArray>
int64_t RunIndexIn(const arrow::Array& run_ends, int64_t logical) {
  const auto& ends = checked_cast<const RunEndArray&>(run_ends);
  const auto* begin = ends.raw_values();
  const auto* end = begin + ends.length();
  return std::upper_bound(begin, end, logical) - begin;
}

// Physical index in values() of logical element i of a run-end encoded array.
int64_t RunIndex(const arrow::RunEndEncodedArray& r, int64_t i) {
  int64_t logical = r.offset() + i;
  switch (r.run_ends()->type_id()) {
    case arrow::Type::INT16:
      return RunIndexIn<arrow::Int16Array>(*r.run_ends(), logical);
    case arrow::Type::INT32:
      return RunIndexIn<arrow::Int32Array>(*r.run_ends(), logical);
    default:
      return RunIndexIn<arrow::Int64Array>(*r.run_ends(), logical);
  }
}

// Plain decimal text of an unscaled integer string ("-5", scale 2 -> "-0.05").
void AppendDecimalText(const std::string& unscaled, int32_t scale, std::string* out) {
  std::string_view digits = unscaled;
  if (!digits.empty() && digits[0] == '-') {
    out->push_back('-');
    digits.remove_prefix(1);
  }
  if (scale <= 0) {
    out->append(digits);
    out->append(static_cast<size_t>(-scale), '0');
    return;
  }
  size_t s = static_cast<size_t>(scale);
  if (digits.size() <= s) {
    *out += "0.";
    out->append(s - digits.size(), '0');
    out->append(digits);
  } else {
    out->append(digits.substr(0, digits.size() - s));
    out->push_back('.');
    out->append(digits.substr(digits.size() - s));
  }
}

}  // namespace

std::string DecodeUtf8Lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size(), i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // Length and valid range of the second byte (Unicode Table 3-7); a
    // malformed sequence is replaced by one U+FFFD per maximal subpart.
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    size_t consumed = 1;  // the lead byte plus the continuation bytes that were valid
    bool ok = len > 0;
    for (size_t k = 1; ok && k < len; ++k) {
      size_t j = i + k;
      unsigned char lo_k = k == 1 ? lo : 0x80, hi_k = k == 1 ? hi : 0xBF;
      if (j >= n || s[j] < lo_k || s[j] > hi_k) {
        ok = false;
      } else {
        consumed = k + 1;
      }
    }
    if (ok) {
      out.append(bytes.data() + i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      i += consumed;
    }
  }
  return out;
}

std::string FormatBinaryHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "[";
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out.push_back(' ');
    auto b = static_cast<unsigned char>(bytes[i]);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  out.push_back(']');
  return out;
}

std::string FormatDouble(double v) {
  std::string out;
  AppendJavaFloating(v, &out);
  return out;
}

std::string FormatFloat(float v) {
  std::string out;
  AppendJavaFloating(v, &out);
  return out;
}

std::string FormatDate(int32_t days) {
  std::string out;
  AppendDate(days, &out);
  return out;
}

std::string FormatTimestamp(int64_t micros, const TimeZone* tz) {
  std::string out;
  AppendLocalTimestamp(tz == nullptr ? micros : tz->ToLocalMicros(micros), &out);
  return out;
}

// ---------------------------------------------------------------------------
// Arrays.

namespace {

class ValueFormatter {
 public:
  explicit ValueFormatter(TimeZone tz) : tz_(std::move(tz)) {}

  // Appends element i (non-null) of `a`.
  void Append(const arrow::Array& a, int64_t i, std::string* out) {
    using arrow::Type;
    switch (a.type_id()) {
      case Type::NA:
        *out += "null";
        return;
      case Type::BOOL:
        *out += checked_cast<const arrow::BooleanArray&>(a).Value(i) ? "true" : "false";
        return;
      case Type::INT8:
        return AppendInt(checked_cast<const arrow::Int8Array&>(a).Value(i), out);
      case Type::INT16:
        return AppendInt(checked_cast<const arrow::Int16Array&>(a).Value(i), out);
      case Type::INT32:
        return AppendInt(checked_cast<const arrow::Int32Array&>(a).Value(i), out);
      case Type::INT64:
        return AppendInt(checked_cast<const arrow::Int64Array&>(a).Value(i), out);
      case Type::UINT8:
        return AppendUInt(checked_cast<const arrow::UInt8Array&>(a).Value(i), out);
      case Type::UINT16:
        return AppendUInt(checked_cast<const arrow::UInt16Array&>(a).Value(i), out);
      case Type::UINT32:
        return AppendUInt(checked_cast<const arrow::UInt32Array&>(a).Value(i), out);
      case Type::UINT64:
        return AppendUInt(checked_cast<const arrow::UInt64Array&>(a).Value(i), out);
      case Type::HALF_FLOAT:
        return AppendJavaFloating(arrow::util::Float16::FromBits(checked_cast<const arrow::HalfFloatArray&>(a).Value(i)).ToFloat(), out);
      case Type::FLOAT:
        return AppendJavaFloating(checked_cast<const arrow::FloatArray&>(a).Value(i), out);
      case Type::DOUBLE:
        return AppendJavaFloating(checked_cast<const arrow::DoubleArray&>(a).Value(i), out);
      case Type::DECIMAL128: {
        const auto& d = checked_cast<const arrow::Decimal128Array&>(a);
        arrow::Decimal128 v(d.GetValue(i));
        return AppendDecimalText(v.ToIntegerString(),
                                 checked_cast<const arrow::DecimalType&>(*a.type()).scale(), out);
      }
      case Type::DECIMAL256: {
        const auto& d = checked_cast<const arrow::Decimal256Array&>(a);
        arrow::Decimal256 v(d.GetValue(i));
        return AppendDecimalText(v.ToIntegerString(),
                                 checked_cast<const arrow::DecimalType&>(*a.type()).scale(), out);
      }
      case Type::STRING:
        out->append(checked_cast<const arrow::StringArray&>(a).GetView(i));
        return;
      case Type::LARGE_STRING:
        out->append(checked_cast<const arrow::LargeStringArray&>(a).GetView(i));
        return;
      case Type::STRING_VIEW:
        out->append(checked_cast<const arrow::StringViewArray&>(a).GetView(i));
        return;
      case Type::BINARY:
        *out += DecodeUtf8Lossy(checked_cast<const arrow::BinaryArray&>(a).GetView(i));
        return;
      case Type::LARGE_BINARY:
        *out += DecodeUtf8Lossy(checked_cast<const arrow::LargeBinaryArray&>(a).GetView(i));
        return;
      case Type::BINARY_VIEW:
        *out += DecodeUtf8Lossy(checked_cast<const arrow::BinaryViewArray&>(a).GetView(i));
        return;
      case Type::FIXED_SIZE_BINARY:
        *out += DecodeUtf8Lossy(checked_cast<const arrow::FixedSizeBinaryArray&>(a).GetView(i));
        return;
      case Type::DATE32:
        return AppendDate(checked_cast<const arrow::Date32Array&>(a).Value(i), out);
      case Type::DATE64:
        return AppendDate(
            FloorDiv(checked_cast<const arrow::Date64Array&>(a).Value(i), 86400000), out);
      case Type::TIMESTAMP: {
        const auto& t = checked_cast<const arrow::TimestampType&>(*a.type());
        int64_t micros = ToMicros(checked_cast<const arrow::TimestampArray&>(a).Value(i), t.unit());
        if (!t.timezone().empty()) micros = tz_.ToLocalMicros(micros);
        return AppendLocalTimestamp(micros, out);
      }
      case Type::DURATION: {
        const auto& t = checked_cast<const arrow::DurationType&>(*a.type());
        return AppendDayTimeInterval(
            ToMicros(checked_cast<const arrow::DurationArray&>(a).Value(i), t.unit()), out);
      }
      case Type::INTERVAL_MONTHS:
        return AppendYearMonthInterval(checked_cast<const arrow::MonthIntervalArray&>(a).Value(i),
                                       out);
      case Type::INTERVAL_DAY_TIME: {
        auto v = checked_cast<const arrow::DayTimeIntervalArray&>(a).GetValue(i);
        return AppendDayTimeInterval(v.days * kMicrosPerDay + v.milliseconds * int64_t{1000}, out);
      }
      case Type::INTERVAL_MONTH_DAY_NANO: {
        auto v = checked_cast<const arrow::MonthDayNanoIntervalArray&>(a).GetValue(i);
        return AppendCalendarInterval(v.months, v.days, v.nanoseconds, out);
      }
      case Type::LIST: {
        const auto& l = checked_cast<const arrow::ListArray&>(a);
        return AppendSequence(*l.values(), l.value_offset(i), l.value_length(i), out);
      }
      case Type::LARGE_LIST: {
        const auto& l = checked_cast<const arrow::LargeListArray&>(a);
        return AppendSequence(*l.values(), l.value_offset(i), l.value_length(i), out);
      }
      case Type::FIXED_SIZE_LIST: {
        const auto& l = checked_cast<const arrow::FixedSizeListArray&>(a);
        return AppendSequence(*l.values(), l.value_offset(i), l.value_length(i), out);
      }
      case Type::MAP: {
        const auto& m = checked_cast<const arrow::MapArray&>(a);
        const arrow::Array& keys = *m.keys();
        const arrow::Array& items = *m.items();
        int64_t start = m.value_offset(i), len = m.value_length(i);
        out->push_back('{');
        for (int64_t j = start; j < start + len; ++j) {
          if (j > start) *out += ", ";
          AppendNested(keys, j, out);
          *out += " -> ";
          AppendNested(items, j, out);
        }
        out->push_back('}');
        return;
      }
      case Type::STRUCT: {
        const auto& s = checked_cast<const arrow::StructArray&>(a);
        out->push_back('{');
        for (int f = 0; f < s.num_fields(); ++f) {
          if (f > 0) *out += ", ";
          AppendNested(*s.field(f), i, out);
        }
        out->push_back('}');
        return;
      }
      case Type::DICTIONARY: {
        const auto& d = checked_cast<const arrow::DictionaryArray&>(a);
        return AppendNested(*d.dictionary(), d.GetValueIndex(i), out);
      }
      case Type::RUN_END_ENCODED: {
        const auto& r = checked_cast<const arrow::RunEndEncodedArray&>(a);
        return AppendNested(*r.values(), RunIndex(r, i), out);
      }
      case Type::EXTENSION:
        return Append(*checked_cast<const arrow::ExtensionArray&>(a).storage(), i, out);
      default: {
        auto scalar = a.GetScalar(i);
        *out += scalar.ok() ? (*scalar)->ToString() : "?";
        return;
      }
    }
  }

  void AppendNested(const arrow::Array& a, int64_t i, std::string* out) {
    if (a.IsNull(i)) {
      *out += "null";
    } else {
      Append(a, i, out);
    }
  }

  TimeZone& tz() { return tz_; }

 private:
  void AppendSequence(const arrow::Array& values, int64_t start, int64_t len, std::string* out) {
    out->push_back('[');
    for (int64_t j = start; j < start + len; ++j) {
      if (j > start) *out += ", ";
      AppendNested(values, j, out);
    }
    out->push_back(']');
  }

  TimeZone tz_;
};

// One pass over `a`: `fn(i, &buf)` appends the text of non-null element i.
template <typename Fn>
Status FormatLoop(const arrow::Array& a, Fn&& fn, std::shared_ptr<arrow::Array>* result) {
  arrow::StringBuilder builder;
  LS_RETURN_NOT_OK(builder.Reserve(a.length()));
  std::string buf;
  for (int64_t i = 0; i < a.length(); ++i) {
    if (a.IsNull(i)) {
      LS_RETURN_NOT_OK(builder.AppendNull());
      continue;
    }
    buf.clear();
    fn(i, &buf);
    LS_RETURN_NOT_OK(builder.Append(buf));
  }
  return builder.Finish(result);
}

}  // namespace

std::string FormatValue(const arrow::Array& array, int64_t i, const FormatOptions& options) {
  if (array.IsNull(i)) return options.null_text;
  auto tz = TimeZone::Make(options.time_zone);
  ValueFormatter formatter(tz.ok() ? std::move(*tz) : TimeZone::Utc());
  std::string out;
  formatter.Append(array, i, &out);
  return out;
}

Result<std::shared_ptr<arrow::Array>> FormatArray(const arrow::Array& array,
                                                  const FormatOptions& options) {
  using arrow::Type;
  std::shared_ptr<arrow::Array> result;
  // The common flat types get a loop of their own; everything else goes
  // through the general per-element formatter.
  switch (array.type_id()) {
    case Type::STRING:
      return array.Slice(0);  // already its own text
    case Type::INT32: {
      const auto& a = checked_cast<const arrow::Int32Array&>(array);
      LS_RETURN_NOT_OK(FormatLoop(array, [&](int64_t i, std::string* o) { AppendInt(a.Value(i), o); },
                                  &result));
      return result;
    }
    case Type::INT64: {
      const auto& a = checked_cast<const arrow::Int64Array&>(array);
      LS_RETURN_NOT_OK(FormatLoop(array, [&](int64_t i, std::string* o) { AppendInt(a.Value(i), o); },
                                  &result));
      return result;
    }
    case Type::DOUBLE: {
      const auto& a = checked_cast<const arrow::DoubleArray&>(array);
      LS_RETURN_NOT_OK(FormatLoop(
          array, [&](int64_t i, std::string* o) { AppendJavaFloating(a.Value(i), o); }, &result));
      return result;
    }
    case Type::DATE32: {
      const auto& a = checked_cast<const arrow::Date32Array&>(array);
      LS_RETURN_NOT_OK(FormatLoop(array, [&](int64_t i, std::string* o) { AppendDate(a.Value(i), o); },
                                  &result));
      return result;
    }
    case Type::TIMESTAMP: {
      const auto& t = checked_cast<const arrow::TimestampType&>(*array.type());
      const auto& a = checked_cast<const arrow::TimestampArray&>(array);
      if (t.timezone().empty()) {
        LS_RETURN_NOT_OK(FormatLoop(
            array,
            [&](int64_t i, std::string* o) { AppendLocalTimestamp(ToMicros(a.Value(i), t.unit()), o); },
            &result));
        return result;
      }
      LS_ASSIGN_OR_RAISE(TimeZone tz, TimeZone::Make(options.time_zone));
      LS_RETURN_NOT_OK(FormatLoop(
          array,
          [&](int64_t i, std::string* o) {
            AppendLocalTimestamp(tz.ToLocalMicros(ToMicros(a.Value(i), t.unit())), o);
          },
          &result));
      return result;
    }
    default: {
      LS_ASSIGN_OR_RAISE(TimeZone tz, TimeZone::Make(options.time_zone));
      ValueFormatter formatter(std::move(tz));
      LS_RETURN_NOT_OK(FormatLoop(
          array, [&](int64_t i, std::string* o) { formatter.Append(array, i, o); }, &result));
      return result;
    }
  }
}

}  // namespace lakestream::types
