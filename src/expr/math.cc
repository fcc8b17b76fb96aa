// Spark's math functions: round/bround (HALF_UP / HALF_EVEN on the decimal
// value of the input, as Spark's BigDecimal-based rounding), floor/ceil, the
// DOUBLE functions of java.lang.Math (with Spark's NULL for logarithms of
// non-positive numbers), pi(), e(), factorial and rand/randn.
#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/util/decimal.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "expr/function.h"
#include "expr/kernel_util.h"

namespace lakestream::expr {

namespace {

using arrow::Decimal128;
using arrow::Decimal256;
using types::TypePtr;

bool NumericLike(const arrow::DataType& t) {
  return types::IsNumeric(t) || t.id() == arrow::Type::STRING || t.id() == arrow::Type::NA;
}

Status ExpectNumeric(const std::string& name, const CallSite& site, const char* signature) {
  for (const auto& t : site.arg_types) {
    if (!NumericLike(*t)) return internal::TypeMismatch(site, name, signature);
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------
// DOUBLE -> DOUBLE functions.

template <typename Fn>
void AddUnaryDouble(FunctionRegistry* r, const std::string& name, Fn fn) {
  r->AddScalar({name, [name, fn](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, name, 1, 1, "(DOUBLE)"));
                  LS_RETURN_NOT_OK(ExpectNumeric(name, site, "(DOUBLE)"));
                  ResolvedCall rc;
                  rc.result_type = arrow::float64();
                  rc.arg_types = {arrow::float64()};
                  rc.exec = [fn](const std::vector<arrow::Datum>& args, int64_t length,
                                 const EvalContext& ctx) {
                    return MapUnary<arrow::DoubleType, arrow::DoubleType>(
                        args[0], length, ctx, arrow::float64(), fn,
                        [](double) { return Status::OK(); });
                  };
                  return rc;
                }});
}

template <typename Fn>
void AddBinaryDouble(FunctionRegistry* r, const std::string& name, Fn fn) {
  r->AddScalar({name, [name, fn](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, name, 2, 2, "(DOUBLE, DOUBLE)"));
                  LS_RETURN_NOT_OK(ExpectNumeric(name, site, "(DOUBLE, DOUBLE)"));
                  ResolvedCall rc;
                  rc.result_type = arrow::float64();
                  rc.arg_types = {arrow::float64(), arrow::float64()};
                  rc.exec = [fn](const std::vector<arrow::Datum>& args, int64_t length,
                                 const EvalContext& ctx) {
                    return MapBinary<arrow::DoubleType, arrow::DoubleType, arrow::DoubleType>(
                        args[0], args[1], length, ctx, arrow::float64(), fn,
                        [](double, double) { return Status::OK(); });
                  };
                  return rc;
                }});
}

RowOutcome Value(double v, double* out) {
  *out = v;
  return RowOutcome::kValue;
}

// Spark returns NULL for the logarithm of a number <= 0 (checked against Spark 4.0.1).
RowOutcome PositiveLog(double x, double v, double* out) {
  if (x <= 0) return RowOutcome::kNull;
  return Value(v, out);
}

// ---------------------------------------------------------------------------
// round / bround.

enum class RoundMode { kHalfUp, kHalfEven };

// Rounds the decimal number digits * 10^-scale (digits without sign) to
// `target` fraction digits (may be negative). Returns the new digits at scale
// max(target, 0).
std::string RoundDigits(std::string digits, int32_t scale, int32_t target, RoundMode mode,
                        bool negative) {
  if (scale <= target) return digits;  // callers only round when digits are dropped
  int32_t drop = scale - target;
  std::string kept, dropped;
  if (static_cast<size_t>(drop) >= digits.size()) {
    kept = "0";
    dropped = std::string(static_cast<size_t>(drop) - digits.size(), '0') + digits;
  } else {
    kept = digits.substr(0, digits.size() - drop);
    dropped = digits.substr(digits.size() - drop);
  }
  bool up = false;
  if (!dropped.empty()) {
    char first = dropped[0];
    bool rest_zero = dropped.find_first_not_of('0', 1) == std::string::npos;
    if (first > '5' || (first == '5' && !rest_zero)) {
      up = true;
    } else if (first == '5') {
      up = mode == RoundMode::kHalfUp || ((kept.back() - '0') % 2 == 1);
    }
  }
  (void)negative;  // HALF_UP / HALF_EVEN are symmetric about zero
  if (up) {
    int k = static_cast<int>(kept.size()) - 1;
    while (k >= 0 && kept[k] == '9') kept[k--] = '0';
    if (k < 0) {
      kept.insert(kept.begin(), '1');
    } else {
      ++kept[k];
    }
  }
  if (target < 0) kept.append(static_cast<size_t>(-target), '0');
  return kept;
}

