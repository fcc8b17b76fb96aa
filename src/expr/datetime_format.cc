// Spark datetime pattern compiler, formatter and parser; time zones. See
// datetime_format.h. Parsing follows Spark 3+'s DateTimeFormatter setup:
// case-insensitive, STRICT resolution (Feb 30 fails), fractions 'S..S' take
// 1..n digits, a variable-width number followed directly by fixed-width numbers
// leaves them their digits (Java's adjacent value parsing).
#include "expr/datetime_format.h"

#define USE_OS_TZDB 1
#include <arrow/vendored/datetime.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace lakestream::expr {

namespace date = arrow_vendored::date;

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

int DaysInMonth(int64_t y, unsigned m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2) {
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[m - 1];
}

// ---------------------------------------------------------------------------
// TimeZone

namespace {

bool ParseOffset(std::string_view s, int32_t* seconds) {
  // [+-]H, [+-]HH, [+-]HH:MM, [+-]HHMM, [+-]HH:MM:SS, [+-]HHMMSS
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return false;
  int sign = s[0] == '-' ? -1 : 1;
  s.remove_prefix(1);
  std::string digits;
  bool colon = s.find(':') != std::string_view::npos;
  int h = 0, m = 0, sec = 0;
  if (colon) {
    int parts[3] = {0, 0, 0};
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == ':') {
        auto part = s.substr(start, i - start);
        if (part.empty() || part.size() > 2 || k >= 3) return false;
        for (char c : part) {
          if (!std::isdigit(static_cast<unsigned char>(c))) return false;
        }
        if (k > 0 && part.size() != 2) return false;
        parts[k++] = std::stoi(std::string(part));
        start = i + 1;
      }
    }
    h = parts[0];
    m = parts[1];
    sec = parts[2];
  } else {
    for (char c : s) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    if (s.size() == 1 || s.size() == 2) {
      h = std::stoi(std::string(s));
    } else if (s.size() == 4) {
      h = std::stoi(std::string(s.substr(0, 2)));
      m = std::stoi(std::string(s.substr(2, 2)));
    } else if (s.size() == 6) {
      h = std::stoi(std::string(s.substr(0, 2)));
      m = std::stoi(std::string(s.substr(2, 2)));
      sec = std::stoi(std::string(s.substr(4, 2)));
    } else {
      return false;
    }
  }
  if (h > 18 || m > 59 || sec > 59) return false;
  *seconds = sign * (h * 3600 + m * 60 + sec);
  return *seconds >= -18 * 3600 && *seconds <= 18 * 3600;
}

std::string OffsetText(int32_t off, bool colon, bool with_seconds) {
  char buf[16];
  char sign = off < 0 ? '-' : '+';
  int32_t a = off < 0 ? -off : off;
  int h = a / 3600, m = (a / 60) % 60, s = a % 60;
  if (with_seconds && s != 0) {
    std::snprintf(buf, sizeof(buf), colon ? "%c%02d:%02d:%02d" : "%c%02d%02d%02d", sign, h, m, s);
  } else {
    std::snprintf(buf, sizeof(buf), colon ? "%c%02d:%02d" : "%c%02d%02d", sign, h, m);
  }
  return buf;
}

