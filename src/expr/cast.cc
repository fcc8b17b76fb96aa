// CAST with Spark 4's semantics (Cast.scala): which casts exist under ANSI and
// legacy rules, each conversion's kernel (overflow, rounding, string parsing
// of numbers, booleans, dates and timestamps), and the implicit common type of
// two types (TypeCoercion.findWiderTypeForTwo / AnsiTypeCoercion).
#include "expr/cast.h"

#include <arrow/array.h>
#include <arrow/array/util.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/util/decimal.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "expr/collation.h"
#include "expr/kernel_util.h"
#include "types/value_format.h"

namespace lakestream::expr {

namespace {

using arrow::Decimal128;
using arrow::Decimal256;
using types::TypePtr;

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400LL * kMicrosPerSecond;

bool IsNtz(const arrow::DataType& t) {
  return t.id() == arrow::Type::TIMESTAMP &&
         static_cast<const arrow::TimestampType&>(t).timezone().empty();
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// ---------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, as java.time).

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// ---------------------------------------------------------------------------
// String parsing.

bool IsSparkWhitespace(char c) { return static_cast<unsigned char>(c) <= ' '; }

// UTF8String.trimAll: whitespace and ISO control characters on both ends.
std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSparkWhitespace(s[b])) ++b;
  while (e > b && IsSparkWhitespace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Spark's UTF8String.toLong: [+-]digits; legacy also accepts a fraction that is
// truncated ("1.5" -> 1, "1." -> 1). Overflow is malformed input.
bool ParseIntegral(std::string_view s, bool allow_fraction, int64_t min, int64_t max,
                   int64_t* out) {
  s = Trim(s);
  if (s.empty()) return false;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    i = 1;
  }
  if (i == s.size()) return false;
  // Accumulate negatively so that MIN parses.
  int64_t v = 0;
  size_t digits = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i, ++digits) {
    int d = s[i] - '0';
    if (v < (std::numeric_limits<int64_t>::min() + d) / 10) return false;
    v = v * 10 - d;
  }
  if (i < s.size()) {
    if (!allow_fraction || s[i] != '.') return false;
    if (digits == 0) return false;
    for (++i; i < s.size(); ++i) {
      if (!IsDigit(s[i])) return false;
    }
  }
  if (digits == 0) return false;
  if (!negative) {
    if (v == std::numeric_limits<int64_t>::min()) return false;
    v = -v;
  }
  if (v < min || v > max) return false;
  *out = v;
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// java.lang.Double.parseDouble on the trimmed text plus Spark's special
// literals (Cast.processFloatingPointSpecialLiterals): inf, +inf, -inf,
// infinity, nan, case-insensitive.
bool ParseDouble(std::string_view s, double* out) {
  s = Trim(s);
  if (s.empty()) return false;
  std::string_view body = s;
  bool negative = false;
  if (body[0] == '+' || body[0] == '-') {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (EqualsIgnoreCase(body, "inf") || EqualsIgnoreCase(body, "infinity")) {
    *out = negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
    return true;
  }
  if (EqualsIgnoreCase(body, "nan")) {
    if (s[0] == '+' || s[0] == '-') return false;
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  // Java accepts a trailing type suffix.
  if (!body.empty() && (body.back() == 'd' || body.back() == 'D' || body.back() == 'f' ||
                        body.back() == 'F')) {
    body.remove_suffix(1);
  }
  // Validate Java's decimal float syntax: digits [. digits] [e [+-] digits].
  size_t i = 0, mant = 0;
  while (i < body.size() && IsDigit(body[i])) ++i, ++mant;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && IsDigit(body[i])) ++i, ++mant;
  }
  if (mant == 0) return false;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < body.size() && IsDigit(body[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  if (i != body.size()) return false;
  std::string text(body);
  double v = std::strtod(text.c_str(), nullptr);  // correctly rounded; overflow gives inf
  *out = negative ? -v : v;
  return true;
}

// Rounds `digits` (a decimal integer magnitude with `scale` fraction digits)
// to `target_scale` HALF_UP. Returns false when it cannot be represented in
// 76 digits.
struct DecimalText {
  bool negative = false;
  std::string digits;  // no leading sign, may have leading zeros
  int32_t scale = 0;   // may be negative (exponent)
};

// java.math.BigDecimal(String) syntax: [+-] digits [. digits] [e [+-] digits].
bool ParseDecimalText(std::string_view s, DecimalText* out) {
  s = Trim(s);
  if (s.empty()) return false;
  size_t i = 0;
  if (s[0] == '+' || s[0] == '-') {
    out->negative = s[0] == '-';
    i = 1;
  }
  size_t mant = 0;
  int32_t frac = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i, ++mant) out->digits.push_back(s[i]);
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && IsDigit(s[i]); ++i, ++mant, ++frac) out->digits.push_back(s[i]);
  }
  if (mant == 0) return false;
  int64_t exp = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    size_t ed = 0;
    for (; i < s.size() && IsDigit(s[i]); ++i, ++ed) {
      exp = exp * 10 + (s[i] - '0');
      if (exp > 100000) return false;
    }
    if (ed == 0) return false;
    if (eneg) exp = -exp;
  }
  if (i != s.size()) return false;
  out->scale = static_cast<int32_t>(frac - exp);
  return true;
}

enum class DecimalFit { kOk, kOverflow };

// Converts parsed text to an unscaled value at `scale` (HALF_UP), checking it
// fits `precision` digits.
DecimalFit TextToDecimal(const DecimalText& t, int32_t precision, int32_t scale,
                         Decimal128* out) {
  std::string digits = t.digits;
  int32_t have = t.scale;
  // Drop leading zeros.
  size_t nz = digits.find_first_not_of('0');
  digits = nz == std::string::npos ? "0" : digits.substr(nz);
  bool round_up = false;
  if (have > scale) {
    int32_t drop = have - scale;
    if (static_cast<size_t>(drop) > digits.size()) {
      digits = "0";
    } else {
      round_up = digits[digits.size() - drop] >= '5';
      digits.resize(digits.size() - drop);
      if (digits.empty()) digits = "0";
    }
  } else if (have < scale) {
    if (digits != "0") digits.append(static_cast<size_t>(scale - have), '0');
  }
  nz = digits.find_first_not_of('0');
  digits = nz == std::string::npos ? "0" : digits.substr(nz);
  if (digits.size() > 39) return DecimalFit::kOverflow;
  Decimal256 v;
  for (char c : digits) v = v * Decimal256(10) + Decimal256(c - '0');
  if (round_up) v += Decimal256(1);
  if (!v.FitsInPrecision(precision)) return DecimalFit::kOverflow;
  if (t.negative) v.Negate();
  auto words = v.little_endian_array();
  *out = Decimal128(static_cast<int64_t>(words[1]), words[0]);
  return DecimalFit::kOk;
}