// Spark rounds a DOUBLE through BigDecimal(Double.toString(x)), so
// round(1.005D, 2) = 1.01 (checked against Spark 4.0.1).
template <typename C>
C RoundFloating(C x, int32_t d, RoundMode mode) {
  if (std::isnan(x) || std::isinf(x)) return x;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::scientific);
  std::string text(buf, res.ptr);
  bool negative = text[0] == '-';
  if (negative) text.erase(0, 1);
  size_t e = text.find('e');
  int exp = std::stoi(text.substr(e + 1));
  std::string mant = text.substr(0, e);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits.push_back(c);
  }
  int32_t scale = static_cast<int32_t>(digits.size()) - 1 - exp;
  if (scale <= d) return x;  // no digit to drop
  std::string rounded = RoundDigits(digits, scale, d, mode, negative);
  int32_t out_scale = std::max(d, 0);
  std::string out = (negative ? "-" : "") + rounded + "e" + std::to_string(-out_scale);
  if constexpr (std::is_same_v<C, float>) {
    return std::strtof(out.c_str(), nullptr);
  } else {
    return std::strtod(out.c_str(), nullptr);
  }
}

// Rounds an integer to 10^-d; *overflow is set when the result leaves C
// (ANSI raises, legacy keeps Java's wrapped value; checked against Spark 4.0.1).
template <typename C>
C RoundIntegral(C v, int32_t d, RoundMode mode, bool* overflow) {
  if (d >= 0) return v;
  if (-d >= 19) return 0;
  __int128 pow = 1;
  for (int i = 0; i < -d; ++i) pow *= 10;
  __int128 x = v;
  __int128 q = x / pow, rem = x % pow;
  __int128 half = pow / 2;
  __int128 arem = rem < 0 ? -rem : rem;
  bool up = arem > half || (arem == half && (mode == RoundMode::kHalfUp || (q % 2 != 0)));
  if (up) q += x < 0 ? -1 : 1;
  __int128 r = q * pow;
  *overflow = r < std::numeric_limits<C>::min() || r > std::numeric_limits<C>::max();
  return static_cast<C>(static_cast<int64_t>(r));
}

std::shared_ptr<arrow::Decimal128Type> RoundDecimalType(const arrow::Decimal128Type& t,
                                                        int32_t d) {
  int32_t p = t.precision(), s = t.scale();
  int32_t integral = p - s + 1;
  if (d < 0) return BoundedDecimal(integral, 0);
  int32_t ns = std::min(s, d);
  return BoundedDecimal(integral + ns, ns);
}

Decimal128 To128(const Decimal256& v) {
  auto w = v.little_endian_array();
  return Decimal128(static_cast<int64_t>(w[1]), w[0]);
}

// Rounds an unscaled decimal from scale s to `d` fraction digits (d may be
// negative) and returns it at scale max(min(s, d), 0).
Decimal256 RoundUnscaled(const Decimal256& v, int32_t s, int32_t d, RoundMode mode) {
  if (d >= s) return v;
  std::string text = To128(v).ToString(0);
  bool negative = text[0] == '-';
  if (negative) text.erase(0, 1);
  std::string digits = RoundDigits(text, s, d, mode, negative);
  if (d < 0) {
    // RoundDigits appended the zeros: value at scale 0.
  }
  Decimal256 out;
  for (char c : digits) out = out * Decimal256(10) + Decimal256(c - '0');
  if (negative) out.Negate();
  return out;
}