// Java's ZoneId.SHORT_IDS, which Spark passes to ZoneId.of.
const std::map<std::string, std::string, std::less<>>& ShortIds() {
  static const std::map<std::string, std::string, std::less<>> m = {
      {"ACT", "Australia/Darwin"},     {"AET", "Australia/Sydney"},
      {"AGT", "America/Argentina/Buenos_Aires"},
      {"ART", "Africa/Cairo"},         {"AST", "America/Anchorage"},
      {"BET", "America/Sao_Paulo"},    {"BST", "Asia/Dhaka"},
      {"CAT", "Africa/Harare"},        {"CNT", "America/St_Johns"},
      {"CST", "America/Chicago"},      {"CTT", "Asia/Shanghai"},
      {"EAT", "Africa/Addis_Ababa"},   {"ECT", "Europe/Paris"},
      {"IET", "America/Indiana/Indianapolis"},
      {"IST", "Asia/Kolkata"},         {"JST", "Asia/Tokyo"},
      {"MIT", "Pacific/Apia"},         {"NET", "Asia/Yerevan"},
      {"NST", "Pacific/Auckland"},     {"PLT", "Asia/Karachi"},
      {"PNT", "America/Phoenix"},      {"PRT", "America/Puerto_Rico"},
      {"PST", "America/Los_Angeles"},  {"SST", "Pacific/Guadalcanal"},
      {"VST", "Asia/Ho_Chi_Minh"},     {"EST", "-05:00"},
      {"MST", "-07:00"},               {"HST", "-10:00"},
  };
  return m;
}

}  // namespace

Result<TimeZone> TimeZone::Make(std::string_view id) {
  TimeZone tz;
  tz.id_ = std::string(id);
  if (id == "UTC" || id == "Z" || id == "GMT" || id == "UT" || id == "Etc/UTC" ||
      id == "Etc/GMT" || id == "utc") {
    return tz;
  }
  std::string_view rest = id;
  for (std::string_view prefix : {"UTC", "GMT", "UT"}) {
    if (id.size() > prefix.size() && id.substr(0, prefix.size()) == prefix &&
        (id[prefix.size()] == '+' || id[prefix.size()] == '-')) {
      rest = id.substr(prefix.size());
      break;
    }
  }
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    if (ParseOffset(rest, &tz.fixed_offset_)) return tz;
  } else {
    std::string_view name = id;
    auto it = ShortIds().find(id);
    if (it != ShortIds().end()) {
      name = it->second;
      if (name[0] == '-') {
        ParseOffset(name, &tz.fixed_offset_);
        return tz;
      }
    }
    try {
      tz.zone_ = date::locate_zone(name);
      return tz;
    } catch (const std::exception&) {
      // fall through to the error
    }
  }
  return UserError(
      "[INVALID_TIMEZONE] The timezone: {} is invalid. The timezone must be either a "
      "region-based zone ID or a zone offset. Region IDs must have the form 'area/city', such as "
      "'America/Los_Angeles'. Zone offsets must be in the format '(+|-)HH', '(+|-)HH:mm' or "
      "'(+|-)HH:mm:ss', e.g '-08', '+01:00' or '-13:33:33', and must be in the range from -18:00 "
      "to +18:00. 'Z' and 'UTC' are accepted as synonyms for '+00:00'.",
      id);
}

int32_t TimeZone::OffsetAt(int64_t utc_seconds) const {
  if (!zone_) return fixed_offset_;
  auto info = zone_->get_info(date::sys_seconds(std::chrono::seconds(utc_seconds)));
  return static_cast<int32_t>(info.offset.count());
}

int64_t TimeZone::LocalToUtc(int64_t local_micros) const {
  if (!zone_) return local_micros - int64_t{fixed_offset_} * kMicrosPerSecond;
  int64_t secs = FloorDiv(local_micros, kMicrosPerSecond);
  auto info = zone_->get_info(date::local_seconds(std::chrono::seconds(secs)));
  // unique: the one offset; ambiguous: the earlier offset (first); in a gap,
  // Java moves the time forward by the gap, i.e. applies the offset before it.
  return local_micros - static_cast<int64_t>(info.first.offset.count()) * kMicrosPerSecond;
}

std::string TimeZone::Abbreviation(int64_t utc_seconds) const {
  if (!zone_) {
    if (fixed_offset_ == 0) return id_ == "Z" ? "Z" : "UTC";
    return OffsetText(fixed_offset_, true, true);
  }
  return zone_->get_info(date::sys_seconds(std::chrono::seconds(utc_seconds))).abbrev;
}

// ---------------------------------------------------------------------------
// Pattern compilation