// The shortest decimal text that reads back as `v` (what Double.toString
// feeds to BigDecimal in Spark's Decimal(double)).
std::string ShortestDouble(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

// Spark's stringToDate: [+-]yyyy[y..][-[m]m[-[d]d]] optionally followed by ' '
// or 'T' and anything.
std::optional<int32_t> ParseDate(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-' || s[0] == '+') {
    negative = s[0] == '-';
    i = 1;
  }
  int64_t seg[3] = {0, 1, 1};
  int n = 0;
  while (n < 3) {
    size_t start = i;
    int64_t v = 0;
    while (i < s.size() && IsDigit(s[i])) {
      v = v * 10 + (s[i] - '0');
      ++i;
      if (i - start > 7) return std::nullopt;
    }
    size_t len = i - start;
    if (n == 0 ? (len < 4 || len > 7) : (len < 1 || len > 2)) return std::nullopt;
    seg[n++] = v;
    if (i == s.size()) break;
    if (s[i] == '-' && n < 3) {
      ++i;
      continue;
    }
    if (n == 3 && (s[i] == ' ' || s[i] == 'T')) break;
    return std::nullopt;
  }
  int64_t y = negative ? -seg[0] : seg[0];
  if (seg[1] < 1 || seg[1] > 12) return std::nullopt;
  if (seg[2] < 1 || seg[2] > DaysInMonth(y, static_cast<int>(seg[1]))) return std::nullopt;
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(seg[1]), static_cast<unsigned>(seg[2]));
  if (days < std::numeric_limits<int32_t>::min() || days > std::numeric_limits<int32_t>::max()) {
    return std::nullopt;
  }
  return static_cast<int32_t>(days);
}

struct ParsedTimestamp {
  int64_t local_micros = 0;  // wall clock
  bool has_zone = false;
  bool time_only = false;    // no date part: today's date in the zone is used
  int64_t offset_seconds = 0;
  std::optional<types::TimeZone> zone;  // a region id; else offset_seconds
};

// Parses "[h]h[:[m]m[:[s]s[.f*]]]" at s[*i]; returns micros of day.
bool ParseTime(std::string_view s, size_t* i, int64_t* micros) {
  int64_t parts[3] = {0, 0, 0};
  int n = 0;
  while (n < 3) {
    size_t start = *i;
    int64_t v = 0;
    while (*i < s.size() && IsDigit(s[*i]) && *i - start < 2) v = v * 10 + (s[(*i)++] - '0');
    if (*i == start) return false;
    parts[n++] = v;
    if (*i < s.size() && s[*i] == ':' && n < 3) {
      ++*i;
      continue;
    }
    break;
  }
  if (parts[0] > 23 || parts[1] > 59 || parts[2] > 59) return false;
  int64_t frac = 0;
  if (n == 3 && *i < s.size() && s[*i] == '.') {
    ++*i;
    int fd = 0;
    while (*i < s.size() && IsDigit(s[*i])) {
      if (fd < 6) frac = frac * 10 + (s[*i] - '0');
      ++fd;
      ++*i;
    }
    for (int k = std::min(fd, 6); k < 6; ++k) frac *= 10;
  }
  *micros = ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * kMicrosPerSecond + frac;
  return true;
}

// Zone suffix: Z, [+-]h[h][[:]mm[[:]ss]], UTC/GMT/UT with an offset, or a region id.
bool ParseZone(std::string_view z, ParsedTimestamp* out) {
  z = Trim(z);
  if (z.empty()) return true;
  out->has_zone = true;
  if (z == "Z" || z == "z") return true;
  if (z[0] == '+' || z[0] == '-') {
    int sign = z[0] == '-' ? -1 : 1;
    std::string digits;
    for (size_t k = 1; k < z.size(); ++k) {
      if (IsDigit(z[k])) {
        digits.push_back(z[k]);
      } else if (z[k] != ':') {
        return false;
      }
    }
    int h = 0, m = 0, sec = 0;
    if (digits.size() == 1 || digits.size() == 2) {
      h = std::stoi(digits);
    } else if (digits.size() == 4) {
      h = std::stoi(digits.substr(0, 2));
      m = std::stoi(digits.substr(2, 2));
    } else if (digits.size() == 6) {
      h = std::stoi(digits.substr(0, 2));
      m = std::stoi(digits.substr(2, 2));
      sec = std::stoi(digits.substr(4, 2));
    } else {
      return false;
    }
    if (h > 18 || m > 59 || sec > 59) return false;
    out->offset_seconds = sign * (h * 3600 + m * 60 + sec);
    return true;
  }
  auto tz = types::TimeZone::Make(z);
  if (!tz.ok()) return false;
  out->zone = std::move(*tz);
  return true;
}

// Spark's stringToTimestamp (DateTimeUtils): a date as in ParseDate, then ' '
// or 'T' and a time, then an optional zone; or a time alone ("10:30:00",
// "T10:30").
std::optional<ParsedTimestamp> ParseTimestamp(std::string_view s) {
  s = Trim(s);
  ParsedTimestamp out;
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  // Time only: "T..." or "hh:..." (a colon before any '-').
  size_t colon = s.find(':');
  size_t dash = s.find('-', 1);
  if (s[0] == 'T' || (colon != std::string_view::npos && colon <= 2 &&
                      (dash == std::string_view::npos || dash > colon))) {
    if (s[0] == 'T') i = 1;
    int64_t tod;
    if (!ParseTime(s, &i, &tod)) return std::nullopt;
    if (!ParseZone(s.substr(i), &out)) return std::nullopt;
    out.time_only = true;
    out.local_micros = tod;
    return out;
  }
  // Date part ends at ' ' or 'T'.
  size_t end = s.find_first_of(" T");
  auto date = ParseDate(s.substr(0, end));
  if (!date) return std::nullopt;
  out.local_micros = *date * kMicrosPerDay;
  if (end == std::string_view::npos) return out;
  i = end + 1;
  if (i == s.size()) return out;
  int64_t tod;
  if (!ParseTime(s, &i, &tod)) return std::nullopt;
  out.local_micros += tod;
  if (!ParseZone(s.substr(i), &out)) return std::nullopt;
  return out;
}

// ---------------------------------------------------------------------------
// The cast kernels. Each takes a whole array and returns one of `to`.

class Caster {
 public:
  Caster(CastMode mode, const EvalContext& ctx) : mode_(mode), ctx_(ctx) {}

  Result<std::shared_ptr<arrow::Array>> Cast(const std::shared_ptr<arrow::Array>& in,
                                             const TypePtr& to);

 private:
  bool ansi() const { return mode_ == CastMode::kAnsi; }