void AddRound(FunctionRegistry* r, const std::string& name, RoundMode mode) {
  r->AddScalar(
      {name, [name, mode](const CallSite& site) -> Result<ResolvedCall> {
         LS_RETURN_NOT_OK(internal::CheckArity(site, name, 1, 2, "(NUMERIC[, INT])"));
         LS_RETURN_NOT_OK(ExpectNumeric(name, site, "(NUMERIC[, INT])"));
         int32_t d = 0;
         if (site.arg_types.size() == 2) {
           const arrow::Scalar* lit = LiteralArg(site, 1);
           if (lit == nullptr || !types::IsIntegral(*site.arg_types[1])) {
             return UserError(
                 "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] the scale of {} must be an integer "
                 "literal",
                 name);
           }
           if (!lit->is_valid) {
             d = std::numeric_limits<int32_t>::min();  // NULL scale: NULL result
           } else {
             auto as_int = lit->CastTo(arrow::int64());
             if (!as_int.ok()) return as_int.status();
             d = static_cast<int32_t>(
                 std::static_pointer_cast<arrow::Int64Scalar>(*as_int)->value);
           }
         }
         TypePtr t = site.arg_types[0];
         if (t->id() == arrow::Type::STRING || t->id() == arrow::Type::NA) t = arrow::float64();
         ResolvedCall rc;
         rc.arg_types = {t};
         if (site.arg_types.size() == 2) rc.arg_types.push_back(nullptr);
         rc.result_type = t->id() == arrow::Type::DECIMAL128
                              ? RoundDecimalType(static_cast<const arrow::Decimal128Type&>(*t),
                                                 d == std::numeric_limits<int32_t>::min() ? 0 : d)
                              : t;
         TypePtr out_type = rc.result_type;
         bool null_scale = d == std::numeric_limits<int32_t>::min();
         rc.exec = [t, out_type, d, mode, null_scale](const std::vector<arrow::Datum>& args,
                                                      int64_t length, const EvalContext& ctx)
             -> Result<arrow::Datum> {
           if (null_scale) {
             if (args[0].is_scalar()) return arrow::Datum(arrow::MakeNullScalar(out_type));
             LS_ASSIGN_OR_RAISE(auto arr, arrow::MakeArrayOfNull(out_type, length, ctx.pool));
             return arrow::Datum(arr);
           }
           auto ok = [](auto) { return Status::OK(); };
           switch (t->id()) {
             case arrow::Type::DOUBLE:
               return MapUnary<arrow::DoubleType, arrow::DoubleType>(
                   args[0], length, ctx, t,
                   [&](double v, double* o) { return Value(RoundFloating(v, d, mode), o); }, ok);
             case arrow::Type::FLOAT:
               return MapUnary<arrow::FloatType, arrow::FloatType>(
                   args[0], length, ctx, t,
                   [&](float v, float* o) {
                     *o = RoundFloating(v, d, mode);
                     return RowOutcome::kValue;
                   },
                   ok);
#define LS_ROUND_INT(ARROW_T, C)                                                      \
  case ARROW_T::type_id:                                                              \
    return MapUnary<ARROW_T, ARROW_T>(                                                \
        args[0], length, ctx, t,                                                      \
        [&](C v, C* o) {                                                              \
          bool overflow = false;                                                      \
          *o = RoundIntegral<C>(v, d, mode, &overflow);                               \
          return overflow && ctx.ansi() ? RowOutcome::kError : RowOutcome::kValue;    \
        },                                                                            \
        [](C) {                                                                       \
          return ExecutionError(                                                      \
              "[ARITHMETIC_OVERFLOW] Overflow. If necessary set "                     \
              "\"spark.sql.ansi.enabled\" to \"false\" to bypass this error.");       \
        });
               LS_ROUND_INT(arrow::Int8Type, int8_t)
               LS_ROUND_INT(arrow::Int16Type, int16_t)
               LS_ROUND_INT(arrow::Int32Type, int32_t)
               LS_ROUND_INT(arrow::Int64Type, int64_t)
#undef LS_ROUND_INT
             case arrow::Type::DECIMAL128: {
               LS_ASSIGN_OR_RAISE(internal::Rows rows, internal::ToRows({args[0]}, length, ctx.pool));
               const auto& in = rows.As<arrow::Decimal128Array>(0);
               const auto& it = static_cast<const arrow::Decimal128Type&>(*t);
               const auto& ot = static_cast<const arrow::Decimal128Type&>(*out_type);
               arrow::Decimal128Builder b(out_type, ctx.pool);
               LS_RETURN_NOT_OK(b.Reserve(rows.length));
               for (int64_t i = 0; i < rows.length; ++i) {
                 if (in.IsNull(i)) {
                   b.UnsafeAppendNull();
                   continue;
                 }
                 Decimal256 v(arrow::BasicDecimal256(Decimal128(in.GetValue(i))));
                 Decimal256 rv = RoundUnscaled(v, it.scale(), d, mode);
                 int32_t have = d >= it.scale() ? it.scale() : std::max(d, 0);
                 if (ot.scale() > have) rv = rv.IncreaseScaleBy(ot.scale() - have);
                 if (!rv.FitsInPrecision(ot.precision())) {
                   if (ctx.ansi()) {
                     return DecimalOutOfRange(Decimal128(in.GetValue(i)).ToString(it.scale()),
                                              ot.precision(), ot.scale());
                   }
                   b.UnsafeAppendNull();
                   continue;
                 }
                 b.UnsafeAppend(To128(rv));
               }
               std::shared_ptr<arrow::Array> out;
               LS_RETURN_NOT_OK(b.Finish(&out));
               return internal::FromRows(rows, std::move(out));
             }
             default:
               return InternalError("{} on {}", "round", t->ToString());
           }
         };
         return rc;
       }});
}

// ---------------------------------------------------------------------------
// floor / ceil: BIGINT for integral and floating input, DECIMAL(p - s + 1, 0)
// for decimals (checked against Spark 4.0.1).

