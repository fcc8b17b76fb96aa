// Spark's text form of values (Cast.castToString): Java's double spelling,
// plain decimals, dates and timestamps in the session time zone, ANSI interval
// strings, and the "[a, b]" / "{k -> v}" / "{a, b}" forms of nested values.
// Time zones come from Arrow's vendored copy of Howard Hinnant's date/tz
// library over the OS tz database (gcc 12's libstdc++ has no
// std::chrono::locate_zone), plus the POSIX rule in each tz file's footer for
// instants after its last listed transition; checked against java.time on
// 48k instants in 16 zones (1840-2440).
#include "types/value_format.h"

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/extension_type.h>
#include <arrow/util/bitmap_ops.h>
#include <arrow/util/checked_cast.h>
#include <arrow/util/decimal.h>
#include <arrow/util/float16.h>
#include <arrow/vendored/datetime.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "types/types.h"

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

namespace {

// Howard Hinnant's days_from_civil (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// The POSIX TZ rule in a TZif file's footer ("PST8PDT,M3.2.0,M11.1.0"), which
// gives the offsets after the file's last transition. Arrow's vendored tz
// library ignores it when reading the OS database, so without it every date
// after 2037 would keep the last transition's offset (summer in standard time).
struct PosixRule {
  struct When {
    unsigned month, week, weekday;
    int64_t time;  // seconds after local midnight, may be negative or > 24h
  };
  int64_t std_offset = 0;  // seconds east of UTC
  int64_t dst_offset = 0;
  bool has_dst = false;
  When start{}, end{};

  static bool ParseName(std::string_view s, size_t* i) {
    if (*i < s.size() && s[*i] == '<') {
      size_t close = s.find('>', *i);
      if (close == std::string_view::npos) return false;
      *i = close + 1;
      return true;
    }
    size_t begin = *i;
    while (*i < s.size() && ((s[*i] >= 'a' && s[*i] <= 'z') || (s[*i] >= 'A' && s[*i] <= 'Z'))) ++*i;
    return *i - begin >= 3;
  }

  // [+-]hh[:mm[:ss]], hours up to 167.
  static bool ParseTime(std::string_view s, size_t* i, int64_t* secs) {
    int sign = 1;
    if (*i < s.size() && (s[*i] == '+' || s[*i] == '-')) sign = s[(*i)++] == '-' ? -1 : 1;
    int h = 0, m = 0, sec = 0;
    if (!ParseDigits(s, i, 3, &h) || h > 167) return false;
    if (*i < s.size() && s[*i] == ':') {
      ++*i;
      if (!ParseDigits(s, i, 2, &m)) return false;
      if (*i < s.size() && s[*i] == ':') {
        ++*i;
        if (!ParseDigits(s, i, 2, &sec)) return false;
      }
    }
    *secs = sign * (h * 3600 + m * 60 + sec);
    return true;
  }

  // Mm.w.d[/time]; the Jn and n forms are not used by the tz database.
  static bool ParseWhen(std::string_view s, size_t* i, When* w) {
    if (*i >= s.size() || s[*i] != 'M') return false;
    ++*i;
    int m, wk, d;
    if (!ParseDigits(s, i, 2, &m) || *i >= s.size() || s[(*i)++] != '.' ||
        !ParseDigits(s, i, 1, &wk) || *i >= s.size() || s[(*i)++] != '.' ||
        !ParseDigits(s, i, 1, &d)) {
      return false;
    }
    if (m < 1 || m > 12 || wk < 1 || wk > 5 || d > 6) return false;
    *w = {static_cast<unsigned>(m), static_cast<unsigned>(wk), static_cast<unsigned>(d), 7200};
    if (*i < s.size() && s[*i] == '/') {
      ++*i;
      if (!ParseTime(s, i, &w->time)) return false;
    }
    return true;
  }