  Result<const types::TimeZone*> SessionZone() {
    if (!zone_) {
      std::string id = ctx_.config ? ctx_.config->time_zone : "UTC";
      LS_ASSIGN_OR_RAISE(auto tz, types::TimeZone::Make(id));
      zone_ = std::move(tz);
    }
    return &*zone_;
  }

  template <typename OutType>
  Result<std::shared_ptr<arrow::Array>> ToIntegral(const std::shared_ptr<arrow::Array>& in,
                                                   const TypePtr& to);
  template <typename OutType>
  Result<std::shared_ptr<arrow::Array>> ToFloating(const std::shared_ptr<arrow::Array>& in,
                                                   const TypePtr& to);
  Result<std::shared_ptr<arrow::Array>> ToDecimal(const std::shared_ptr<arrow::Array>& in,
                                                  const TypePtr& to);
  Result<std::shared_ptr<arrow::Array>> ToBoolean(const std::shared_ptr<arrow::Array>& in,
                                                  const TypePtr& to);
  Result<std::shared_ptr<arrow::Array>> ToString(const std::shared_ptr<arrow::Array>& in,
                                                 const TypePtr& to);
  Result<std::shared_ptr<arrow::Array>> ToBinary(const std::shared_ptr<arrow::Array>& in,
                                                 const TypePtr& to);
  Result<std::shared_ptr<arrow::Array>> ToDate(const std::shared_ptr<arrow::Array>& in,
                                               const TypePtr& to);
  Result<std::shared_ptr<arrow::Array>> ToTimestamp(const std::shared_ptr<arrow::Array>& in,
                                                    const TypePtr& to);
  Result<std::shared_ptr<arrow::Array>> Nested(const std::shared_ptr<arrow::Array>& in,
                                               const TypePtr& to);

  Status Unsupported(const arrow::DataType& from, const arrow::DataType& to) {
    return UserError(
        "[DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION] cannot cast \"{}\" to \"{}\"",
        SparkTypeName(from), SparkTypeName(to));
  }

  CastMode mode_;
  const EvalContext& ctx_;
  std::optional<types::TimeZone> zone_;
};

// Visits each value of a primitive array as int64 / double.
template <typename Fn>
Status ForEachIntegral(const arrow::Array& in, Fn&& fn) {
  auto run = [&](auto* typed) -> Status {
    for (int64_t i = 0; i < typed->length(); ++i) {
      if (typed->IsNull(i)) {
        LS_RETURN_NOT_OK(fn(i, std::optional<int64_t>()));
      } else {
        LS_RETURN_NOT_OK(fn(i, std::optional<int64_t>(static_cast<int64_t>(typed->Value(i)))));
      }
    }
    return Status::OK();
  };
  switch (in.type_id()) {
    case arrow::Type::INT8:
      return run(static_cast<const arrow::Int8Array*>(&in));
    case arrow::Type::INT16:
      return run(static_cast<const arrow::Int16Array*>(&in));
    case arrow::Type::INT32:
      return run(static_cast<const arrow::Int32Array*>(&in));
    case arrow::Type::INT64:
      return run(static_cast<const arrow::Int64Array*>(&in));
    case arrow::Type::DATE32:
      return run(static_cast<const arrow::Date32Array*>(&in));
    case arrow::Type::TIMESTAMP:
      return run(static_cast<const arrow::TimestampArray*>(&in));
    case arrow::Type::DURATION:
      return run(static_cast<const arrow::DurationArray*>(&in));
    case arrow::Type::BOOL: {
      const auto& b = static_cast<const arrow::BooleanArray&>(in);
      for (int64_t i = 0; i < b.length(); ++i) {
        LS_RETURN_NOT_OK(fn(i, b.IsNull(i) ? std::optional<int64_t>()
                                           : std::optional<int64_t>(b.Value(i) ? 1 : 0)));
      }
      return Status::OK();
    }
    default:
      return InternalError("ForEachIntegral on {}", in.type()->ToString());
  }
}

template <typename Fn>
Status ForEachFloating(const arrow::Array& in, Fn&& fn) {
  if (in.type_id() == arrow::Type::FLOAT) {
    const auto& a = static_cast<const arrow::FloatArray&>(in);
    for (int64_t i = 0; i < a.length(); ++i) {
      LS_RETURN_NOT_OK(fn(i, a.IsNull(i) ? std::optional<double>()
                                         : std::optional<double>(a.Value(i))));
    }
    return Status::OK();
  }
  const auto& a = static_cast<const arrow::DoubleArray&>(in);
  for (int64_t i = 0; i < a.length(); ++i) {
    LS_RETURN_NOT_OK(fn(i, a.IsNull(i) ? std::optional<double>()
                                       : std::optional<double>(a.Value(i))));
  }
  return Status::OK();
}

std::string FloatingLiteral(const arrow::DataType& t, double v) {
  return t.id() == arrow::Type::FLOAT ? FloatLiteralText(static_cast<float>(v))
                                      : DoubleLiteralText(v);
}

Decimal256 To256(const Decimal128& v) { return Decimal256(arrow::BasicDecimal256(v)); }

bool Fits128(const Decimal256& v, int32_t precision, Decimal128* out) {
  if (!v.FitsInPrecision(precision)) return false;
  auto words = v.little_endian_array();
  *out = Decimal128(static_cast<int64_t>(words[1]), words[0]);
  return true;
}

// Rescales HALF_UP (java.math.RoundingMode.HALF_UP) and checks the precision.
bool RescaleDecimal(const Decimal256& v, int32_t from_scale, int32_t to_precision,
                    int32_t to_scale, Decimal128* out) {
  Decimal256 r = v;
  if (to_scale > from_scale) {
    if (to_scale - from_scale > 38) return false;
    // Multiplying may overflow 256 bits only for values far outside 38 digits.
    if (!v.FitsInPrecision(38)) return false;
    r = v.IncreaseScaleBy(to_scale - from_scale);
  } else if (to_scale < from_scale) {
    r = v.ReduceScaleBy(from_scale - to_scale, /*round=*/true);
  }
  return Fits128(r, to_precision, out);
}

