// Spark's date and time functions (datetimeExpressions.scala). DATE is days
// since the epoch; TIMESTAMP is an instant in UTC microseconds whose calendar
// fields are read in the session time zone (EvalContext::config->time_zone);
// TIMESTAMP_NTZ is wall-clock microseconds. Patterns are Spark's, compiled
// once per literal (datetime_format.h). Parse failures raise
// [CANNOT_PARSE_TIMESTAMP] under ANSI and give NULL otherwise / in try_*.
#include <arrow/api.h>
#include <arrow/util/bitmap_builders.h>
#include <arrow/util/decimal.h>

#include <cmath>
#include <map>
#include <optional>

#include "expr/cast.h"
#include "expr/datetime_format.h"
#include "expr/aggregate_internal.h"
#include "expr/row_kernel_internal.h"

namespace lakestream::expr {

namespace {

using arrow::Datum;
using internal::CheckArity;
using internal::MapAllRows;
using internal::MapRows;
using internal::Rows;
using internal::TypeMismatch;
using types::TypePtr;
using internal::Call;
using internal::Utf8;
using internal::Int32;
using internal::Int64;
using internal::Date;
using internal::Ts;
using internal::TsNtz;
using Resolver = std::function<Result<ResolvedCall>(const CallSite&)>;



void Add(FunctionRegistry* r, const std::string& name, Resolver resolve) {
  r->AddScalar(ScalarFunction{name, std::move(resolve)});
}

/// How a date/time argument arrives at the kernel.
enum class TimeKind { kDate, kTimestamp, kNtz };

bool IsNtz(const arrow::DataType& t) {
  return t.id() == arrow::Type::TIMESTAMP &&
         static_cast<const arrow::TimestampType&>(t).timezone().empty();
}

/// Accepts DATE, TIMESTAMP, TIMESTAMP_NTZ as they are; STRING (and NULL) is
/// cast to `string_target` (DATE for date fields, TIMESTAMP for time fields).
Result<TimeKind> CoerceTime(const CallSite& site, size_t k, bool string_to_date,
                            std::string_view name, std::string_view sig, TypePtr* cast) {
  const auto& t = *site.arg_types[k];
  *cast = nullptr;
  if (t.id() == arrow::Type::DATE32) return TimeKind::kDate;
  if (t.id() == arrow::Type::TIMESTAMP) {
    const auto& tt = static_cast<const arrow::TimestampType&>(t);
    if (tt.unit() != arrow::TimeUnit::MICRO) {
      *cast = IsNtz(t) ? TsNtz() : Ts();
    }
    return IsNtz(t) ? TimeKind::kNtz : TimeKind::kTimestamp;
  }
  if (t.id() == arrow::Type::STRING || t.id() == arrow::Type::NA) {
    *cast = string_to_date ? Date() : Ts();
    return string_to_date ? TimeKind::kDate : TimeKind::kTimestamp;
  }
  return TypeMismatch(site, name, sig);
}

int64_t TimeValue(const Rows& r, size_t k, int64_t i, TimeKind kind) {
  if (kind == TimeKind::kDate) return r.As<arrow::Date32Array>(k).Value(i);
  return r.As<arrow::TimestampArray>(k).Value(i);
}

/// Wall-clock micros of a date/time value in the session zone.
int64_t LocalMicros(int64_t v, TimeKind kind, const TimeZone& tz) {
  switch (kind) {
    case TimeKind::kDate: return v * kMicrosPerDay;
    case TimeKind::kNtz: return v;
    default: return tz.UtcToLocal(v);
  }
}

int64_t LocalDays(int64_t v, TimeKind kind, const TimeZone& tz) {
  if (kind == TimeKind::kDate) return v;
  return FloorDiv(LocalMicros(v, kind, tz), kMicrosPerDay);
}

Result<TimeZone> SessionZone(const EvalContext& ctx) {
  return TimeZone::Make(ctx.config ? ctx.config->time_zone : "UTC");
}

bool ParseFailsWithError(const EvalContext& ctx, bool try_mode) {
  return !try_mode && ctx.config && ctx.config->ansi;
}

Status CannotParse(std::string_view text, size_t index, std::string_view try_fn) {
  return ExecutionError(
      "[CANNOT_PARSE_TIMESTAMP] Text '{}' could not be parsed at index {}. Use `{}` to tolerate "
      "invalid input string and return NULL instead.",
      text, index, try_fn);
}

const char* const kMonthNames[] = {"JANUARY", "FEBRUARY", "MARCH",     "APRIL",   "MAY",      "JUNE",
                                   "JULY",    "AUGUST",   "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER"};

/// Java's words for an out-of-range field ("Invalid date 'FEBRUARY 30'").
std::string InvalidFieldText(const ParsedDateTime& p) {
  if (p.month < 1 || p.month > 12) {
    return fmt::format("Invalid value for MonthOfYear (valid values 1 - 12): {}", p.month);
  }
  if (p.day < 1 || p.day > 31) {
    return fmt::format("Invalid value for DayOfMonth (valid values 1 - 28/31): {}", p.day);
  }
  if (p.day > DaysInMonth(p.year, p.month)) {
    return fmt::format("Invalid date '{} {}'", kMonthNames[p.month - 1], p.day);
  }
  if (p.hour < 0 || p.hour > 23) {
    return fmt::format("Invalid value for HourOfDay (valid values 0 - 23): {}", p.hour);
  }
  if (p.minute < 0 || p.minute > 59) {
    return fmt::format("Invalid value for MinuteOfHour (valid values 0 - 59): {}", p.minute);
  }
  return fmt::format("Invalid value for SecondOfMinute (valid values 0 - 59): {}", p.second);
}

Status CannotParseFields(std::string_view text, const ParsedDateTime& p, std::string_view try_fn) {
  return ExecutionError(
      "[CANNOT_PARSE_TIMESTAMP] Text '{}' could not be parsed: {}. Use `{}` to tolerate invalid "
      "input string and return NULL instead.",
      text, InvalidFieldText(p), try_fn);
}

// ---------------------------------------------------------------------------
// Calendar fields

enum class Field {
  kYear, kQuarter, kMonth, kDay, kDayOfWeek, kDayOfWeekIso, kWeekday, kDayOfYear, kWeekOfYear,
  kHour, kMinute, kSecond, kYearOfWeek
};

int IsoWeek(int64_t days) {
  // ISO-8601: the week with the year's first Thursday is week 1.
  int64_t dow = FloorMod(days + 3, 7);  // 0 = Monday
  int64_t thursday = days - dow + 3;
  int64_t y;
  unsigned m, d;
  CivilFromDays(thursday, &y, &m, &d);
  int64_t jan1 = DaysFromCivil(y, 1, 1);
  return static_cast<int>((thursday - jan1) / 7 + 1);
}

int FieldOf(Field f, int64_t local_micros) {
  int64_t days = FloorDiv(local_micros, kMicrosPerDay);
  int64_t tod = local_micros - days * kMicrosPerDay;
  int64_t y;
  unsigned m, d;
  switch (f) {
    case Field::kHour: return static_cast<int>(tod / (3600 * kMicrosPerSecond));
    case Field::kMinute: return static_cast<int>(tod / (60 * kMicrosPerSecond) % 60);
    case Field::kSecond: return static_cast<int>(tod / kMicrosPerSecond % 60);
    case Field::kDayOfWeek: return static_cast<int>(FloorMod(days + 4, 7)) + 1;  // 1 = Sunday
    case Field::kDayOfWeekIso: return static_cast<int>(FloorMod(days + 3, 7)) + 1;  // 1 = Monday
    case Field::kWeekday: return static_cast<int>(FloorMod(days + 3, 7));  // 0 = Monday
    case Field::kWeekOfYear: return IsoWeek(days);
    case Field::kYearOfWeek: {
      // The ISO week-based year: the year of the week's Thursday.
      int64_t thursday = days - FloorMod(days + 3, 7) + 3;
      CivilFromDays(thursday, &y, &m, &d);
      return static_cast<int>(y);
    }
    default: break;
  }
  CivilFromDays(days, &y, &m, &d);
  switch (f) {
    case Field::kYear: return static_cast<int>(y);
    case Field::kQuarter: return static_cast<int>((m - 1) / 3 + 1);
    case Field::kMonth: return static_cast<int>(m);
    case Field::kDay: return static_cast<int>(d);
    case Field::kDayOfYear: return static_cast<int>(days - DaysFromCivil(y, 1, 1) + 1);
    default: return 0;
  }
}

bool IsTimeField(Field f) { return f == Field::kHour || f == Field::kMinute || f == Field::kSecond; }

Resolver FieldFn(std::string name, Field f) {
  return [=](const CallSite& site) -> Result<ResolvedCall> {
    const char* sig = IsTimeField(f) ? "(TIMESTAMP)" : "(DATE)";
    LS_RETURN_NOT_OK(CheckArity(site, name, 1, 1, sig));
    TypePtr cast;
    TimeKind kind;
    if (IsTimeField(f) && site.arg_types[0]->id() == arrow::Type::DATE32) {
      cast = Ts();  // hour(date) is hour of its midnight
      kind = TimeKind::kTimestamp;
    } else {
      LS_ASSIGN_OR_RAISE(kind, CoerceTime(site, 0, !IsTimeField(f), name, sig, &cast));
    }
    return Call(Int32(), {cast},
                [f, kind](const std::vector<Datum>& args, int64_t length,
                          const EvalContext& ctx) -> Result<Datum> {
                  LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                  return MapRows<arrow::Int32Builder>(
                      args, length, ctx, Int32(), [&](const Rows& r, int64_t i, arrow::Int32Builder* b) {
                        b->UnsafeAppend(FieldOf(f, LocalMicros(TimeValue(r, 0, i, kind), kind, tz)));
                        return Status::OK();
                      });
                });
  };
}

Result<ResolvedCall> ResolveExtractInterval(const CallSite& site, const std::string& field);

Result<ResolvedCall> ResolveExtract(const CallSite& site, const std::string& name) {
  LS_RETURN_NOT_OK(CheckArity(site, name, 2, 2, "(STRING field, DATE or TIMESTAMP source)"));
  std::string storage;
  const std::string* lit = internal::LiteralString(site, 0, &storage);
  if (!lit) return UserError("{}: the field must be a string literal such as 'YEAR'", name);
  std::string u;
  for (char c : *lit) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const std::map<std::string, Field> kFields = {
      {"YEAR", Field::kYear},       {"Y", Field::kYear},          {"YEARS", Field::kYear},
      {"YR", Field::kYear},         {"YRS", Field::kYear},        {"QUARTER", Field::kQuarter},
      {"QTR", Field::kQuarter},     {"MONTH", Field::kMonth},     {"MON", Field::kMonth},
      {"MONS", Field::kMonth},      {"MONTHS", Field::kMonth},    {"WEEK", Field::kWeekOfYear},
      {"W", Field::kWeekOfYear},    {"WEEKS", Field::kWeekOfYear}, {"DAY", Field::kDay},
      {"D", Field::kDay},           {"DAYS", Field::kDay},        {"DAYOFWEEK", Field::kDayOfWeek},
      {"DOW", Field::kDayOfWeek},   {"DAYOFWEEK_ISO", Field::kDayOfWeekIso},
      {"DOW_ISO", Field::kDayOfWeekIso}, {"DOY", Field::kDayOfYear},
      {"HOUR", Field::kHour},       {"H", Field::kHour},          {"HOURS", Field::kHour},
      {"HR", Field::kHour},         {"HRS", Field::kHour},        {"MINUTE", Field::kMinute},
      {"M", Field::kMinute},        {"MIN", Field::kMinute},      {"MINS", Field::kMinute},
      {"MINUTES", Field::kMinute},  {"SECOND", Field::kSecond},   {"S", Field::kSecond},
      {"SEC", Field::kSecond},      {"SECONDS", Field::kSecond},  {"SECS", Field::kSecond},
      {"YEAROFWEEK", Field::kYearOfWeek},
  };
  if (site.arg_types[1]->id() == arrow::Type::DURATION ||
      site.arg_types[1]->id() == arrow::Type::INTERVAL_MONTHS) {
    return ResolveExtractInterval(site, u);
  }
  // Spark 4 has no EPOCH field for timestamps (INVALID_EXTRACT_FIELD), nor do we.
  bool epoch = false;
  auto it = kFields.find(u);
  if (it == kFields.end()) {
    return UserError(
        "[INVALID_EXTRACT_FIELD] Cannot extract `{}` from {}.", *lit,
        types::ToDDL(*site.arg_types[1]));
  }
  CallSite inner;
  inner.arg_types = {site.arg_types[1]};
  inner.config = site.config;
  if (epoch || it->second == Field::kSecond) {
    // SECOND with its fraction: DECIMAL(8,6); EPOCH: DECIMAL(20,6) seconds since the epoch.
    TypePtr cast;
    TimeKind kind;
    if (site.arg_types[1]->id() == arrow::Type::DATE32) {
      cast = Ts();
      kind = TimeKind::kTimestamp;
    } else {
      LS_ASSIGN_OR_RAISE(kind, CoerceTime(site, 1, false, name, "(STRING, TIMESTAMP)", &cast));
    }
    TypePtr out = epoch ? arrow::decimal128(20, 6) : arrow::decimal128(8, 6);
    auto rc = Call(out, {nullptr, cast},
                   [kind, epoch, out](const std::vector<Datum>& args, int64_t length,
                                      const EvalContext& ctx) -> Result<Datum> {
                     LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                     std::vector<Datum> one{args[1]};
                     return MapRows<arrow::Decimal128Builder>(
                         one, length, ctx, out,
                         [&](const Rows& r, int64_t i, arrow::Decimal128Builder* b) {
                           int64_t v = TimeValue(r, 0, i, kind);
                           int64_t micros;
                           if (epoch) {
                             micros = kind == TimeKind::kNtz ? v : v;  // instant or wall clock
                           } else {
                             micros = FloorMod(LocalMicros(v, kind, tz), 60 * kMicrosPerSecond);
                           }
                           b->UnsafeAppend(arrow::Decimal128(micros));
                           return Status::OK();
                         });
                   });
    return rc;
  }
  LS_ASSIGN_OR_RAISE(auto rc, FieldFn(name, it->second)(inner));
  rc.arg_types.insert(rc.arg_types.begin(), nullptr);
  auto exec = rc.exec;
  rc.exec = [exec](const std::vector<Datum>& args, int64_t length,
                   const EvalContext& ctx) -> Result<Datum> {
    return exec({args[1]}, length, ctx);
  };
  return rc;
}

// ---------------------------------------------------------------------------
// current_*

Result<ResolvedCall> ResolveCurrent(const CallSite& site, const std::string& name, int what) {
  LS_RETURN_NOT_OK(CheckArity(site, name, 0, 0, "()"));
  TypePtr out = what == 0 ? Date() : what == 1 ? Ts() : what == 2 ? TsNtz() : Utf8();
  auto rc = Call(out, {},
                 [what](const std::vector<Datum>& args, int64_t length,
                        const EvalContext& ctx) -> Result<Datum> {
                   LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                   int64_t local = tz.UtcToLocal(ctx.now_micros);
                   switch (what) {
                     case 0:
                       return Datum(std::make_shared<arrow::Date32Scalar>(
                           static_cast<int32_t>(FloorDiv(local, kMicrosPerDay))));
                     case 1:
                       return Datum(std::make_shared<arrow::TimestampScalar>(ctx.now_micros, Ts()));
                     case 2:
                       return Datum(std::make_shared<arrow::TimestampScalar>(local, TsNtz()));
                     default:
                       return Datum(std::make_shared<arrow::StringScalar>(tz.id()));
                   }
                 });
  rc.null_intolerant = false;
  return rc;
}

// ---------------------------------------------------------------------------
// Parsing and formatting with patterns

/// A pattern argument: compiled at bind time when literal, else per distinct value.
class PatternArg {
 public:
  static Result<PatternArg> Make(const CallSite& site, size_t k, std::string default_pattern) {
    PatternArg p;
    p.default_ = std::move(default_pattern);
    if (k >= site.arg_types.size()) {
      LS_ASSIGN_OR_RAISE(auto f, DateTimeFormat::Compile(p.default_));
      p.fixed_ = std::make_shared<DateTimeFormat>(std::move(f));
    } else {
      std::string storage;
      if (const std::string* lit = internal::LiteralString(site, k, &storage)) {
        // A bad literal pattern fails when a row is evaluated, not at bind time:
        // Spark builds the formatter lazily, so `to_timestamp(s, 'ssssssssss')
        // IS NULL OR true` (simplified to true) does not fail.
        auto f = DateTimeFormat::Compile(*lit);
        if (!f.ok()) {
          p.error_ = f.status();
        } else {
          p.fixed_ = std::make_shared<DateTimeFormat>(std::move(*f));
        }
      }
    }
    return p;
  }
  /// The format for row i (k = the pattern argument's index, if any).
  Result<const DateTimeFormat*> Get(const Rows& r, size_t k, int64_t i) {
    if (!error_.ok()) return error_;
    if (fixed_) return fixed_.get();
    std::string_view pat = r.Str(k, i);
    if (!cached_ || cached_->pattern() != pat) {
      LS_ASSIGN_OR_RAISE(auto f, DateTimeFormat::Compile(pat));
      cached_ = std::make_shared<DateTimeFormat>(std::move(f));
    }
    return cached_.get();
  }