  static bool Parse(std::string_view s, PosixRule* r) {
    size_t i = 0;
    int64_t off;
    if (!ParseName(s, &i) || !ParseTime(s, &i, &off)) return false;
    r->std_offset = -off;  // POSIX offsets are positive west of Greenwich
    if (i == s.size()) return true;
    if (!ParseName(s, &i)) return false;
    r->has_dst = true;
    r->dst_offset = r->std_offset + 3600;
    if (i < s.size() && s[i] != ',') {
      if (!ParseTime(s, &i, &off)) return false;
      r->dst_offset = -off;
    }
    if (i >= s.size() || s[i++] != ',' || !ParseWhen(s, &i, &r->start) || i >= s.size() ||
        s[i++] != ',' || !ParseWhen(s, &i, &r->end)) {
      return false;
    }
    return i == s.size();
  }

  // UTC second of a transition in `year`, given the offset in force before it.
  static int64_t TransitionUtc(int64_t year, const When& w, int64_t offset_before) {
    int64_t first = DaysFromCivil(year, w.month, 1);
    auto first_weekday = static_cast<unsigned>(((first + 4) % 7 + 7) % 7);  // 0 = Sunday
    unsigned day = 1 + (w.weekday + 7 - first_weekday) % 7 + (w.week - 1) * 7;
    static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    unsigned days_in_month = kDays[w.month - 1] + (w.month == 2 && leap);
    while (day > days_in_month) day -= 7;
    return (first + day - 1) * 86400 + w.time - offset_before;
  }

  int64_t Offset(int64_t utc_seconds) const {
    if (!has_dst) return std_offset;
    int64_t days = FloorDiv(utc_seconds + std_offset, 86400);
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    int64_t s = TransitionUtc(y, start, std_offset);
    int64_t e = TransitionUtc(y, end, dst_offset);
    bool in_dst = s < e ? (utc_seconds >= s && utc_seconds < e) : !(utc_seconds >= e && utc_seconds < s);
    return in_dst ? dst_offset : std_offset;
  }
};

// Reads the footer rule of the TZif file of `name`; false when there is none.
bool ReadFooterRule(std::string_view name, PosixRule* rule) {
  const char* dir = std::getenv("TZDIR");
  std::string path = std::string(dir != nullptr ? dir : "/usr/share/zoneinfo") + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() < 6 || data.compare(0, 4, "TZif") != 0 || data[4] < '2' || data.back() != '\n') {
    return false;
  }
  size_t nl = data.rfind('\n', data.size() - 2);
  if (nl == std::string::npos) return false;
  return PosixRule::Parse(std::string_view(data).substr(nl + 1, data.size() - nl - 2), rule);
}

}  // namespace

// The offset periods of a region between 1900 and its last transition in the
// tz database, computed once per process (a lookup in the database costs a
// search and a string allocation; here it is a binary search), then its POSIX
// footer rule for later instants.
struct TimeZone::Periods {
  static constexpr int64_t kBegin = -2208988800;  // 1900-01-01T00:00:00Z
  static constexpr int64_t kEnd = 4102444800;     // 2100-01-01T00:00:00Z
  struct Period {
    int64_t begin;
    int64_t offset;
  };
  const tzlib::time_zone* zone;
  std::vector<Period> periods;  // sorted by begin; each lasts until the next one's begin
  bool has_rule = false;
  PosixRule rule;  // applies from periods.back().begin on, when has_rule

  Periods(const tzlib::time_zone* z, std::string_view name) : zone(z) {
    int64_t t = kBegin;
    while (t < kEnd) {
      tzlib::sys_info info = zone->get_info(tzlib::sys_seconds{std::chrono::seconds{t}});
      periods.push_back({t, info.offset.count()});
      int64_t next = info.end.time_since_epoch().count();
      if (next <= t) break;
      t = next;
    }
    has_rule = ReadFooterRule(name, &rule);
  }

  int64_t Offset(int64_t utc_seconds) const {
    if (has_rule && utc_seconds >= periods.back().begin) return rule.Offset(utc_seconds);
    if (utc_seconds < kBegin || utc_seconds >= kEnd) {
      return zone->get_info(tzlib::sys_seconds{std::chrono::seconds{utc_seconds}}).offset.count();
    }
    auto it = std::upper_bound(periods.begin(), periods.end(), utc_seconds,
                               [](int64_t t, const Period& p) { return t < p.begin; });
    return std::prev(it)->offset;
  }