template <typename OutType>
Result<std::shared_ptr<arrow::Array>> Caster::ToIntegral(const std::shared_ptr<arrow::Array>& in,
                                                         const TypePtr& to) {
  using OutC = typename arrow::TypeTraits<OutType>::CType;
  constexpr int64_t kMin = std::numeric_limits<OutC>::min();
  constexpr int64_t kMax = std::numeric_limits<OutC>::max();
  arrow::NumericBuilder<OutType> b(to, ctx_.pool);
  LS_RETURN_NOT_OK(b.Reserve(in->length()));
  const auto& from = *in->type();
  auto overflow = [&](const std::string& text) -> Status {
    if (ansi()) return CastOverflow(text, from, *to);
    b.UnsafeAppendNull();
    return Status::OK();
  };
  switch (from.id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::BOOL:
    case arrow::Type::TIMESTAMP: {
      bool is_ts = from.id() == arrow::Type::TIMESTAMP;
      LS_RETURN_NOT_OK(ForEachIntegral(*in, [&](int64_t, std::optional<int64_t> v) -> Status {
        if (!v) {
          b.UnsafeAppendNull();
          return Status::OK();
        }
        int64_t x = is_ts ? FloorDiv(*v, kMicrosPerSecond) : *v;
        if (x < kMin || x > kMax) {
          if (mode_ == CastMode::kLegacy) {
            b.UnsafeAppend(static_cast<OutC>(x));  // Java's narrowing: keeps the low bits
            return Status::OK();
          }
          return overflow(is_ts ? IntegralLiteralText(x, *arrow::int64())
                                : IntegralLiteralText(x, from));
        }
        b.UnsafeAppend(static_cast<OutC>(x));
        return Status::OK();
      }));
      break;
    }
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE: {
      LS_RETURN_NOT_OK(ForEachFloating(*in, [&](int64_t, std::optional<double> v) -> Status {
        if (!v) {
          b.UnsafeAppendNull();
          return Status::OK();
        }
        double d = std::trunc(*v);
        // [kMin, -kMin) holds exactly the doubles that truncate into range;
        // -kMin is a power of two, so the bound is exact even for BIGINT.
        bool in_range = !std::isnan(d) && d >= static_cast<double>(kMin) &&
                        d < -static_cast<double>(kMin);
        if (in_range) {
          b.UnsafeAppend(static_cast<OutC>(d));
          return Status::OK();
        }
        if (mode_ == CastMode::kLegacy) {
          // Scala's Double.toInt / toLong saturate and map NaN to 0; toByte and
          // toShort narrow the Int result.
          int64_t wide;
          if (std::isnan(d)) {
            wide = 0;
          } else if (std::is_same_v<OutC, int64_t>) {
            wide = d >= 9223372036854775807.0 ? std::numeric_limits<int64_t>::max()
                   : d <= -9223372036854775808.0 ? std::numeric_limits<int64_t>::min()
                                                 : static_cast<int64_t>(d);
          } else {
            wide = d >= 2147483647.0 ? 2147483647
                   : d <= -2147483648.0 ? -2147483648LL
                                        : static_cast<int64_t>(d);
          }
          b.UnsafeAppend(static_cast<OutC>(wide));
          return Status::OK();
        }
        return overflow(FloatingLiteral(from, *v));
      }));
      break;
    }
    case arrow::Type::DECIMAL128: {
      const auto& a = static_cast<const arrow::Decimal128Array&>(*in);
      int32_t scale = static_cast<const arrow::Decimal128Type&>(from).scale();
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
          continue;
        }
        Decimal128 v(a.GetValue(i));
        Decimal128 t = scale > 0 ? v.ReduceScaleBy(scale, /*round=*/false) : v;
        bool fits64 = t.FitsInPrecision(18) ||
                      (t >= Decimal128(std::numeric_limits<int64_t>::min()) &&
                       t <= Decimal128(std::numeric_limits<int64_t>::max()));
        int64_t x = static_cast<int64_t>(t.low_bits());
        if (fits64 && x >= kMin && x <= kMax) {
          b.UnsafeAppend(static_cast<OutC>(x));
        } else if (mode_ == CastMode::kLegacy) {
          b.UnsafeAppend(static_cast<OutC>(x));
        } else {
          LS_RETURN_NOT_OK(overflow(v.ToString(scale) + "BD"));
        }
      }
      break;
    }
    case arrow::Type::STRING: {
      const auto& a = static_cast<const arrow::StringArray&>(*in);
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
          continue;
        }
        int64_t v;
        if (ParseIntegral(a.GetView(i), /*allow_fraction=*/mode_ == CastMode::kLegacy, kMin, kMax, &v)) {
          b.UnsafeAppend(static_cast<OutC>(v));
        } else if (ansi()) {
          return CastInvalidInput(a.GetView(i), from, *to);
        } else {
          b.UnsafeAppendNull();
        }
      }
      break;
    }
    case arrow::Type::DATE32:
      if (ansi()) return Unsupported(from, *to);
      LS_RETURN_NOT_OK(b.AppendNulls(in->length()));  // Spark's legacy cast gives NULL
      break;
    default:
      return Unsupported(from, *to);
  }
  std::shared_ptr<arrow::Array> out;
  LS_RETURN_NOT_OK(b.Finish(&out));
  return out;
}

template <typename OutType>
Result<std::shared_ptr<arrow::Array>> Caster::ToFloating(const std::shared_ptr<arrow::Array>& in,
                                                         const TypePtr& to) {
  using OutC = typename arrow::TypeTraits<OutType>::CType;
  arrow::NumericBuilder<OutType> b(to, ctx_.pool);
  LS_RETURN_NOT_OK(b.Reserve(in->length()));
  const auto& from = *in->type();
  switch (from.id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::BOOL:
    case arrow::Type::TIMESTAMP: {
      bool is_ts = from.id() == arrow::Type::TIMESTAMP;
      LS_RETURN_NOT_OK(ForEachIntegral(*in, [&](int64_t, std::optional<int64_t> v) -> Status {
        if (!v) {
          b.UnsafeAppendNull();
        } else if (is_ts) {
          b.UnsafeAppend(static_cast<OutC>(static_cast<double>(*v) / kMicrosPerSecond));
        } else {
          b.UnsafeAppend(static_cast<OutC>(*v));
        }
        return Status::OK();
      }));
      break;
    }
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
      LS_RETURN_NOT_OK(ForEachFloating(*in, [&](int64_t, std::optional<double> v) -> Status {
        if (!v) {
          b.UnsafeAppendNull();
        } else {
          b.UnsafeAppend(static_cast<OutC>(*v));
        }
        return Status::OK();
      }));
      break;
    case arrow::Type::DECIMAL128: {
      const auto& a = static_cast<const arrow::Decimal128Array&>(*in);
      int32_t scale = static_cast<const arrow::Decimal128Type&>(from).scale();
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
          continue;
        }
        // BigDecimal.doubleValue is correctly rounded; so is strtod on the text.
        std::string text = Decimal128(a.GetValue(i)).ToString(scale);
        double d = std::strtod(text.c_str(), nullptr);
        if constexpr (std::is_same_v<OutC, float>) {
          b.UnsafeAppend(std::strtof(text.c_str(), nullptr));
        } else {
          b.UnsafeAppend(d);
        }
      }
      break;
    }
    case arrow::Type::STRING: {
      const auto& a = static_cast<const arrow::StringArray&>(*in);
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
          continue;
        }
        double d;
        if (ParseDouble(a.GetView(i), &d)) {
          if constexpr (std::is_same_v<OutC, float>) {
            // Float.parseFloat rounds the text once, not through double.
            std::string text(Trim(a.GetView(i)));
            float f;
            if (std::isnan(d) || std::isinf(d)) {
              f = static_cast<float>(d);
            } else {
              if (!text.empty() && std::strchr("dDfF", text.back())) text.pop_back();
              f = std::strtof(text.c_str(), nullptr);
            }
            b.UnsafeAppend(f);
          } else {
            b.UnsafeAppend(d);
          }
        } else if (ansi()) {
          return CastInvalidInput(a.GetView(i), from, *to);
        } else {
          b.UnsafeAppendNull();
        }
      }
      break;
    }
    case arrow::Type::DATE32:
      if (ansi()) return Unsupported(from, *to);
      LS_RETURN_NOT_OK(b.AppendNulls(in->length()));
      break;
    default:
      return Unsupported(from, *to);
  }
  std::shared_ptr<arrow::Array> out;
  LS_RETURN_NOT_OK(b.Finish(&out));
  return out;
}