// floor(x, d) / ceil(x, d) (Spark's RoundFloor / RoundCeil): d must be an
// integer literal; a decimal x gives DECIMAL(p - s + max(min(d, s), 0) + 1, ..),
// other numbers are first taken as Spark's DecimalType.forType (INT is
// DECIMAL(10, 0), DOUBLE DECIMAL(30, 15)).
Result<ResolvedCall> ResolveFloorCeilScale(const CallSite& site, const std::string& name,
                                           bool ceil) {
  const arrow::Scalar* lit = LiteralArg(site, 1);
  if (lit == nullptr || !types::IsIntegral(*site.arg_types[1]) || !lit->is_valid) {
    return UserError(
        "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] the scale of {} must be a non-NULL integer "
        "literal",
        name);
  }
  LS_ASSIGN_OR_RAISE(auto as_int, lit->CastTo(arrow::int64()));
  int32_t d = static_cast<int32_t>(std::static_pointer_cast<arrow::Int64Scalar>(as_int)->value);
  TypePtr t = site.arg_types[0];
  std::shared_ptr<arrow::Decimal128Type> in_t;
  if (t->id() == arrow::Type::DECIMAL128) {
    in_t = std::static_pointer_cast<arrow::Decimal128Type>(t);
  } else {
    // Spark's DecimalType.forType.
    int32_t p = 30, sc = 15;  // DOUBLE (and STRING, cast to DOUBLE)
    switch (t->id()) {
      case arrow::Type::INT8: p = 3, sc = 0; break;
      case arrow::Type::INT16: p = 5, sc = 0; break;
      case arrow::Type::INT32: p = 10, sc = 0; break;
      case arrow::Type::INT64: p = 20, sc = 0; break;
      case arrow::Type::FLOAT: p = 14, sc = 7; break;
      default: break;
    }
    in_t = std::static_pointer_cast<arrow::Decimal128Type>(arrow::decimal128(p, sc));
  }
  int32_t p = in_t->precision(), s = in_t->scale();
  int32_t out_s = std::max(0, std::min(d, s));
  TypePtr out = BoundedDecimal(p - s + out_s + 1, out_s);
  ResolvedCall rc;
  rc.arg_types = {in_t, nullptr};
  rc.result_type = out;
  rc.exec = [out, s, d, ceil](const std::vector<arrow::Datum>& args, int64_t length,
                              const EvalContext& ctx) -> Result<arrow::Datum> {
    LS_ASSIGN_OR_RAISE(internal::Rows rows, internal::ToRows({args[0]}, length, ctx.pool));
    const auto& in = rows.As<arrow::Decimal128Array>(0);
    arrow::Decimal128Builder b(out, ctx.pool);
    LS_RETURN_NOT_OK(b.Reserve(rows.length));
    for (int64_t i = 0; i < rows.length; ++i) {
      if (in.IsNull(i)) {
        b.UnsafeAppendNull();
        continue;
      }
      Decimal128 v(in.GetValue(i));
      if (d >= s) {
        b.UnsafeAppend(v);
        continue;
      }
      int32_t drop = std::min(s - d, 38);  // digits removed; d may be negative
      Decimal128 q = v.ReduceScaleBy(drop, /*round=*/false);  // toward zero
      if (q.IncreaseScaleBy(drop) != v) {
        if (ceil && !v.IsNegative()) q += Decimal128(1);
        if (!ceil && v.IsNegative()) q -= Decimal128(1);
      }
      if (d < 0) q = q.IncreaseScaleBy(std::min(-d, 38));  // back to units (scale 0)
      b.UnsafeAppend(q);
    }
    std::shared_ptr<arrow::Array> res;
    LS_RETURN_NOT_OK(b.Finish(&res));
    return internal::FromRows(rows, std::move(res));
  };
  return rc;
}

void AddFloorCeil(FunctionRegistry* r, const std::string& name, bool ceil) {
  r->AddScalar(
      {name, [name, ceil](const CallSite& site) -> Result<ResolvedCall> {
         LS_RETURN_NOT_OK(internal::CheckArity(site, name, 1, 2, "(NUMERIC[, INT])"));
         LS_RETURN_NOT_OK(ExpectNumeric(name, site, "(NUMERIC[, INT])"));
         if (site.arg_types.size() == 2) return ResolveFloorCeilScale(site, name, ceil);
         TypePtr t = site.arg_types[0];
         ResolvedCall rc;
         if (t->id() == arrow::Type::DECIMAL128) {
           const auto& dt = static_cast<const arrow::Decimal128Type&>(*t);
           TypePtr out = dt.scale() == 0 ? t : BoundedDecimal(dt.precision() - dt.scale() + 1, 0);
           rc.arg_types = {t};
           rc.result_type = out;
           int32_t s = dt.scale();
           rc.exec = [out, s, ceil](const std::vector<arrow::Datum>& args, int64_t length,
                                    const EvalContext& ctx) -> Result<arrow::Datum> {
             LS_ASSIGN_OR_RAISE(internal::Rows rows, internal::ToRows(args, length, ctx.pool));
             const auto& in = rows.As<arrow::Decimal128Array>(0);
             arrow::Decimal128Builder b(out, ctx.pool);
             LS_RETURN_NOT_OK(b.Reserve(rows.length));
             for (int64_t i = 0; i < rows.length; ++i) {
               if (in.IsNull(i)) {
                 b.UnsafeAppendNull();
                 continue;
               }
               Decimal128 v(in.GetValue(i));
               if (s == 0) {
                 b.UnsafeAppend(v);
                 continue;
               }
               Decimal128 q = v.ReduceScaleBy(s, /*round=*/false);  // toward zero
               Decimal128 back = q.IncreaseScaleBy(s);
               if (back != v) {
                 if (ceil && !v.IsNegative()) q += Decimal128(1);
                 if (!ceil && v.IsNegative()) q -= Decimal128(1);
               }
               b.UnsafeAppend(q);
             }
             std::shared_ptr<arrow::Array> res;
             LS_RETURN_NOT_OK(b.Finish(&res));
             return internal::FromRows(rows, std::move(res));
           };
           return rc;
         }
         rc.result_type = arrow::int64();
         if (types::IsIntegral(*t)) {
           rc.arg_types = {arrow::int64()};
           rc.exec = [](const std::vector<arrow::Datum>& args, int64_t, const EvalContext&)
               -> Result<arrow::Datum> { return args[0]; };
           return rc;
         }
         rc.arg_types = {arrow::float64()};
         rc.exec = [ceil](const std::vector<arrow::Datum>& args, int64_t length,
                          const EvalContext& ctx) {
           return MapUnary<arrow::DoubleType, arrow::Int64Type>(
               args[0], length, ctx, arrow::int64(),
               [ceil](double v, int64_t* o) {
                 double f = ceil ? std::ceil(v) : std::floor(v);
                 // Scala's Double.toLong: saturating, NaN -> 0.
                 if (std::isnan(f)) {
                   *o = 0;
                 } else if (f >= 9223372036854775807.0) {
                   *o = std::numeric_limits<int64_t>::max();
                 } else if (f <= -9223372036854775808.0) {
                   *o = std::numeric_limits<int64_t>::min();
                 } else {
                   *o = static_cast<int64_t>(f);
                 }
                 return RowOutcome::kValue;
               },
               [](double) { return Status::OK(); });
         };
         return rc;
       }});
}