  static Result<std::shared_ptr<const Periods>> For(std::string_view name) {
    static std::mutex mu;
    static std::map<std::string, std::shared_ptr<const Periods>, std::less<>> cache;
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(name);
    if (it != cache.end()) return it->second;
    const tzlib::time_zone* zone;
    try {
      zone = tzlib::locate_zone(name);
    } catch (const std::exception&) {
      return Status::KeyError("");
    }
    auto periods = std::make_shared<const Periods>(zone, name);
    cache.emplace(std::string(name), periods);
    return periods;
  }
};

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
  auto periods = Periods::For(target);
  if (!periods.ok()) {
    return UserError(
        "unknown time zone '{}': expected a region id such as 'America/Los_Angeles' or an "
        "offset such as '+05:30'",
        id);
  }
  tz.periods_ = std::move(*periods);
  return tz;
}

TimeZone TimeZone::Utc() {
  TimeZone tz;
  tz.id_ = "UTC";
  return tz;
}

int64_t TimeZone::OffsetSeconds(int64_t utc_seconds) const {
  if (periods_ == nullptr) return fixed_offset_;
  return periods_->Offset(utc_seconds);
}

int64_t TimeZone::ToLocalMicros(int64_t utc_micros) const {
  return utc_micros + OffsetSeconds(FloorDiv(utc_micros, kMicrosPerSecond)) * kMicrosPerSecond;
}

int64_t TimeZone::ToUtcMicros(int64_t local_micros) const {
  if (periods_ == nullptr) return local_micros - fixed_offset_ * kMicrosPerSecond;
  // Offsets change at most once within a day around any instant, so the
  // offsets a day before and after bracket the candidates.
  int64_t local = FloorDiv(local_micros, kMicrosPerSecond);
  int64_t before = OffsetSeconds(local - 86400);
  int64_t after = OffsetSeconds(local + 86400);
  int64_t offset = before;
  if (before != after) {
    bool before_fits = OffsetSeconds(local - before) == before;
    bool after_fits = OffsetSeconds(local - after) == after;
    // Overlap (both fit): the earlier offset. Gap (neither): the offset before
    // the gap, which moves the wall time forward by the gap's length.
    if (!before_fits && after_fits) offset = after;
  }
  return local_micros - offset * kMicrosPerSecond;
}

// ---------------------------------------------------------------------------
// Dates and times.

