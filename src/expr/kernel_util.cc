// Spark's error texts, operator coercions and the Arrow-call glue shared by the
// scalar function families (see kernel_util.h).
#include "expr/kernel_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "expr/datetime_format.h"  // DaysFromCivil, CivilFromDays, DaysInMonth
#include "types/value_format.h"

namespace lakestream::expr {

namespace {
constexpr std::string_view kAnsiSuggestion =
    "If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.";
}  // namespace

std::string SparkTypeName(const arrow::DataType& t) { return types::ToDDL(t); }

std::string_view JavaIntegralWord(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::INT8:
      return "byte";
    case arrow::Type::INT16:
      return "short";
    case arrow::Type::INT32:
      return "integer";
    default:
      return "long";
  }
}

Status ArithmeticOverflow(std::string_view kind, std::string_view try_fn) {
  if (try_fn.empty()) {
    return ExecutionError("[ARITHMETIC_OVERFLOW] {} overflow. {}", kind, kAnsiSuggestion);
  }
  return ExecutionError(
      "[ARITHMETIC_OVERFLOW] {} overflow. Use '{}' to tolerate overflow and return NULL "
      "instead. {}",
      kind, try_fn, kAnsiSuggestion);
}

Status DivideByZero() {
  return ExecutionError(
      "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and "
      "return NULL instead. {}",
      kAnsiSuggestion);
}

Status CastOverflow(std::string_view value, const arrow::DataType& from,
                    const arrow::DataType& to) {
  return ExecutionError(
      "[CAST_OVERFLOW] The value {} of the type \"{}\" cannot be cast to \"{}\" due to an "
      "overflow. Use `try_cast` to tolerate overflow and return NULL instead.",
      value, SparkTypeName(from), SparkTypeName(to));
}

Status CastInvalidInput(std::string_view value, const arrow::DataType& from,
                        const arrow::DataType& to) {
  return ExecutionError(
      "[CAST_INVALID_INPUT] The value '{}' of the type \"{}\" cannot be cast to \"{}\" because "
      "it is malformed. Correct the value as per the syntax, or change its target type. Use "
      "`try_cast` to tolerate malformed input and return NULL instead.",
      value, SparkTypeName(from), SparkTypeName(to));
}

Status DecimalOutOfRange(std::string_view value, int32_t precision, int32_t scale) {
  return ExecutionError(
      "[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION]  {} cannot be represented as Decimal({}, "
      "{}). If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error, and "
      "return NULL instead.",
      value, precision, scale);
}

std::string IntegralLiteralText(int64_t v, const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::INT8:
      return fmt::format("{}Y", v);
    case arrow::Type::INT16:
      return fmt::format("{}S", v);
    case arrow::Type::INT64:
      return fmt::format("{}L", v);
    default:
      return fmt::format("{}", v);
  }
}

std::string DoubleLiteralText(double v) {
  if (std::isnan(v) || std::isinf(v)) return types::FormatDouble(v);
  return types::FormatDouble(v) + "D";
}

std::string FloatLiteralText(float v) {
  if (std::isnan(v) || std::isinf(v)) return types::FormatFloat(v);
  return types::FormatFloat(v) + "F";
}

std::shared_ptr<arrow::Decimal128Type> BoundedDecimal(int32_t precision, int32_t scale) {
  return std::static_pointer_cast<arrow::Decimal128Type>(
      arrow::decimal128(std::min(precision, 38), std::min(scale, 38)));
}

std::shared_ptr<arrow::Decimal128Type> AdjustedDecimal(int32_t precision, int32_t scale) {
  if (precision <= 38) return BoundedDecimal(precision, scale);
  int32_t int_digits = precision - scale;
  int32_t min_scale = std::min(scale, 6);
  int32_t adjusted = std::max(38 - int_digits, min_scale);
  return BoundedDecimal(38, adjusted);
}

namespace {

int NumericRank(arrow::Type::type id) {
  switch (id) {
    case arrow::Type::INT8:
      return 1;
    case arrow::Type::INT16:
      return 2;
    case arrow::Type::INT32:
      return 3;
    case arrow::Type::INT64:
      return 4;
    case arrow::Type::FLOAT:
      return 5;
    case arrow::Type::DOUBLE:
      return 6;
    default:
      return 0;
  }
}

std::shared_ptr<arrow::Decimal128Type> WiderDecimal(const arrow::Decimal128Type& a,
                                                    const arrow::Decimal128Type& b) {
  int32_t scale = std::max(a.scale(), b.scale());
  int32_t range = std::max(a.precision() - a.scale(), b.precision() - b.scale());
  return BoundedDecimal(range + scale, scale);
}

bool IsDatetime(const arrow::DataType& t) {
  return t.id() == arrow::Type::DATE32 || t.id() == arrow::Type::TIMESTAMP;
}

bool IsNtz(const arrow::DataType& t) {
  return t.id() == arrow::Type::TIMESTAMP &&
         static_cast<const arrow::TimestampType&>(t).timezone().empty();
}

bool IsAtomic(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::LIST:
    case arrow::Type::MAP:
    case arrow::Type::STRUCT:
    case arrow::Type::NA:
      return false;
    default:
      return true;
  }
}

}  // namespace