void AddConstant(FunctionRegistry* r, const std::string& name, double value) {
  r->AddScalar({name, [name, value](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, name, 0, 0, "()"));
                  ResolvedCall rc;
                  rc.result_type = arrow::float64();
                  rc.exec = [value](const std::vector<arrow::Datum>&, int64_t,
                                    const EvalContext&) -> Result<arrow::Datum> {
                    return arrow::Datum(std::make_shared<arrow::DoubleScalar>(value));
                  };
                  return rc;
                }});
}

// rand([seed]) / randn([seed]): a generator per call site, seeded by the seed
// literal (or at random). Values differ from Spark's XORShiftRandom.
void AddRandom(FunctionRegistry* r, const std::string& name, bool gaussian) {
  r->AddScalar(
      {name, [name, gaussian](const CallSite& site) -> Result<ResolvedCall> {
         LS_RETURN_NOT_OK(internal::CheckArity(site, name, 0, 1, "([INT|BIGINT])"));
         uint64_t seed = std::random_device{}();
         if (site.arg_types.size() == 1) {
           const arrow::Scalar* lit = LiteralArg(site, 0);
           if (lit == nullptr || !(types::IsIntegral(*site.arg_types[0]) ||
                                   site.arg_types[0]->id() == arrow::Type::NA)) {
             return UserError("[DATATYPE_MISMATCH] the seed of {} must be an integer literal",
                              name);
           }
           if (lit->is_valid) {
             auto v = lit->CastTo(arrow::int64());
             if (!v.ok()) return v.status();
             seed = static_cast<uint64_t>(std::static_pointer_cast<arrow::Int64Scalar>(*v)->value);
           } else {
             seed = 0;
           }
         }
         struct State {
           std::mutex mu;
           std::mt19937_64 gen;
         };
         auto state = std::make_shared<State>();
         state->gen.seed(seed);
         ResolvedCall rc;
         rc.result_type = arrow::float64();
         rc.arg_types = std::vector<TypePtr>(site.arg_types.size(), nullptr);
         rc.deterministic = false;
         rc.null_intolerant = false;
         rc.exec = [state, gaussian](const std::vector<arrow::Datum>& args, int64_t length,
                                     const EvalContext& ctx) -> Result<arrow::Datum> {
           arrow::DoubleBuilder b(ctx.pool);
           LS_RETURN_NOT_OK(b.Reserve(length));
           std::lock_guard<std::mutex> lock(state->mu);
           std::uniform_real_distribution<double> uni(0.0, 1.0);
           std::normal_distribution<double> norm(0.0, 1.0);
           for (int64_t i = 0; i < length; ++i) {
             b.UnsafeAppend(gaussian ? norm(state->gen) : uni(state->gen));
           }
           std::shared_ptr<arrow::Array> out;
           LS_RETURN_NOT_OK(b.Finish(&out));
           return arrow::Datum(out);
         };
         return rc;
       }});
}

}  // namespace

double RoundDouble(double x, int32_t d, bool half_even) {
  return RoundFloating(x, d, half_even ? RoundMode::kHalfEven : RoundMode::kHalfUp);
}