 private:
  std::string default_;
  Status error_;  // a literal pattern that does not compile
  std::shared_ptr<const DateTimeFormat> fixed_;
  std::shared_ptr<DateTimeFormat> cached_;
};

/// Parses `text` to UTC micros (ntz: wall-clock micros). Returns false (and
/// *error set under ANSI) when it does not parse.
Result<bool> ParseText(std::string_view text, const DateTimeFormat& f, const TimeZone& tz, bool ntz,
                       bool raise, std::string_view try_fn, int64_t* out) {
  ParsedDateTime p;
  size_t idx = 0;
  if (!f.Parse(text, &p, &idx)) {
    if (raise) return CannotParse(text, idx, try_fn);
    return false;
  }
  bool ok = ntz ? ResolveParsedLocal(p, out) : ResolveParsed(p, tz, out);
  if (!ok) {
    if (raise) return CannotParseFields(text, p, try_fn);
    return false;
  }
  return true;
}

/// to_timestamp / to_timestamp_ntz / to_date / try_to_timestamp.
Result<ResolvedCall> ResolveToTime(const CallSite& site, const std::string& name, TypePtr out,
                                   bool try_mode) {
  LS_RETURN_NOT_OK(CheckArity(site, name, 1, 2, "(STRING[, STRING format])"));
  const auto& t = *site.arg_types[0];
  bool is_date = out->id() == arrow::Type::DATE32;
  bool ntz = !is_date && IsNtz(*out);
  if (site.arg_types.size() == 1 || t.id() != arrow::Type::STRING) {
    // Without a pattern Spark casts (CAST's flexible ISO formats and errors).
    if (site.arg_types.size() == 2 && !internal::IsStringCoercible(*site.arg_types[1])) {
      return TypeMismatch(site, name, "(STRING[, STRING format])");
    }
    if (!internal::IsStringCoercible(t)) return TypeMismatch(site, name, "(STRING[, STRING])");
    std::vector<TypePtr> casts(site.arg_types.size(), nullptr);
    if (site.arg_types.size() == 2) casts[1] = Utf8();
    auto rc = Call(out, casts,
                   [out, try_mode](const std::vector<Datum>& args, int64_t length,
                                   const EvalContext& ctx) -> Result<Datum> {
                     CastMode mode = try_mode ? CastMode::kTry
                                              : (ctx.ansi() ? CastMode::kAnsi : CastMode::kLegacy);
                     return Cast(args[0], out, mode, ctx);
                   });
    return rc;
  }
  if (!internal::IsStringCoercible(*site.arg_types[1])) {
    return TypeMismatch(site, name, "(STRING, STRING format)");
  }
  LS_ASSIGN_OR_RAISE(auto pattern, PatternArg::Make(site, 1, ""));
  std::string try_fn = is_date ? "try_to_date" : "try_to_timestamp";
  return Call(
      out, {Utf8(), Utf8()},
      [=](const std::vector<Datum>& args, int64_t length, const EvalContext& ctx) mutable
      -> Result<Datum> {
        LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
        bool raise = ParseFailsWithError(ctx, try_mode);
        PatternArg pat = pattern;
        return MapRows<arrow::ArrayBuilder>(
            args, length, ctx, out, [&](const Rows& r, int64_t i, arrow::ArrayBuilder* b) -> Status {
              LS_ASSIGN_OR_RAISE(const DateTimeFormat* f, pat.Get(r, 1, i));
              int64_t v;
              LS_ASSIGN_OR_RAISE(bool ok, ParseText(r.Str(0, i), *f, tz, ntz, raise, try_fn, &v));
              if (!ok) return b->AppendNull();
              if (is_date) {
                int64_t local = tz.UtcToLocal(v);
                return static_cast<arrow::Date32Builder*>(b)->Append(
                    static_cast<int32_t>(FloorDiv(local, kMicrosPerDay)));
              }
              return static_cast<arrow::TimestampBuilder*>(b)->Append(v);
            });
      });
}

Result<ResolvedCall> ResolveDateFormat(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "date_format", 2, 2, "(TIMESTAMP, STRING format)"));
  TypePtr cast;
  LS_ASSIGN_OR_RAISE(TimeKind kind,
                     CoerceTime(site, 0, false, "date_format", "(TIMESTAMP, STRING)", &cast));
  if (kind == TimeKind::kDate) {
    kind = TimeKind::kTimestamp;
    cast = Ts();
  }
  if (!internal::IsStringCoercible(*site.arg_types[1])) {
    return TypeMismatch(site, "date_format", "(TIMESTAMP, STRING)");
  }
  LS_ASSIGN_OR_RAISE(auto pattern, PatternArg::Make(site, 1, ""));
  return Call(Utf8(), {cast, Utf8()},
              [=](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                PatternArg pat = pattern;
                std::string buf;
                TimeZone utc = TimeZone::Utc();
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(),
                    [&](const Rows& r, int64_t i, arrow::StringBuilder* b) -> Status {
                      LS_ASSIGN_OR_RAISE(const DateTimeFormat* f, pat.Get(r, 1, i));
                      int64_t v = TimeValue(r, 0, i, kind);
                      buf.clear();
                      if (kind == TimeKind::kNtz) {
                        f->Format(v, 0, utc, &buf);
                      } else {
                        int32_t off = tz.OffsetAt(FloorDiv(v, kMicrosPerSecond));
                        f->Format(v + int64_t{off} * kMicrosPerSecond, off, tz, &buf);
                      }
                      return b->Append(buf);
                    });
              });
}

