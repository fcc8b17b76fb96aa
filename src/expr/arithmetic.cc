// Spark's arithmetic operators and their try_ forms: + - * / % div pmod,
// unary minus/plus, abs and the bitwise operators, with Spark 4's result types
// (DecimalPrecision for decimals, DOUBLE for `/`, BIGINT for `div`), overflow
// and division-by-zero rules under ANSI (errors), legacy (wrap / NULL) and
// try_ (NULL), and date/timestamp/interval arithmetic.
#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/util/decimal.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "expr/cast.h"
#include "expr/function.h"
#include "expr/kernel_util.h"
#include "types/value_format.h"

namespace lakestream::expr {

namespace {

using arrow::Decimal128;
using arrow::Decimal256;
using types::TypePtr;

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

enum class Op { kAdd, kSub, kMul, kDiv, kMod, kPmod, kIntDiv };

const char* Symbol(Op op) {
  switch (op) {
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kMod:
      return "%";
    case Op::kPmod:
      return "pmod";
    case Op::kIntDiv:
      return "div";
  }
  return "?";
}

const char* TryName(Op op) {
  switch (op) {
    case Op::kAdd:
      return "try_add";
    case Op::kSub:
      return "try_subtract";
    case Op::kMul:
      return "try_multiply";
    default:
      return "try_divide";
  }
}

bool SiteAnsi(const CallSite& site) { return site.config == nullptr || site.config->ansi; }

/// The failure mode of a call: try_ functions always NULL, otherwise the session's.
CastMode ModeOf(bool is_try, const EvalContext& ctx) {
  if (is_try) return CastMode::kTry;
  return ctx.ansi() ? CastMode::kAnsi : CastMode::kLegacy;
}

bool IsDecimal(const arrow::DataType& t) { return t.id() == arrow::Type::DECIMAL128; }
bool IsNa(const arrow::DataType& t) { return t.id() == arrow::Type::NA; }
bool IsString(const arrow::DataType& t) { return t.id() == arrow::Type::STRING; }
int32_t Precision(const arrow::DataType& t) {
  return static_cast<const arrow::Decimal128Type&>(t).precision();
}
int32_t Scale(const arrow::DataType& t) {
  return static_cast<const arrow::Decimal128Type&>(t).scale();
}

Status OperandError(const char* name, const CallSite& site) {
  return UserError(
      "[DATATYPE_MISMATCH.BINARY_OP_WRONG_TYPE] operator {} does not accept {}; it expects "
      "numeric operands (or dates, timestamps and intervals where Spark allows them)",
      name, internal::ArgTypeList(site));
}

// ---------------------------------------------------------------------------
// Integral and floating kernels.

template <typename T>
Result<arrow::Datum> IntegralKernel(Op op, bool is_try, const std::vector<arrow::Datum>& args,
                                    int64_t length, const EvalContext& ctx, const TypePtr& type) {
  using C = typename arrow::TypeTraits<T>::CType;
  const CastMode mode = ModeOf(is_try, ctx);
  const bool small = sizeof(C) < 4;
  enum class Fail { kNone, kOverflow, kZero } fail = Fail::kNone;
  auto kernel = [&](C a, C b, C* out) -> RowOutcome {
    C r{};
    bool overflow = false;
    switch (op) {
      case Op::kAdd:
        overflow = __builtin_add_overflow(a, b, &r);
        break;
      case Op::kSub:
        overflow = __builtin_sub_overflow(a, b, &r);
        break;
      case Op::kMul:
        overflow = __builtin_mul_overflow(a, b, &r);
        break;
      case Op::kMod:
      case Op::kPmod:
        if (b == 0) {
          fail = Fail::kZero;
          return mode == CastMode::kAnsi ? RowOutcome::kError : RowOutcome::kNull;
        }
        r = b == -1 ? 0 : static_cast<C>(a % b);
        if (op == Op::kPmod && r < 0) r = b == -1 ? 0 : static_cast<C>((r + b) % b);
        break;
      case Op::kIntDiv:
        if (b == 0) {
          fail = Fail::kZero;
          return mode == CastMode::kAnsi ? RowOutcome::kError : RowOutcome::kNull;
        }
        if (a == std::numeric_limits<C>::min() && b == -1) {
          overflow = true;
          r = a;
        } else {
          r = static_cast<C>(a / b);
        }
        break;
      case Op::kDiv:
        break;
    }
    if (overflow) {
      if (mode == CastMode::kAnsi) {
        fail = Fail::kOverflow;
        return RowOutcome::kError;
      }
      if (mode == CastMode::kTry) return RowOutcome::kNull;
    }
    *out = r;  // legacy: Java's wrapped result
    return RowOutcome::kValue;
  };
  auto on_error = [&](C a, C b) -> Status {
    if (fail == Fail::kZero) return DivideByZero();
    if (op == Op::kIntDiv) {
      return ExecutionError(
          "[ARITHMETIC_OVERFLOW] Overflow in integral divide. Use 'try_divide' to tolerate "
          "overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to "
          "\"false\" to bypass this error.");
    }
    if (small) {
      // Spark reports byte and short operands as shorts.
      return ExecutionError(
          "[BINARY_ARITHMETIC_OVERFLOW] {}S {} {}S caused overflow. Use `{}` to ignore overflow "
          "problem and return NULL.",
          static_cast<int>(a), Symbol(op), static_cast<int>(b), TryName(op));
    }
    return ArithmeticOverflow(JavaIntegralWord(*type), TryName(op));
  };
  return MapBinary<T, T, T>(args[0], args[1], length, ctx, type, kernel, on_error);
}

template <typename T>
Result<arrow::Datum> FloatingKernel(Op op, bool is_try, const std::vector<arrow::Datum>& args,
                                    int64_t length, const EvalContext& ctx, const TypePtr& type) {
  using C = typename arrow::TypeTraits<T>::CType;
  const CastMode mode = ModeOf(is_try, ctx);
  auto kernel = [&](C a, C b, C* out) -> RowOutcome {
    switch (op) {
      case Op::kAdd:
        *out = a + b;
        break;
      case Op::kSub:
        *out = a - b;
        break;
      case Op::kMul:
        *out = a * b;
        break;
      case Op::kDiv:
      case Op::kMod:
      case Op::kPmod:
        // Spark checks the divisor for zero for floating operands too.
        if (b == 0) return mode == CastMode::kAnsi ? RowOutcome::kError : RowOutcome::kNull;
        if (op == Op::kDiv) {
          *out = a / b;
        } else {
          C r = std::fmod(a, b);
          if (op == Op::kPmod && r < 0) r = std::fmod(r + b, b);
          *out = r;
        }
        break;
      case Op::kIntDiv:
        return RowOutcome::kNull;
    }
    return RowOutcome::kValue;
  };
  auto on_error = [&](C, C) -> Status { return DivideByZero(); };
  return MapBinary<T, T, T>(args[0], args[1], length, ctx, type, kernel, on_error);
}

// ---------------------------------------------------------------------------
// Decimal kernel: exact in 256 bits, rounded HALF_UP to the result scale.

Decimal256 Pow10(int32_t n) {
  Decimal256 r(1);
  for (int32_t i = 0; i < n; ++i) r *= Decimal256(10);
  return r;
}

int Digits(const Decimal256& v) {
  Decimal256 a = v;
  if (a.IsNegative()) a.Negate();
  int d = 0;
  Decimal256 ten(10);
  while (a != Decimal256(0)) {
    a /= ten;
    ++d;
  }
  return d;
}

// Divides with HALF_UP rounding (or truncation).
Decimal256 DivRound(const Decimal256& num, const Decimal256& den, bool round) {
  Decimal256 q, r;
  (void)static_cast<const arrow::BasicDecimal256&>(num).Divide(den, &q, &r);
  if (round && r != Decimal256(0)) {
    Decimal256 r2 = r;
    if (r2.IsNegative()) r2.Negate();
    r2 *= Decimal256(2);
    Decimal256 d = den;
    if (d.IsNegative()) d.Negate();
    if (r2 >= d) {
      bool negative = num.IsNegative() != den.IsNegative();
      q += negative ? Decimal256(-1) : Decimal256(1);
    }
  }
  return q;
}

Decimal256 Rescale256(const Decimal256& v, int32_t from, int32_t to) {
  if (to > from) return v * Pow10(to - from);
  if (to < from) return DivRound(v, Pow10(from - to), /*round=*/true);
  return v;
}

Result<arrow::Datum> DecimalKernel(Op op, bool is_try, const std::vector<arrow::Datum>& args,
                                   int64_t length, const EvalContext& ctx,
                                   const TypePtr& out_type) {
  const CastMode mode = ModeOf(is_try, ctx);
  LS_ASSIGN_OR_RAISE(internal::Rows rows, internal::ToRows(args, length, ctx.pool));
  const auto& l = rows.As<arrow::Decimal128Array>(0);
  const auto& r = rows.As<arrow::Decimal128Array>(1);
  const int32_t s1 = Scale(*l.type()), s2 = Scale(*r.type());
  const bool to_bigint = op == Op::kIntDiv;
  const int32_t p = to_bigint ? 19 : Precision(*out_type);
  const int32_t s = to_bigint ? 0 : Scale(*out_type);
  std::unique_ptr<arrow::ArrayBuilder> builder;
  LS_RETURN_NOT_OK(arrow::MakeBuilder(ctx.pool, out_type, &builder));
  LS_RETURN_NOT_OK(builder->Reserve(rows.length));
  auto* dec_b = to_bigint ? nullptr : static_cast<arrow::Decimal128Builder*>(builder.get());
  auto* int_b = to_bigint ? static_cast<arrow::Int64Builder*>(builder.get()) : nullptr;
  auto append_null = [&]() { (void)builder->AppendNull(); };  // capacity reserved
  for (int64_t i = 0; i < rows.length; ++i) {
    if (l.IsNull(i) || r.IsNull(i)) {
      append_null();
      continue;
    }
    Decimal256 a(arrow::BasicDecimal256(Decimal128(l.GetValue(i))));
    Decimal256 b(arrow::BasicDecimal256(Decimal128(r.GetValue(i))));
    Decimal256 out;
    bool overflow = false;
    switch (op) {
      case Op::kAdd:
      case Op::kSub: {
        int32_t sc = std::max(s1, s2);
        Decimal256 x = Rescale256(a, s1, sc), y = Rescale256(b, s2, sc);
        if (op == Op::kAdd) {
          x += y;
        } else {
          x -= y;
        }
        out = Rescale256(x, sc, s);
        break;
      }
      case Op::kMul:
        out = Rescale256(a * b, s1 + s2, s);
        break;
      case Op::kDiv:
      case Op::kIntDiv:
      case Op::kMod:
      case Op::kPmod: {
        if (b == Decimal256(0)) {
          if (mode == CastMode::kAnsi) return DivideByZero();
          append_null();
          continue;
        }
        if (op == Op::kDiv || op == Op::kIntDiv) {
          // a/10^s1 / (b/10^s2) at scale s: a * 10^(s2 + s - s1) / b.
          int32_t e = s2 + s - s1;
          Decimal256 num = a, den = b;
          if (e >= 0) {
            if (Digits(a) + e > 75) {
              overflow = true;
              break;
            }
            num = a * Pow10(e);
          } else {
            den = b * Pow10(-e);
          }
          out = DivRound(num, den, /*round=*/op == Op::kDiv);
        } else {
          int32_t sc = std::max(s1, s2);
          Decimal256 x = Rescale256(a, s1, sc), y = Rescale256(b, s2, sc), q, rem;
          (void)static_cast<const arrow::BasicDecimal256&>(x).Divide(y, &q, &rem);
          if (op == Op::kPmod && rem.IsNegative()) {
            Decimal256 t = rem + y;
            (void)static_cast<const arrow::BasicDecimal256&>(t).Divide(y, &q, &rem);
          }
          out = Rescale256(rem, sc, s);
        }
        break;
      }
    }
    if (!overflow) overflow = !out.FitsInPrecision(p);
    if (to_bigint && !overflow) {
      overflow = out > Decimal256(std::numeric_limits<int64_t>::max()) ||
                 out < Decimal256(std::numeric_limits<int64_t>::min());
    }
    if (overflow) {
      if (mode == CastMode::kAnsi) {
        if (to_bigint) return ArithmeticOverflow("long", "try_divide");
        return ExecutionError(
            "[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION]  the result of {} {} {} cannot be "
            "represented as Decimal({}, {}). If necessary set \"spark.sql.ansi.enabled\" to "
            "\"false\" to bypass this error, and return NULL instead.",
            Decimal128(l.GetValue(i)).ToString(s1), Symbol(op),
            Decimal128(r.GetValue(i)).ToString(s2), p, s);
      }
      append_null();
      continue;
    }
    auto words = out.little_endian_array();
    if (to_bigint) {
      int_b->UnsafeAppend(static_cast<int64_t>(words[0]));
    } else {
      dec_b->UnsafeAppend(Decimal128(static_cast<int64_t>(words[1]), words[0]));
    }
  }
  std::shared_ptr<arrow::Array> result;
  LS_RETURN_NOT_OK(builder->Finish(&result));
  return internal::FromRows(rows, std::move(result));
}

ScalarExec NumericExec(Op op, bool is_try, const TypePtr& operand_type,
                       const TypePtr& result_type) {
  return [=](const std::vector<arrow::Datum>& args, int64_t length,
             const EvalContext& ctx) -> Result<arrow::Datum> {
    switch (operand_type->id()) {
      case arrow::Type::INT8:
        return IntegralKernel<arrow::Int8Type>(op, is_try, args, length, ctx, result_type);
      case arrow::Type::INT16:
        return IntegralKernel<arrow::Int16Type>(op, is_try, args, length, ctx, result_type);
      case arrow::Type::INT32:
        return IntegralKernel<arrow::Int32Type>(op, is_try, args, length, ctx, result_type);
      case arrow::Type::INT64:
        return IntegralKernel<arrow::Int64Type>(op, is_try, args, length, ctx, result_type);
      case arrow::Type::FLOAT:
        return FloatingKernel<arrow::FloatType>(op, is_try, args, length, ctx, result_type);
      case arrow::Type::DOUBLE:
        return FloatingKernel<arrow::DoubleType>(op, is_try, args, length, ctx, result_type);
      case arrow::Type::DECIMAL128:
        return DecimalKernel(op, is_try, args, length, ctx, result_type);
      default:
        return InternalError("arithmetic kernel on {}", operand_type->ToString());
    }
  };
}

// ---------------------------------------------------------------------------
// Date, timestamp and interval arithmetic.

enum class DtKind {
  kDatePlusDays,       // date, int32 -> date (sign by op)
  kDateMinusDate,      // date, date -> duration
  kTsMinusTs,          // ts, ts -> duration
  kTsPlusDuration,     // ts, duration -> ts
  kDurationArith,      // duration, duration -> duration
  kTsPlusCalendar,     // ts, month_day_nano -> ts
  kDatePlusCalendar,   // date, month_day_nano -> date
  kTsPlusMonths,       // ts, month_interval -> ts
  kDatePlusMonths,     // date, month_interval -> date
  kMonthsArith,        // month_interval, month_interval -> month_interval
};

Result<arrow::Datum> DatetimeKernel(DtKind kind, int sign, bool swapped,
                                    const std::vector<arrow::Datum>& in_args, int64_t length,
                                    const EvalContext& ctx, const TypePtr& out_type) {
  std::vector<arrow::Datum> args = in_args;
  if (swapped) std::swap(args[0], args[1]);  // interval + date written the other way round
  LS_ASSIGN_OR_RAISE(internal::Rows rows, internal::ToRows(args, length, ctx.pool));
  const auto& a0 = *rows.arrays[0];
  const auto& a1 = *rows.arrays[1];
  std::unique_ptr<arrow::ArrayBuilder> builder;
  LS_RETURN_NOT_OK(arrow::MakeBuilder(ctx.pool, out_type, &builder));
  LS_RETURN_NOT_OK(builder->Reserve(rows.length));
  std::optional<types::TimeZone> tz;
  const bool ts_ntz = a0.type_id() == arrow::Type::TIMESTAMP &&
                      static_cast<const arrow::TimestampType&>(*a0.type()).timezone().empty();
  if (kind == DtKind::kTsPlusCalendar || kind == DtKind::kTsPlusMonths) {
    if (!ts_ntz) {
      LS_ASSIGN_OR_RAISE(tz, types::TimeZone::Make(ctx.config ? ctx.config->time_zone : "UTC"));
    }
  }
  auto i64 = [](const arrow::Array& a, int64_t i) -> int64_t {
    switch (a.type_id()) {
      case arrow::Type::DATE32:
        return static_cast<const arrow::Date32Array&>(a).Value(i);
      case arrow::Type::INT8:
        return static_cast<const arrow::Int8Array&>(a).Value(i);
      case arrow::Type::INT16:
        return static_cast<const arrow::Int16Array&>(a).Value(i);
      case arrow::Type::INT32:
        return static_cast<const arrow::Int32Array&>(a).Value(i);
      case arrow::Type::INTERVAL_MONTHS:
        return static_cast<const arrow::MonthIntervalArray&>(a).Value(i);
      default:  // int64, timestamp, duration share the layout
        return a.data()->GetValues<int64_t>(1)[i];
    }
  };
  auto overflow = [&]() -> Status { return ArithmeticOverflow("long", ""); };
  for (int64_t i = 0; i < rows.length; ++i) {
    if (a0.IsNull(i) || a1.IsNull(i)) {
      LS_RETURN_NOT_OK(builder->AppendNull());
      continue;
    }
    int64_t out = 0;
    switch (kind) {
      case DtKind::kDatePlusDays:
      case DtKind::kDateMinusDate:
      case DtKind::kTsMinusTs:
      case DtKind::kTsPlusDuration:
      case DtKind::kDurationArith:
      case DtKind::kMonthsArith: {
        int64_t x = i64(a0, i), y = i64(a1, i);
        if (__builtin_mul_overflow(y, sign, &y) || __builtin_add_overflow(x, y, &out)) {
          return overflow();
        }
        if (kind == DtKind::kDateMinusDate) out *= kMicrosPerDay;
        if (kind == DtKind::kDatePlusDays &&
            (out < std::numeric_limits<int32_t>::min() || out > std::numeric_limits<int32_t>::max())) {
          return ExecutionError("[DATETIME_OVERFLOW] date arithmetic overflows the DATE range");
        }
        break;
      }
      case DtKind::kDatePlusMonths:
        out = AddMonthsToDays(i64(a0, i), sign * i64(a1, i));
        break;
      case DtKind::kTsPlusMonths: {
        int64_t t = i64(a0, i);
        int64_t local = tz ? tz->ToLocalMicros(t) : t;
        int64_t day = local >= 0 ? local / kMicrosPerDay : (local - kMicrosPerDay + 1) / kMicrosPerDay;
        int64_t tod = local - day * kMicrosPerDay;
        int64_t nl = AddMonthsToDays(day, sign * i64(a1, i)) * kMicrosPerDay + tod;
        out = tz ? tz->ToUtcMicros(nl) : nl;
        break;
      }
      case DtKind::kTsPlusCalendar:
      case DtKind::kDatePlusCalendar: {
        auto v = static_cast<const arrow::MonthDayNanoIntervalArray&>(a1).Value(i);
        int64_t months = sign * static_cast<int64_t>(v.months);
        int64_t days = sign * static_cast<int64_t>(v.days);
        int64_t micros = sign * (v.nanoseconds / 1000);
        if (kind == DtKind::kDatePlusCalendar) {
          if (micros != 0) {
            return UserError(
                "[DATATYPE_MISMATCH] cannot add an interval with hours, minutes or seconds to a "
                "DATE; cast the date to TIMESTAMP first");
          }
          out = AddMonthsToDays(i64(a0, i), months) + days;
        } else {
          // As Spark's timestampAddInterval: months and days in local time, then micros.
          int64_t t = i64(a0, i);
          int64_t local = tz ? tz->ToLocalMicros(t) : t;
          int64_t day =
              local >= 0 ? local / kMicrosPerDay : (local - kMicrosPerDay + 1) / kMicrosPerDay;
          int64_t tod = local - day * kMicrosPerDay;
          int64_t nl = (AddMonthsToDays(day, months) + days) * kMicrosPerDay + tod;
          out = (tz ? tz->ToUtcMicros(nl) : nl) + micros;
        }
        break;
      }
    }
    switch (out_type->id()) {
      case arrow::Type::DATE32:
        static_cast<arrow::Date32Builder*>(builder.get())->UnsafeAppend(static_cast<int32_t>(out));
        break;
      case arrow::Type::INTERVAL_MONTHS:
        static_cast<arrow::MonthIntervalBuilder*>(builder.get())
            ->UnsafeAppend(static_cast<int32_t>(out));
        break;
      case arrow::Type::TIMESTAMP:
        static_cast<arrow::TimestampBuilder*>(builder.get())->UnsafeAppend(out);
        break;
      default:
        static_cast<arrow::DurationBuilder*>(builder.get())->UnsafeAppend(out);
        break;
    }
  }
  std::shared_ptr<arrow::Array> result;
  LS_RETURN_NOT_OK(builder->Finish(&result));
  return internal::FromRows(rows, std::move(result));
}

TypePtr Duration() { return arrow::duration(arrow::TimeUnit::MICRO); }
// Spark types DATE - DATE as INTERVAL DAY.
TypePtr DaysInterval() {
  return types::DayTimeInterval(types::DayTimeField::kDay, types::DayTimeField::kDay);
}
// Day-time interval +/- day-time interval spans both operands' fields (Spark's
// DayTimeIntervalType(min start, max end)).
TypePtr WiderInterval(const arrow::DataType& a, const arrow::DataType& b) {
  auto [a0, a1] = types::DayTimeFields(a);
  auto [b0, b1] = types::DayTimeFields(b);
  return types::DayTimeInterval(std::min(a0, b0), std::max(a1, b1));
}

bool IsTs(const arrow::DataType& t) { return t.id() == arrow::Type::TIMESTAMP; }
bool IsDate(const arrow::DataType& t) { return t.id() == arrow::Type::DATE32; }

// Resolves + and - when a date, timestamp or interval is involved; nullopt
// when neither side is one.
std::optional<Result<ResolvedCall>> ResolveDatetime(Op op, const CallSite& site) {
  const TypePtr& a = site.arg_types[0];
  const TypePtr& b = site.arg_types[1];
  auto temporal = [](const arrow::DataType& t) {
    switch (t.id()) {
      case arrow::Type::DATE32:
      case arrow::Type::TIMESTAMP:
      case arrow::Type::DURATION:
      case arrow::Type::INTERVAL_MONTHS:
      case arrow::Type::INTERVAL_MONTH_DAY_NANO:
        return true;
      default:
        return false;
    }
  };
  if (!temporal(*a) && !temporal(*b)) return std::nullopt;
  if (op != Op::kAdd && op != Op::kSub) {
    return Result<ResolvedCall>(OperandError(Symbol(op), site));
  }
  const int sign = op == Op::kAdd ? 1 : -1;
  auto make = [&](DtKind kind, TypePtr result, std::vector<TypePtr> casts,
                  bool swapped) -> Result<ResolvedCall> {
    ResolvedCall rc;
    rc.result_type = result;
    rc.arg_types = std::move(casts);
    rc.exec = [kind, sign, swapped, result](const std::vector<arrow::Datum>& args, int64_t length,
                                            const EvalContext& ctx) {
      return DatetimeKernel(kind, sign, swapped, args, length, ctx, result);
    };
    return rc;
  };
  auto int_like = [](const arrow::DataType& t) {
    return t.id() == arrow::Type::INT8 || t.id() == arrow::Type::INT16 ||
           t.id() == arrow::Type::INT32;
  };
  // date +/- integer days (date_add / date_sub).
  if (IsDate(*a) && (int_like(*b) || IsNa(*b))) {
    return make(DtKind::kDatePlusDays, arrow::date32(), {nullptr, arrow::int32()}, false);
  }
  if (op == Op::kAdd && int_like(*a) && IsDate(*b)) {
    return make(DtKind::kDatePlusDays, arrow::date32(), {arrow::int32(), nullptr}, true);
  }
  if (op == Op::kSub && IsDate(*a) && IsDate(*b)) {
    return make(DtKind::kDateMinusDate, DaysInterval(), {nullptr, nullptr}, false);
  }
  // A string beside a date or timestamp in a subtraction is cast to it (Spark's
  // implicit cast: 'a' - DATE'2024-01-01' fails with CAST_INVALID_INPUT).
  if (op == Op::kSub && a->id() == arrow::Type::STRING && (IsDate(*b) || IsTs(*b))) {
    return make(IsDate(*b) ? DtKind::kDateMinusDate : DtKind::kTsMinusTs,
                IsDate(*b) ? DaysInterval() : Duration(), {b, nullptr}, false);
  }
  if (op == Op::kSub && b->id() == arrow::Type::STRING && (IsDate(*a) || IsTs(*a))) {
    return make(IsDate(*a) ? DtKind::kDateMinusDate : DtKind::kTsMinusTs,
                IsDate(*a) ? DaysInterval() : Duration(), {nullptr, a}, false);
  }
  if (op == Op::kSub && (IsTs(*a) || IsDate(*a)) && (IsTs(*b) || IsDate(*b))) {
    TypePtr common = types::Timestamp();
    if (IsTs(*a) && IsTs(*b) && a->Equals(*b)) common = a;
    return make(DtKind::kTsMinusTs, Duration(), {common, common}, false);
  }
  auto with_interval = [&](const TypePtr& dt, const TypePtr& iv,
                           bool swapped) -> std::optional<Result<ResolvedCall>> {
    std::vector<TypePtr> casts = {nullptr, nullptr};
    switch (iv->id()) {
      case arrow::Type::DURATION:
        if (IsTs(*dt)) return make(DtKind::kTsPlusDuration, dt, casts, swapped);
        if (IsDate(*dt)) {
          // A day-time interval moves a DATE to a TIMESTAMP (the interval's unit
          // is not kept, so a whole-day interval also gives a TIMESTAMP).
          casts[swapped ? 1 : 0] = types::Timestamp();
          return make(DtKind::kTsPlusDuration, types::Timestamp(), casts, swapped);
        }
        if (dt->id() == arrow::Type::DURATION) {
          return make(DtKind::kDurationArith, WiderInterval(*dt, *iv), casts, swapped);
        }
        break;
      case arrow::Type::INTERVAL_MONTHS:
        if (IsTs(*dt)) return make(DtKind::kTsPlusMonths, dt, casts, swapped);
        if (IsDate(*dt)) return make(DtKind::kDatePlusMonths, arrow::date32(), casts, swapped);
        if (dt->id() == arrow::Type::INTERVAL_MONTHS) {
          return make(DtKind::kMonthsArith, dt, casts, swapped);
        }
        break;
      case arrow::Type::INTERVAL_MONTH_DAY_NANO:
        if (IsTs(*dt)) return make(DtKind::kTsPlusCalendar, dt, casts, swapped);
        if (IsDate(*dt)) return make(DtKind::kDatePlusCalendar, arrow::date32(), casts, swapped);
        break;
      default:
        break;
    }
    return std::nullopt;
  };
  if (auto r = with_interval(a, b, false)) return r;
  if (op == Op::kAdd) {
    if (auto r = with_interval(b, a, true)) return r;
  }
  return Result<ResolvedCall>(OperandError(Symbol(op), site));
}

// ---------------------------------------------------------------------------
// Resolution of the binary numeric operators.

// DecimalPrecision's result types (allowPrecisionLoss = true).
std::shared_ptr<arrow::Decimal128Type> DecimalType(Op op, int32_t p1, int32_t s1, int32_t p2,
                                                   int32_t s2) {
  switch (op) {
    case Op::kAdd:
    case Op::kSub: {
      int32_t s = std::max(s1, s2);
      return AdjustedDecimal(std::max(p1 - s1, p2 - s2) + s + 1, s);
    }
    case Op::kMul:
      return AdjustedDecimal(p1 + p2 + 1, s1 + s2);
    case Op::kDiv: {
      int32_t s = std::max(6, s1 + p2 + 1);
      return AdjustedDecimal(p1 - s1 + s2 + s, s);
    }
    default: {
      int32_t s = std::max(s1, s2);
      return AdjustedDecimal(std::min(p1 - s1, p2 - s2) + s, s);
    }
  }
}

Result<ResolvedCall> ResolveBinary(Op op, bool is_try, const std::string& name,
                                   const CallSite& site) {
  LS_RETURN_NOT_OK(internal::CheckArity(site, name, 2, 2, "(NUMERIC, NUMERIC)"));
  if (auto dt = ResolveDatetime(op, site)) return std::move(*dt);
  const bool ansi = SiteAnsi(site);
  TypePtr a = site.arg_types[0];
  TypePtr b = site.arg_types[1];
  const arrow::Scalar* la = LiteralArg(site, 0);
  const arrow::Scalar* lb = LiteralArg(site, 1);
  // String operands (checked against Spark 4.0.1): ANSI casts a STRING to BIGINT
  // next to an integral and to DOUBLE next to a fractional type, and rejects
  // STRING op STRING; legacy casts every STRING operand to DOUBLE.
  if (IsString(*a) || IsString(*b)) {
    if (ansi) {
      if (IsString(*a) && IsString(*b)) return OperandError(Symbol(op), site);
      const TypePtr& other = IsString(*a) ? b : a;
      TypePtr promoted = types::IsIntegral(*other) || IsNa(*other) ? arrow::int64()
                                                                   : arrow::float64();
      if (!types::IsNumeric(*other) && !IsNa(*other)) return OperandError(Symbol(op), site);
      if (IsString(*a)) a = promoted, la = nullptr;
      if (IsString(*b)) b = promoted, lb = nullptr;
    } else {
      if (IsString(*a)) a = arrow::float64(), la = nullptr;
      if (IsString(*b)) b = arrow::float64(), lb = nullptr;
    }
  }
  if (IsNa(*a) && IsNa(*b)) {
    a = b = op == Op::kIntDiv ? arrow::int64() : arrow::float64();
  } else if (IsNa(*a)) {
    a = b;
  } else if (IsNa(*b)) {
    b = a;
  }
  if (!types::IsNumeric(*a) || !types::IsNumeric(*b)) return OperandError(Symbol(op), site);

  ResolvedCall rc;
  TypePtr operand;
  if ((IsDecimal(*a) || IsDecimal(*b)) && !types::IsFloating(*a) && !types::IsFloating(*b)) {
    auto da = DecimalForOperand(a, la);
    auto db = DecimalForOperand(b, lb);
    int32_t p1 = da->precision(), s1 = da->scale(), p2 = db->precision(), s2 = db->scale();
    TypePtr result = op == Op::kIntDiv ? arrow::int64() : DecimalType(op, p1, s1, p2, s2);
    rc.arg_types = {da, db};
    rc.result_type = result;
    operand = arrow::decimal128(38, 0);  // dispatch tag only
  } else if (op == Op::kDiv) {
    operand = arrow::float64();
    rc.arg_types = {operand, operand};
    rc.result_type = operand;
  } else if (op == Op::kIntDiv) {
    if (types::IsFloating(*a) || types::IsFloating(*b)) return OperandError("div", site);
    operand = arrow::int64();
    rc.arg_types = {operand, operand};
    rc.result_type = operand;
  } else {
    operand = WiderNumericType(a, b, ansi);
    rc.arg_types = {operand, operand};
    rc.result_type = operand;
  }
  rc.exec = NumericExec(op, is_try, operand, rc.result_type);
  return rc;
}

void AddBinary(FunctionRegistry* r, const std::string& name, Op op, bool is_try) {
  r->AddScalar({name, [name, op, is_try](const CallSite& site) {
                  return ResolveBinary(op, is_try, name, site);
                }});
}

// ---------------------------------------------------------------------------
// Unary minus, plus and abs.

enum class UnaryOp { kNegate, kPositive, kAbs };

template <typename T>
Result<arrow::Datum> UnaryIntegral(UnaryOp op, const arrow::Datum& arg, int64_t length,
                                   const EvalContext& ctx, const TypePtr& type) {
  using C = typename arrow::TypeTraits<T>::CType;
  const bool ansi = ctx.ansi();
  auto kernel = [&](C v, C* out) -> RowOutcome {
    if (v == std::numeric_limits<C>::min() && op != UnaryOp::kPositive) {
      if (ansi) return RowOutcome::kError;
      *out = v;  // Java's wrap
      return RowOutcome::kValue;
    }
    *out = op == UnaryOp::kNegate ? static_cast<C>(-v)
           : op == UnaryOp::kAbs  ? static_cast<C>(v < 0 ? -v : v)
                                  : v;
    return RowOutcome::kValue;
  };
  auto on_error = [&](C) { return ArithmeticOverflow(JavaIntegralWord(*type), ""); };
  return MapUnary<T, T>(arg, length, ctx, type, kernel, on_error);
}

template <typename T>
Result<arrow::Datum> UnaryFloating(UnaryOp op, const arrow::Datum& arg, int64_t length,
                                   const EvalContext& ctx, const TypePtr& type) {
  using C = typename arrow::TypeTraits<T>::CType;
  auto kernel = [&](C v, C* out) -> RowOutcome {
    *out = op == UnaryOp::kNegate ? -v : op == UnaryOp::kAbs ? std::fabs(v) : v;
    return RowOutcome::kValue;
  };
  return MapUnary<T, T>(arg, length, ctx, type, kernel, [](C) { return Status::OK(); });
}

Result<arrow::Datum> UnaryOther(UnaryOp op, const arrow::Datum& arg, int64_t length,
                                const EvalContext& ctx, const TypePtr& type) {
  if (op == UnaryOp::kPositive) return arg;
  LS_ASSIGN_OR_RAISE(internal::Rows rows, internal::ToRows({arg}, length, ctx.pool));
  const auto& in = *rows.arrays[0];
  std::unique_ptr<arrow::ArrayBuilder> builder;
  LS_RETURN_NOT_OK(arrow::MakeBuilder(ctx.pool, type, &builder));
  LS_RETURN_NOT_OK(builder->Reserve(rows.length));
  for (int64_t i = 0; i < rows.length; ++i) {
    if (in.IsNull(i)) {
      LS_RETURN_NOT_OK(builder->AppendNull());
      continue;
    }
    switch (type->id()) {
      case arrow::Type::DECIMAL128: {
        Decimal128 v(static_cast<const arrow::Decimal128Array&>(in).GetValue(i));
        if (op == UnaryOp::kNegate || v.IsNegative()) v.Negate();
        static_cast<arrow::Decimal128Builder*>(builder.get())->UnsafeAppend(v);
        break;
      }
      case arrow::Type::DURATION: {
        int64_t v = static_cast<const arrow::DurationArray&>(in).Value(i);
        if (v == std::numeric_limits<int64_t>::min()) return ArithmeticOverflow("long", "");
        static_cast<arrow::DurationBuilder*>(builder.get())
            ->UnsafeAppend(op == UnaryOp::kNegate || v < 0 ? -v : v);
        break;
      }
      case arrow::Type::INTERVAL_MONTHS: {
        int32_t v = static_cast<const arrow::MonthIntervalArray&>(in).Value(i);
        if (v == std::numeric_limits<int32_t>::min()) return ArithmeticOverflow("integer", "");
        static_cast<arrow::MonthIntervalBuilder*>(builder.get())
            ->UnsafeAppend(op == UnaryOp::kNegate || v < 0 ? -v : v);
        break;
      }
      default:
        return InternalError("unary arithmetic on {}", type->ToString());
    }
  }
  std::shared_ptr<arrow::Array> result;
  LS_RETURN_NOT_OK(builder->Finish(&result));
  return internal::FromRows(rows, std::move(result));
}

void AddUnary(FunctionRegistry* r, const std::string& name, UnaryOp op) {
  r->AddScalar(
      {name, [name, op](const CallSite& site) -> Result<ResolvedCall> {
         LS_RETURN_NOT_OK(internal::CheckArity(site, name, 1, 1, "(NUMERIC)"));
         TypePtr t = site.arg_types[0];
         // A STRING operand is read as DOUBLE (checked against Spark 4.0.1).
         if (IsString(*t) || IsNa(*t)) t = arrow::float64();
         bool ok = types::IsNumeric(*t) || t->id() == arrow::Type::DURATION ||
                   t->id() == arrow::Type::INTERVAL_MONTHS;
         if (!ok) {
           return UserError(
               "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] function {} expects a numeric or "
               "interval argument but got {}",
               name, internal::ArgTypeList(site));
         }
         ResolvedCall rc;
         rc.result_type = t;
         rc.arg_types = {t};
         rc.exec = [op, t](const std::vector<arrow::Datum>& args, int64_t length,
                           const EvalContext& ctx) -> Result<arrow::Datum> {
           switch (t->id()) {
             case arrow::Type::INT8:
               return UnaryIntegral<arrow::Int8Type>(op, args[0], length, ctx, t);
             case arrow::Type::INT16:
               return UnaryIntegral<arrow::Int16Type>(op, args[0], length, ctx, t);
             case arrow::Type::INT32:
               return UnaryIntegral<arrow::Int32Type>(op, args[0], length, ctx, t);
             case arrow::Type::INT64:
               return UnaryIntegral<arrow::Int64Type>(op, args[0], length, ctx, t);
             case arrow::Type::FLOAT:
               return UnaryFloating<arrow::FloatType>(op, args[0], length, ctx, t);
             case arrow::Type::DOUBLE:
               return UnaryFloating<arrow::DoubleType>(op, args[0], length, ctx, t);
             default:
               return UnaryOther(op, args[0], length, ctx, t);
           }
         };
         return rc;
       }});
}

// ---------------------------------------------------------------------------
// Bitwise operators on integral types (Arrow's kernels have Java's semantics).

void AddBitwise(FunctionRegistry* r, const std::string& name, const std::string& arrow_name,
                int arity) {
  r->AddScalar(
      {name, [=](const CallSite& site) -> Result<ResolvedCall> {
         LS_RETURN_NOT_OK(internal::CheckArity(site, name, arity, arity,
                                               arity == 1 ? "(INTEGRAL)" : "(INTEGRAL, INTEGRAL)"));
         TypePtr t = arrow::null();
         for (const auto& a : site.arg_types) {
           if (IsNa(*a)) continue;
           if (!types::IsIntegral(*a)) {
             return UserError(
                 "[DATATYPE_MISMATCH.BINARY_OP_WRONG_TYPE] {} requires integral operands but got "
                 "{}",
                 name, internal::ArgTypeList(site));
           }
           t = IsNa(*t) ? a : WiderNumericType(t, a);
         }
         if (IsNa(*t)) t = arrow::int32();
         ResolvedCall rc;
         rc.result_type = t;
         rc.arg_types = std::vector<TypePtr>(arity, t);
         rc.exec = ArrowExec(arrow_name);
         return rc;
       }});
}

// shiftleft / shiftright / shiftrightunsigned with Java's semantics: the
// value is INT or BIGINT (smaller integers widen to INT) and the shift count is
// taken modulo the width.
enum class Shift { kLeft, kRight, kRightUnsigned };

template <typename T>
Result<arrow::Datum> ShiftKernel(Shift op, const std::vector<arrow::Datum>& args, int64_t length,
                                 const EvalContext& ctx, const TypePtr& type) {
  using C = typename arrow::TypeTraits<T>::CType;
  using U = std::make_unsigned_t<C>;
  constexpr int kMask = sizeof(C) * 8 - 1;
  auto kernel = [op](C v, int32_t n, C* out) {
    int s = n & kMask;
    switch (op) {
      case Shift::kLeft:
        *out = static_cast<C>(static_cast<U>(v) << s);
        break;
      case Shift::kRight:
        *out = static_cast<C>(v >> s);
        break;
      case Shift::kRightUnsigned:
        *out = static_cast<C>(static_cast<U>(v) >> s);
        break;
    }
    return RowOutcome::kValue;
  };
  return MapBinary<T, arrow::Int32Type, T>(args[0], args[1], length, ctx, type, kernel,
                                            [](C, int32_t) { return Status::OK(); });
}

void AddShift(FunctionRegistry* r, const std::string& name, Shift op) {
  r->AddScalar({name, [name, op](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, name, 2, 2, "(INT|BIGINT, INT)"));
                  const auto& a = *site.arg_types[0];
                  const auto& b = *site.arg_types[1];
                  bool ok = (types::IsIntegral(a) || IsNa(a)) &&
                            (b.id() == arrow::Type::INT8 || b.id() == arrow::Type::INT16 ||
                             b.id() == arrow::Type::INT32 || IsNa(b));
                  if (!ok) return internal::TypeMismatch(site, name, "(INT|BIGINT, INT)");
                  TypePtr t = a.id() == arrow::Type::INT64 ? arrow::int64() : arrow::int32();
                  ResolvedCall rc;
                  rc.result_type = t;
                  rc.arg_types = {t, arrow::int32()};
                  rc.exec = [op, t](const std::vector<arrow::Datum>& args, int64_t length,
                                    const EvalContext& ctx) {
                    return t->id() == arrow::Type::INT64
                               ? ShiftKernel<arrow::Int64Type>(op, args, length, ctx, t)
                               : ShiftKernel<arrow::Int32Type>(op, args, length, ctx, t);
                  };
                  return rc;
                }});
}

}  // namespace