types::TypePtr WiderNumericType(const types::TypePtr& a, const types::TypePtr& b, bool ansi) {
  if (!types::IsNumeric(*a) || !types::IsNumeric(*b)) return nullptr;
  if (a->Equals(*b)) return a;
  bool da = a->id() == arrow::Type::DECIMAL128;
  bool db = b->id() == arrow::Type::DECIMAL128;
  if (da && db) {
    return WiderDecimal(static_cast<const arrow::Decimal128Type&>(*a),
                        static_cast<const arrow::Decimal128Type&>(*b));
  }
  if (da || db) {
    const auto& dec = da ? a : b;
    const auto& other = da ? b : a;
    if (types::IsFloating(*other)) return arrow::float64();
    return WiderDecimal(static_cast<const arrow::Decimal128Type&>(*dec),
                        *types::DecimalForIntegral(*other));
  }
  const auto& wider = NumericRank(a->id()) >= NumericRank(b->id()) ? a : b;
  if (ansi && wider->id() == arrow::Type::FLOAT) return arrow::float64();
  return wider;
}

int64_t AddMonthsToDays(int64_t days, int64_t months) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  int64_t total = y * 12 + (m - 1) + months;
  int64_t ny = total >= 0 ? total / 12 : (total - 11) / 12;
  unsigned nm = static_cast<unsigned>(total - ny * 12) + 1;
  unsigned nd = std::min<unsigned>(d, static_cast<unsigned>(DaysInMonth(ny, nm)));
  return DaysFromCivil(ny, nm, nd);
}

std::shared_ptr<arrow::Decimal128Type> DecimalForOperand(const types::TypePtr& t,
                                                         const arrow::Scalar* literal) {
  if (t->id() == arrow::Type::DECIMAL128) {
    return std::static_pointer_cast<arrow::Decimal128Type>(t);
  }
  if (literal != nullptr && literal->is_valid && types::IsIntegral(*t)) {
    int64_t v = 0;
    switch (t->id()) {
      case arrow::Type::INT8:
        v = static_cast<const arrow::Int8Scalar&>(*literal).value;
        break;
      case arrow::Type::INT16:
        v = static_cast<const arrow::Int16Scalar&>(*literal).value;
        break;
      case arrow::Type::INT32:
        v = static_cast<const arrow::Int32Scalar&>(*literal).value;
        break;
      default:
        v = static_cast<const arrow::Int64Scalar&>(*literal).value;
        break;
    }
    int digits = 1;
    for (uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v); u >= 10;
         u /= 10) {
      ++digits;
    }
    return BoundedDecimal(digits, 0);
  }
  return types::DecimalForIntegral(*t);
}

Result<types::TypePtr> BinaryComparisonType(const types::TypePtr& a, const types::TypePtr& b,
                                            bool ansi) {
  if (a->Equals(*b)) return a;
  if (a->id() == arrow::Type::NA) return b;
  if (b->id() == arrow::Type::NA) return a;
  if (auto w = WiderNumericType(a, b, ansi)) return w;
  if (IsDatetime(*a) && IsDatetime(*b)) {
    if (a->id() == arrow::Type::DATE32) return IsNtz(*b) ? b : types::Timestamp();
    if (b->id() == arrow::Type::DATE32) return IsNtz(*a) ? a : types::Timestamp();
    return types::Timestamp();  // TIMESTAMP_NTZ next to TIMESTAMP
  }
  bool sa = a->id() == arrow::Type::STRING;
  bool sb = b->id() == arrow::Type::STRING;
  if (sa != sb) {
    const auto& other = sa ? b : a;
    if (ansi) {
      if (types::IsIntegral(*other)) return arrow::int64();
      if (types::IsNumeric(*other)) return arrow::float64();
    }
    if (!ansi && other->id() == arrow::Type::BOOL) return other;
    if (IsAtomic(*other) && other->id() != arrow::Type::DURATION &&
        other->id() != arrow::Type::INTERVAL_MONTHS) {
      return other;
    }
  }
  // Legacy mode compares a BOOLEAN with a number as a number (1 = true holds).
  if (!ansi && ((a->id() == arrow::Type::BOOL && types::IsNumeric(*b)) ||
                (b->id() == arrow::Type::BOOL && types::IsNumeric(*a)))) {
    return a->id() == arrow::Type::BOOL ? b : a;
  }
  return UserError(
      "[DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES] the left and right operands of the binary "
      "operator have incompatible types (\"{}\" and \"{}\")",
      SparkTypeName(*a), SparkTypeName(*b));
}

Result<arrow::Datum> CallArrow(const std::string& name, const std::vector<arrow::Datum>& args,
                               const arrow::compute::FunctionOptions* options,
                               const EvalContext& ctx) {
  arrow::compute::ExecContext exec_ctx(ctx.pool);
  return arrow::compute::CallFunction(name, args, options, &exec_ctx);
}

ScalarExec ArrowExec(std::string name,
                     std::shared_ptr<arrow::compute::FunctionOptions> options) {
  return [name = std::move(name), options = std::move(options)](
             const std::vector<arrow::Datum>& args, int64_t, const EvalContext& ctx) {
    return CallArrow(name, args, options.get(), ctx);
  };
}

}  // namespace lakestream::expr