Result<ResolvedCall> ResolveFromUnixtime(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "from_unixtime", 1, 2, "(BIGINT[, STRING format])"));
  if (!internal::IsIntCoercible(*site.arg_types[0]) && !types::IsNumeric(*site.arg_types[0])) {
    return TypeMismatch(site, "from_unixtime", "(BIGINT[, STRING])");
  }
  LS_ASSIGN_OR_RAISE(auto pattern, PatternArg::Make(site, 1, "yyyy-MM-dd HH:mm:ss"));
  std::vector<TypePtr> casts{Int64()};
  if (site.arg_types.size() > 1) casts.push_back(Utf8());
  return Call(Utf8(), casts,
              [=](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                PatternArg pat = pattern;
                std::string buf;
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(),
                    [&](const Rows& r, int64_t i, arrow::StringBuilder* b) -> Status {
                      LS_ASSIGN_OR_RAISE(const DateTimeFormat* f, pat.Get(r, 1, i));
                      int64_t secs = r.I64(0, i);
                      int32_t off = tz.OffsetAt(secs);
                      buf.clear();
                      f->Format((secs + off) * kMicrosPerSecond, off, tz, &buf);
                      return b->Append(buf);
                    });
              });
}

/// unix_timestamp / to_unix_timestamp: seconds since the epoch.
Result<ResolvedCall> ResolveUnixTimestamp(const CallSite& site, const std::string& name,
                                          size_t min_args) {
  LS_RETURN_NOT_OK(
      CheckArity(site, name, min_args, 2, "([STRING or DATE or TIMESTAMP[, STRING format]])"));
  if (site.arg_types.empty()) {
    auto rc = Call(Int64(), {},
                   [](const std::vector<Datum>& args, int64_t length,
                      const EvalContext& ctx) -> Result<Datum> {
                     return Datum(std::make_shared<arrow::Int64Scalar>(
                         FloorDiv(ctx.now_micros, kMicrosPerSecond)));
                   });
    rc.null_intolerant = false;
    return rc;
  }
  const auto& t = *site.arg_types[0];
  if (t.id() == arrow::Type::STRING) {
    LS_ASSIGN_OR_RAISE(auto pattern, PatternArg::Make(site, 1, "yyyy-MM-dd HH:mm:ss"));
    std::vector<TypePtr> casts{Utf8()};
    if (site.arg_types.size() > 1) casts.push_back(Utf8());
    return Call(Int64(), casts,
                [=](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                  LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                  PatternArg pat = pattern;
                  bool raise = ParseFailsWithError(ctx, false);
                  return MapRows<arrow::Int64Builder>(
                      args, length, ctx, Int64(),
                      [&](const Rows& r, int64_t i, arrow::Int64Builder* b) -> Status {
                        LS_ASSIGN_OR_RAISE(const DateTimeFormat* f, pat.Get(r, 1, i));
                        int64_t v;
                        LS_ASSIGN_OR_RAISE(bool ok, ParseText(r.Str(0, i), *f, tz, false, raise,
                                                              "try_to_timestamp", &v));
                        if (!ok) return b->AppendNull();
                        b->UnsafeAppend(FloorDiv(v, kMicrosPerSecond));
                        return Status::OK();
                      });
                });
  }
  TypePtr cast;
  LS_ASSIGN_OR_RAISE(TimeKind kind,
                     CoerceTime(site, 0, false, name, "(STRING or DATE or TIMESTAMP)", &cast));
  std::vector<TypePtr> casts{cast};
  if (site.arg_types.size() > 1) casts.push_back(nullptr);
  return Call(Int64(), casts,
              [kind](const std::vector<Datum>& args, int64_t length,
                     const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                std::vector<Datum> one{args[0]};
                return MapRows<arrow::Int64Builder>(
                    one, length, ctx, Int64(), [&](const Rows& r, int64_t i, arrow::Int64Builder* b) {
                      int64_t v = TimeValue(r, 0, i, kind);
                      int64_t utc = kind == TimeKind::kDate   ? tz.LocalToUtc(v * kMicrosPerDay)
                                    : kind == TimeKind::kNtz ? tz.LocalToUtc(v)
                                                             : v;
                      b->UnsafeAppend(FloorDiv(utc, kMicrosPerSecond));
                      return Status::OK();
                    });
              });
}

// ---------------------------------------------------------------------------
// Epoch conversions

Resolver UnixUnits(std::string name, int64_t divisor) {
  return [=](const CallSite& site) -> Result<ResolvedCall> {
    LS_RETURN_NOT_OK(CheckArity(site, name, 1, 1, "(TIMESTAMP)"));
    TypePtr cast;
    LS_ASSIGN_OR_RAISE(TimeKind kind, CoerceTime(site, 0, false, name, "(TIMESTAMP)", &cast));
    if (kind != TimeKind::kTimestamp || cast) cast = Ts();
    return Call(Int64(), {cast},
                [divisor](const std::vector<Datum>& args, int64_t length,
                          const EvalContext& ctx) -> Result<Datum> {
                  return MapRows<arrow::Int64Builder>(
                      args, length, ctx, Int64(), [&](const Rows& r, int64_t i, arrow::Int64Builder* b) {
                        b->UnsafeAppend(FloorDiv(r.As<arrow::TimestampArray>(0).Value(i), divisor));
                        return Status::OK();
                      });
                });
  };
}

Resolver FromEpoch(std::string name, int64_t multiplier) {
  return [=](const CallSite& site) -> Result<ResolvedCall> {
    LS_RETURN_NOT_OK(CheckArity(site, name, 1, 1, "(NUMERIC)"));
    const auto& t = *site.arg_types[0];
    bool fractional = multiplier == kMicrosPerSecond &&
                      (types::IsFloating(t) || t.id() == arrow::Type::DECIMAL128);
    if (!types::IsNumeric(t) && t.id() != arrow::Type::NA) return TypeMismatch(site, name, "(NUMERIC)");
    if (!fractional && !types::IsIntegral(t) && t.id() != arrow::Type::NA) {
      return TypeMismatch(site, name, "(BIGINT)");
    }
    TypePtr cast = fractional ? arrow::float64() : Int64();
    return Call(Ts(), {cast},
                [=](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                  return MapRows<arrow::TimestampBuilder>(
                      args, length, ctx, Ts(),
                      [&](const Rows& r, int64_t i, arrow::TimestampBuilder* b) -> Status {
                        if (fractional) {
                          double v = r.F64(0, i) * static_cast<double>(multiplier);
                          if (std::isnan(v) || std::isinf(v)) return b->AppendNull();
                          if (std::fabs(v) > 9.2e18) {
                            return ExecutionError("[ARITHMETIC_OVERFLOW] long overflow in {}", name);
                          }
                          b->UnsafeAppend(static_cast<int64_t>(v));
                          return Status::OK();
                        }
                        int64_t out;
                        if (__builtin_mul_overflow(r.I64(0, i), multiplier, &out)) {
                          return ExecutionError(
                              "[ARITHMETIC_OVERFLOW] long overflow. Use 'try_multiply' to tolerate "
                              "overflow and return NULL instead.");
                        }
                        b->UnsafeAppend(out);
                        return Status::OK();
                      });
                });
  };
}