namespace {
// ---------------------------------------------------------------------------
// bin, conv, width_bucket, bit_count, nanvl.

// conv(num, from_base, to_base) as Spark's NumberConverter: the digits are
// read as an unsigned 64-bit number up to the first invalid digit (a leading
// '-' negates it); a negative to_base prints the value signed. Overflow
// saturates to 2^64 - 1 (legacy) or is an error under ANSI (*overflowed).
std::optional<std::string> Conv(std::string_view s, int64_t from, int64_t to, bool* overflowed) {
  if (from < 2 || from > 36 || std::abs(to) < 2 || std::abs(to) > 36) return std::nullopt;
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  bool neg = i < s.size() && s[i] == '-';
  if (neg) ++i;
  unsigned __int128 v = 0;
  bool overflow = false;
  size_t start = i;
  for (; i < s.size(); ++i) {
    char c = s[i];
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'z') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'Z') {
      digit = c - 'A' + 10;
    } else {
      break;
    }
    if (digit >= from) break;
    v = v * static_cast<unsigned>(from) + static_cast<unsigned>(digit);
    if (v > std::numeric_limits<uint64_t>::max()) {
      overflow = true;
      v = std::numeric_limits<uint64_t>::max();
    }
  }
  if (i == start) return std::nullopt;
  *overflowed = overflow;
  uint64_t u = static_cast<uint64_t>(v);
  if (neg && !overflow) u = ~u + 1;
  bool out_neg = false;
  if (to < 0 && static_cast<int64_t>(u) < 0) {
    out_neg = true;
    u = ~u + 1;
  }
  uint64_t base = static_cast<uint64_t>(std::abs(to));
  std::string out;
  do {
    int digit = static_cast<int>(u % base);
    out.push_back(static_cast<char>(digit < 10 ? '0' + digit : 'A' + digit - 10));
    u /= base;
  } while (u != 0);
  if (out_neg) out.push_back('-');
  return std::string(out.rbegin(), out.rend());
}

int64_t WidthBucket(double v, double lo, double hi, int64_t n, bool* is_null) {
  *is_null = n <= 0 || n == std::numeric_limits<int64_t>::max() || std::isnan(v) || lo == hi ||
             !std::isfinite(lo) || !std::isfinite(hi);
  if (*is_null) return 0;
  double lower = std::min(lo, hi), upper = std::max(lo, hi);
  double nd = static_cast<double>(n);
  if (lo < hi) {
    if (v < lower) return 0;
    if (v >= upper) return n + 1;
    return static_cast<int64_t>(nd * (v - lower) / (upper - lower)) + 1;
  }
  if (v > upper) return 0;
  if (v <= lower) return n + 1;
  return static_cast<int64_t>(nd * (upper - v) / (upper - lower)) + 1;
}