Result<std::shared_ptr<arrow::Array>> Caster::ToDecimal(const std::shared_ptr<arrow::Array>& in,
                                                        const TypePtr& to) {
  const auto& dt = static_cast<const arrow::Decimal128Type&>(*to);
  const int32_t p = dt.precision(), s = dt.scale();
  arrow::Decimal128Builder b(to, ctx_.pool);
  LS_RETURN_NOT_OK(b.Reserve(in->length()));
  const auto& from = *in->type();
  auto out_of_range = [&](const std::string& text) -> Status {
    if (ansi()) return DecimalOutOfRange(text, p, s);
    b.UnsafeAppendNull();
    return Status::OK();
  };
  switch (from.id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::BOOL:
    case arrow::Type::TIMESTAMP: {
      bool is_ts = from.id() == arrow::Type::TIMESTAMP;
      LS_RETURN_NOT_OK(ForEachIntegral(*in, [&](int64_t, std::optional<int64_t> v) -> Status {
        if (!v) {
          b.UnsafeAppendNull();
          return Status::OK();
        }
        Decimal128 out;
        if (RescaleDecimal(Decimal256(*v), is_ts ? 6 : 0, p, s, &out)) {
          b.UnsafeAppend(out);
          return Status::OK();
        }
        return out_of_range(is_ts ? Decimal128(*v).ToString(6) : std::to_string(*v));
      }));
      break;
    }
    case arrow::Type::DECIMAL128: {
      const auto& a = static_cast<const arrow::Decimal128Array&>(*in);
      int32_t fs = static_cast<const arrow::Decimal128Type&>(from).scale();
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
          continue;
        }
        Decimal128 v(a.GetValue(i)), out;
        if (RescaleDecimal(To256(v), fs, p, s, &out)) {
          b.UnsafeAppend(out);
        } else {
          LS_RETURN_NOT_OK(out_of_range(v.ToString(fs)));
        }
      }
      break;
    }
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
      LS_RETURN_NOT_OK(ForEachFloating(*in, [&](int64_t, std::optional<double> v) -> Status {
        // NaN and infinities give NULL even under ANSI (checked against Spark 4.0.1).
        if (!v || std::isnan(*v) || std::isinf(*v)) {
          b.UnsafeAppendNull();
          return Status::OK();
        }
        DecimalText t;
        std::string text = ShortestDouble(*v);
        Decimal128 out;
        if (ParseDecimalText(text, &t) && TextToDecimal(t, p, s, &out) == DecimalFit::kOk) {
          b.UnsafeAppend(out);
          return Status::OK();
        }
        // BigDecimal's plain text of the value, as in Spark's message.
        char buf[400];
        int n = std::snprintf(buf, sizeof(buf), "%.0f", *v);
        std::string shown = std::abs(*v) >= 1e15 ? std::string(buf, n) : text;
        return out_of_range(shown);
      }));
      break;
    case arrow::Type::STRING: {
      const auto& a = static_cast<const arrow::StringArray&>(*in);
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
          continue;
        }
        DecimalText t;
        Decimal128 out;
        if (!ParseDecimalText(a.GetView(i), &t)) {
          if (ansi()) return CastInvalidInput(a.GetView(i), from, *to);
          b.UnsafeAppendNull();
          continue;
        }
        if (TextToDecimal(t, p, s, &out) == DecimalFit::kOk) {
          b.UnsafeAppend(out);
        } else {
          LS_RETURN_NOT_OK(out_of_range(std::string(Trim(a.GetView(i)))));
        }
      }
      break;
    }
    case arrow::Type::DATE32:
      if (ansi()) return Unsupported(from, *to);
      LS_RETURN_NOT_OK(b.AppendNulls(in->length()));  // Spark's legacy cast gives NULL
      break;
    default:
      return Unsupported(from, *to);
  }
  std::shared_ptr<arrow::Array> out;
  LS_RETURN_NOT_OK(b.Finish(&out));
  return out;
}

Result<std::shared_ptr<arrow::Array>> Caster::ToBoolean(const std::shared_ptr<arrow::Array>& in,
                                                        const TypePtr& to) {
  arrow::BooleanBuilder b(ctx_.pool);
  LS_RETURN_NOT_OK(b.Reserve(in->length()));
  const auto& from = *in->type();
  switch (from.id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::TIMESTAMP:
      LS_RETURN_NOT_OK(ForEachIntegral(*in, [&](int64_t, std::optional<int64_t> v) -> Status {
        if (!v) {
          b.UnsafeAppendNull();
        } else {
          b.UnsafeAppend(*v != 0);
        }
        return Status::OK();
      }));
      break;
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
      LS_RETURN_NOT_OK(ForEachFloating(*in, [&](int64_t, std::optional<double> v) -> Status {
        if (!v) {
          b.UnsafeAppendNull();
        } else {
          b.UnsafeAppend(*v != 0);  // NaN is true, as in Spark
        }
        return Status::OK();
      }));
      break;
    case arrow::Type::DECIMAL128: {
      const auto& a = static_cast<const arrow::Decimal128Array&>(*in);
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
        } else {
          b.UnsafeAppend(Decimal128(a.GetValue(i)) != Decimal128(0));
        }
      }
      break;
    }
    case arrow::Type::STRING: {
      const auto& a = static_cast<const arrow::StringArray&>(*in);
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
          continue;
        }
        std::string_view v = Trim(a.GetView(i));
        if (EqualsIgnoreCase(v, "t") || EqualsIgnoreCase(v, "true") || EqualsIgnoreCase(v, "y") ||
            EqualsIgnoreCase(v, "yes") || v == "1") {
          b.UnsafeAppend(true);
        } else if (EqualsIgnoreCase(v, "f") || EqualsIgnoreCase(v, "false") ||
                   EqualsIgnoreCase(v, "n") || EqualsIgnoreCase(v, "no") || v == "0") {
          b.UnsafeAppend(false);
        } else if (ansi()) {
          return CastInvalidInput(a.GetView(i), from, *to);
        } else {
          b.UnsafeAppendNull();
        }
      }
      break;
    }
    case arrow::Type::DATE32:
      if (ansi()) return Unsupported(from, *to);
      LS_RETURN_NOT_OK(b.AppendNulls(in->length()));
      break;
    default:
      return Unsupported(from, *to);
  }
  std::shared_ptr<arrow::Array> out;
  LS_RETURN_NOT_OK(b.Finish(&out));
  return out;
}