std::shared_ptr<arrow::Decimal128Type> DecimalArithmeticType(char op,
                                                             const arrow::Decimal128Type& a,
                                                             const arrow::Decimal128Type& b) {
  Op o = op == '+'   ? Op::kAdd
         : op == '-' ? Op::kSub
         : op == '*' ? Op::kMul
         : op == '/' ? Op::kDiv
                     : Op::kMod;
  return DecimalType(o, a.precision(), a.scale(), b.precision(), b.scale());
}

void RegisterArithmeticFunctions(FunctionRegistry* r) {
  AddBinary(r, "add", Op::kAdd, false);
  AddBinary(r, "subtract", Op::kSub, false);
  AddBinary(r, "multiply", Op::kMul, false);
  AddBinary(r, "divide", Op::kDiv, false);
  AddBinary(r, "mod", Op::kMod, false);
  AddBinary(r, "pmod", Op::kPmod, false);
  AddBinary(r, "div", Op::kIntDiv, false);
  AddBinary(r, "try_add", Op::kAdd, true);
  AddBinary(r, "try_subtract", Op::kSub, true);
  AddBinary(r, "try_multiply", Op::kMul, true);
  AddBinary(r, "try_divide", Op::kDiv, true);
  AddBinary(r, "try_mod", Op::kMod, true);
  AddUnary(r, "negative", UnaryOp::kNegate);
  AddUnary(r, "positive", UnaryOp::kPositive);
  AddUnary(r, "abs", UnaryOp::kAbs);
  AddBitwise(r, "bitwise_and", "bit_wise_and", 2);
  AddBitwise(r, "bitwise_or", "bit_wise_or", 2);
  AddBitwise(r, "bitwise_xor", "bit_wise_xor", 2);
  AddBitwise(r, "bitwise_not", "bit_wise_not", 1);
  AddShift(r, "shiftleft", Shift::kLeft);
  AddShift(r, "shiftright", Shift::kRight);
  AddShift(r, "shiftrightunsigned", Shift::kRightUnsigned);
}

}  // namespace lakestream::expr