void AddMoreMath(FunctionRegistry* r) {
  r->AddScalar({"bin", [](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, "bin", 1, 1, "(BIGINT)"));
                  LS_RETURN_NOT_OK(ExpectNumeric("bin", site, "(BIGINT)"));
                  ResolvedCall rc;
                  rc.result_type = arrow::utf8();
                  rc.arg_types = {arrow::int64()};
                  rc.exec = [](const std::vector<arrow::Datum>& args, int64_t length,
                               const EvalContext& ctx) {
                    return internal::MapRows<arrow::StringBuilder>(
                        args, length, ctx, arrow::utf8(),
                        [](const internal::Rows& rows, int64_t i, arrow::StringBuilder* b) {
                          uint64_t u = static_cast<uint64_t>(rows.I64(0, i));
                          std::string out;
                          do {
                            out.push_back(static_cast<char>('0' + (u & 1)));
                            u >>= 1;
                          } while (u != 0);
                          return b->Append(std::string(out.rbegin(), out.rend()));
                        });
                  };
                  return rc;
                }});
  r->AddScalar({"conv", [](const CallSite& site) -> Result<ResolvedCall> {
                  const char* sig = "(STRING, INT, INT)";
                  LS_RETURN_NOT_OK(internal::CheckArity(site, "conv", 3, 3, sig));
                  if (!internal::IsStringCoercible(*site.arg_types[0]) ||
                      !internal::IsIntCoercible(*site.arg_types[1]) ||
                      !internal::IsIntCoercible(*site.arg_types[2])) {
                    return internal::TypeMismatch(site, "conv", sig);
                  }
                  ResolvedCall rc;
                  rc.result_type = arrow::utf8();
                  rc.arg_types = {arrow::utf8(), arrow::int64(), arrow::int64()};
                  rc.exec = [](const std::vector<arrow::Datum>& args, int64_t length,
                               const EvalContext& ctx) {
                    return internal::MapRows<arrow::StringBuilder>(
                        args, length, ctx, arrow::utf8(),
                        [&](const internal::Rows& rows, int64_t i, arrow::StringBuilder* b) -> Status {
                          bool overflow = false;
                          auto out = Conv(rows.Str(0, i), rows.I64(1, i), rows.I64(2, i), &overflow);
                          if (overflow && ctx.ansi()) {
                            return ExecutionError(
                                "[ARITHMETIC_OVERFLOW] Overflow in function conv(). If necessary "
                                "set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.");
                          }
                          if (!out) return b->AppendNull();
                          return b->Append(*out);
                        });
                  };
                  return rc;
                }});
  r->AddScalar({"width_bucket", [](const CallSite& site) -> Result<ResolvedCall> {
                  const char* sig = "(DOUBLE, DOUBLE, DOUBLE, BIGINT)";
                  LS_RETURN_NOT_OK(internal::CheckArity(site, "width_bucket", 4, 4, sig));
                  LS_RETURN_NOT_OK(ExpectNumeric("width_bucket", site, sig));
                  ResolvedCall rc;
                  rc.result_type = arrow::int64();
                  rc.arg_types = {arrow::float64(), arrow::float64(), arrow::float64(),
                                  arrow::int64()};
                  rc.exec = [](const std::vector<arrow::Datum>& args, int64_t length,
                               const EvalContext& ctx) {
                    return internal::MapRows<arrow::Int64Builder>(
                        args, length, ctx, arrow::int64(),
                        [](const internal::Rows& rows, int64_t i, arrow::Int64Builder* b) {
                          bool is_null = false;
                          int64_t out = WidthBucket(rows.F64(0, i), rows.F64(1, i),
                                                    rows.F64(2, i), rows.I64(3, i), &is_null);
                          if (is_null) return b->AppendNull();
                          return b->Append(out);
                        });
                  };
                  return rc;
                }});
  r->AddScalar({"bit_count", [](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, "bit_count", 1, 1, "(INTEGRAL)"));
                  const auto& t = *site.arg_types[0];
                  if (!types::IsIntegral(t) && t.id() != arrow::Type::BOOL &&
                      t.id() != arrow::Type::NA) {
                    return internal::TypeMismatch(site, "bit_count", "(INTEGRAL or BOOLEAN)");
                  }
                  ResolvedCall rc;
                  rc.result_type = arrow::int32();
                  rc.arg_types = {arrow::int64()};  // sign-extends, as Long.bitCount
                  rc.exec = [](const std::vector<arrow::Datum>& args, int64_t length,
                               const EvalContext& ctx) {
                    return MapUnary<arrow::Int64Type, arrow::Int32Type>(
                        args[0], length, ctx, arrow::int32(),
                        [](int64_t v, int32_t* o) {
                          *o = __builtin_popcountll(static_cast<uint64_t>(v));
                          return RowOutcome::kValue;
                        },
                        [](int64_t) { return Status::OK(); });
                  };
                  return rc;
                }});
  r->AddScalar({"nanvl", [](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, "nanvl", 2, 2, "(DOUBLE, DOUBLE)"));
                  LS_RETURN_NOT_OK(ExpectNumeric("nanvl", site, "(DOUBLE, DOUBLE)"));
                  ResolvedCall rc;
                  rc.result_type = arrow::float64();
                  rc.arg_types = {arrow::float64(), arrow::float64()};
                  rc.null_intolerant = false;
                  rc.exec = [](const std::vector<arrow::Datum>& args, int64_t length,
                               const EvalContext& ctx) {
                    return internal::MapAllRows<arrow::DoubleBuilder>(
                        args, length, ctx, arrow::float64(),
                        [](const internal::Rows& rows, int64_t i, arrow::DoubleBuilder* b) {
                          if (rows.IsNull(0, i)) return b->AppendNull();
                          double a = rows.F64(0, i);
                          if (!std::isnan(a)) return b->Append(a);
                          if (rows.IsNull(1, i)) return b->AppendNull();
                          return b->Append(rows.F64(1, i));
                        });
                  };
                  return rc;
                }});
}

}  // namespace