// ---------------------------------------------------------------------------
// Truncation

enum class Unit { kYear, kQuarter, kMonth, kWeek, kDay, kHour, kMinute, kSecond, kMilli, kMicro, kBad };

Unit ParseUnit(std::string_view s) {
  std::string u;
  for (char c : s) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "YEAR" || u == "YYYY" || u == "YY") return Unit::kYear;
  if (u == "QUARTER") return Unit::kQuarter;
  if (u == "MONTH" || u == "MON" || u == "MM") return Unit::kMonth;
  if (u == "WEEK") return Unit::kWeek;
  if (u == "DAY" || u == "DD") return Unit::kDay;
  if (u == "HOUR") return Unit::kHour;
  if (u == "MINUTE") return Unit::kMinute;
  if (u == "SECOND") return Unit::kSecond;
  if (u == "MILLISECOND") return Unit::kMilli;
  if (u == "MICROSECOND") return Unit::kMicro;
  return Unit::kBad;
}

int64_t TruncDays(int64_t days, Unit u) {
  int64_t y;
  unsigned m, d;
  switch (u) {
    case Unit::kWeek: return days - FloorMod(days + 3, 7);
    case Unit::kYear:
      CivilFromDays(days, &y, &m, &d);
      return DaysFromCivil(y, 1, 1);
    case Unit::kQuarter:
      CivilFromDays(days, &y, &m, &d);
      return DaysFromCivil(y, (m - 1) / 3 * 3 + 1, 1);
    case Unit::kMonth:
      CivilFromDays(days, &y, &m, &d);
      return DaysFromCivil(y, m, 1);
    default: return days;
  }
}

int64_t TruncLocalMicros(int64_t local, Unit u) {
  switch (u) {
    case Unit::kMicro: return local;
    case Unit::kMilli: return local - FloorMod(local, 1000);
    case Unit::kSecond: return local - FloorMod(local, kMicrosPerSecond);
    case Unit::kMinute: return local - FloorMod(local, 60 * kMicrosPerSecond);
    case Unit::kHour: return local - FloorMod(local, 3600 * kMicrosPerSecond);
    default: return TruncDays(FloorDiv(local, kMicrosPerDay), u) * kMicrosPerDay;
  }
}

Result<ResolvedCall> ResolveDateTrunc(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "date_trunc", 2, 2, "(STRING unit, TIMESTAMP)"));
  if (!internal::IsStringCoercible(*site.arg_types[0])) {
    return TypeMismatch(site, "date_trunc", "(STRING, TIMESTAMP)");
  }
  TypePtr cast;
  LS_ASSIGN_OR_RAISE(TimeKind kind,
                     CoerceTime(site, 1, false, "date_trunc", "(STRING, TIMESTAMP)", &cast));
  if (kind == TimeKind::kDate) {
    kind = TimeKind::kTimestamp;
    cast = Ts();
  }
  TypePtr out = kind == TimeKind::kNtz ? TsNtz() : Ts();
  auto rc = Call(out, {Utf8(), cast},
                 [kind, out](const std::vector<Datum>& args, int64_t length,
                             const EvalContext& ctx) -> Result<Datum> {
                   LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                   return MapRows<arrow::TimestampBuilder>(
                       args, length, ctx, out,
                       [&](const Rows& r, int64_t i, arrow::TimestampBuilder* b) -> Status {
                         Unit u = ParseUnit(r.Str(0, i));
                         if (u == Unit::kBad) return b->AppendNull();  // Spark: unknown unit -> NULL
                         int64_t v = TimeValue(r, 1, i, kind);
                         if (kind == TimeKind::kNtz) {
                           b->UnsafeAppend(TruncLocalMicros(v, u));
                         } else if (u == Unit::kMicro || u == Unit::kMilli || u == Unit::kSecond) {
                           b->UnsafeAppend(TruncLocalMicros(v, u));
                         } else {
                           b->UnsafeAppend(tz.LocalToUtc(TruncLocalMicros(tz.UtcToLocal(v), u)));
                         }
                         return Status::OK();
                       });
                 });
  return rc;
}

Result<ResolvedCall> ResolveTrunc(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "trunc", 2, 2, "(DATE, STRING format)"));
  TypePtr cast;
  LS_ASSIGN_OR_RAISE(TimeKind kind, CoerceTime(site, 0, true, "trunc", "(DATE, STRING)", &cast));
  return Call(Date(), {cast, Utf8()},
              [kind](const std::vector<Datum>& args, int64_t length,
                     const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                return MapRows<arrow::Date32Builder>(
                    args, length, ctx, Date(),
                    [&](const Rows& r, int64_t i, arrow::Date32Builder* b) -> Status {
                      Unit u = ParseUnit(r.Str(1, i));
                      if (u != Unit::kYear && u != Unit::kQuarter && u != Unit::kMonth &&
                          u != Unit::kWeek) {
                        return b->AppendNull();
                      }
                      int64_t days = LocalDays(TimeValue(r, 0, i, kind), kind, tz);
                      b->UnsafeAppend(static_cast<int32_t>(TruncDays(days, u)));
                      return Status::OK();
                    });
              });
}

// ---------------------------------------------------------------------------
// Date arithmetic

Status CheckDaysArg(const CallSite& site, size_t k, const std::string& name, const char* sig) {
  auto id = site.arg_types[k]->id();
  if (id != arrow::Type::INT8 && id != arrow::Type::INT16 && id != arrow::Type::INT32 &&
      id != arrow::Type::NA && id != arrow::Type::STRING) {
    return TypeMismatch(site, name, sig);
  }
  return Status::OK();
}

Resolver DateAdd(std::string name, int sign) {
  return [=](const CallSite& site) -> Result<ResolvedCall> {
    const char* sig = "(DATE, INT days)";
    LS_RETURN_NOT_OK(CheckArity(site, name, 2, 2, sig));
    TypePtr cast;
    LS_ASSIGN_OR_RAISE(TimeKind kind, CoerceTime(site, 0, true, name, sig, &cast));
    LS_RETURN_NOT_OK(CheckDaysArg(site, 1, name, sig));
    return Call(Date(), {cast, Int32()},
                [=](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                  LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                  return MapRows<arrow::Date32Builder>(
                      args, length, ctx, Date(),
                      [&](const Rows& r, int64_t i, arrow::Date32Builder* b) -> Status {
                        int64_t d = LocalDays(TimeValue(r, 0, i, kind), kind, tz) +
                                    sign * int64_t{r.I32(1, i)};
                        if (d > INT32_MAX || d < INT32_MIN) {
                          return ExecutionError(
                              "[ARITHMETIC_OVERFLOW] integer overflow. Use 'try_add' to tolerate "
                              "overflow and return NULL instead.");
                        }
                        b->UnsafeAppend(static_cast<int32_t>(d));
                        return Status::OK();
                      });
                });
  };
}

Result<ResolvedCall> ResolveDateDiff(const CallSite& site, const std::string& name) {
  const char* sig = "(DATE end, DATE start)";
  LS_RETURN_NOT_OK(CheckArity(site, name, 2, 2, sig));
  TypePtr c0, c1;
  LS_ASSIGN_OR_RAISE(TimeKind k0, CoerceTime(site, 0, true, name, sig, &c0));
  LS_ASSIGN_OR_RAISE(TimeKind k1, CoerceTime(site, 1, true, name, sig, &c1));
  return Call(Int32(), {c0, c1},
              [=](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                return MapRows<arrow::Int32Builder>(
                    args, length, ctx, Int32(), [&](const Rows& r, int64_t i, arrow::Int32Builder* b) {
                      b->UnsafeAppend(static_cast<int32_t>(LocalDays(TimeValue(r, 0, i, k0), k0, tz) -
                                                           LocalDays(TimeValue(r, 1, i, k1), k1, tz)));
                      return Status::OK();
                    });
              });
}

int64_t AddMonths(int64_t days, int64_t months) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  int64_t total = y * 12 + (m - 1) + months;
  int64_t ny = FloorDiv(total, 12);
  unsigned nm = static_cast<unsigned>(FloorMod(total, 12) + 1);
  unsigned nd = std::min<unsigned>(d, DaysInMonth(ny, nm));
  return DaysFromCivil(ny, nm, nd);
}