Result<std::shared_ptr<arrow::Array>> Caster::ToString(const std::shared_ptr<arrow::Array>& in,
                                                       const TypePtr& to) {
  if (in->type_id() == arrow::Type::BINARY) {
    const auto& a = static_cast<const arrow::BinaryArray&>(*in);
    arrow::StringBuilder b(ctx_.pool);
    LS_RETURN_NOT_OK(b.Reserve(a.length()));
    for (int64_t i = 0; i < a.length(); ++i) {
      if (a.IsNull(i)) {
        LS_RETURN_NOT_OK(b.AppendNull());
      } else {
        LS_RETURN_NOT_OK(b.Append(types::DecodeUtf8Lossy(a.GetView(i))));
      }
    }
    std::shared_ptr<arrow::Array> out;
    LS_RETURN_NOT_OK(b.Finish(&out));
    return out;
  }
  types::FormatOptions options;
  if (ctx_.config) options.time_zone = ctx_.config->time_zone;
  return types::FormatArray(*in, options);
}

Result<std::shared_ptr<arrow::Array>> Caster::ToBinary(const std::shared_ptr<arrow::Array>& in,
                                                       const TypePtr& to) {
  const auto& from = *in->type();
  if (from.id() == arrow::Type::STRING) {
    auto data = in->data()->Copy();
    data->type = to;  // the same bytes
    return arrow::MakeArray(data);
  }
  if (types::IsIntegral(from) && !ansi()) {
    // Legacy: the big-endian bytes of the value (Spark's NumberConverter).
    int width = from.byte_width();
    arrow::BinaryBuilder b(ctx_.pool);
    LS_RETURN_NOT_OK(ForEachIntegral(*in, [&](int64_t, std::optional<int64_t> v) -> Status {
      if (!v) return b.AppendNull();
      char bytes[8];
      for (int k = 0; k < width; ++k) {
        bytes[k] = static_cast<char>((static_cast<uint64_t>(*v) >> (8 * (width - 1 - k))) & 0xFF);
      }
      return b.Append(bytes, width);
    }));
    std::shared_ptr<arrow::Array> out;
    LS_RETURN_NOT_OK(b.Finish(&out));
    return out;
  }
  return Unsupported(from, *to);
}

Result<std::shared_ptr<arrow::Array>> Caster::ToDate(const std::shared_ptr<arrow::Array>& in,
                                                     const TypePtr& to) {
  arrow::Date32Builder b(ctx_.pool);
  LS_RETURN_NOT_OK(b.Reserve(in->length()));
  const auto& from = *in->type();
  switch (from.id()) {
    case arrow::Type::STRING: {
      const auto& a = static_cast<const arrow::StringArray&>(*in);
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
          continue;
        }
        auto d = ParseDate(a.GetView(i));
        if (d) {
          b.UnsafeAppend(*d);
        } else if (ansi()) {
          return CastInvalidInput(a.GetView(i), from, *to);
        } else {
          b.UnsafeAppendNull();
        }
      }
      break;
    }
    case arrow::Type::TIMESTAMP: {
      const types::TimeZone* tz = nullptr;
      if (!IsNtz(from)) {
        LS_ASSIGN_OR_RAISE(tz, SessionZone());
      }
      const auto& a = static_cast<const arrow::TimestampArray&>(*in);
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
          continue;
        }
        int64_t local = tz ? tz->ToLocalMicros(a.Value(i)) : a.Value(i);
        b.UnsafeAppend(static_cast<int32_t>(FloorDiv(local, kMicrosPerDay)));
      }
      break;
    }
    default:
      return Unsupported(from, *to);
  }
  std::shared_ptr<arrow::Array> out;
  LS_RETURN_NOT_OK(b.Finish(&out));
  return out;
}