void RegisterMathFunctions(FunctionRegistry* r) {
  AddMoreMath(r);
  AddRound(r, "round", RoundMode::kHalfUp);
  AddRound(r, "bround", RoundMode::kHalfEven);
  AddFloorCeil(r, "floor", false);
  AddFloorCeil(r, "ceil", true);
  r->AddAlias("ceiling", "ceil");

  AddUnaryDouble(r, "sqrt", [](double x, double* o) { return Value(std::sqrt(x), o); });
  AddUnaryDouble(r, "cbrt", [](double x, double* o) { return Value(std::cbrt(x), o); });
  AddUnaryDouble(r, "exp", [](double x, double* o) { return Value(std::exp(x), o); });
  AddUnaryDouble(r, "expm1", [](double x, double* o) { return Value(std::expm1(x), o); });
  AddUnaryDouble(r, "ln", [](double x, double* o) { return PositiveLog(x, std::log(x), o); });
  AddUnaryDouble(r, "log10",
                 [](double x, double* o) { return PositiveLog(x, std::log10(x), o); });
  AddUnaryDouble(r, "log2", [](double x, double* o) { return PositiveLog(x, std::log2(x), o); });
  AddUnaryDouble(r, "log1p",
                 [](double x, double* o) { return PositiveLog(x + 1, std::log1p(x), o); });
  AddUnaryDouble(r, "sin", [](double x, double* o) { return Value(std::sin(x), o); });
  AddUnaryDouble(r, "cos", [](double x, double* o) { return Value(std::cos(x), o); });
  AddUnaryDouble(r, "tan", [](double x, double* o) { return Value(std::tan(x), o); });
  AddUnaryDouble(r, "cot", [](double x, double* o) { return Value(1.0 / std::tan(x), o); });
  AddUnaryDouble(r, "sec", [](double x, double* o) { return Value(1.0 / std::cos(x), o); });
  AddUnaryDouble(r, "csc", [](double x, double* o) { return Value(1.0 / std::sin(x), o); });
  AddUnaryDouble(r, "asin", [](double x, double* o) { return Value(std::asin(x), o); });
  AddUnaryDouble(r, "acos", [](double x, double* o) { return Value(std::acos(x), o); });
  AddUnaryDouble(r, "atan", [](double x, double* o) { return Value(std::atan(x), o); });
  AddUnaryDouble(r, "sinh", [](double x, double* o) { return Value(std::sinh(x), o); });
  AddUnaryDouble(r, "cosh", [](double x, double* o) { return Value(std::cosh(x), o); });
  AddUnaryDouble(r, "tanh", [](double x, double* o) { return Value(std::tanh(x), o); });
  AddUnaryDouble(r, "asinh", [](double x, double* o) { return Value(std::asinh(x), o); });
  AddUnaryDouble(r, "acosh", [](double x, double* o) { return Value(std::acosh(x), o); });
  AddUnaryDouble(r, "atanh", [](double x, double* o) { return Value(std::atanh(x), o); });
  AddUnaryDouble(r, "degrees", [](double x, double* o) { return Value(x * 180.0 / M_PI, o); });
  AddUnaryDouble(r, "radians", [](double x, double* o) { return Value(x / 180.0 * M_PI, o); });
  AddUnaryDouble(r, "rint", [](double x, double* o) { return Value(std::nearbyint(x), o); });
  AddUnaryDouble(r, "sign", [](double x, double* o) {
    return Value(std::isnan(x) ? x : (x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0)), o);
  });
  r->AddAlias("signum", "sign");

  AddBinaryDouble(r, "pow", [](double a, double b, double* o) { return Value(std::pow(a, b), o); });
  r->AddAlias("power", "pow");
  AddBinaryDouble(r, "atan2",
                  [](double a, double b, double* o) { return Value(std::atan2(a, b), o); });
  AddBinaryDouble(r, "hypot",
                  [](double a, double b, double* o) { return Value(std::hypot(a, b), o); });

  // log(x) is ln(x); log(base, x) is ln(x) / ln(base), NULL for a non-positive
  // base or x (log(1, 8) is Infinity, as in Spark).
  r->AddScalar({"log", [](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, "log", 1, 2, "([DOUBLE, ]DOUBLE)"));
                  LS_RETURN_NOT_OK(ExpectNumeric("log", site, "([DOUBLE, ]DOUBLE)"));
                  ResolvedCall rc;
                  rc.result_type = arrow::float64();
                  rc.arg_types = std::vector<TypePtr>(site.arg_types.size(), arrow::float64());
                  rc.exec = [](const std::vector<arrow::Datum>& args, int64_t length,
                               const EvalContext& ctx) -> Result<arrow::Datum> {
                    auto ok1 = [](double) { return Status::OK(); };
                    if (args.size() == 1) {
                      return MapUnary<arrow::DoubleType, arrow::DoubleType>(
                          args[0], length, ctx, arrow::float64(),
                          [](double x, double* o) { return PositiveLog(x, std::log(x), o); }, ok1);
                    }
                    return MapBinary<arrow::DoubleType, arrow::DoubleType, arrow::DoubleType>(
                        args[0], args[1], length, ctx, arrow::float64(),
                        [](double base, double x, double* o) {
                          if (base <= 0 || x <= 0) return RowOutcome::kNull;
                          return Value(std::log(x) / std::log(base), o);
                        },
                        [](double, double) { return Status::OK(); });
                  };
                  return rc;
                }});

  AddConstant(r, "pi", M_PI);
  AddConstant(r, "e", M_E);

  // factorial(n): BIGINT for 0 <= n <= 20, otherwise NULL.
  r->AddScalar({"factorial", [](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, "factorial", 1, 1, "(INT)"));
                  const auto& t = *site.arg_types[0];
                  if (!(types::IsIntegral(t) || t.id() == arrow::Type::NA ||
                        t.id() == arrow::Type::STRING)) {
                    return internal::TypeMismatch(site, "factorial", "(INT)");
                  }
                  ResolvedCall rc;
                  rc.result_type = arrow::int64();
                  rc.arg_types = {arrow::int32()};
                  rc.exec = [](const std::vector<arrow::Datum>& args, int64_t length,
                               const EvalContext& ctx) {
                    return MapUnary<arrow::Int32Type, arrow::Int64Type>(
                        args[0], length, ctx, arrow::int64(),
                        [](int32_t n, int64_t* o) {
                          if (n < 0 || n > 20) return RowOutcome::kNull;
                          int64_t f = 1;
                          for (int32_t k = 2; k <= n; ++k) f *= k;
                          *o = f;
                          return RowOutcome::kValue;
                        },
                        [](int32_t) { return Status::OK(); });
                  };
                  return rc;
                }});

  AddRandom(r, "rand", false);
  r->AddAlias("random", "rand");
  AddRandom(r, "randn", true);
}

}  // namespace lakestream::expr