Result<ResolvedCall> ResolveAddMonths(const CallSite& site) {
  const char* sig = "(DATE, INT months)";
  LS_RETURN_NOT_OK(CheckArity(site, "add_months", 2, 2, sig));
  TypePtr cast;
  LS_ASSIGN_OR_RAISE(TimeKind kind, CoerceTime(site, 0, true, "add_months", sig, &cast));
  LS_RETURN_NOT_OK(CheckDaysArg(site, 1, "add_months", sig));
  return Call(Date(), {cast, Int32()},
              [=](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                return MapRows<arrow::Date32Builder>(
                    args, length, ctx, Date(), [&](const Rows& r, int64_t i, arrow::Date32Builder* b) {
                      int64_t days = LocalDays(TimeValue(r, 0, i, kind), kind, tz);
                      b->UnsafeAppend(static_cast<int32_t>(AddMonths(days, r.I32(1, i))));
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveMonthsBetween(const CallSite& site) {
  const char* sig = "(TIMESTAMP, TIMESTAMP[, BOOLEAN roundOff])";
  LS_RETURN_NOT_OK(CheckArity(site, "months_between", 2, 3, sig));
  TypePtr c0, c1;
  LS_ASSIGN_OR_RAISE(TimeKind k0, CoerceTime(site, 0, false, "months_between", sig, &c0));
  LS_ASSIGN_OR_RAISE(TimeKind k1, CoerceTime(site, 1, false, "months_between", sig, &c1));
  std::vector<TypePtr> casts{c0, c1};
  if (site.arg_types.size() > 2) casts.push_back(arrow::boolean());
  return Call(arrow::float64(), casts,
              [=](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                return MapRows<arrow::DoubleBuilder>(
                    args, length, ctx, arrow::float64(),
                    [&](const Rows& r, int64_t i, arrow::DoubleBuilder* b) {
                      bool round = r.arrays.size() > 2 ? r.Bool(2, i) : true;
                      int64_t l1 = LocalMicros(TimeValue(r, 0, i, k0), k0, tz);
                      int64_t l2 = LocalMicros(TimeValue(r, 1, i, k1), k1, tz);
                      int64_t d1 = FloorDiv(l1, kMicrosPerDay), d2 = FloorDiv(l2, kMicrosPerDay);
                      int64_t y1, y2;
                      unsigned m1, m2, dd1, dd2;
                      CivilFromDays(d1, &y1, &m1, &dd1);
                      CivilFromDays(d2, &y2, &m2, &dd2);
                      int64_t month_diff = (y1 * 12 + m1) - (y2 * 12 + m2);
                      bool last1 = static_cast<int>(dd1) == DaysInMonth(y1, m1);
                      bool last2 = static_cast<int>(dd2) == DaysInMonth(y2, m2);
                      double v;
                      if (dd1 == dd2 || (last1 && last2)) {
                        v = static_cast<double>(month_diff);
                      } else {
                        int64_t s1 = (l1 - d1 * kMicrosPerDay) / kMicrosPerSecond;
                        int64_t s2 = (l2 - d2 * kMicrosPerDay) / kMicrosPerSecond;
                        int64_t sec_diff =
                            (static_cast<int64_t>(dd1) - static_cast<int64_t>(dd2)) * 86400 + s1 - s2;
                        v = static_cast<double>(month_diff) + static_cast<double>(sec_diff) / 2678400.0;
                        if (round) v = std::round(v * 1e8) / 1e8;
                      }
                      b->UnsafeAppend(v);
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveLastDay(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "last_day", 1, 1, "(DATE)"));
  TypePtr cast;
  LS_ASSIGN_OR_RAISE(TimeKind kind, CoerceTime(site, 0, true, "last_day", "(DATE)", &cast));
  return Call(Date(), {cast},
              [=](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                return MapRows<arrow::Date32Builder>(
                    args, length, ctx, Date(), [&](const Rows& r, int64_t i, arrow::Date32Builder* b) {
                      int64_t y;
                      unsigned m, d;
                      CivilFromDays(LocalDays(TimeValue(r, 0, i, kind), kind, tz), &y, &m, &d);
                      b->UnsafeAppend(static_cast<int32_t>(DaysFromCivil(y, m, DaysInMonth(y, m))));
                      return Status::OK();
                    });
              });
}

/// 0 = Monday .. 6 = Sunday, -1 if not a day name (Spark: "MO", "MON", "MONDAY").
int ParseDayOfWeek(std::string_view s) {
  std::string u;
  for (char c : s) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const char* const kNames[] = {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY",
                                       "FRIDAY", "SATURDAY", "SUNDAY"};
  for (int d = 0; d < 7; ++d) {
    std::string_view n = kNames[d];
    if (u == n || u == n.substr(0, 2) || u == n.substr(0, 3)) return d;
  }
  return -1;
}

Result<ResolvedCall> ResolveNextDay(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "next_day", 2, 2, "(DATE, STRING dayOfWeek)"));
  TypePtr cast;
  LS_ASSIGN_OR_RAISE(TimeKind kind, CoerceTime(site, 0, true, "next_day", "(DATE, STRING)", &cast));
  return Call(Date(), {cast, Utf8()},
              [=](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                return MapRows<arrow::Date32Builder>(
                    args, length, ctx, Date(),
                    [&](const Rows& r, int64_t i, arrow::Date32Builder* b) -> Status {
                      int dow = ParseDayOfWeek(r.Str(1, i));
                      if (dow < 0) {
                        if (ctx.ansi()) {
                          return ExecutionError(
                              "[ILLEGAL_DAY_OF_WEEK] Illegal input for day of week: {}.", r.Str(1, i));
                        }
                        return b->AppendNull();
                      }
                      int64_t days = LocalDays(TimeValue(r, 0, i, kind), kind, tz);
                      int64_t cur = FloorMod(days + 3, 7);
                      int64_t delta = FloorMod(dow - cur, 7);
                      if (delta == 0) delta = 7;
                      b->UnsafeAppend(static_cast<int32_t>(days + delta));
                      return Status::OK();
                    });
              });
}

// ---------------------------------------------------------------------------
// make_date / make_timestamp

Status FieldOutOfBounds(std::string_view what) {
  return ExecutionError(
      "[DATETIME_FIELD_OUT_OF_BOUNDS] {}. If necessary set \"spark.sql.ansi.enabled\" to \"false\" "
      "to bypass this error.",
      what);
}

Result<ResolvedCall> ResolveMakeDate(const CallSite& site) {
  const char* sig = "(INT year, INT month, INT day)";
  LS_RETURN_NOT_OK(CheckArity(site, "make_date", 3, 3, sig));
  for (const auto& t : site.arg_types) {
    if (!internal::IsIntCoercible(*t)) return TypeMismatch(site, "make_date", sig);
  }
  return Call(Date(), {Int32(), Int32(), Int32()},
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::Date32Builder>(
                    args, length, ctx, Date(),
                    [&](const Rows& r, int64_t i, arrow::Date32Builder* b) -> Status {
                      int64_t y = r.I32(0, i);
                      int m = r.I32(1, i), d = r.I32(2, i);
                      std::string bad;
                      if (y < -290000 || y > 290000) {
                        bad = fmt::format("Invalid value for Year (valid values -999999999 - 999999999): {}", y);
                      } else if (m < 1 || m > 12) {
                        bad = fmt::format("Invalid value for MonthOfYear (valid values 1 - 12): {}", m);
                      } else if (d < 1 || d > 31) {
                        bad = fmt::format("Invalid value for DayOfMonth (valid values 1 - 28/31): {}", d);
                      } else if (d > DaysInMonth(y, m)) {
                        bad = fmt::format("Invalid date '{} {}'", kMonthNames[m - 1], d);
                      }
                      if (!bad.empty()) {
                        if (ctx.ansi()) return FieldOutOfBounds(bad);
                        return b->AppendNull();
                      }
                      b->UnsafeAppend(static_cast<int32_t>(DaysFromCivil(y, m, d)));
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveMakeTimestamp(const CallSite& site, const std::string& name, bool ntz) {
  const char* sig = "(INT year, INT month, INT day, INT hour, INT min, DECIMAL(16,6) sec[, STRING tz])";
  LS_RETURN_NOT_OK(CheckArity(site, name, 6, ntz ? 6 : 7, sig));
  std::vector<TypePtr> casts{Int32(), Int32(), Int32(), Int32(), Int32(), arrow::decimal128(16, 6)};
  for (size_t k = 0; k < 5; ++k) {
    if (!internal::IsIntCoercible(*site.arg_types[k])) return TypeMismatch(site, name, sig);
  }
  if (!types::IsNumeric(*site.arg_types[5]) && site.arg_types[5]->id() != arrow::Type::NA &&
      site.arg_types[5]->id() != arrow::Type::STRING) {
    return TypeMismatch(site, name, sig);
  }
  if (site.arg_types.size() > 6) casts.push_back(Utf8());
  TypePtr out = ntz ? TsNtz() : Ts();
  return Call(out, casts,
              [=](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(auto session_tz, SessionZone(ctx));
                return MapRows<arrow::TimestampBuilder>(
                    args, length, ctx, out,
                    [&](const Rows& r, int64_t i, arrow::TimestampBuilder* b) -> Status {
                      int64_t y = r.I32(0, i);
                      int mo = r.I32(1, i), d = r.I32(2, i), h = r.I32(3, i), mi = r.I32(4, i);
                      arrow::Decimal128 sec_dec(r.As<arrow::Decimal128Array>(5).GetValue(i));
                      int64_t sec_micros = static_cast<int64_t>(sec_dec);
                      std::string bad;
                      if (mo < 1 || mo > 12) {
                        bad = fmt::format("Invalid value for MonthOfYear (valid values 1 - 12): {}", mo);
                      } else if (d < 1 || d > DaysInMonth(y, mo)) {
                        bad = fmt::format("Invalid value for DayOfMonth: {}", d);
                      } else if (h < 0 || h > 23) {
                        bad = fmt::format("Invalid value for HourOfDay (valid values 0 - 23): {}", h);
                      } else if (mi < 0 || mi > 59) {
                        bad = fmt::format("Invalid value for MinuteOfHour (valid values 0 - 59): {}", mi);
                      } else if (sec_micros < 0 || sec_micros > 60 * kMicrosPerSecond ||
                                 (sec_micros >= 60 * kMicrosPerSecond && sec_micros % kMicrosPerSecond != 0)) {
                        bad = fmt::format("Invalid value for SecondOfMinute (valid values 0 - 59): {}",
                                          sec_dec.ToString(6));
                      }
                      if (!bad.empty()) {
                        if (ctx.ansi()) return FieldOutOfBounds(bad);
                        return b->AppendNull();
                      }
                      // sec = 60 means the next minute (Spark allows it).
                      int64_t local = DaysFromCivil(y, mo, d) * kMicrosPerDay +
                                      (int64_t{h} * 3600 + mi * 60) * kMicrosPerSecond + sec_micros;
                      if (ntz) {
                        b->UnsafeAppend(local);
                      } else if (r.arrays.size() > 6) {
                        LS_ASSIGN_OR_RAISE(auto tz, TimeZone::Make(r.Str(6, i)));
                        b->UnsafeAppend(tz.LocalToUtc(local));
                      } else {
                        b->UnsafeAppend(session_tz.LocalToUtc(local));
                      }
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveUtcShift(const CallSite& site, const std::string& name, bool from) {
  const char* sig = "(TIMESTAMP, STRING timezone)";
  LS_RETURN_NOT_OK(CheckArity(site, name, 2, 2, sig));
  TypePtr cast;
  LS_ASSIGN_OR_RAISE(TimeKind kind, CoerceTime(site, 0, false, name, sig, &cast));
  if (kind != TimeKind::kTimestamp) cast = Ts();
  std::shared_ptr<TimeZone> fixed;
  std::string storage;
  if (const std::string* lit = internal::LiteralString(site, 1, &storage)) {
    LS_ASSIGN_OR_RAISE(auto tz, TimeZone::Make(*lit));
    fixed = std::make_shared<TimeZone>(tz);
  }
  return Call(Ts(), {cast, Utf8()},
              [=](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                std::optional<TimeZone> cached;
                return MapRows<arrow::TimestampBuilder>(
                    args, length, ctx, Ts(),
                    [&](const Rows& r, int64_t i, arrow::TimestampBuilder* b) -> Status {
                      const TimeZone* tz = fixed.get();
                      if (!tz) {
                        if (!cached || cached->id() != r.Str(1, i)) {
                          LS_ASSIGN_OR_RAISE(auto z, TimeZone::Make(r.Str(1, i)));
                          cached = z;
                        }
                        tz = &*cached;
                      }
                      int64_t v = r.As<arrow::TimestampArray>(0).Value(i);
                      b->UnsafeAppend(from ? tz->UtcToLocal(v) : tz->LocalToUtc(v));
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveUnixDate(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "unix_date", 1, 1, "(DATE)"));
  TypePtr cast;
  LS_ASSIGN_OR_RAISE(TimeKind kind, CoerceTime(site, 0, true, "unix_date", "(DATE)", &cast));
  if (kind != TimeKind::kDate) return TypeMismatch(site, "unix_date", "(DATE)");
  return Call(Int32(), {cast},
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::Int32Builder>(
                    args, length, ctx, Int32(), [&](const Rows& r, int64_t i, arrow::Int32Builder* b) {
                      b->UnsafeAppend(r.As<arrow::Date32Array>(0).Value(i));
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveDateFromUnixDate(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "date_from_unix_date", 1, 1, "(INT)"));
  if (!internal::IsIntCoercible(*site.arg_types[0])) {
    return TypeMismatch(site, "date_from_unix_date", "(INT)");
  }
  return Call(Date(), {Int32()},
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::Date32Builder>(
                    args, length, ctx, Date(), [&](const Rows& r, int64_t i, arrow::Date32Builder* b) {
                      b->UnsafeAppend(r.I32(0, i));
                      return Status::OK();
                    });
              });
}

// ---------------------------------------------------------------------------
// dayname / monthname, make_interval, convert_timezone, EXTRACT on intervals.

Resolver NameFn(std::string name, bool month) {
  return [=](const CallSite& site) -> Result<ResolvedCall> {
    LS_RETURN_NOT_OK(CheckArity(site, name, 1, 1, "(DATE)"));
    TypePtr cast;
    LS_ASSIGN_OR_RAISE(TimeKind kind, CoerceTime(site, 0, true, name, "(DATE)", &cast));
    return Call(Utf8(), {cast},
                [kind, month](const std::vector<Datum>& args, int64_t length,
                              const EvalContext& ctx) -> Result<Datum> {
                  static const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
                  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
                  LS_ASSIGN_OR_RAISE(auto tz, SessionZone(ctx));
                  return MapRows<arrow::StringBuilder>(
                      args, length, ctx, Utf8(), [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                        int64_t micros = LocalMicros(TimeValue(r, 0, i, kind), kind, tz);
                        if (month) return b->Append(kMonths[FieldOf(Field::kMonth, micros) - 1]);
                        return b->Append(kDays[FieldOf(Field::kWeekday, micros)]);
                      });
                });
  };
}

/// make_interval([years[, months[, weeks[, days[, hours[, mins[, secs]]]]]]]) -> CALENDAR INTERVAL.
Result<ResolvedCall> ResolveMakeInterval(const CallSite& site) {
  const char* sig = "([INT years, INT months, INT weeks, INT days, INT hours, INT mins, DECIMAL secs])";
  LS_RETURN_NOT_OK(CheckArity(site, "make_interval", 0, 7, sig));
  std::vector<TypePtr> casts;
  for (size_t k = 0; k < site.arg_types.size(); ++k) {
    const auto& t = *site.arg_types[k];
    if (!(types::IsNumeric(t) || t.id() == arrow::Type::NA || t.id() == arrow::Type::STRING)) {
      return TypeMismatch(site, "make_interval", sig);
    }
    casts.push_back(k == 6 ? TypePtr(arrow::decimal128(18, 6)) : Int32());
  }
  TypePtr out = arrow::month_day_nano_interval();
  ResolvedCall rc = Call(out, casts,
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                if (args.empty()) {
                  return Datum(std::make_shared<arrow::MonthDayNanoIntervalScalar>(
                      arrow::MonthDayNanoIntervalType::MonthDayNanos{0, 0, 0}));
                }
                return MapRows<arrow::MonthDayNanoIntervalBuilder>(
                    args, length, ctx, out,
                    [&](const Rows& r, int64_t i, arrow::MonthDayNanoIntervalBuilder* b) -> Status {
                      auto get = [&](size_t k) -> int64_t {
                        return k < r.arrays.size() && k < 6 ? r.I32(k, i) : 0;
                      };
                      int64_t months = get(0) * 12 + get(1);
                      int64_t days = get(2) * 7 + get(3);
                      int64_t micros = (get(4) * 3600 + get(5) * 60) * kMicrosPerSecond;
                      if (r.arrays.size() > 6) {
                        arrow::Decimal128 secs(r.As<arrow::Decimal128Array>(6).GetValue(i));
                        micros += static_cast<int64_t>(secs);
                      }
                      if (months > std::numeric_limits<int32_t>::max() ||
                          months < std::numeric_limits<int32_t>::min() ||
                          days > std::numeric_limits<int32_t>::max() ||
                          days < std::numeric_limits<int32_t>::min()) {
                        return ExecutionError(
                            "[ARITHMETIC_OVERFLOW] integer overflow. Use 'try_make_interval' to "
                            "tolerate overflow and return NULL instead.");
                      }
                      return b->Append(arrow::MonthDayNanoIntervalType::MonthDayNanos{
                          static_cast<int32_t>(months), static_cast<int32_t>(days),
                          micros * 1000});
                    });
              });
  return rc;
}

/// convert_timezone([sourceTz, ]targetTz, sourceTs): TIMESTAMP_NTZ wall clock
/// in sourceTz (default: the session zone) to the wall clock in targetTz.
Result<ResolvedCall> ResolveConvertTimezone(const CallSite& site) {
  const char* sig = "([STRING sourceTz, ]STRING targetTz, TIMESTAMP_NTZ)";
  LS_RETURN_NOT_OK(CheckArity(site, "convert_timezone", 2, 3, sig));
  size_t n = site.arg_types.size();
  std::vector<TypePtr> casts(n, Utf8());
  casts[n - 1] = TsNtz();
  for (size_t k = 0; k + 1 < n; ++k) {
    if (!internal::IsStringCoercible(*site.arg_types[k])) {
      return TypeMismatch(site, "convert_timezone", sig);
    }
  }
  return Call(TsNtz(), casts,
              [n](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(auto session, SessionZone(ctx));
                return MapRows<arrow::TimestampBuilder>(
                    args, length, ctx, TsNtz(),
                    [&](const Rows& r, int64_t i, arrow::TimestampBuilder* b) -> Status {
                      std::optional<TimeZone> src;
                      if (n == 3) {
                        LS_ASSIGN_OR_RAISE(auto z, TimeZone::Make(r.Str(0, i)));
                        src = z;
                      } else {
                        src = session;
                      }
                      LS_ASSIGN_OR_RAISE(auto dst, TimeZone::Make(r.Str(n - 2, i)));
                      int64_t v = r.As<arrow::TimestampArray>(n - 1).Value(i);
                      b->UnsafeAppend(dst.UtcToLocal(src->LocalToUtc(v)));
                      return Status::OK();
                    });
              });
}

/// EXTRACT(field FROM interval): YEAR / MONTH of a YEAR TO MONTH interval,
/// DAY / HOUR / MINUTE / SECOND of a DAY TO SECOND interval (Spark's
/// ExtractInterval*: INT years and days, TINYINT months, hours and minutes,
/// DECIMAL(8,6) seconds).
Result<ResolvedCall> ResolveExtractInterval(const CallSite& site, const std::string& field) {
  bool ym = site.arg_types[1]->id() == arrow::Type::INTERVAL_MONTHS;
  auto bad = [&]() {
    return UserError("[INVALID_EXTRACT_FIELD] Cannot extract `{}` from {}.", field,
                     types::ToDDL(*site.arg_types[1]));
  };
  int what;  // 0 years, 1 months, 2 days, 3 hours, 4 minutes, 5 seconds
  if (field == "YEAR" || field == "Y" || field == "YEARS" || field == "YR" || field == "YRS") {
    what = 0;
  } else if (field == "MONTH" || field == "MON" || field == "MONS" || field == "MONTHS") {
    what = 1;
  } else if (field == "DAY" || field == "D" || field == "DAYS") {
    what = 2;
  } else if (field == "HOUR" || field == "H" || field == "HOURS" || field == "HR" || field == "HRS") {
    what = 3;
  } else if (field == "MINUTE" || field == "M" || field == "MIN" || field == "MINS" ||
             field == "MINUTES") {
    what = 4;
  } else if (field == "SECOND" || field == "S" || field == "SEC" || field == "SECONDS" ||
             field == "SECS") {
    what = 5;
  } else {
    return bad();
  }
  if (ym != (what <= 1)) return bad();
  TypePtr out = what == 0 || what == 2 ? Int32()
                : what == 5            ? TypePtr(arrow::decimal128(8, 6))
                                       : TypePtr(arrow::int8());
  return Call(out, {nullptr, nullptr},
              [what, out](const std::vector<Datum>& args, int64_t length,
                          const EvalContext& ctx) -> Result<Datum> {
                std::vector<Datum> one{args[1]};
                return MapRows<arrow::ArrayBuilder>(
                    one, length, ctx, out, [&](const Rows& r, int64_t i, arrow::ArrayBuilder* b) -> Status {
                      if (what <= 1) {
                        int32_t m = r.As<arrow::MonthIntervalArray>(0).Value(i);
                        if (what == 0) return static_cast<arrow::Int32Builder*>(b)->Append(m / 12);
                        return static_cast<arrow::Int8Builder*>(b)->Append(static_cast<int8_t>(m % 12));
                      }
                      int64_t us = r.As<arrow::DurationArray>(0).Value(i);
                      constexpr int64_t kHour = 3600 * kMicrosPerSecond;
                      switch (what) {
                        case 2:
                          return static_cast<arrow::Int32Builder*>(b)->Append(
                              static_cast<int32_t>(us / kMicrosPerDay));
                        case 3:
                          return static_cast<arrow::Int8Builder*>(b)->Append(
                              static_cast<int8_t>(us % kMicrosPerDay / kHour));
                        case 4:
                          return static_cast<arrow::Int8Builder*>(b)->Append(
                              static_cast<int8_t>(us % kHour / (60 * kMicrosPerSecond)));
                        default:
                          return static_cast<arrow::Decimal128Builder*>(b)->Append(
                              arrow::Decimal128(us % (60 * kMicrosPerSecond)));
                      }
                    });
              });
}

}  // namespace

// window(time, windowDuration[, slideDuration[, startTime]]): the tumbling
// window holding each timestamp, as Spark's struct<start, end>. Durations are
// literals ("10 seconds"). Sliding windows (slide < duration) put a row in
// several windows; the binder has no Expand for them yet, so they are refused.
Result<ResolvedCall> ResolveWindow(const CallSite& s) {
  LS_RETURN_NOT_OK(internal::CheckArity(s, "window", 2, 4, "(TIMESTAMP, STRING[, STRING[, STRING]])"));
  std::vector<int64_t> micros;
  for (size_t k = 1; k < s.arg_types.size(); ++k) {
    std::string storage;
    const std::string* text = internal::LiteralString(s, k, &storage);
    if (!text) return UserError("window(): argument {} must be a duration literal such as '10 seconds'", k + 1);
    ARROW_ASSIGN_OR_RAISE(auto us, types::ParseDurationMicros(*text));
    micros.push_back(us);
  }
  const int64_t width = micros[0];
  const int64_t slide = micros.size() > 1 ? micros[1] : width;
  const int64_t start = micros.size() > 2 ? micros[2] : 0;
  if (width <= 0) return UserError("window(): the window duration must be positive");
  if (slide != width) {
    // Sliding windows put a row in several windows: the binder expands them
    // with sliding_windows() under GROUP BY; anywhere else they cannot be one value.
    return UserError("window() with a slide duration different from the window duration is only allowed as a GROUP BY "
                     "key");
  }
  auto ts = Ts();
  auto type = arrow::struct_({arrow::field("start", ts), arrow::field("end", ts)});
  std::vector<types::TypePtr> args = {ts};
  for (size_t k = 1; k < s.arg_types.size(); ++k) args.push_back(nullptr);
  return internal::Call(type, args, [=](const std::vector<arrow::Datum>& a, int64_t length,
                                         const EvalContext& ctx) -> Result<arrow::Datum> {
    ARROW_ASSIGN_OR_RAISE(auto arr, internal::ToArray(a[0], length, ctx.pool));
    const auto& t = static_cast<const arrow::TimestampArray&>(*arr);
    arrow::TimestampBuilder sb(ts, ctx.pool), eb(ts, ctx.pool);
    ARROW_RETURN_NOT_OK(sb.Reserve(length));
    ARROW_RETURN_NOT_OK(eb.Reserve(length));
    std::vector<uint8_t> valid(length, 1);
    for (int64_t i = 0; i < length; ++i) {
      if (t.IsNull(i)) {
        valid[i] = 0;
        sb.UnsafeAppendNull();
        eb.UnsafeAppendNull();
        continue;
      }
      int64_t v = t.Value(i);
      int64_t off = (v - start) % width;
      if (off < 0) off += width;
      sb.UnsafeAppend(v - off);
      eb.UnsafeAppend(v - off + width);
    }
    ARROW_ASSIGN_OR_RAISE(auto starts, sb.Finish());
    ARROW_ASSIGN_OR_RAISE(auto ends, eb.Finish());
    std::shared_ptr<arrow::Buffer> bitmap;
    int64_t nulls = std::count(valid.begin(), valid.end(), 0);
    if (nulls > 0) {
      ARROW_ASSIGN_OR_RAISE(bitmap, arrow::internal::BytesToBits(valid, ctx.pool));
    }
    return std::make_shared<arrow::StructArray>(type, length, arrow::ArrayVector{starts, ends}, bitmap, nulls);
  });
}

// session_window(time, gapDuration): the session a single event opens, as
// Spark's struct<start, end> = [time, time + gap). The gap is a duration
// literal or a per-row STRING expression ("5 minutes"); a row whose gap is
// NULL, unparseable or not positive gets a NULL session, which GROUP BY drops
// as Spark does. Merging the sessions of one key that overlap is the
// aggregation's job (StreamingAggregate for streams).
Result<ResolvedCall> ResolveSessionWindow(const CallSite& s) {
  LS_RETURN_NOT_OK(internal::CheckArity(s, "session_window", 2, 2, "(TIMESTAMP, STRING)"));
  std::optional<int64_t> fixed_gap;
  std::string storage;
  if (const std::string* text = internal::LiteralString(s, 1, &storage)) {
    ARROW_ASSIGN_OR_RAISE(auto us, types::ParseDurationMicros(*text));
    if (us <= 0) return UserError("session_window(): the gap duration must be positive, got '{}'", *text);
    fixed_gap = us;
  }
  auto ts = Ts();
  auto type = arrow::struct_({arrow::field("start", ts), arrow::field("end", ts)});
  std::vector<types::TypePtr> args = {ts, fixed_gap ? nullptr : arrow::utf8()};
  return internal::Call(type, args, [=](const std::vector<arrow::Datum>& a, int64_t length,
                                         const EvalContext& ctx) -> Result<arrow::Datum> {
    ARROW_ASSIGN_OR_RAISE(auto arr, internal::ToArray(a[0], length, ctx.pool));
    const auto& t = static_cast<const arrow::TimestampArray&>(*arr);
    std::shared_ptr<arrow::Array> gaps;
    if (!fixed_gap) {
      ARROW_ASSIGN_OR_RAISE(gaps, internal::ToArray(a[1], length, ctx.pool));
    }
    arrow::TimestampBuilder sb(ts, ctx.pool), eb(ts, ctx.pool);
    ARROW_RETURN_NOT_OK(sb.Reserve(length));
    ARROW_RETURN_NOT_OK(eb.Reserve(length));
    std::vector<uint8_t> valid(length, 1);
    for (int64_t i = 0; i < length; ++i) {
      std::optional<int64_t> gap = fixed_gap;
      if (!fixed_gap && gaps->IsValid(i)) {
        auto parsed = types::ParseDurationMicros(
            std::string(static_cast<const arrow::StringArray&>(*gaps).GetView(i)));
        if (parsed.ok() && *parsed > 0) gap = *parsed;
      }
      if (t.IsNull(i) || !gap) {
        valid[i] = 0;
        sb.UnsafeAppendNull();
        eb.UnsafeAppendNull();
        continue;
      }
      sb.UnsafeAppend(t.Value(i));
      eb.UnsafeAppend(t.Value(i) + *gap);
    }
    ARROW_ASSIGN_OR_RAISE(auto starts, sb.Finish());
    ARROW_ASSIGN_OR_RAISE(auto ends, eb.Finish());
    std::shared_ptr<arrow::Buffer> bitmap;
    int64_t nulls = std::count(valid.begin(), valid.end(), 0);
    if (nulls > 0) {
      ARROW_ASSIGN_OR_RAISE(bitmap, arrow::internal::BytesToBits(valid, ctx.pool));
    }
    return std::make_shared<arrow::StructArray>(type, length, arrow::ArrayVector{starts, ends}, bitmap, nulls);
  });
}

// window_time(window): the event time of a window, its end minus 1 µs (as
// Spark), so an aggregation over windowed results can window again.
Result<ResolvedCall> ResolveWindowTime(const CallSite& s) {
  LS_RETURN_NOT_OK(internal::CheckArity(s, "window_time", 1, 1, "(STRUCT<start, end>)"));
  const auto& t = s.arg_types[0];
  bool ok = t && t->id() == arrow::Type::STRUCT;
  int end_index = -1;
  if (ok) {
    const auto& st = static_cast<const arrow::StructType&>(*t);
    end_index = st.GetFieldIndex("end");
    ok = end_index >= 0 && st.field(end_index)->type()->id() == arrow::Type::TIMESTAMP;
  }
  if (!ok) {
    return UserError("window_time() expects a window column (struct<start, end>) made by window() or "
                     "session_window(), got {}",
                     t ? types::ToDDL(*t) : std::string("NULL"));
  }
  auto ts = Ts();
  return internal::Call(ts, {t}, [=](const std::vector<arrow::Datum>& a, int64_t length,
                                     const EvalContext& ctx) -> Result<arrow::Datum> {
    ARROW_ASSIGN_OR_RAISE(auto arr, internal::ToArray(a[0], length, ctx.pool));
    const auto& st = static_cast<const arrow::StructArray&>(*arr);
    ARROW_ASSIGN_OR_RAISE(auto end_arr, st.GetFlattenedField(end_index, ctx.pool));
    const auto& end = static_cast<const arrow::TimestampArray&>(*end_arr);
    arrow::TimestampBuilder b(ts, ctx.pool);
    ARROW_RETURN_NOT_OK(b.Reserve(length));
    for (int64_t i = 0; i < length; ++i) {
      if (end.IsNull(i)) {
        b.UnsafeAppendNull();
      } else {
        b.UnsafeAppend(end.Value(i) - 1);
      }
    }
    return b.Finish();
  });
}

// sliding_windows(time, windowDuration, slideDuration[, startTime]): every
// window holding each timestamp, as array<struct<start, end>> (the binder
// explodes it under GROUP BY window(...) with a slide, as Spark's Expand).
Result<ResolvedCall> ResolveSlidingWindows(const CallSite& s) {
  LS_RETURN_NOT_OK(internal::CheckArity(s, "sliding_windows", 3, 4, "(TIMESTAMP, STRING, STRING[, STRING])"));
  std::vector<int64_t> micros;
  for (size_t k = 1; k < s.arg_types.size(); ++k) {
    std::string storage;
    const std::string* text = internal::LiteralString(s, k, &storage);
    if (!text) return UserError("window(): argument {} must be a duration literal such as '10 seconds'", k + 1);
    ARROW_ASSIGN_OR_RAISE(auto us, types::ParseDurationMicros(*text));
    micros.push_back(us);
  }
  const int64_t width = micros[0], slide = micros[1], start = micros.size() > 2 ? micros[2] : 0;
  if (width <= 0 || slide <= 0) return UserError("window(): durations must be positive");
  if (slide > width) return UserError("window(): the slide duration must not exceed the window duration");
  auto ts = Ts();
  auto st = arrow::struct_({arrow::field("start", ts), arrow::field("end", ts)});
  auto type = arrow::list(st);
  std::vector<types::TypePtr> args = {ts};
  for (size_t k = 1; k < s.arg_types.size(); ++k) args.push_back(nullptr);
  return internal::Call(type, args, [=](const std::vector<arrow::Datum>& a, int64_t length,
                                         const EvalContext& ctx) -> Result<arrow::Datum> {
    ARROW_ASSIGN_OR_RAISE(auto arr, internal::ToArray(a[0], length, ctx.pool));
    const auto& t = static_cast<const arrow::TimestampArray&>(*arr);
    arrow::TimestampBuilder sb(ts, ctx.pool), eb(ts, ctx.pool);
    std::vector<int32_t> offsets = {0};
    std::vector<uint8_t> valid(length, 1);
    for (int64_t i = 0; i < length; ++i) {
      if (t.IsNull(i)) {
        valid[i] = 0;
        offsets.push_back(offsets.back());
        continue;
      }
      int64_t v = t.Value(i);
      int64_t off = (v - start) % slide;
      if (off < 0) off += slide;
      int32_t n = 0;
      // The latest window starting at or before v, then earlier ones while they still hold v.
      for (int64_t w = v - off; w > v - width; w -= slide, ++n) {
        ARROW_RETURN_NOT_OK(sb.Append(w));
        ARROW_RETURN_NOT_OK(eb.Append(w + width));
      }
      offsets.push_back(offsets.back() + n);
    }
    ARROW_ASSIGN_OR_RAISE(auto starts, sb.Finish());
    ARROW_ASSIGN_OR_RAISE(auto ends, eb.Finish());
    auto values = std::make_shared<arrow::StructArray>(st, starts->length(), arrow::ArrayVector{starts, ends});
    ARROW_ASSIGN_OR_RAISE(auto offs, internal::MakeFixedArray<int32_t>(arrow::int32(), offsets, nullptr, ctx.pool));
    int64_t nulls = std::count(valid.begin(), valid.end(), 0);
    std::shared_ptr<arrow::Buffer> bitmap;
    if (nulls > 0) {
      ARROW_ASSIGN_OR_RAISE(bitmap, arrow::internal::BytesToBits(valid, ctx.pool));
    }
    return std::make_shared<arrow::ListArray>(type, length, offs->data()->buffers[1], values, bitmap, nulls);
  });
}

void RegisterDatetimeFunctions(FunctionRegistry* r) {
  Add(r, "window", ResolveWindow);
  Add(r, "sliding_windows", ResolveSlidingWindows);
  Add(r, "session_window", ResolveSessionWindow);
  Add(r, "window_time", ResolveWindowTime);
  Add(r, "current_date", [](const CallSite& s) { return ResolveCurrent(s, "current_date", 0); });
  r->AddAlias("curdate", "current_date");
  Add(r, "current_timestamp",
      [](const CallSite& s) { return ResolveCurrent(s, "current_timestamp", 1); });
  r->AddAlias("now", "current_timestamp");
  Add(r, "localtimestamp", [](const CallSite& s) { return ResolveCurrent(s, "localtimestamp", 2); });
  Add(r, "current_timezone",
      [](const CallSite& s) { return ResolveCurrent(s, "current_timezone", 3); });

  Add(r, "year", FieldFn("year", Field::kYear));
  Add(r, "quarter", FieldFn("quarter", Field::kQuarter));
  Add(r, "month", FieldFn("month", Field::kMonth));
  Add(r, "day", FieldFn("day", Field::kDay));
  r->AddAlias("dayofmonth", "day");
  Add(r, "dayofweek", FieldFn("dayofweek", Field::kDayOfWeek));
  Add(r, "weekday", FieldFn("weekday", Field::kWeekday));
  Add(r, "dayofyear", FieldFn("dayofyear", Field::kDayOfYear));
  Add(r, "weekofyear", FieldFn("weekofyear", Field::kWeekOfYear));
  Add(r, "hour", FieldFn("hour", Field::kHour));
  Add(r, "minute", FieldFn("minute", Field::kMinute));
  Add(r, "second", FieldFn("second", Field::kSecond));
  Add(r, "extract", [](const CallSite& s) { return ResolveExtract(s, "extract"); });
  Add(r, "date_part", [](const CallSite& s) { return ResolveExtract(s, "date_part"); });
  Add(r, "dayname", NameFn("dayname", false));
  Add(r, "monthname", NameFn("monthname", true));
  Add(r, "make_interval", ResolveMakeInterval);
  Add(r, "convert_timezone", ResolveConvertTimezone);
  r->AddAlias("datepart", "date_part");

  Add(r, "to_timestamp",
      [](const CallSite& s) { return ResolveToTime(s, "to_timestamp", Ts(), false); });
  Add(r, "try_to_timestamp",
      [](const CallSite& s) { return ResolveToTime(s, "try_to_timestamp", Ts(), true); });
  Add(r, "to_timestamp_ltz",
      [](const CallSite& s) { return ResolveToTime(s, "to_timestamp_ltz", Ts(), false); });
  Add(r, "to_timestamp_ntz",
      [](const CallSite& s) { return ResolveToTime(s, "to_timestamp_ntz", TsNtz(), false); });
  Add(r, "to_date", [](const CallSite& s) { return ResolveToTime(s, "to_date", Date(), false); });
  Add(r, "try_to_date",
      [](const CallSite& s) { return ResolveToTime(s, "try_to_date", Date(), true); });
  Add(r, "date_format", ResolveDateFormat);
  Add(r, "from_unixtime", ResolveFromUnixtime);
  Add(r, "unix_timestamp", [](const CallSite& s) { return ResolveUnixTimestamp(s, "unix_timestamp", 0); });
  Add(r, "to_unix_timestamp",
      [](const CallSite& s) { return ResolveUnixTimestamp(s, "to_unix_timestamp", 1); });
  Add(r, "unix_seconds", UnixUnits("unix_seconds", kMicrosPerSecond));
  Add(r, "unix_millis", UnixUnits("unix_millis", 1000));
  Add(r, "unix_micros", UnixUnits("unix_micros", 1));
  Add(r, "unix_date", ResolveUnixDate);
  Add(r, "timestamp_seconds", FromEpoch("timestamp_seconds", kMicrosPerSecond));
  Add(r, "timestamp_millis", FromEpoch("timestamp_millis", 1000));
  Add(r, "timestamp_micros", FromEpoch("timestamp_micros", 1));
  Add(r, "date_from_unix_date", ResolveDateFromUnixDate);

  Add(r, "date_trunc", ResolveDateTrunc);
  Add(r, "trunc", ResolveTrunc);
  Add(r, "date_add", DateAdd("date_add", 1));
  r->AddAlias("dateadd", "date_add");
  Add(r, "date_sub", DateAdd("date_sub", -1));
  Add(r, "datediff", [](const CallSite& s) { return ResolveDateDiff(s, "datediff"); });
  r->AddAlias("date_diff", "datediff");
  Add(r, "add_months", ResolveAddMonths);
  Add(r, "months_between", ResolveMonthsBetween);
  Add(r, "last_day", ResolveLastDay);
  Add(r, "next_day", ResolveNextDay);
  Add(r, "make_date", ResolveMakeDate);
  Add(r, "make_timestamp",
      [](const CallSite& s) { return ResolveMakeTimestamp(s, "make_timestamp", false); });
  Add(r, "make_timestamp_ntz",
      [](const CallSite& s) { return ResolveMakeTimestamp(s, "make_timestamp_ntz", true); });
  Add(r, "from_utc_timestamp",
      [](const CallSite& s) { return ResolveUtcShift(s, "from_utc_timestamp", true); });
  Add(r, "to_utc_timestamp",
      [](const CallSite& s) { return ResolveUtcShift(s, "to_utc_timestamp", false); });
}

}  // namespace lakestream::expr