Result<std::shared_ptr<arrow::Array>> Caster::ToTimestamp(
    const std::shared_ptr<arrow::Array>& in, const TypePtr& to) {
  arrow::TimestampBuilder b(to, ctx_.pool);
  LS_RETURN_NOT_OK(b.Reserve(in->length()));
  const auto& from = *in->type();
  const bool to_ntz = IsNtz(*to);
  switch (from.id()) {
    case arrow::Type::STRING: {
      const types::TimeZone* tz = nullptr;
      LS_ASSIGN_OR_RAISE(tz, SessionZone());
      const auto& a = static_cast<const arrow::StringArray&>(*in);
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
          continue;
        }
        auto p = ParseTimestamp(a.GetView(i));
        if (!p) {
          if (ansi()) return CastInvalidInput(a.GetView(i), from, *to);
          b.UnsafeAppendNull();
          continue;
        }
        int64_t local = p->local_micros;
        if (p->time_only) {
          // A time alone takes today's date in the zone it is read in.
          const types::TimeZone& z = p->zone ? *p->zone : *tz;
          int64_t today = FloorDiv(z.ToLocalMicros(ctx_.now_micros), kMicrosPerDay);
          local += today * kMicrosPerDay;
        }
        if (to_ntz) {
          b.UnsafeAppend(local);  // a zone in the text is ignored, as Spark does
        } else if (p->zone) {
          b.UnsafeAppend(p->zone->ToUtcMicros(local));
        } else if (p->has_zone) {
          b.UnsafeAppend(local - p->offset_seconds * kMicrosPerSecond);
        } else {
          b.UnsafeAppend(tz->ToUtcMicros(local));
        }
      }
      break;
    }
    case arrow::Type::DATE32: {
      const types::TimeZone* tz = nullptr;
      if (!to_ntz) {
        LS_ASSIGN_OR_RAISE(tz, SessionZone());
      }
      const auto& a = static_cast<const arrow::Date32Array&>(*in);
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
          continue;
        }
        int64_t local = a.Value(i) * kMicrosPerDay;
        b.UnsafeAppend(tz ? tz->ToUtcMicros(local) : local);
      }
      break;
    }
    case arrow::Type::TIMESTAMP: {
      if (IsNtz(from) == to_ntz) {
        auto data = in->data()->Copy();
        data->type = to;
        return arrow::MakeArray(data);
      }
      const types::TimeZone* tz = nullptr;
      LS_ASSIGN_OR_RAISE(tz, SessionZone());
      const auto& a = static_cast<const arrow::TimestampArray&>(*in);
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
        } else {
          b.UnsafeAppend(to_ntz ? tz->ToLocalMicros(a.Value(i)) : tz->ToUtcMicros(a.Value(i)));
        }
      }
      break;
    }
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::BOOL: {
      if (to_ntz) return Unsupported(from, *to);
      bool is_bool = from.id() == arrow::Type::BOOL;
      LS_RETURN_NOT_OK(ForEachIntegral(*in, [&](int64_t, std::optional<int64_t> v) -> Status {
        if (!v) {
          b.UnsafeAppendNull();
          return Status::OK();
        }
        if (is_bool) {
          b.UnsafeAppend(*v);  // legacy: true is one microsecond
          return Status::OK();
        }
        int64_t us;
        if (__builtin_mul_overflow(*v, kMicrosPerSecond, &us)) {
          if (ansi()) return ArithmeticOverflow("long", "");
          us = *v > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
        }
        b.UnsafeAppend(us);
        return Status::OK();
      }));
      break;
    }
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
      if (to_ntz) return Unsupported(from, *to);
      LS_RETURN_NOT_OK(ForEachFloating(*in, [&](int64_t, std::optional<double> v) -> Status {
        if (!v) {
          b.UnsafeAppendNull();
          return Status::OK();
        }
        double us = *v * kMicrosPerSecond;
        if (std::isnan(us) || std::isinf(us) || us >= 9.2233720368547758e18 ||
            us < -9.2233720368547758e18) {
          if (ansi()) return CastOverflow(FloatingLiteral(from, *v), from, *to);
          b.UnsafeAppendNull();
          return Status::OK();
        }
        b.UnsafeAppend(static_cast<int64_t>(us));
        return Status::OK();
      }));
      break;
    case arrow::Type::DECIMAL128: {
      if (to_ntz) return Unsupported(from, *to);
      const auto& a = static_cast<const arrow::Decimal128Array&>(*in);
      int32_t fs = static_cast<const arrow::Decimal128Type&>(from).scale();
      for (int64_t i = 0; i < a.length(); ++i) {
        if (a.IsNull(i)) {
          b.UnsafeAppendNull();
          continue;
        }
        Decimal128 v(a.GetValue(i)), us;
        Decimal256 wide = To256(v);
        Decimal256 scaled = fs > 6 ? wide.ReduceScaleBy(fs - 6, /*round=*/false)
                                   : wide.IncreaseScaleBy(6 - fs);
        if (!Fits128(scaled, 18, &us)) {
          if (ansi()) return CastOverflow(v.ToString(fs) + "BD", from, *to);
          b.UnsafeAppendNull();
          continue;
        }
        b.UnsafeAppend(static_cast<int64_t>(us.low_bits()));
      }
      break;
    }
    default:
      return Unsupported(from, *to);
  }
  std::shared_ptr<arrow::Array> out;
  LS_RETURN_NOT_OK(b.Finish(&out));
  return out;
}

Result<std::shared_ptr<arrow::Array>> Caster::Nested(const std::shared_ptr<arrow::Array>& in,
                                                     const TypePtr& to) {
  const auto& from = *in->type();
  if (from.id() != to->id() || from.num_fields() != to->num_fields()) {
    return Unsupported(from, *to);
  }
  // Children are cast whole (unsliced) so the parent's offsets stay valid.
  auto data = in->data()->Copy();
  data->type = to;
  for (int k = 0; k < to->num_fields() && k < static_cast<int>(data->child_data.size()); ++k) {
    TypePtr child_to = to->field(k)->type();
    auto child = arrow::MakeArray(data->child_data[k]);
    LS_ASSIGN_OR_RAISE(auto cast_child, Cast(child, child_to));
    data->child_data[k] = cast_child->data();
  }
  return arrow::MakeArray(data);
}

Result<std::shared_ptr<arrow::Array>> Caster::Cast(const std::shared_ptr<arrow::Array>& in,
                                                   const TypePtr& to) {
  const auto& from = *in->type();
  if (from.Equals(*to)) return in;
  if (from.id() == arrow::Type::NA) return arrow::MakeArrayOfNull(to, in->length(), ctx_.pool);
  switch (to->id()) {
    case arrow::Type::INT8:
      return ToIntegral<arrow::Int8Type>(in, to);
    case arrow::Type::INT16:
      return ToIntegral<arrow::Int16Type>(in, to);
    case arrow::Type::INT32:
      return ToIntegral<arrow::Int32Type>(in, to);
    case arrow::Type::INT64:
      return ToIntegral<arrow::Int64Type>(in, to);
    case arrow::Type::FLOAT:
      return ToFloating<arrow::FloatType>(in, to);
    case arrow::Type::DOUBLE:
      return ToFloating<arrow::DoubleType>(in, to);
    case arrow::Type::DECIMAL128:
      return ToDecimal(in, to);
    case arrow::Type::BOOL:
      return ToBoolean(in, to);
    case arrow::Type::STRING:
      return ToString(in, to);
    case arrow::Type::BINARY:
      return ToBinary(in, to);
    case arrow::Type::DATE32:
      return ToDate(in, to);
    case arrow::Type::TIMESTAMP:
      return ToTimestamp(in, to);
    case arrow::Type::LIST:
    case arrow::Type::MAP:
    case arrow::Type::STRUCT:
      return Nested(in, to);
    default:
      return Unsupported(from, *to);
  }
}

}  // namespace

