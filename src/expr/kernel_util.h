// Shared pieces for scalar function authors: Spark's error texts (so every
// kernel raises the same words Spark does), the implicit coercions of binary
// operators, calling an Arrow compute function as a ScalarExec, and typed
// element-wise loops for numeric kernels with Spark's NULL / error handling.
#pragma once

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/datum.h>
#include <arrow/type_traits.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "expr/function.h"
#include "expr/row_kernel_internal.h"
#include "types/types.h"

namespace lakestream::expr {

// ---------------------------------------------------------------------------
// Error texts, worded as Spark 4 words them.

/// Spark's type name in messages: "INT", "DECIMAL(10,2)", "STRING".
std::string SparkTypeName(const arrow::DataType& t);

/// "[ARITHMETIC_OVERFLOW] integer overflow. Use 'try_add' to tolerate overflow
/// and return NULL instead. If necessary set ..." `kind` is Java's type word
/// ("byte", "short", "integer", "long"); an empty try_fn drops that sentence.
Status ArithmeticOverflow(std::string_view kind, std::string_view try_fn);
/// Java's type word for an integral type: "byte", "short", "integer", "long".
std::string_view JavaIntegralWord(const arrow::DataType& t);
/// "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` ..."
Status DivideByZero();
/// "[CAST_OVERFLOW] The value 300 of the type "INT" cannot be cast to "TINYINT"
/// due to an overflow. ..." `value` is Spark's SQL literal text (300, 12L, 1.0E10D).
Status CastOverflow(std::string_view value, const arrow::DataType& from,
                    const arrow::DataType& to);
/// "[CAST_INVALID_INPUT] The value 'abc' of the type "STRING" cannot be cast to
/// "INT" because it is malformed. ..."
Status CastInvalidInput(std::string_view value, const arrow::DataType& from,
                        const arrow::DataType& to);
/// "[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION]  123.45 cannot be represented
/// as Decimal(3, 1). ..."
Status DecimalOutOfRange(std::string_view value, int32_t precision, int32_t scale);

/// Spark's SQL literal spelling of an integral / floating value, as used in
/// CAST_OVERFLOW messages: 300 (INT), 12S, 5Y, 12345678901L, 1.0E10D, 1.5F.
std::string IntegralLiteralText(int64_t v, const arrow::DataType& t);
std::string DoubleLiteralText(double v);
std::string FloatLiteralText(float v);

// ---------------------------------------------------------------------------
// Coercion (Spark's TypeCoercion / AnsiTypeCoercion for operators).

/// Byte < short < int < long < float < double; decimals through
/// DecimalPrecision.widerDecimalType; a decimal next to a floating type is
/// DOUBLE. Under ANSI an integral next to FLOAT is DOUBLE (AnsiTypeCoercion
/// avoids the precision loss), in legacy FLOAT. Null for non-numeric types.
types::TypePtr WiderNumericType(const types::TypePtr& a, const types::TypePtr& b,
                                bool ansi = true);

/// Spark's DecimalType.forType / fromLiteral: the decimal an integral operand
/// becomes next to a decimal. A literal integral takes just its digits (so
/// `1 + 1.5` is DECIMAL(3,1), as in Spark); a column the full width.
std::shared_ptr<arrow::Decimal128Type> DecimalForOperand(const types::TypePtr& t,
                                                         const arrow::Scalar* literal);

/// The type both sides of a binary comparison or arithmetic operator are cast
/// to, with Spark's string promotion: under ANSI a STRING next to an integral
/// becomes BIGINT, next to a fractional DOUBLE, next to another atomic type that
/// type; in legacy mode a STRING in arithmetic becomes DOUBLE and in a
/// comparison takes the other side's type. Fails naming both types.
Result<types::TypePtr> BinaryComparisonType(const types::TypePtr& a, const types::TypePtr& b,
                                            bool ansi);

/// decimal(p, s) bounded to 38 digits with Spark's allowPrecisionLoss rule
/// (DecimalType.adjustPrecisionScale): keeps at least min(s, 6) fraction digits.
std::shared_ptr<arrow::Decimal128Type> AdjustedDecimal(int32_t precision, int32_t scale);
/// decimal(min(p, 38), min(s, 38)) (DecimalType.bounded).
std::shared_ptr<arrow::Decimal128Type> BoundedDecimal(int32_t precision, int32_t scale);

// ---------------------------------------------------------------------------
// Running kernels.

/// Calls an Arrow compute function; the result of all-scalar inputs stays scalar.
Result<arrow::Datum> CallArrow(const std::string& name, const std::vector<arrow::Datum>& args,
                               const arrow::compute::FunctionOptions* options,
                               const EvalContext& ctx);

/// A ScalarExec that calls an Arrow compute function with fixed options.
ScalarExec ArrowExec(std::string name,
                     std::shared_ptr<arrow::compute::FunctionOptions> options = nullptr);

/// What a row of an element-wise kernel produced.
enum class RowOutcome { kValue, kNull, kError };

/// Element-wise unary kernel over a primitive Arrow type: op(in, &out) returns
/// kValue, kNull or kError; on kError the result is on_error(in). NULL in, NULL out.
template <typename InType, typename OutType, typename Op, typename OnError>
Result<arrow::Datum> MapUnary(const arrow::Datum& arg, int64_t length, const EvalContext& ctx,
                              const types::TypePtr& out_type, Op&& op, OnError&& on_error) {
  using InC = typename arrow::TypeTraits<InType>::CType;
  using OutC = typename arrow::TypeTraits<OutType>::CType;
  using InArray = typename arrow::TypeTraits<InType>::ArrayType;
  LS_ASSIGN_OR_RAISE(internal::Rows rows, internal::ToRows({arg}, length, ctx.pool));
  const auto& in = rows.As<InArray>(0);
  arrow::NumericBuilder<OutType> b(out_type, ctx.pool);
  LS_RETURN_NOT_OK(b.Reserve(rows.length));
  for (int64_t i = 0; i < rows.length; ++i) {
    if (in.IsNull(i)) {
      b.UnsafeAppendNull();
      continue;
    }
    InC v = in.Value(i);
    OutC out{};
    switch (op(v, &out)) {
      case RowOutcome::kValue:
        b.UnsafeAppend(out);
        break;
      case RowOutcome::kNull:
        b.UnsafeAppendNull();
        break;
      case RowOutcome::kError:
        return on_error(v);
    }
  }
  std::shared_ptr<arrow::Array> out;
  LS_RETURN_NOT_OK(b.Finish(&out));
  return internal::FromRows(rows, std::move(out));
}

/// Element-wise binary kernel over primitive Arrow types; see MapUnary.
/// on_error(a, b) gives the error of a kError row.
template <typename LType, typename RType, typename OutType, typename Op, typename OnError>
Result<arrow::Datum> MapBinary(const arrow::Datum& left, const arrow::Datum& right,
                               int64_t length, const EvalContext& ctx,
                               const types::TypePtr& out_type, Op&& op, OnError&& on_error) {
  using LC = typename arrow::TypeTraits<LType>::CType;
  using RC = typename arrow::TypeTraits<RType>::CType;
  using OutC = typename arrow::TypeTraits<OutType>::CType;
  using LArray = typename arrow::TypeTraits<LType>::ArrayType;
  using RArray = typename arrow::TypeTraits<RType>::ArrayType;
  LS_ASSIGN_OR_RAISE(internal::Rows rows, internal::ToRows({left, right}, length, ctx.pool));
  const auto& l = rows.As<LArray>(0);
  const auto& r = rows.As<RArray>(1);
  arrow::NumericBuilder<OutType> b(out_type, ctx.pool);
  LS_RETURN_NOT_OK(b.Reserve(rows.length));
  for (int64_t i = 0; i < rows.length; ++i) {
    if (l.IsNull(i) || r.IsNull(i)) {
      b.UnsafeAppendNull();
      continue;
    }
    LC a = l.Value(i);
    RC c = r.Value(i);
    OutC out{};
    switch (op(a, c, &out)) {
      case RowOutcome::kValue:
        b.UnsafeAppend(out);
        break;
      case RowOutcome::kNull:
        b.UnsafeAppendNull();
        break;
      case RowOutcome::kError:
        return on_error(a, c);
    }
  }
  std::shared_ptr<arrow::Array> out;
  LS_RETURN_NOT_OK(b.Finish(&out));
  return internal::FromRows(rows, std::move(out));
}

/// Adds calendar months to a day number, clamping the day to the month's end
/// (java.time LocalDate.plusMonths).
int64_t AddMonthsToDays(int64_t days, int64_t months);

// ---------------------------------------------------------------------------
// Spark semantics shared with other families (defined beside their operators).

/// Compares two values of one type as Spark's =, <>, <, <=, >, >= do ("eq",
/// "ne", "lt", "le", "gt", "ge"): NaN equals NaN and sorts above every other
/// value; NULL in, NULL out. Defined in comparison.cc.
Result<arrow::Datum> CompareSpark(std::string_view op, const arrow::Datum& a,
                                  const arrow::Datum& b, int64_t length, const EvalContext& ctx);

/// Spark's round(x, d) / bround(x, d) of a DOUBLE: rounds the decimal value of
/// Double.toString(x) HALF_UP (or HALF_EVEN). Defined in math.cc.
double RoundDouble(double x, int32_t d, bool half_even);

/// The result type of decimal `a op b` for op in + - * / % (DecimalPrecision
/// with allowPrecisionLoss). Defined in arithmetic.cc.
std::shared_ptr<arrow::Decimal128Type> DecimalArithmeticType(char op,
                                                             const arrow::Decimal128Type& a,
                                                             const arrow::Decimal128Type& b);

/// The k-th argument type of a call site, or null when out of range.
inline const types::TypePtr& ArgType(const CallSite& site, size_t k) {
  static const types::TypePtr kNone;
  return k < site.arg_types.size() ? site.arg_types[k] : kNone;
}

/// The literal of argument k (nullptr when not a literal).
inline const arrow::Scalar* LiteralArg(const CallSite& site, size_t k) {
  return k < site.literal_args.size() ? site.literal_args[k].get() : nullptr;
}

}  // namespace lakestream::expr
