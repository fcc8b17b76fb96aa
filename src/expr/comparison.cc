// Spark's comparison and NULL predicates: = <> < <= > >= <=>, NOT, IS [NOT]
// NULL, isnan, IN, nullif, greatest and least. Operands are coerced to one
// type (BinaryComparisonType); floating comparisons follow Spark's NaN rules
// (NaN = NaN is true and NaN is larger than every other value, 0.0 = -0.0),
// the rest run on Arrow's comparison kernels.
#include <arrow/array.h>
#include <arrow/array/util.h>
#include <arrow/builder.h>
#include <arrow/compare.h>
#include <arrow/compute/api.h>
#include <arrow/scalar.h>

#include <cmath>

#include "expr/cast.h"
#include "expr/function.h"
#include "expr/kernel_util.h"

namespace lakestream::expr {

namespace {

using types::TypePtr;

enum class Cmp { kEq, kNe, kLt, kLe, kGt, kGe };

const char* ArrowName(Cmp c) {
  switch (c) {
    case Cmp::kEq:
      return "equal";
    case Cmp::kNe:
      return "not_equal";
    case Cmp::kLt:
      return "less";
    case Cmp::kLe:
      return "less_equal";
    case Cmp::kGt:
      return "greater";
    case Cmp::kGe:
      return "greater_equal";
  }
  return "equal";
}

bool SiteAnsi(const CallSite& site) { return site.config == nullptr || site.config->ansi; }

bool IsNested(const arrow::DataType& t) {
  return t.id() == arrow::Type::LIST || t.id() == arrow::Type::MAP ||
         t.id() == arrow::Type::STRUCT;
}

template <typename C>
int CompareFloating(C a, C b) {
  bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return na && nb ? 0 : (na ? 1 : -1);
  return a < b ? -1 : (a > b ? 1 : 0);
}

bool Holds(Cmp c, int r) {
  switch (c) {
    case Cmp::kEq:
      return r == 0;
    case Cmp::kNe:
      return r != 0;
    case Cmp::kLt:
      return r < 0;
    case Cmp::kLe:
      return r <= 0;
    case Cmp::kGt:
      return r > 0;
    case Cmp::kGe:
      return r >= 0;
  }
  return false;
}

template <typename ArrayT>
Result<arrow::Datum> FloatingCompare(Cmp c, const std::vector<arrow::Datum>& args,
                                     int64_t length, const EvalContext& ctx) {
  LS_ASSIGN_OR_RAISE(internal::Rows rows, internal::ToRows(args, length, ctx.pool));
  const auto& l = rows.As<ArrayT>(0);
  const auto& r = rows.As<ArrayT>(1);
  arrow::BooleanBuilder b(ctx.pool);
  LS_RETURN_NOT_OK(b.Reserve(rows.length));
  for (int64_t i = 0; i < rows.length; ++i) {
    if (l.IsNull(i) || r.IsNull(i)) {
      b.UnsafeAppendNull();
    } else {
      b.UnsafeAppend(Holds(c, CompareFloating(l.Value(i), r.Value(i))));
    }
  }
  std::shared_ptr<arrow::Array> out;
  LS_RETURN_NOT_OK(b.Finish(&out));
  return internal::FromRows(rows, std::move(out));
}

template <typename ArrayT>
int CompareValuesAt(const arrow::Array& a, int64_t i, const arrow::Array& b, int64_t j) {
  auto x = static_cast<const ArrayT&>(a).Value(i);
  auto y = static_cast<const ArrayT&>(b).Value(j);
  return x < y ? -1 : (x > y ? 1 : 0);
}

// Spark's interpreted ordering of one element of `a` against one of `b` (same
// type): NULL sorts first, arrays compare element-wise then by length, structs
// field by field.
Result<int> CompareAt(const arrow::Array& a, int64_t i, const arrow::Array& b, int64_t j) {
  bool na = a.IsNull(i), nb = b.IsNull(j);
  if (na || nb) return na && nb ? 0 : (na ? -1 : 1);
  switch (a.type_id()) {
    case arrow::Type::BOOL:
      return CompareValuesAt<arrow::BooleanArray>(a, i, b, j);
    case arrow::Type::INT8:
      return CompareValuesAt<arrow::Int8Array>(a, i, b, j);
    case arrow::Type::INT16:
      return CompareValuesAt<arrow::Int16Array>(a, i, b, j);
    case arrow::Type::INT32:
    case arrow::Type::DATE32:
    case arrow::Type::INTERVAL_MONTHS:
    {
      int32_t x = a.data()->GetValues<int32_t>(1)[i], y = b.data()->GetValues<int32_t>(1)[j];
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case arrow::Type::INT64:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::DURATION: {
      int64_t x = a.data()->GetValues<int64_t>(1)[i], y = b.data()->GetValues<int64_t>(1)[j];
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case arrow::Type::FLOAT:
      return CompareFloating(static_cast<const arrow::FloatArray&>(a).Value(i),
                             static_cast<const arrow::FloatArray&>(b).Value(j));
    case arrow::Type::DOUBLE:
      return CompareFloating(static_cast<const arrow::DoubleArray&>(a).Value(i),
                             static_cast<const arrow::DoubleArray&>(b).Value(j));
    case arrow::Type::STRING:
    case arrow::Type::BINARY: {
      auto x = static_cast<const arrow::BinaryArray&>(a).GetView(i);
      auto y = static_cast<const arrow::BinaryArray&>(b).GetView(j);
      int r = x.compare(y);
      return r < 0 ? -1 : (r > 0 ? 1 : 0);
    }
    case arrow::Type::DECIMAL128: {
      arrow::Decimal128 x(static_cast<const arrow::Decimal128Array&>(a).GetValue(i));
      arrow::Decimal128 y(static_cast<const arrow::Decimal128Array&>(b).GetValue(j));
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case arrow::Type::LIST: {
      const auto& la = static_cast<const arrow::ListArray&>(a);
      const auto& lb = static_cast<const arrow::ListArray&>(b);
      int64_t oa = la.value_offset(i), ob = lb.value_offset(j);
      int64_t n = la.value_length(i), m = lb.value_length(j);
      for (int64_t k = 0; k < n && k < m; ++k) {
        LS_ASSIGN_OR_RAISE(int r, CompareAt(*la.values(), oa + k, *lb.values(), ob + k));
        if (r != 0) return r;
      }
      return n < m ? -1 : (n > m ? 1 : 0);
    }
    case arrow::Type::STRUCT: {
      const auto& sa = static_cast<const arrow::StructArray&>(a);
      const auto& sb = static_cast<const arrow::StructArray&>(b);
      for (int k = 0; k < sa.num_fields(); ++k) {
        LS_ASSIGN_OR_RAISE(int r, CompareAt(*sa.field(k), i, *sb.field(k), j));
        if (r != 0) return r;
      }
      return 0;
    }
    default:
      return Unsupported("comparison of {} values", a.type()->ToString());
  }
}

Result<arrow::Datum> NestedEquality(Cmp c, const std::vector<arrow::Datum>& args,
                                    int64_t length, const EvalContext& ctx) {
  if (args[0].type()->id() == arrow::Type::MAP) {
    return UserError("[DATATYPE_MISMATCH.INVALID_ORDERING_TYPE] MAP values cannot be compared");
  }
  LS_ASSIGN_OR_RAISE(internal::Rows rows, internal::ToRows(args, length, ctx.pool));
  arrow::BooleanBuilder b(ctx.pool);
  LS_RETURN_NOT_OK(b.Reserve(rows.length));
  for (int64_t i = 0; i < rows.length; ++i) {
    if (rows.arrays[0]->IsNull(i) || rows.arrays[1]->IsNull(i)) {
      b.UnsafeAppendNull();
      continue;
    }
    LS_ASSIGN_OR_RAISE(int r, CompareAt(*rows.arrays[0], i, *rows.arrays[1], i));
    b.UnsafeAppend(Holds(c, r));
  }
  std::shared_ptr<arrow::Array> out;
  LS_RETURN_NOT_OK(b.Finish(&out));
  return internal::FromRows(rows, std::move(out));
}

Result<arrow::Datum> AllNullBoolean(const std::vector<arrow::Datum>& args, int64_t length,
                                    const EvalContext& ctx) {
  bool all_scalar = true;
  for (const auto& a : args) all_scalar = all_scalar && a.is_scalar();
  if (all_scalar) return arrow::Datum(arrow::MakeNullScalar(arrow::boolean()));
  LS_ASSIGN_OR_RAISE(auto arr, arrow::MakeArrayOfNull(arrow::boolean(), length, ctx.pool));
  return arrow::Datum(std::move(arr));
}

/// Compares two operands of the same type with Spark's semantics.
Result<arrow::Datum> CompareValues(Cmp c, const std::vector<arrow::Datum>& args, int64_t length,
                                   const EvalContext& ctx) {
  const auto& type = args[0].type();
  switch (type->id()) {
    case arrow::Type::NA:
      return AllNullBoolean(args, length, ctx);
    case arrow::Type::FLOAT:
      return FloatingCompare<arrow::FloatArray>(c, args, length, ctx);
    case arrow::Type::DOUBLE:
      return FloatingCompare<arrow::DoubleArray>(c, args, length, ctx);
    default:
      if (IsNested(*type)) return NestedEquality(c, args, length, ctx);
      return CallArrow(ArrowName(c), args, nullptr, ctx);
  }
}

}  // namespace

Result<arrow::Datum> CompareSpark(std::string_view op, const arrow::Datum& a,
                                  const arrow::Datum& b, int64_t length, const EvalContext& ctx) {
  Cmp c;
  if (op == "eq") {
    c = Cmp::kEq;
  } else if (op == "ne") {
    c = Cmp::kNe;
  } else if (op == "lt") {
    c = Cmp::kLt;
  } else if (op == "le") {
    c = Cmp::kLe;
  } else if (op == "gt") {
    c = Cmp::kGt;
  } else if (op == "ge") {
    c = Cmp::kGe;
  } else {
    return InternalError("CompareSpark: unknown comparison '{}'", op);
  }
  return CompareValues(c, {a, b}, length, ctx);
}

namespace {

Result<TypePtr> CommonOfAll(const std::vector<TypePtr>& types, bool ansi) {
  TypePtr t = types[0];
  for (size_t i = 1; i < types.size(); ++i) {
    LS_ASSIGN_OR_RAISE(t, BinaryComparisonType(t, types[i], ansi));
  }
  return t;
}

void AddComparison(FunctionRegistry* r, const std::string& name, Cmp c) {
  r->AddScalar({name, [name, c](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, name, 2, 2, "(ANY, ANY)"));
                  LS_ASSIGN_OR_RAISE(auto t, BinaryComparisonType(site.arg_types[0],
                                                                  site.arg_types[1],
                                                                  SiteAnsi(site)));
                  ResolvedCall rc;
                  rc.result_type = arrow::boolean();
                  rc.arg_types = {t, t};
                  rc.exec = [c](const std::vector<arrow::Datum>& args, int64_t length,
                                const EvalContext& ctx) {
                    return CompareValues(c, args, length, ctx);
                  };
                  return rc;
                }});
}

Result<arrow::Datum> FillFalse(const arrow::Datum& d, const EvalContext& ctx) {
  return CallArrow("coalesce", {d, arrow::Datum(std::make_shared<arrow::BooleanScalar>(false))},
                   nullptr, ctx);
}

Result<arrow::Datum> NullSafeEqual(const std::vector<arrow::Datum>& args, int64_t length,
                                   const EvalContext& ctx) {
  LS_ASSIGN_OR_RAISE(auto eq, CompareValues(Cmp::kEq, args, length, ctx));
  LS_ASSIGN_OR_RAISE(auto eq_filled, FillFalse(eq, ctx));
  LS_ASSIGN_OR_RAISE(auto na, CallArrow("is_null", {args[0]}, nullptr, ctx));
  LS_ASSIGN_OR_RAISE(auto nb, CallArrow("is_null", {args[1]}, nullptr, ctx));
  LS_ASSIGN_OR_RAISE(auto both, CallArrow("and", {na, nb}, nullptr, ctx));
  return CallArrow("or", {eq_filled, both}, nullptr, ctx);
}

// IN: the Kleene OR of lhs = v_i, which is TRUE on a match, NULL when there is
// no match and lhs or some v_i is NULL, FALSE otherwise (Spark's In).
Result<arrow::Datum> InKernel(const std::vector<arrow::Datum>& args, int64_t length,
                              const EvalContext& ctx) {
  if (args.size() < 2) return arrow::Datum(std::make_shared<arrow::BooleanScalar>(false));
  arrow::Datum acc;
  for (size_t i = 1; i < args.size(); ++i) {
    LS_ASSIGN_OR_RAISE(auto eq, CompareValues(Cmp::kEq, {args[0], args[i]}, length, ctx));
    if (i == 1) {
      acc = eq;
    } else {
      LS_ASSIGN_OR_RAISE(acc, CallArrow("or_kleene", {acc, eq}, nullptr, ctx));
    }
  }
  return acc;
}

// greatest / least: NULLs are skipped; NULL only when every argument is NULL.
Result<arrow::Datum> ExtremeKernel(bool greatest, const std::vector<arrow::Datum>& args,
                                   int64_t length, const EvalContext& ctx) {
  arrow::Datum cur = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    const arrow::Datum& next = args[i];
    LS_ASSIGN_OR_RAISE(auto better,
                       CompareValues(greatest ? Cmp::kGt : Cmp::kLt, {next, cur}, length, ctx));
    LS_ASSIGN_OR_RAISE(auto better_f, FillFalse(better, ctx));
    LS_ASSIGN_OR_RAISE(auto cur_null, CallArrow("is_null", {cur}, nullptr, ctx));
    LS_ASSIGN_OR_RAISE(auto next_valid, CallArrow("is_valid", {next}, nullptr, ctx));
    LS_ASSIGN_OR_RAISE(auto either, CallArrow("or", {better_f, cur_null}, nullptr, ctx));
    LS_ASSIGN_OR_RAISE(auto pick, CallArrow("and", {either, next_valid}, nullptr, ctx));
    LS_ASSIGN_OR_RAISE(cur, CallArrow("if_else", {pick, next, cur}, nullptr, ctx));
  }
  return cur;
}

// The common type of greatest/least arguments: no string promotion (checked
// against Spark 4.0.1: greatest(1, '2') is an analysis error).
Result<TypePtr> SameTypeFamily(const std::string& name, const CallSite& site) {
  TypePtr t = site.arg_types[0];
  for (size_t i = 1; i < site.arg_types.size(); ++i) {
    const TypePtr& u = site.arg_types[i];
    if (t->Equals(*u) || u->id() == arrow::Type::NA) continue;
    if (t->id() == arrow::Type::NA) {
      t = u;
      continue;
    }
    if (auto w = WiderNumericType(t, u, SiteAnsi(site))) {
      t = w;
      continue;
    }
    if (t->id() != arrow::Type::STRING && u->id() != arrow::Type::STRING) {
      auto c = CommonType(t, u, SiteAnsi(site));
      if (c.ok()) {
        t = *c;
        continue;
      }
    }
    std::string list;
    for (size_t k = 0; k < site.arg_types.size(); ++k) {
      if (k) list += ", ";
      list += "\"" + SparkTypeName(*site.arg_types[k]) + "\"";
    }
    return UserError(
        "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] Input to `{}` should all be the same type, but it's "
        "[{}]",
        name, list);
  }
  return t;
}

}  // namespace

void RegisterComparisonFunctions(FunctionRegistry* r) {
  AddComparison(r, "equal", Cmp::kEq);
  AddComparison(r, "not_equal", Cmp::kNe);
  AddComparison(r, "less", Cmp::kLt);
  AddComparison(r, "less_equal", Cmp::kLe);
  AddComparison(r, "greater", Cmp::kGt);
  AddComparison(r, "greater_equal", Cmp::kGe);

  r->AddScalar({"equal_null_safe", [](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(
                      internal::CheckArity(site, "equal_null_safe", 2, 2, "(ANY, ANY)"));
                  LS_ASSIGN_OR_RAISE(auto t, BinaryComparisonType(site.arg_types[0],
                                                                  site.arg_types[1],
                                                                  SiteAnsi(site)));
                  ResolvedCall rc;
                  rc.result_type = arrow::boolean();
                  rc.arg_types = {t, t};
                  rc.exec = NullSafeEqual;
                  rc.null_intolerant = false;
                  return rc;
                }});

  r->AddScalar({"not", [](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, "not", 1, 1, "(BOOLEAN)"));
                  auto id = site.arg_types[0]->id();
                  if (id != arrow::Type::BOOL && id != arrow::Type::NA) {
                    return internal::TypeMismatch(site, "not", "(BOOLEAN)");
                  }
                  ResolvedCall rc;
                  rc.result_type = arrow::boolean();
                  rc.arg_types = {arrow::boolean()};
                  rc.exec = ArrowExec("invert");
                  return rc;
                }});

  for (const char* name : {"is_null", "is_not_null"}) {
    std::string n = name;
    r->AddScalar({n, [n](const CallSite& site) -> Result<ResolvedCall> {
                    LS_RETURN_NOT_OK(internal::CheckArity(site, n, 1, 1, "(ANY)"));
                    ResolvedCall rc;
                    rc.result_type = arrow::boolean();
                    rc.arg_types = {nullptr};
                    rc.exec = ArrowExec(n == "is_null" ? "is_null" : "is_valid");
                    rc.null_intolerant = false;
                    return rc;
                  }});
  }

  r->AddScalar({"isnan", [](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, "isnan", 1, 1, "(DOUBLE)"));
                  const auto& t = site.arg_types[0];
                  bool ok = types::IsNumeric(*t) || t->id() == arrow::Type::NA ||
                            t->id() == arrow::Type::STRING;
                  if (!ok) return internal::TypeMismatch(site, "isnan", "(DOUBLE)");
                  ResolvedCall rc;
                  rc.result_type = arrow::boolean();
                  rc.arg_types = {t->id() == arrow::Type::FLOAT ? t : arrow::float64()};
                  rc.null_intolerant = false;
                  rc.exec = [](const std::vector<arrow::Datum>& args, int64_t,
                               const EvalContext& ctx) -> Result<arrow::Datum> {
                    LS_ASSIGN_OR_RAISE(auto nan, CallArrow("is_nan", args, nullptr, ctx));
                    return FillFalse(nan, ctx);  // isnan(NULL) is false
                  };
                  return rc;
                }});

  r->AddScalar({"in", [](const CallSite& site) -> Result<ResolvedCall> {
                  if (site.arg_types.empty()) {
                    return UserError("[WRONG_NUM_ARGS] IN expects a value and a list");
                  }
                  LS_ASSIGN_OR_RAISE(auto t, CommonOfAll(site.arg_types, SiteAnsi(site)));
                  ResolvedCall rc;
                  rc.result_type = arrow::boolean();
                  rc.arg_types = std::vector<TypePtr>(site.arg_types.size(), t);
                  rc.exec = InKernel;
                  rc.null_intolerant = false;
                  return rc;
                }});

  r->AddScalar(
      {"nullif", [](const CallSite& site) -> Result<ResolvedCall> {
         LS_RETURN_NOT_OK(internal::CheckArity(site, "nullif", 2, 2, "(ANY, ANY)"));
         TypePtr left = site.arg_types[0];
         LS_ASSIGN_OR_RAISE(auto t, BinaryComparisonType(left, site.arg_types[1], SiteAnsi(site)));
         ResolvedCall rc;
         rc.result_type = left;  // nullif keeps its first argument's type
         rc.arg_types = {nullptr, nullptr};
         rc.null_intolerant = false;
         rc.exec = [t, left](const std::vector<arrow::Datum>& args, int64_t length,
                             const EvalContext& ctx) -> Result<arrow::Datum> {
           CastMode mode = ctx.ansi() ? CastMode::kAnsi : CastMode::kLegacy;
           LS_ASSIGN_OR_RAISE(auto a, Cast(args[0], t, mode, ctx));
           LS_ASSIGN_OR_RAISE(auto b, Cast(args[1], t, mode, ctx));
           LS_ASSIGN_OR_RAISE(auto eq, CompareValues(Cmp::kEq, {a, b}, length, ctx));
           LS_ASSIGN_OR_RAISE(auto cond, FillFalse(eq, ctx));
           return CallArrow("if_else", {cond, arrow::Datum(arrow::MakeNullScalar(left)), args[0]},
                            nullptr, ctx);
         };
         return rc;
       }});

  for (bool greatest : {true, false}) {
    std::string name = greatest ? "greatest" : "least";
    r->AddScalar({name, [name, greatest](const CallSite& site) -> Result<ResolvedCall> {
                    if (site.arg_types.size() < 2) {
                      return UserError(
                          "[WRONG_NUM_ARGS] function {} requires at least 2 arguments but got {}",
                          name, site.arg_types.size());
                    }
                    LS_ASSIGN_OR_RAISE(auto t, SameTypeFamily(name, site));
                    ResolvedCall rc;
                    rc.result_type = t;
                    rc.arg_types = std::vector<TypePtr>(site.arg_types.size(), t);
                    rc.null_intolerant = false;
                    rc.exec = [greatest](const std::vector<arrow::Datum>& args, int64_t length,
                                         const EvalContext& ctx) {
                      return ExtremeKernel(greatest, args, length, ctx);
                    };
                    return rc;
                  }});
  }
}

}  // namespace lakestream::expr