namespace {

const char* const kMonthShort[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const char* const kMonthLong[] = {"January", "February", "March",     "April",   "May",      "June",
                                  "July",    "August",   "September", "October", "November", "December"};
const char* const kDayShort[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
const char* const kDayLong[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                "Friday", "Saturday", "Sunday"};

Status BadPattern(std::string_view pattern, std::string_view why) {
  return UserError(
      "[INVALID_DATETIME_PATTERN] Unrecognized datetime pattern: '{}': {}. See "
      "https://spark.apache.org/docs/latest/sql-ref-datetime-pattern.html",
      pattern, why);
}

int MaxCount(char c) {
  switch (c) {
    case 'G': return 5;
    case 'y': return 10;
    case 'M': case 'L': return 5;
    case 'd': return 2;
    case 'D': return 3;
    case 'Q': case 'q': return 5;
    case 'E': return 5;
    case 'a': return 1;
    case 'h': case 'K': case 'k': case 'H': case 'm': case 's': return 2;
    case 'S': return 9;
    case 'V': return 2;
    case 'z': return 4;
    case 'O': return 4;
    case 'X': case 'x': case 'Z': return 5;
    case 'F': return 1;
    default: return 0;
  }
}

bool IsNumericItem(const DateTimeFormat::Item& it) {
  if (it.kind != DateTimeFormat::Kind::kField) return false;
  switch (it.letter) {
    case 'y': case 'd': case 'D': case 'h': case 'K': case 'k': case 'H': case 'm': case 's':
    case 'S':
      return true;
    case 'M': case 'L': case 'Q': case 'q':
      return it.count <= 2;
    default:
      return false;
  }
}

/// Digits a numeric item takes: [min, max]. 'yy' is two digits; 'y' 1..10.
void Width(const DateTimeFormat::Item& it, int* min, int* max) {
  switch (it.letter) {
    case 'y':
      if (it.count == 2) {
        *min = *max = 2;
      } else {
        *min = it.count;
        *max = 10;
      }
      return;
    case 'S':
      *min = 1;
      *max = it.count;
      return;
    default:
      if (it.count == 1) {
        *min = 1;
        *max = 9;
      } else {
        *min = *max = it.count;
      }
  }
}

void Pad(int64_t v, int width, std::string* out) {
  std::string s = std::to_string(v < 0 ? -v : v);
  if (v < 0) out->push_back('-');
  for (int i = static_cast<int>(s.size()); i < width; ++i) out->push_back('0');
  out->append(s);
}

bool MatchCI(std::string_view text, size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) !=
        std::tolower(static_cast<unsigned char>(word[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<DateTimeFormat> DateTimeFormat::Compile(std::string_view pattern) {
  DateTimeFormat f;
  f.pattern_ = std::string(pattern);
  int depth = 0;
  for (size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    if (c == '\'') {
      size_t j = i + 1;
      std::string lit;
      bool closed = false;
      while (j < pattern.size()) {
        if (pattern[j] == '\'') {
          if (j + 1 < pattern.size() && pattern[j + 1] == '\'') {
            lit += '\'';
            j += 2;
            continue;
          }
          closed = true;
          break;
        }
        lit += pattern[j++];
      }
      if (!closed) return BadPattern(pattern, "unclosed quote");
      if (j == i + 1) lit = "'";  // '' is a quote
      f.items_.push_back({Kind::kLiteral, 0, 0, lit});
      i = j + 1;
    } else if (c == '[') {
      ++depth;
      f.items_.push_back({Kind::kOptionalStart, 0, 0, {}});
      ++i;
    } else if (c == ']') {
      if (depth == 0) return BadPattern(pattern, "']' without '['");
      --depth;
      f.items_.push_back({Kind::kOptionalEnd, 0, 0, {}});
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < pattern.size() && pattern[j] == c) ++j;
      int count = static_cast<int>(j - i);
      if (c == 'Y' || c == 'w' || c == 'W' || c == 'u' || c == 'e' || c == 'c') {
        return UserError(
            "[INCONSISTENT_BEHAVIOR_CROSS_VERSION.DATETIME_PATTERN_RECOGNITION] You may get a "
            "different result due to the upgrading to Spark >= 3.0: Fail to recognize '{}' "
            "pattern in the DateTimeFormatter: all week-based patterns ('{}' here) are "
            "unsupported since Spark 3.0; use the SQL function EXTRACT instead.",
            pattern, c);
      }
      int max = MaxCount(c);
      if (max == 0) {
        return UserError(
            "[INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER] Unrecognized datetime pattern: {}. "
            "Illegal pattern character found in datetime pattern: {}. Please provide legal "
            "character.",
            pattern, c);
      }
      if (count > max) return BadPattern(pattern, fmt::format("too many pattern letters: {}", c));
      if (c == 'V' && count != 2) return BadPattern(pattern, "pattern letter count must be 2: V");
      f.items_.push_back({Kind::kField, c, count, {}});
      i = j;
    } else {
      std::string lit(1, c);
      if (!f.items_.empty() && f.items_.back().kind == Kind::kLiteral) {
        f.items_.back().text += lit;
      } else {
        f.items_.push_back({Kind::kLiteral, 0, 0, lit});
      }
      ++i;
    }
  }
  if (depth != 0) return BadPattern(pattern, "'[' without ']'");
  return f;
}

void DateTimeFormat::Format(int64_t local_micros, int32_t offset_seconds, const TimeZone& zone,
                            std::string* out) const {
  int64_t days = FloorDiv(local_micros, kMicrosPerDay);
  int64_t tod = local_micros - days * kMicrosPerDay;
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, &y, &mo, &d);
  int hour = static_cast<int>(tod / (3600 * kMicrosPerSecond));
  int minute = static_cast<int>(tod / (60 * kMicrosPerSecond) % 60);
  int second = static_cast<int>(tod / kMicrosPerSecond % 60);
  int64_t nanos = (tod % kMicrosPerSecond) * 1000;
  int dow = static_cast<int>(FloorMod(days + 3, 7));  // 0 = Monday (1970-01-01 was a Thursday)
  for (const auto& it : items_) {
    if (it.kind == Kind::kLiteral) {
      out->append(it.text);
      continue;
    }
    if (it.kind != Kind::kField) continue;
    switch (it.letter) {
      case 'G':
        out->append(it.count == 4 ? (y > 0 ? "Anno Domini" : "Before Christ")
                                  : (it.count == 5 ? (y > 0 ? "A" : "B") : (y > 0 ? "AD" : "BC")));
        break;
      case 'y': {
        int64_t yoe = y > 0 ? y : 1 - y;
        if (it.count == 2) {
          Pad(yoe % 100, 2, out);
        } else {
          Pad(yoe, it.count, out);
        }
        break;
      }
      case 'M':
      case 'L':
        if (it.count <= 2) {
          Pad(mo, it.count, out);
        } else if (it.count == 3) {
          out->append(kMonthShort[mo - 1]);
        } else if (it.count == 4) {
          out->append(kMonthLong[mo - 1]);
        } else {
          out->push_back(kMonthLong[mo - 1][0]);
        }
        break;
      case 'd': Pad(d, it.count, out); break;
      case 'D': Pad(days - DaysFromCivil(y, 1, 1) + 1, it.count, out); break;
      case 'Q':
      case 'q': {
        int q = (mo - 1) / 3 + 1;
        if (it.count <= 2) {
          Pad(q, it.count, out);
        } else if (it.count == 3) {
          out->append("Q" + std::to_string(q));
        } else if (it.count == 4) {
          static const char* const kQ[] = {"1st quarter", "2nd quarter", "3rd quarter", "4th quarter"};
          out->append(kQ[q - 1]);
        } else {
          out->append(std::to_string(q));
        }
        break;
      }
      case 'E':
        if (it.count <= 3) {
          out->append(kDayShort[dow]);
        } else if (it.count == 4) {
          out->append(kDayLong[dow]);
        } else {
          out->push_back(kDayLong[dow][0]);
        }
        break;
      case 'F': Pad((d - 1) % 7 + 1, it.count, out); break;
      case 'a': out->append(hour < 12 ? "AM" : "PM"); break;
      case 'H': Pad(hour, it.count, out); break;
      case 'k': Pad(hour == 0 ? 24 : hour, it.count, out); break;
      case 'K': Pad(hour % 12, it.count, out); break;
      case 'h': Pad(hour % 12 == 0 ? 12 : hour % 12, it.count, out); break;
      case 'm': Pad(minute, it.count, out); break;
      case 's': Pad(second, it.count, out); break;
      case 'S': {
        char buf[16];
        std::snprintf(buf, sizeof(buf), "%09lld", static_cast<long long>(nanos));
        out->append(buf, it.count);
        break;
      }
      case 'V': out->append(zone.id()); break;
      case 'z': {
        int64_t utc_secs = FloorDiv(local_micros, kMicrosPerSecond) - offset_seconds;
        out->append(it.count == 4 ? zone.id() : zone.Abbreviation(utc_secs));
        break;
      }
      case 'O': {
        out->append("GMT");
        if (offset_seconds != 0) {
          if (it.count == 4) {
            out->append(OffsetText(offset_seconds, true, true));
          } else {
            int32_t a = std::abs(offset_seconds);
            out->push_back(offset_seconds < 0 ? '-' : '+');
            out->append(std::to_string(a / 3600));
            if (a % 3600 != 0) {
              char buf[8];
              std::snprintf(buf, sizeof(buf), ":%02d", (a / 60) % 60);
              out->append(buf);
            }
          }
        }
        break;
      }
      case 'X':
      case 'x': {
        if (it.letter == 'X' && offset_seconds == 0) {
          out->push_back('Z');
          break;
        }
        if (it.count == 1) {
          std::string t = OffsetText(offset_seconds, false, false);
          if (t.substr(3) == "00") t.resize(3);
          out->append(t);
        } else {
          out->append(OffsetText(offset_seconds, it.count == 3 || it.count == 5, it.count >= 4));
        }
        break;
      }
      case 'Z':
        if (it.count <= 3) {
          out->append(OffsetText(offset_seconds, false, false));
        } else if (it.count == 4) {
          out->append(offset_seconds == 0 ? "GMT" : "GMT" + OffsetText(offset_seconds, true, true));
        } else {
          out->append(offset_seconds == 0 ? "Z" : OffsetText(offset_seconds, true, true));
        }
        break;
      default:
        break;
    }
  }
}

bool DateTimeFormat::ParseItems(std::string_view text, size_t* pos_io, size_t begin, size_t end,
                                ParsedDateTime* out, bool* pm, bool* has_ampm,
                                int* hour12) const {
  size_t pos = *pos_io;
  for (size_t k = begin; k < end; ++k) {
    const Item& it = items_[k];
    if (it.kind == Kind::kLiteral) {
      if (!MatchCI(text, pos, it.text)) {
        *pos_io = pos;
        return false;
      }
      pos += it.text.size();
      continue;
    }
    if (it.kind == Kind::kOptionalStart) {
      // Find the matching end, try the section, restore on failure.
      int depth = 1;
      size_t e = k + 1;
      for (; e < end; ++e) {
        if (items_[e].kind == Kind::kOptionalStart) ++depth;
        if (items_[e].kind == Kind::kOptionalEnd && --depth == 0) break;
      }
      ParsedDateTime saved = *out;
      bool spm = *pm, sam = *has_ampm;
      int sh = *hour12;
      size_t p = pos;
      if (ParseItems(text, &p, k + 1, e, out, pm, has_ampm, hour12)) {
        pos = p;
      } else {
        *out = saved;
        *pm = spm;
        *has_ampm = sam;
        *hour12 = sh;
      }
      k = e;
      continue;
    }
    if (it.kind == Kind::kOptionalEnd) continue;
    if (IsNumericItem(it)) {
      int min, max;
      Width(it, &min, &max);
      // Adjacent value parsing: leave the digits of directly following fixed-width numbers.
      if (min != max) {
        int reserved = 0;
        for (size_t n = k + 1; n < end && IsNumericItem(items_[n]); ++n) {
          int a, b;
          Width(items_[n], &a, &b);
          reserved += a;
          if (a != b) break;
        }
        size_t digits = 0;
        while (pos + digits < text.size() && std::isdigit(static_cast<unsigned char>(text[pos + digits])))
          ++digits;
        if (reserved > 0) {
          int avail = static_cast<int>(digits) - reserved;
          max = std::max(min, std::min(max, avail));
        }
      }
      bool neg = false;
      if (it.letter == 'y' && it.count != 2 && pos < text.size() &&
          (text[pos] == '-' || text[pos] == '+') && it.count >= 4) {
        neg = text[pos] == '-';
        ++pos;
      }
      int64_t v = 0;
      int n = 0;
      while (n < max && pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        v = v * 10 + (text[pos] - '0');
        ++pos;
        ++n;
      }
      if (n < min) {
        *pos_io = pos;
        return false;
      }
      if (neg) v = -v;
      switch (it.letter) {
        case 'y': out->year = it.count == 2 ? 2000 + v : v; break;
        case 'M': case 'L': out->month = static_cast<int>(v); break;
        case 'd': out->day = static_cast<int>(v); break;
        case 'D': out->day_of_year = static_cast<int>(v); break;
        case 'H': out->hour = static_cast<int>(v); break;
        case 'k': out->hour = v == 24 ? 0 : static_cast<int>(v); break;
        case 'h': case 'K':
          *hour12 = static_cast<int>(v) % 12;
          if (v > 12 || (it.letter == 'K' && v > 11) || (it.letter == 'h' && v == 0)) {
            *pos_io = pos;
            return false;
          }
          break;
        case 'm': out->minute = static_cast<int>(v); break;
        case 's': out->second = static_cast<int>(v); break;
        case 'S': {
          int64_t nanos = v;
          for (int z = n; z < 9; ++z) nanos *= 10;
          out->nanos = static_cast<int32_t>(nanos);
          break;
        }
        default: break;  // quarters: accepted, not used
      }
      continue;
    }
    switch (it.letter) {
      case 'M':
      case 'L': {
        bool ok = false;
        for (int m = 0; m < 12 && !ok; ++m) {
          std::string_view name = it.count == 3 ? kMonthShort[m] : kMonthLong[m];
          if (MatchCI(text, pos, name)) {
            out->month = m + 1;
            pos += name.size();
            ok = true;
          }
        }
        if (!ok) {
          *pos_io = pos;
          return false;
        }
        break;
      }
      case 'E': {
        bool ok = false;
        for (int m = 0; m < 7 && !ok; ++m) {
          std::string_view name = it.count == 4 ? kDayLong[m] : kDayShort[m];
          if (MatchCI(text, pos, name)) {
            pos += name.size();
            ok = true;
          }
        }
        if (!ok) {
          *pos_io = pos;
          return false;
        }
        break;
      }
      case 'a':
        if (MatchCI(text, pos, "AM") || MatchCI(text, pos, "PM")) {
          *pm = std::tolower(static_cast<unsigned char>(text[pos])) == 'p';
          *has_ampm = true;
          pos += 2;
        } else {
          *pos_io = pos;
          return false;
        }
        break;
      case 'G':
        if (MatchCI(text, pos, "AD")) {
          pos += 2;
        } else {
          *pos_io = pos;
          return false;
        }
        break;
      case 'X':
      case 'x':
      case 'Z':
      case 'O': {
        size_t p = pos;
        if (it.letter == 'O' || (it.letter == 'Z' && it.count == 4)) {
          if (!MatchCI(text, p, "GMT")) {
            *pos_io = pos;
            return false;
          }
          p += 3;
          if (p >= text.size() || (text[p] != '+' && text[p] != '-')) {
            out->has_offset = true;
            out->offset_seconds = 0;
            pos = p;
            break;
          }
        }
        if (p < text.size() && (text[p] == 'Z' || text[p] == 'z') && it.letter != 'x') {
          out->has_offset = true;
          out->offset_seconds = 0;
          pos = p + 1;
          break;
        }
        size_t e = p;
        if (e < text.size() && (text[e] == '+' || text[e] == '-')) ++e;
        while (e < text.size() && (std::isdigit(static_cast<unsigned char>(text[e])) || text[e] == ':'))
          ++e;
        int32_t off;
        if (!ParseOffset(text.substr(p, e - p), &off)) {
          *pos_io = pos;
          return false;
        }
        out->has_offset = true;
        out->offset_seconds = off;
        pos = e;
        break;
      }
      case 'V':
      case 'z': {
        size_t e = pos;
        while (e < text.size() && (std::isalnum(static_cast<unsigned char>(text[e])) ||
                                   text[e] == '/' || text[e] == '_' || text[e] == '+' ||
                                   text[e] == '-' || text[e] == ':')) {
          ++e;
        }
        auto tz = TimeZone::Make(text.substr(pos, e - pos));
        if (e == pos || !tz.ok()) {
          *pos_io = pos;
          return false;
        }
        out->has_offset = true;
        out->zone_id = std::string(text.substr(pos, e - pos));
        pos = e;
        break;
      }
      default:
        *pos_io = pos;
        return false;
    }
  }
  *pos_io = pos;
  return true;
}

bool DateTimeFormat::Parse(std::string_view text, ParsedDateTime* out, size_t* error_index) const {
  *out = ParsedDateTime();
  bool pm = false, has_ampm = false;
  int hour12 = -1;
  size_t pos = 0;
  if (!ParseItems(text, &pos, 0, items_.size(), out, &pm, &has_ampm, &hour12) ||
      pos != text.size()) {
    *error_index = pos;
    return false;
  }
  if (hour12 >= 0) out->hour = hour12 + (pm ? 12 : 0);
  else if (has_ampm && pm && out->hour < 12) out->hour += 12;
  return true;
}

bool ResolveParsedLocal(const ParsedDateTime& p, int64_t* local_micros) {
  int64_t days;
  if (p.day_of_year > 0 && p.month == 1 && p.day == 1) {
    bool leap = (p.year % 4 == 0 && p.year % 100 != 0) || p.year % 400 == 0;
    if (p.day_of_year > (leap ? 366 : 365)) return false;
    days = DaysFromCivil(p.year, 1, 1) + p.day_of_year - 1;
  } else {
    if (p.month < 1 || p.month > 12 || p.day < 1 || p.day > DaysInMonth(p.year, p.month)) {
      return false;
    }
    days = DaysFromCivil(p.year, p.month, p.day);
  }
  if (p.hour < 0 || p.hour > 23 || p.minute < 0 || p.minute > 59 || p.second < 0 ||
      p.second > 59) {
    return false;
  }
  *local_micros = days * kMicrosPerDay +
                  (int64_t{p.hour} * 3600 + p.minute * 60 + p.second) * kMicrosPerSecond +
                  p.nanos / 1000;
  return true;
}

bool ResolveParsed(const ParsedDateTime& p, const TimeZone& zone, int64_t* utc_micros) {
  int64_t local;
  if (!ResolveParsedLocal(p, &local)) return false;
  if (!p.zone_id.empty()) {
    auto tz = TimeZone::Make(p.zone_id);
    if (!tz.ok()) return false;
    *utc_micros = tz->LocalToUtc(local);
  } else if (p.has_offset) {
    *utc_micros = local - int64_t{p.offset_seconds} * kMicrosPerSecond;
  } else {
    *utc_micros = zone.LocalToUtc(local);
  }
  return true;
}

}  // namespace lakestream::expr