namespace {

inline void Put2(unsigned v, char* p) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

void AppendDate(int64_t days, std::string* out) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  // java.time's ISO year: 4 digits, "+" beyond 9999, "-" before year 0.
  if (y >= 0 && y <= 9999) {
    char buf[10];
    auto yy = static_cast<unsigned>(y);
    Put2(yy / 100, buf);
    Put2(yy % 100, buf + 2);
    buf[4] = '-';
    Put2(m, buf + 5);
    buf[7] = '-';
    Put2(d, buf + 8);
    out->append(buf, 10);
    return;
  }
  if (y > 9999) {
    out->push_back('+');
    AppendInt(y, out);
  } else {
    out->push_back('-');
    AppendPadded(-y, 4, out);
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
  auto secs = static_cast<unsigned>(rest / kMicrosPerSecond);
  char buf[9];
  buf[0] = ' ';
  Put2(secs / 3600, buf + 1);
  buf[3] = ':';
  Put2(secs / 60 % 60, buf + 4);
  buf[6] = ':';
  Put2(secs % 60, buf + 7);
  out->append(buf, 9);
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

// Spark's IntervalUtils.toDayTimeIntervalString, ANSI style: the start field
// unbounded (days as they are, hours and minutes at least two digits,
// seconds with their fraction), the later fields up to the end field bounded
// and two digits wide; what lies below the end field is not shown.
void AppendDayTimeInterval(int64_t micros, DayTimeField start, DayTimeField end, std::string* out) {
  *out += "INTERVAL '";
  uint64_t rest = static_cast<uint64_t>(micros);
  if (micros < 0) {
    out->push_back('-');
    rest = 0 - rest;  // well defined for INT64_MIN too
  }
  auto seconds = [&]() {
    if (rest < 10 * static_cast<uint64_t>(kMicrosPerSecond)) out->push_back('0');
    AppendUInt(rest / kMicrosPerSecond, out);
    AppendFraction(static_cast<int64_t>(rest % kMicrosPerSecond), out);
  };
  switch (start) {
    case DayTimeField::kDay:
      AppendUInt(rest / kMicrosPerDay, out);
      rest %= kMicrosPerDay;
      break;
    case DayTimeField::kHour:
      AppendPadded(static_cast<int64_t>(rest / kMicrosPerHour), 2, out);
      rest %= kMicrosPerHour;
      break;
    case DayTimeField::kMinute:
      AppendPadded(static_cast<int64_t>(rest / kMicrosPerMinute), 2, out);
      rest %= kMicrosPerMinute;
      break;
    case DayTimeField::kSecond:
      seconds();
      break;
  }
  if (start < DayTimeField::kHour && DayTimeField::kHour <= end) {
    out->push_back(' ');
    AppendPadded(static_cast<int64_t>(rest / kMicrosPerHour), 2, out);
    rest %= kMicrosPerHour;
  }
  if (start < DayTimeField::kMinute && DayTimeField::kMinute <= end) {
    out->push_back(':');
    AppendPadded(static_cast<int64_t>(rest / kMicrosPerMinute), 2, out);
    rest %= kMicrosPerMinute;
  }
  if (start < DayTimeField::kSecond && DayTimeField::kSecond <= end) {
    out->push_back(':');
    seconds();
  }
  *out += "' ";
  *out += DayTimeFieldName(start);
  if (end != start) {
    *out += " TO ";
    *out += DayTimeFieldName(end);
  }
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
        const auto [start, end] = DayTimeFields(t);
        return AppendDayTimeInterval(
            ToMicros(checked_cast<const arrow::DurationArray&>(a).Value(i), t.unit()), start, end,
            out);
      }
      case Type::INTERVAL_MONTHS:
        return AppendYearMonthInterval(checked_cast<const arrow::MonthIntervalArray&>(a).Value(i),
                                       out);
      case Type::INTERVAL_DAY_TIME: {
        auto v = checked_cast<const arrow::DayTimeIntervalArray&>(a).GetValue(i);
        return AppendDayTimeInterval(v.days * kMicrosPerDay + v.milliseconds * int64_t{1000},
                                     DayTimeField::kDay, DayTimeField::kSecond, out);
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
// One pass over `a`: `fn(i, &data)` appends the text of non-null element i to
// the value buffer directly; the result shares nothing with `a` but copies its
// validity (a value is NULL exactly when the input is).
template <typename Fn>
Status FormatLoop(const arrow::Array& a, Fn&& fn, std::shared_ptr<arrow::Array>* result) {
  const int64_t n = a.length();
  LS_ASSIGN_OR_RAISE(auto offsets, arrow::AllocateBuffer((n + 1) * sizeof(int32_t)));
  auto* offs = reinterpret_cast<int32_t*>(offsets->mutable_data());
  std::string data;
  data.reserve(static_cast<size_t>(n) * 8);
  offs[0] = 0;
  const bool may_have_nulls = a.null_count() != 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!may_have_nulls || a.IsValid(i)) fn(i, &data);
    offs[i + 1] = static_cast<int32_t>(data.size());
  }
  if (data.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return ExecutionError("formatted strings of {} values exceed 2 GiB; use smaller batches", n);
  }
  LS_ASSIGN_OR_RAISE(auto values, arrow::AllocateBuffer(static_cast<int64_t>(data.size())));
  if (!data.empty()) std::memcpy(values->mutable_data(), data.data(), data.size());
  std::shared_ptr<arrow::Buffer> validity;
  if (may_have_nulls) {
    if (a.type_id() == arrow::Type::NA) {
      LS_ASSIGN_OR_RAISE(validity, arrow::AllocateEmptyBitmap(n));
    } else if (a.offset() == 0) {
      validity = a.null_bitmap();
    } else {
      LS_ASSIGN_OR_RAISE(validity, arrow::internal::CopyBitmap(arrow::default_memory_pool(),
                                                               a.null_bitmap_data(), a.offset(), n));
    }
  }
  *result = std::make_shared<arrow::StringArray>(n, std::move(offsets), std::move(values),
                                                 std::move(validity), a.null_count());
  return Status::OK();
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