bool CanCast(const arrow::DataType& from, const arrow::DataType& to, bool ansi) {
  if (from.Equals(to)) return true;
  const auto f = from.id();
  const auto t = to.id();
  if (f == arrow::Type::NA) return true;
  if (t == arrow::Type::STRING) return true;
  const bool f_num = types::IsNumeric(from), t_num = types::IsNumeric(to);
  const bool f_str = f == arrow::Type::STRING;
  if (f_str) {
    // STRING converts to every atomic type (and to intervals).
    return t != arrow::Type::LIST && t != arrow::Type::MAP && t != arrow::Type::STRUCT &&
           t != arrow::Type::NA;
  }
  if (t_num && (f_num || f == arrow::Type::BOOL)) return true;
  if (t == arrow::Type::BOOL && f_num) return true;
  switch (t) {
    case arrow::Type::TIMESTAMP:
      if (f == arrow::Type::DATE32 || f == arrow::Type::TIMESTAMP) return true;
      if (IsNtz(to)) return false;
      // Checked against Spark 4.0.1: numbers convert under ANSI, booleans only in legacy.
      if (f_num) return true;
      return !ansi && f == arrow::Type::BOOL;
    case arrow::Type::DATE32:
      return f == arrow::Type::TIMESTAMP;
    case arrow::Type::BINARY:
      return !ansi && types::IsIntegral(from);
    case arrow::Type::LIST:
      return f == t && CanCast(*from.field(0)->type(), *to.field(0)->type(), ansi);
    case arrow::Type::MAP: {
      if (f != t) return false;
      const auto& fm = static_cast<const arrow::MapType&>(from);
      const auto& tm = static_cast<const arrow::MapType&>(to);
      return CanCast(*fm.key_type(), *tm.key_type(), ansi) &&
             CanCast(*fm.item_type(), *tm.item_type(), ansi);
    }
    case arrow::Type::STRUCT: {
      if (f != t || from.num_fields() != to.num_fields()) return false;
      for (int k = 0; k < from.num_fields(); ++k) {
        if (!CanCast(*from.field(k)->type(), *to.field(k)->type(), ansi)) return false;
      }
      return true;
    }
    default:
      break;
  }
  if (t_num && f == arrow::Type::TIMESTAMP) return !IsNtz(from);
  if (!ansi) {
    // Legacy extras: DATE and TIMESTAMP to numbers and booleans (NULL / seconds).
    if ((t_num || t == arrow::Type::BOOL) &&
        (f == arrow::Type::DATE32 || f == arrow::Type::TIMESTAMP)) {
      return true;
    }
  }
  if (t == arrow::Type::BOOL && f == arrow::Type::TIMESTAMP) return !ansi;
  return false;
}

Result<arrow::Datum> Cast(const arrow::Datum& value, const types::TypePtr& to, CastMode mode,
                          const EvalContext& ctx) {
  if (value.type() && value.type()->Equals(*to)) return value;
  Caster caster(mode, ctx);
  if (value.is_scalar()) {
    LS_ASSIGN_OR_RAISE(auto arr, arrow::MakeArrayFromScalar(*value.scalar(), 1, ctx.pool));
    LS_ASSIGN_OR_RAISE(auto out, caster.Cast(arr, to));
    LS_ASSIGN_OR_RAISE(auto s, out->GetScalar(0));
    return arrow::Datum(std::move(s));
  }
  if (value.is_array()) {
    LS_ASSIGN_OR_RAISE(auto out, caster.Cast(value.make_array(), to));
    return arrow::Datum(std::move(out));
  }
  if (value.is_chunked_array()) {
    arrow::ArrayVector chunks;
    for (const auto& c : value.chunked_array()->chunks()) {
      LS_ASSIGN_OR_RAISE(auto out, caster.Cast(c, to));
      chunks.push_back(std::move(out));
    }
    LS_ASSIGN_OR_RAISE(auto chunked, arrow::ChunkedArray::Make(std::move(chunks), to));
    return arrow::Datum(std::move(chunked));
  }
  return InternalError("CAST of a value that is neither an array nor a scalar");
}

Result<types::TypePtr> CommonType(const types::TypePtr& a, const types::TypePtr& b, bool ansi) {
  // Two STRINGs are equal to Arrow whatever their collations; Spark's rules pick one.
  if (a->id() == arrow::Type::STRING && b->id() == arrow::Type::STRING)
    return CommonStringType(a, b);
  if (a->Equals(*b)) return a;
  if (a->id() == arrow::Type::NA) return b;
  if (b->id() == arrow::Type::NA) return a;
  if (auto w = WiderNumericType(a, b, ansi)) return w;
  const auto ia = a->id(), ib = b->id();
  if ((ia == arrow::Type::DATE32 || ia == arrow::Type::TIMESTAMP) &&
      (ib == arrow::Type::DATE32 || ib == arrow::Type::TIMESTAMP)) {
    if (ia == arrow::Type::DATE32) return IsNtz(*b) ? b : types::Timestamp();
    if (ib == arrow::Type::DATE32) return IsNtz(*a) ? a : types::Timestamp();
    return types::Timestamp();
  }
  bool sa = ia == arrow::Type::STRING, sb = ib == arrow::Type::STRING;
  if (sa != sb) {
    const auto& other = sa ? b : a;
    const auto io = other->id();
    bool atomic = io != arrow::Type::LIST && io != arrow::Type::MAP &&
                  io != arrow::Type::STRUCT && io != arrow::Type::DURATION &&
                  io != arrow::Type::INTERVAL_MONTHS;
    if (ansi) {
      // AnsiTypeCoercion.findWiderTypeForString.
      if (types::IsIntegral(*other)) return arrow::int64();
      if (types::IsNumeric(*other)) return arrow::float64();
      if (atomic) return other;
    } else if (atomic && io != arrow::Type::BINARY && io != arrow::Type::BOOL) {
      // TypeCoercion.stringPromotion: the other side becomes a STRING.
      return sa ? a : b;
    }
  }
  if (ia == ib) {
    switch (ia) {
      case arrow::Type::LIST: {
        auto ea = a->field(0)->type(), eb = b->field(0)->type();
        auto e = CommonType(ea, eb, ansi);
        if (e.ok()) return arrow::list(a->field(0)->WithType(*e));
        break;
      }
      case arrow::Type::MAP: {
        const auto& ma = static_cast<const arrow::MapType&>(*a);
        const auto& mb = static_cast<const arrow::MapType&>(*b);
        auto k = CommonType(ma.key_type(), mb.key_type(), ansi);
        auto v = CommonType(ma.item_type(), mb.item_type(), ansi);
        if (k.ok() && v.ok()) return arrow::map(*k, *v);
        break;
      }
      case arrow::Type::STRUCT: {
        if (a->num_fields() != b->num_fields()) break;
        arrow::FieldVector fields;
        bool ok = true;
        for (int i = 0; i < a->num_fields() && ok; ++i) {
          auto fa = a->field(i), fb = b->field(i);
          if (!EqualsIgnoreCase(fa->name(), fb->name())) {
            ok = false;
            break;
          }
          auto t = CommonType(fa->type(), fb->type(), ansi);
          if (!t.ok()) {
            ok = false;
            break;
          }
          fields.push_back(arrow::field(fa->name(), *t, fa->nullable() || fb->nullable()));
        }
        if (ok) return arrow::struct_(fields);
        break;
      }
      default:
        break;
    }
  }
  return UserError(
      "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] cannot find a common type of \"{}\" and \"{}\"",
      SparkTypeName(*a), SparkTypeName(*b));
}

Result<types::TypePtr> CommonType(const std::vector<types::TypePtr>& types, bool ansi) {
  if (types.empty()) return arrow::null();
  types::TypePtr out = types[0];
  for (size_t i = 1; i < types.size(); ++i) {
    LS_ASSIGN_OR_RAISE(out, CommonType(out, types[i], ansi));
  }
  return out;
}

}  // namespace lakestream::expr
